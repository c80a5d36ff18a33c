"""Schema versions: the events that gained fields are written as version 2, the others still as 1 (so consumers not yet
upgraded keep reading them), version 1 events (before speakers and chapters) are still read,
and any other version is refused the way the consumer loop dead-letters at once (a PermanentError from `parse`)."""

from __future__ import annotations

import json

import pytest
from podbrief_contracts import ALL_EVENTS, SCHEMA_VERSION, SCHEMA_VERSIONS, FeedSubscribed, TranscriptReady
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import parse

# A TranscriptReady exactly as version 1 producers wrote it: no speakers, no chapters.
VERSION_1_TRANSCRIPT = {
    "event_id": "0b6c8a52-1d3e-5f0a-9b7c-2e4d6f8a1c3e",
    "schema_version": 1,
    "occurred_at": "2026-11-24T07:30:00Z",
    "episode": {
        "episode_id": "3a7f",
        "feed_id": "9d1e",
        "podcast_title": "The Signal Hour",
        "podcast_image": None,
        "episode_title": "Open weights and leaks",
        "episode_link": None,
        "enclosure_url": "https://example.com/ep1.mp3",
        "published_at": None,
    },
    "language": "en",
    "duration": 125.3,
    "segments": [{"start": 12.4, "end": 17.9, "text": "Leaked source code can be copied in minutes."}],
    "source": "asr",
    "model": "tiny.en",
}


def test_only_the_events_that_gained_fields_are_written_as_version_2():
    assert SCHEMA_VERSION == 2
    assert SCHEMA_VERSIONS == (1, 2)
    event = FeedSubscribed(event_id="e1", feed_id="f1", feed_url="https://example.com/feed.xml")
    assert json.loads(event.model_dump_json())["schema_version"] == 1
    transcript = TranscriptReady.model_validate({k: v for k, v in VERSION_1_TRANSCRIPT.items() if k != "schema_version"})
    assert json.loads(transcript.model_dump_json())["schema_version"] == 2


def test_a_version_1_transcript_is_still_accepted_without_speakers_or_chapters():
    event = parse(TranscriptReady, json.dumps(VERSION_1_TRANSCRIPT).encode())
    assert isinstance(event, TranscriptReady)
    assert event.schema_version == 1
    assert [(s.text, s.speaker) for s in event.segments] == [("Leaked source code can be copied in minutes.", None)]
    assert event.chapters == []


def test_a_version_2_transcript_carries_speakers_and_chapters():
    payload = {
        **VERSION_1_TRANSCRIPT,
        "schema_version": 2,
        "segments": [{"start": 0.0, "end": 4.0, "text": "Welcome back.", "speaker": "Adam Curry"}],
        "chapters": [{"start": 0.0, "end": 95.5, "title": "Intro"}, {"start": 95.5, "title": "Interview"}],
    }
    event = parse(TranscriptReady, json.dumps(payload).encode())
    assert isinstance(event, TranscriptReady)
    assert event.segments[0].speaker == "Adam Curry"
    assert [(c.start, c.end, c.title) for c in event.chapters] == [(0.0, 95.5, "Intro"), (95.5, None, "Interview")]


@pytest.mark.parametrize("version", [0, 3, 99, "2", 2.0, True, None])
def test_an_unknown_schema_version_is_refused_for_the_dead_letter_topic(version):
    payload = {**VERSION_1_TRANSCRIPT, "schema_version": version}
    with pytest.raises(PermanentError, match="unknown schema_version"):
        parse(TranscriptReady, json.dumps(payload).encode())


def test_a_message_without_a_schema_version_is_refused():
    payload = {k: v for k, v in VERSION_1_TRANSCRIPT.items() if k != "schema_version"}
    with pytest.raises(PermanentError, match="unknown schema_version None"):
        parse(TranscriptReady, json.dumps(payload).encode())


@pytest.mark.parametrize("model", ALL_EVENTS)
def test_every_event_declares_both_accepted_versions_in_its_schema(model):
    assert model.model_json_schema()["properties"]["schema_version"]["enum"] == [1, 2]
