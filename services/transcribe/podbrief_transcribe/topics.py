"""What transcribe consumes and publishes: its routes are checked against this, and its AsyncAPI document is made from it."""

from __future__ import annotations

from podbrief_contracts import EpisodeDiscovered, EpisodeStatusChanged, Event, TranscriptReady

CONSUMES: dict[str, type[Event]] = {EpisodeDiscovered.topic: EpisodeDiscovered}
PUBLISHES: tuple[type[Event], ...] = (TranscriptReady, EpisodeStatusChanged)
