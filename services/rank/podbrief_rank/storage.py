"""Opening rank's relational store."""

from __future__ import annotations

from podbrief_runtime.store import Store

from podbrief_rank.tables import metadata


def open_store(url: str) -> Store:
    """Rank's store: the runtime's outbox and inbox plus rank's own tables."""
    return Store(url, metadata)
