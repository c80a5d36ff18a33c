"""Running a service: producer, outbox relay, consumer loop and health endpoint, with clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from podbrief_runtime.health import HealthServer, serve_health
from podbrief_runtime.kafka import ConsumerLoop, Route, ensure_topics, make_producer
from podbrief_runtime.relay import Relay
from podbrief_runtime.settings import ServiceSettings
from podbrief_runtime.store import Store

log = logging.getLogger(__name__)


class Runtime:
    """What a service process needs around its handlers. Create it, build handlers with it, then `serve`."""

    def __init__(self, name: str, settings: ServiceSettings, store: Store) -> None:
        self.name = name
        self.settings = settings
        self.store = store
        self.producer = make_producer(settings.kafka_bootstrap, settings.kafka_idempotence)
        self.relay = Relay(
            store,
            self.producer,
            settings.kafka_bootstrap,
            name,
            timedelta(hours=settings.replay_window_hours),
            outbox_retention=timedelta(days=settings.outbox_retention_days),
            inbox_retention=timedelta(days=settings.inbox_retention_days),
        )
        self.consumer: ConsumerLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._health: HealthServer | None = None

    def emitted(self) -> None:
        """Call after committing outbox rows so the relay publishes them now."""
        self.relay.wake()

    def ready(self) -> bool:
        """Ready when connected to the broker, holding partitions, and no handler is stuck past its deadline."""
        if self.consumer is None:
            return False
        state = self.consumer.state
        stuck = sorted(f"{tp.topic}:{tp.partition}" for tp in state.stuck(self.settings.stuck_margin_seconds))
        if stuck:
            log.warning("a handler is stuck past its deadline", extra={"partitions": stuck})
        return state.connected and bool(state.assigned) and not stuck

    async def start(
        self,
        routes: dict[str, Route],
        *,
        concurrency: int = 4,
        max_poll_interval_ms: int = 300_000,
        startup_timeout: float = 120.0,
    ) -> None:
        """Connect (waiting for the broker), create topics, start the relay and the consumer loop."""
        await self._wait_for_broker(startup_timeout)
        await self.relay.check_broker_history()
        self.consumer = ConsumerLoop(
            self.settings.kafka_bootstrap,
            group_id=f"podbrief-{self.name}",
            routes=routes,
            producer=self.producer,
            max_attempts=self.settings.max_attempts,
            concurrency=concurrency,
            retry_backoff=self.settings.retry_backoff_seconds,
            retry_backoff_max=self.settings.retry_backoff_max_seconds,
            deadline=self.settings.handler_deadline_seconds,
            revoke_grace=self.settings.revoke_grace_seconds,
            max_poll_interval_ms=max_poll_interval_ms,
        )
        self._tasks = [asyncio.create_task(self.relay.run()), asyncio.create_task(self.consumer.run())]
        if self.settings.health_port:
            self._health = await serve_health(self.settings.health_port, self.ready)
        log.info("started", extra={"service": self.name, "topics": sorted(routes)})

    async def stop(self, grace: float | None = None) -> None:
        """Finish or abandon in-flight work within `grace` seconds (default: the setting), flush the outbox, close."""
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        if self.consumer is not None:
            await self.consumer.stop(grace)
        await self.relay.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=grace)
            except (TimeoutError, asyncio.CancelledError, KafkaError):
                task.cancel()
        try:
            await asyncio.wait_for(self.relay.publish_pending(), timeout=grace)
        except (TimeoutError, KafkaError, OSError, SQLAlchemyError):
            log.warning("outbox not fully flushed at shutdown; it is published at next start")
        await self.producer.stop()
        if self._health is not None:
            await self._health.close()
            self._health = None
        log.info("stopped", extra={"service": self.name})

    async def serve(self, routes: dict[str, Route], *, extra: Callable[[], Awaitable[None]] | None = None, **kwargs: int) -> None:
        """Start, run until SIGTERM/SIGINT (or until `extra` returns), then stop cleanly."""
        await self.start(routes, **kwargs)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        waiters = [asyncio.create_task(stop.wait())]
        if extra is not None:
            waiters.append(asyncio.create_task(extra()))
        waiters.extend(self._tasks)
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task not in self._tasks or task.exception() is None:
                continue
            log.error("a background task died", exc_info=task.exception())
        await self.stop()
        for task in waiters:
            if not task.done():
                task.cancel()

    async def _wait_for_broker(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await ensure_topics(self.settings.kafka_bootstrap)
                await self.producer.start()
                return
            except (KafkaError, OSError) as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                log.warning("waiting for the broker", extra={"bootstrap": self.settings.kafka_bootstrap, "error": repr(exc)})
                await asyncio.sleep(1.0)
