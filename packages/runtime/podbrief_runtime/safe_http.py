"""Fetching user-supplied URLs safely: http(s) only, no private addresses, timeouts, size caps.

Every redirect hop is checked again; bodies are capped while reading, not after.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

USER_AGENT = "podbrief/0.1 (+https://github.com/podbrief/podbrief)"
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeURLError(ValueError):
    """The URL is not http(s), or points at an address we refuse to fetch."""


class FetchError(Exception):
    """Fetching failed: timeout, too large, too many redirects, connection error."""


class TooLargeError(FetchError):
    """The body exceeded the size cap."""


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url_syntax(url: str) -> str:
    """Validate scheme and host; returns the host. Raises UnsafeURLError."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeURLError(f"not a URL: {url!r}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http and https URLs are allowed, got {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise UnsafeURLError("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURLError("URLs with credentials are not allowed")
    return parts.hostname


def resolve_and_check(url: str, allow_private: bool) -> None:
    """Refuse `url` unless every address its host resolves to is public (or private ones are allowed)."""
    host = check_url_syntax(url)
    if allow_private:
        return
    if host.lower() in _METADATA_HOSTS:
        raise UnsafeURLError(f"{host} is a cloud metadata address")
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeURLError(f"cannot resolve {host}: {exc.strerror}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _is_public(ip):
            raise UnsafeURLError(f"{host} resolves to a non-public address ({ip}); private URLs are not allowed")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a Retry-After header (delta seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class Response:
    """A fetched response: final URL, status, headers, body, and the permanent redirect target if any."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    permanent_url: str | None = None
    redirects: list[str] = field(default_factory=list)


class SafeClient:
    """An httpx client that checks every hop and caps every body."""

    def __init__(
        self,
        allow_private: bool = False,
        timeout: float = 15.0,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        max_connections: int = 100,
    ) -> None:
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> SafeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, headers: dict[str, str] | None = None, follow_redirects: bool = True, **kwargs: object
    ) -> AsyncIterator[tuple[httpx.Response, Response]]:
        """Open `url` (following checked redirects); yields the raw response and what we know of it."""
        seen: list[str] = []
        permanent: str | None = None
        only_permanent = True
        current = url
        while True:
            await asyncio.to_thread(resolve_and_check, current, self.allow_private)
            request = self.client.build_request(method, current, headers=headers, **kwargs)  # type: ignore[arg-type]
            try:
                raw = await self.client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {self.timeout:.0f}s fetching {current}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {current}: {type(exc).__name__}: {exc}") from exc
            if follow_redirects and raw.status_code in (301, 302, 303, 307, 308) and "location" in raw.headers:
                await raw.aclose()
                target = urljoin(current, raw.headers["location"])
                if target in seen or len(seen) >= self.max_redirects:
                    raise FetchError(f"redirect loop or more than {self.max_redirects} redirects at {target}")
                seen.append(current)
                # Only a chain of permanent redirects from the start moves the stored URL.
                only_permanent = only_permanent and raw.status_code in (301, 308)
                permanent = target if only_permanent else permanent
                current = target
                continue
            try:
                yield (
                    raw,
                    Response(url=current, status=raw.status_code, headers=raw.headers, permanent_url=permanent, redirects=seen),
                )
            finally:
                await raw.aclose()
            return

    async def fetch(self, url: str, max_bytes: int, headers: dict[str, str] | None = None) -> Response:
        """GET `url` into memory, refusing bodies over `max_bytes` while reading."""
        async with self.stream("GET", url, headers=headers) as (raw, response):
            body = bytearray()
            try:
                async for chunk in raw.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise TooLargeError(f"response larger than {max_bytes} bytes")
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {self.timeout:.0f}s reading {response.url}") from exc
            except httpx.DecodingError as exc:
                raise FetchError(f"cannot decode the response body: {exc}") from exc
            except httpx.TransportError as exc:
                raise FetchError(f"connection broke while reading {response.url}: {exc}") from exc
            response.body = bytes(body)
            return response

    async def download(self, url: str, dest: Path, max_bytes: int) -> Response:
        """Stream `url` to `dest`, refusing bodies over `max_bytes` while reading."""
        async with self.stream("GET", url) as (raw, response):
            if raw.status_code != 200:
                raise FetchError(f"HTTP {raw.status_code} fetching {response.url}")
            size = 0
            try:
                with dest.open("wb") as out:
                    async for chunk in raw.aiter_raw():
                        size += len(chunk)
                        if size > max_bytes:
                            raise TooLargeError(f"file larger than {max_bytes} bytes")
                        out.write(chunk)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {self.timeout:.0f}s reading {response.url}") from exc
            except httpx.TransportError as exc:
                raise FetchError(f"connection broke while reading {response.url}: {exc}") from exc
            except FetchError:
                dest.unlink(missing_ok=True)
                raise
            return response
