"""Bring a notify store's schema to the latest Alembic revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from podbrief_runtime.store import make_engine
from sqlalchemy import Connection, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x706F646E  # any constant: serialises migrations of several notify processes on PostgreSQL


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` (passed as an attribute so `%` in URLs needs no escaping)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Turn SQLite's foreign key enforcement on or off for `conn`, which must not be in a transaction.

    Off while migrating: a batch migration copies a table and drops the original, and with enforcement on
    that drop deletes every row pointing at the table (ON DELETE CASCADE): a user's subscriptions, briefs...
    """
    if conn.dialect.name == "sqlite":
        assert not conn.in_transaction(), "SQLite ignores this pragma inside a transaction"
        conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def upgrade(url: str) -> None:
    """Run every migration not yet applied to the store at `url`."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
            sqlite_foreign_keys(conn, on=False)
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
            sqlite_foreign_keys(conn, on=True)
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()
