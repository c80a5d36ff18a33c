"""Sample feed → brief on a webhook receiver, through four real service processes, the real broker and real models."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from podbrief_runtime.broker import free_port

from podbrief.demo import run_demo
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_sample_podcast_becomes_a_signed_brief_of_insights_from_its_speech(tmp_path):
    result = run_demo(tmp_path / "data", api_port=free_port(), timeout=900)

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
    for episode in takeaways["episodes"].values():
        ad_words = _words(episode["ad_read"])
        for item in items:
            overlap = len(ad_words & _words(item["text"])) / len(ad_words)
            assert overlap < 0.5, f"an ad read became an insight: {item['text']}"
    html = unescape(result.html_path.read_text())
    for item in items:
        assert item["text"][:40] in html
