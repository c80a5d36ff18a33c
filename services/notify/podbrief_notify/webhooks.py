"""Webhook endpoints of a user: where briefs are delivered, each with its signing secret."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.orm import Session

from podbrief_notify.exceptions import LimitReached, NotFound
from podbrief_notify.keys import new_delivery_id, new_webhook_secret
from podbrief_notify.tables import deliveries, webhooks


def create_webhook(session: Session, user_id: str, url: str, now: datetime, limit: int) -> Row[Any]:
    """Register `url` for the user with a fresh secret."""
    count = session.execute(select(func.count()).where(webhooks.c.user_id == user_id)).scalar_one()
    if count >= limit:
        raise LimitReached(f"at most {limit} webhooks per user")
    hook_id = str(uuid.uuid4())
    session.execute(insert(webhooks).values(id=hook_id, user_id=user_id, url=url, secret=new_webhook_secret(), created_at=now))
    return get_webhook(session, user_id, hook_id)


def get_webhook(session: Session, user_id: str, hook_id: str) -> Row[Any]:
    """One of the user's webhooks; NotFound for anyone else's."""
    row = session.execute(select(webhooks).where(webhooks.c.id == hook_id, webhooks.c.user_id == user_id)).first()
    if row is None:
        raise NotFound("webhook not found")
    return row


def list_webhooks(session: Session, user_id: str, limit: int, offset: int) -> tuple[list[Row[Any]], int]:
    """A page of the user's webhooks, oldest first, and the total."""
    rows = session.execute(
        select(webhooks)
        .where(webhooks.c.user_id == user_id)
        .order_by(webhooks.c.created_at, webhooks.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(select(func.count()).where(webhooks.c.user_id == user_id)).scalar_one()
    return list(rows), total


def active_webhooks(session: Session, user_id: str) -> list[Row[Any]]:
    """The user's webhooks that still receive deliveries."""
    return list(session.execute(select(webhooks).where(webhooks.c.user_id == user_id, webhooks.c.disabled_at.is_(None))).all())


def delete_webhook(session: Session, user_id: str, hook_id: str) -> None:
    """Remove one of the user's webhooks and every delivery to it."""
    get_webhook(session, user_id, hook_id)
    session.execute(delete(deliveries).where(deliveries.c.webhook_id == hook_id))
    session.execute(delete(webhooks).where(webhooks.c.id == hook_id))


def disable_webhook(session: Session, hook_id: str, reason: str, now: datetime) -> None:
    """Stop delivering to an endpoint (it answered 410 Gone) and give up its pending deliveries."""
    session.execute(update(webhooks).where(webhooks.c.id == hook_id).values(disabled_at=now, disabled_reason=reason))
    session.execute(
        update(deliveries)
        .where(deliveries.c.webhook_id == hook_id, deliveries.c.status == "pending")
        .values(status="failed", finished_at=now, next_attempt_at=None, last_error=f"endpoint disabled: {reason}")
    )


EVENT_TEST = "webhook.test"


def queue_test_event(session: Session, user_id: str, hook_id: str, now: datetime) -> str:
    """Store a signed-to-be `webhook.test` delivery for one of the user's endpoints; returns its id.

    It has no next attempt time: a test is tried once, by the caller, never by the retry loop.
    """
    get_webhook(session, user_id, hook_id)
    delivery_id = new_delivery_id()
    body = {"type": EVENT_TEST, "timestamp": now.isoformat(), "data": {"webhook_id": hook_id, "message": "podbrief test event"}}
    session.execute(
        insert(deliveries).values(
            id=delivery_id,
            user_id=user_id,
            webhook_id=hook_id,
            event_type=EVENT_TEST,
            body=json.dumps(body, separators=(",", ":")),
            status="pending",
            attempts=0,
            created_at=now,
        )
    )
    return delivery_id
