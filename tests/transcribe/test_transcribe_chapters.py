"""Chapters (`podcast:chapters`): parsed from the Podcasting 2.0 JSON chapters shape, fetched over real loopback HTTP,
carried on TranscriptReady; an unusable chapters file never fails the episode."""

from __future__ import annotations

import json

import pytest
from podbrief_contracts import Chapter as WireChapter
from podbrief_contracts import TranscriptRef
from podbrief_runtime.safe_http import SafeClient
from podbrief_transcribe.chapters import parse_chapters
from podbrief_transcribe.episode import Transcriber
from podbrief_transcribe.exceptions import ChaptersError
from podbrief_transcribe.service import to_source, transcript_ready
from podbrief_transcribe.transcript import Chapter
from transcribe_helpers import episode_event

# The shape of the Podcasting 2.0 JSON chapters spec (version 1.2.0): only startTime is required; toc, img, url optional.
CHAPTERS = {
    "version": "1.2.0",
    "author": "The Signal Hour",
    "chapters": [
        {"startTime": 0, "title": "Intro"},
        {"startTime": 95.5, "title": "Sponsor: Buzzsprout", "toc": False},
        {"startTime": 130, "endTime": 1500, "title": "Interview", "img": "https://example.com/ch3.jpg"},
        {"startTime": 1560, "title": "Listener mail", "url": "https://example.com/mail"},
    ],
}
EXPECTED = [
    Chapter(0.0, 95.5, "Intro"),
    Chapter(95.5, 130.0, "Sponsor: Buzzsprout"),
    Chapter(130.0, 1500.0, "Interview"),
    Chapter(1560.0, None, "Listener mail"),
]
VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:03.000\n<v Kevin>Hey everyone, and welcome back.\n"


def test_chapters_end_at_their_own_end_time_else_where_the_next_one_starts():
    assert parse_chapters(json.dumps(CHAPTERS)) == EXPECTED


def test_chapters_are_put_in_time_order_and_entries_without_a_start_are_skipped():
    shuffled = [CHAPTERS["chapters"][3], {"title": "no start"}, "junk", *CHAPTERS["chapters"][:3], {"startTime": "soon"}]
    assert parse_chapters(json.dumps({"version": "1.2.0", "chapters": shuffled})) == EXPECTED


@pytest.mark.parametrize("body", ["", "<html>not json</html>", '{"version": "1.2.0"}', '{"chapters": {"startTime": 0}}', "[1]"])
def test_a_file_that_is_not_json_chapters_raises_chapters_error(body):
    with pytest.raises(ChaptersError):
        parse_chapters(body)


async def test_the_chapters_file_is_fetched_and_carried_on_transcript_ready(settings, loopback):
    chapters_url = loopback.serve("/ep1/chapters.json", json.dumps(CHAPTERS).encode(), "application/json+chapters")
    ref = TranscriptRef(url=loopback.serve("/ep1.vtt", VTT.encode(), "text/vtt"), type="text/vtt")
    event = episode_event(loopback.url("/ep1.mp3"), duration=1800.0, transcripts=[ref], chapters_url=chapters_url)
    async with SafeClient(allow_private=True) as client:
        transcript = await Transcriber(settings, engine=None, client=client).transcribe(to_source(event))  # type: ignore[arg-type]
    assert transcript.chapters == EXPECTED
    ready = transcript_ready(event, transcript)
    assert ready.chapters == [WireChapter(start=c.start, end=c.end, title=c.title) for c in EXPECTED]
    assert [(s.speaker, s.text) for s in ready.segments] == [("Kevin", "Hey everyone, and welcome back.")]
    assert loopback.hits == {"/ep1.vtt": 1, "/ep1/chapters.json": 1}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/gone.json", None, 404),
        ("/error.json", b"{}", 500),
        ("/page.json", b"<!DOCTYPE html><html><body>Chapters</body></html>", 200),
        ("/huge.json", json.dumps({"chapters": [{"startTime": i, "title": "x" * 100} for i in range(200)]}).encode(), 200),
        ("/refused", None, None),
    ],
)
async def test_an_unusable_chapters_file_leaves_the_episode_without_chapters(settings, loopback, path, body, status):
    settings.max_chapters_bytes = 10_000
    if body is not None:
        loopback.serve(path, body, "application/json", status=status)
    ref = TranscriptRef(url=loopback.serve("/ep1.vtt", VTT.encode(), "text/vtt"), type="text/vtt")
    chapters_url = None if status is None else loopback.url(path)
    event = episode_event(loopback.url("/ep1.mp3"), transcripts=[ref], chapters_url=chapters_url)
    if status is None:
        # The event contract refuses a file: URL already; set past it, transcribe must refuse it on its own too.
        event = event.model_copy(update={"chapters_url": "file:///etc/passwd"})
    async with SafeClient(allow_private=True) as client:
        transcript = await Transcriber(settings, engine=None, client=client).transcribe(to_source(event))  # type: ignore[arg-type]
    assert transcript.chapters == []
    assert transcript.text == "Hey everyone, and welcome back."
    assert transcript_ready(event, transcript).chapters == []
