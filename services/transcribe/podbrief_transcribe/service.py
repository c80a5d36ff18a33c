"""The Kafka-facing handler: EpisodeDiscovered in, TranscriptReady out (through the outbox)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from podbrief_contracts import Chapter as WireChapter
from podbrief_contracts import EpisodeDiscovered, EpisodeRef, TranscriptReady, stable_id
from podbrief_contracts import Segment as WireSegment
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime
from sqlalchemy import insert, select

from podbrief_transcribe.episode import EpisodeSource, Transcriber, TranscriptLink
from podbrief_transcribe.tables import transcripts
from podbrief_transcribe.transcript import Segment, Transcript

log = logging.getLogger(__name__)

# Kafka refuses messages over about 1 MB; a long episode's segments are coarsened to fit.
MAX_EVENT_BYTES = 900_000


class TranscribeService:
    """Handles `episodes.discovered`: one transcript per episode, emitted once however often it is delivered."""

    def __init__(self, runtime: Runtime, store: Store, transcriber: Transcriber) -> None:
        self.runtime = runtime
        self.store = store
        self.transcriber = transcriber

    async def on_episode_discovered(self, event: EpisodeDiscovered) -> None:
        """Transcribe the episode and emit TranscriptReady, unless this event or episode was already handled."""
        if await asyncio.to_thread(self._already_done, event):
            log.info("already transcribed", extra={"episode_id": event.episode_id, "event_id": event.event_id})
            return
        transcript = await self.transcriber.transcribe(to_source(event))
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
        return True


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
