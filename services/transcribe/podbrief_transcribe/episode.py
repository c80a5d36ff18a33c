"""Turning an episode into a transcript: the publisher's own transcript when it has a usable one, else speech recognition.

Knows nothing of Kafka; the service hands it an `EpisodeSource` and gets a `Transcript` back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace

from podbrief_runtime.safe_http import SafeClient

from podbrief_transcribe.asr import AsrEngine, transcribe_path
from podbrief_transcribe.chapters import fetch_chapters
from podbrief_transcribe.download import download_audio, fetch_text
from podbrief_transcribe.exceptions import ChaptersError, TranscriptError
from podbrief_transcribe.publisher import detect_kind, parse_transcript, preference
from podbrief_transcribe.settings import Settings
from podbrief_transcribe.transcript import Chapter, Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TranscriptLink:
    """A publisher transcript: where it is, its declared media type and language."""

    url: str
    media_type: str
    language: str | None = None


@dataclass(frozen=True)
class EpisodeSource:
    """What transcribing an episode needs to know about it."""

    episode_id: str
    audio_url: str
    declared_duration: float | None = None
    transcripts: list[TranscriptLink] = field(default_factory=list)
    chapters_url: str | None = None


class ProgressLog:
    """Logs transcription progress at every `step` percent (and at most every `every` seconds)."""

    def __init__(self, episode_id: str, step: int = 10, every: float = 5.0) -> None:
        self.episode_id = episode_id
        self.step = step
        self.every = every
        self._next = step
        self._last = 0.0

    def __call__(self, done: float, total: float) -> None:
        percent = int(100 * done / total) if total else 100
        now = time.monotonic()
        if percent < self._next or (percent < 100 and now - self._last < self.every):
            return
        self._next = (percent // self.step + 1) * self.step
        self._last = now
        log.info(
            "transcribing",
            extra={"episode_id": self.episode_id, "percent": percent, "done_s": round(done), "total_s": round(total)},
        )


class Transcriber:
    """Makes transcripts of episodes; one per process, sharing the loaded model."""

    def __init__(self, settings: Settings, engine: AsrEngine, client: SafeClient) -> None:
        self.settings = settings
        self.engine = engine
        self.client = client

    async def transcribe(self, episode: EpisodeSource) -> Transcript:
        """The episode's text and chapters: the publisher's transcript if one is usable, else speech recognition."""
        transcript = await self.text(episode)
        return replace(transcript, chapters=await self.chapters(episode))

    async def text(self, episode: EpisodeSource) -> Transcript:
        """The publisher's transcript if one is usable, else the audio through speech recognition."""
        if self.settings.use_publisher_transcripts:
            for link in sorted(episode.transcripts, key=lambda t: preference(t.media_type, t.url)):
                try:
                    return await self.publisher_transcript(link, episode.declared_duration)
                except TranscriptError as exc:
                    log.warning("publisher transcript unusable", extra={"episode_id": episode.episode_id, "error": str(exc)})
        return await self.recognise(episode)

    async def chapters(self, episode: EpisodeSource) -> list[Chapter]:
        """The episode's `podcast:chapters`; none when it has no file or the file is unusable (logged, never fatal)."""
        if not episode.chapters_url:
            return []
        try:
            return await fetch_chapters(self.client, episode.chapters_url, max_bytes=self.settings.max_chapters_bytes)
        except ChaptersError as exc:
            log.warning("chapters unusable", extra={"episode_id": episode.episode_id, "error": str(exc)})
            return []

    async def publisher_transcript(self, link: TranscriptLink, declared_duration: float | None) -> Transcript:
        """Fetch and parse one publisher transcript; raises TranscriptError."""
        text, served_type = await fetch_text(self.client, link.url, max_bytes=self.settings.max_transcript_bytes)
        kind = detect_kind(text, served_type or link.media_type, link.url)
        segments = await asyncio.to_thread(parse_transcript, text, kind, declared_duration)
        duration = max(declared_duration or 0.0, segments[-1].end)
        language = (link.language or self.settings.default_language).split("-")[0].lower()
        return Transcript(language=language, duration=duration, segments=segments, source="publisher", model=None)

    async def recognise(self, episode: EpisodeSource) -> Transcript:
        """Download the audio into the cache and transcribe it in a worker thread."""
        self.settings.audio_dir.mkdir(parents=True, exist_ok=True)
        # Unique per attempt: replicas may share the cache, and a redelivery may overlap a slow first attempt.
        path = self.settings.audio_dir / f"{episode.episode_id}.{uuid.uuid4().hex[:8]}.audio"
        stop = threading.Event()
        try:
            size = await download_audio(
                self.client,
                episode.audio_url,
                path,
                max_bytes=self.settings.max_audio_bytes,
                deadline=self.settings.download_timeout_seconds,
            )
            log.info("audio downloaded", extra={"episode_id": episode.episode_id, "bytes": size})
            return await asyncio.to_thread(
                transcribe_path,
                path,
                self.engine,
                progress=ProgressLog(episode.episode_id),
                declared_duration=episode.declared_duration,
                should_stop=stop.is_set,
                # The only language an episode event carries is its publisher transcripts'; a multilingual model
                # detects it otherwise.
                language=next((t.language for t in episode.transcripts if t.language), None),
            )
        except asyncio.CancelledError:
            stop.set()  # the worker thread cannot be killed; ask it to stop at its next segment
            raise
        finally:
            if not self.settings.keep_audio:
                path.unlink(missing_ok=True)
