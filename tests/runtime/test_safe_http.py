"""Fetching user-supplied URLs: real loopback servers, hostile answers."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from podbrief_runtime.safe_http import FetchError, SafeClient, TooLargeError, UnsafeURLError, resolve_and_check

# Ends the dripping handlers when the module's server goes away.
STOP = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/ok":
            self._send(200, b"hello")
        elif self.path == "/big":
            self.send_response(200)
            self.end_headers()
            for _ in range(200):
                self.wfile.write(b"x" * 65536)
        elif self.path == "/loop":
            self._redirect(302, "/loop2")
        elif self.path == "/loop2":
            self._redirect(302, "/loop")
        elif self.path == "/moved":
            self._redirect(301, "/moved2")
        elif self.path == "/moved2":
            self._redirect(308, "/ok")
        elif self.path == "/temp":
            self._redirect(302, "/ok")
        elif self.path == "/hang":
            time.sleep(5)
            self._send(200, b"late")
        elif self.path == "/to-metadata":
            self._redirect(302, "http://169.254.169.254/latest/meta-data/")
        elif self.path == "/drip-body":
            # Each byte comes well within the read timeout, so only an overall deadline ends this.
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._drip(b"x" * 100000)
        elif self.path == "/drip-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._drip(b"X-Slow: " + b"a" * 100000)
        elif self.path == "/drip-four":
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self._drip(b"abcd", every=0.25)

    def _drip(self, data, every=0.5):
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if STOP.wait(every):
                    return
        except OSError:
            return  # the client gave up

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, status, location):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    STOP.set()
    httpd.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest/",
        "http://[::1]/",
        "http://localhost/",
        "http://metadata.google.internal/",
        "http://192.168.1.1/",
    ],
)
def test_private_loopback_and_metadata_addresses_are_refused(url):
    with pytest.raises(UnsafeURLError):
        resolve_and_check(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "file:///etc/passwd", "javascript:alert(1)", "http://user:pw@example.com/", "gopher://x/"]
)
def test_only_plain_http_and_https_urls_are_accepted(url):
    with pytest.raises(UnsafeURLError):
        resolve_and_check(url, allow_private=True)


async def test_loopback_is_refused_unless_private_urls_are_allowed(server):
    async with SafeClient(allow_private=False) as client:
        with pytest.raises(UnsafeURLError):
            await client.fetch(server + "/ok", max_bytes=100)
    async with SafeClient(allow_private=True) as client:
        assert (await client.fetch(server + "/ok", max_bytes=100)).body == b"hello"


async def test_body_over_the_cap_is_refused_while_reading(server):
    async with SafeClient(allow_private=True) as client:
        with pytest.raises(TooLargeError):
            await client.fetch(server + "/big", max_bytes=1_000_000)


async def test_redirect_loop_ends_in_a_clear_error(server):
    async with SafeClient(allow_private=True) as client:
        with pytest.raises(FetchError, match="redirect"):
            await client.fetch(server + "/loop", max_bytes=100)


async def test_a_chain_of_permanent_redirects_reports_the_new_url_and_a_temporary_one_does_not(server):
    async with SafeClient(allow_private=True) as client:
        moved = await client.fetch(server + "/moved", max_bytes=100)
        temp = await client.fetch(server + "/temp", max_bytes=100)
    assert moved.body == b"hello" and moved.permanent_url == server + "/ok"
    assert temp.body == b"hello" and temp.permanent_url is None


async def test_a_server_that_never_answers_times_out(server):
    async with SafeClient(allow_private=True, timeout=0.5) as client:
        with pytest.raises(FetchError, match="timed out"):
            await asyncio.wait_for(client.fetch(server + "/hang", max_bytes=100), 30)


async def test_a_redirect_to_a_metadata_address_is_checked_again_and_refused(server, monkeypatch):
    import ipaddress

    from podbrief_runtime import safe_http

    # Pretend the loopback test server is a public host, so only the redirect hop can be refused.
    real = safe_http._is_public
    monkeypatch.setattr(safe_http, "_is_public", lambda ip: ip == ipaddress.ip_address("127.0.0.1") or real(ip))
    async with SafeClient(allow_private=False) as client:
        assert (await client.fetch(server + "/ok", max_bytes=100)).body == b"hello"
        with pytest.raises(UnsafeURLError):
            await client.fetch(server + "/to-metadata", max_bytes=100)


# The deadline tests bound themselves with a generous wait_for: code without a deadline fails them instead of hanging.
GUARD = 30


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
async def test_a_server_dripping_a_byte_every_half_second_is_cut_at_the_deadline(server, path):
    async with SafeClient(allow_private=True, timeout=5, deadline=1.5) as client:
        with pytest.raises(FetchError, match=r"did not finish within the 1\.5s deadline"):
            await asyncio.wait_for(client.fetch(server + path, max_bytes=1_000_000), GUARD)


async def test_the_deadline_defaults_to_twice_the_timeout_and_covers_a_streamed_body(server):
    async with SafeClient(allow_private=True, timeout=1) as client:
        assert client.deadline == 2

        async def read_all() -> None:
            async with client.stream("GET", server + "/drip-body") as (raw, _):
                async for _chunk in raw.aiter_bytes():
                    pass

        with pytest.raises(FetchError, match="deadline"):
            await asyncio.wait_for(read_all(), GUARD)


async def test_a_longer_deadline_for_one_request_overrides_the_clients(server):
    client = SafeClient(allow_private=True, timeout=5, deadline=0.1)
    async with client, client.stream("GET", server + "/drip-four", deadline=GUARD) as (raw, _):
        assert await raw.aread() == b"abcd"
