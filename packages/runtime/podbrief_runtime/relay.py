"""The outbox relay: publishes what a service recorded in its outbox, replays it to a fresh broker, prunes it.

Every replica of a service runs one; `Store.publish_outbox` keeps them from publishing the same row at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from podbrief_runtime.kafka import MARKER_PREFIX, ensure_topics, topic_exists
from podbrief_runtime.metrics import OUTBOX_PENDING, PUBLISHED
from podbrief_runtime.store import OutboxRow, Store

log = logging.getLogger(__name__)

# Longest a batch may take to reach the broker before its rows are released for another try (the producer's
# own request timeout is 30 s).
SEND_TIMEOUT = 120.0


class Relay:
    """Publish outbox rows in order; `wake()` after a commit publishes without waiting for the next tick.

    Now and then it deletes published rows older than `outbox_retention` and inbox ids older than `inbox_retention`.
    """

    def __init__(
        self,
        store: Store,
        producer: AIOKafkaProducer,
        bootstrap: str,
        service: str,
        replay_window: timedelta,
        interval: float = 0.5,
        marker_check_every: float = 5.0,
        outbox_retention: timedelta = timedelta(days=7),
        inbox_retention: timedelta = timedelta(days=30),
        prune_every: float = 3600.0,
    ) -> None:
        self.store = store
        self.producer = producer
        self.bootstrap = bootstrap
        self.marker = MARKER_PREFIX + service
        self.replay_window = replay_window
        self.interval = interval
        self.marker_check_every = marker_check_every
        self.outbox_retention = outbox_retention
        self.inbox_retention = inbox_retention
        self.prune_every = prune_every
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """Publish soon: a handler just committed outbox rows."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()
        self._wake.set()

    async def check_broker_history(self) -> None:
        """If the broker lost its history (our marker topic is gone), recreate topics and replay the outbox."""
        if await topic_exists(self.bootstrap, self.marker):
            return
        await ensure_topics(self.bootstrap)
        replayed = await asyncio.to_thread(self.store.mark_for_replay, self.replay_window)
        await ensure_topics(self.bootstrap, {self.marker: 1})
        if replayed:
            log.warning("broker has no history of ours: replaying the outbox", extra={"events": replayed})

    async def publish_pending(self) -> int:
        """Publish every unpublished outbox row this relay can claim; returns how many were published."""
        loop = asyncio.get_running_loop()

        def send(rows: list[OutboxRow]) -> None:
            # Runs in the store's thread, inside its claim on the rows; the producer lives on the event loop.
            asyncio.run_coroutine_threadsafe(self._send(rows), loop).result(SEND_TIMEOUT)

        total = 0
        while published := await asyncio.to_thread(self.store.publish_outbox, send):
            total += published
        OUTBOX_PENDING.set(await asyncio.to_thread(self.store.pending))
        return total

    async def prune(self) -> None:
        """Delete published outbox rows and handled event ids past their retention."""
        now = datetime.now(UTC)
        try:
            rows, ids = await asyncio.to_thread(self.store.prune, now - self.outbox_retention, now - self.inbox_retention)
        except SQLAlchemyError as exc:
            log.warning("pruning the outbox and inbox failed; trying again later", extra={"error": repr(exc)})
            return
        if rows or ids:
            log.info("pruned the outbox and inbox", extra={"outbox_rows": rows, "inbox_ids": ids})

    async def run(self) -> None:
        """Loop: check the broker's history now and then, publish pending rows, prune, sleep until woken."""
        loop = asyncio.get_running_loop()
        next_check = next_prune = 0.0
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_check:
                    await self.check_broker_history()
                    next_check = loop.time() + self.marker_check_every
                await self.publish_pending()
            except (KafkaError, OSError, TimeoutError, SQLAlchemyError) as exc:
                log.warning("relay cannot reach the broker or the store, retrying", extra={"error": repr(exc)})
                next_check = 0.0
                await asyncio.sleep(1.0)
                continue
            if loop.time() >= next_prune:
                await self.prune()
                next_prune = loop.time() + self.prune_every
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)

    async def _send(self, rows: list[OutboxRow]) -> None:
        futures = [await self.producer.send(topic, payload.encode(), key=key.encode()) for _, topic, key, payload in rows]
        for future in futures:
            await future
        for _, topic, _, _ in rows:
            PUBLISHED.labels(topic=topic).inc()
