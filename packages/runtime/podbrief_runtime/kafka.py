"""Kafka plumbing on aiokafka: topic creation, the producer, and the at-least-once consumer loop.

Why not FastStream's subscriber: with its commit of all positions, a message in flight
during a rebalance was skipped on the local broker (see DESIGN.md, measured hazards).
This loop commits exactly the offset after each finished message, per partition, and
abandons (never commits) work for partitions it loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from podbrief_contracts import SCHEMA_VERSIONS, Event, all_topics, dlq
from pydantic import ValidationError

from podbrief_runtime.errors import PermanentError
from podbrief_runtime.metrics import CONSUMER_LAG, HANDLED, HANDLER_SECONDS
from podbrief_runtime.redact import redact_text

log = logging.getLogger(__name__)

MARKER_PREFIX = "_podbrief.marker."


async def ensure_topics(bootstrap: str, topics: dict[str, int] | None = None) -> list[str]:
    """Create the missing topics (with partitions); returns the names created."""
    wanted = all_topics() if topics is None else topics
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, parts, 1) for name, parts in wanted.items() if name not in existing]
        created: list[str] = []
        for topic in missing:
            try:
                response = await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                continue
            errors = {name: code for name, code, *_ in response.topic_errors}
            if errors.get(topic.name, 0) in (0, TopicAlreadyExistsError.errno):
                created.append(topic.name)
            else:
                raise KafkaError(f"creating topic {topic.name} failed with code {errors[topic.name]}")
        return created
    finally:
        await admin.close()


async def topic_exists(bootstrap: str, topic: str) -> bool:
    """Whether `topic` exists on the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return topic in set(await admin.list_topics())
    finally:
        await admin.close()


def make_producer(bootstrap: str, idempotence: bool) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotent where the broker supports it."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotence,
        linger_ms=5,
        request_timeout_ms=30_000,
    )


Handler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """Which model a topic's messages parse into and which function handles them."""

    model: type[Event]
    handler: Handler


@dataclass
class ConsumerState:
    """What readiness and metrics read off the loop."""

    assigned: set[TopicPartition] = field(default_factory=set)
    connected: bool = False
    last_poll: float = 0.0


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumerLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._loop.abandon(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._loop.state.assigned = set(assigned)
        log.info("partitions assigned", extra={"partitions": sorted(f"{tp.topic}:{tp.partition}" for tp in assigned)})


class ConsumerLoop:
    """Consume `routes`' topics in `group_id`, one task per partition, commit after each message.

    A handler that raises `PermanentError`, or a message that does not parse, goes to the
    dead-letter topic at once; any other error is retried `max_attempts` times with backoff,
    then dead-lettered. The partition always moves on.
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        routes: dict[str, Route],
        producer: AIOKafkaProducer,
        *,
        max_attempts: int = 3,
        concurrency: int = 4,
        retry_backoff: float = 0.5,
        max_poll_interval_ms: int = 300_000,
    ) -> None:
        self.routes = routes
        self.producer = producer
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.state = ConsumerState()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[TopicPartition, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=max_poll_interval_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            metadata_max_age_ms=5_000,
        )

    async def run(self) -> None:
        """Poll and dispatch until `stop()`; the event loop stays free while handlers work."""
        self.consumer.subscribe(list(self.routes), listener=_Listener(self))
        await self.consumer.start()
        self.state.connected = True
        try:
            while not self._stopping.is_set():
                try:
                    batches = await self.consumer.getmany(timeout_ms=200, max_records=50)
                    self.state.connected = True
                except KafkaError as exc:
                    self.state.connected = False
                    log.warning("poll failed, retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(1.0)
                    continue
                self.state.last_poll = time.monotonic()
                for tp, records in batches.items():
                    if records:
                        self.consumer.pause(tp)
                        self._tasks[tp] = asyncio.create_task(self._run_partition(tp, records))
                self._reap()
        finally:
            await self.abandon(set(self._tasks))
            await self.consumer.stop()
            self.state.connected = False

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling; let in-flight messages finish for `grace` seconds, then abandon them."""
        self._stopping.set()
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)

    async def abandon(self, partitions: set[TopicPartition]) -> None:
        """Cancel work on `partitions` without committing it (it will be redelivered)."""
        for tp in partitions:
            task = self._tasks.pop(tp, None)
            if task and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.state.assigned -= partitions

    def _reap(self) -> None:
        for tp, task in list(self._tasks.items()):
            if task.done():
                del self._tasks[tp]
                if tp in self.consumer.assignment():
                    self.consumer.resume(tp)

    async def _run_partition(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        async with self._slots:
            for index, record in enumerate(records):
                if self._stopping.is_set():
                    # Unfinished: rewind so this process (or the next owner) starts here.
                    self.consumer.seek(tp, record.offset)
                    return
                try:
                    await self._handle(record)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Dead-lettering itself failed (broker gone): do not commit; re-read later.
                    log.exception("could not finish message; it will be redelivered", extra={"offset": record.offset})
                    self.consumer.seek(tp, records[index].offset)
                    return
                await self.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, highwater - record.offset - 1))

    async def _handle(self, record: ConsumerRecord) -> None:
        route = self.routes[record.topic]
        started = time.perf_counter()
        try:
            event = parse(route.model, record.value)
        except PermanentError as exc:
            await self.dead_letter(record, exc, attempts=0)
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                await route.handler(event)
            except asyncio.CancelledError:
                raise
            except PermanentError as exc:
                await self.dead_letter(record, exc, attempts=attempt)
                return
            except Exception as exc:
                if attempt >= self.max_attempts:
                    log.exception("handler failed for the last time", extra={"topic": record.topic, "event_id": event.event_id})
                    await self.dead_letter(record, exc, attempts=attempt)
                    return
                log.warning(
                    "handler failed, retrying",
                    extra={
                        "topic": record.topic,
                        "event_id": event.event_id,
                        "attempt": attempt,
                        "error": redact_text(repr(exc)),
                    },
                )
                await asyncio.sleep(self.retry_backoff * 2 ** (attempt - 1))
                continue
            elapsed = time.perf_counter() - started
            HANDLED.labels(topic=record.topic, outcome="ok").inc()
            HANDLER_SECONDS.labels(topic=record.topic).observe(elapsed)
            log.info(
                "handled",
                extra={"topic": record.topic, "event_id": event.event_id, "key": _text(record.key), "seconds": round(elapsed, 3)},
            )
            return

    async def dead_letter(self, record: ConsumerRecord, exc: BaseException, attempts: int) -> None:
        """Publish the original payload to the topic's `.dlq` twin with the error in headers."""
        HANDLED.labels(topic=record.topic, outcome="dead_lettered").inc()
        # Error texts quote URLs (feeds, audio, webhooks) whose path or query may hold a secret.
        error = redact_text(f"{type(exc).__name__}: {exc}")
        headers = [
            ("error", error[:2000].encode()),
            ("attempts", str(attempts).encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
        ]
        await self.producer.send_and_wait(dlq(record.topic), record.value, key=record.key, headers=headers)
        log.error(
            "dead-lettered",
            extra={
                "topic": record.topic,
                "offset": record.offset,
                "attempts": attempts,
                "error": error[:500],
            },
        )


def parse(model: type[Event], raw: bytes | None) -> Event:
    """Parse a message into `model`; anything malformed is a `PermanentError`."""
    if raw is None:
        raise PermanentError("empty message")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PermanentError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PermanentError("not a JSON object")
    version = data.get("schema_version")
    # `type` and not isinstance: JSON `true` is a bool, and a bool is an int equal to 1.
    if type(version) is not int or version not in SCHEMA_VERSIONS:
        raise PermanentError(f"unknown schema_version {version!r} (expected one of {list(SCHEMA_VERSIONS)})")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PermanentError(f"invalid {model.__name__}: {exc.errors(include_url=False)[:3]}") from exc


def _text(raw: bytes | None) -> str | None:
    return raw.decode(errors="replace") if raw is not None else None
