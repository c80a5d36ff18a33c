"""Thin event handlers: feeds.subscribed and feeds.unsubscribed into the feed registry, each event once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from podbrief_contracts import FeedSubscribed, FeedUnsubscribed
from podbrief_runtime.kafka import Route, route_map
from podbrief_runtime.store import Store

from podbrief_ingest import registry
from podbrief_ingest.poller import Clock, utcnow
from podbrief_ingest.topics import CONSUMES


class Handlers:
    """What ingest does with the events it consumes."""

    def __init__(self, store: Store, wake: Callable[[], None], clock: Clock = utcnow) -> None:
        self.store = store
        self.wake = wake
        self.clock = clock

    async def on_feed_subscribed(self, event: FeedSubscribed) -> None:
        """Add the feed to the registry (once, however many users subscribe) and have it polled at once."""
        if await asyncio.to_thread(self._subscribe, event):
            self.wake()

    async def on_feed_unsubscribed(self, event: FeedUnsubscribed) -> None:
        """Stop polling a feed nobody follows any more (until someone subscribes again)."""
        await asyncio.to_thread(self._unsubscribe, event)

    def _subscribe(self, event: FeedSubscribed) -> bool:
        with self.store.transaction() as session:
            if not Store.claim(session, event.event_id, event.topic):
                return False
            added = registry.add_feed(session, event.feed_id, event.feed_url, self.clock())
            resumed = registry.followed(session, event.feed_id, event.occurred_at)
            return added or resumed

    def _unsubscribe(self, event: FeedUnsubscribed) -> None:
        with self.store.transaction() as session:
            if Store.claim(session, event.event_id, event.topic):
                registry.unfollowed(session, event.feed_id, event.occurred_at)

    def routes(self) -> dict[str, Route]:
        """The topics ingest consumes (`topics.CONSUMES`) and their handlers."""
        return route_map(
            CONSUMES,
            Route(FeedSubscribed, self.on_feed_subscribed),
            Route(FeedUnsubscribed, self.on_feed_unsubscribed),
        )
