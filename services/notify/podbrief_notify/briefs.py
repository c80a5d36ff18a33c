"""Building a user's brief: candidates, ranking, the items people read, and storing it for delivery."""

from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple, TypeVar

import numpy as np
from podbrief_runtime.store import Store
from sqlalchemy import Row, and_, exists, func, insert, null, select
from sqlalchemy.orm import Session
from threadpoolctl import ThreadpoolController

from podbrief_notify.embedder import Embedder
from podbrief_notify.exceptions import Gone, NotFound
from podbrief_notify.insights import by_ids, describe, shows_per_cluster
from podbrief_notify.interest_vectors import for_ranking
from podbrief_notify.keys import new_delivery_id
from podbrief_notify.ranking import Pool, Tastes, Weights, pairwise, score, taste_parts
from podbrief_notify.ranking import select as select_picks
from podbrief_notify.retention import PRUNED
from podbrief_notify.schemas import BriefPublic
from podbrief_notify.settings import Settings
from podbrief_notify.subscriptions import subscribed_feed_ids
from podbrief_notify.tables import (
    briefs,
    catalog,
    clusters,
    deliveries,
    delivery_attempts,
    feedback,
    insights,
    sent_clusters,
    users,
)
from podbrief_notify.webhooks import active_webhooks

EVENT_BRIEF_READY = "brief.ready"

_R = TypeVar("_R", Row[Any], "Candidate")


@dataclass(frozen=True)
class Discovery:
    """How a brief draws on the catalog (shows the reader does not follow)."""

    slots: int = 2  # most discovered items in a `mix` brief
    min_match: float = 0.3  # least similarity to one of the reader's interests
    margin: float = 0.1  # how much better than the weakest own-show item a discovered item must match to replace it
    pool: int = 200  # catalog candidates ranked per brief (the best matches to the reader's interests)


@dataclass(frozen=True)
class BriefOptions:
    """What shapes a brief beyond the user's own settings."""

    base_url: str
    weights: Weights = Weights()
    candidate_days: float = 14.0
    discovery: Discovery = Discovery()

    @classmethod
    def from_settings(cls, settings: Settings) -> BriefOptions:
        """The options the service's settings choose."""
        return cls(
            base_url=settings.base_url(),
            weights=Weights(half_life_hours=settings.freshness_half_life_h),
            discovery=Discovery(
                slots=settings.discover_slots, min_match=settings.discover_min_match, margin=settings.discover_margin
            ),
        )


def discover_mode(user: Row[Any]) -> str:
    """The reader's discover choice: off, mix or only; unset means mix for a reader with interests, else off."""
    return str(user.discover or ("mix" if user.interests else "off"))


class Candidate(NamedTuple):
    """What ranking reads of a candidate insight: no text or JSON columns (the few chosen are read in full for the
    brief, `insights.by_ids`). A plain tuple: a brief reads each field of a few hundred of them."""

    insight_id: str
    cluster_id: str
    feed_id: str
    episode_id: str
    score: float
    embedding: bytes
    dated: datetime  # when its age counts from: the episode's publication, else the insight's arrival
    face_insight_id: str | None  # its idea's face (None without a cluster row)
    shows: int | None  # how many shows said its idea, where read with it (`with_shows`)


def _candidate_columns(with_shows: bool) -> tuple[Any, ...]:
    """The columns of a `Candidate` (its `shows` NULL unless `with_shows`)."""
    member = insights.alias("member")
    shows = (
        select(func.count(func.distinct(member.c.feed_id))).where(member.c.cluster_id == insights.c.cluster_id).scalar_subquery()
        if with_shows
        else null()
    )
    return (
        insights.c.insight_id,
        insights.c.cluster_id,
        insights.c.feed_id,
        insights.c.episode_id,
        insights.c.score,
        insights.c.embedding,
        func.coalesce(insights.c.published_at, insights.c.created_at, type_=insights.c.created_at.type).label("dated"),
        clusters.c.face_insight_id,
        shows.label("shows"),
    )


_RANKED = {with_shows: _candidate_columns(with_shows) for with_shows in (False, True)}


def candidates(session: Session, user_id: str, now: datetime, days: float) -> list[Row[Any]]:
    """Insights from the user's feeds, recent, whose idea (cluster) was never sent to the user; one per cluster."""
    feed_ids = subscribed_feed_ids(session, user_id)
    return _one_per_idea(_recent(session, user_id, feed_ids, now, days, (insights, clusters.c.face_insight_id)))


def _unsent(
    session: Session, user_id: str, feed_ids: Collection[str], now: datetime, days: float, with_shows: bool = False
) -> list[Candidate]:
    """Recent insights of `feed_ids` whose idea (cluster) was never sent to the user; one per cluster. With
    `with_shows`, each says how many shows said its idea (one index lookup per row: worth it for the reader's own
    shows, whose candidates are nearly all ranked, not for the catalog's)."""
    return _one_per_idea([Candidate._make(r) for r in _recent(session, user_id, feed_ids, now, days, _RANKED[with_shows])])


def _recent(
    session: Session, user_id: str, feed_ids: Collection[str], now: datetime, days: float, columns: tuple[Any, ...]
) -> Sequence[Row[Any]]:
    """`columns` of the recent insights of `feed_ids` whose idea was never sent to the user, oldest first (the
    columns of `clusters` come from the insight's cluster row, if any)."""
    if not feed_ids:
        return []
    already_sent = exists().where(and_(sent_clusters.c.user_id == user_id, sent_clusters.c.cluster_id == insights.c.cluster_id))
    return session.execute(
        select(*columns)
        .outerjoin(clusters, clusters.c.cluster_id == insights.c.cluster_id)
        .where(insights.c.feed_id.in_(list(feed_ids)), insights.c.created_at >= now - timedelta(days=days), ~already_sent)
        .order_by(insights.c.created_at, insights.c.insight_id)
    ).all()


def _one_per_idea(rows: Sequence[_R]) -> list[_R]:
    """One phrasing per idea: the cluster's face when the user's feeds have it, else the best-scored one (the first
    of equals); in the order each idea first appears."""
    best: dict[str, _R] = {}
    for row in rows:
        current = best.get(row.cluster_id)
        if current is None or _preferred(row, current):
            best[row.cluster_id] = row
    return list(best.values())


def shows_turned_down(session: Session, user_id: str, followed: Collection[str]) -> set[str]:
    """Shows the reader does not follow and voted an insight of down: never discovered for them again."""
    return set(
        session.execute(
            select(insights.c.feed_id)
            .join(feedback, feedback.c.insight_id == insights.c.insight_id)
            .where(feedback.c.user_id == user_id, feedback.c.vote == "down", insights.c.feed_id.not_in(list(followed)))
        ).scalars()
    )


def _preferred(row: Any, current: Any) -> bool:
    is_face, was_face = row.insight_id == row.face_insight_id, current.insight_id == current.face_insight_id
    if is_face != was_face:
        return is_face
    return bool(row.score > current.score)


def _vectors(rows: list[Candidate]) -> np.ndarray:
    """The rows' embeddings (all of one size) as a fresh (N, D) float32 array."""
    if not rows:
        return np.zeros((0, 0), np.float32)
    return np.frombuffer(b"".join([r.embedding for r in rows]), dtype=np.float32).reshape(len(rows), -1).copy()


@cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded (numpy's), found once: a limit on them then costs microseconds, not a library scan."""
    return ThreadpoolController().select(user_api="blas")


def tastes_for(session: Session, user: Row[Any], interests: np.ndarray, dim: int) -> Tastes:
    """The user's interests (rows of `for_ranking`) and votes as a one-user `Tastes`; voted insights of another size
    (another model) are left out."""
    votes = session.execute(
        select(feedback.c.vote, insights.c.embedding)
        .join(insights, insights.c.insight_id == feedback.c.insight_id)
        .where(feedback.c.user_id == user.id)
    ).all()
    voted = {
        vote: [v for v in (np.frombuffer(row.embedding, np.float32) for row in votes if row.vote == vote) if v.shape[0] == dim]
        for vote in ("up", "down")
    }
    vectors = np.vstack([interests.astype(np.float32), *voted["up"], *voted["down"]]).reshape(-1, dim)
    k, up = len(interests), len(voted["up"])
    return Tastes(vectors, [np.arange(k)], [np.arange(k, k + up)], [np.arange(k + up, len(vectors))])


def draft(
    session: Session, user: Row[Any], embedder: Embedder | None, now: datetime, options: BriefOptions
) -> list[dict[str, Any]]:
    """The items the user's next brief would hold, best first (empty when there is nothing new).

    Interests rank by their stored vectors; `embedder` (None in the API process) embeds them only where those are
    missing or of another size than the insights'.

    With discovery (`discover_mode`), catalog shows the reader does not follow contribute items that match one of
    their interests: `only` fills the brief from them; `mix` keeps the reader's own shows first and gives at most
    `discovery.slots` items to them (an empty slot, or one whose own item matches an interest clearly worse); for a
    reader who follows no show yet, `mix` is `only`.

    BLAS runs on one thread meanwhile: its products here are small, and threads of its own only contend with the
    process's other work (several times slower on a busy machine). The limit is process-wide (OpenBLAS's pool is), so
    numpy's other products in the process share it while a draft runs; threadpoolctl lets one thread at a time set it,
    and torch's own BLAS (the embedding model) is not among the libraries limited.
    """
    with _blas().limit(limits=1):
        return _draft(session, user, embedder, now, options)


def _draft(
    session: Session, user: Row[Any], embedder: Embedder | None, now: datetime, options: BriefOptions
) -> list[dict[str, Any]]:
    followed = subscribed_feed_ids(session, user.id)
    mode = discover_mode(user)
    if mode == "mix" and not followed:
        mode = "only"  # nothing of the reader's own to keep first: the catalog fills the brief
    own = [] if mode == "only" else _unsent(session, user.id, followed, now, options.candidate_days, with_shows=True)
    catalog_urls = _catalog_urls(session)  # one read: a removal racing this build cannot split ids from URLs
    found: list[Candidate] = []
    if mode != "off" and user.interests:
        scanned = set(catalog_urls) - set(followed) - shows_turned_down(session, user.id, followed)
        own_ideas = {r.cluster_id for r in own}
        found = [r for r in _unsent(session, user.id, scanned, now, options.candidate_days) if r.cluster_id not in own_ideas]
    if not own and not found:
        return []
    # Insights embedded by different models cannot be compared; keep the common space (the reader's own shows' first).
    dim = Counter(len(r.embedding) // 4 for r in (own or found)).most_common(1)[0][0]
    own = [r for r in own if len(r.embedding) // 4 == dim]
    interests = for_ranking(user, embedder, dim)
    if found:  # (found only for a reader with interests)
        found = _most_relevant(found, interests, dim, options.discovery)
    rows = own + found
    if not rows:
        return []
    is_own = np.array([i < len(own) for i in range(len(rows))], dtype=bool)
    shows = shows_per_cluster(session, (r.cluster_id for r in found))  # (read with the reader's own candidates)
    episode_codes = {e: i for i, e in enumerate(dict.fromkeys(r.episode_id for r in rows))}
    pool = Pool(
        embeddings=_vectors(rows),
        quality=np.array([r.score for r in rows], dtype=np.float32),
        age_hours=np.array([(now - r.dated).total_seconds() / 3600 for r in rows], dtype=np.float32),
        shows=np.array([shows.get(r.cluster_id, 1) if r.shows is None else r.shows for r in rows]),
        episodes=np.array([episode_codes[r.episode_id] for r in rows]),
    )
    tastes = tastes_for(session, user, interests, dim)
    scores = score(pool, tastes, options.weights)
    relevance = taste_parts(pool, tastes)[0][0]
    discoverable = ~is_own & (relevance >= options.discovery.min_match)
    size = user.brief_size
    similarity = pairwise(pool)
    picked_own = _pick(scores, is_own, pool, size, options.weights, similarity)
    if mode == "only":
        picked, discovered = [], _pick(scores, discoverable, pool, size, options.weights, similarity)
    elif mode == "mix":
        picked, discovered = _mix(scores, relevance, discoverable, pool, picked_own, size, options, similarity)
    else:
        picked, discovered = picked_own, []
    chosen = picked + discovered
    # Catalog shows are public: their links show for every reader.
    items = describe(session, by_ids(session, [rows[i].insight_id for i in chosen]), set(followed) | set(catalog_urls))
    found_flags = [not is_own[i] for i in chosen]
    why = _reasons(tastes, user, pool, relevance, found_flags, chosen, options.discovery.min_match)
    out = []
    for n, (item, i) in enumerate(zip(items, chosen, strict=True), start=1):
        offer = _subscribe_offer(options.base_url, catalog_urls[rows[i].feed_id]) if i in discovered else None
        out.append({**item, "rank": n, "discovered": i in discovered, "subscribe": offer, "why": why[n - 1]})
    return out


def _most_relevant(rows: list[Candidate], interests: np.ndarray, dim: int, discovery: Discovery) -> list[Candidate]:
    """The catalog candidates worth ranking: in the reader's vector space, matching an interest at least `min_match`,
    at most `pool` of them (the best matches), so a large catalog costs a brief little."""
    rows = [r for r in rows if len(r.embedding) // 4 == dim]
    if not rows or interests.shape[0] == 0 or interests.shape[1] != dim:
        return []
    best = (_vectors(rows) @ interests.T.astype(np.float32)).max(axis=1)
    order = [int(i) for i in np.argsort(-best, kind="stable") if best[i] >= discovery.min_match]
    return [rows[i] for i in order[: discovery.pool]]


def _pick(
    scores: np.ndarray, available: np.ndarray, pool: Pool, size: int, weights: Weights, similarity: np.ndarray | None
) -> list[int]:
    """The best `size` of the `available` candidates (MMR, per-episode cap)."""
    if not available.any():
        return []
    masked = np.where(available[None, :], scores, -np.inf)
    return select_picks(masked, pool, size, weights, similarity)[0]


def _mix(
    scores: np.ndarray,
    relevance: np.ndarray,
    discoverable: np.ndarray,
    pool: Pool,
    own: list[int],
    size: int,
    options: BriefOptions,
    similarity: np.ndarray | None,
) -> tuple[list[int], list[int]]:
    """The reader's own picks first; at most `slots` discovered ones take empty slots, or replace the own item that
    matches the reader's interests worst when they match clearly (`margin`) better."""
    kept = list(own)
    discovered: list[int] = []
    for i in _pick(scores, discoverable, pool, options.discovery.slots, options.weights, similarity):
        if len(kept) + len(discovered) < size:
            discovered.append(i)
            continue
        weakest = min(kept, key=lambda j: relevance[j], default=None)
        if weakest is not None and relevance[i] > relevance[weakest] + options.discovery.margin:
            kept.remove(weakest)
            discovered.append(i)
    return kept, discovered


def _reasons(
    tastes: Tastes,
    user: Row[Any],
    pool: Pool,
    relevance: np.ndarray,
    discovered: list[bool],
    chosen: list[int],
    min_match: float,
) -> list[dict[str, Any]]:
    """Why each chosen item was picked: the interest it matches best (and how well), whether its show is followed,
    how many shows said the idea, and its own quality score."""
    interest_rows = tastes.interests[0] if tastes.interests else np.zeros(0, dtype=np.int64)
    texts = list(user.interests or [])
    out = []
    for i, found in zip(chosen, discovered, strict=True):
        best = None
        if len(interest_rows) and len(texts) == len(interest_rows):
            sims = tastes.vectors[interest_rows] @ pool.embeddings[i]
            top = int(np.argmax(sims))
            best = texts[top] if sims[top] >= min_match else None  # a faint likeness is no match
        out.append(
            {
                "interest": best,
                "interest_match": round(float(relevance[i]), 4),
                "followed_show": not found,
                "shows": int(pool.shows[i]),
                "quality": round(float(pool.quality[i]), 4),
            }
        )
    return out


def _catalog_urls(session: Session) -> dict[str, str]:
    """The catalog as {feed id: feed URL}."""
    return {r.feed_id: r.feed_url for r in session.execute(select(catalog.c.feed_id, catalog.c.feed_url))}


def _subscribe_offer(base_url: str, feed_url: str) -> dict[str, Any]:
    """How to follow a discovered item's show in one call."""
    return {
        "method": "POST",
        "url": f"{base_url.rstrip('/')}/v1/subscriptions",
        "body": {"feed_url": feed_url},
        "feed_url": feed_url,
    }


def note_for(count: int, size: int) -> str | None:
    """What the brief says when it is short."""
    if count >= size:
        return None
    plural = "insight" if count == 1 else "insights"
    return f"Only {count} new {plural} for you since your last brief (you asked for {size})."


def build(
    session: Session, user_id: str, embedder: Embedder | None, now: datetime, options: BriefOptions, period: str | None = None
) -> dict[str, Any] | None:
    """Build the user's brief, store it with a pending delivery per active webhook; None when nothing is new.

    Storing marks its ideas sent, so no later brief repeats them. With `period` set, a second
    brief for the same user and period violates a unique key: the caller's transaction fails.
    """
    user = session.execute(select(users).where(users.c.id == user_id)).first()
    if user is None:
        raise NotFound("user not found")
    items = draft(session, user, embedder, now, options)
    if not items:
        return None
    brief_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(24)
    payload = BriefPublic.model_validate(
        {
            "id": brief_id,
            "created_at": now,
            "period": period,
            "requested_size": user.brief_size,
            "size": len(items),
            "note": note_for(len(items), user.brief_size),
            "html_url": f"{options.base_url.rstrip('/')}/v1/briefs/{brief_id}/html?token={token}",
            "items": items,
        }
    ).model_dump(mode="json")
    session.execute(
        insert(briefs).values(
            id=brief_id, user_id=user_id, period=period, created_at=now, payload=json.dumps(payload), view_token=token
        )
    )
    session.execute(
        insert(sent_clusters),
        [{"user_id": user_id, "cluster_id": i["cluster_id"], "insight_id": i["insight_id"], "brief_id": brief_id} for i in items],
    )
    body = json.dumps({"type": EVENT_BRIEF_READY, "timestamp": payload["created_at"], "data": payload}, separators=(",", ":"))
    hooks = active_webhooks(session, user_id)
    if hooks:
        session.execute(
            insert(deliveries),
            [
                {
                    "id": new_delivery_id(),
                    "user_id": user_id,
                    "webhook_id": hook.id,
                    "brief_id": brief_id,
                    "event_type": EVENT_BRIEF_READY,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for hook in hooks
            ],
        )
    return payload


def pending_delivery_ids(session: Session, brief_id: str) -> list[str]:
    """The brief's deliveries still waiting for an attempt."""
    return list(
        session.execute(
            select(deliveries.c.id).where(deliveries.c.brief_id == brief_id, deliveries.c.status == "pending")
        ).scalars()
    )


def latest_payload(store: Store, user_id: str) -> str | None:
    """The stored JSON of the user's newest brief (a bare connection: this is the API's hottest read)."""
    with store.engine.connect() as conn:
        payload = conn.execute(
            select(briefs.c.payload).where(briefs.c.user_id == user_id).order_by(briefs.c.created_at.desc(), briefs.c.id).limit(1)
        ).scalar()
    return None if payload == PRUNED else payload


def get_brief(session: Session, user_id: str, brief_id: str) -> Row[Any]:
    """One of the user's briefs; NotFound for anyone else's, Gone once its content was pruned."""
    row = session.execute(select(briefs).where(briefs.c.id == brief_id, briefs.c.user_id == user_id)).first()
    if row is None:
        raise NotFound("brief not found")
    _check_kept(row)
    return row


def _check_kept(row: Row[Any]) -> None:
    if json.loads(row.payload).get("pruned"):
        raise Gone("this brief is older than the service keeps briefs (PODBRIEF_BRIEFS_RETENTION_DAYS); its content is gone")


def brief_by_token(session: Session, brief_id: str, token: str, now: datetime, valid_for: timedelta) -> Row[Any]:
    """A brief opened by the token in its HTML link; NotFound when the token does not match, Gone once it expired."""
    row = session.execute(select(briefs).where(briefs.c.id == brief_id)).first()
    if row is None or not secrets.compare_digest(row.view_token, token):
        raise NotFound("brief not found")
    if now - row.created_at > valid_for:
        days = valid_for / timedelta(days=1)
        raise Gone(
            f"this brief link expired (links work for {days:g} day{'' if days == 1 else 's'}): open the brief with your API key, "
            f"GET /v1/briefs/{brief_id}/html with `Authorization: Bearer <api_key>`"
        )
    _check_kept(row)
    return row


def list_briefs(session: Session, user_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's briefs, newest first, and the total."""
    rows = session.execute(
        select(briefs.c.id, briefs.c.created_at, briefs.c.period, briefs.c.payload)
        .where(briefs.c.user_id == user_id)
        .order_by(briefs.c.created_at.desc(), briefs.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).where(briefs.c.user_id == user_id)).scalar_one()
    # A pruned brief (past its retention) lists with size 0.
    data = [
        {"id": r.id, "created_at": r.created_at, "period": r.period, "size": json.loads(r.payload).get("size", 0)} for r in rows
    ]
    return data, total


def deliveries_of(session: Session, brief_id: str) -> list[dict[str, Any]]:
    """The brief's deliveries, each with its attempts, oldest first."""
    rows = session.execute(select(deliveries).where(deliveries.c.brief_id == brief_id).order_by(deliveries.c.created_at)).all()
    attempts = (
        session.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id.in_([r.id for r in rows]))
            .order_by(delivery_attempts.c.attempt)
        ).all()
        if rows
        else []
    )
    log_of: dict[str, list[dict[str, Any]]] = {}
    for a in attempts:
        log_of.setdefault(a.delivery_id, []).append(a._asdict())
    return [{**{k: v for k, v in r._asdict().items() if k != "body"}, "attempt_log": log_of.get(r.id, [])} for r in rows]


def recent_payloads(session: Session, user_id: str, limit: int) -> list[dict[str, Any]]:
    """The user's newest briefs still kept (content not pruned), newest first, as their stored payloads."""
    rows = session.execute(
        select(briefs.c.payload)
        .where(briefs.c.user_id == user_id, briefs.c.payload != PRUNED)
        .order_by(briefs.c.created_at.desc(), briefs.c.id)
        .limit(limit)
    ).all()
    return [json.loads(r.payload) for r in rows]
