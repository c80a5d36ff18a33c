"""Thin event handlers: insights, feed and episode states into the store, each event once."""

from __future__ import annotations

import asyncio

from podbrief_contracts import EpisodeDiscovered, EpisodeStatusChanged, FeedStatusChanged, InsightCreated
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import Route, route_map
from podbrief_runtime.store import Store

from podbrief_notify.clock import Clock
from podbrief_notify.insights import store_episode_discovered, store_episode_status, store_feed_status, store_insight
from podbrief_notify.metrics import INSIGHTS
from podbrief_notify.topics import CONSUMES


class Handlers:
    """What notify does with the events it consumes."""

    def __init__(self, store: Store, clock: Clock, embedding_model: str | None = None) -> None:
        self.store = store
        self.clock = clock
        # The model that embeds interests here: an insight embedded by another model cannot be ranked against them.
        self.embedding_model = embedding_model

    async def on_insight_created(self, event: InsightCreated) -> None:
        """Keep the insight (with its cluster, related links and embedding) for ranking into briefs."""
        await asyncio.to_thread(self._insight, event)

    async def on_feed_status(self, event: FeedStatusChanged) -> None:
        """Keep the feed's latest poll status for the subscription views."""
        await asyncio.to_thread(self._feed_status, event)

    async def on_episode_status(self, event: EpisodeStatusChanged) -> None:
        """Keep the episode's latest state (failed with its reason, done with its insights) for its listeners."""
        await asyncio.to_thread(self._episode_status, event)

    async def on_episode_discovered(self, event: EpisodeDiscovered) -> None:
        """List a new episode of a followed show as queued, until transcribe and rank say more."""
        await asyncio.to_thread(self._episode_discovered, event)

    def _insight(self, event: InsightCreated) -> None:
        if self.embedding_model is not None and event.embedding_model != self.embedding_model:
            # Refused loudly (dead-lettered with this reason) rather than ranked against interests in another space.
            raise PermanentError(
                f"insight {event.insight_id} was embedded with {event.embedding_model!r} but notify embeds interests "
                f"with {self.embedding_model!r}: set PODBRIEF_EMBED_MODEL to the same model for rank and notify, "
                "then replay the dead letters (podbrief dlq replay insights.created)"
            )
        with self.store.transaction() as session:
            if not Store.claim(session, event.event_id, event.topic):
                return
            if store_insight(session, event, self.clock.now()):
                INSIGHTS.inc()

    def _feed_status(self, event: FeedStatusChanged) -> None:
        with self.store.transaction() as session:
            if Store.claim(session, event.event_id, event.topic):
                store_feed_status(session, event)

    def _episode_status(self, event: EpisodeStatusChanged) -> None:
        with self.store.transaction() as session:
            if Store.claim(session, event.event_id, event.topic):
                store_episode_status(session, event)

    def _episode_discovered(self, event: EpisodeDiscovered) -> None:
        with self.store.transaction() as session:
            if Store.claim(session, event.event_id, event.topic):
                store_episode_discovered(session, event)

    def routes(self) -> dict[str, Route]:
        """The topics notify consumes (`topics.CONSUMES`) and their handlers."""
        return route_map(
            CONSUMES,
            Route(InsightCreated, self.on_insight_created),
            Route(FeedStatusChanged, self.on_feed_status),
            Route(EpisodeStatusChanged, self.on_episode_status),
            Route(EpisodeDiscovered, self.on_episode_discovered),
        )
