"""Bring a notify store's schema to the latest Alembic revision (the runner is `podbrief_runtime.migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from podbrief_runtime import migrate

# Re-exported: notify's migrations/env.py imports it from here.
from podbrief_runtime.migrate import sqlite_foreign_keys as sqlite_foreign_keys

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x706F646E  # "podn": serialises migrations of several notify processes on PostgreSQL


def alembic_config(url: str) -> Config:
    """An Alembic config of notify's migrations for `url`."""
    return migrate.alembic_config(url, MIGRATIONS)


def upgrade(url: str) -> None:
    """Run every migration not yet applied to the store at `url`."""
    migrate.upgrade(url, MIGRATIONS, _LOCK_KEY)
