"""The outbox relay: publishes what a service recorded in its outbox, and replays it to a fresh broker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from podbrief_runtime.kafka import MARKER_PREFIX, ensure_topics, topic_exists
from podbrief_runtime.metrics import OUTBOX_PENDING, PUBLISHED
from podbrief_runtime.store import Store

log = logging.getLogger(__name__)


class Relay:
    """Publish outbox rows in order; `wake()` after a commit publishes without waiting for the next tick."""

    def __init__(
        self,
        store: Store,
        producer: AIOKafkaProducer,
        bootstrap: str,
        service: str,
        replay_window: timedelta,
        interval: float = 0.5,
        marker_check_every: float = 5.0,
    ) -> None:
        self.store = store
        self.producer = producer
        self.bootstrap = bootstrap
        self.marker = MARKER_PREFIX + service
        self.replay_window = replay_window
        self.interval = interval
        self.marker_check_every = marker_check_every
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
        """Publish every unpublished outbox row; returns how many were published."""
        total = 0
        while True:
            rows = await asyncio.to_thread(self.store.unpublished)
            OUTBOX_PENDING.set(len(rows))
            if not rows:
                return total
            futures = [await self.producer.send(topic, payload.encode(), key=key.encode()) for _, topic, key, payload in rows]
            for future in futures:
                await future
            await asyncio.to_thread(self.store.mark_published, [row[0] for row in rows])
            for _, topic, _, _ in rows:
                PUBLISHED.labels(topic=topic).inc()
            total += len(rows)

    async def run(self) -> None:
        """Loop: check the broker's history now and then, publish pending rows, sleep until woken."""
        loop = asyncio.get_running_loop()
        next_check = 0.0
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_check:
                    await self.check_broker_history()
                    next_check = loop.time() + self.marker_check_every
                await self.publish_pending()
            except (KafkaError, OSError) as exc:
                log.warning("relay cannot reach the broker, retrying", extra={"error": repr(exc)})
                next_check = 0.0
                await asyncio.sleep(1.0)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
