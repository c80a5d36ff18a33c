"""What rank consumes and publishes: its routes are checked against this, and its AsyncAPI document is made from it."""

from __future__ import annotations

from podbrief_contracts import EpisodeStatusChanged, Event, InsightCreated, TranscriptReady

CONSUMES: dict[str, type[Event]] = {TranscriptReady.topic: TranscriptReady}
PUBLISHES: tuple[type[Event], ...] = (InsightCreated, EpisodeStatusChanged)
