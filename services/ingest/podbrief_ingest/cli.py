"""CLI helpers the `podbrief` command calls (it prints; these only read)."""

from __future__ import annotations

from typing import Any

from podbrief_ingest import registry
from podbrief_ingest.settings import Settings


def feed_statuses(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every feed ingest knows with its status (`podbrief feeds`)."""
    settings = settings or Settings()
    store = registry.open_store(settings.store_url("ingest"))
    try:
        with store.reading() as session:
            return registry.feed_statuses(session)
    finally:
        store.dispose()
