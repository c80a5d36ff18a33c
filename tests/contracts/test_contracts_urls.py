"""URL fields of the events take only http(s) URLs (a feed's `javascript:` link must not travel to a brief page),
and stay plain strings on the wire, so the JSON and the schema versions are unchanged."""

from __future__ import annotations

import json

import pytest
from podbrief_contracts import ALL_EVENTS, EpisodeDiscovered, EpisodeRef, TranscriptRef, is_web_url
from pydantic import ValidationError

HOSTILE = [
    "javascript:alert(document.domain)",
    " JavaScript:alert(document.domain) ",
    "JAVASCRIPT:alert(1)",
    "java\nscript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " DATA:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/ep.mp3",
    "//example.com/ep.mp3",
    "/ep.mp3",
    "https://",
    "http://[::1",
    "",
]
GOOD = ["https://example.com/ep.mp3?token=abc#t=3", "http://127.0.0.1:8080/feed", "HTTPS://Example.COM/x"]


def _episode(**urls: object) -> dict[str, object]:
    return {
        "event_id": "e1",
        "episode_id": "ep1",
        "feed_id": "f1",
        "feed_url": "https://example.com/feed.xml",
        "podcast_title": "Show",
        "guid": "g1",
        "title": "Episode",
        "enclosure_url": "https://example.com/ep1.mp3",
        **urls,
    }


@pytest.mark.parametrize("url", HOSTILE)
def test_every_url_field_refuses_anything_but_http_and_https(url):
    assert not is_web_url(url)
    for field in ("feed_url", "enclosure_url", "link", "podcast_image", "chapters_url"):
        with pytest.raises(ValidationError, match="http"):
            EpisodeDiscovered.model_validate(_episode(**{field: url}))
    with pytest.raises(ValidationError):
        EpisodeDiscovered.model_validate(_episode(transcripts=[{"url": url, "type": "text/vtt"}]))
    ref = {"episode_id": "ep1", "feed_id": "f1", "podcast_title": "S", "episode_title": "E", "enclosure_url": "https://x/a"}
    for field in ("enclosure_url", "episode_link", "podcast_image"):
        with pytest.raises(ValidationError):
            EpisodeRef.model_validate({**ref, field: url})


@pytest.mark.parametrize("url", GOOD)
def test_http_and_https_urls_pass_and_stay_plain_strings_on_the_wire(url):
    event = EpisodeDiscovered.model_validate(
        _episode(enclosure_url=url, link=url, podcast_image=url, chapters_url=url, transcripts=[{"url": url, "type": "text/vtt"}])
    )
    wire = json.loads(event.model_dump_json())
    assert wire["enclosure_url"] == wire["link"] == wire["chapters_url"] == wire["transcripts"][0]["url"] == url
    assert EpisodeDiscovered.model_validate_json(event.model_dump_json()) == event
    assert TranscriptRef(url=f" {url} ", type="text/vtt").url == url  # blanks around are dropped


@pytest.mark.parametrize("model", ALL_EVENTS)
def test_url_fields_keep_a_plain_string_schema(model):
    schema = json.dumps(model.model_json_schema())
    assert '"format": "uri"' not in schema
