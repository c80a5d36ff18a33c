"""Keeping URL secrets out of logs and error messages.

Webhook URLs carry their secret in the path (Slack-style `/services/T0/B0/XXXX`) and private
feeds carry tokens in the path or the query, so anything logged or stored shows only where a
URL points: scheme, host and port.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
# Punctuation that ends a sentence or closes a bracket around a URL, rather than belonging to it.
_TRAILING = ".,;:!?)]}"


def redact_url(url: str) -> str:
    """`url` reduced to scheme, host and port, with `/…` standing for any path, query or fragment."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<unreadable URL>"
    if not parts.scheme or not host:
        return "<unreadable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{parts.scheme}://{netloc}{'/…' if hidden else parts.path}"


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (for exception messages that quote URLs)."""
    return _URL.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    kept = url.rstrip(_TRAILING)
    return redact_url(kept) + url[len(kept) :]
