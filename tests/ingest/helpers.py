"""Ingest test helpers: a real HTTP feed server on loopback, a feed builder, and readers of the store."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from podbrief_contracts import FeedSubscribed, feed_id_for, stable_id
from podbrief_ingest import registry
from podbrief_ingest.app import Ingest
from podbrief_runtime.store import Store, outbox
from sqlalchemy import select, update

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    hang: bool = False
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class FeedServer:
    """A threaded HTTP server on 127.0.0.1; tests program its routes and read the requests it received."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes | str, **kwargs: Any) -> str:
        """Answer `path` with `body` (and Route options); returns its URL."""
        self.routes[path] = Route(body=body.encode() if isinstance(body, str) else body, **kwargs)
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        """Answer `path` with a redirect to `to` (a path or a URL)."""
        self.routes[path] = Route(status=status, headers={"Location": to})
        return self.url(path)

    def hits(self, path: str) -> list[dict[str, str]]:
        """The headers of every request made for `path`."""
        return [headers for seen, headers in self.requests if seen == path]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append((self.path, headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(server.routes.get(self.path), headers)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, route: Route | None, headers: dict[str, str]) -> None:
                if route is None:
                    self._send(404, {}, b"not found")
                elif route.hang:
                    server.release.wait(30)
                elif route.handler is not None:
                    route.handler(self)
                elif (route.etag and headers.get("if-none-match") == route.etag) or (
                    route.last_modified and headers.get("if-modified-since") == route.last_modified
                ):
                    self._send(304, _validators(route), b"")
                else:
                    body, extra = route.body, dict(route.headers)
                    if route.gzip and "gzip" in headers.get("accept-encoding", ""):
                        body, extra["Content-Encoding"] = gzip.compress(body), "gzip"
                    self._send(route.status, {**_validators(route), **extra}, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up early (size caps, timeouts) are part of the tests, not errors."""


def _validators(route: Route) -> dict[str, str]:
    out = {}
    if route.etag:
        out["ETag"] = route.etag
    if route.last_modified:
        out["Last-Modified"] = route.last_modified
    return out


def rss(
    episodes: list[dict[str, Any]] | int,
    *,
    title: str = "The Signal Hour",
    channel_extra: str = "",
    start: datetime = datetime(2026, 11, 1, 6, tzinfo=UTC),
) -> str:
    """An RSS 2.0 podcast feed; `episodes` is a count (ep1 newest... ) or item dicts (guid, title, url, extra, published)."""
    if isinstance(episodes, int):
        episodes = [{"guid": f"ep{n}", "published": start + timedelta(days=n)} for n in range(episodes, 0, -1)]
    items = []
    for ep in episodes:
        guid = f'<guid isPermaLink="false">{escape(ep["guid"])}</guid>' if ep.get("guid") else ""
        published = f"<pubDate>{format_datetime(ep['published'])}</pubDate>" if ep.get("published") else ""
        url = ep.get("url", f"https://cdn.example.com/{ep.get('guid', 'x')}.mp3")
        enclosure = f'<enclosure url="{escape(url)}" type="{ep.get("type", "audio/mpeg")}" length="1234"/>' if url else ""
        items.append(
            f"<item><title>{escape(ep.get('title', 'Episode ' + str(ep.get('guid'))))}</title>{guid}{published}"
            f"{enclosure}{ep.get('extra', '')}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>{escape(title)}</title><link>https://example.com/</link>{channel_extra}"
        + "".join(items)
        + "</channel></rss>"
    )


async def subscribe(ingest: Ingest, url: str, event_id: str | None = None) -> str:
    """Deliver a FeedSubscribed for `url` to the handler; returns the feed id."""
    feed_id = feed_id_for(url)
    event = FeedSubscribed(event_id=event_id or stable_id("test-subscription", url), feed_id=feed_id, feed_url=url)
    await ingest.handlers.on_feed_subscribed(event)
    return feed_id


def emitted(store: Store, topic: str) -> list[dict[str, Any]]:
    """The payloads of the outbox rows of `topic`, in order."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)).scalars()
        return [json.loads(row) for row in rows]


def feed_row(store: Store, feed_id: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(registry.feeds).where(registry.feeds.c.feed_id == feed_id)).one()


def make_due(store: Store, feed_id: str | None = None) -> None:
    """Move feeds' next poll into the past so the next round polls them."""
    with store.transaction() as session:
        query = update(registry.feeds).values(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC))
        if feed_id:
            query = query.where(registry.feeds.c.feed_id == feed_id)
        session.execute(query)
