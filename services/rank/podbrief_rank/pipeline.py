"""Rank's domain pipeline: extract an episode's insights, then place them among the stored ones and store their vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from podbrief_contracts import stable_id

from podbrief_rank.dedup import Placement, Thresholds, place
from podbrief_rank.extract import Extracted, Extractor
from podbrief_rank.segmentation import TimedText
from podbrief_rank.structure import Chapter
from podbrief_rank.vectorstore import VectorPoint, VectorStore


@dataclass(frozen=True)
class EpisodeInfo:
    """What rank needs to know about the episode an insight comes from."""

    episode_id: str
    feed_id: str
    podcast_title: str
    episode_title: str


@dataclass(frozen=True)
class RankedInsight:
    """An extracted insight with its stable id and its place among the stored insights."""

    insight_id: str
    insight: Extracted
    placement: Placement


def insight_id_for(episode_id: str, insight: Extracted) -> str:
    """The insight's id: its episode plus the passage it came from, so a re-run maps onto the same point."""
    return stable_id("insight", episode_id, str(insight.first_sentence), str(insight.last_sentence), insight.passage)


class Ranker:
    """Extraction plus dedup against `vectors`."""

    def __init__(self, extractor: Extractor, vectors: VectorStore, thresholds: Thresholds | None = None) -> None:
        self.extractor = extractor
        self.vectors = vectors
        self.thresholds = thresholds or Thresholds()

    def extract(
        self,
        segments: Sequence[TimedText],
        duration: float | None,
        language: str = "en",
        chapters: Sequence[Chapter] = (),
        show: str = "",
    ) -> list[Extracted]:
        """The episode's insights (no vector store involved)."""
        return self.extractor.extract(segments, duration, language, chapters=chapters, show=show)

    def place_and_store(self, episode: EpisodeInfo, insights: Sequence[Extracted]) -> list[RankedInsight]:
        """Place `insights` (one batched search) and upsert their points; safe to repeat: ids are stable."""
        if not insights:
            return []
        ids = [insight_id_for(episode.episode_id, x) for x in insights]
        vectors = np.vstack([x.vector for x in insights]).astype(np.float32)
        placements = place(ids, vectors, episode.episode_id, self.vectors, self.thresholds)
        triples = list(zip(ids, insights, placements, strict=True))
        self.vectors.upsert([VectorPoint(i, x.vector, point_payload(episode, i, x, p.cluster_id)) for i, x, p in triples])
        return [RankedInsight(i, x, p) for i, x, p in triples]


def point_payload(episode: EpisodeInfo, insight_id: str, insight: Extracted, cluster_id: str) -> dict[str, object]:
    """The payload stored with an insight's vector: who said it, when, how good, which cluster."""
    return {
        "insight_id": insight_id,
        "episode_id": episode.episode_id,
        "feed_id": episode.feed_id,
        "podcast_title": episode.podcast_title,
        "episode_title": episode.episode_title,
        "text": insight.text,
        "start": insight.start,
        "end": insight.end,
        "score": insight.score,
        "cluster_id": cluster_id,
    }
