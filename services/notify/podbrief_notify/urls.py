"""Feed and webhook URLs: normalisation and the SSRF check, on podbrief_runtime.safe_http."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from podbrief_runtime.safe_http import UnsafeURLError, check_url_syntax, resolve_and_check

from podbrief_notify.exceptions import UnsafeURL

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """The canonical form used for feed ids: trimmed, lower-case scheme and host, no default port or fragment."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        check_url_syntax(url)
        parts = urlsplit(url)
        port = parts.port
    except (UnsafeURLError, ValueError) as exc:
        raise UnsafeURL(str(exc)) from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def check_public(url: str, allow_private: bool) -> None:
    """Refuse `url` when it resolves to a private address (unless allowed); raises UnsafeURL."""
    try:
        resolve_and_check(url, allow_private)
    except UnsafeURLError as exc:
        raise UnsafeURL(str(exc)) from exc
