"""Users: sign-up with an API key, settings, and looking a user up by key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podbrief_notify.exceptions import Conflict, NotFound
from podbrief_notify.keys import hash_api_key, new_api_key
from podbrief_notify.tables import users

DEFAULT_BRIEF_SIZE = 5


def create_user(session: Session, email: str, timezone: str, brief_hour: int, now: datetime) -> tuple[Row[Any], str]:
    """A new user and their API key (the only time the key exists in clear)."""
    key = new_api_key()
    user_id = str(uuid.uuid4())
    try:
        with session.begin_nested():
            session.execute(
                insert(users).values(
                    id=user_id,
                    email=email.lower(),
                    api_key_hash=hash_api_key(key),
                    timezone=timezone,
                    brief_hour=brief_hour,
                    brief_size=DEFAULT_BRIEF_SIZE,
                    cadence="daily",
                    interests=[],
                    created_at=now,
                )
            )
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email.lower()} exists already") from exc
    return get_user(session, user_id), key


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


def user_id_for_key_hash(session: Session, key_hash: str) -> str | None:
    """The id of the user whose API key hashes to `key_hash`, or None."""
    return session.execute(select(users.c.id).where(users.c.api_key_hash == key_hash)).scalar()


def update_user(session: Session, user_id: str, changes: dict[str, Any]) -> Row[Any]:
    """Apply the given settings (only the keys present) and return the user."""
    if changes:
        session.execute(update(users).where(users.c.id == user_id).values(**changes))
    return get_user(session, user_id)
