"""Users: sign-up with a first API key, email confirmation, settings, and looking a user up."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podbrief_notify.exceptions import Conflict, Gone, NotFound
from podbrief_notify.keys import issue_key
from podbrief_notify.tables import users

DEFAULT_BRIEF_SIZE = 5
# How long a confirmation link works, and how soon another one may be sent to the same address.
CONFIRMATION_VALID = timedelta(days=7)
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)


def create_user(session: Session, email: str, timezone: str, brief_hour: int, now: datetime) -> tuple[Row[Any], str]:
    """A new user and their first API key (the only time the key exists in clear)."""
    user_id = str(uuid.uuid4())
    try:
        with session.begin_nested():
            session.execute(
                insert(users).values(
                    id=user_id,
                    email=email.lower(),
                    timezone=timezone,
                    brief_hour=brief_hour,
                    brief_size=DEFAULT_BRIEF_SIZE,
                    cadence="daily",
                    interests=[],
                    created_at=now,
                    feed_token=new_feed_token(),
                )
            )
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email.lower()} exists already") from exc
    _, key = issue_key(session, user_id, now)
    return get_user(session, user_id), key


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_confirmation(session: Session, user_id: str, now: datetime) -> str:
    """A new confirmation token for the user's address, replacing any earlier one; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.execute(
        update(users).where(users.c.id == user_id).values(email_confirm_hash=_digest(token), email_confirm_sent_at=now)
    )
    return token


def resend_wait(user: Row[Any], now: datetime) -> float | None:
    """Seconds until another confirmation email may go to the user's address; None when it may go now."""
    if user.email_confirm_sent_at is None:
        return None
    left = (user.email_confirm_sent_at + CONFIRMATION_RESEND_AFTER - now).total_seconds()
    return left if left > 0 else None


def confirm_email(session: Session, token: str, now: datetime) -> Row[Any]:
    """Mark the address whose confirmation link holds `token` as confirmed; the link works once."""
    row = session.execute(select(users).where(users.c.email_confirm_hash == _digest(token))).first()
    if row is None:
        raise NotFound("unknown confirmation link (a link works once, and only the newest one sent works)")
    if row.email_confirm_sent_at + CONFIRMATION_VALID < now:
        raise Gone(
            f"this confirmation link expired after {CONFIRMATION_VALID.days} days: "
            "ask for a new one with POST /v1/me/confirmation"
        )
    session.execute(update(users).where(users.c.id == row.id).values(email_confirmed_at=now, email_confirm_hash=None))
    return get_user(session, row.id)


def get_user(session: Session, user_id: str) -> Row[Any]:
    """The user's row; NotFound when there is none."""
    row = session.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("user not found")
    return row


def user_by_email(session: Session, email: str) -> Row[Any]:
    """The user with `email`; NotFound when there is none."""
    row = session.execute(select(users).where(users.c.email == email.strip().lower())).first()
    if row is None:
        raise NotFound(f"no user with email {email}")
    return row


def update_user(session: Session, user_id: str, changes: dict[str, Any]) -> Row[Any]:
    """Apply the given settings (only the keys present) and return the user."""
    if changes:
        session.execute(update(users).where(users.c.id == user_id).values(**changes))
    return get_user(session, user_id)


def new_feed_token() -> str:
    """A fresh token for the personal Atom feed's URL."""
    return secrets.token_urlsafe(24)


def set_feed_token(session: Session, user_id: str, token: str | None) -> Row[Any]:
    """Replace the user's feed token (the old feed URL stops working) or, with None, turn the feed off."""
    session.execute(update(users).where(users.c.id == user_id).values(feed_token=token))
    return get_user(session, user_id)


def user_by_feed_token(session: Session, token: str) -> Row[Any]:
    """The user whose Atom feed URL carries `token`; NotFound for an unknown or replaced token."""
    row = session.execute(select(users).where(users.c.feed_token == token)).first() if token else None
    if row is None:
        raise NotFound("unknown feed token (it was replaced or turned off: GET /v1/me shows the current feed URL)")
    return row
