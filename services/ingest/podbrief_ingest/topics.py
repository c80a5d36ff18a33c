"""What ingest consumes and publishes: its routes are checked against this, and its AsyncAPI document is made from it."""

from __future__ import annotations

from podbrief_contracts import EpisodeDiscovered, Event, FeedStatusChanged, FeedSubscribed, FeedUnsubscribed

CONSUMES: dict[str, type[Event]] = {event.topic: event for event in (FeedSubscribed, FeedUnsubscribed)}
PUBLISHES: tuple[type[Event], ...] = (EpisodeDiscovered, FeedStatusChanged)
