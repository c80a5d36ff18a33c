"""Opening transcribe's relational store."""

from __future__ import annotations

from podbrief_runtime.store import Store

from podbrief_transcribe import migrate


def open_store(url: str) -> Store:
    """Transcribe's store (its transcripts plus the runtime's outbox and inbox), migrated to the latest schema first."""
    migrate.upgrade(url)
    return Store(url)
