"""The feed registry: feeds, their poll state and the episodes already seen, in the service's store.

Every function takes the caller's session, so a poll's episodes, its outbox events and the
feed's new state commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podbrief_contracts import episode_id_for
from podbrief_runtime.sqltypes import UTCDateTime
from podbrief_runtime.store import Store
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from podbrief_ingest import migrate
from podbrief_ingest.discovery import newest_first, split_first_poll, unseen
from podbrief_ingest.messages import episode_discovered, feed_status_changed
from podbrief_ingest.model import FeedState, PollResult

metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("subscribed_url", Text, nullable=False),
    Column("title", Text),
    Column("image", Text),
    Column("status", String(16)),
    Column("last_error", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("episodes_seen", Integer, nullable=False, default=0),
    # False until the first successful read: that read announces only the newest few episodes.
    Column("primed", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime, nullable=False, index=True),
    # A poller process leases the feeds it polls, so several ingest processes never poll one feed at once.
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
)

# Whether anyone still follows a feed: notify says when a feed gains (FeedSubscribed) and loses its last follower
# (FeedUnsubscribed). The two come on different topics, so the newer time wins. A feed without a row is followed
# (feeds registered before this table existed).
follows = Table(
    "follows",
    metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("subscribed_at", UTCDateTime),
    Column("unsubscribed_at", UTCDateTime),
)

# The primary key is episode_id = stable_id(feed_id, guid): unique (feed_id, guid) without indexing long GUIDs.
episodes = Table(
    "episodes",
    metadata,
    Column("episode_id", String(64), primary_key=True),
    Column("feed_id", String(64), ForeignKey("feeds.feed_id"), nullable=False, index=True),
    Column("guid", Text, nullable=False),
    Column("announced", Boolean, nullable=False),
    Column("discovered_at", UTCDateTime, nullable=False),
)


def open_store(url: str) -> Store:
    """The service's store, migrated to the latest schema first (see `migrate.py`)."""
    migrate.upgrade(url)
    return Store(url)


@dataclass(frozen=True)
class Recorded:
    """What recording a poll did."""

    announced: int
    status_emitted: bool


def add_feed(session: Session, feed_id: str, url: str, now: datetime) -> bool:
    """Register a feed, due at once; False when it is already known (one feed however many subscribe)."""
    if session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id)).first():
        return False
    session.execute(
        insert(feeds).values(
            feed_id=feed_id,
            url=url.strip(),
            subscribed_url=url,
            created_at=now,
            next_poll_at=now,
            failures=0,
            episodes_seen=0,
            primed=False,
        )
    )
    return True


def _unfollowed() -> Any:
    """Feeds whose last follower left after the last subscription: not polled."""
    return exists().where(
        follows.c.feed_id == feeds.c.feed_id,
        follows.c.unsubscribed_at.is_not(None),
        or_(follows.c.subscribed_at.is_(None), follows.c.unsubscribed_at > follows.c.subscribed_at),
    )


def followed(session: Session, feed_id: str, at: datetime) -> bool:
    """Record that the feed has a follower as of `at`; True when it was unfollowed until now (polling resumes)."""
    row = session.execute(select(follows).where(follows.c.feed_id == feed_id)).first()
    if row is None:
        session.execute(insert(follows).values(feed_id=feed_id, subscribed_at=at, unsubscribed_at=None))
        return False
    was_unfollowed = row.unsubscribed_at is not None and (row.subscribed_at is None or row.unsubscribed_at > row.subscribed_at)
    if row.subscribed_at is None or at > row.subscribed_at:
        session.execute(update(follows).where(follows.c.feed_id == feed_id).values(subscribed_at=at))
        if was_unfollowed and at > row.unsubscribed_at:
            session.execute(update(feeds).where(feeds.c.feed_id == feed_id).values(next_poll_at=at))
            return True
    return False


def unfollowed(session: Session, feed_id: str, at: datetime) -> None:
    """Record that the feed lost its last follower at `at` (a newer subscription, already seen, still wins)."""
    row = session.execute(select(follows).where(follows.c.feed_id == feed_id)).first()
    if row is None:
        session.execute(insert(follows).values(feed_id=feed_id, subscribed_at=None, unsubscribed_at=at))
    elif row.unsubscribed_at is None or at > row.unsubscribed_at:
        session.execute(update(follows).where(follows.c.feed_id == feed_id).values(unsubscribed_at=at))


def claim_due(session: Session, now: datetime, limit: int, owner: str, lease_until: datetime) -> list[FeedState]:
    """Lease up to `limit` followed feeds due at `now` to `owner` (oldest due first) and return them."""
    claimable = and_(
        feeds.c.next_poll_at <= now, or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now), ~_unfollowed()
    )
    due = select(feeds.c.feed_id).where(claimable).order_by(feeds.c.next_poll_at).limit(limit)
    # The conditions are repeated outside the subquery so a concurrent claimer's lease is re-checked per row.
    session.execute(update(feeds).where(feeds.c.feed_id.in_(due), claimable).values(lease_owner=owner, lease_until=lease_until))
    rows = session.execute(
        select(feeds.c.feed_id, feeds.c.url, feeds.c.etag, feeds.c.last_modified, feeds.c.failures).where(
            feeds.c.lease_owner == owner
        )
    ).all()
    return [
        FeedState(feed_id=r.feed_id, url=r.url, etag=r.etag, last_modified=r.last_modified, failures=r.failures) for r in rows
    ]


def next_due_at(session: Session) -> datetime | None:
    """When the next unleased feed falls due (None when there are no feeds)."""
    return session.execute(
        select(func.min(feeds.c.next_poll_at)).where(feeds.c.lease_until.is_(None), ~_unfollowed())
    ).scalar()


def record_poll(
    session: Session, result: PollResult, *, failures: int, next_poll_at: datetime, first_poll_episodes: int
) -> Recorded:
    """Store a poll's outcome: new episodes (each announced once, ever), the feed's state, and its status event."""
    row = session.execute(select(feeds).where(feeds.c.feed_id == result.feed_id)).one_or_none()
    if row is None:
        return Recorded(announced=0, status_emitted=False)
    parsed = result.feed
    title = (parsed.title if parsed and parsed.title else None) or row.title
    image = (parsed.image if parsed else None) or row.image
    announced = 0
    primed = row.primed
    if result.status == "ok" and parsed is not None:
        announced = _record_episodes(session, result, row, title or result.url, image, first_poll_episodes)
        primed = True
    last_success_at = result.polled_at if result.status != "error" else row.last_success_at
    values: dict[str, Any] = {
        "url": result.url,
        "title": title,
        "image": image,
        "status": result.status,
        "last_error": result.error,
        "etag": result.etag,
        "last_modified": result.last_modified,
        "failures": failures,
        "episodes_seen": row.episodes_seen + announced,
        "primed": primed,
        "last_polled_at": result.polled_at,
        "last_success_at": last_success_at,
        "next_poll_at": next_poll_at,
        "lease_owner": None,
        "lease_until": None,
    }
    session.execute(update(feeds).where(feeds.c.feed_id == result.feed_id).values(**values))
    changed = (row.status, row.last_error, row.url, row.title) != (result.status, result.error, result.url, title)
    if changed or announced:
        Store.emit(
            session,
            feed_status_changed(
                feed_id=result.feed_id,
                feed_url=result.url,
                title=title,
                status=result.status,
                polled_at=result.polled_at,
                last_success_at=last_success_at,
                last_error=result.error,
                episodes_seen=values["episodes_seen"],
                notes=list(parsed.notes) if parsed is not None else [],
            ),
        )
    return Recorded(announced=announced, status_emitted=bool(changed or announced))


def _record_episodes(session: Session, result: PollResult, row: Any, title: str, image: str | None, first_poll: int) -> int:
    """Insert the unseen episodes' rows and emit their announcements in the same transaction; returns how many."""
    assert result.feed is not None
    seen = set(session.scalars(select(episodes.c.guid).where(episodes.c.feed_id == result.feed_id)))
    fresh = unseen(result.feed.episodes, seen)
    announce, quiet = (fresh, []) if row.primed else split_first_poll(fresh, first_poll)
    # Oldest first, so downstream sees a burst of new episodes in publication order.
    announce = list(reversed(newest_first(announce)))
    rows = [_episode_row(result, ep.guid, announced=True) for ep in announce]
    rows += [_episode_row(result, ep.guid, announced=False) for ep in quiet]
    if rows:
        session.execute(insert(episodes), rows)
    for episode in announce:
        Store.emit(session, episode_discovered(result.feed_id, result.url, title, image, episode))
    return len(announce)


def _episode_row(result: PollResult, guid: str, announced: bool) -> dict[str, Any]:
    return {
        "episode_id": episode_id_for(result.feed_id, guid),
        "feed_id": result.feed_id,
        "guid": guid,
        "announced": announced,
        "discovered_at": result.polled_at,
    }


def feed_statuses(session: Session) -> list[dict[str, Any]]:
    """Every feed with its status, oldest subscription first; `pending` until its first poll."""
    rows = session.execute(select(feeds).order_by(feeds.c.created_at, feeds.c.feed_id)).all()
    return [
        {
            "feed_id": r.feed_id,
            "url": r.url,
            "title": r.title,
            "status": r.status or "pending",
            "last_polled_at": r.last_polled_at,
            "last_success_at": r.last_success_at,
            "last_error": r.last_error,
            "episodes_seen": r.episodes_seen,
            "next_poll_at": r.next_poll_at,
        }
        for r in rows
    ]
