"""Loopback HTTP helpers for the demo, the end-to-end test and the benchmark.

`SampleServer` serves the bundled sample podcast; `WebhookReceiver` receives briefs and
verifies their Standard Webhooks signature.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
SAMPLE_AUDIO = sorted((SAMPLES_DIR / "audio").glob("ep*.mp3"))


def generated_feed(
    episodes: int, title: str = "Bench Show", guid_prefix: str = "bench", audio_files: Sequence[Path] = ()
) -> str:
    """An RSS feed of `episodes` items cycling through `audio_files` (default: all the sample audio), each its own
    GUID (for SampleServer `extra`)."""
    files = list(audio_files) or SAMPLE_AUDIO
    items = []
    for n in range(episodes):
        audio = files[n % len(files)]
        items.append(
            f'<item><title>{title} episode {n}</title><guid isPermaLink="false">{guid_prefix}-{n}</guid>'
            f"<pubDate>Mon, {n % 28 + 1:02d} Nov 2026 {n // 28:02d}:00:00 GMT</pubDate>"
            f'<enclosure url="{{{{BASE_URL}}}}/audio/{audio.name}" length="{audio.stat().st_size}" type="audio/mpeg"/></item>'
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>http://example.com</link>'
        f"<description>generated</description>{''.join(items)}</channel></rss>"
    )


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SampleServer(_Server):
    """Serve `samples/` (and `extra` documents by name) with `{{BASE_URL}}` replaced by this server's URL."""

    def __init__(self, root: Path = SAMPLES_DIR, extra: dict[str, str | bytes] | None = None) -> None:
        server = self
        extra = extra or {}

        class Handler(_Quiet):
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                name = self.path.split("?")[0].lstrip("/")
                if name in extra:
                    document = extra[name]
                    if isinstance(document, str):  # text with {{BASE_URL}}; bytes are served exactly as given
                        document = document.replace("{{BASE_URL}}", server.url).encode()
                    self._send(document, "application/rss+xml")
                    return
                path = (root / name).resolve()
                if root.resolve() not in path.parents or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                if path.suffix == ".xml":
                    body = body.replace(b"{{BASE_URL}}", server.url.encode())
                kinds = {".xml": "application/rss+xml", ".mp3": "audio/mpeg", ".png": "image/png", ".json": "application/json"}
                kind = kinds.get(path.suffix, "text/plain")
                self._send(body, kind)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


@dataclass
class Delivery:
    """One webhook request as received."""

    webhook_id: str
    payload: dict[str, Any]
    verified: bool


@dataclass
class _Inbox:
    secret: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)


class WebhookReceiver(_Server):
    """Record every POST; verify it with `standardwebhooks` once `secret` is set; answer 204."""

    def __init__(self) -> None:
        inbox = self.inbox = _Inbox()

        class Handler(_Quiet):
            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(inbox.secret).verify(body, headers) if inbox.secret else json.loads(body)
                    verified = inbox.secret is not None
                except WebhookVerificationError:
                    payload, verified = json.loads(body), False
                with inbox.arrived:
                    inbox.deliveries.append(Delivery(headers.get("webhook-id", ""), payload, verified))
                    inbox.arrived.notify_all()
                self.send_response(401 if inbox.secret and not verified else 204)
                self.end_headers()

        super().__init__(Handler)

    @property
    def secret(self) -> str | None:
        return self.inbox.secret

    @secret.setter
    def secret(self, value: str) -> None:
        self.inbox.secret = value

    @property
    def deliveries(self) -> list[Delivery]:
        with self.inbox.lock:
            return list(self.inbox.deliveries)

    def ids(self) -> Counter[str]:
        """How many times each webhook-id arrived."""
        return Counter(d.webhook_id for d in self.deliveries)

    def wait_for(self, kind: str, timeout: float, data_id: str | None = None) -> Delivery:
        """The first verified delivery of event type `kind` (and `data.id`, if given), waiting up to `timeout` seconds."""

        def matches(d: Delivery) -> bool:
            return d.verified and d.payload.get("type") == kind and (data_id is None or d.payload["data"].get("id") == data_id)

        with self.inbox.arrived:
            found = self.inbox.arrived.wait_for(
                lambda: next((d for d in self.inbox.deliveries if matches(d)), None), timeout=timeout
            )
        if found is None:
            raise TimeoutError(f"no verified {kind!r} webhook within {timeout:.0f}s")
        return found
