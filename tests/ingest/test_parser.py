"""Parsing feeds: RSS, Atom, iTunes and Podcasting 2.0 tags, relative URLs, and what counts as an episode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from podbrief_ingest.model import Transcript
from podbrief_ingest.parser import is_audio, parse_duration, parse_feed

from .helpers import rss

FEED_URL = "https://example.com/podcast/feed.xml"


def test_rss_episode_carries_its_fields() -> None:
    feed = parse_feed(
        rss(
            [
                {
                    "guid": "ep-1",
                    "title": "Open weights",
                    "published": datetime(2026, 11, 20, 6, tzinfo=UTC),
                    "extra": "<link>https://example.com/ep1</link><itunes:duration>1:02:03</itunes:duration>",
                }
            ],
            channel_extra='<itunes:image href="https://example.com/cover.png"/>',
        ).encode(),
        FEED_URL,
    )
    assert feed.title == "The Signal Hour"
    assert feed.image == "https://example.com/cover.png"
    (episode,) = feed.episodes
    assert episode.guid == "ep-1"
    assert episode.title == "Open weights"
    assert episode.enclosure_url == "https://cdn.example.com/ep-1.mp3"
    assert episode.enclosure_type == "audio/mpeg"
    assert episode.enclosure_length == 1234
    assert episode.link == "https://example.com/ep1"
    assert episode.published_at == datetime(2026, 11, 20, 6, tzinfo=UTC)
    assert episode.duration_seconds == 3723.0


def test_every_publisher_transcript_and_the_chapters_are_kept() -> None:
    extra = (
        '<podcast:transcript url="https://example.com/ep1.vtt" type="text/vtt" language="en"/>'
        '<podcast:transcript url="/ep1.srt" type="application/x-subrip"/>'
        '<podcast:transcript url="ep1.json" type="application/json" language="en" rel="captions"/>'
        '<podcast:chapters url="chapters/ep1.json" type="application/json+chapters"/>'
    )
    (episode,) = parse_feed(rss([{"guid": "ep-1", "extra": extra}]).encode(), FEED_URL).episodes
    assert episode.transcripts == (
        Transcript("https://example.com/ep1.vtt", "text/vtt", "en"),
        Transcript("https://example.com/ep1.srt", "application/x-subrip", None),
        Transcript("https://example.com/podcast/ep1.json", "application/json", "en"),
    )
    assert episode.chapters_url == "https://example.com/podcast/chapters/ep1.json"


def test_podcast_namespace_is_recognised_under_any_prefix() -> None:
    doc = rss([{"guid": "ep-1", "extra": '<pi:transcript url="https://example.com/t.vtt" type="text/vtt"/>'}]).replace(
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"', 'xmlns:pi="https://podcastindex.org/namespace/1.0"'
    )
    (episode,) = parse_feed(doc.encode(), FEED_URL).episodes
    assert [t.url for t in episode.transcripts] == ["https://example.com/t.vtt"]


def test_transcript_elements_of_another_namespace_are_ignored() -> None:
    doc = rss([{"guid": "ep-1", "extra": '<x:transcript url="https://example.com/t.vtt" type="text/vtt"/>'}]).replace(
        "<rss ", '<rss xmlns:x="https://example.com/not-podcasting" '
    )
    (episode,) = parse_feed(doc.encode(), FEED_URL).episodes
    assert episode.transcripts == ()


def test_atom_feed_with_enclosure_links() -> None:
    doc = """<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example.org/show/">
      <title>Atom Show</title>
      <entry>
        <id>tag:atom.example.org,2026:ep1</id>
        <title>First</title>
        <published>2026-11-20T06:00:00Z</published>
        <link rel="alternate" href="ep1.html"/>
        <link rel="enclosure" type="audio/ogg" length="99" href="audio/ep1.ogg"/>
      </entry>
      <entry><id>tag:atom.example.org,2026:post</id><title>Just a post</title></entry>
    </feed>"""
    feed = parse_feed(doc.encode(), FEED_URL)
    assert feed.title == "Atom Show"
    (episode,) = feed.episodes
    assert episode.guid == "tag:atom.example.org,2026:ep1"
    assert episode.enclosure_url == "https://atom.example.org/show/audio/ep1.ogg"
    assert episode.enclosure_type == "audio/ogg"
    assert episode.link == "https://atom.example.org/show/ep1.html"
    assert episode.published_at == datetime(2026, 11, 20, 6, tzinfo=UTC)


def test_relative_enclosures_resolve_against_item_xml_base_then_the_feed_url() -> None:
    doc = rss(
        [
            {"guid": "a", "url": "a.mp3", "extra": ""},
            {"guid": "b", "url": "../b.mp3"},
        ]
    ).replace("<item>", '<item xml:base="https://media.example.net/x/">', 1)
    first, second = parse_feed(doc.encode(), FEED_URL).episodes
    assert first.enclosure_url == "https://media.example.net/x/a.mp3"
    assert second.enclosure_url == "https://example.com/b.mp3"


def test_missing_guid_falls_back_to_the_enclosure_url() -> None:
    (episode,) = parse_feed(rss([{"url": "https://cdn.example.com/only.mp3"}]).encode(), FEED_URL).episodes
    assert episode.guid == "https://cdn.example.com/only.mp3"


def test_items_without_audio_are_skipped() -> None:
    feed = parse_feed(
        rss(
            [
                {"guid": "post", "url": None},
                {"guid": "pdf", "url": "https://example.com/notes.pdf", "type": "application/pdf"},
                {"guid": "ftp", "url": "ftp://example.com/ep.mp3"},
                {"guid": "audio", "url": "https://example.com/ep.mp3"},
            ]
        ).encode(),
        FEED_URL,
    )
    assert [ep.guid for ep in feed.episodes] == ["audio"]


def test_the_first_audio_enclosure_is_chosen_over_artwork() -> None:
    extra = '<enclosure url="https://example.com/ep.m4a" type="audio/x-m4a" length="5"/>'
    doc = rss([{"guid": "ep", "url": "https://example.com/art.jpg", "type": "image/jpeg", "extra": extra}])
    (episode,) = parse_feed(doc.encode(), FEED_URL).episodes
    assert episode.enclosure_url == "https://example.com/ep.m4a"


def test_media_content_is_used_when_there_is_no_enclosure() -> None:
    extra = '<media:content url="https://example.com/ep.mp3" type="audio/mpeg" fileSize="77"/>'
    doc = rss([{"guid": "ep", "url": None, "extra": extra}]).replace("<rss ", '<rss xmlns:media="http://search.yahoo.com/mrss/" ')
    (episode,) = parse_feed(doc.encode(), FEED_URL).episodes
    assert (episode.enclosure_url, episode.enclosure_length) == ("https://example.com/ep.mp3", 77)


def test_itunes_block_on_the_channel_blocks_the_feed() -> None:
    feed = parse_feed(rss(1, channel_extra="<itunes:block>Yes</itunes:block>").encode(), FEED_URL)
    assert feed.blocked_by == "itunes:block"


def test_podcast_block_blocks_only_without_a_platform_id() -> None:
    everyone = parse_feed(rss(1, channel_extra="<podcast:block>yes</podcast:block>").encode(), FEED_URL)
    one_platform = parse_feed(rss(1, channel_extra='<podcast:block id="spotify">yes</podcast:block>').encode(), FEED_URL)
    unblocked = parse_feed(rss(1, channel_extra="<podcast:block>no</podcast:block>").encode(), FEED_URL)
    assert (everyone.blocked_by, one_platform.blocked_by, unblocked.blocked_by) == ("podcast:block", None, None)


def test_an_episode_blocked_by_itunes_block_is_skipped() -> None:
    feed = parse_feed(rss([{"guid": "a", "extra": "<itunes:block>yes</itunes:block>"}, {"guid": "b"}]).encode(), FEED_URL)
    assert [ep.guid for ep in feed.episodes] == ["b"]


def test_new_feed_url_is_reported() -> None:
    doc = rss(1, channel_extra="<itunes:new-feed-url> https://new.example.com/feed.xml </itunes:new-feed-url>")
    assert parse_feed(doc.encode(), FEED_URL).new_feed_url == "https://new.example.com/feed.xml"


@pytest.mark.parametrize(
    ("url", "declared", "expected"),
    [
        ("https://x/a.mp3", "audio/mpeg", True),
        ("https://x/a.mp4", "video/mp4", True),
        ("https://x/a.ogg", "application/ogg", True),
        ("https://x/a.mp3", None, True),
        ("https://x/a.opus", "application/octet-stream", True),
        ("https://x/download?id=3", None, True),
        ("https://x/a.jpg", None, False),
        ("https://x/a.mp3", "image/jpeg", False),
        ("https://x/a.pdf", "application/pdf", False),
    ],
)
def test_is_audio_by_type_then_by_file_name(url: str, declared: str | None, expected: bool) -> None:
    assert is_audio(url, declared) is expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("45", 45.0), ("12:34", 754.0), ("1:02:03", 3723.0), ("90.5", 90.5), ("", None), ("soon", None), ("1:2:3:4", None)],
)
def test_itunes_duration_forms(value: str, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    " JavaScript:alert(document.domain) ",
    "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
    "VBScript:msgbox(1)",
    "http://[::1",
]


@pytest.mark.parametrize("hostile", HOSTILE_URLS)
def test_links_that_are_not_http_are_dropped_with_a_logged_reason_and_the_episode_kept(hostile, caplog) -> None:
    extra = (
        f"<link>{hostile}</link>"
        f'<podcast:transcript url="{hostile}" type="text/vtt"/>'
        '<podcast:transcript url="https://example.com/ep1.vtt" type="text/vtt"/>'
        f'<podcast:chapters url="{hostile}" type="application/json+chapters"/>'
    )
    channel = f'<itunes:image href="{hostile}"/><itunes:new-feed-url>{hostile}</itunes:new-feed-url>'
    with caplog.at_level("WARNING", logger="podbrief_ingest.parser"):
        feed = parse_feed(rss([{"guid": "ep-1", "extra": extra}], channel_extra=channel).encode(), FEED_URL)
    (episode,) = feed.episodes
    assert episode.enclosure_url == "https://cdn.example.com/ep-1.mp3"
    assert episode.link is None and episode.chapters_url is None
    assert episode.transcripts == (Transcript("https://example.com/ep1.vtt", "text/vtt", None),)
    assert feed.image is None and feed.new_feed_url is None
    dropped = {r.field for r in caplog.records if r.getMessage() == "URL dropped: not http(s)"}
    assert dropped == {
        "episode ep-1 link",
        "episode ep-1 transcript",
        "episode ep-1 chapters",
        "channel image",
        "itunes:new-feed-url",
    }
    assert all(r.feed_url == FEED_URL for r in caplog.records)


@pytest.mark.parametrize("hostile", HOSTILE_URLS)
def test_an_episode_whose_audio_is_not_http_is_skipped_with_a_logged_reason_and_the_feed_still_parses(hostile, caplog) -> None:
    with caplog.at_level("WARNING", logger="podbrief_ingest.parser"):
        feed = parse_feed(rss([{"guid": "bad", "url": hostile.strip()}, {"guid": "good"}]).encode(), FEED_URL)
    assert [ep.guid for ep in feed.episodes] == ["good"]
    (record,) = [r for r in caplog.records if "enclosure" in r.getMessage()]
    assert record.getMessage() == "episode skipped: its enclosure is not an http(s) URL"
    assert record.guid == "bad" and record.feed_url == FEED_URL
