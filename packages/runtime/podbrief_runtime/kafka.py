"""Kafka plumbing on aiokafka: topic creation, the producer, and the at-least-once consumer loop.

Why its own loop and not FastStream's subscriber: one group member here has several partitions in flight, with
per-route deadlines, retries with backoff, dead letters and a grace on revoke; FastStream's acknowledgement commits
every assigned position, which is safe only one message at a time (DESIGN.md, 2026-11-29).
This loop commits exactly the offset after each finished message, per partition. When it gives
partitions up (a rebalance, or stop), the message in hand may finish and commit within a bounded
wait; what is still running then is abandoned, never committed, and so redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from podbrief_contracts import SCHEMA_VERSIONS, Event, all_topics, dlq
from pydantic import ValidationError

from podbrief_runtime.errors import DeadlineExceeded, Failure, PermanentError, classify
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


# An event may be this large before compression: a 3-hour episode's transcript with every segment's timing is a few
# MB of JSON, about a tenth of that gzipped (the broker's limit applies to the compressed batch: compose sets 8 MB).
MAX_EVENT_BYTES = 8 * 1024 * 1024


def make_producer(bootstrap: str, idempotence: bool) -> AIOKafkaProducer:
    """A producer that waits for all replicas, gzips its batches; idempotent where the broker supports it."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotence,
        linger_ms=5,
        request_timeout_ms=30_000,
        compression_type="gzip",
        max_request_size=MAX_EVENT_BYTES,
    )


Handler = Callable[[Any], Awaitable[None]]
Deadline = float | Callable[[Any], float]


@dataclass(frozen=True)
class Route:
    """Which model a topic's messages parse into, which function handles them, and how long one attempt may take.

    `deadline`: seconds, or a function of the event returning seconds; unset = the loop's default.
    """

    model: type[Event]
    handler: Handler
    deadline: Deadline | None = None
    # Told when the loop gives up on an event (dead-letters it after a handler failure), e.g. to tell the people
    # it affects; its own failure is logged, never raised.
    on_dead_letter: Callable[[Any, BaseException], Awaitable[None]] | None = None

    def deadline_for(self, event: Event, default: float) -> float:
        """Seconds one attempt at handling `event` may take before it is cancelled."""
        if self.deadline is None:
            return default
        return float(self.deadline(event) if callable(self.deadline) else self.deadline)


def route_map(consumes: Mapping[str, type[Event]], *routes: Route) -> dict[str, Route]:
    """`routes` by topic; refused unless they are exactly what the service declares it consumes (its docs say so)."""
    by_topic = {route.model.topic: route for route in routes}
    if len(by_topic) != len(routes) or {topic: route.model for topic, route in by_topic.items()} != dict(consumes):
        routed = sorted(f"{route.model.topic} ({route.model.__name__})" for route in routes)
        declared = sorted(f"{topic} ({model.__name__})" for topic, model in consumes.items())
        raise ValueError(f"the routes {routed} are not what the service declares it consumes: {declared}")
    return by_topic


@dataclass
class ConsumerState:
    """What readiness and metrics read off the loop."""

    assigned: set[TopicPartition] = field(default_factory=set)
    connected: bool = False
    last_poll: float = 0.0
    # Partition -> (monotonic start of the handler attempt in progress, that attempt's deadline in seconds).
    busy: dict[TopicPartition, tuple[float, float]] = field(default_factory=dict)

    def stuck(self, margin: float) -> list[TopicPartition]:
        """Partitions whose handler is still running `margin` seconds after its deadline (it ignored cancellation)."""
        now = time.monotonic()
        return [tp for tp, (started, deadline) in self.busy.items() if now - started > deadline + margin]


@dataclass
class _Release:
    """How a partition's task learns that the partition is being given up (stop or rebalance)."""

    asked: asyncio.Event = field(default_factory=asyncio.Event)  # finish the message in hand, then stop
    abandoned: bool = False  # too late: commit nothing more


class _Released(Exception):
    """The partition was given up before its message's next attempt began; the message stays uncommitted."""


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumerLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Called before the group reassigns (every partition, kept ones included): work that finishes here is
        # committed, so neither this member (kept) nor the next owner (lost) handles it again.
        await self._loop.release(set(revoked), self._loop.revoke_grace)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._loop.state.assigned = set(assigned)
        log.info("partitions assigned", extra={"partitions": sorted(f"{tp.topic}:{tp.partition}" for tp in assigned)})


class ConsumerLoop:
    """Consume `routes`' topics in `group_id`, one task per partition, commit after each message.

    `classify` decides what a handler's error leads to: a `PermanentError`, or a message that does not parse,
    goes to the dead-letter topic at once; a transient outage (connection, timeout, database, broker) is retried
    with capped, jittered backoff for as long as it lasts, the partition paused; anything else, a handler past
    its deadline included, is retried `max_attempts` times, then dead-lettered.
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
        retry_backoff_max: float = 30.0,
        deadline: float = 1800.0,
        revoke_grace: float = 3.0,
        max_poll_interval_ms: int = 300_000,
        consumer: AIOKafkaConsumer | None = None,
    ) -> None:
        self.routes = routes
        self.producer = producer
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max
        self.deadline = deadline
        self.revoke_grace = revoke_grace
        self.state = ConsumerState()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[TopicPartition, asyncio.Task[None]] = {}
        self._releases: dict[TopicPartition, _Release] = {}
        self._stopping = asyncio.Event()
        self._drained = asyncio.Event()
        self._running = False
        self._grace = 0.0
        self.consumer = consumer or AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=max_poll_interval_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            metadata_max_age_ms=5_000,
            max_partition_fetch_bytes=MAX_EVENT_BYTES,
        )

    async def run(self) -> None:
        """Poll and dispatch until `stop()`; the event loop stays free while handlers work."""
        self.consumer.subscribe(list(self.routes), listener=_Listener(self))
        await self.consumer.start()
        self._running = True
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
                if self._stopping.is_set():
                    break  # fetched but never started: uncommitted, so read again later
                for tp, records in batches.items():
                    if records:
                        self.consumer.pause(tp)
                        self._releases[tp] = release = _Release()
                        self._tasks[tp] = asyncio.create_task(self._run_partition(tp, records, release))
                self._reap()
        finally:
            try:
                await self.release(set(self._tasks), self._grace)
            finally:
                self._drained.set()
            await self.consumer.stop()
            self.state.connected = False

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling; in-flight messages finish (and commit) for up to `grace` seconds, the rest is abandoned."""
        self._grace = grace
        self._stopping.set()
        for release in self._releases.values():
            release.asked.set()
        if self._running:
            await self._drained.wait()

    async def release(self, partitions: set[TopicPartition], grace: float) -> None:
        """Give up `partitions`: the message in hand on each may finish and commit within `grace` seconds;
        whatever is still running then is cancelled uncommitted, so it is redelivered."""
        tasks = [self._tasks.pop(tp) for tp in partitions if tp in self._tasks]
        releases = [self._releases.pop(tp) for tp in partitions if tp in self._releases]
        for release in releases:
            release.asked.set()
        pending = [task for task in tasks if not task.done()]
        if pending and grace > 0:
            await asyncio.wait(pending, timeout=grace)
        for release in releases:
            release.abandoned = True
        late = [task for task in pending if not task.done()]
        for task in late:
            task.cancel()
        if late:
            # A handler that ignores cancellation is left behind: it commits nothing, and readiness reports it stuck.
            await asyncio.wait(late, timeout=1.0)
        self.state.assigned -= partitions

    def _reap(self) -> None:
        for tp, task in list(self._tasks.items()):
            if task.done():
                del self._tasks[tp]
                self._releases.pop(tp, None)
                if tp in self.consumer.assignment():
                    self.consumer.resume(tp)

    async def _run_partition(self, tp: TopicPartition, records: list[ConsumerRecord], release: _Release) -> None:
        position = records[0].offset  # the first record not known to be committed
        try:
            for record in records:
                if release.asked.is_set():
                    return  # the rest is read again by whoever holds the partition next
                await self._handle(tp, record, release)
                if release.abandoned:
                    return
                await self.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
                position = record.offset + 1
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, highwater - position))
        except _Released:
            return
        except Exception:
            # Dead-lettering or committing failed (broker gone, group rebalanced): read again from the first record
            # not known to be committed. Handlers are idempotent, so a message handled twice does no harm.
            log.exception("could not finish a message; it will be read again", extra={"topic": tp.topic, "offset": position})
            if tp in self.consumer.assignment():
                self.consumer.seek(tp, position)

    async def _handle(self, tp: TopicPartition, record: ConsumerRecord, release: _Release) -> None:
        """Handle `record` until it succeeds or is dead-lettered; raises when it must be read again."""
        route = self.routes[record.topic]
        started = time.perf_counter()
        try:
            event = parse(route.model, record.value)
        except PermanentError as exc:
            await self.dead_letter(record, exc, attempts=0)
            return
        deadline = route.deadline_for(event, self.deadline)
        attempts = failures = 0
        context = {"topic": record.topic, "event_id": event.event_id}
        while True:
            attempts += 1
            try:
                await self._attempt(tp, route.handler, event, deadline, release)
            except Exception as exc:
                kind = classify(exc)
                failures += kind is not Failure.TRANSIENT
                if kind is Failure.PERMANENT or failures >= self.max_attempts:
                    if kind is Failure.BUG:
                        log.exception("handler failed for the last time", extra=context)
                    await self.dead_letter(record, exc, attempts=attempts)
                    if route.on_dead_letter is not None:
                        try:
                            await route.on_dead_letter(event, exc)
                        except Exception:
                            log.exception("the dead-letter hook failed", extra=context)
                    return
                delay = self._backoff(attempts)
                log.warning(
                    "handler failed, retrying",
                    extra={
                        **context,
                        "attempt": attempts,
                        "failure": kind.value,
                        "retry_in": round(delay, 2),
                        "error": redact_text(repr(exc)),
                    },
                )
                await self._wait_to_retry(release, delay)
                continue
            elapsed = time.perf_counter() - started
            HANDLED.labels(topic=record.topic, outcome="ok").inc()
            HANDLER_SECONDS.labels(topic=record.topic).observe(elapsed)
            log.info("handled", extra={**context, "key": _text(record.key), "seconds": round(elapsed, 3)})
            return

    async def _attempt(self, tp: TopicPartition, handler: Handler, event: Event, deadline: float, release: _Release) -> None:
        """One call of `handler`, cancelled after `deadline` seconds; a slot bounds how many run at once."""
        async with self._slots:
            if release.asked.is_set():
                raise _Released  # given up while waiting for a slot: not started, so not in hand
            self.state.busy[tp] = (time.monotonic(), deadline)
            try:
                async with asyncio.timeout(deadline) as timer:
                    await handler(event)
            except TimeoutError:
                if timer.expired():
                    raise DeadlineExceeded(f"the handler ran past its {deadline:g}s deadline and was cancelled") from None
                raise
            finally:
                self.state.busy.pop(tp, None)

    def _backoff(self, attempt: int) -> float:
        """Seconds before retry `attempt + 1`: doubling from `retry_backoff`, capped, with jitter so replicas spread out."""
        ceiling = min(self.retry_backoff_max, self.retry_backoff * 2 ** min(attempt - 1, 30))
        return ceiling * random.uniform(0.5, 1.0)

    async def _wait_to_retry(self, release: _Release, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.asked.wait(), delay)
        if release.asked.is_set():
            raise _Released

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
