"""Poison messages and hostile inputs end to end: each ends in a visible error state, the rest flows on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from podbrief_contracts import PARTITIONS
from podbrief_runtime.kafka import make_producer
from typer.testing import CliRunner

from podbrief.cli import app
from tests.reliability.pipeline import Run

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"
NOT_AUDIO_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Not Audio</title><link>http://example.com</link>
<description>x</description><item><title>A picture</title><guid>picture-1</guid>
<enclosure url="{{BASE_URL}}/cover.png" length="100" type="audio/mpeg"/></item></channel></rss>"""
POISON = [b"{not json", b'{"schema_version": 99, "event_id": "from-the-future"}', b'{"schema_version": 1}']


async def _poison_every_partition(bootstrap: str) -> int:
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    sent = 0
    try:
        for topic, partitions in PARTITIONS.items():
            for partition in range(partitions):
                for payload in POISON:
                    await producer.send_and_wait(topic, payload, partition=partition)
                    sent += 1
    finally:
        await producer.stop()
    return sent


def _dlq_rows(bootstrap: str, topic: str) -> list[dict]:
    result = CliRunner().invoke(app, ["dlq", "list", topic, "--json"], env={"PODBRIEF_KAFKA_BOOTSTRAP": bootstrap})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_poison_in_every_partition_of_every_topic_is_dead_lettered_and_the_pipeline_flows(tmp_path):
    r = Run(tmp_path / "data", episodes=2)
    try:
        stack = r.start_stack()
        for name in ("ingest", "transcribe", "rank"):
            port = stack.health_ports[name]
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        asyncio.run(_poison_every_partition(stack.bootstrap))
        r.subscribe()
        r.wait_ranked(2)
        r.brief_once()
        for topic, partitions in PARTITIONS.items():
            rows = _dlq_rows(stack.bootstrap, topic)
            assert sorted(row["payload"].encode() for row in rows) == sorted(POISON * partitions), topic
            assert all(row["attempts"] == "0" and row["error"] for row in rows)
        for name in ("ingest", "transcribe", "rank"):
            base = f"http://127.0.0.1:{stack.health_ports[name]}"
            assert httpx.get(base + "/readyz").status_code == 200, name
            metrics = httpx.get(base + "/metrics").text
            assert 'outcome="dead_lettered"' in metrics and 'outcome="ok"' in metrics, name
            assert "podbrief_consumer_lag{" in metrics, name
    finally:
        r.close()


def test_hostile_feed_and_non_audio_enclosure_end_in_clear_errors_and_good_feeds_flow(tmp_path):
    extra = {"bomb.xml": (FIXTURES / "billion_laughs.xml").read_text(), "picture.xml": NOT_AUDIO_FEED}
    r = Run(tmp_path / "data", episodes=2, extra_feeds=extra)
    try:
        stack = r.start_stack()
        r.subscribe("run.xml", "bomb.xml", "picture.xml")
        good, bomb, picture = r.wait(
            lambda s: s[0]["episodes_with_insights"] >= 2 and s[1]["status"] == "error" and s[2]["episodes_discovered"] == 1,
            timeout=600,
            what="good feed ranked, bomb refused, picture discovered",
        )
        assert "entit" in bomb["last_error"].lower()
        assert picture["episodes_with_insights"] == 0
        dead = _dlq_rows(stack.bootstrap, "episodes.discovered")
        assert len(dead) == 1 and "picture-1" in dead[0]["payload"]
        assert "audio" in dead[0]["error"].lower(), dead[0]["error"]
        r.brief_once()
        stack.check()  # every service still running
        listed = CliRunner().invoke(app, ["feeds", "--json"], env={"PODBRIEF_DATA_DIR": str(r.data_dir)})
        assert listed.exit_code == 0, listed.output
        by_url = {row["url"].rsplit("/", 1)[-1]: row for row in json.loads(listed.output)}
        assert by_url["bomb.xml"]["status"] == "error" and "entit" in by_url["bomb.xml"]["last_error"].lower()
        assert by_url["run.xml"]["status"] == "ok" and by_url["run.xml"]["episodes_seen"] == 2
    finally:
        r.close()
