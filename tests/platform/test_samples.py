"""The sample podcast as the demo serves it on loopback: both feeds name their people and link chapter files that
transcribe reads, each chapter titled for what the script says there."""

from __future__ import annotations

import json

from podbrief_ingest.parser import parse_feed
from podbrief_runtime.safe_http import SafeClient
from podbrief_transcribe.chapters import fetch_chapters

from podbrief.loopback import SampleServer
from tests.conftest import SAMPLES

SIGNAL_HOUR = [("Nora Alvarez", "host"), ("Sam Whitfield", "co-host")]


async def _episodes(client: SafeClient, url: str):
    response = await client.fetch(url, max_bytes=1_000_000)
    return parse_feed(response.body, url).episodes


async def test_the_sample_feeds_name_their_people_and_link_chapters_transcribe_can_read():
    takeaways = json.loads((SAMPLES / "takeaways.json").read_text())
    with SampleServer() as server:
        async with SafeClient(allow_private=True) as client:
            signal = await _episodes(client, f"{server.url}/feed.xml")
            rebroadcasts = await _episodes(client, f"{server.url}/feed2.xml")
            assert {ep.guid for ep in signal} == {e["guid"] for e in takeaways["episodes"].values()}
            for episode in signal:
                assert [(p.name, p.role) for p in episode.people] == SIGNAL_HOUR
            # Open Weights Weekly re-broadcasts Signal Hour audio: its items name those voices instead of its own host.
            for episode in rebroadcasts:
                assert [(p.name, p.role) for p in episode.people] == [("Nora Alvarez", "guest"), ("Sam Whitfield", "guest")]
            for episode in (*signal, *rebroadcasts):
                assert episode.chapters_url is not None and episode.chapters_url.startswith(f"{server.url}/chapters/")
                chapters = await fetch_chapters(client, episode.chapters_url, max_bytes=100_000)
                assert chapters[0].start == 0.0 and chapters[-1].start < episode.duration_seconds
                assert all(c.title for c in chapters)
                assert chapters[0].title == "Welcome" and chapters[-1].title == "Outro"


def test_each_sponsor_chapter_names_the_sponsor_its_ad_read_names():
    takeaways = json.loads((SAMPLES / "takeaways.json").read_text())
    for episode in takeaways["episodes"].values():
        chapters = json.loads((SAMPLES / episode["chapters"]).read_text())
        assert chapters["version"] == "1.2.0"
        (sponsor,) = [c["title"] for c in chapters["chapters"] if c["title"].startswith("Sponsor: ")]
        assert sponsor.removeprefix("Sponsor: ") in episode["ad_read"]
