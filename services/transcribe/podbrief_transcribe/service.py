"""The Kafka-facing handler: EpisodeDiscovered in, TranscriptReady out (through the outbox)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from podbrief_contracts import Chapter as WireChapter
from podbrief_contracts import (
    EpisodeDiscovered,
    EpisodeRef,
    EpisodeState,
    EpisodeStatusChanged,
    TranscriptReady,
    stable_id,
)
from podbrief_contracts import Segment as WireSegment
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import MAX_EVENT_BYTES as KAFKA_MAX_EVENT_BYTES
from podbrief_runtime.kafka import Route, route_map
from podbrief_runtime.redact import redact_text
from podbrief_runtime.safe_http import FetchError
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime
from sqlalchemy import insert, select

from podbrief_transcribe.episode import EpisodeSource, Transcriber, TranscriptLink
from podbrief_transcribe.tables import transcripts
from podbrief_transcribe.topics import CONSUMES
from podbrief_transcribe.transcript import Segment, Transcript

log = logging.getLogger(__name__)

# Events are gzipped and may be 8 MB before compression (podbrief_runtime.kafka): a 3-hour episode keeps every
# segment's timing. Only a transcript beyond that (word-level cues of a very long episode) is coarsened to fit.
MAX_EVENT_BYTES = KAFKA_MAX_EVENT_BYTES - 64 * 1024

# Past its deadline a handler is hung, not slow: speech recognition runs at 25-60x real time on 2 CPU cores,
# so 3x the audio's length (plus the download's own deadline and 10 minutes) is far more than any real run needs.
DEADLINE_BASE_SECONDS = 600.0
DEADLINE_PER_AUDIO_SECOND = 3.0
# A feed that declares no duration gets the deadline of a 4-hour episode.
UNKNOWN_DURATION_SECONDS = 4 * 3600.0
# Feed durations are often wrong (metadata never vetoes content): a short declared length still gets the deadline
# of a 2-hour episode, so a long file mislabelled as short is not cancelled mid-transcription.
MIN_DEADLINE_AUDIO_SECONDS = 2 * 3600.0
# ...and a feed claiming days of audio cannot make a hung attempt wait for years.
MAX_DEADLINE_AUDIO_SECONDS = 12 * 3600.0


class TranscribeService:
    """Handles `episodes.discovered`: one transcript per episode, emitted once however often it is delivered."""

    def __init__(self, runtime: Runtime, store: Store, transcriber: Transcriber) -> None:
        self.runtime = runtime
        self.store = store
        self.transcriber = transcriber

    def routes(self, download_deadline: float) -> dict[str, Route]:
        """What the service consumes; a handler still running at `handler_deadline` is cancelled and retried."""
        return route_map(
            CONSUMES,
            Route(
                EpisodeDiscovered,
                self.on_episode_discovered,
                deadline=lambda event: handler_deadline(event, download_deadline),
                on_dead_letter=self.on_given_up,
            ),
        )

    async def on_given_up(self, event: EpisodeDiscovered, exc: BaseException) -> None:
        """The loop dead-lettered the episode after its last attempt: what the listener saw as retrying has failed."""
        if not isinstance(exc, PermanentError):  # a permanent error was reported as failed already
            reason = listener_reason(exc)
            await asyncio.to_thread(self._status, event, "failed", f"gave up after several attempts: {reason}")

    async def on_episode_discovered(self, event: EpisodeDiscovered) -> None:
        """Transcribe the episode and emit TranscriptReady, unless this event or episode was already handled."""
        if await asyncio.to_thread(self._already_done, event):
            log.info("already transcribed", extra={"episode_id": event.episode_id, "event_id": event.event_id})
            return
        try:
            transcript = await self.transcriber.transcribe(to_source(event))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The listener sees why (the consumer loop retries or dead-letters it for the operator as before).
            state: EpisodeState = "failed" if isinstance(exc, PermanentError) else "retrying"
            await asyncio.to_thread(self._status, event, state, listener_reason(exc))
            raise
        ready = transcript_ready(event, transcript)
        if await asyncio.to_thread(self._record, event, transcript, ready):
            self.runtime.emitted()
            log.info(
                "transcript ready",
                extra={"episode_id": event.episode_id, "source": transcript.source, "segments": len(ready.segments)},
            )

    def _already_done(self, event: EpisodeDiscovered) -> bool:
        """Checked before the work, so a redelivery does not transcribe a 3-hour episode again."""
        with self.store.reading() as session:
            if Store.handled(session, event.event_id):
                return True
            done = session.execute(select(transcripts.c.episode_id).where(transcripts.c.episode_id == event.episode_id)).first()
        return done is not None

    def _record(self, event: EpisodeDiscovered, transcript: Transcript, ready: TranscriptReady) -> bool:
        """Claim the event, record the transcript and emit its event in one transaction; False if done before."""
        with self.store.transaction() as session:
            if not Store.claim(session, event.event_id, event.topic):
                return False
            exists = session.execute(select(transcripts.c.episode_id).where(transcripts.c.episode_id == event.episode_id))
            if exists.first():
                return False
            session.execute(
                insert(transcripts).values(
                    episode_id=event.episode_id,
                    event_id=ready.event_id,
                    source=transcript.source,
                    model=transcript.model,
                    language=transcript.language,
                    duration=transcript.duration,
                    segments=len(ready.segments),
                    created_at=datetime.now(UTC),
                )
            )
            Store.emit(session, ready)
            Store.emit(session, episode_status(event, "transcribed", notes=transcript.notes))
        return True

    def _status(self, event: EpisodeDiscovered, state: EpisodeState, reason: str) -> None:
        with self.store.transaction() as session:
            Store.emit(session, episode_status(event, state, reason=reason))
        self.runtime.emitted()
        log.warning("episode %s", state, extra={"episode_id": event.episode_id, "reason": reason})


def episode_status(
    event: EpisodeDiscovered, state: EpisodeState, reason: str | None = None, notes: list[str] | None = None
) -> EpisodeStatusChanged:
    """A status event for the episode of `event` (each one new: a later attempt supersedes it by time)."""
    return EpisodeStatusChanged(
        event_id=str(uuid.uuid4()),
        episode_id=event.episode_id,
        feed_id=event.feed_id,
        episode_title=event.title,
        state=state,
        reason=reason,
        notes=notes or [],
    )


def listener_reason(exc: BaseException) -> str:
    """What the people following the show may read: the episode's own problem in words (bad audio, HTTP 404, a host
    that does not answer), URLs cut to their host; our internal errors (database, vector store, bugs) only by kind."""
    if isinstance(exc, PermanentError | FetchError):
        return redact_text(str(exc)) or type(exc).__name__
    return "a temporary problem on our side; it is retried"


def handler_deadline(event: EpisodeDiscovered, download_deadline: float) -> float:
    """Seconds one attempt at `event` may take: the download's deadline, 10 minutes, and 3x the declared audio length
    (at least that of a 2-hour episode: the feed's figure may be wrong)."""
    duration = event.duration_seconds if event.duration_seconds is not None else UNKNOWN_DURATION_SECONDS
    duration = min(max(duration, MIN_DEADLINE_AUDIO_SECONDS), MAX_DEADLINE_AUDIO_SECONDS)
    return download_deadline + DEADLINE_BASE_SECONDS + DEADLINE_PER_AUDIO_SECOND * duration


def to_source(event: EpisodeDiscovered) -> EpisodeSource:
    """The wire event as the domain's input."""
    return EpisodeSource(
        episode_id=event.episode_id,
        audio_url=event.enclosure_url,
        declared_duration=event.duration_seconds,
        transcripts=[TranscriptLink(t.url, t.type, t.language) for t in event.transcripts],
        chapters_url=event.chapters_url,
    )


def transcript_ready(event: EpisodeDiscovered, transcript: Transcript) -> TranscriptReady:
    """The TranscriptReady event for `transcript`; its id derives from the episode, so repeats are recognisable."""
    segments = list(transcript.segments)
    while True:
        ready = TranscriptReady(
            event_id=stable_id("transcript-ready", event.episode_id),
            episode=EpisodeRef(
                episode_id=event.episode_id,
                feed_id=event.feed_id,
                podcast_title=event.podcast_title,
                podcast_image=event.podcast_image,
                episode_title=event.title,
                episode_link=event.link,
                enclosure_url=event.enclosure_url,
                published_at=event.published_at,
                people=event.people,
            ),
            language=transcript.language,
            duration=transcript.duration,
            segments=[WireSegment(start=s.start, end=s.end, text=s.text, speaker=s.speaker) for s in segments],
            source=transcript.source,
            model=transcript.model,
            chapters=[WireChapter(start=c.start, end=c.end, title=c.title) for c in transcript.chapters],
        )
        if len(segments) < 2 or len(ready.model_dump_json()) <= MAX_EVENT_BYTES:
            return ready
        fewer = _pairs_joined(segments)
        # Turns too short to pair up (a quick back-and-forth) give way, so that every round shrinks the event.
        segments = fewer if len(fewer) <= len(segments) * 3 // 4 else _pairs_joined(segments, across_turns=True)


def _pairs_joined(segments: list[Segment], across_turns: bool = False) -> list[Segment]:
    """Fewer segments: neighbours joined in pairs, within one speaker's turn unless `across_turns` (losing the speaker)."""
    joined: list[Segment] = []
    i = 0
    while i < len(segments):
        first, second = segments[i], segments[i + 1] if i + 1 < len(segments) else None
        if second is None or not (across_turns or second.speaker == first.speaker):
            joined.append(first)
            i += 1
            continue
        speaker = first.speaker if second.speaker == first.speaker else None
        joined.append(Segment(first.start, second.end, f"{first.text} {second.text}", speaker=speaker))
        i += 2
    return joined
