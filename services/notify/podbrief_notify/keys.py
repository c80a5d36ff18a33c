"""API keys and webhook secrets: generated with `secrets`, keys stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

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
