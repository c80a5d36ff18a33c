"""The consumer loop under faults a real broker will not produce on cue: failed commits, stops and rebalances
mid-message, hung handlers, outages. A fake consumer stands in for aiokafka's; the real-broker behaviour is in
test_consumer_loop.py."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import pytest
from aiokafka import TopicPartition
from fake_consumer import FakeConsumer, FakeProducer
from podbrief_contracts import FeedSubscribed, dlq
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import ConsumerLoop, Route
from podbrief_runtime.settings import ServiceSettings
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime

TOPIC = FeedSubscribed.topic
TP = TopicPartition(TOPIC, 0)


def _log(count: int) -> list[bytes]:
    return [
        FeedSubscribed(event_id=f"e{n}", feed_id=f"feed-{n}", feed_url=f"https://example.com/{n}.xml").model_dump_json().encode()
        for n in range(count)
    ]


def _loop(consumer: FakeConsumer, handler, producer: FakeProducer | None = None, route_deadline=None, **kwargs) -> ConsumerLoop:
    route = Route(FeedSubscribed, handler, deadline=route_deadline) if route_deadline else Route(FeedSubscribed, handler)
    kwargs.setdefault("retry_backoff", 0.01)
    return ConsumerLoop("fake:9092", "g", {TOPIC: route}, producer or FakeProducer(), consumer=consumer, **kwargs)  # type: ignore[arg-type]


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def _stop(loop: ConsumerLoop, task: asyncio.Task[None], grace: float = 1.0) -> None:
    await loop.stop(grace)
    await asyncio.wait_for(task, 5)


async def test_a_failed_commit_rewinds_to_the_first_uncommitted_message_and_skips_none():
    consumer = FakeConsumer({TP: _log(3)})
    consumer.failing_commits = 1
    handled: list[str] = []

    async def handler(event: FeedSubscribed) -> None:
        handled.append(event.event_id)

    loop = _loop(consumer, handler)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: consumer.committed.get(TP) == 3)
    finally:
        await _stop(loop, task)
    # e0 was handled but its commit failed: it is read and handled again (at-least-once), and nothing is skipped.
    assert handled == ["e0", "e0", "e1", "e2"]


async def test_stop_lets_the_message_in_hand_finish_and_commit_within_the_grace():
    consumer = FakeConsumer({TP: _log(3)})
    started, handled = asyncio.Event(), []

    async def handler(event: FeedSubscribed) -> None:
        started.set()
        await asyncio.sleep(0.3)
        handled.append(event.event_id)

    loop = _loop(consumer, handler)
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), 5)
    await _stop(loop, task, grace=5)
    assert handled == ["e0"]  # finished; the next message was not started
    assert consumer.committed == {TP: 1}
    assert consumer.stopped


async def test_stop_abandons_what_outlasts_the_grace_uncommitted():
    consumer = FakeConsumer({TP: _log(2)})
    started = asyncio.Event()

    async def hangs(event: FeedSubscribed) -> None:
        started.set()
        await asyncio.sleep(60)

    loop = _loop(consumer, hangs)
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), 5)
    await _stop(loop, task, grace=0.2)  # a minute's handler: only abandoning it lets the loop end within _stop's wait
    assert consumer.committed == {}


@pytest.mark.parametrize(
    ("route_deadline", "loop_deadline"),
    [(0.1, 60.0), (lambda event: 0.1 if event.event_id == "e0" else 60.0, 60.0), (None, 0.1)],
    ids=["route seconds", "route function of the event", "loop default"],
)
async def test_a_handler_past_its_deadline_is_cancelled_and_counts_as_a_failed_attempt(route_deadline, loop_deadline):
    consumer, producer = FakeConsumer({TP: _log(2)}), FakeProducer()
    attempts: Counter[str] = Counter()

    async def handler(event: FeedSubscribed) -> None:
        attempts[event.event_id] += 1
        if event.event_id == "e0":
            await asyncio.sleep(60)

    loop = _loop(consumer, handler, producer, route_deadline, max_attempts=2, deadline=loop_deadline)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: consumer.committed.get(TP) == 2)
    finally:
        await _stop(loop, task)
    assert attempts == {"e0": 2, "e1": 1}
    [(topic, _, headers)] = producer.sent
    assert topic == dlq(TOPIC) and headers["attempts"] == b"2"
    assert headers["error"].startswith(b"DeadlineExceeded")


async def test_readiness_fails_while_a_handler_runs_on_past_its_deadline(tmp_path):
    consumer = FakeConsumer({TP: _log(1)})
    finish = asyncio.Event()

    async def ignores_cancellation(event: FeedSubscribed) -> None:
        while not finish.is_set():
            try:
                await finish.wait()
            except asyncio.CancelledError:
                continue

    settings = ServiceSettings(_env_file=None, stuck_margin_seconds=0.2)  # type: ignore[call-arg]
    runtime = Runtime("test", settings, Store(f"sqlite:///{tmp_path}/s.db", create=True))
    runtime.consumer = loop = _loop(consumer, ignores_cancellation, route_deadline=0.1)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: TP in loop.state.busy)
        assert runtime.ready()
        await _until(lambda: not runtime.ready())  # deadline 0.1 s + margin 0.2 s
        finish.set()
        await _until(runtime.ready)
    finally:
        finish.set()
        await _stop(loop, task)
        await runtime.producer.stop()


async def test_a_transient_outage_is_retried_past_max_attempts_a_permanent_error_and_a_bug_are_dead_lettered():
    consumer, producer = FakeConsumer({TP: _log(3)}), FakeProducer()
    attempts: Counter[str] = Counter()

    async def handler(event: FeedSubscribed) -> None:
        attempts[event.event_id] += 1
        if event.event_id == "e0" and attempts["e0"] <= 5:
            raise ConnectionRefusedError("database restarting")
        if event.event_id == "e1":
            raise PermanentError("not a feed")
        if event.event_id == "e2":
            raise ValueError("a bug")

    loop = _loop(consumer, handler, producer, max_attempts=3)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: consumer.committed.get(TP) == 3)
    finally:
        await _stop(loop, task)
    assert attempts == {"e0": 6, "e1": 1, "e2": 3}
    assert [headers["error"].split(b":")[0] for _, _, headers in producer.sent] == [b"PermanentError", b"ValueError"]


async def test_a_transient_retry_stops_waiting_when_the_loop_stops():
    consumer = FakeConsumer({TP: _log(1)})

    async def outage(event: FeedSubscribed) -> None:
        raise TimeoutError("vector store not answering")

    loop = _loop(consumer, outage, retry_backoff=3600.0)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.1)
    # Waiting out the hour's backoff or the grace would time this out: the stop must end the wait.
    await asyncio.wait_for(_stop(loop, task, grace=3600), 30)
    assert consumer.committed == {}


@pytest.mark.parametrize("keep", [True, False], ids=["partition kept", "partition lost"])
async def test_a_rebalance_lets_the_message_in_hand_finish_and_commit(keep):
    consumer = FakeConsumer({TP: _log(2)})
    started: list[str] = []

    async def handler(event: FeedSubscribed) -> None:
        started.append(event.event_id)
        await asyncio.sleep(0.3)

    loop = _loop(consumer, handler)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: started == ["e0"])
        await consumer.rebalance({TP} if keep else set())
        assert consumer.committed == {TP: 1}  # committed before the partition changed hands
        if keep:
            await _until(lambda: consumer.committed.get(TP) == 2)
    finally:
        await _stop(loop, task)
    assert started == (["e0", "e1"] if keep else ["e0"])  # e0 never handled twice


async def test_a_rebalance_cancels_what_outlasts_the_revoke_grace_uncommitted():
    consumer = FakeConsumer({TP: _log(1)})
    started: list[str] = []

    async def hangs(event: FeedSubscribed) -> None:
        started.append(event.event_id)
        await asyncio.sleep(60)

    loop = _loop(consumer, hangs, revoke_grace=0.2)
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: started == ["e0"])
        await asyncio.wait_for(consumer.rebalance({TP}), 2)
        assert consumer.committed == {}
        await _until(lambda: started == ["e0", "e0"])  # redelivered from the committed offset
    finally:
        await _stop(loop, task, grace=0)


async def test_a_message_still_waiting_for_a_handler_slot_is_not_started_after_stop():
    other = TopicPartition(TOPIC, 1)
    consumer = FakeConsumer({TP: _log(1), other: _log(1)})
    started: list[str] = []

    async def handler(event: FeedSubscribed) -> None:
        started.append(event.event_id)
        await asyncio.sleep(0.3)

    loop = _loop(consumer, handler, concurrency=1)
    task = asyncio.create_task(loop.run())
    await _until(lambda: len(started) == 1)
    await _stop(loop, task, grace=5)
    assert len(started) == 1  # the other partition's message waited for the one slot and was never begun
    assert sum(consumer.committed.values()) == 1


async def test_the_route_is_told_when_the_loop_gives_up_on_an_event():
    consumer, producer = FakeConsumer({TP: _log(2)}), FakeProducer()
    told: list[tuple[str, str]] = []

    async def handler(event: FeedSubscribed) -> None:
        if event.event_id == "e0":
            raise ValueError("a bug")

    async def given_up(event: FeedSubscribed, exc: BaseException) -> None:
        told.append((event.event_id, str(exc)))

    route = Route(FeedSubscribed, handler, on_dead_letter=given_up)
    loop = ConsumerLoop("fake:9092", "g", {TOPIC: route}, producer, consumer=consumer, retry_backoff=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: consumer.committed.get(TP) == 2)
    finally:
        await _stop(loop, task)
    assert told == [("e0", "a bug")]
