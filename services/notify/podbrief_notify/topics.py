"""What notify consumes and publishes: its routes are checked against this, and its AsyncAPI document is made from it."""

from __future__ import annotations

from podbrief_contracts import (
    EpisodeDiscovered,
    EpisodeStatusChanged,
    Event,
    FeedStatusChanged,
    FeedSubscribed,
    FeedUnsubscribed,
    InsightCreated,
)

CONSUMES: dict[str, type[Event]] = {
    event.topic: event for event in (InsightCreated, FeedStatusChanged, EpisodeStatusChanged, EpisodeDiscovered)
}
PUBLISHES: tuple[type[Event], ...] = (FeedSubscribed, FeedUnsubscribed)
