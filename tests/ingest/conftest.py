"""Ingest fixtures: a loopback feed server, a store (SQLite, or a PostgreSQL schema), and the service's parts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from podbrief_ingest import registry
from podbrief_ingest.app import Ingest, build
from podbrief_ingest.poller import FeedPoller
from podbrief_ingest.settings import Settings
from podbrief_runtime.safe_http import SafeClient
from podbrief_runtime.store import Store

from tests.conftest import postgres_schema

from .helpers import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for loopback tests: private URLs allowed, quick timeouts, every episode announced on a first poll."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        allow_private_urls=True,
        first_poll_episodes=100,
        fetch_timeout=1.0,
        poll_deadline=5.0,
        poll_interval=900.0,
        poll_jitter=0.0,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ingest store: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ingest.sqlite3'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "ingest") as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = registry.open_store(store_url)
    yield store
    store.engine.dispose()


@pytest.fixture
async def ingest(settings: Settings, store: Store) -> AsyncIterator[Ingest]:
    parts = build(settings, store)
    yield parts
    await parts.aclose()


@pytest.fixture
async def poller(settings: Settings) -> AsyncIterator[FeedPoller]:
    """The poller as the service builds it (private URLs allowed for loopback), without a store."""
    async with SafeClient(
        allow_private=True, timeout=settings.fetch_timeout, max_redirects=settings.max_redirects, user_agent=settings.user_agent
    ) as client:
        yield FeedPoller(client, max_bytes=settings.max_feed_bytes, deadline=settings.poll_deadline)
