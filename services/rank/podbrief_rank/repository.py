"""Reading and writing rank's rows inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from podbrief_rank.pipeline import EpisodeInfo, RankedInsight
from podbrief_rank.tables import clusters, insights


def existing_insight_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """The ids among `ids` already recorded."""
    if not ids:
        return set()
    return set(session.scalars(select(insights.c.insight_id).where(insights.c.insight_id.in_(list(ids)))))


def record(session: Session, episode: EpisodeInfo, ranked: RankedInsight) -> bool:
    """Record a new insight and join or start its cluster; True when it is now the cluster's face.

    The shows that said an idea and its related insights travel in the `InsightCreated` event (notify keeps them);
    rank keeps only what it decides with: the insight and its cluster's face."""
    now = datetime.now(UTC)
    x, placement = ranked.insight, ranked.placement
    session.execute(
        insert(insights).values(
            insight_id=ranked.insight_id,
            episode_id=episode.episode_id,
            feed_id=episode.feed_id,
            podcast_title=episode.podcast_title,
            episode_title=episode.episode_title,
            text=x.text,
            start=x.start,
            end=x.end,
            score=x.score,
            keywords=json.dumps(x.keywords),
            cluster_id=placement.cluster_id,
            created_at=now,
        )
    )
    return _join_cluster(session, placement.cluster_id, ranked.insight_id, x.score, now)


def _join_cluster(session: Session, cluster_id: str, insight_id: str, score: float, now: datetime) -> bool:
    """Add the insight to the cluster (creating it when new); the best-scored member is the face."""
    row = session.execute(select(clusters.c.face_score).where(clusters.c.cluster_id == cluster_id).with_for_update()).first()
    if row is None:
        session.execute(
            insert(clusters).values(
                cluster_id=cluster_id, face_insight_id=insight_id, face_score=score, size=1, created_at=now, updated_at=now
            )
        )
        return True
    values: dict[str, object] = {"size": clusters.c.size + 1, "updated_at": now}
    is_face = score > row.face_score
    if is_face:
        values.update(face_insight_id=insight_id, face_score=score)
    session.execute(update(clusters).where(clusters.c.cluster_id == cluster_id).values(**values))
    return is_face


def cluster_of(session: Session, cluster_id: str) -> dict[str, object] | None:
    """The cluster's row (face, face score, size), or None."""
    row = session.execute(select(clusters).where(clusters.c.cluster_id == cluster_id)).mappings().first()
    return dict(row) if row else None
