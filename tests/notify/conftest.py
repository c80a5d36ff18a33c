"""Fixtures of the notify tests: the app on SQLite and on PostgreSQL, a fake clock, a real webhook receiver and SMTP server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from podbrief_contracts import Event
from podbrief_notify.api.app import create_app
from podbrief_notify.context import Context, build_context
from podbrief_notify.migrate import upgrade
from podbrief_notify.service import Handlers
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store
from podbrief_runtime.store import Store

from tests.conftest import postgres_schema

from .helpers import EMBEDDER, Collector, FakeClock, Receiver, smtp_settings, start_receiver


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty notify store: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notify.sqlite3'}"
        upgrade(url)
        yield url
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "notify") as url:
        upgrade(url)
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start_receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        data_dir=tmp_path,
        allow_private_urls=True,
        rate_limit_per_minute=0,
        signup_per_address_per_hour=0,
        signup_per_hour=0,
        webhook_timeout_s=2.0,
        public_base_url="http://testserver",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Notify:
    """The app under test and what tests reach into."""

    client: httpx.AsyncClient
    context: Context
    store: Store
    clock: FakeClock
    handlers: Handlers
    emitted: list[int]

    async def consume(self, *events: Event) -> None:
        """Hand events to the service's handlers, as the consumer loop would."""
        for event in events:
            route = self.handlers.routes()[event.topic]
            await route.handler(event)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {}


@pytest.fixture
async def notify(
    store_url: str, clock: FakeClock, tmp_path: Path, settings_overrides: dict[str, object]
) -> AsyncIterator[Notify]:
    settings = make_settings(tmp_path, **settings_overrides)
    store = open_store(store_url)
    emitted: list[int] = []
    context = build_context(settings, store, EMBEDDER, clock=clock, emitted=lambda: emitted.append(1))
    app = create_app(context)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Notify(client, context, store, clock, Handlers(store, clock), emitted)
    await context.deliverer.sender.aclose()  # type: ignore[attr-defined]
    store.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server (aiosmtpd) on loopback: what it accepted, and its port."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield collector, controller.port
    controller.stop()


@pytest.fixture
def smtp_on(smtp: tuple[Collector, int], settings_overrides: dict[str, object]) -> Collector:
    """The app under test sends its email to the `smtp` server."""
    settings_overrides.update(smtp_settings(smtp[1]))
    return smtp[0]
