"""The transcribe worker as its own process on the real local broker: EpisodeDiscovered in, TranscriptReady out."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from podbrief_contracts import EpisodeDiscovered, TranscriptReady, dlq, stable_id
from podbrief_runtime.kafka import ensure_topics, make_producer
from podbrief_transcribe.accuracy import word_error_rate
from transcribe_helpers import HTML_PAGE, episode_event, mp3, script

pytestmark = pytest.mark.slow

GROUP = "podbrief-transcribe"


async def _skip_backlog(bootstrap: str) -> None:
    """Start the worker's group at the end of the topic: other tests on this broker may have left episodes there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(EpisodeDiscovered.topic, p) for p in consumer.partitions_for_topic(EpisodeDiscovered.topic)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    finally:
        await consumer.stop()


async def _publish(bootstrap: str, events: list[EpisodeDiscovered]) -> None:
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=event.key().encode())
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str, key: str, want: int, worker: subprocess.Popen, timeout: float) -> list:
    """Records of `topic` with `key`, waiting until there are `want` (then a little longer, to catch duplicates)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        settle = None
        while settle is None or asyncio.get_running_loop().time() < settle:
            assert worker.poll() is None, f"the worker exited with {worker.returncode}"
            assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {topic}; got {len(found)}"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(r for r in records if r.key == key.encode())
            if settle is None and len(found) >= want:
                settle = asyncio.get_running_loop().time() + 3.0
    finally:
        await consumer.stop()
    return found


async def test_the_worker_transcribes_served_audio_and_dead_letters_a_web_page(kafka_broker, loopback, tmp_path: Path):
    bootstrap = kafka_broker.bootstrap
    await ensure_topics(bootstrap)
    await _skip_backlog(bootstrap)
    good = episode_event(loopback.serve("/ep1.mp3", mp3("ep1"), "audio/mpeg"), duration=121.6)
    bad = episode_event(loopback.serve("/page.mp3", HTML_PAGE, "text/html"))
    env = {
        **os.environ,
        "PODBRIEF_KAFKA_BOOTSTRAP": bootstrap,
        "PODBRIEF_DATA_DIR": str(tmp_path),
        "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
        "PODBRIEF_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",
    }
    log_path = tmp_path / "transcribe.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "podbrief_transcribe"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await _publish(bootstrap, [good, bad, good])  # the second `good` is a redelivery
            ready = await _read(bootstrap, TranscriptReady.topic, good.episode_id, 1, worker, timeout=240)
            dead = await _read(bootstrap, dlq(EpisodeDiscovered.topic), bad.episode_id, 1, worker, timeout=60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- worker log ---\n{log_path.read_text(errors='replace')[-4000:]}") from exc
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(timeout=60)
            finally:
                if worker.poll() is None:
                    worker.kill()
    output = log_path.read_text(errors="replace")
    assert code == 0, output[-3000:]

    assert len(ready) == 1, "a redelivered episode was transcribed and emitted twice"
    event = TranscriptReady.model_validate_json(ready[0].value)
    assert event.event_id == stable_id("transcript-ready", good.episode_id)
    assert (event.source, event.model, event.language) == ("asr", "tiny.en", "en")
    assert word_error_rate(script("ep1"), " ".join(s.text for s in event.segments)) < 0.25
    assert loopback.hits["/ep1.mp3"] == 1

    assert len(dead) == 1
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert "BadAudioError" in headers["error"] and "HTML page" in headers["error"]
    assert headers["attempts"] == "1"
    assert EpisodeDiscovered.model_validate_json(dead[0].value) == bad

    assert "percent=" in output  # progress was logged
    assert list((tmp_path / "audio").iterdir()) == []  # cached audio removed after use
