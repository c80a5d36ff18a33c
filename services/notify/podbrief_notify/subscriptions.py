"""Subscriptions to feeds; each new one emits FeedSubscribed through the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from podbrief_contracts import FeedSubscribed, FeedUnsubscribed, feed_id_for, stable_id
from podbrief_runtime.store import Store
from sqlalchemy import Row, Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podbrief_notify.exceptions import Conflict, EmailNotConfirmed, LimitReached, NotFound
from podbrief_notify.tables import catalog, episodes, feeds, insights, subscriptions


def subscribe(
    session: Session, user_id: str, feed_url: str, now: datetime, limit: int, unconfirmed_limit: int | None = None
) -> str:
    """Subscribe the user to the (normalised) `feed_url` and emit FeedSubscribed; returns the subscription id.

    `unconfirmed_limit` is set for a user whose email address must be confirmed and is not yet: a cap on
    what a throwaway account can make ingest poll.
    """
    count = session.execute(select(func.count()).where(subscriptions.c.user_id == user_id)).scalar_one()
    if unconfirmed_limit is not None and count >= unconfirmed_limit:
        raise EmailNotConfirmed(
            f"confirm your email address to follow more than {unconfirmed_limit} feeds: open the link emailed to you "
            "at sign-up (POST /v1/me/confirmation sends a new one)"
        )
    if count >= limit:
        raise LimitReached(f"at most {limit} subscriptions per user")
    feed_id = feed_id_for(feed_url)
    sub_id = str(uuid.uuid4())
    # Serialised with unsubscribes of the same feed (see `unsubscribe`).
    session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id).with_for_update())
    try:
        with session.begin_nested():
            session.execute(
                insert(subscriptions).values(id=sub_id, user_id=user_id, feed_id=feed_id, feed_url=feed_url, created_at=now)
            )
    except IntegrityError as exc:
        raise Conflict(f"already subscribed to {feed_url}") from exc
    ensure_feed_row(session, feed_id, feed_url)
    Store.emit(
        session,
        FeedSubscribed(event_id=stable_id("feed-subscribed", sub_id), feed_id=feed_id, feed_url=feed_url, subscription_id=sub_id),
    )
    return sub_id


def ensure_feed_row(session: Session, feed_id: str, feed_url: str) -> None:
    """The feed's status row, pending until its first poll (a subscription or the catalog adds it)."""
    if session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id)).first() is None:
        try:
            with session.begin_nested():
                session.execute(insert(feeds).values(feed_id=feed_id, feed_url=feed_url, episodes_seen=0))
        except IntegrityError:
            pass  # its status arrived (or a reader subscribed, or the catalog added it) a moment ago


def _query() -> Select[Any]:
    # A correlated count per row uses the feed_id index instead of aggregating every insight.
    insight_count = select(func.count()).where(insights.c.feed_id == subscriptions.c.feed_id).scalar_subquery()
    episodes_ranked = (
        select(func.count(func.distinct(insights.c.episode_id)))
        .where(insights.c.feed_id == subscriptions.c.feed_id)
        .scalar_subquery()
    )
    failed = (
        select(func.count())
        .where(episodes.c.feed_id == subscriptions.c.feed_id, episodes.c.state == "failed")
        .scalar_subquery()
    )
    latest_failure = (
        select(episodes.c.reason)
        .where(episodes.c.feed_id == subscriptions.c.feed_id, episodes.c.state == "failed")
        .order_by(episodes.c.updated_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            subscriptions,
            failed.label("episodes_failed"),
            latest_failure.label("latest_failure"),
            feeds.c.title,
            feeds.c.status,
            feeds.c.last_polled_at,
            feeds.c.last_success_at,
            feeds.c.last_error,
            feeds.c.episodes_seen,
            feeds.c.notes,
            insight_count.label("insight_count"),
            episodes_ranked.label("episodes_ranked"),
        )
        .select_from(subscriptions)
        .outerjoin(feeds, feeds.c.feed_id == subscriptions.c.feed_id)
    )


def public(row: Row[Any]) -> dict[str, Any]:
    """The API view of a subscription row with its feed status."""
    return {
        "id": row.id,
        "feed_id": row.feed_id,
        "feed_url": row.feed_url,
        "created_at": row.created_at,
        "feed": {
            "title": row.title,
            "status": row.status or "pending",
            "last_polled_at": row.last_polled_at,
            "last_success_at": row.last_success_at,
            "last_error": row.last_error,
            "episodes_discovered": row.episodes_seen or 0,
            "insights": row.insight_count,
            "episodes_with_insights": row.episodes_ranked,
            "episodes_failed": row.episodes_failed,
            "latest_failure": row.latest_failure,
            "notes": row.notes or [],
        },
    }


def get_subscription(session: Session, user_id: str, sub_id: str) -> dict[str, Any]:
    """One of the user's subscriptions with its feed status; NotFound for anyone else's."""
    row = session.execute(_query().where(subscriptions.c.id == sub_id, subscriptions.c.user_id == user_id)).first()
    if row is None:
        raise NotFound("subscription not found")
    return public(row)


def list_subscriptions(session: Session, user_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's subscriptions, oldest first, and the total."""
    rows = session.execute(
        _query()
        .where(subscriptions.c.user_id == user_id)
        .order_by(subscriptions.c.created_at, subscriptions.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).where(subscriptions.c.user_id == user_id)).scalar_one()
    return [public(r) for r in rows], total


def all_feed_urls(session: Session, user_id: str) -> list[tuple[str, str | None]]:
    """(feed URL, title) of every subscription of the user, for OPML export."""
    rows = session.execute(
        select(subscriptions.c.feed_url, feeds.c.title)
        .select_from(subscriptions.outerjoin(feeds, feeds.c.feed_id == subscriptions.c.feed_id))
        .where(subscriptions.c.user_id == user_id)
        .order_by(subscriptions.c.created_at)
    ).tuples()
    return list(rows)


def unsubscribe(session: Session, user_id: str, sub_id: str) -> bool:
    """Delete one of the user's subscriptions (NotFound for anyone else's); when it was the feed's last follower and
    the feed is not in the catalog, emit FeedUnsubscribed so ingest stops polling it. True when an event was emitted."""
    feed_id = session.execute(
        select(subscriptions.c.feed_id).where(subscriptions.c.id == sub_id, subscriptions.c.user_id == user_id)
    ).scalar_one_or_none()
    if feed_id is None:
        raise NotFound("subscription not found")
    # One follower change per feed at a time (PostgreSQL row lock; SQLite writers are serialised anyway), so "was this
    # the last follower?" cannot race a concurrent subscribe or unsubscribe.
    session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id).with_for_update())
    session.execute(delete(subscriptions).where(subscriptions.c.id == sub_id))
    if session.execute(select(subscriptions.c.id).where(subscriptions.c.feed_id == feed_id).limit(1)).first() is not None:
        return False
    if session.execute(select(catalog.c.feed_id).where(catalog.c.feed_id == feed_id)).first() is not None:
        return False  # the catalog keeps it polled for everyone
    Store.emit(session, FeedUnsubscribed(event_id=stable_id("feed-unsubscribed", sub_id), feed_id=feed_id))
    return True


def subscribed_feed_ids(session: Session, user_id: str) -> list[str]:
    """The feeds the user follows."""
    return list(session.execute(select(subscriptions.c.feed_id).where(subscriptions.c.user_id == user_id)).scalars())


def episode_list(session: Session, user_id: str, sub_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the episodes of one of the user's subscriptions, newest first, with their state; NotFound otherwise."""
    feed_id = session.execute(
        select(subscriptions.c.feed_id).where(subscriptions.c.id == sub_id, subscriptions.c.user_id == user_id)
    ).scalar_one_or_none()
    if feed_id is None:
        raise NotFound("subscription not found")
    rows = session.execute(
        select(episodes)
        .where(episodes.c.feed_id == feed_id)
        .order_by(episodes.c.first_seen_at.desc(), episodes.c.episode_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    data = [
        {
            "episode_id": r["episode_id"],
            "title": r["title"],
            "state": r["state"],
            "reason": r["reason"],
            "insights": r["insights"],
            "notes": r["notes"],
            "first_seen_at": r["first_seen_at"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]
    total = session.execute(select(func.count()).where(episodes.c.feed_id == feed_id)).scalar_one()
    return data, total


def failures_of_followed_shows(
    session: Session, user_id: str, since: datetime, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Episodes of the user's shows that failed between `since` and `until` (title, show, reason), newest first: for
    the brief's footer (an older brief lists what had failed by its own time, not later)."""
    rows = session.execute(
        select(episodes.c.title, episodes.c.reason, feeds.c.title.label("show"))
        .select_from(episodes.join(subscriptions, subscriptions.c.feed_id == episodes.c.feed_id))
        .outerjoin(feeds, feeds.c.feed_id == episodes.c.feed_id)
        .where(
            subscriptions.c.user_id == user_id,
            episodes.c.state == "failed",
            episodes.c.updated_at >= since,
            episodes.c.updated_at <= (until or datetime.max.replace(tzinfo=UTC)),
        )
        .order_by(episodes.c.updated_at.desc())
        .limit(10)
    ).mappings()
    return [dict(r) for r in rows]


def failures_by_feed(session: Session) -> dict[str, dict[str, Any]]:
    """Every feed with failed episodes: their count and the latest reason."""
    out: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(episodes.c.feed_id, episodes.c.reason).where(episodes.c.state == "failed").order_by(episodes.c.updated_at)
    ).all()
    for feed_id, reason in rows:
        entry = out.setdefault(feed_id, {"episodes_failed": 0, "latest_failure": None})
        entry["episodes_failed"] += 1
        entry["latest_failure"] = reason
    return out
