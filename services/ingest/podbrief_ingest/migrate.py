"""Bring an ingest store's schema to the latest Alembic revision (the runner is `podbrief_runtime.migrate`)."""

from __future__ import annotations

from pathlib import Path

from podbrief_runtime import migrate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x706F6469  # "podi": serialises migrations of several ingest processes on PostgreSQL
# What create_all made before ingest had migrations: such a store is stamped with it, then upgraded.
_BASELINE = "0001"


def upgrade(url: str) -> None:
    """Run every migration not yet applied to the store at `url`."""
    migrate.upgrade(url, MIGRATIONS, _LOCK_KEY, baseline=_BASELINE)
