"""The at-least-once consumer loop against the real local broker."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import pytest
from podbrief_contracts import FeedSubscribed, dlq
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import ConsumerLoop, Route, ensure_topics, make_producer
from topic_reader import read_topic

pytestmark = pytest.mark.slow


def _event(n: int) -> FeedSubscribed:
    return FeedSubscribed(event_id=f"e{n}", feed_id=f"feed-{n % 7}", feed_url=f"https://example.com/{n}.xml")


async def _topic(bootstrap: str, partitions: int = 4) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, {name: partitions, dlq(name): 1})
    return name


async def _publish(bootstrap: str, topic: str, payloads: list[bytes], keys: list[bytes]) -> None:
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        for key, payload in zip(keys, payloads, strict=True):
            await producer.send_and_wait(topic, payload, key=key)
    finally:
        await producer.stop()


async def _run_until(loop: ConsumerLoop, done: asyncio.Event, timeout: float = 60.0) -> None:
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        await loop.stop(grace=2)
        await asyncio.wait_for(task, 15)


async def _consume_until(bootstrap: str, topic: str, handler, done: asyncio.Event) -> None:
    """Run one consumer loop of a fresh group on `topic` (3 attempts, quick backoff) until `done`."""
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        loop = ConsumerLoop(
            bootstrap, f"g-{topic}", {topic: Route(FeedSubscribed, handler)}, producer, max_attempts=3, retry_backoff=0.01
        )
        await _run_until(loop, done)
    finally:
        await producer.stop()


async def test_failing_handler_is_retried_and_malformed_messages_are_dead_lettered(kafka_broker):
    bootstrap = kafka_broker.bootstrap
    topic = await _topic(bootstrap, partitions=1)
    good = [_event(n) for n in range(3)]
    payloads = [
        good[0].model_dump_json().encode(),
        b"{not json",
        good[1].model_copy(update={"schema_version": 1}).model_dump_json().encode(),  # an older producer: still handled
        b'{"schema_version": 99, "event_id": "x"}',
        good[2].model_dump_json().encode(),
    ]
    await _publish(bootstrap, topic, payloads, [b"k"] * len(payloads))

    seen: list[str] = []
    failures = Counter()
    done = asyncio.Event()

    async def handler(event: FeedSubscribed) -> None:
        if event.event_id == "e1" and failures["e1"] < 1:
            failures["e1"] += 1
            raise RuntimeError("transient")
        seen.append(event.event_id)
        if len(seen) == 3:
            done.set()

    await _consume_until(bootstrap, topic, handler, done)

    assert seen == ["e0", "e1", "e2"]
    dead = await read_topic(bootstrap, dlq(topic), expect=2)
    assert [r.value for r in dead] == [b"{not json", b'{"schema_version": 99, "event_id": "x"}']
    errors = [dict(r.headers)["error"].decode() for r in dead]
    assert "not JSON" in errors[0] and "schema_version 99" in errors[1]


async def test_poison_message_is_dead_lettered_after_max_attempts_and_partition_moves_on(kafka_broker):
    bootstrap = kafka_broker.bootstrap
    topic = await _topic(bootstrap, partitions=1)
    events = [_event(n) for n in range(3)]
    await _publish(bootstrap, topic, [e.model_dump_json().encode() for e in events], [b"k"] * 3)
    attempts = Counter()
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(event: FeedSubscribed) -> None:
        attempts[event.event_id] += 1
        if event.event_id == "e0":
            raise ValueError("always broken")
        if event.event_id == "e1":
            raise PermanentError("not audio")
        handled.append(event.event_id)
        done.set()

    await _consume_until(bootstrap, topic, handler, done)

    assert attempts == {"e0": 3, "e1": 1, "e2": 1}
    assert handled == ["e2"]
    dead = await read_topic(bootstrap, dlq(topic), expect=2)
    headers = [dict(r.headers) for r in dead]
    assert [h["attempts"] for h in headers] == [b"3", b"1"]
    assert headers[0]["error"].startswith(b"ValueError: always broken")
    assert headers[1]["error"].startswith(b"PermanentError: not audio")


async def test_offsets_are_committed_only_after_the_handler_finished(kafka_broker):
    """A consumer stopped mid-message leaves it uncommitted: the next consumer of the group gets it again."""
    bootstrap = kafka_broker.bootstrap
    topic = await _topic(bootstrap, partitions=1)
    events = [_event(n) for n in range(2)]
    await _publish(bootstrap, topic, [e.model_dump_json().encode() for e in events], [b"k"] * 2)
    group = f"g-{topic}"
    started = asyncio.Event()

    async def slow(event: FeedSubscribed) -> None:
        if event.event_id == "e1":
            started.set()
            await asyncio.sleep(60)

    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    first = ConsumerLoop(bootstrap, group, {topic: Route(FeedSubscribed, slow)}, producer)
    await _run_until(first, started)

    second_seen: list[str] = []
    done = asyncio.Event()

    async def record(event: FeedSubscribed) -> None:
        second_seen.append(event.event_id)
        done.set()

    second = ConsumerLoop(bootstrap, group, {topic: Route(FeedSubscribed, record)}, producer)
    await _run_until(second, done)
    await producer.stop()
    assert second_seen == ["e1"]


@pytest.mark.parametrize("run", range(3))
async def test_consumers_joining_and_leaving_a_group_skip_no_message(kafka_broker, run):
    """3 consumers join and leave one group on a 4-partition topic while 500 messages flow."""
    bootstrap = kafka_broker.bootstrap
    topic = await _topic(bootstrap, partitions=4)
    group = f"g-{topic}"
    total = 500
    handled: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    all_done = asyncio.Event()
    rng = random.Random(run)

    def handler_for(name: str):
        async def handler(event: FeedSubscribed) -> None:
            await asyncio.sleep(rng.uniform(0.01, 0.05))
            handled[event.event_id] += 1
            workers[name] += 1
            if len(handled) == total:
                all_done.set()

        return handler

    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()

    async def feed() -> None:
        for n in range(total):
            event = FeedSubscribed(event_id=f"m{n}", feed_id=str(n), feed_url="https://example.com/f.xml")
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=str(n).encode())
            if n % 25 == 0:
                await asyncio.sleep(0.5)

    def start(name: str) -> tuple[ConsumerLoop, asyncio.Task[None]]:
        loop = ConsumerLoop(bootstrap, group, {topic: Route(FeedSubscribed, handler_for(name))}, producer)
        return loop, asyncio.create_task(loop.run())

    feeder = asyncio.create_task(feed())
    a = start("a")
    await asyncio.sleep(2.0)
    b = start("b")
    await asyncio.sleep(4.0)
    c = start("c")
    await asyncio.sleep(4.0)
    await b[0].stop(grace=0)  # leaves while work is in flight
    await asyncio.wait_for(b[1], 15)
    await asyncio.sleep(1.0)
    await a[0].stop(grace=0)
    await asyncio.wait_for(a[1], 15)
    await feeder
    try:
        await asyncio.wait_for(all_done.wait(), 60)
    finally:
        await c[0].stop(grace=2)
        await asyncio.wait_for(c[1], 15)
        await producer.stop()
    missing = {f"m{n}" for n in range(total)} - set(handled)
    assert not missing, f"skipped {len(missing)} messages: {sorted(missing)[:10]}"
    assert len(workers) >= 2, f"the group never shared the work: {dict(workers)}"


async def test_a_three_hour_transcript_crosses_the_real_broker_whole(kafka_broker):
    """Word-level cues of a 3-hour episode (1.9 MB of JSON, past Kafka's 1 MB default) arrive with every segment."""
    from podbrief_contracts import EpisodeRef, Segment, TranscriptReady

    bootstrap = kafka_broker.bootstrap
    topic = await _topic(bootstrap, partitions=1)
    segments = [Segment(start=i * 0.375, end=i * 0.375 + 0.35, text=f"word{i}") for i in range(28_800)]
    ref = EpisodeRef(
        episode_id="ep", feed_id="feed", podcast_title="Show", episode_title="Long", enclosure_url="https://example.com/a.mp3"
    )
    event = TranscriptReady(event_id="big", episode=ref, language="en", duration=10_800.0, segments=segments, source="asr")
    payload = event.model_dump_json().encode()
    assert len(payload) > 1_800_000
    await _publish(bootstrap, topic, [payload], [b"ep"])
    got: list[TranscriptReady] = []
    done = asyncio.Event()

    async def handler(received: TranscriptReady) -> None:
        got.append(received)
        done.set()

    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        loop = ConsumerLoop(bootstrap, f"g-{topic}", {topic: Route(TranscriptReady, handler)}, producer)
        await _run_until(loop, done)
    finally:
        await producer.stop()
    assert len(got) == 1 and got[0].segments == segments
