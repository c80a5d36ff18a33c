"""API keys and webhook secrets: generated with `secrets`; keys stored only as hashes, several per user, revocable."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from podbrief_notify.exceptions import Conflict, LimitReached, NotFound
from podbrief_notify.tables import api_keys, users

KEY_PREFIX = "pb_"


def new_api_key() -> str:
    """A fresh API key: 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of an API key; a plain SHA-256 suffices because keys have 256 bits of entropy."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_delivery_id() -> str:
    """A webhook-id: unique per message, reused on every retry of it."""
    return "msg_" + uuid.uuid4().hex


def issue_key(session: Session, user_id: str, now: datetime, limit: int | None = None) -> tuple[Row[Any], str]:
    """A new key for the user: its row and the key itself (the only time it exists in clear)."""
    if limit is not None and len(active_keys(session, user_id)) >= limit:
        raise LimitReached(f"at most {limit} active API keys per user: revoke one first")
    key = new_api_key()
    key_id = str(uuid.uuid4())
    session.execute(
        insert(api_keys).values(id=key_id, user_id=user_id, key_hash=hash_api_key(key), last4=key[-4:], created_at=now)
    )
    row = session.execute(select(api_keys).where(api_keys.c.id == key_id)).one()
    return row, key


def active_keys(session: Session, user_id: str) -> list[Row[Any]]:
    """The user's keys that work, oldest first."""
    return list(
        session.execute(
            select(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.created_at, api_keys.c.id)
        ).all()
    )


def revoke_key(session: Session, user_id: str, key_id: str, now: datetime) -> str:
    """Revoke one of the user's active keys and return its hash; refused for the user's last one."""
    # Locking the user row serialises concurrent revocations, so two of them cannot remove the last two keys.
    session.execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first()
    keys = {row.id: row for row in active_keys(session, user_id)}
    if key_id not in keys:
        raise NotFound("API key not found (or revoked already)")
    if len(keys) == 1:
        raise Conflict("this is your only active API key: create another one (POST /v1/me/keys) before revoking it")
    session.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
    return str(keys[key_id].key_hash)


def user_id_for_key_hash(session: Session, key_hash: str) -> str | None:
    """The id of the user whose active API key hashes to `key_hash`, or None."""
    return session.execute(
        select(api_keys.c.user_id).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    ).scalar()
