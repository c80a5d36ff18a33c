"""Alembic migrations of a service's store: `upgrade` at start, `run_environment` in each service's migrations/env.py.

Every service keeps its revisions in its own `migrations` folder; their first revision creates the service's tables
and the runtime's outbox and inbox, so the target of autogenerate is always both.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, inspect, text

from podbrief_runtime.store import make_engine, runtime_metadata


def alembic_config(url: str, script_location: Path) -> Config:
    """An Alembic config for `url` (passed as an attribute so `%` in URLs needs no escaping)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["url"] = url
    return config


def sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Turn SQLite's foreign key enforcement on or off for `conn`, which must not be in a transaction.

    Off while migrating: a batch migration copies a table and drops the original, and with enforcement on
    that drop deletes every row pointing at the table (ON DELETE CASCADE).
    """
    if conn.dialect.name == "sqlite":
        assert not conn.in_transaction(), "SQLite ignores this pragma inside a transaction"
        conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def upgrade(url: str, script_location: Path, lock_key: int, baseline: str | None = None) -> None:
    """Run every migration in `script_location` not yet applied to the store at `url`, all in one transaction.

    `lock_key`: the service's PostgreSQL advisory lock, so its processes starting together migrate one at a time
    (on SQLite the migration's transaction takes the write lock up front instead).
    `baseline`: the revision matching what `create_all` made before the service had migrations; a store made
    that way (an outbox, no Alembic version) is stamped with it, then upgraded.
    """
    engine = make_engine(url, immediate=True)
    try:
        with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key})
                conn.commit()
            sqlite_foreign_keys(conn, on=False)
            config = alembic_config(url, script_location)
            config.attributes["connection"] = conn
            with conn.begin():
                if baseline is not None and _made_before_migrations(conn):
                    command.stamp(config, baseline)
                command.upgrade(config, "head")
            sqlite_foreign_keys(conn, on=True)
            if postgres:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key})
                conn.commit()
    finally:
        engine.dispose()


def run_environment(metadata: MetaData) -> None:
    """The body of a service's migrations/env.py: migrate the connection `upgrade` handed over, else the config's
    URL (Alembic commands run directly, e.g. autogenerating the next revision), against `metadata` and the runtime's."""
    target = [metadata, runtime_metadata]
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection, target)
        return
    engine = make_engine(context.config.attributes["url"])
    try:
        with engine.connect() as conn:
            sqlite_foreign_keys(conn, on=False)
            _migrate(conn, target)
            conn.commit()
            sqlite_foreign_keys(conn, on=True)
    finally:
        engine.dispose()


def _migrate(conn: Connection, target: list[MetaData]) -> None:
    context.configure(connection=conn, target_metadata=target, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _made_before_migrations(conn: Connection) -> bool:
    """Whether the store has the runtime's tables (every store made by `create_all` has) but no Alembic version."""
    tables = set(inspect(conn).get_table_names())
    return "outbox" in tables and "alembic_version" not in tables
