"""Opening rank's relational store."""

from __future__ import annotations

from podbrief_runtime.store import Store

from podbrief_rank import migrate


def open_store(url: str) -> Store:
    """Rank's store (its tables plus the runtime's outbox and inbox), migrated to the latest schema first."""
    migrate.upgrade(url)
    return Store(url)
