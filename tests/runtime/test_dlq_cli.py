"""`podbrief dlq list|replay` against the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from podbrief_contracts import dlq
from podbrief_runtime.kafka import ensure_topics, make_producer
from topic_reader import read_topic
from typer.testing import CliRunner

from podbrief.cli import app

pytestmark = pytest.mark.slow


async def _setup(bootstrap: str, topic: str) -> None:
    await ensure_topics(bootstrap, {topic: 2, dlq(topic): 1})
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    for n in range(3):
        await producer.send_and_wait(
            dlq(topic), f"bad-{n}".encode(), key=b"k", headers=[("error", b"ValueError: nope"), ("attempts", b"3")]
        )
    await producer.stop()


def test_dead_letters_are_listed_with_their_errors_and_replayed_once(kafka_broker):
    topic = f"t-{uuid.uuid4().hex[:8]}"
    asyncio.run(_setup(kafka_broker.bootstrap, topic))
    env = {"PODBRIEF_KAFKA_BOOTSTRAP": kafka_broker.bootstrap}
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list", topic, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["payload"] for r in rows] == ["bad-0", "bad-1", "bad-2"]
    assert all(r["error"] == "ValueError: nope" and r["attempts"] == "3" for r in rows)

    first = runner.invoke(app, ["dlq", "replay", topic], env=env)
    assert first.exit_code == 0 and "replayed 3" in first.output, first.output
    second = runner.invoke(app, ["dlq", "replay", topic], env=env)
    assert "replayed 0" in second.output, second.output
    # One more than expected, so a duplicate replay would show: waits the full 3 s.
    replayed = asyncio.run(read_topic(kafka_broker.bootstrap, topic, expect=4, timeout=3))
    assert sorted(r.value for r in replayed) == [b"bad-0", b"bad-1", b"bad-2"]
