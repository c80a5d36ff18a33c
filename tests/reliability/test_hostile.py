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
# A show with one episode of each kind of trouble, and one whose feed gets the duration wrong (issue 15).
TROUBLE_FEED = """<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Trouble Show</title><link>http://example.com</link><description>x</description>
<item><title>A picture</title><guid>picture-1</guid>
<enclosure url="{{BASE_URL}}/cover.png" length="100" type="audio/mpeg"/></item>
<item><title>Gone</title><guid>gone-1</guid>
<enclosure url="{{BASE_URL}}/audio/missing.mp3" length="100" type="audio/mpeg"/></item>
<item><title>Damaged</title><guid>damaged-1</guid>
<enclosure url="{{BASE_URL}}/damaged.mp3" length="100" type="audio/mpeg"/></item>
<item><title>Wrong length</title><guid>wrong-1</guid><itunes:duration>400</itunes:duration>
<enclosure url="{{BASE_URL}}/audio/ep1.mp3" length="100" type="audio/mpeg"/></item>
</channel></rss>"""
DAMAGED = "\xff\xfb\x90\x00" + "not really audio " * 4000
# The services consuming each topic (each in its own consumer group).
CONSUMERS = {
    "feeds.subscribed": ["ingest"],
    "feeds.unsubscribed": ["ingest"],
    "feeds.status": ["notify"],
    "episodes.discovered": ["transcribe", "notify"],
    "transcripts.ready": ["rank"],
    "insights.created": ["notify"],
    "episodes.status": ["notify"],
}
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
            # Each consumer group of the topic dead-letters its poison once (notify reads episodes.discovered too).
            groups = len(CONSUMERS[topic])
            assert sorted(row["payload"].encode() for row in rows) == sorted(POISON * partitions * groups), topic
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
    extra = {"bomb.xml": (FIXTURES / "billion_laughs.xml").read_text(), "trouble.xml": TROUBLE_FEED, "damaged.mp3": DAMAGED}
    r = Run(tmp_path / "data", episodes=2, extra_feeds=extra, first_poll=4)
    try:
        stack = r.start_stack()
        r.subscribe("run.xml", "bomb.xml", "trouble.xml")
        good, bomb, trouble = r.wait(
            lambda s: s[0]["episodes_with_insights"] >= 2
            and s[1]["status"] == "error"
            and s[2]["episodes_failed"] == 3
            and s[2]["episodes_with_insights"] == 1,
            timeout=600,
            what="good feed ranked, bomb refused, trouble's three bad episodes failed and the mislabelled one ranked",
        )
        assert "entit" in bomb["last_error"].lower()
        assert trouble["latest_failure"]
        # The listener's episode list says what happened to each, in words.
        listed = r.api.call("GET", f"/v1/subscriptions/{r.subscription_ids[2]}/episodes")
        by_title = {e["title"]: e for e in listed["data"]}
        assert listed["count"] == 4
        assert by_title["A picture"]["state"] == "failed" and "PNG image, not audio" in by_title["A picture"]["reason"]
        assert by_title["Gone"]["state"] == "failed" and "404" in by_title["Gone"]["reason"]
        assert by_title["Damaged"]["state"] == "failed" and "not decodable audio" in by_title["Damaged"]["reason"]
        wrong = by_title["Wrong length"]
        assert wrong["state"] == "done" and wrong["insights"] >= 1 and wrong["reason"] is None
        assert wrong["notes"] == ["the audio is 122 s long where the feed declares 400 s; the feed's figure is ignored"]
        dead = _dlq_rows(stack.bootstrap, "episodes.discovered")
        assert len(dead) == 3, dead  # the operator still sees each in the dead-letter topic
        assert any("audio" in row["error"].lower() for row in dead), dead
        brief = r.brief_once()
        page = httpx.get(brief["html_url"], timeout=30).text
        assert "3 episodes of shows you follow could not be processed" in page and "HTTP 404" in page
        stack.check()  # every service still running
        feeds = CliRunner().invoke(app, ["feeds", "--json"], env={"PODBRIEF_DATA_DIR": str(r.data_dir)})
        assert feeds.exit_code == 0, feeds.output
        by_url = {row["url"].rsplit("/", 1)[-1]: row for row in json.loads(feeds.output)}
        assert by_url["bomb.xml"]["status"] == "error" and "entit" in by_url["bomb.xml"]["last_error"].lower()
        assert by_url["run.xml"]["status"] == "ok" and by_url["run.xml"]["episodes_seen"] == 2
        assert by_url["trouble.xml"]["episodes_failed"] == 3 and by_url["run.xml"]["episodes_failed"] == 0
    finally:
        r.close()
