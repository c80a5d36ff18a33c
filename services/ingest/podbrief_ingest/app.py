"""Wiring: the poller, the scheduler and the handlers built from Settings (shared by the entry point and tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from podbrief_runtime.safe_http import SafeClient
from podbrief_runtime.store import Store

from podbrief_ingest.poller import FeedPoller
from podbrief_ingest.schedule import SchedulePolicy
from podbrief_ingest.scheduler import Scheduler
from podbrief_ingest.service import Handlers
from podbrief_ingest.settings import Settings


@dataclass
class Ingest:
    """The parts of a running ingest service."""

    client: SafeClient
    poller: FeedPoller
    scheduler: Scheduler
    handlers: Handlers

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()


def build(settings: Settings, store: Store, emitted: Callable[[], None] = lambda: None) -> Ingest:
    """Create the HTTP client, poller, scheduler and handlers; `emitted` is called after outbox commits."""
    client = SafeClient(
        allow_private=settings.allow_private_urls,
        timeout=settings.fetch_timeout,
        max_redirects=settings.max_redirects,
        user_agent=settings.user_agent,
        max_connections=settings.max_in_flight,
        # A fetch may use the whole poll budget; the poller's own deadline also covers the parse.
        deadline=settings.poll_deadline,
    )
    poller = FeedPoller(client, max_bytes=settings.max_feed_bytes, deadline=settings.poll_deadline)
    policy = SchedulePolicy(interval=settings.poll_interval, jitter=settings.poll_jitter, backoff_max=settings.backoff_max)
    scheduler = Scheduler(
        store,
        poller,
        policy,
        max_in_flight=settings.max_in_flight,
        first_poll_episodes=settings.first_poll_episodes,
        # Long enough that a poll finishes before another process may take the feed over.
        lease=2 * settings.poll_deadline + 60,
        emitted=emitted,
    )
    return Ingest(client, poller, scheduler, Handlers(store, scheduler.wake))
