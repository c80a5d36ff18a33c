"""The Alembic migrations create exactly the tables the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from podbrief_notify.migrate import upgrade
from podbrief_notify.tables import metadata
from podbrief_runtime.store import make_engine, runtime_metadata


def test_the_migrated_schema_matches_the_tables(store_url):
    engine = make_engine(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, [metadata, runtime_metadata]) == []
        assert context.get_current_revision() is not None
    engine.dispose()


def test_upgrading_twice_changes_nothing(store_url):
    upgrade(store_url)
    upgrade(store_url)
