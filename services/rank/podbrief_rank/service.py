"""Rank's handler: TranscriptReady in, one InsightCreated per new insight out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from podbrief_contracts import EpisodeStatusChanged, InsightCreated, RelatedInsight, TranscriptReady, stable_id
from podbrief_runtime.kafka import Route, route_map
from podbrief_runtime.store import Store, inbox
from sqlalchemy import select

from podbrief_rank import repository
from podbrief_rank.dedup_lock import DedupLock
from podbrief_rank.extract import Extracted
from podbrief_rank.pipeline import EpisodeInfo, RankedInsight, Ranker, insight_id_for
from podbrief_rank.segmentation import TimedText
from podbrief_rank.speakers import speaker_name
from podbrief_rank.structure import Chapter
from podbrief_rank.topics import CONSUMES

log = logging.getLogger(__name__)


class RankService:
    """Turns transcripts into insights; `emitted` is called after outbox rows are committed."""

    def __init__(
        self,
        store: Store,
        ranker: Ranker,
        embedding_model: str,
        emitted: Callable[[], None] = lambda: None,
        collection: str = "insights",
    ) -> None:
        self.store = store
        self.ranker = ranker
        self.embedding_model = embedding_model
        self.emitted = emitted
        # Dedup must see the points of the episode handled just before: place, store and commit one at a time,
        # in this process (asyncio) and across rank processes sharing the vector collection (DedupLock).
        self._placing = asyncio.Lock()
        self._across = DedupLock(store.engine, collection)

    def routes(self) -> dict[str, Route]:
        """The topics rank consumes (`topics.CONSUMES`) and their handlers."""
        return route_map(CONSUMES, Route(TranscriptReady, self.on_transcript_ready))

    async def on_transcript_ready(self, event: TranscriptReady) -> None:
        """Extract, dedup and emit the episode's insights; a redelivered event has no effect."""
        if await asyncio.to_thread(self._handled, event.event_id):
            return
        segments = [TimedText(s.start, s.end, s.text, s.speaker) for s in event.segments]
        chapters = [Chapter(c.start, c.end, c.title) for c in event.chapters]
        extracted = await asyncio.to_thread(
            self.ranker.extract, segments, event.duration, event.language, chapters, event.episode.podcast_title
        )
        async with self._placing:
            emitted = await asyncio.to_thread(self._place_and_commit_alone, event, extracted)
        log.info("insights", extra={"episode_id": event.episode.episode_id, "extracted": len(extracted), "events": emitted})
        if emitted:
            self.emitted()

    def _handled(self, event_id: str) -> bool:
        with self.store.engine.connect() as conn:
            return conn.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first() is not None

    def _place_and_commit_alone(self, event: TranscriptReady, extracted: list[Extracted]) -> int:
        with self._across.held():
            return self._place_and_commit(event, extracted)

    def _place_and_commit(self, event: TranscriptReady, extracted: list[Extracted]) -> int:
        episode = _episode_info(event)
        ids = [insight_id_for(episode.episode_id, x) for x in extracted]
        with self.store.transaction() as session:
            known = repository.existing_insight_ids(session, ids)
        # Insights of this episode recorded by an earlier event keep their cluster; only new ones are placed.
        fresh = [x for x, i in zip(extracted, ids, strict=True) if i not in known]
        # Vectors go in before the commit: a crash in between re-runs onto the same point ids.
        ranked = self.ranker.place_and_store(episode, fresh)
        with self.store.transaction() as session:
            if not Store.claim(session, event.event_id, event.topic):
                return 0
            for item in ranked:
                is_face = repository.record(session, episode, item)
                Store.emit(session, self._insight_created(event, item, is_face))
            # For the listener's episode list: done, with what the episode yielded (also when it was nothing).
            Store.emit(
                session,
                EpisodeStatusChanged(
                    event_id=str(uuid.uuid4()),
                    episode_id=episode.episode_id,
                    feed_id=event.episode.feed_id,
                    episode_title=event.episode.episode_title,
                    state="done",
                    insights=len(extracted),
                ),
            )
        return len(ranked) + 1

    def _insight_created(self, event: TranscriptReady, item: RankedInsight, is_face: bool) -> InsightCreated:
        x = item.insight
        return InsightCreated(
            event_id=stable_id("insight-created", item.insight_id),
            insight_id=item.insight_id,
            episode=event.episode,
            text=x.text,
            quote=x.passage,
            speaker=speaker_name(x.speaker, (p.name for p in event.episode.people)),
            chapter=x.chapter,
            start=x.start,
            end=x.end,
            score=min(1.0, max(0.0, x.score)),
            keywords=x.keywords,
            embedding=[float(v) for v in x.vector],
            embedding_model=self.embedding_model,
            cluster_id=item.placement.cluster_id,
            is_cluster_face=is_face,
            related=[
                RelatedInsight(
                    insight_id=r.insight_id,
                    text=r.text,
                    podcast_title=r.podcast_title,
                    episode_title=r.episode_title,
                    similarity=r.similarity,
                )
                for r in item.placement.related
            ],
        )


def _episode_info(event: TranscriptReady) -> EpisodeInfo:
    ep = event.episode
    return EpisodeInfo(
        episode_id=ep.episode_id, feed_id=ep.feed_id, podcast_title=ep.podcast_title, episode_title=ep.episode_title
    )
