"""Standard Webhooks signatures (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), made by the `standardwebhooks`
library that receivers verify with."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks import Webhook


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature header value for one attempt."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """Every header of a signed webhook request."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }
