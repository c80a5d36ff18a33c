"""Speech recognition with faster-whisper: load the model once, transcribe a file window by window.

`transcribe_path` is the one transcription path: the service, the CLI and the benchmark call it.
It never holds more than about `window_seconds` of decoded audio, however long the episode.

Batched decoding gives each ≤30 s clip no previous text to continue, and Whisper then sometimes
drops punctuation for a whole clip (tiny.en: 1 clip in 10 of the sample episodes ended on no
sentence mark, 12% of their words were in unpunctuated run-ons of over 35 words). A clip that comes
out so is decoded again with a well-punctuated `initial_prompt` (faster-whisper passes it to every
clip of a batch; `prefix` is ignored by the batched path), and the new text is kept when it is better
punctuated and has not lost words. Only those clips: a prompt on every clip punctuated everything too,
but made base skip a sentence of a sample episode (WER 0.026 → 0.063). The prompt is English, so it is
used only for English audio. Measured in bench/transcribe.py.

Whisper also writes text for clips that hold no speech ("you", "Thank you.", the prompt's last
sentence) and can loop on a phrase; `SpeechFilter` drops or repairs those clips from the scores
faster-whisper returns with each one, which its batched path does not act on itself.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment as WhisperSegment
from faster_whisper.transcribe import get_compression_ratio

from podbrief_transcribe.audio import SAMPLE_RATE, decode_blocks, probe
from podbrief_transcribe.chunking import MAX_CLIP, SPLIT_GAP, plan_clips, speech_regions
from podbrief_transcribe.models import BUNDLED_MODEL_NAME, PACKAGED, assemble, bundled_tiny_en
from podbrief_transcribe.settings import Settings
from podbrief_transcribe.transcript import Segment, Transcript, Word

log = logging.getLogger(__name__)

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
    initial_prompt: str | None = None
    speech_filter: SpeechFilter = field(default_factory=lambda: SpeechFilter())
    pipeline: BatchedInferencePipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = BatchedInferencePipeline(self.model)

    @property
    def multilingual(self) -> bool:
        """Whether the model knows more than English (and so detects the language)."""
        return bool(self.model.model.is_multilingual)


def resolve_model(model: str | None, data_dir: Path | None = None) -> tuple[str, str]:
    """(what to load, the name to report): the bundled tiny.en when unset, a packaged model (`base`,
    assembled into `data_dir` on first use), else a folder or a model name."""
    if not model or model == BUNDLED_MODEL_NAME:
        return str(bundled_tiny_en()), BUNDLED_MODEL_NAME
    if model in PACKAGED:
        return str(assemble(PACKAGED[model], data_dir if data_dir is not None else Settings().data_dir)), model
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
    source, name = resolve_model(model or settings.whisper_model, settings.data_dir)
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
        initial_prompt=settings.whisper_initial_prompt or None,
        speech_filter=SpeechFilter(
            no_speech_threshold=settings.whisper_no_speech_threshold,
            log_prob_threshold=settings.whisper_log_prob_threshold,
            compression_ratio_threshold=settings.whisper_compression_ratio_threshold,
        ),
    )


def transcribe_path(
    path: Path,
    engine: AsrEngine,
    *,
    progress: Progress | None = None,
    declared_duration: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    language: str | None = None,
) -> Transcript:
    """Transcribe the audio file at `path`; raises BadAudioError when it is not whole, decodable audio.

    `language` is what the episode is known to be in (e.g. its publisher transcript's language); the
    `whisper_language` setting overrides it, and a multilingual model detects it when neither says.
    An English-only model always transcribes as English.
    """
    info = probe(path, declared_duration=declared_duration, min_seconds=engine.min_audio_seconds)
    for note in info.notes:
        log.warning("audio note", extra={"note": note})
    run = _Run(engine, info.duration, progress, should_stop, language)
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
    if run.dropped or run.collapsed or run.repunctuated:
        extra = {"dropped": run.dropped, "collapsed": run.collapsed, "repunctuated": run.repunctuated, "model": engine.name}
        log.info("speech filter", extra=extra)
    return Transcript(
        language=run.language or "en",
        duration=round(run.offset, 3),
        segments=run.segments,
        source="asr",
        model=engine.name,
        notes=list(info.notes),
    )


class _Run:
    """One file's transcription: the segments so far, where the next window starts, the language."""

    def __init__(
        self,
        engine: AsrEngine,
        total: float,
        progress: Progress | None,
        should_stop: Callable[[], bool] | None,
        language: str | None = None,
    ):
        self.engine = engine
        self.total = total
        self.progress = progress
        self.should_stop = should_stop
        # "en-US" / "en_US" → "en", as Whisper names them; a code the model does not know ("english", "eng") is
        # dropped with a warning so that a multilingual model detects the language instead of failing the episode.
        wanted = (engine.language or language or "").replace("_", "-").split("-")[0].lower() or None
        if wanted and engine.multilingual and wanted not in engine.model.supported_languages:
            log.warning("unknown language code; detecting the language instead", extra={"language": wanted})
            wanted = None
        if not engine.multilingual and wanted not in (None, "en"):
            log.warning("an English-only model is transcribing audio said to be in another language", extra={"language": wanted})
        self.language = wanted if engine.multilingual else "en"
        self.segments: list[Segment] = []
        self.offset = 0.0
        self.dropped: dict[str, int] = {}
        self.collapsed = 0
        self.repunctuated = 0

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
        if self.language is None:
            self.language = self._detect_language(audio, clips)
        prompt = engine.initial_prompt if self.language == "en" else None
        decoded: dict[int, WhisperSegment] = {}
        unpunctuated: list[int] = []
        for index, piece in self._decode(audio, clips, None):
            self._check_stop(self.offset + piece.start)
            self._report(self.offset + piece.end)
            reason = engine.speech_filter.rejects(piece)
            if reason is not None:
                self._drop(reason, piece)
                continue
            decoded[index] = piece
            if prompt and needs_punctuation(piece.text):
                unpunctuated.append(index)
        prompted: set[int] = set()
        if unpunctuated:
            # Decoded again with the prompt: only these clips, so that a prompt cannot cost the others words.
            for index, piece in self._decode(audio, [clips[i] for i in unpunctuated], prompt):
                index = unpunctuated[index]
                if engine.speech_filter.rejects(piece) is None and better_punctuated(piece.text, decoded[index].text):
                    decoded[index] = piece
                    prompted.add(index)
            self.repunctuated += len(prompted)
        for index in sorted(decoded):
            self._keep(decoded[index], prompt if index in prompted else None)

    def _decode(
        self, audio: np.ndarray, clips: list[tuple[float, float]], prompt: str | None
    ) -> Iterator[tuple[int, WhisperSegment]]:
        """(index of its clip, what Whisper made of it) for each clip, as batches finish."""
        engine = self.engine
        pieces, info = engine.pipeline.transcribe(
            audio,
            language=self.language,
            batch_size=engine.batch_size,
            beam_size=engine.beam_size,
            word_timestamps=engine.word_timestamps,
            initial_prompt=prompt,
            clip_timestamps=[{"start": start, "end": end} for start, end in clips],
        )
        self.language = info.language
        starts = [start for start, _ in clips]
        for piece in pieces:  # one per clip: the batched path decodes a clip without timestamps
            yield min(range(len(starts)), key=lambda i: abs(starts[i] - piece.start)), piece

    def _keep(self, piece: WhisperSegment, prompt: str | None) -> None:
        """Add a decoded clip's text as segments, repeated phrases collapsed, unless its text is not speech."""
        words = [
            Word(self._at(w.start), self._at(w.end), w.word.strip(), round(float(w.probability), 3)) for w in piece.words or ()
        ]
        tokens = [w.text for w in words] if words else piece.text.split()
        kept = self.engine.speech_filter.without_repeats(tokens)
        if len(kept) < len(tokens):
            self.collapsed += 1
            tokens = [tokens[i] for i in kept]
            words = [words[i] for i in kept] if words else []
        reason = self.engine.speech_filter.rejects_text(" ".join(tokens), prompt)
        if reason is not None:
            self._drop(reason, piece)
        elif words:
            self.segments.extend(_sentences(tuple(w for w in words if w.text)))
        else:
            self.segments.append(Segment(self._at(piece.start), self._at(piece.end), " ".join(tokens)))

    def _drop(self, reason: str, piece: WhisperSegment) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        log.debug("clip dropped", extra={"reason": reason, "start": self._at(piece.start), "text": piece.text[:200]})

    def _detect_language(self, audio: np.ndarray, clips: list[tuple[float, float]]) -> str:
        """The language of the first 30 s of speech (a multilingual model, no language given)."""
        speech: list[np.ndarray] = []
        size = 0
        for start, end in clips:
            speech.append(audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)])
            size += len(speech[-1])
            if size >= MAX_CLIP * SAMPLE_RATE:
                break
        language, probability, _ = self.engine.model.detect_language(audio=np.concatenate(speech))
        log.info("language detected", extra={"language": language, "probability": round(float(probability), 2)})
        return str(language)

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


RUN_ON_WORDS = 35  # more words than this without , ; : . ! ? is a run-on (rank's splitter cuts those by rule)
_PAUSE_MARK = re.compile(r"[,;:.!?](?=\s|$)")
_ENDS_SENTENCE = re.compile(r"[.?!][\"')\]]*$")


def run_on_words(text: str) -> int:
    """How many words of `text` are in stretches of more than RUN_ON_WORDS words with no punctuation."""
    return sum(n for n in (len(run.split()) for run in _PAUSE_MARK.split(text)) if n > RUN_ON_WORDS)


def needs_punctuation(text: str) -> bool:
    """Whether a clip's text came out as a run-on, or does not end on a sentence mark."""
    text = text.strip()
    return bool(text) and (run_on_words(text) > 0 or not _ENDS_SENTENCE.search(text))


def better_punctuated(prompted: str, plain: str, least_words: float = 0.9) -> bool:
    """Whether the prompted decoding of a clip is the one to keep: better punctuated, and no words lost.

    A prompt can make Whisper skip speech (base skipped a 33-word sentence of a sample episode with it),
    so a decoding with fewer than `least_words` of the plain one's words is not taken.
    """
    if len(prompted.split()) < least_words * len(plain.split()):
        return False
    before, after = run_on_words(plain), run_on_words(prompted)
    return after < before or (
        after == before and bool(_ENDS_SENTENCE.search(prompted.strip())) and not _ENDS_SENTENCE.search(plain.strip())
    )


class ScoredClip(Protocol):
    """What faster-whisper says about a decoded clip (its `Segment`): the text and how sure it was."""

    start: float
    end: float
    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


_WORD = re.compile(r"[^\w']+")
# What Whisper writes for sounds (from the subtitles it was trained on): "Music", "(upbeat music)", "[APPLAUSE]".
# fmt: off
_SOUND_LABELS = frozenset((
    "music", "playing", "plays", "upbeat", "soft", "dramatic", "gentle", "instrumental", "applause", "clapping",
    "laughter", "laughing", "laughs", "cheering", "silence", "noise", "static", "inaudible", "blank_audio", "blank",
    "audio", "background",
))
# fmt: on
_SENTENCE_MARK = re.compile(r"(?<=[.?!])\s+")


@dataclass(frozen=True)
class SpeechFilter:
    """Which decoded clips are not speech, and which repeated phrases are a decoding loop.

    faster-whisper's sequential path skips a window when its no-speech probability is above 0.6 while
    its average log-probability is below -1.0, and retries one whose compression ratio is above 2.4
    (a loop); its batched path does neither. Here a clip is dropped when:
    - `no speech`: no_speech_prob > `no_speech_threshold` and either avg_logprob < `log_prob_threshold` or the
      text loops (compression ratio > `compression_ratio_threshold`): a loop is decoded confidently, so its
      log-probability does not vouch for it; or it has fewer than `min_words_per_second` words a second (Whisper
      writes " you" for 12 s of silence at a log-probability of -0.94);
    - `too few words`: under `min_words_per_second` words a second over `sparse_seconds` or more, whatever the
      no-speech probability (every clip of the real and sample speech had 2.0 words a second or more; Whisper's
      text for 12 s clips of noise, hum or babble had 0.08 to 0.8);
    - `sound label`: only a label such as "Music" or "(applause)";
    - `loop`: its text, with repeated phrases collapsed, still compresses better than `compression_ratio_threshold`;
    - `prompt echo`: every sentence of it is said in the initial prompt (Whisper repeats its prompt on
      silence and noise: "Let's get started!", "Today, we're talking about technology, science and the news.");
    - `no words`: nothing but punctuation (". . .").
    A phrase said `min_repeats` times in a row (twice, for phrases of `long_phrase` words or more) is kept once:
    "Thank you. Thank you. Thank you." → "Thank you." Measured on forced non-speech clips and on every clip of
    the real and sample speech: bench/transcribe.py, and the tests.
    """

    no_speech_threshold: float | None = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float | None = 2.4
    min_words_per_second: float = 0.5
    sparse_seconds: float = 4.0
    min_repeats: int = 3
    long_phrase: int = 4
    max_phrase: int = 20
    enabled: bool = True  # False: keep every clip as decoded (how the service ran before; the benchmark's baseline)

    def rejects(self, clip: ScoredClip) -> str | None:
        """Why the scores of `clip` say it is no speech, or None."""
        if not self.enabled:
            return None
        seconds = clip.end - clip.start
        sparse = len(_normalised(clip.text)) < self.min_words_per_second * seconds
        if sparse and seconds >= self.sparse_seconds:
            return "too few words"
        if self.no_speech_threshold is None or clip.no_speech_prob <= self.no_speech_threshold:
            return None
        unsure = clip.avg_logprob < self.log_prob_threshold
        looping = self.compression_ratio_threshold is not None and clip.compression_ratio > self.compression_ratio_threshold
        return "no speech" if unsure or looping or sparse else None

    def rejects_text(self, text: str, prompt: str | None = None) -> str | None:
        """Why the text of a clip (repeats already collapsed) is not speech, or None."""
        words = _normalised(text)
        if not words and (self.enabled or not text.strip()):
            return "no words"
        if not self.enabled:
            return None
        if set(words) <= _SOUND_LABELS:
            return "sound label"
        if self.compression_ratio_threshold is not None and get_compression_ratio(text) > self.compression_ratio_threshold:
            return "loop"
        if prompt:
            said = f" {' '.join(_normalised(prompt))} "
            if all(f" {' '.join(_normalised(s))} " in said for s in _SENTENCE_MARK.split(text.strip()) if _normalised(s)):
                return "prompt echo"
        return None

    def without_repeats(self, tokens: Sequence[str]) -> list[int]:
        """Indices of `tokens` to keep: of each run of one phrase said over and over, only its last saying."""
        if not self.enabled:
            return list(range(len(tokens)))
        keys = [" ".join(_normalised(t)) for t in tokens]
        keep: list[int] = []
        i = 0
        while i < len(keys):
            run = self._repeat_at(keys, i)
            if run is None:
                keep.append(i)
                i += 1
                continue
            size, times = run
            last = i + size * (times - 1)
            keep.extend(range(last, last + size))
            i = last + size
        return keep

    def _repeat_at(self, keys: list[str], i: int) -> tuple[int, int] | None:
        """(phrase length, times) of the shortest phrase starting at `i` said enough times in a row, or None."""
        for size in range(1, min(self.max_phrase, (len(keys) - i) // 2) + 1):
            phrase = keys[i : i + size]
            if not any(phrase):
                continue
            times = 1
            while keys[i + times * size : i + (times + 1) * size] == phrase:
                times += 1
            if times >= self.min_repeats or (times >= 2 and size >= self.long_phrase):
                return size, times
        return None


def _normalised(text: str) -> list[str]:
    """Lower-case words without punctuation: how repeats and prompt echoes are compared."""
    return [w for w in _WORD.split(text.lower()) if w and w != "'"]
