"""Bring a notify store's schema to the latest Alembic revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from podbrief_runtime.store import make_engine
from sqlalchemy import text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x706F646E  # any constant: serialises migrations of several notify processes on PostgreSQL


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` (passed as an attribute so `%` in URLs needs no escaping)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Run every migration not yet applied to the store at `url`."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()
