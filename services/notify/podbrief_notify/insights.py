"""Insights as notify keeps them: stored from InsightCreated, described for briefs and the API."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from podbrief_contracts import EpisodeDiscovered, EpisodeStatusChanged, FeedStatusChanged, InsightCreated, is_web_url
from sqlalchemy import Row, and_, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podbrief_notify.tables import (
    catalog,
    clusters,
    episodes,
    feedback,
    feeds,
    insight_links,
    insights,
    sent_clusters,
    subscriptions,
)

RELATED_PER_INSIGHT = 3
_LINK_TARGET = insights.alias("target")  # built once: an alias proxies every column, which costs a call its time


def timestamp_link(enclosure_url: str | None, start: float) -> str | None:
    """A link that opens the audio at `start` (Media Fragments `#t=`); None without an http(s) audio URL."""
    return f"{enclosure_url}#t={int(start)}" if _web(enclosure_url) else None


def _web(url: str | None) -> str | None:
    # Events carry only http(s) URLs; this keeps anything stored before that rule out of briefs and webhooks too.
    return url if url is not None and _is_web(url) else None


@lru_cache(maxsize=8192)
def _is_web(url: str) -> bool:
    """`is_web_url`, remembered: a round of briefs checks the same few thousand URLs for every reader."""
    return is_web_url(url)


def store_insight(session: Session, event: InsightCreated, now: datetime) -> bool:
    """Record an insight, its cluster and its related links; False when it was already stored."""
    if session.execute(select(insights.c.insight_id).where(insights.c.insight_id == event.insight_id)).first():
        return False
    ep = event.episode
    session.execute(
        insert(insights).values(
            insight_id=event.insight_id,
            cluster_id=event.cluster_id,
            feed_id=ep.feed_id,
            episode_id=ep.episode_id,
            podcast_title=ep.podcast_title,
            podcast_image=ep.podcast_image,
            episode_title=ep.episode_title,
            episode_link=ep.episode_link,
            enclosure_url=ep.enclosure_url,
            published_at=ep.published_at,
            text=event.text,
            start=event.start,
            end=event.end,
            score=event.score,
            keywords=list(event.keywords),
            embedding=np.asarray(event.embedding, dtype=np.float32).tobytes(),
            embedding_model=event.embedding_model,
            created_at=now,
            speaker=event.speaker,
            chapter=event.chapter,
            quote=event.quote,
            people=[{"name": p.name, "role": p.role} for p in ep.people],
        )
    )
    _record_cluster(session, event, now)
    _record_links(session, event)
    return True


def _record_cluster(session: Session, event: InsightCreated, now: datetime) -> None:
    known = session.execute(select(clusters.c.cluster_id).where(clusters.c.cluster_id == event.cluster_id)).first()
    if known is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(clusters).values(cluster_id=event.cluster_id, face_insight_id=event.insight_id, updated_at=now)
                )
            return
        except IntegrityError:
            pass  # another handler created it a moment ago; fall through to the face update
    if event.is_cluster_face:
        session.execute(
            update(clusters)
            .where(clusters.c.cluster_id == event.cluster_id)
            .values(face_insight_id=event.insight_id, updated_at=now)
        )


def _record_links(session: Session, event: InsightCreated) -> None:
    ep = event.episode
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for rel in event.related:
        if rel.insight_id == event.insight_id:
            continue
        pairs[(event.insight_id, rel.insight_id)] = dict(
            text=rel.text, podcast_title=rel.podcast_title, episode_title=rel.episode_title, similarity=rel.similarity
        )
        # The other direction: the older insight now has this one as a relation too.
        pairs[(rel.insight_id, event.insight_id)] = dict(
            text=event.text, podcast_title=ep.podcast_title, episode_title=ep.episode_title, similarity=rel.similarity
        )
    if not pairs:
        return
    existing = set(
        session.execute(
            select(insight_links.c.insight_id, insight_links.c.related_id).where(
                tuple_(insight_links.c.insight_id, insight_links.c.related_id).in_(list(pairs))
            )
        ).tuples()
    )
    rows = [{"insight_id": a, "related_id": b, **values} for (a, b), values in pairs.items() if (a, b) not in existing]
    if rows:
        session.execute(insert(insight_links), rows)


def store_feed_status(session: Session, event: FeedStatusChanged) -> None:
    """Keep the newest status of a feed; an older event arriving late changes nothing."""
    values = dict(
        feed_url=event.feed_url,
        title=event.title,
        status=event.status,
        last_polled_at=event.last_polled_at,
        last_success_at=event.last_success_at,
        last_error=event.last_error,
        episodes_seen=event.episodes_seen,
        status_at=event.occurred_at,
        notes=list(event.notes),
    )
    known = session.execute(select(feeds.c.status_at).where(feeds.c.feed_id == event.feed_id)).first()
    if known is None:
        try:
            with session.begin_nested():
                session.execute(insert(feeds).values(feed_id=event.feed_id, **values))
            return
        except IntegrityError:
            pass  # a subscription created the row concurrently; update it below
    session.execute(
        update(feeds)
        .where(feeds.c.feed_id == event.feed_id)
        .where(or_(feeds.c.status_at.is_(None), feeds.c.status_at <= event.occurred_at))
        .values(**values)
    )


def _new_episode(
    session: Session, episode_id: str, feed_id: str, title: str | None, state: str, at: datetime, **more: Any
) -> bool:
    """Insert the episode's first row; False when it exists already (another event, or another consumer, was first)."""
    values = {"reason": None, "insights": None, "notes": [], **more}
    try:
        with session.begin_nested():
            session.execute(
                insert(episodes).values(
                    episode_id=episode_id, feed_id=feed_id, title=title, state=state, first_seen_at=at, updated_at=at, **values
                )
            )
    except IntegrityError:
        return False
    return True


def store_episode_discovered(session: Session, event: EpisodeDiscovered) -> None:
    """List the episode as queued; a state that arrived first (events of other topics race this one) is kept."""
    if not _new_episode(session, event.episode_id, event.feed_id, event.title, "queued", event.occurred_at):
        session.execute(
            update(episodes)
            .where(episodes.c.episode_id == event.episode_id, episodes.c.first_seen_at > event.occurred_at)
            .values(first_seen_at=event.occurred_at)
        )


def store_episode_status(session: Session, event: EpisodeStatusChanged) -> None:
    """Keep the newest state of an episode; an older event arriving late changes nothing (notes accumulate)."""
    row = session.execute(select(episodes).where(episodes.c.episode_id == event.episode_id)).mappings().first()
    if row is None:
        details = {"reason": event.reason, "insights": event.insights, "notes": list(event.notes)}
        if _new_episode(session, event.episode_id, event.feed_id, event.episode_title, event.state, event.occurred_at, **details):
            return
        # Another consumer inserted it concurrently: merge below.
        row = session.execute(select(episodes).where(episodes.c.episode_id == event.episode_id)).mappings().one()
    notes = list(dict.fromkeys([*row["notes"], *event.notes]))
    values: dict[str, Any] = {"notes": notes, "first_seen_at": min(row["first_seen_at"], event.occurred_at)}
    # "done" is final for an attempt: a "transcribed" stamped later by another host's clock (or a late retry
    # report) does not undo it; only a newer "done" (a re-run) replaces it.
    superseded = row["state"] == "done" and event.state != "done"
    if event.occurred_at >= row["updated_at"] and not superseded:
        values.update(
            state=event.state,
            reason=event.reason,
            insights=event.insights if event.insights is not None else row["insights"],
            title=event.episode_title or row["title"],
            updated_at=event.occurred_at,
        )
    session.execute(update(episodes).where(episodes.c.episode_id == event.episode_id).values(**values))


_CHUNK = 5000  # ids bound in one IN list (SQLite binds at most 32,766 parameters a statement)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def shows_per_cluster(session: Session, cluster_ids: Iterable[str]) -> dict[str, int]:
    """How many distinct shows said each cluster's idea."""
    out: dict[str, int] = {}
    for ids in _chunks(list(set(cluster_ids))):
        rows = session.execute(
            select(insights.c.cluster_id, func.count(func.distinct(insights.c.feed_id)))
            .where(insights.c.cluster_id.in_(ids))
            .group_by(insights.c.cluster_id)
        ).all()
        out.update({cluster_id: count for cluster_id, count in rows})
    return out


_DESCRIBED = [c for c in insights.c if c.name != "embedding"]  # what a brief shows of an insight: all but its vector


def by_ids(session: Session, ids: Sequence[str]) -> list[Row[Any]]:
    """The rows of the insights `ids` without their vectors, in that order (an insight, once stored, is never changed
    or removed)."""
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        found.update({r.insight_id: r for r in session.execute(select(*_DESCRIBED).where(insights.c.insight_id.in_(chunk)))})
    return [found[i] for i in ids]


def describe(session: Session, rows: Sequence[Row[Any]], followed: Collection[str]) -> list[dict[str, Any]]:
    """The public view of insight rows for a reader who follows the feeds `followed`: show, episode, timestamp link,
    other shows, related insights.

    Links (audio, episode page, artwork) appear only for feeds the reader follows: a private feed's URLs carry its
    subscriber's secret, so what comes from other people's feeds is shown by show, episode title and text alone.
    """
    return describe_many(session, [(rows, followed)])[0]


def describe_many(session: Session, readers: Sequence[tuple[Sequence[Row[Any]], Collection[str]]]) -> list[list[dict[str, Any]]]:
    """`describe` for several readers at once, each (rows, followed): the other shows and related insights of all
    their rows are read once (what each reader sees of them still depends on the feeds that reader follows)."""
    rows = [r for mine, _ in readers for r in mine]
    if not rows:
        return [[] for _ in readers]
    members: list[Row[Any]] = []
    for cluster_ids in _chunks(sorted({r.cluster_id for r in rows})):
        members += session.execute(
            select(
                insights.c.insight_id,
                insights.c.cluster_id,
                insights.c.feed_id,
                insights.c.podcast_title,
                insights.c.episode_title,
                insights.c.enclosure_url,
                insights.c.start,
            )
            .where(insights.c.cluster_id.in_(cluster_ids))
            .order_by(insights.c.created_at, insights.c.insight_id)  # a cluster's members, oldest first
        ).all()
    by_cluster: dict[str, list[Row[Any]]] = {}
    for m in members:
        by_cluster.setdefault(m.cluster_id, []).append(m)
    links = _links_of({m.insight_id for m in members} | {r.insight_id for r in rows}, session)
    # A view depends on the reader only through which of its shows they follow (the row's, its idea's other shows',
    # its related insights'): readers who agree on those share it (a batch of briefs repeats many items).
    shows_of: dict[str, tuple[str, ...]] = {}
    for r in rows:
        if r.insight_id not in shows_of:
            said = [r.insight_id, *(m.insight_id for m in by_cluster.get(r.cluster_id, []))]
            related = {link["related_feed"] for i in said for link in links.get(i, [])}
            shows_of[r.insight_id] = tuple({r.feed_id, *(m.feed_id for m in by_cluster.get(r.cluster_id, [])), *related})
    views: dict[tuple[str, tuple[bool, ...]], dict[str, Any]] = {}
    out = []
    for mine, followed in readers:
        shown = set(followed)  # once per reader, not per item
        described = []
        for r in mine:
            key = (r.insight_id, tuple(f in shown for f in shows_of[r.insight_id]))
            if key not in views:
                views[key] = _view(r, by_cluster.get(r.cluster_id, []), links, shown)
            described.append(dict(views[key]))
        out.append(described)
    return out


def _links_of(ids: set[str], session: Session) -> dict[str, list[dict[str, Any]]]:
    target = _LINK_TARGET
    out: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(sorted(ids)):
        found = session.execute(
            select(
                insight_links,
                target.c.episode_id.label("related_episode"),
                target.c.cluster_id.label("related_cluster"),
                target.c.feed_id.label("related_feed"),
                target.c.enclosure_url.label("related_enclosure"),
                target.c.start.label("related_start"),
            )
            .select_from(insight_links.outerjoin(target, target.c.insight_id == insight_links.c.related_id))
            .where(insight_links.c.insight_id.in_(chunk))
            .order_by(insight_links.c.insight_id, insight_links.c.related_id)  # the key's order: equal similarities tie alike
        ).all()
        for link in found:
            out.setdefault(link.insight_id, []).append(link._asdict())
    return out


def _view(row: Row[Any], members: list[Row[Any]], links: dict[str, list[dict[str, Any]]], followed: set[str]) -> dict[str, Any]:
    also: dict[str, dict[str, Any]] = {}
    for m in members:
        if m.feed_id != row.feed_id and m.feed_id not in also:
            also[m.feed_id] = {
                "podcast_title": m.podcast_title,
                "episode_title": m.episode_title,
                "link": timestamp_link(m.enclosure_url, m.start) if m.feed_id in followed else None,
            }
    related: dict[str, dict[str, Any]] = {}
    for member_id in [row.insight_id, *(m.insight_id for m in members)]:
        for link in links.get(member_id, []):
            if link["related_cluster"] == row.cluster_id or link["related_episode"] == row.episode_id:
                continue
            # One entry per related idea: members of one cluster (the same idea on several shows) count once.
            idea = link["related_cluster"] or link["related_id"]
            best = related.get(idea)
            if best is None or link["similarity"] > best["similarity"]:
                related[idea] = {
                    "insight_id": link["related_id"],
                    "text": link["text"],
                    "podcast_title": link["podcast_title"],
                    "episode_title": link["episode_title"],
                    "similarity": round(float(link["similarity"]), 4),
                    "link": timestamp_link(link["related_enclosure"], link["related_start"])
                    if link["related_feed"] in followed
                    else None,
                }
    top = sorted(related.values(), key=lambda r: -r["similarity"])[:RELATED_PER_INSIGHT]
    own = row.feed_id in followed
    return {
        "insight_id": row.insight_id,
        "cluster_id": row.cluster_id,
        "text": row.text,
        "score": round(float(row.score), 4),
        "keywords": list(row.keywords or []),
        "show": {"feed_id": row.feed_id, "title": row.podcast_title, "image": _web(row.podcast_image) if own else None},
        "episode": {
            "id": row.episode_id,
            "title": row.episode_title,
            "link": _web(row.episode_link) if own else None,
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "enclosure_url": _web(row.enclosure_url) if own else None,
            "people": list(row.people or []),
        },
        "start": float(row.start),
        "end": float(row.end),
        "link": timestamp_link(row.enclosure_url, row.start) if own else None,
        "speaker": row.speaker,
        "chapter": row.chapter,
        "quote": row.quote,
        "also_said_on": list(also.values()),
        "related": top,
    }


def visible_insight(session: Session, user_id: str, insight_id: str) -> Row[Any] | None:
    """The insight if the user may see it (from a feed they follow or the catalog, or sent to them), else None."""
    followed = exists().where(and_(subscriptions.c.user_id == user_id, subscriptions.c.feed_id == insights.c.feed_id))
    sent = exists().where(and_(sent_clusters.c.user_id == user_id, sent_clusters.c.cluster_id == insights.c.cluster_id))
    public = exists().where(catalog.c.feed_id == insights.c.feed_id)
    return session.execute(select(insights).where(insights.c.insight_id == insight_id, or_(followed, sent, public))).first()


def record_feedback(session: Session, user_id: str, insight_id: str, vote: str, now: datetime) -> None:
    """Store the user's vote on an insight (a second vote replaces the first)."""
    changed = session.execute(
        update(feedback)
        .where(feedback.c.user_id == user_id, feedback.c.insight_id == insight_id)
        .values(vote=vote, created_at=now)
    )
    if not changed.rowcount:
        session.execute(insert(feedback).values(user_id=user_id, insight_id=insight_id, vote=vote, created_at=now))
