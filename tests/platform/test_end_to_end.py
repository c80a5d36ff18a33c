"""Sample feed → brief on a webhook receiver, through four real service processes, the real broker and real models."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
from html import unescape

import feedparser
import httpx
import pytest
import yaml
from mcp import ClientSession, StdioServerParameters, stdio_client
from podbrief_runtime.broker import free_port

from podbrief.demo import Api, run_demo
from podbrief.stack import Stack
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_sample_podcast_becomes_a_signed_brief_of_insights_from_its_speech(tmp_path):
    result = run_demo(tmp_path / "data", api_port=free_port(), timeout=900, then=_reader_features)

    takeaways = json.loads((SAMPLES / "takeaways.json").read_text())
    scripts = " ".join(p.read_text() for p in sorted((SAMPLES / "scripts").glob("ep*.txt")))
    script_words = _words(scripts)
    items = result.brief["items"]
    assert 3 <= len(items) <= 5
    for item in items:
        text = item["text"]
        words = _words(text)
        # Taken from what was said: nearly every word of the insight was spoken in some episode.
        assert len(words & script_words) / len(words) > 0.85, text
        assert "promo code" not in text.lower() and "brought to you by" not in text.lower(), text
        assert item["show"]["title"] in ("The Signal Hour", "Open Weights Weekly")
        assert "#t=" in item["link"]
        # The sample feeds carry podcast:chapters and podcast:person: each insight says where and among whom.
        assert item["chapter"] and not item["chapter"].startswith("Sponsor"), item
        assert {p["role"] for p in item["episode"]["people"]} & {"host", "guest"}, item
    for episode in takeaways["episodes"].values():
        ad_words = _words(episode["ad_read"])
        for item in items:
            overlap = len(ad_words & _words(item["text"])) / len(ad_words)
            assert overlap < 0.5, f"an ad read became an insight: {item['text']}"
    html = unescape(result.html_path.read_text())
    for item in items:
        assert item["text"][:40] in html
    # The reader's features against the same running stack (see _reader_features).
    checked = result.then
    assert checked["search"] and checked["mcp"] == checked["search"][:3]


def _reader_features(api: Api, stack: Stack, brief: dict) -> dict:
    """Search, the episode view, Markdown, Readwise CSV, the Atom feed and the MCP server, on the running stack."""
    texts = [item["text"] for item in brief["items"]]
    # Search and browse show one phrasing per idea (the best match, the newest), not always the brief's: compare ideas.
    ideas = {item["cluster_id"] for item in brief["items"]}
    found = api.call("GET", "/v1/insights", params={"q": "open source model weights leak", "limit": 10})
    assert found["count"] >= 1 and all(hit["match"] > 0 for hit in found["data"]) and found["semantic"] is True
    assert any(hit["cluster_id"] in ideas for hit in found["data"])
    browse = api.call("GET", "/v1/insights", params={"limit": 50})
    assert browse["count"] >= len(ideas) and ideas <= {hit["cluster_id"] for hit in browse["data"]}
    first = brief["items"][0]
    episode = api.call("GET", f"/v1/episodes/{first['episode']['id']}")
    assert episode["state"] == "done" and first["text"] in [i["text"] for i in episode["insights"]]
    markdown = api.call("GET", f"/v1/briefs/{brief['id']}.md")
    front = yaml.safe_load(markdown.split("---\n")[1])
    assert front["brief_id"] == brief["id"] and all(text in markdown for text in texts)
    rows = list(csv.DictReader(io.StringIO(api.call("GET", "/v1/export/insights.csv"))))
    assert sorted(r["Highlight"] for r in rows) == sorted(texts)
    feed_url = api.call("GET", "/v1/me")["briefs_feed_url"]
    atom = feedparser.parse(httpx.get(feed_url, timeout=30).content)  # a feed reader: no API key, only the URL
    assert atom.bozo == 0 and atom.version == "atom10" and [e.link for e in atom.entries] == [brief["html_url"]]
    key = api.http.headers["Authorization"].removeprefix("Bearer ")
    mcp_texts = asyncio.run(_mcp_search(stack.api_url, key, "open source model weights leak"))
    return {"search": [hit["text"] for hit in found["data"]], "mcp": mcp_texts}


async def _mcp_search(api_url: str, key: str, query: str) -> list[str]:
    """`search_insights` through `podbrief mcp`, connected with the MCP SDK's own stdio client."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "podbrief", "mcp"],
        env={**os.environ, "PODBRIEF_API_URL": api_url, "PODBRIEF_API_KEY": key},
    )
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("search_insights", {"query": query, "limit": 3})
        assert not result.is_error, result.content
        return [hit["text"] for hit in result.structured_content["insights"]]
