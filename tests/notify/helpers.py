"""Builders shared by the notify tests: events, sign-up, a fake clock, a real loopback webhook receiver and SMTP collector."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from podbrief_contracts import EpisodeRef, InsightCreated, Person, RelatedInsight, feed_id_for, stable_id
from podbrief_notify.embedder import HashEmbedder
from podbrief_notify.tables import users
from podbrief_runtime.store import Store
from standardwebhooks import Webhook

EMBEDDER = HashEmbedder()
ROOT_DIR = Path(__file__).resolve().parents[2]
# Near real time (the start of the run), so that times the API shows look like today's; signatures are checked by
# `verified`, not against the wall clock.
T0 = datetime.now(UTC).replace(microsecond=0)


def verified(secret: str, request: Any) -> dict[str, Any]:
    """The payload of a received webhook whose Standard Webhooks signature matches `secret`.

    The library signs the request again at its own timestamp and the signature header must hold that signature.
    (`Webhook.verify` also refuses a timestamp more than 5 minutes from the wall clock: these tests run on a fake
    clock set at the start of the run, which a long run leaves behind; the process tests use `verify` itself.)
    """
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], at, body)
    assert expected in request.headers["webhook-signature"].split(), "the webhook signature does not verify"
    return json.loads(body)


class FakeClock:
    """A clock tests move by hand; `sleep` advances it instead of waiting."""

    def __init__(self, now: datetime = T0) -> None:
        self.current = now
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


def feed_url(n: int) -> str:
    return f"https://feeds.example.com/show{n}.xml"


def insight(
    text: str,
    feed: int = 1,
    episode: int = 1,
    *,
    score: float = 0.5,
    cluster: str | None = None,
    face: bool = True,
    related: list[tuple[str, str, float]] | None = None,
    published: datetime | None = None,
    start: float = 61.0,
    ident: str | None = None,
    speaker: str | None = None,
    chapter: str | None = None,
    people: Sequence[tuple[str, str]] = (),
) -> InsightCreated:
    """An InsightCreated as rank would send it; `related` = (insight id, text, similarity)."""
    insight_id = ident or stable_id("insight", text, str(feed), str(episode))
    fid = feed_id_for(feed_url(feed))
    return InsightCreated(
        event_id=stable_id("insight-created", insight_id),
        insight_id=insight_id,
        episode=EpisodeRef(
            episode_id=f"ep-{feed}-{episode}",
            feed_id=fid,
            podcast_title=f"Show {feed}",
            podcast_image=f"https://feeds.example.com/show{feed}.png",
            episode_title=f"Episode {episode} of show {feed}",
            episode_link=f"https://feeds.example.com/show{feed}/{episode}",
            enclosure_url=f"https://feeds.example.com/show{feed}/{episode}.mp3",
            published_at=published or T0 - timedelta(hours=6),
            people=[Person(name=name, role=role) for name, role in people],
        ),
        text=text,
        quote=f"Well, um, {text}",
        speaker=speaker,
        chapter=chapter,
        start=start,
        end=start + 30,
        score=score,
        keywords=[],
        embedding=EMBEDDER.embed([text])[0].tolist(),
        embedding_model="hash",
        cluster_id=cluster or insight_id,
        is_cluster_face=face,
        related=[
            RelatedInsight(insight_id=rid, text=rtext, podcast_title="Other show", episode_title="Other episode", similarity=sim)
            for rid, rtext, sim in (related or [])
        ],
    )


def stored_interests(store: Store, email: str) -> tuple[bytes | None, str | None, list[str]]:
    """The user's stored interest vectors, the model that made them, and the interests."""
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.interest_vectors, users.c.interest_model, users.c.interests).where(users.c.email == email)
        ).one()
    return row.interest_vectors, row.interest_model, row.interests


async def signup(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, str]:
    """Create a user; returns the Authorization header of their key."""
    response = await client.post("/v1/users", json={"email": email, **extra})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['api_key']}"}


OK = b'{"ok":true}'


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A real HTTP server on loopback that records webhook requests and answers as told."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str], float, bytes]] = field(default_factory=list)  # status, headers, delay, body

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, *statuses: int | tuple[Any, ...]) -> None:
        """Queue the answers of the next requests: a status or (status, headers[, delay[, body]]); then 200."""
        for item in statuses:
            status, headers, delay, body = (item, {}, 0.0, OK) if isinstance(item, int) else (*item, 0.0, OK)[:4]
            self.responses.append((status, headers, delay, body))

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests]


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            receiver = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()))
            status, headers, delay, payload = receiver.responses.pop(0) if receiver.responses else (200, {}, 0.0, OK)
            if delay:
                time.sleep(delay)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["r"]


class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def confirmation_links(self, to: str) -> list[str]:
        """The links of the confirmation emails sent to `to`, oldest first."""
        found = []
        for _, recipients, message in self.messages:
            if recipients == [to] and message["Subject"].startswith("Confirm"):
                found += re.findall(r"https?://\S+/v1/users/confirm\?token=\S+", message.get_content())
        return found


def smtp_settings(port: int, **extra: object) -> dict[str, object]:
    """Settings that send email through the loopback SMTP server on `port`."""
    values = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "smtp_from": "podbrief <brief@localhost>"}
    return {**values, **extra}


async def confirm_email(client: httpx.AsyncClient, collector: Collector, to: str) -> None:
    """Open the newest confirmation link emailed to `to`, as its owner would."""
    link = httpx.URL(collector.confirmation_links(to)[-1])
    response = await client.get(link.raw_path.decode())
    assert response.status_code == 200, response.text
