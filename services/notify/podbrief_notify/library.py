"""A reader's library: search and browse the insights of the shows they follow, one episode whole, what was delivered.

Search blends meaning and words: the query is embedded with the model that embeds interests and compared with
the stored insight vectors (cosine), and its words are matched against the insight's text, keywords, show,
episode, speaker and chapter. Either kind of match is enough to be found; the blend orders the results. When the
model cannot be reached (the API process asks the notify worker for it), words alone find and order them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from podbrief_notify.catalog import public_feed_ids
from podbrief_notify.embedder import Embedder, EmbedderUnavailable
from podbrief_notify.exceptions import NotFound
from podbrief_notify.insights import describe
from podbrief_notify.subscriptions import subscribed_feed_ids
from podbrief_notify.tables import briefs, episodes, insights, sent_clusters

# How much meaning and words weigh in the order of results, and the least cosine that counts as a semantic match
# (all-MiniLM-L6-v2: a query and a passage on its topic score about 0.35-0.7; unrelated text under 0.2).
SEMANTIC_WEIGHT = 0.65
KEYWORD_WEIGHT = 0.35
SEMANTIC_FLOOR = 0.3
# Search looks at the newest insights of the reader's shows, at most this many (about 1,300 hour-long episodes).
SEARCH_WINDOW = 20_000

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP_WORDS = (
    "a an and are as at be but by for from has have how i in is it its of on or that the this to was what when where "
    "which who why will with about"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Query:
    """What a reader asked for: words (or none, to browse), a show, a start date, a page."""

    text: str | None = None
    feed_id: str | None = None
    since: datetime | None = None
    limit: int = 10
    offset: int = 0

    @property
    def searching(self) -> bool:
        """Whether the reader asked for something (else they browse)."""
        return bool(self.text and self.text.strip())


def terms(text: str) -> list[str]:
    """The query's words worth matching: lowercased, without stop words (all of them when only stop words remain)."""
    found = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in found if w not in _STOP and len(w) > 1]
    return list(dict.fromkeys(kept or found))


def keyword_match(words: Sequence[str], haystack: str) -> float:
    """Share of `words` found as whole words in `haystack` (0..1)."""
    if not words:
        return 0.0
    present = set(_WORD.findall(haystack.lower()))
    return sum(w in present for w in words) / len(words)


def _scope(followed: list[str], query: Query) -> list[str]:
    if query.feed_id is None:
        return followed
    if query.feed_id not in followed:
        raise NotFound("feed not among your subscriptions")
    return [query.feed_id]


def _filtered(statement: Select[Any], feed_ids: list[str], since: datetime | None) -> Select[Any]:
    statement = statement.where(insights.c.feed_id.in_(feed_ids))
    return statement if since is None else statement.where(insights.c.created_at >= since)


def embed_query(embedder: Embedder | None, query: Query) -> np.ndarray | None:
    """The query's vector, to match by meaning; None when browsing, or when no model is reachable (words only)."""
    if not query.searching or embedder is None:
        return None
    try:
        return embedder.embed([query.text or ""])[0].astype(np.float32)
    except EmbedderUnavailable:
        return None  # RemoteEmbedder has said why, once per outage


def search(session: Session, user_id: str, query: Query, vector: np.ndarray | None) -> tuple[list[dict[str, Any]], int]:
    """Matching insights from the reader's shows, best first (newest first without words), and how many matched.

    `vector` is the query's (`embed_query`); without it only words match. One phrasing per idea: where the same
    idea was said on several followed shows, the best match stands for it and the others appear in its `also_said_on`.
    """
    followed = subscribed_feed_ids(session, user_id)
    feed_ids = _scope(followed, query)
    if not feed_ids:
        return [], 0
    if not query.searching:
        ideas = select(func.count(func.distinct(insights.c.cluster_id))).select_from(insights)
        total = session.execute(_filtered(ideas, feed_ids, query.since)).scalar_one()
        newest = func.row_number().over(
            partition_by=insights.c.cluster_id, order_by=(insights.c.created_at.desc(), insights.c.insight_id)
        )
        firsts = _filtered(select(insights.c.insight_id, newest.label("n")), feed_ids, query.since).subquery()
        rows = session.execute(
            select(insights)
            .join(firsts, firsts.c.insight_id == insights.c.insight_id)
            .where(firsts.c.n == 1)
            .order_by(insights.c.created_at.desc(), insights.c.insight_id)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return [{**item, "match": None} for item in describe(session, rows, followed)], int(total)
    ranked = _ranked(session, feed_ids, query, vector)
    page = ranked[query.offset : query.offset + query.limit]
    if not page:
        return [], len(ranked)
    ids = [insight_id for insight_id, _ in page]
    by_id = {r.insight_id: r for r in session.execute(select(insights).where(insights.c.insight_id.in_(ids))).all()}
    described = describe(session, [by_id[i] for i in ids], followed)
    return [{**item, "match": round(score, 4)} for item, (_, score) in zip(described, page, strict=True)], len(ranked)


def _ranked(session: Session, feed_ids: list[str], query: Query, vector: np.ndarray | None) -> list[tuple[str, float]]:
    """(insight id, blended score) of every match, best first, one per idea."""
    columns = select(
        insights.c.insight_id,
        insights.c.cluster_id,
        insights.c.text,
        insights.c.keywords,
        insights.c.podcast_title,
        insights.c.episode_title,
        insights.c.speaker,
        insights.c.chapter,
        insights.c.embedding,
    )
    rows = session.execute(
        _filtered(columns, feed_ids, query.since).order_by(insights.c.created_at.desc()).limit(SEARCH_WINDOW)
    ).all()
    if not rows:
        return []
    text = query.text or ""
    words = terms(text)
    lexical = np.array([keyword_match(words, _haystack(r)) for r in rows], dtype=np.float32)
    semantic = _semantic(rows, vector)
    found = (lexical > 0) | (semantic >= SEMANTIC_FLOOR)
    blended = SEMANTIC_WEIGHT * np.clip(semantic, 0.0, 1.0) + KEYWORD_WEIGHT * lexical
    best: dict[str, tuple[str, float]] = {}
    for i in np.flatnonzero(found):
        row, score = rows[i], float(blended[i])
        if row.cluster_id not in best or score > best[row.cluster_id][1]:
            best[row.cluster_id] = (row.insight_id, score)
    return sorted(best.values(), key=lambda pair: (-pair[1], pair[0]))


def _haystack(row: Row[Any]) -> str:
    parts = [row.text, " ".join(row.keywords or []), row.podcast_title, row.episode_title, row.speaker, row.chapter]
    return " ".join(p for p in parts if p)


def _semantic(rows: Sequence[Row[Any]], vector: np.ndarray | None) -> np.ndarray:
    """Cosine of the query with each row's vector; 0 for vectors of another size (another model's space), and
    everywhere without a query vector."""
    out = np.zeros(len(rows), dtype=np.float32)
    if vector is None:
        return out
    same = [i for i, r in enumerate(rows) if len(r.embedding) == vector.nbytes]
    if same:
        matrix = np.stack([np.frombuffer(rows[i].embedding, dtype=np.float32) for i in same])
        out[same] = matrix @ vector
    return out


def episode(session: Session, user_id: str, episode_id: str) -> dict[str, Any]:
    """One episode of a followed show: its processing state and all its insights in the order they were said."""
    followed = public_feed_ids(session, user_id)
    state = session.execute(select(episodes).where(episodes.c.episode_id == episode_id)).first()
    rows = session.execute(
        select(insights).where(insights.c.episode_id == episode_id).order_by(insights.c.start, insights.c.insight_id)
    ).all()
    feed_id = state.feed_id if state is not None else (rows[0].feed_id if rows else None)
    if feed_id is None or feed_id not in followed:
        raise NotFound("episode not found")
    items = describe(session, rows, followed)
    first = items[0] if items else None
    return {
        "episode_id": episode_id,
        "feed_id": feed_id,
        "title": (state.title if state is not None else None) or (first["episode"]["title"] if first else None),
        "show": first["show"] if first else None,
        "episode": first["episode"] if first else None,
        "state": state.state if state is not None else "done",
        "reason": state.reason if state is not None else None,
        "notes": list(state.notes) if state is not None else [],
        "first_seen_at": state.first_seen_at if state is not None else None,
        "updated_at": state.updated_at if state is not None else None,
        "insights": items,
        "count": len(items),
    }


def delivered(session: Session, user_id: str, since: datetime | None) -> list[dict[str, Any]]:
    """Every insight delivered to the reader in a brief (oldest first), each with `delivered_at`: its brief's time."""
    statement = (
        select(insights, briefs.c.created_at.label("delivered_at"))
        .join(sent_clusters, sent_clusters.c.insight_id == insights.c.insight_id)
        .join(briefs, briefs.c.id == sent_clusters.c.brief_id)
        .where(sent_clusters.c.user_id == user_id)
        .order_by(briefs.c.created_at, insights.c.insight_id)
    )
    if since is not None:
        statement = statement.where(briefs.c.created_at >= since)
    rows = session.execute(statement).all()
    followed = public_feed_ids(session, user_id)
    return [{**item, "delivered_at": row.delivered_at} for item, row in zip(describe(session, rows, followed), rows, strict=True)]
