"""Opening the notify store: the runtime's Store over the schema Alembic migrated."""

from __future__ import annotations

from podbrief_runtime.store import Store


def open_store(url: str) -> Store:
    """The store at `url` (already migrated; see `migrate.py`)."""
    return Store(url, create=False)
