"""The handler: one TranscriptReady per episode, derived ids, claim and emit in one transaction."""

from __future__ import annotations

import json

import pytest
from podbrief_contracts import EpisodeStatusChanged, Person, TranscriptReady, stable_id
from podbrief_runtime.safe_http import FetchError
from podbrief_runtime.store import Store, outbox
from podbrief_transcribe import service as service_module
from podbrief_transcribe.exceptions import BadAudioError
from podbrief_transcribe.service import TranscribeService, transcript_ready
from podbrief_transcribe.storage import open_store
from podbrief_transcribe.transcript import Chapter, Segment, Transcript
from sqlalchemy import select
from transcribe_helpers import episode_event


class FakeTranscriber:
    """Stands in for `Transcriber` (tested for real in the audio, publisher and broker tests)."""

    def __init__(self, result: Transcript | Exception) -> None:
        self.result = result
        self.calls = 0

    async def transcribe(self, episode):
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class FakeRuntime:
    def __init__(self) -> None:
        self.wakes = 0

    def emitted(self) -> None:
        self.wakes += 1


TRANSCRIPT = Transcript(
    language="en", duration=121.6, segments=[Segment(0.0, 22.3, "Hey everyone.")], source="asr", model="tiny.en"
)


@pytest.fixture
def store(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 'transcribe.sqlite3'}")


def _outbox(store: Store) -> list[TranscriptReady]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == TranscriptReady.topic))
        return [TranscriptReady.model_validate_json(p) for (p,) in rows]


def _statuses(store: Store) -> list[EpisodeStatusChanged]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == EpisodeStatusChanged.topic).order_by(outbox.c.id))
        return [EpisodeStatusChanged.model_validate_json(p) for (p,) in rows]


async def test_an_episode_becomes_one_transcript_ready_event_with_a_derived_id(store):
    runtime, transcriber = FakeRuntime(), FakeTranscriber(TRANSCRIPT)
    service = TranscribeService(runtime, store, transcriber)  # type: ignore[arg-type]
    people = [Person(name="Chris Benson", href="https://example.com/chris"), Person(name="Daniel Whitenack", role="guest")]
    event = episode_event("https://example.com/ep1.mp3").model_copy(update={"people": people})
    await service.on_episode_discovered(event)
    [ready] = _outbox(store)
    assert ready.event_id == stable_id("transcript-ready", event.episode_id)
    assert ready.key() == event.episode_id
    assert ready.episode.episode_title == event.title and ready.episode.enclosure_url == event.enclosure_url
    assert ready.episode.people == people  # rank names speakers from them
    assert [s.text for s in ready.segments] == ["Hey everyone."]
    assert (ready.source, ready.model, ready.language, ready.duration) == ("asr", "tiny.en", "en", 121.6)
    assert runtime.wakes == 1


async def test_a_redelivered_event_is_not_transcribed_again(store):
    runtime, transcriber = FakeRuntime(), FakeTranscriber(TRANSCRIPT)
    service = TranscribeService(runtime, store, transcriber)  # type: ignore[arg-type]
    event = episode_event("https://example.com/ep1.mp3")
    await service.on_episode_discovered(event)
    await service.on_episode_discovered(event)
    assert transcriber.calls == 1
    assert len(_outbox(store)) == 1


async def test_the_same_episode_under_another_event_id_is_emitted_once(store):
    runtime, transcriber = FakeRuntime(), FakeTranscriber(TRANSCRIPT)
    service = TranscribeService(runtime, store, transcriber)  # type: ignore[arg-type]
    event = episode_event("https://example.com/ep1.mp3")
    await service.on_episode_discovered(event)
    await service.on_episode_discovered(event.model_copy(update={"event_id": "rediscovered"}))
    assert len(_outbox(store)) == 1 and transcriber.calls == 1


async def test_two_deliveries_racing_each_other_emit_once(store):
    """Both finish the work; the second one's claim fails inside the emitting transaction."""
    runtime = FakeRuntime()
    first = TranscribeService(runtime, store, FakeTranscriber(TRANSCRIPT))  # type: ignore[arg-type]
    event = episode_event("https://example.com/ep1.mp3")
    ready = transcript_ready(event, TRANSCRIPT)
    assert first._record(event, TRANSCRIPT, ready) is True
    assert first._record(event, TRANSCRIPT, ready) is False
    assert first._record(event.model_copy(update={"event_id": "other"}), TRANSCRIPT, ready) is False
    assert len(_outbox(store)) == 1


async def test_a_permanent_failure_tells_the_listener_why_and_a_replay_can_try_again(store):
    runtime, transcriber = FakeRuntime(), FakeTranscriber(BadAudioError("the file is an HTML page, not audio"))
    service = TranscribeService(runtime, store, transcriber)  # type: ignore[arg-type]
    event = episode_event("https://example.com/ep1.mp3")
    with pytest.raises(BadAudioError):  # still dead-lettered for the operator
        await service.on_episode_discovered(event)
    assert _outbox(store) == []
    [failed] = _statuses(store)
    assert (failed.state, failed.reason, failed.episode_id) == ("failed", "the file is an HTML page, not audio", event.episode_id)
    assert runtime.wakes == 1
    transcriber.result = TRANSCRIPT
    await service.on_episode_discovered(event)
    assert len(_outbox(store)) == 1
    assert [s.state for s in _statuses(store)] == ["failed", "transcribed"]


async def test_a_passing_failure_is_shown_as_retrying_without_the_urls_secret(store):
    error = FetchError("cannot fetch https://cdn.example.com/ep1.mp3?token=SECRET: ConnectError")
    runtime, transcriber = FakeRuntime(), FakeTranscriber(error)
    service = TranscribeService(runtime, store, transcriber)  # type: ignore[arg-type]
    with pytest.raises(FetchError):  # the consumer loop retries it
        await service.on_episode_discovered(episode_event("https://example.com/ep1.mp3"))
    [retrying] = _statuses(store)
    assert retrying.state == "retrying" and "cdn.example.com" in retrying.reason and "SECRET" not in retrying.reason


@pytest.fixture
def small_events(monkeypatch):
    """A 900 KB event limit, so coarsening is exercised on a transcript a test can build quickly."""
    monkeypatch.setattr(service_module, "MAX_EVENT_BYTES", 900_000)
    return 900_000


def test_a_three_hour_episode_with_word_level_cues_keeps_every_segment_and_its_timing():
    # 3 hours at 160 words a minute, a publisher's word-level cues: one segment per word.
    segments = [Segment(i * 0.375, i * 0.375 + 0.35, f"word{i}") for i in range(28_800)]
    ready = transcript_ready(episode_event("https://example.com/long.mp3"), Transcript("en", 10_800.0, segments))
    assert len(ready.model_dump_json()) > 900_000  # more than Kafka's default limit: it used to be coarsened
    assert [(s.start, s.end, s.text) for s in ready.segments] == [(s.start, s.end, s.text) for s in segments]


def test_a_transcript_too_big_for_one_kafka_message_is_coarsened_to_fit(small_events):
    """Word-level publisher cues of a long episode: the per-segment overhead, not the text, is what overflows."""
    segments = [Segment(i * 0.4, i * 0.4 + 0.4, f"w{i}") for i in range(25_000)]
    transcript = Transcript(language="en", duration=10_000.0, segments=segments)
    ready = transcript_ready(episode_event("https://example.com/long.mp3"), transcript)
    assert len(ready.model_dump_json()) <= small_events
    assert len(ready.segments) < len(segments)
    assert ready.segments[0].start == 0.0 and ready.segments[-1].end == pytest.approx(10_000.0)
    assert json.loads(ready.model_dump_json())["segments"][0]["text"].startswith("w0 w1")
    assert " ".join(s.text for s in ready.segments) == " ".join(s.text for s in segments)


def test_speakers_and_chapters_reach_the_transcript_ready_event():
    transcript = Transcript(
        language="en",
        duration=60.0,
        segments=[
            Segment(0.0, 4.0, "Welcome to the show.", speaker="Ann"),
            Segment(4.0, 9.0, "Thanks for having me.", speaker="Bob"),
        ],
        source="publisher",
        chapters=[Chapter(0.0, 30.0, "Intro"), Chapter(30.0, None, "Interview")],
    )
    ready = transcript_ready(episode_event("https://example.com/ep1.mp3"), transcript)
    assert [(s.speaker, s.text) for s in ready.segments] == [("Ann", "Welcome to the show."), ("Bob", "Thanks for having me.")]
    assert [(c.start, c.end, c.title) for c in ready.chapters] == [(0.0, 30.0, "Intro"), (30.0, None, "Interview")]
    assert ready.schema_version == 2


def test_coarsening_a_too_big_transcript_joins_segments_within_a_speakers_turn(small_events):
    def speaker(i: int) -> str:
        return "Ann" if i // 8 % 2 == 0 else "Bob"

    segments = [Segment(i * 0.4, i * 0.4 + 0.4, f"w{i}", speaker=speaker(i)) for i in range(25_000)]
    ready = transcript_ready(episode_event("https://example.com/long.mp3"), Transcript("en", 10_000.0, segments))
    assert len(ready.model_dump_json()) <= small_events
    for segment in ready.segments:
        assert {speaker(int(word[1:])) for word in segment.text.split()} == {segment.speaker}


def test_a_quick_back_and_forth_too_big_for_one_message_is_still_coarsened_to_fit(small_events):
    segments = [Segment(i * 0.4, i * 0.4 + 0.4, f"w{i}", speaker=("Ann", "Bob")[i % 2]) for i in range(25_000)]
    ready = transcript_ready(episode_event("https://example.com/long.mp3"), Transcript("en", 10_000.0, segments))
    assert len(ready.model_dump_json()) <= small_events
    assert " ".join(s.text for s in ready.segments) == " ".join(s.text for s in segments)
    assert {s.speaker for s in ready.segments} == {None}  # each joined segment spans both speakers


async def test_when_the_loop_gives_up_on_a_retried_episode_the_listener_sees_it_failed(store):
    service = TranscribeService(FakeRuntime(), store, FakeTranscriber(TRANSCRIPT))  # type: ignore[arg-type]
    event = episode_event("https://example.com/ep1.mp3")
    route = service.routes(900.0)[event.topic]
    await route.on_dead_letter(event, FetchError("HTTP 503 fetching the audio https://cdn.example.com/…"))
    await route.on_dead_letter(event, BadAudioError("the file is an HTML page, not audio"))  # told already: no second
    [failed] = _statuses(store)
    assert failed.state == "failed" and failed.reason == "gave up after several attempts: HTTP 503 fetching the audio https://cdn.example.com/…"


async def test_an_internal_error_is_shown_to_listeners_only_by_its_kind(store):
    error = RuntimeError("OperationalError: could not connect to server at db.internal:5432 as user podbrief")
    service = TranscribeService(FakeRuntime(), store, FakeTranscriber(error))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await service.on_episode_discovered(episode_event("https://example.com/ep1.mp3"))
    [retrying] = _statuses(store)
    assert retrying.reason == "a temporary problem on our side; it is retried"
