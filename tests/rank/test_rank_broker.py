"""The rank worker as its own process on the real local broker: TranscriptReady in, InsightCreated out."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer
from podbrief_contracts import InsightCreated, TranscriptReady
from podbrief_runtime.kafka import ensure_topics, make_producer
from rank_helpers import coverage, takeaways, transcript_event

pytestmark = pytest.mark.slow


async def _publish(bootstrap: str, events: list[TranscriptReady]) -> None:
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=event.key().encode())
    finally:
        await producer.stop()


async def _collect(
    consumer: AIOKafkaConsumer, worker: subprocess.Popen, into: list[InsightCreated], episodes: set[str], until, timeout: float
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not until(into):
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited with {worker.returncode}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; got {Counter(x.episode.episode_id for x in into)}")
        for records in (await consumer.getmany(timeout_ms=500)).values():
            for record in records:
                event = InsightCreated.model_validate_json(record.value)
                if event.episode.episode_id in episodes:
                    into.append(event)


def _count(into: list[InsightCreated], episode_id: str) -> int:
    return sum(x.episode.episode_id == episode_id for x in into)


async def test_the_worker_turns_transcripts_into_insight_events_once_each(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap
    await ensure_topics(bootstrap)
    feed = f"https://example.com/{uuid.uuid4().hex}.xml"
    ep1, ep3 = transcript_event("ep1", feed_url=feed), transcript_event("ep3", feed_url=feed)
    # Same key as ep1 (same partition, so handled after the redelivery), other text: its insights are new.
    later = transcript_event("ep2", feed_url=feed).model_copy(
        update={"event_id": f"later-{uuid.uuid4()}", "episode": ep1.episode}
    )
    episodes = {ep1.episode.episode_id, ep3.episode.episode_id}
    env = {
        **os.environ,
        "PODBRIEF_KAFKA_BOOTSTRAP": bootstrap,
        "PODBRIEF_DATA_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PODBRIEF_LOG_LEVEL": "INFO",
    }
    log = open(tmp_path / "rank.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "podbrief_rank"], env=env, stdout=log, stderr=subprocess.STDOUT)
    consumer = AIOKafkaConsumer(InsightCreated.topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    got: list[InsightCreated] = []
    try:
        await _publish(bootstrap, [ep1, ep3])
        await _collect(
            consumer,
            worker,
            got,
            episodes,
            lambda xs: _count(xs, ep1.episode.episode_id) >= 3 and _count(xs, ep3.episode.episode_id) >= 3,
            180,
        )
        first_round = len(got)
        await _publish(bootstrap, [ep1, later])
        # The later transcript's insights are new ideas: wait for them however busy the machine is.
        await _collect(consumer, worker, got, episodes, lambda xs: len(xs) >= first_round + 3, 120)
        await asyncio.sleep(3)
        await _collect(consumer, worker, got, episodes, lambda xs: True, 5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{(tmp_path / 'rank.log').read_text(errors='replace')[-3000:]}") from exc
    finally:
        await consumer.stop()
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
            log.close()
    output = (tmp_path / "rank.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    ids = Counter(x.event_id for x in got)
    assert max(ids.values()) == 1, "a redelivered transcript was emitted twice"
    assert len(got) >= first_round + 3
    leak_1 = max(
        (x for x in got if x.episode == ep1.episode),
        key=lambda x: coverage(takeaways()["episodes"]["ep1"]["takeaways"][0], x.text),
    )
    leak_3 = max(
        (x for x in got if x.episode == ep3.episode),
        key=lambda x: coverage(takeaways()["episodes"]["ep3"]["takeaways"][0], x.text),
    )
    assert leak_1.cluster_id == leak_3.cluster_id
    assert all(x.embedding_model == "all-MiniLM-L6-v2" and len(x.embedding) == 384 for x in got)
