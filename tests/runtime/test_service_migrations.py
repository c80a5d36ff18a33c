"""Every service's Alembic migrations, run by the runtime's runner at start, on SQLite and PostgreSQL: they create
exactly the tables the code uses, running them again changes nothing, and they adopt a store that create_all made
before migrations."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from podbrief_contracts import FeedSubscribed
from podbrief_ingest import migrate as ingest_migrate
from podbrief_ingest import registry
from podbrief_rank import migrate as rank_migrate
from podbrief_rank import storage as rank_storage
from podbrief_rank.tables import metadata as rank_metadata
from podbrief_runtime.migrate import alembic_config
from podbrief_runtime.store import Store, make_engine, runtime_metadata
from podbrief_transcribe import migrate as transcribe_migrate
from podbrief_transcribe import storage as transcribe_storage
from podbrief_transcribe.tables import metadata as transcribe_metadata
from sqlalchemy import MetaData

from tests.conftest import postgres_schema


@dataclass(frozen=True)
class Service:
    name: str
    metadata: MetaData
    migrate: ModuleType
    open_store: Callable[[str], Store]


SERVICES = [
    Service("ingest", registry.metadata, ingest_migrate, registry.open_store),
    Service("transcribe", transcribe_metadata, transcribe_migrate, transcribe_storage.open_store),
    Service("rank", rank_metadata, rank_migrate, rank_storage.open_store),
]


@pytest.fixture(params=SERVICES, ids=lambda service: service.name)
def service(request: pytest.FixtureRequest) -> Service:
    return request.param


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, service: Service, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / f'{service.name}.sqlite3'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), service.name) as url:
        yield url


def assert_at_head_matching_the_tables(service: Service, url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(url, service.migrate.MIGRATIONS)).get_current_head()
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, [service.metadata, runtime_metadata]) == []
        assert context.get_current_revision() == head
    engine.dispose()


def test_the_migrated_schema_matches_the_tables(service, store_url):
    service.migrate.upgrade(store_url)
    assert_at_head_matching_the_tables(service, store_url)


def test_upgrading_twice_changes_nothing(service, store_url):
    service.migrate.upgrade(store_url)
    service.migrate.upgrade(store_url)
    assert_at_head_matching_the_tables(service, store_url)


def test_an_alembic_command_run_directly_migrates_the_url(service, store_url):
    command.upgrade(alembic_config(store_url, service.migrate.MIGRATIONS), "head")  # e.g. to write the next revision
    assert_at_head_matching_the_tables(service, store_url)


@pytest.mark.parametrize("service", SERVICES[:1], ids=lambda service: service.name)  # the lock is the runner's
def test_processes_starting_together_migrate_one_at_a_time(service, store_url):
    engine = make_engine(store_url)
    engine.connect().close()  # the database exists: a fresh SQLite file must turn to WAL mode before others open it
    engine.dispose()
    # Processes, not threads: Alembic keeps the running migration's context in module globals.
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        started = manager.Barrier(3)  # every process is up before any migrates
        with ProcessPoolExecutor(3, mp_context=spawn, initializer=started.wait) as pool:
            list(pool.map(service.migrate.upgrade, [store_url] * 3))
    assert_at_head_matching_the_tables(service, store_url)


def test_a_store_made_by_create_all_before_migrations_is_adopted_with_its_rows(service, store_url):
    engine = make_engine(store_url)
    for metadata in (runtime_metadata, service.metadata):  # what Store did at start before migrations
        metadata.create_all(engine)
    engine.dispose()
    old = Store(store_url)
    kept = FeedSubscribed(event_id="ev-1", feed_id="feed-1", feed_url="https://example.com/feed.xml")
    with old.transaction() as session:
        Store.emit(session, kept)
    old.dispose()

    store = service.open_store(store_url)  # what the service does at start now
    try:
        assert [row[3] for row in store.unpublished()] == [kept.model_dump_json()]
    finally:
        store.dispose()
    assert_at_head_matching_the_tables(service, store_url)
