"""The transcribe handler's deadline: long enough for the episode's audio, short enough to catch a hung one."""

from __future__ import annotations

from podbrief_contracts import EpisodeDiscovered
from podbrief_transcribe.service import TranscribeService, handler_deadline
from transcribe_helpers import episode_event

DOWNLOAD = 900.0


def test_the_deadline_grows_with_the_declared_audio_length_from_that_of_a_two_hour_episode():
    short = handler_deadline(episode_event("https://example.com/a.mp3", duration=60.0), DOWNLOAD)
    three_hours = handler_deadline(episode_event("https://example.com/b.mp3", duration=3 * 3600.0), DOWNLOAD)
    # A feed that says 60 s may be wrong about a 2-hour file: metadata never cuts a transcription short.
    assert short == DOWNLOAD + 600 + 3 * 2 * 3600
    assert three_hours == DOWNLOAD + 600 + 3 * 3 * 3600


def test_an_episode_of_unknown_length_gets_the_deadline_of_a_four_hour_one():
    unknown = handler_deadline(episode_event("https://example.com/a.mp3"), DOWNLOAD)
    assert unknown == handler_deadline(episode_event("https://example.com/b.mp3", duration=4 * 3600.0), DOWNLOAD)


def test_the_service_routes_its_topic_with_that_deadline():
    service = TranscribeService(None, None, None)  # type: ignore[arg-type]
    [(topic, route)] = service.routes(DOWNLOAD).items()
    event = episode_event("https://example.com/a.mp3", duration=1800.0)
    assert topic == EpisodeDiscovered.topic and route.model is EpisodeDiscovered
    assert route.deadline_for(event, default=1.0) == handler_deadline(event, DOWNLOAD)


def test_a_feed_claiming_days_of_audio_cannot_stretch_the_deadline_past_twelve_hours_of_audio():
    huge = handler_deadline(episode_event("https://example.com/a.mp3", duration=10_000 * 3600.0), DOWNLOAD)
    assert huge == DOWNLOAD + 600 + 3 * 12 * 3600
