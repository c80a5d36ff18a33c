"""The ingest process against the real local broker: a FeedSubscribed in, EpisodeDiscovered and FeedStatusChanged out."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from podbrief_contracts import EpisodeDiscovered, Event, FeedStatusChanged, FeedSubscribed, feed_id_for, stable_id
from podbrief_runtime.broker import LocalBroker
from podbrief_runtime.kafka import ensure_topics, make_producer

from .helpers import FeedServer, rss


async def read_until(bootstrap: str, model: type[Event], feed_id: str, count: int, timeout: float) -> list[Any]:
    """`model` events of `feed_id` read from the start of its topic, until `count` arrived or `timeout` passed."""
    consumer = AIOKafkaConsumer(model.topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                events = [model.model_validate_json(record.value) for record in records]
                found += [event for event in events if getattr(event, "feed_id", None) == feed_id]
    finally:
        await consumer.stop()
    return found


@pytest.mark.slow
async def test_ingest_process_turns_a_subscription_into_episode_events(
    kafka_broker: LocalBroker, feed_server: FeedServer, tmp_path: Path
) -> None:
    await ensure_topics(kafka_broker.bootstrap)
    url = feed_server.serve("/broker-feed.xml", rss(2))
    feed_id = feed_id_for(url)
    env = {
        **os.environ,
        "PODBRIEF_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "PODBRIEF_DATA_DIR": str(tmp_path),
        "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
        "PODBRIEF_FIRST_POLL_EPISODES": "10",
        "PODBRIEF_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "podbrief_ingest"], env=env, cwd=tmp_path)
    try:
        producer = make_producer(kafka_broker.bootstrap, False)
        await producer.start()
        try:
            event = FeedSubscribed(event_id=stable_id("broker-test", url), feed_id=feed_id, feed_url=url)
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=event.key().encode())
        finally:
            await producer.stop()
        episodes = await read_until(kafka_broker.bootstrap, EpisodeDiscovered, feed_id, 2, timeout=90)
        statuses = await read_until(kafka_broker.bootstrap, FeedStatusChanged, feed_id, 1, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    assert sorted(e.guid for e in episodes) == ["ep1", "ep2"]
    assert {e.feed_url for e in episodes} == {url}
    assert [(s.status, s.episodes_seen) for s in statuses] == [("ok", 2)]
    assert returncode == 0
