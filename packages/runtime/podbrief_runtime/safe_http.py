"""Fetching user-supplied URLs safely: http(s) only, no private addresses, timeouts, size caps.

Every redirect hop is checked again; bodies are capped while reading, not after. The
connection itself goes to an address resolved and checked at connect time, so a DNS answer
that changes between the check and the connect cannot reach a private address; and every
request has an overall deadline, so a server dripping bytes cannot hold it open.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from podbrief_runtime.redact import redact_url

USER_AGENT = "podbrief/0.1 (+https://github.com/podbrief/podbrief)"
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
# What inet_aton reads as IPv4: up to four parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
# NAT64's well-known prefix: the last 32 bits are the IPv4 address reached (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Never a public service: IPv4-compatible addresses (deprecated, RFC 4291) and local-use NAT64 (RFC 8215).
_NEVER_PUBLIC = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURLError(ValueError):
    """The URL is not http(s), or points at an address we refuse to fetch."""


class FetchError(Exception):
    """Fetching failed: timeout, too large, too many redirects, connection error."""


class TooLargeError(FetchError):
    """The body exceeded the size cap."""


def _is_public(ip: IPAddress) -> bool:
    """Whether `ip` is global unicast, and so is every IPv4 address it carries (mapped, NAT64, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return False
        if ip.ipv4_mapped is not None:
            return _is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        tunnelled = [ip.sixtofour, *(ip.teredo or ())]
        if not all(_is_public(v4) for v4 in tunnelled if v4 is not None) or ip.is_site_local:
            return False
    # is_global alone lets multicast (and, depending on the Python version, some reserved ranges) through.
    refused = ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback or ip.is_unspecified
    return ip.is_global and not refused


def _ip_literal(host: str) -> IPAddress | None:
    """`host` as an IP address when it spells one: IPv6, or IPv4 dotted, short, decimal, octal or hex."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to; the one place names are looked up (tests stand in for DNS here)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def checked_addresses(host: str, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to for `host`, each checked unless private ones are allowed; raises UnsafeURLError."""
    name = host.strip("[]").rstrip(".").lower()
    literal = _ip_literal(name)
    if literal is not None:
        addresses = [literal]
    else:
        if not allow_private and (name in _METADATA_HOSTS or name == "localhost" or name.endswith(".localhost")):
            raise UnsafeURLError(f"{host} is a cloud metadata or loopback name")
        try:
            answers = resolve(host)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeURLError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from exc
        # A scoped answer (fe80::1%eth0) is checked, and connected to, by its address.
        addresses = list(dict.fromkeys(ipaddress.ip_address(answer.split("%")[0]) for answer in answers))
        if not addresses:
            raise UnsafeURLError(f"cannot resolve {host}: no addresses")
    if not allow_private:
        for ip in addresses:
            if not _is_public(ip):
                raise UnsafeURLError(f"{host} resolves to a non-public address ({ip}); private URLs are not allowed")
    return addresses


def check_url_syntax(url: str) -> str:
    """Validate scheme and host; returns the host. Raises UnsafeURLError."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise UnsafeURLError(f"not a URL: {redact_url(url)}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http and https URLs are allowed, got {parts.scheme or 'no scheme'!r}")
    if not host:
        raise UnsafeURLError("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURLError("URLs with credentials are not allowed")
    return host


def resolve_and_check(url: str, allow_private: bool) -> None:
    """Refuse `url` unless every address its host resolves to is public (or private ones are allowed)."""
    host = check_url_syntax(url)
    if not allow_private:
        checked_addresses(host, allow_private=False)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, and connects to a checked one: what was checked is what is reached.

    httpcore still hands TLS the URL's host name, so SNI and certificate checks use the name, not the IP;
    httpx sets the Host header from the URL.
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await asyncio.to_thread(checked_addresses, host, self.allow_private)
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self._network.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


def _pinned_transport(allow_private: bool, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx 0.28 has no argument for httpcore's network backend: give the transport the pool it
    # would have built, with ours (encode/httpx#3749 proposes the argument).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_PinnedBackend(allow_private),
    )
    return transport


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
    """An httpx client that checks every hop, connects only to checked addresses, caps every body and every request's time."""

    def __init__(
        self,
        allow_private: bool = False,
        timeout: float = 15.0,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        max_connections: int = 100,
        deadline: float | None = None,
    ) -> None:
        """`timeout` bounds each connect and read; `deadline` (default twice `timeout`) the whole request, body included."""
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.timeout = timeout
        self.deadline = 2 * timeout if deadline is None else deadline
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.client = httpx.AsyncClient(
            transport=_pinned_transport(allow_private, limits),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> SafeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        deadline: float | None = None,
        **kwargs: object,
    ) -> AsyncIterator[tuple[httpx.Response, Response]]:
        """Open `url` (following checked redirects); yields the raw response and what we know of it.

        Everything from the first connect to the end of the caller's block, reading the body included,
        must finish within `deadline` seconds (the client's own by default), else FetchError.
        """
        limit = self.deadline if deadline is None else deadline
        timer = asyncio.timeout(limit)
        try:
            async with timer, self._open(method, url, headers, follow_redirects, **kwargs) as opened:
                yield opened
        except TimeoutError as exc:
            if not timer.expired():
                raise
            raise FetchError(f"timed out: {redact_url(url)} did not finish within the {limit:g}s deadline") from exc

    @asynccontextmanager
    async def _open(
        self, method: str, url: str, headers: dict[str, str] | None, follow_redirects: bool, **kwargs: object
    ) -> AsyncIterator[tuple[httpx.Response, Response]]:
        seen: list[str] = []
        permanent: str | None = None
        only_permanent = True
        current = url
        while True:
            await asyncio.to_thread(resolve_and_check, current, self.allow_private)
            try:
                request = self.client.build_request(method, current, headers=headers, **kwargs)  # type: ignore[arg-type]
            except httpx.InvalidURL as exc:
                raise UnsafeURLError(f"not a URL: {redact_url(current)}") from exc
            try:
                raw = await self.client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {self.timeout:.0f}s fetching {redact_url(current)}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {redact_url(current)}: {type(exc).__name__}: {exc}") from exc
            if follow_redirects and raw.status_code in (301, 302, 303, 307, 308) and "location" in raw.headers:
                await raw.aclose()
                target = urljoin(current, raw.headers["location"])
                if target in seen or len(seen) >= self.max_redirects:
                    raise FetchError(f"redirect loop or more than {self.max_redirects} redirects at {redact_url(target)}")
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
                raise FetchError(f"timed out after {self.timeout:.0f}s reading {redact_url(response.url)}") from exc
            except httpx.DecodingError as exc:
                raise FetchError(f"cannot decode the response body: {exc}") from exc
            except httpx.TransportError as exc:
                raise FetchError(f"connection broke while reading {redact_url(response.url)}: {exc}") from exc
            response.body = bytes(body)
            return response
