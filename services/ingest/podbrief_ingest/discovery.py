"""Which of a feed's episodes are new, and which of those to announce."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from podbrief_ingest.model import Episode


def unseen(episodes: Iterable[Episode], seen_guids: set[str]) -> list[Episode]:
    """Episodes whose GUID is not in `seen_guids`, each GUID once (the first item wins), in document order."""
    fresh: dict[str, Episode] = {}
    for episode in episodes:
        if episode.guid not in seen_guids and episode.guid not in fresh:
            fresh[episode.guid] = episode
    return list(fresh.values())


def newest_first(episodes: Sequence[Episode]) -> list[Episode]:
    """By publication date, newest first; undated episodes after dated ones, in document order (newest first by convention)."""
    return sorted(episodes, key=lambda ep: (ep.published_at is None, -_stamp(ep.published_at)))


def split_first_poll(episodes: Sequence[Episode], keep: int) -> tuple[list[Episode], list[Episode]]:
    """On a feed's first poll: (the newest `keep` to announce, the back catalogue to only mark seen)."""
    ranked = newest_first(episodes)
    return ranked[:keep], ranked[keep:]


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0
