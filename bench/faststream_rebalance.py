"""Rebalance loss: FastStream's Kafka subscriber next to podbrief's own consumer loop, same broker, same run.

The scenario of DESIGN.md's measured hazard, on the local Tansu broker: 30 messages on a 4-partition topic,
one consumer of a group handling them (each handler sleeps), a second consumer joining the group while the
first is mid-message, both stopped once the work is done (or has stalled), then a third reader of the group
reads whatever is left uncommitted. A message is lost when nobody handled it and nothing is left to read:
an offset was committed past it. Variants (each run `--runs` times on a fresh topic and group):

- faststream-nack: `AckPolicy.NACK_ON_ERROR`, FastStream acks after the handler;
- faststream-manual: `AckPolicy.MANUAL`, the handler calls `await msg.ack()` when it finished;
- faststream-manual-listener: the same plus a rebalance listener (`listener=`) that lets the message in hand
  finish and ack before the partitions are given up (what podbrief's loop does on revoke);
- faststream-explicit-offset: the same listener, and the handler commits its own message's offset
  (`consumer.commit({tp: offset + 1})`) instead of `msg.ack()`;
- baseline: podbrief's `ConsumerLoop` (`podbrief_runtime.kafka`).

Exits non-zero when the baseline loses a message (FastStream's figures are the measurement, not a target).
FastStream is no dependency of podbrief (DESIGN.md, 2026-11-29): install it to run this measurement
(`make bench FASTSTREAM_BENCH=1` does); without it only `--variant baseline` runs.

    .venv/bin/pip install -c constraints.txt 'faststream[kafka]==0.7.8'
    .venv/bin/python bench/faststream_rebalance.py [--runs 3] [--messages 30] [--handle-seconds 0.2] [--join-after 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from podbrief_contracts import FeedSubscribed, dlq
from podbrief_runtime.broker import LocalBroker
from podbrief_runtime.kafka import ConsumerLoop, Route, ensure_topics, make_producer

# Optional; imported at module level because FastStream resolves the handler's postponed annotations
# (`msg: KafkaMessage`) in this module's globals.
try:
    from faststream.kafka import KafkaBroker
    from faststream.kafka.annotations import KafkaMessage
    from faststream.middlewares import AckPolicy
except ImportError:
    HAVE_FASTSTREAM = False
else:
    HAVE_FASTSTREAM = True
INSTALL_FASTSTREAM = "pip install -c constraints.txt 'faststream[kafka]==0.7.8'"

PARTITIONS = 4
FASTSTREAM_LOG = logging.getLogger("bench.faststream")
FASTSTREAM_LOG.setLevel(logging.WARNING)
REVOKE_GRACE_S = 3.0  # podbrief's default PODBRIEF_REVOKE_GRACE_SECONDS
QUIET_S = 8.0  # no message handled for this long after the second consumer joined: the run has stalled
RUN_CAP_S = 90.0


@dataclass
class Tally:
    """What one run's consumers did."""

    handled: Counter[str] = field(default_factory=Counter)
    by_consumer: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    last_progress: float = field(default_factory=time.monotonic)
    in_hand: dict[str, int] = field(default_factory=Counter)  # consumer -> messages being handled now
    revokes_in_hand: int = 0  # revocations that found the consumer holding a message (the case under test)

    def note(self, consumer: str, event_id: str) -> None:
        self.handled[event_id] += 1
        self.by_consumer[consumer] += 1
        self.last_progress = time.monotonic()


@dataclass
class RunResult:
    variant: str
    run: int
    produced: int
    handled_distinct: int
    duplicates: int
    left_uncommitted: int
    revokes_in_hand: int | None
    lost: int
    lost_ids: list[str]
    by_consumer: dict[str, int]
    seconds: float
    errors: list[str]


class _Observe(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts revocations that come while this consumer holds a message. With `drain` it also pauses the revoked
    partitions (no new message is taken) and waits, up to the grace, until the message in hand is acked."""

    def __init__(self, tally: Tally, name: str, drain: bool) -> None:
        self.tally, self.name, self.drain = tally, name, drain
        self.consumer: AIOKafkaConsumer | None = None  # set once the subscriber has started

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        self.tally.revokes_in_hand += bool(self.tally.in_hand[self.name])
        if not self.drain:
            return
        if self.consumer is not None:
            self.consumer.pause(*revoked)
        deadline = time.monotonic() + REVOKE_GRACE_S
        while self.tally.in_hand[self.name] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


class _ErrorLog(logging.Handler):
    """Keeps FastStream's and aiokafka's warnings and errors: a failed commit or ack shows up here."""

    def __init__(self, tally: Tally) -> None:
        super().__init__(logging.WARNING)
        self.tally = tally

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.tally.errors.append(text[:200])


async def start_faststream(variant: str, bootstrap: str, topic: str, group: str, tally: Tally, sleep_s: float, name: str):
    """One FastStream KafkaBroker with one subscriber in `group`; returns its stop function."""
    manual = variant != "faststream-nack"
    listener = _Observe(tally, name, drain=variant in ("faststream-manual-listener", "faststream-explicit-offset"))
    # FastStream's own logger writes to stdout and does not propagate; this one reaches `_ErrorLog` (failed acks
    # are logged, not raised) and keeps the per-message access log quiet.
    broker = KafkaBroker(bootstrap, logger=FASTSTREAM_LOG, log_level=logging.DEBUG)
    subscriber = broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset="earliest",  # as podbrief's loop (FastStream's default is "latest")
        ack_policy=AckPolicy.MANUAL if manual else AckPolicy.NACK_ON_ERROR,
        listener=listener,
    )

    async def handle(event: FeedSubscribed, msg: KafkaMessage) -> None:
        tally.in_hand[name] += 1
        try:
            await asyncio.sleep(sleep_s)
            if variant == "faststream-explicit-offset":
                record = msg.raw_message
                tp = TopicPartition(record.topic, record.partition)
                await subscriber.consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
            elif manual:
                await msg.ack()
            tally.note(name, event.event_id)
        finally:
            tally.in_hand[name] -= 1

    subscriber(handle)
    await broker.start()
    listener.consumer = subscriber.consumer
    return broker.stop


async def start_baseline(bootstrap: str, topic: str, group: str, tally: Tally, sleep_s: float, name: str):
    """podbrief's ConsumerLoop in `group`; returns its stop function."""
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()

    async def handle(event: FeedSubscribed) -> None:
        await asyncio.sleep(sleep_s)
        tally.note(name, event.event_id)

    loop = ConsumerLoop(bootstrap, group, {topic: Route(FeedSubscribed, handle)}, producer, revoke_grace=REVOKE_GRACE_S)
    task = asyncio.create_task(loop.run())

    async def stop() -> None:
        await loop.stop(grace=REVOKE_GRACE_S)
        await asyncio.wait_for(task, 15)
        await producer.stop()

    return stop


async def left_uncommitted(bootstrap: str, topic: str, group: str) -> list[str]:
    """The event ids a new member of `group` would still be given: everything after the committed offsets."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        ids: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(position >= ends[tp] for position, tp in zip(positions, tps, strict=True)):
                break
            for records in (await consumer.getmany(timeout_ms=500)).values():
                ids += [json.loads(r.value)["event_id"] for r in records]
        return ids
    finally:
        await consumer.stop()


async def one_run(variant: str, run: int, bootstrap: str, messages: int, sleep_s: float, join_after: int) -> RunResult:
    """Produce, consume with one member, add a second mid-message, stop both, read what is left."""
    topic = f"rebalance-{uuid.uuid4().hex[:8]}"
    group = f"g-{topic}"
    await ensure_topics(bootstrap, {topic: PARTITIONS, dlq(topic): 1})
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        for n in range(messages):
            event = FeedSubscribed(event_id=f"m{n}", feed_id=f"feed-{n}", feed_url="https://example.com/f.xml")
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=str(n).encode(), partition=n % PARTITIONS)
    finally:
        await producer.stop()

    tally = Tally()
    errors = _ErrorLog(tally)
    logging.getLogger().addHandler(errors)

    async def start(name: str) -> Callable[[], Awaitable[None]]:
        if variant == "baseline":
            return await start_baseline(bootstrap, topic, group, tally, sleep_s, name)
        return await start_faststream(variant, bootstrap, topic, group, tally, sleep_s, name)

    started = time.monotonic()
    stops = [await start("first")]
    try:
        # Mid-message: the first member has finished `join_after` messages and holds the next.
        while tally.by_consumer["first"] < join_after and time.monotonic() - started < RUN_CAP_S:
            await asyncio.sleep(0.01)
        await asyncio.sleep(sleep_s / 2)
        stops.append(await start("second"))
        tally.last_progress = time.monotonic()
        while len(tally.handled) < messages and time.monotonic() - tally.last_progress < QUIET_S:
            if time.monotonic() - started > RUN_CAP_S:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let the last acks land
    finally:
        for stop in stops:
            with contextlib.suppress(Exception):
                await stop()
        logging.getLogger().removeHandler(errors)
    seconds = time.monotonic() - started
    left = await left_uncommitted(bootstrap, topic, group)
    produced = {f"m{n}" for n in range(messages)}
    lost = sorted(produced - set(tally.handled) - set(left), key=lambda i: int(i[1:]))
    return RunResult(
        variant=variant,
        run=run,
        produced=messages,
        handled_distinct=len(tally.handled),
        duplicates=sum(tally.handled.values()) - len(tally.handled),
        left_uncommitted=len(set(left) - set(tally.handled)),
        revokes_in_hand=None if variant == "baseline" else tally.revokes_in_hand,
        lost=len(lost),
        lost_ids=[f"{i} (p{int(i[1:]) % PARTITIONS})" for i in lost],
        by_consumer=dict(tally.by_consumer),
        seconds=round(seconds, 1),
        errors=sorted(set(tally.errors))[:5],
    )


VARIANTS = ("faststream-nack", "faststream-manual", "faststream-manual-listener", "faststream-explicit-offset", "baseline")


async def bench(runs: int, messages: int, sleep_s: float, join_after: int, variants: tuple[str, ...]) -> list[RunResult]:
    """Every variant `runs` times against one local broker (a fresh topic and group each time), interleaved so
    machine load hits them alike."""
    results: list[RunResult] = []
    with LocalBroker() as broker:
        for run in range(1, runs + 1):
            for variant in variants:
                results.append(await one_run(variant, run, broker.bootstrap, messages, sleep_s, join_after))
                print(_line(results[-1]), file=sys.stderr, flush=True)
    return results


def _line(r: RunResult) -> str:
    return (
        f"{r.variant:28} run {r.run}: handled {r.handled_distinct}/{r.produced}, duplicates {r.duplicates}, "
        f"left uncommitted {r.left_uncommitted}, revoked in hand {r.revokes_in_hand}, lost {r.lost} {r.lost_ids or ''} "
        f"(per consumer {r.by_consumer}, {r.seconds:.1f} s){' errors: ' + '; '.join(r.errors) if r.errors else ''}"
    )


def summary(results: list[RunResult], variants: tuple[str, ...]) -> list[dict[str, Any]]:
    """Per variant: runs, runs that lost a message, messages lost and handled twice in all, runs in which work
    moved to the second member, revocations that found a FastStream member holding a message."""
    rows = []
    for variant in variants:
        mine = [r for r in results if r.variant == variant]
        rows.append(
            {
                "variant": variant,
                "runs": len(mine),
                "runs_with_loss": sum(r.lost > 0 for r in mine),
                "lost": sum(r.lost for r in mine),
                "duplicates": sum(r.duplicates for r in mine),
                "handled": f"{sum(r.handled_distinct for r in mine)}/{sum(r.produced for r in mine)}",
                # Runs in which the rebalance moved work: the second member handled something.
                "handed_over": sum(bool(r.by_consumer.get("second")) for r in mine),
                "revoked_in_hand": None if variant == "baseline" else sum(r.revokes_in_hand or 0 for r in mine),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--handle-seconds", type=float, default=0.2)
    parser.add_argument("--join-after", type=int, default=3, help="messages the first member finishes before the second joins")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="only these (repeatable); default all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    variants = tuple(args.variant or VARIANTS)
    if not HAVE_FASTSTREAM and variants != ("baseline",):
        print(
            f"FastStream is not installed (podbrief does not depend on it): `{INSTALL_FASTSTREAM}` to run this "
            "measurement, or pass `--variant baseline` for podbrief's own loop alone",
            file=sys.stderr,
        )
        return 2
    results = asyncio.run(bench(args.runs, args.messages, args.handle_seconds, args.join_after, variants))
    rows = summary(results, variants)
    baseline_ok = all(r.lost == 0 for r in results if r.variant == "baseline")
    if args.json:
        print(json.dumps({"summary": rows, "runs": [asdict(r) for r in results], "baseline_lossless": baseline_ok}, indent=2))
    else:
        print(
            f"{'variant':28} {'runs':>4} {'runs with loss':>14} {'lost':>5} {'duplicates':>10} {'handled':>9} "
            f"{'handed over':>11} {'revoked in hand':>15}"
        )
        for row in rows:
            in_hand = "-" if row["revoked_in_hand"] is None else row["revoked_in_hand"]
            print(
                f"{row['variant']:28} {row['runs']:>4} {row['runs_with_loss']:>14} {row['lost']:>5} "
                f"{row['duplicates']:>10} {row['handled']:>9} {row['handed_over']:>11} {in_hand:>15}"
            )
        print("baseline lost nothing" if baseline_ok else "baseline LOST messages")
    return 0 if baseline_ok else 1


if __name__ == "__main__":
    sys.exit(main())
