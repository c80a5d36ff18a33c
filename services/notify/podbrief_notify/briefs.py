"""Building a user's brief: candidates, ranking, the items people read, and storing it for delivery."""

from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from podbrief_runtime.store import LONE_READ, Store
from sqlalchemy import Row, bindparam, case, exists, func, insert, null, select, update
from sqlalchemy.orm import Session
from threadpoolctl import ThreadpoolController

from podbrief_notify.embedder import Embedder
from podbrief_notify.exceptions import Gone, NotFound
from podbrief_notify.insights import _chunks, by_ids, describe_many, shows_per_cluster
from podbrief_notify.interest_vectors import for_ranking
from podbrief_notify.keys import new_delivery_id
from podbrief_notify.ranking import Pool, Tastes, Weights, score, taste_parts
from podbrief_notify.ranking import select as select_picks
from podbrief_notify.retention import PRUNED
from podbrief_notify.schemas import BriefPublic
from podbrief_notify.settings import Settings
from podbrief_notify.tables import (
    briefs,
    catalog,
    clusters,
    deliveries,
    delivery_attempts,
    feedback,
    insights,
    sent_clusters,
    subscriptions,
    users,
)
from podbrief_notify.webhooks import active_webhooks

EVENT_BRIEF_READY = "brief.ready"


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
    shows: int | None  # how many shows said its idea, where read with it (the reader's own shows)


def _candidate_columns(shows: Any) -> tuple[Any, ...]:
    """The columns of a `Candidate`, `shows` the expression of its show count."""
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


def _shows_said() -> Any:
    """How many shows said the insight's idea (a correlated count over its cluster)."""
    member = insights.alias("member")
    return (
        select(func.count(func.distinct(member.c.feed_id))).where(member.c.cluster_id == insights.c.cluster_id).scalar_subquery()
    )


@cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded (numpy's), found once: a limit on them then costs microseconds, not a library scan."""
    return ThreadpoolController().select(user_api="blas")


def _votes(session: Session, user_ids: Collection[str], shared: _Shared) -> dict[str, list[tuple[str, bytes]]]:
    """Each user's votes as (vote, the voted insight's embedding), in the order of the voted insights' ids. The
    embeddings of insights among the candidates come from them; only older ones are read."""
    votes = session.execute(
        select(feedback.c.user_id, feedback.c.vote, feedback.c.insight_id)
        .where(feedback.c.user_id.in_(list(user_ids)))
        .order_by(feedback.c.user_id, feedback.c.insight_id)
    ).all()
    vectors = {shared.rows[i].insight_id: shared.rows[i].embedding for i in shared.at_ids(r.insight_id for r in votes)}
    older = sorted({r.insight_id for r in votes} - set(vectors))
    for chunk in _chunks(older):
        read = session.execute(select(insights.c.insight_id, insights.c.embedding).where(insights.c.insight_id.in_(chunk)))
        vectors.update((r.insight_id, r.embedding) for r in read)
    out: dict[str, list[tuple[str, bytes]]] = {}
    for row in votes:
        if row.insight_id in vectors:  # (a vote on an insight the store no longer holds counts for nothing)
            out.setdefault(row.user_id, []).append((row.vote, vectors[row.insight_id]))
    return out


def _tastes(votes: list[tuple[str, bytes]], interests: np.ndarray, dim: int) -> Tastes:
    voted = {
        vote: [v for v in (np.frombuffer(blob, np.float32) for kind, blob in votes if kind == vote) if v.shape[0] == dim]
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
    return draft_many(session, [user], embedder, now, options)[0]


def draft_many(
    session: Session,
    users: Sequence[Row[Any]],
    embedder: Embedder | None,
    now: datetime,
    options: BriefOptions,
    candidates: Candidates | None = None,
) -> list[list[dict[str, Any]]]:
    """Each of `users`' `draft`, drafted together (the scheduler's batches; `draft` is a batch of one): the candidates of all
    their shows and the catalog are read once (or taken from `candidates`, the round's, where it holds them), their
    subscriptions, votes and what was sent to them in one query each, and the chosen items described at once. One
    BLAS thread, as `draft`."""
    with _blas().limit(limits=1):
        return _draft_many(session, users, embedder, now, options, candidates or Candidates())


class Candidates:
    """The candidate insights of one scheduler round, read once for all its batches: every batch of a round ranks
    nearly the same shows (a few hundred readers follow most of them), and that read cost a batch more than its
    ranking. Read again (with the shows already held) when a batch ranks a show not yet read, or for another `now`.

    A round's drafts so see the insights as they were at its first batch: one that arrives during the round goes into
    the reader's next brief (what was sent is still read per batch, and `build` re-drafts a brief whose reader changed).
    """

    def __init__(self) -> None:
        self._held: tuple[datetime, frozenset[str], frozenset[str], _Shared] | None = None
        self._full: dict[str, Row[Any]] = {}  # chosen insights read in full (an insight, once stored, never changes)

    def described(self, session: Session, ids: Sequence[str]) -> dict[str, Row[Any]]:
        """The full rows of the insights `ids` (by id): those not read for an earlier batch of the round read now.
        A round's briefs choose many of the same insights: most are read once, not once per batch."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._full]
        self._full.update(zip(missing, by_ids(session, missing), strict=True))
        return self._full

    def get(
        self, session: Session, feed_ids: Collection[str], counted: Collection[str], cutoff: datetime, now: datetime
    ) -> _Shared:
        """The recent insights of at least `feed_ids` (those of `counted` with their shows counted), oldest first."""
        wanted, count = frozenset(feed_ids), frozenset(counted)
        if self._held is not None:
            held_now, feeds, held_counted, shared = self._held
            if held_now == now and wanted <= feeds and count <= held_counted:
                return shared
            if held_now == now:
                wanted, count = wanted | feeds, count | held_counted
        shared = _Shared(_shared_candidates(session, wanted, count, cutoff), now)
        self._held = (now, wanted, count, shared)
        return shared


def _by_user(rows: Iterable[Row[Any]]) -> dict[str, list[Any]]:
    """(user id, value) rows as {user id: [values]}, in the rows' order."""
    out: dict[str, list[Any]] = {}
    for user_id, value in rows:
        out.setdefault(user_id, []).append(value)
    return out


class _Shared:
    """The batch's candidates: every recent insight of the shows any of its readers ranks, oldest first (ties by id),
    with what ranking reads of each as arrays; a reader's candidates are a subsequence."""

    def __init__(self, rows: list[Candidate], now: datetime) -> None:
        self.rows = rows
        self.index = {r.insight_id: i for i, r in enumerate(rows)}
        by_feed: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            by_feed.setdefault(r.feed_id, []).append(i)
        self.by_feed = {f: np.array(idx, dtype=np.int64) for f, idx in by_feed.items()}
        self.code = {c: n for n, c in enumerate(dict.fromkeys(r.cluster_id for r in rows))}
        self.codes = np.array([self.code[r.cluster_id] for r in rows], dtype=np.int64)
        self.is_face = np.array([r.insight_id == r.face_insight_id for r in rows], dtype=bool)
        self.score = np.array([r.score for r in rows], dtype=np.float64)
        self.dim_of = [len(r.embedding) // 4 for r in rows]
        self.dims = np.array(self.dim_of, dtype=np.int64)
        self.quality = np.array([r.score for r in rows], dtype=np.float32)
        self.age_hours = np.array([(now - r.dated).total_seconds() / 3600 for r in rows], dtype=np.float32)
        episode_code = {e: n for n, e in enumerate(dict.fromkeys(r.episode_id for r in rows))}
        self.episodes = np.array([episode_code[r.episode_id] for r in rows], dtype=np.int64)
        self.shows = np.array([-1 if r.shows is None else r.shows for r in rows], dtype=np.int64)  # -1: not counted
        self._vectors: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def at_ids(self, insight_ids: Iterable[str]) -> list[int]:
        """The rows of those of `insight_ids` among the candidates."""
        return [self.index[i] for i in insight_ids if i in self.index]

    def codes_of(self, cluster_ids: Iterable[str]) -> np.ndarray:
        """The codes of those of `cluster_ids` among the candidates."""
        return np.array([self.code[c] for c in cluster_ids if c in self.code], dtype=np.int64)

    def unsent(self, feed_ids: Collection[str], sent: np.ndarray) -> np.ndarray:
        """One reader's candidates, as indices: those of `feed_ids` whose idea's code is not in `sent` (never sent to
        the reader), one phrasing per idea (the idea's face, else the first of the best-scored), in the order each idea
        first appears."""
        lists = [self.by_feed[f] for f in feed_ids if f in self.by_feed]
        if not lists:
            return np.zeros(0, dtype=np.int64)
        idx = np.sort(np.concatenate(lists)) if len(lists) > 1 else lists[0]
        if sent.size:
            idx = idx[~self.among(idx, sent)]
        if not idx.size:
            return idx
        ideas = self.codes[idx]
        best = np.lexsort((np.arange(idx.size), -self.score[idx], ~self.is_face[idx], ideas))
        firsts = np.ones(idx.size, dtype=bool)
        firsts[1:] = ideas[best][1:] != ideas[best][:-1]
        chosen = best[firsts]  # one per idea, by idea code
        _, appears = np.unique(ideas, return_index=True)  # where each idea (by code) first appears
        return idx[chosen[np.argsort(appears, kind="stable")]]

    def among(self, idx: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Whether each of the rows `idx` has one of the ideas `codes` (a mask over the ideas: `np.isin` sorts)."""
        mask = np.zeros(len(self.code), dtype=bool)
        mask[codes] = True
        return mask[self.codes[idx]]

    def vectors(self, idx: Sequence[int] | np.ndarray, dim: int) -> np.ndarray:
        """The embeddings (all of size `dim`) of the rows `idx`, as a fresh (N, dim) float32 array."""
        if dim not in self._vectors:
            of_dim = np.flatnonzero(self.dims == dim)
            at = np.full(len(self.rows), -1, dtype=np.int64)
            at[of_dim] = np.arange(len(of_dim))
            blob = b"".join([self.rows[i].embedding for i in of_dim.tolist()])
            self._vectors[dim] = (np.frombuffer(blob, dtype=np.float32).reshape(len(of_dim), dim).copy(), at)
        table, at = self._vectors[dim]
        return table[at[np.asarray(idx, dtype=np.int64)]]


@dataclass
class _Reader:
    """One reader's part of a batch, between its steps."""

    user: Row[Any]
    mode: str
    followed: list[str]
    rows: list[int]  # indices into the batch's candidates: the reader's own first, then the discovered ones
    own: int  # how many of `rows` are the reader's own
    dim: int
    interests: np.ndarray


def _draft_many(
    session: Session,
    users: Sequence[Row[Any]],
    embedder: Embedder | None,
    now: datetime,
    options: BriefOptions,
    candidates: Candidates,
) -> list[list[dict[str, Any]]]:
    if not users:
        return []
    ids = list(dict.fromkeys(u.id for u in users))
    follows = _by_user(
        session.execute(select(subscriptions.c.user_id, subscriptions.c.feed_id).where(subscriptions.c.user_id.in_(ids)))
    )
    modes: list[str] = []
    for user in users:
        mode = discover_mode(user)
        if mode == "mix" and not follows.get(user.id):
            mode = "only"  # nothing of the reader's own to keep first: the catalog fills the brief
        modes.append(mode)
    catalog_urls = _catalog_urls(session)  # one read: a removal racing this build cannot split ids from URLs
    in_catalog = set(catalog_urls)
    discovering = {u.id for u, mode in zip(users, modes, strict=True) if mode != "off" and u.interests}
    own_feeds = {f for u, mode in zip(users, modes, strict=True) if mode != "only" for f in follows.get(u.id, [])}
    feed_ids = own_feeds | (in_catalog if discovering else set())
    cutoff = now - timedelta(days=options.candidate_days)
    shared = candidates.get(session, feed_ids, own_feeds, cutoff, now)
    sent = _by_user(
        session.execute(
            select(sent_clusters.c.user_id, sent_clusters.c.cluster_id).where(
                sent_clusters.c.user_id.in_(ids),
                # (only ideas with a recent insight can be among the candidates)
                exists().where(insights.c.cluster_id == sent_clusters.c.cluster_id, insights.c.created_at >= cutoff),
            )
        )
        if shared.rows
        else []
    )
    turned_down = _by_user(
        session.execute(
            select(feedback.c.user_id, insights.c.feed_id)
            .join(feedback, feedback.c.insight_id == insights.c.insight_id)
            .where(feedback.c.user_id.in_(list(discovering)), feedback.c.vote == "down")
        )
        if discovering
        else []
    )
    readers: list[_Reader | None] = []
    for user, mode in zip(users, modes, strict=True):
        followed = follows.get(user.id, [])
        sent_to = shared.codes_of(sent.get(user.id, ()))
        mine = shared.unsent(followed, sent_to) if mode != "only" else np.zeros(0, dtype=np.int64)
        own = mine.tolist()
        found: list[int] = []
        if user.id in discovering:
            down = set(turned_down.get(user.id, ())) - set(followed)
            scanned = in_catalog - set(followed) - down
            others = shared.unsent(scanned, sent_to)
            found = others[~shared.among(others, shared.codes[mine])].tolist()
        if not own and not found:
            readers.append(None)
            continue
        # Insights embedded by different models cannot be compared; keep the common space (the reader's own shows' first).
        dims = shared.dims[own or found]
        if dims.min() != dims.max():
            dim = Counter(dims.tolist()).most_common(1)[0][0]
            own = [i for i in own if shared.dim_of[i] == dim]
        else:
            dim = int(dims[0])
        interests = for_ranking(user, embedder, dim)
        if found:  # (found only for a reader with interests)
            found = _most_relevant(shared, found, interests, dim, options.discovery)
        rows = own + found
        readers.append(_Reader(user, mode, followed, rows, len(own), dim, interests) if rows else None)
    live = [r for r in readers if r is not None]
    if not live:
        return [[] for _ in users]
    # The shows of each discovered idea (the reader's own candidates were read with theirs).
    shows = shows_per_cluster(
        session, {shared.rows[i].cluster_id for r in live for i in r.rows[r.own :] if shared.rows[i].shows is None}
    )
    votes = _votes(session, {r.user.id for r in live}, shared)
    picks: list[tuple[list[int], list[int]]] = []
    ranked: list[tuple[Pool, Tastes, np.ndarray]] = []
    for reader in live:
        index = np.array(reader.rows, dtype=np.int64)
        said = shared.shows[index]
        for n in np.flatnonzero(said < 0).tolist():
            said[n] = shows.get(shared.rows[reader.rows[n]].cluster_id, 1)
        pool = Pool(
            embeddings=shared.vectors(index, reader.dim),
            quality=shared.quality[index],
            age_hours=shared.age_hours[index],
            shows=said,
            episodes=shared.episodes[index],
        )
        is_own = np.arange(len(index)) < reader.own
        tastes = _tastes(votes.get(reader.user.id, []), reader.interests, reader.dim)
        parts = taste_parts(pool, tastes)
        scores = score(pool, tastes, options.weights, parts)
        relevance = parts[0][0]
        discoverable = ~is_own & (relevance >= options.discovery.min_match)
        size = reader.user.brief_size
        picked_own = _pick(scores, is_own, pool, size, options.weights)
        if reader.mode == "only":
            picked, discovered = [], _pick(scores, discoverable, pool, size, options.weights)
        elif reader.mode == "mix":
            picked, discovered = _mix(scores, relevance, discoverable, pool, picked_own, size, options)
        else:
            picked, discovered = picked_own, []
        picks.append((picked, discovered))
        ranked.append((pool, tastes, relevance))
    chosen_ids = [shared.rows[reader.rows[i]].insight_id for reader, (p, d) in zip(live, picks, strict=True) for i in p + d]
    full = candidates.described(session, chosen_ids)
    # Catalog shows are public: their links show for every reader.
    described = describe_many(
        session,
        [
            ([full[shared.rows[reader.rows[i]].insight_id] for i in p + d], set(reader.followed) | in_catalog)
            for reader, (p, d) in zip(live, picks, strict=True)
        ],
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for reader, (picked, discovered), (pool, tastes, relevance), items in zip(live, picks, ranked, described, strict=True):
        chosen = picked + discovered
        found_flags = [i >= reader.own for i in chosen]
        why = _reasons(tastes, reader.user, pool, relevance, found_flags, chosen, options.discovery.min_match)
        brief = []
        for n, (item, i) in enumerate(zip(items, chosen, strict=True), start=1):
            row = shared.rows[reader.rows[i]]
            offer = _subscribe_offer(options.base_url, catalog_urls[row.feed_id]) if i in discovered else None
            brief.append({**item, "rank": n, "discovered": i in discovered, "subscribe": offer, "why": why[n - 1]})
        out[id(reader)] = brief
    return [[] if r is None else out[id(r)] for r in readers]


def _shared_candidates(
    session: Session, feed_ids: Collection[str], counted: Collection[str], cutoff: datetime
) -> list[Candidate]:
    """`Candidate`s of the recent insights of `feed_ids`, oldest first (ties by id), whatever was sent to whom; with
    their shows counted where the feed is in `counted` (the readers' own shows, whose candidates are nearly all
    ranked: one index lookup per row is worth it there, not for the catalog's), else None."""
    if not feed_ids:
        return []
    shows = _shows_said()
    if counted != feed_ids:
        shows = case((insights.c.feed_id.in_(list(counted)), shows), else_=null()) if counted else null()
    rows = session.execute(
        select(*_candidate_columns(shows))
        .outerjoin(clusters, clusters.c.cluster_id == insights.c.cluster_id)
        .where(insights.c.feed_id.in_(list(feed_ids)), insights.c.created_at >= cutoff)
        .order_by(insights.c.created_at, insights.c.insight_id)
    ).all()
    return [Candidate._make(r) for r in rows]


def _most_relevant(shared: _Shared, rows: list[int], interests: np.ndarray, dim: int, discovery: Discovery) -> list[int]:
    """The catalog candidates worth ranking: in the reader's vector space, matching an interest at least `min_match`,
    at most `pool` of them (the best matches), so a large catalog costs a brief little."""
    rows = [i for i in rows if shared.dim_of[i] == dim]
    if not rows or interests.shape[0] == 0 or interests.shape[1] != dim:
        return []
    best = (shared.vectors(rows, dim) @ interests.T.astype(np.float32)).max(axis=1)
    order = [int(i) for i in np.argsort(-best, kind="stable") if best[i] >= discovery.min_match]
    return [rows[i] for i in order[: discovery.pool]]


def _pick(scores: np.ndarray, available: np.ndarray, pool: Pool, size: int, weights: Weights) -> list[int]:
    """The best `size` of the `available` candidates (MMR, per-episode cap)."""
    if not available.any():
        return []
    masked = np.where(available[None, :], scores, -np.inf)
    return select_picks(masked, pool, size, weights)[0]


def _mix(
    scores: np.ndarray,
    relevance: np.ndarray,
    discoverable: np.ndarray,
    pool: Pool,
    own: list[int],
    size: int,
    options: BriefOptions,
) -> tuple[list[int], list[int]]:
    """The reader's own picks first; at most `slots` discovered ones take empty slots, or replace the own item that
    matches the reader's interests worst when they match clearly (`margin`) better."""
    kept = list(own)
    discovered: list[int] = []
    for i in _pick(scores, discoverable, pool, options.discovery.slots, options.weights):
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


@dataclass(frozen=True)
class Drafted:
    """A brief drafted ahead of its write (`draft_many`): the user's row it was drafted for, and its items."""

    user: Row[Any]
    items: list[dict[str, Any]]


def build(
    session: Session,
    user_id: str,
    embedder: Embedder | None,
    now: datetime,
    options: BriefOptions,
    period: str | None = None,
    drafted: Drafted | None = None,
) -> dict[str, Any] | None:
    """Build the user's brief, store it with a pending delivery per active webhook; None when nothing is new.

    Storing marks its ideas sent, so no later brief repeats them. With `period` set, a second
    brief for the same user and period violates a unique key: the caller's transaction fails.

    `drafted` (the scheduler's, drafted with other readers' in a read session before this transaction) is stored
    as it is while the user's row is unchanged and none of its ideas was sent meanwhile; else the brief is drafted
    again here.
    """
    user = session.execute(select(users).where(users.c.id == user_id)).first()
    if user is None:
        raise NotFound("user not found")
    if user.brief_error is not None:  # a brief is built (or found empty) now: the reader's last problem is over
        session.execute(update(users).where(users.c.id == user_id).values(brief_error=None, brief_error_at=None))
    if drafted is not None and drafted.user == user and not _sent_meanwhile(session, user_id, drafted.items):
        items = drafted.items
    else:
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


def _sent_meanwhile(session: Session, user_id: str, items: list[dict[str, Any]]) -> bool:
    """Whether an idea of `items` was sent to the user (by another brief) since they were drafted."""
    if not items:
        return False
    ideas = [i["cluster_id"] for i in items]
    return bool(
        session.execute(
            select(sent_clusters.c.cluster_id)
            .where(sent_clusters.c.user_id == user_id, sent_clusters.c.cluster_id.in_(ideas))
            .limit(1)
        ).first()
    )


def pending_delivery_ids(session: Session, brief_id: str) -> list[str]:
    """The brief's deliveries still waiting for an attempt."""
    return list(
        session.execute(
            select(deliveries.c.id).where(deliveries.c.brief_id == brief_id, deliveries.c.status == "pending")
        ).scalars()
    )


# Built once: making a statement object costs more than running it (110 of 180 us a call on SQLite). Each reader's
# newest brief is found by the (user_id, created_at) index; only those rows' payloads are read.
_NEWEST_ID = (
    select(briefs.c.id)
    .where(briefs.c.user_id == users.c.id)
    .order_by(briefs.c.created_at.desc(), briefs.c.id)
    .limit(1)
    .correlate(users)
    .scalar_subquery()
)
_LATEST = select(briefs.c.user_id, briefs.c.payload).where(
    briefs.c.id.in_(select(_NEWEST_ID).where(users.c.id.in_(bindparam("user_ids", expanding=True))))
)


def latest_payloads(store: Store, user_ids: Sequence[str]) -> dict[str, str | None]:
    """The stored JSON of each of `user_ids`' newest brief (None before the first one, or once its content was
    pruned), in one statement built once, on a bare connection: this is the API's
    hottest read (`Context.latest` gathers concurrent requests into one call). On SQLite the lone SELECT is a
    consistent snapshot of its own, with no BEGIN around it."""
    out: dict[str, str | None] = dict.fromkeys(user_ids)
    with store.engine.connect().execution_options(**{LONE_READ: True}) as conn:
        for user_id, payload in conn.execute(_LATEST, {"user_ids": list(out)}):
            out[user_id] = None if payload == PRUNED else payload
    return out


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
