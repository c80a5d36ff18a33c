"""The SSRF guard: every spelling of a non-public address is refused, and the connection goes where the check looked."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from podbrief_runtime import safe_http
from podbrief_runtime.safe_http import FetchError, SafeClient, UnsafeURLError, resolve_and_check

PUBLIC = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Stand-in DNS: names map to the listed answers; any other name answers a public address."""
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(safe_http, "resolve", lambda host: answers.get(host, [PUBLIC]))
    return answers


@pytest.mark.parametrize(
    "host",
    [
        # IPv4-mapped, IPv4-compatible, NAT64 (well-known and local-use), 6to4 and Teredo forms of private IPv4.
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:169.254.169.254]",
        "[::127.0.0.1]",
        "[::a9fe:a9fe]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b::10.0.0.1]",
        "[64:ff9b:1::5db8:d822]",
        "[2002:a9fe:a9fe::1]",
        "[2002:7f00:1::]",
        "[2001:0:a9fe:a9fe::1]",
        "[2001:0:5db8:d822:0:0:80ff:fffe]",  # Teredo whose client (bits inverted) is 127.0.0.1
        # Decimal, octal, hex and short IPv4.
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7f000001",
        "127.1",
        "0251.0376.0251.0376",
        "0xa9.0xfe.0xa9.0xfe",
        "017700000001",
        # Trailing dots and case.
        "127.0.0.1.",
        "localhost.",
        "LOCALHOST",
        "db.localhost",
        "metadata.google.internal.",
        "Metadata.Google.Internal",
        # Loopback, link-local, unique-local, site-local, multicast, unspecified, reserved, shared (CGNAT).
        "[::1]",
        "[fe80::1]",
        "[fd00::1]",
        "[fec0::1]",
        "[ff02::1]",
        "[::]",
        "0.0.0.0",
        "0",
        "169.254.1.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "100.64.0.1",
    ],
)
def test_every_spelling_of_a_non_public_address_is_refused_without_asking_dns_for_an_ip(dns, host):
    # The stand-in DNS answers a public address for every name: only the spelling itself can be refused.
    with pytest.raises(UnsafeURLError):
        resolve_and_check(f"http://{host}/feed.xml", allow_private=False)


@pytest.mark.parametrize(
    "host",
    [
        PUBLIC,
        "[2606:2800:220:1:248:1893:25c8:1946]",
        "[::ffff:93.184.216.34]",  # mapped public IPv4
        "[64:ff9b::5db8:d822]",  # NAT64 of a public IPv4
        "[2002:5db8:d822::1]",  # 6to4 of a public IPv4
        "feeds.example.com",
        "feeds.example.com.",
    ],
)
def test_public_addresses_in_any_spelling_are_accepted(dns, host):
    resolve_and_check(f"https://{host}/feed.xml", allow_private=False)


@pytest.mark.parametrize("answer", ["127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:c0a8:101::1", "fe80::1%eth0"])
def test_a_name_with_any_non_public_answer_is_refused(dns, answer):
    dns["mixed.example"] = [PUBLIC, answer]
    with pytest.raises(UnsafeURLError, match="non-public"):
        resolve_and_check("https://mixed.example/feed.xml", allow_private=False)


class _Hello(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.seen.append((self.path, self.headers.get("Host")))  # type: ignore[attr-defined]
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def loopback() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


async def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_it(monkeypatch, loopback):
    port = loopback.server_address[1]
    lookups: list[str] = []

    def rebinding(host: str) -> list[str]:
        # Public while being checked, loopback for whoever looks next (the classic rebinding answer).
        lookups.append(host)
        return [PUBLIC] if len(lookups) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(safe_http, "resolve", rebinding)
    async with SafeClient(allow_private=False, timeout=2) as client:
        with pytest.raises(UnsafeURLError, match="non-public"):
            await client.fetch(f"http://rebind.example:{port}/secret", max_bytes=100)
    assert loopback.seen == []  # type: ignore[attr-defined]
    assert lookups == ["rebind.example", "rebind.example"]


async def test_the_connection_goes_to_the_resolved_address_with_the_original_host_header(monkeypatch, loopback):
    port = loopback.server_address[1]
    # A name the system cannot resolve: only the client's own resolver can have led the connection here.
    monkeypatch.setattr(safe_http, "resolve", lambda host: ["127.0.0.1"] if host == "pinned.invalid" else [])
    async with SafeClient(allow_private=True, timeout=2) as client:
        response = await client.fetch(f"http://pinned.invalid:{port}/ok", max_bytes=100)
    assert response.body == b"hello"
    assert loopback.seen == [("/ok", f"pinned.invalid:{port}")]  # type: ignore[attr-defined]


async def test_tls_is_offered_the_url_host_name_not_the_pinned_address(monkeypatch):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    hello: list[bytes] = []

    def accept_one() -> None:
        # Read the TLS ClientHello, where SNI travels in clear, then hang up.
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            hello.append(conn.recv(4096))

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    monkeypatch.setattr(safe_http, "resolve", lambda host: ["127.0.0.1"])
    try:
        async with SafeClient(allow_private=True, timeout=2) as client:
            with pytest.raises(FetchError):
                await client.fetch(f"https://feeds.sni-check.example:{port}/feed.xml", max_bytes=100)
        await asyncio.to_thread(thread.join, 5)
    finally:
        listener.close()
    assert hello and b"feeds.sni-check.example" in hello[0]


async def test_private_addresses_still_work_when_allowed(loopback):
    port = loopback.server_address[1]
    async with SafeClient(allow_private=True, timeout=2) as client:
        for host in ("127.0.0.1", "localhost", "127.1"):
            assert (await client.fetch(f"http://{host}:{port}/ok", max_bytes=100)).body == b"hello"
