"""The poll loop: lease the feeds that are due, poll a bounded number at once, record each outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from podbrief_runtime.redact import redact_text, redact_url
from podbrief_runtime.store import Store

from podbrief_ingest import registry
from podbrief_ingest.model import FeedState, PollResult
from podbrief_ingest.poller import Clock, FeedPoller, utcnow
from podbrief_ingest.schedule import SchedulePolicy

log = logging.getLogger(__name__)

# Even when nothing is due, look again this often: other ingest processes may add or free feeds.
MAX_IDLE = 30.0


class Scheduler:
    """Runs polls as feeds fall due; `wake()` makes it look for due feeds now (e.g. a new subscription)."""

    def __init__(
        self,
        store: Store,
        poller: FeedPoller,
        policy: SchedulePolicy,
        *,
        max_in_flight: int,
        first_poll_episodes: int,
        lease: float,
        emitted: Callable[[], None] = lambda: None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.poller = poller
        self.policy = policy
        self.max_in_flight = max_in_flight
        self.first_poll_episodes = first_poll_episodes
        self.lease = timedelta(seconds=lease)
        self.emitted = emitted
        self.clock = clock
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due feeds now instead of at the next scheduled moment."""
        self._wake.set()

    async def run(self) -> None:
        """Poll due feeds forever (the service's background loop); a failing store only pauses it."""
        while True:
            try:
                await self.poll_due()
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll round failed; retrying shortly")
                await asyncio.sleep(1.0)

    async def poll_due(self) -> int:
        """Poll every feed due now, at most `max_in_flight` at once, until none is left; returns how many."""
        self._wake.clear()
        running: set[asyncio.Task[None]] = set()
        polled = 0
        # Claim in batches: one query per few finished polls, not one per poll.
        batch = max(1, self.max_in_flight // 4)
        try:
            while True:
                free = self.max_in_flight - len(running)
                if free >= batch or not running:
                    for feed in await asyncio.to_thread(self._claim, free):
                        running.add(asyncio.create_task(self._poll(feed)))
                if not running:
                    return polled
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                polled += len(done)
        finally:
            for task in running:
                task.cancel()

    async def _poll(self, feed: FeedState) -> None:
        try:
            result = await self.poller.poll_feed(feed)
        except Exception as exc:
            # A bug in one poll must not stop the others; the feed shows it and is retried with backoff.
            log.exception("poll crashed", extra={"feed_id": feed.feed_id, "url": redact_url(feed.url)})
            result = PollResult.failed(feed, self.clock(), f"internal error while polling: {type(exc).__name__}")
        failures = self.policy.failures_after(feed.failures, result)
        next_poll_at = self.policy.next_poll_at(result, failures, self.rng)
        try:
            recorded = await asyncio.to_thread(self._record, result, failures, next_poll_at)
        except Exception:
            # Nothing was committed; the lease runs out and the feed is polled again.
            log.exception("could not record a poll", extra={"feed_id": feed.feed_id})
            return
        if recorded.announced or recorded.status_emitted:
            self.emitted()
        # A poll error may quote a feed URL, and private feeds carry their token in it.
        error = redact_text(result.error) if result.error else None
        log.info(
            "polled",
            extra={"feed_id": feed.feed_id, "status": result.status, "new_episodes": recorded.announced, "error": error},
        )

    async def _idle(self) -> None:
        next_due = await asyncio.to_thread(self._next_due)
        wait = MAX_IDLE if next_due is None else (next_due - self.clock()).total_seconds()
        wait = min(MAX_IDLE, max(0.05, wait))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _claim(self, limit: int) -> list[FeedState]:
        now = self.clock()
        with self.store.transaction() as session:
            return registry.claim_due(session, now, limit, uuid.uuid4().hex, now + self.lease)

    def _record(self, result: PollResult, failures: int, next_poll_at: datetime) -> registry.Recorded:
        with self.store.transaction() as session:
            return registry.record_poll(
                session, result, failures=failures, next_poll_at=next_poll_at, first_poll_episodes=self.first_poll_episodes
            )

    def _next_due(self) -> datetime | None:
        with self.store.transaction() as session:
            return registry.next_due_at(session)
