"""Same idea or related idea: placing new insights among the stored ones.

Above the duplicate threshold a new insight joins the nearest stored insight's cluster;
between the related and duplicate thresholds the stored insight (one per cluster, from
other episodes) becomes a related link. The thresholds are calibrated on
tests/data/insight_pairs.jsonl with the bundled MiniLM (see tests/rank/test_calibration.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podbrief_rank.vectorstore import VectorStore


@dataclass(frozen=True)
class Thresholds:
    """Cosine similarities that separate same idea / related idea / unrelated.

    Chosen on the dev split of real-passage pairs (tests/data/real_insight_pairs.jsonl): duplicate 0.67 gives
    precision 0.90 / recall 0.60 there, related 0.35 precision 0.92 / recall 0.55; held-out figures are in the README.
    """

    duplicate: float = 0.67
    related: float = 0.35
    related_limit: int = 5
    search_limit: int = 20


@dataclass(frozen=True)
class RelatedLink:
    """A stored insight about a related idea."""

    insight_id: str
    text: str
    podcast_title: str
    episode_title: str
    similarity: float


@dataclass(frozen=True)
class Placement:
    """Where a new insight goes: its cluster (its own id when it starts one) and its related links."""

    cluster_id: str
    duplicate_of: str | None
    related: list[RelatedLink]


def place(
    insight_ids: Sequence[str], vectors: np.ndarray, episode_id: str, store: VectorStore, thresholds: Thresholds
) -> list[Placement]:
    """Placements of an episode's new insights, from one batched search that leaves out the episode's own points."""
    results = store.search_batch(vectors, thresholds.search_limit, exclude_episode=episode_id)
    return [_place_one(insight_id, hits, thresholds) for insight_id, hits in zip(insight_ids, results, strict=True)]


def _place_one(insight_id: str, hits: list, th: Thresholds) -> Placement:
    cluster_id, duplicate_of = insight_id, None
    if hits and hits[0].score >= th.duplicate:
        duplicate_of = hits[0].id
        cluster_id = hits[0].payload.get("cluster_id") or hits[0].id
    seen = {cluster_id}
    related: list[RelatedLink] = []
    for hit in hits:
        other_cluster = hit.payload.get("cluster_id") or hit.id
        if hit.score >= th.duplicate:
            # Another phrasing of the same idea is not "related": it is the idea itself.
            seen.add(other_cluster)
            continue
        if hit.score < th.related or len(related) >= th.related_limit:
            break
        if other_cluster in seen:
            continue
        seen.add(other_cluster)
        related.append(
            RelatedLink(
                insight_id=hit.id,
                text=str(hit.payload.get("text", "")),
                podcast_title=str(hit.payload.get("podcast_title", "")),
                episode_title=str(hit.payload.get("episode_title", "")),
                similarity=round(hit.score, 4),
            )
        )
    return Placement(cluster_id=cluster_id, duplicate_of=duplicate_of, related=related)
