"""The catalog: shows the service scans for every reader besides their own subscriptions (the operator's list).

A catalog feed is polled like a subscribed one (FeedSubscribed through the outbox; ingest applies the same
first-poll cap) and stops being polled only when it leaves the catalog and no reader follows it. Its items are
public: any reader may be shown them, links included, as discovered items of their brief.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from podbrief_contracts import FeedSubscribed, FeedUnsubscribed, feed_id_for
from podbrief_runtime.store import Store
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podbrief_notify import opml
from podbrief_notify.exceptions import NotifyError
from podbrief_notify.subscriptions import ensure_feed_row, subscribed_feed_ids
from podbrief_notify.tables import catalog, catalog_imports, episodes, feeds, insights, subscriptions
from podbrief_notify.urls import normalise_url

log = logging.getLogger(__name__)

MAX_FEEDS = 5_000  # one catalog request or file


def catalog_feed_ids(session: Session) -> set[str]:
    """The feeds of the catalog."""
    return set(session.execute(select(catalog.c.feed_id)).scalars())


def public_feed_ids(session: Session, user_id: str) -> set[str]:
    """Feeds whose insights (and their links) the reader may see: the ones they follow and the catalog's."""
    return set(subscribed_feed_ids(session, user_id)) | catalog_feed_ids(session)


def add(session: Session, urls: Iterable[str], now: datetime) -> tuple[list[str], list[dict[str, str]]]:
    """Add feeds to the catalog (each one new to it emits FeedSubscribed); returns (feed ids added, rejected urls).

    The operator is trusted with the list: URLs are checked for form here, and every fetch ingest makes is checked
    against private addresses when it connects, as for any feed.
    """
    added: list[str] = []
    rejected: list[dict[str, str]] = []
    for url in list(dict.fromkeys(u.strip() for u in urls if u and u.strip()))[:MAX_FEEDS]:
        try:
            feed_url = normalise_url(url)
        except NotifyError as exc:
            rejected.append({"url": url, "reason": str(exc)})
            continue
        feed_id = feed_id_for(feed_url)
        session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id).with_for_update())
        try:
            with session.begin_nested():
                session.execute(insert(catalog).values(feed_id=feed_id, feed_url=feed_url, added_at=now))
        except IntegrityError:
            rejected.append({"url": url, "reason": "already in the catalog"})
            continue
        ensure_feed_row(session, feed_id, feed_url)
        # Each addition is a new fact (a feed can leave the catalog and come back): a fresh event id.
        Store.emit(session, FeedSubscribed(event_id=str(uuid.uuid4()), feed_id=feed_id, feed_url=feed_url))
        added.append(feed_id)
    return added, rejected


def remove(session: Session, feed_ids: Iterable[str]) -> list[str]:
    """Take feeds out of the catalog; one that no reader follows then stops being polled. Returns the ids removed."""
    removed: list[str] = []
    for feed_id in dict.fromkeys(feed_ids):
        # Serialised with subscribes and unsubscribes of the same feed (see subscriptions.unsubscribe).
        session.execute(select(feeds.c.feed_id).where(feeds.c.feed_id == feed_id).with_for_update())
        if not session.execute(delete(catalog).where(catalog.c.feed_id == feed_id)).rowcount:
            continue
        removed.append(feed_id)
        if session.execute(select(subscriptions.c.id).where(subscriptions.c.feed_id == feed_id).limit(1)).first() is None:
            Store.emit(session, FeedUnsubscribed(event_id=str(uuid.uuid4()), feed_id=feed_id))
    return removed


def feed_ids_for(urls: Iterable[str]) -> list[str]:
    """The feed ids of URLs as the catalog stores them (normalised); URLs that cannot be read are skipped."""
    return [i for i in _ids_or_none(list(urls)) if i is not None]


def _ids_or_none(urls: list[str]) -> list[str | None]:
    out: list[str | None] = []
    for url in urls:
        try:
            out.append(feed_id_for(normalise_url(url)))
        except NotifyError:
            out.append(None)  # kept, so that add() reports why it cannot be read
    return out


def entries(session: Session) -> list[dict[str, Any]]:
    """The catalog with each feed's status, oldest entry first."""
    count = select(func.count()).where(insights.c.feed_id == catalog.c.feed_id).scalar_subquery()
    done = select(func.count()).where(episodes.c.feed_id == catalog.c.feed_id, episodes.c.state == "done").scalar_subquery()
    rows = session.execute(
        select(
            catalog,
            feeds.c.title,
            feeds.c.status,
            feeds.c.last_error,
            feeds.c.episodes_seen,
            count.label("insights"),
            done.label("episodes_done"),
        )
        .outerjoin(feeds, feeds.c.feed_id == catalog.c.feed_id)
        .order_by(catalog.c.added_at, catalog.c.feed_id)
    ).all()
    return [
        {
            "feed_id": r.feed_id,
            "feed_url": r.feed_url,
            "added_at": r.added_at,
            "title": r.title,
            "status": r.status or "pending",
            "last_error": r.last_error,
            "insights": r.insights,
            "episodes_discovered": r.episodes_seen or 0,
            "episodes_done": r.episodes_done,
        }
        for r in rows
    ]


def feed_urls(data: bytes) -> list[str]:
    """The feed URLs of a catalog document: OPML, or one URL per line (blank lines and `#` comments ignored)."""
    if data.lstrip().startswith(b"<"):
        return opml.feed_urls(data, MAX_FEEDS)
    lines = (line.strip() for line in data.decode("utf-8", errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def seed(session: Session, path: Path, now: datetime) -> tuple[list[str], list[dict[str, str]]] | None:
    """Import the catalog file at `path` unless this very file (by content) was imported before; None when it was.

    Run at start: the operator's file fills the catalog once, and what the operator removed later through the
    API stays removed across restarts; a changed file adds only the feeds no earlier file listed.
    """
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    urls = feed_urls(data)
    known: set[str] = set()
    for (listed,) in session.execute(select(catalog_imports.c.feed_ids)).all():
        known.update(listed or [])
    try:
        with session.begin_nested():
            session.execute(insert(catalog_imports).values(sha256=digest, imported_at=now, feed_ids=feed_ids_for(urls)))
    except IntegrityError:
        return None
    fresh = [u for u, i in zip(urls, _ids_or_none(urls), strict=True) if i is None or i not in known]
    added, rejected = add(session, fresh, now)
    log.info("catalog file imported", extra={"file": str(path), "added": len(added), "rejected": len(rejected)})
    return added, rejected
