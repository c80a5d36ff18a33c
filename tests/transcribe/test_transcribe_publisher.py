"""Publisher transcripts: each format parsed into timed segments, fetched over real loopback HTTP, ASR skipped."""

from __future__ import annotations

import json

import pytest
from podbrief_contracts import TranscriptRef
from podbrief_runtime.safe_http import SafeClient
from podbrief_transcribe.episode import Transcriber
from podbrief_transcribe.exceptions import TranscriptError
from podbrief_transcribe.publisher import detect_kind, merge_short, parse_transcript, preference
from podbrief_transcribe.service import to_source
from podbrief_transcribe.transcript import Segment
from transcribe_helpers import episode_event

VTT = """WEBVTT

NOTE made by hand

1
00:00:00.500 --> 00:00:03.000
<v Kevin>Hey everyone, and welcome back

00:00:03.000 --> 00:00:06.250
to <b>The Signal Hour</b> &amp; friends.

00:01:02.000 --> 00:01:05.500
Model weights stay protected.
"""

SRT = """1
00:00:00,500 --> 00:00:03,000
Hey everyone, and welcome back

2
00:00:03,000 --> 00:00:06,250
to <i>The Signal Hour</i> &amp; friends.

3
00:01:02,000 --> 00:01:05,500
Model weights stay protected.
"""

JSON = json.dumps(
    {
        "version": "1.0.0",
        "segments": [
            {"speaker": "Kevin", "startTime": 0.5, "endTime": 1.2, "body": "Hey"},
            {"speaker": "Kevin", "startTime": 1.2, "endTime": 3.0, "body": "everyone, and welcome back"},
            {"speaker": "Kevin", "startTime": 3.0, "endTime": 6.25, "body": "to The Signal Hour & friends."},
            {"speaker": "Ann", "startTime": 62.0, "endTime": 65.5, "body": "Model weights stay protected."},
        ],
    }
)

HTML = """<!DOCTYPE html><html><head><title>Episode 1 transcript</title><style>p {color: red}</style></head><body>
<cite>Kevin:</cite><time>0:00:00.5</time><p>Hey everyone, and welcome back to The Signal Hour &amp; friends.</p>
<cite>Ann:</cite><time>01:02</time><p>Model weights stay protected.</p>
</body></html>"""

TEXT = """Hey everyone, and welcome back to The Signal Hour & friends.

Model weights stay protected."""

MARKDOWN = """**Kevin:** Hey everyone, and welcome back to The Signal Hour & friends.

**Ann:** \\[01:02\\] Model weights stay protected. \\[laughs\\]"""

FIRST, SECOND = "Hey everyone, and welcome back to The Signal Hour & friends.", "Model weights stay protected."
EXPECTED_TEXT = f"{FIRST} {SECOND}"


@pytest.mark.parametrize(
    ("body", "kind"),
    [(VTT, "vtt"), (SRT, "srt"), (JSON, "json"), (HTML, "html")],
)
def test_timed_formats_parse_into_sentence_segments_with_their_times(body, kind):
    segments = parse_transcript(body, kind, declared_duration=70.0)
    assert " ".join(s.text for s in segments) == EXPECTED_TEXT
    assert segments[0].start == 0.5
    assert segments[1].start == 62.0
    assert [s.text for s in segments] == [FIRST, SECOND]


def test_plain_text_gets_times_spread_over_the_declared_duration_by_word_count():
    segments = parse_transcript(TEXT, "text", declared_duration=60.0)
    assert [s.text for s in segments] == [FIRST, SECOND]
    assert segments[0].start == 0.0
    assert segments[-1].end == pytest.approx(60.0)
    assert segments[0].end == pytest.approx(60.0 * 11 / 15, abs=0.01)


def test_untimed_text_without_a_declared_duration_assumes_150_words_a_minute():
    segments = parse_transcript(TEXT, "text")
    assert segments[-1].end == pytest.approx(15 / 2.5)


def test_html_without_time_marks_is_spread_like_plain_text():
    segments = parse_transcript("<p>One two three four.</p><p>Five six seven eight.</p>", "html", declared_duration=8.0)
    assert [(s.start, s.end) for s in segments] == [(0.0, 4.0), (4.0, 8.0)]


def test_word_level_cues_are_joined_into_sentences():
    words = ["Leaks", "spread", "fast.", "Weights", "stay", "put.", "And", "then"]
    merged = merge_short([Segment(i * 0.4, i * 0.4 + 0.4, w) for i, w in enumerate(words)])
    # "fast." ends a sentence only 1.2 s in: too short to stand alone, so it joins the next one.
    assert [(s.start, s.end, s.text) for s in merged] == [
        (0.0, pytest.approx(2.4), "Leaks spread fast. Weights stay put."),
        (pytest.approx(2.4), pytest.approx(3.2), "And then"),
    ]


def test_long_unpunctuated_cues_are_cut_every_twenty_seconds():
    cues = [Segment(i * 5.0, i * 5.0 + 5.0, f"words {i}") for i in range(12)]
    merged = merge_short(cues)
    assert len(merged) == 3
    assert all(s.end - s.start <= 20.0 for s in merged)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("WEBVTT\n\nnot a cue at all\n", "vtt"),
        ("no header\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "vtt"),
        ('{"version": "1.0.0"}', "json"),
        ('{"segments": [{"body": "no times"}]}', "json"),
        ("1\nnonsense --> more\n", "srt"),
        ("<html><body><script>x()</script></body></html>", "html"),
        ("  \n", "text"),
    ],
)
def test_broken_or_empty_transcripts_raise_transcript_error(body, kind):
    with pytest.raises(TranscriptError):
        parse_transcript(body, kind)


def test_the_body_decides_the_format_over_a_wrong_media_type():
    assert detect_kind(VTT, "text/plain", "https://x/t.txt") == "vtt"
    assert detect_kind(SRT, "text/plain", "https://x/t.txt") == "srt"
    assert detect_kind(JSON, "text/plain", "https://x/t") == "json"
    assert detect_kind(HTML, "text/plain", "https://x/t") == "html"
    assert detect_kind(TEXT, "", "https://x/t.txt") == "text"
    assert detect_kind(MARKDOWN, "text/markdown", "https://x/t") == detect_kind(MARKDOWN, "", "https://x/t.md") == "text"


def test_timed_formats_are_tried_before_untimed_ones():
    kinds = ["text/plain", "text/html", "application/x-subrip", "text/vtt", "application/json", "audio/mpeg"]
    assert sorted(kinds, key=lambda t: preference(t, "https://x/t")) == [
        "application/json",
        "text/vtt",
        "application/x-subrip",
        "text/html",
        "text/plain",
        "audio/mpeg",
    ]


@pytest.mark.parametrize(
    ("body", "media_type", "path"),
    [
        (VTT, "text/vtt", "/t.vtt"),
        (SRT, "application/x-subrip", "/t.srt"),
        (JSON, "application/json", "/t.json"),
        (HTML, "text/html; charset=utf-8", "/t.html"),
        (TEXT, "text/plain; charset=utf-8", "/t.txt"),
        (MARKDOWN, "text/markdown; charset=utf-8", "/t.md"),
    ],
)
async def test_a_served_publisher_transcript_is_used_without_touching_the_audio(settings, loopback, body, media_type, path):
    audio_url = loopback.serve("/ep1.mp3", b"never fetched", "audio/mpeg")
    ref = TranscriptRef(url=loopback.serve(path, body.encode(), media_type), type=media_type.split(";")[0], language="en-US")
    event = episode_event(audio_url, duration=70.0, transcripts=[ref])
    async with SafeClient(allow_private=True) as client:
        transcript = await Transcriber(settings, engine=None, client=client).transcribe(to_source(event))  # type: ignore[arg-type]
    assert transcript.source == "publisher"
    assert transcript.model is None
    assert transcript.language == "en"
    assert transcript.text == EXPECTED_TEXT
    assert transcript.duration == 70.0
    assert loopback.hits.get("/ep1.mp3") is None


async def test_an_unusable_transcript_falls_through_to_the_next_one(settings, loopback):
    missing = TranscriptRef(url=loopback.url("/gone.json"), type="application/json")
    broken = TranscriptRef(url=loopback.serve("/broken.vtt", b"WEBVTT\n\ngarbage\n", "text/vtt"), type="text/vtt")
    good = TranscriptRef(url=loopback.serve("/t.srt", SRT.encode(), "application/x-subrip"), type="application/x-subrip")
    event = episode_event(loopback.url("/ep1.mp3"), transcripts=[good, broken, missing])
    async with SafeClient(allow_private=True) as client:
        transcript = await Transcriber(settings, engine=None, client=client).transcribe(to_source(event))  # type: ignore[arg-type]
    assert transcript.source == "publisher"
    assert transcript.text == EXPECTED_TEXT
    assert transcript.language == "en"  # the default language: the SRT declares none
    assert loopback.hits == {"/gone.json": 1, "/broken.vtt": 1, "/t.srt": 1}


async def test_an_oversized_transcript_is_refused(settings, loopback):
    settings.max_transcript_bytes = 100
    ref = TranscriptRef(url=loopback.serve("/t.vtt", VTT.encode(), "text/vtt"), type="text/vtt")
    link = to_source(episode_event("https://example.com/ep1.mp3", transcripts=[ref])).transcripts[0]
    async with SafeClient(allow_private=True) as client:
        with pytest.raises(TranscriptError, match="larger than 100"):
            await Transcriber(settings, engine=None, client=client).publisher_transcript(link, None)  # type: ignore[arg-type]
