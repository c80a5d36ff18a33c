"""Thirty-odd real feeds of the wild subscribed at once, beside a good feed: each ends parsed and each unreachable
episode ends visibly failed, with its reason, on the listener's episode list."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import CONFORMANCE
from tests.reliability.pipeline import Run

pytestmark = pytest.mark.slow

REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "feeds"
# Media hosts of the captures answer nothing here; `.invalid` never resolves (RFC 6761), on any machine.
_MEDIA = re.compile(rb'(<(?:enclosure|podcast:transcript|podcast:chapters)\b[^>]*?\burl=")https?://([^/"]+)', re.IGNORECASE)
_MOVED = re.compile(rb"<itunes:new-feed-url>[^<]*</itunes:new-feed-url>", re.IGNORECASE)


def _wild_feeds() -> dict[str, bytes]:
    feeds = {f"real-{p.parent.name}-{p.name}": p.read_bytes() for p in sorted(REAL_FEEDS.glob("*/*.xml"))}
    conformance = sorted((CONFORMANCE / "podcastparser").glob("*.rss"))[:12]
    feeds.update({f"conf-{p.name}": p.read_bytes() for p in conformance})
    # A capture that moved (itunes:new-feed-url) would send the next poll to the real host: its move is tested in ingest.
    return {name: _MOVED.sub(b"", _MEDIA.sub(rb"\1http://\2.invalid", body)) for name, body in feeds.items()}


def test_thirty_odd_real_feeds_at_once_end_parsed_and_their_unreachable_episodes_end_failed(tmp_path):
    if not REAL_FEEDS.is_dir():
        pytest.skip("../shared/real-world is absent")
    wild = _wild_feeds()
    assert len(wild) >= 30
    r = Run(tmp_path / "data", episodes=1, extra_feeds=wild)
    try:
        r.start_stack()
        r.subscribe("run.xml", *wild)
        statuses = r.wait(
            lambda s: all(f["status"] != "pending" for f in s)
            and s[0]["episodes_with_insights"] == 1
            and all(f["episodes_failed"] == f["episodes_discovered"] for f in s[1:]),
            timeout=600,
            what="every feed polled, the good one ranked, every unreachable episode failed",
        )
        names = ["run.xml", *wild]
        refused = {name: f["last_error"] for name, f in zip(names, statuses, strict=True) if f["status"] != "ok"}
        assert refused == {}, refused  # every one of them is a feed that podcast apps read
        assert sum(f["episodes_discovered"] for f in statuses[1:]) >= 15
        assert r.api is not None
        for sub_id, name, feed in zip(r.subscription_ids[1:], names[1:], statuses[1:], strict=True):
            time.sleep(0.1)  # stay under the API's per-key rate limit
            episodes = r.api.call("GET", f"/v1/subscriptions/{sub_id}/episodes")["data"]
            assert len(episodes) == feed["episodes_discovered"], name
            for episode in episodes:
                assert episode["state"] == "failed", (name, episode)
                assert ".invalid" in episode["reason"] and "resolve" in episode["reason"], (name, episode)
    finally:
        r.close()
