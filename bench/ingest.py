"""Ingest benchmark: one poll cycle over 1,000 feeds served on loopback, about 200 changed and 800 answering 304.

The feeds come from a separate server process (uvicorn, one worker; gzip, ETag and
Last-Modified like a real host), so the figures are ingest's own work: SSRF-checked
conditional GETs, safe-XML check, feedparser, SQLite registry and outbox writes.
A cold cycle reads every feed in full (first poll); then 200 feeds get a new episode and
the measured warm cycle polls all 1,000 again. Target: a warm cycle under 20 s on 2 cores.

    .venv/bin/python bench/ingest.py [--feeds 1000] [--changed 200] [--items 20] [--in-flight 32] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from podbrief_runtime.broker import free_port, wait_for_port

TARGET_CYCLE_S = 20.0


def feed_xml(index: int, version: int, items: int) -> bytes:
    """Feed `index` at `version`: `items` episodes, the newest being episode `version + items - 1`."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    parts = []
    for n in range(version + items - 1, version - 1, -1):
        published = format_datetime(start + timedelta(days=n))
        parts.append(
            f'<item><title>Show {index} episode {n}</title><guid isPermaLink="false">show-{index}-ep-{n}</guid>'
            f"<pubDate>{published}</pubDate><description>What episode {n} of show {index} is about, in a sentence or two "
            f'like real feeds carry.</description><enclosure url="https://cdn.example.com/{index}/{n}.mp3" '
            f'type="audio/mpeg" length="{1_000_000 + n}"/><itunes:duration>00:42:{n % 60:02d}</itunes:duration>'
            f'<podcast:transcript url="https://cdn.example.com/{index}/{n}.vtt" type="text/vtt"/></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        f"<title>Benchmark show {index}</title><link>https://example.com/{index}</link>"
        f'<itunes:image href="https://example.com/{index}.png"/>' + "".join(parts) + "</channel></rss>"
    ).encode()


class FeedHost:
    """A raw ASGI app: /feed/N.xml with validators and gzip; /_bump?count=K gives the next K feeds a new episode."""

    def __init__(self, feeds: int, items: int) -> None:
        self.items = items
        self.versions = [0] * feeds
        self.cursor = 0
        self.cache: dict[tuple[int, int], bytes] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if path == "/_bump":
            count = int(parse_qs(scope["query_string"].decode()).get("count", ["0"])[0])
            for _ in range(count):
                self.versions[self.cursor] += 1
                self.cursor = (self.cursor + 1) % len(self.versions)
            await _respond(send, 200, {}, b"ok")
            return
        index = int(path.removeprefix("/feed/").removesuffix(".xml"))
        version = self.versions[index]
        etag = f'"{index}-{version}"'
        validators = {
            "etag": etag,
            "last-modified": format_datetime(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=version), True),
        }
        if headers.get("if-none-match") == etag:
            await _respond(send, 304, validators, b"")
            return
        body = self.cache.get((index, version))
        if body is None:
            body = self.cache[(index, version)] = gzip.compress(feed_xml(index, version, self.items), 5)
        extra = {"content-type": "application/rss+xml; charset=utf-8", "content-encoding": "gzip"}
        await _respond(send, 200, {**validators, **extra}, body)


async def _respond(send: Any, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def serve(port: int, feeds: int, items: int) -> None:
    """Run the feed host (in its own process)."""
    import uvicorn

    uvicorn.run(FeedHost(feeds, items), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


async def run(args: argparse.Namespace, base: str, data_dir: Path) -> dict[str, Any]:
    """Subscribe every feed, run a cold cycle, change `args.changed` feeds, then time the warm cycle."""
    import httpx
    from podbrief_contracts import EpisodeDiscovered, feed_id_for
    from podbrief_ingest import registry
    from podbrief_ingest.app import build
    from podbrief_ingest.settings import Settings
    from podbrief_runtime.store import outbox
    from sqlalchemy import func, select, update

    settings = Settings(data_dir=data_dir, allow_private_urls=True, max_in_flight=args.in_flight, poll_jitter=0.0)
    store = registry.open_store(settings.store_url("ingest"))
    ingest = build(settings, store)
    now = datetime.now(UTC)
    with store.transaction() as session:
        for index in range(args.feeds):
            url = f"{base}/feed/{index}.xml"
            registry.add_feed(session, feed_id_for(url), url, now)

    def announced() -> int:
        with store.engine.connect() as conn:
            query = select(func.count()).select_from(outbox).where(outbox.c.topic == EpisodeDiscovered.topic)
            return int(conn.execute(query).scalar_one())

    def all_due() -> None:
        with store.transaction() as session:
            session.execute(update(registry.feeds).values(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC)))

    def statuses() -> dict[str, int]:
        with store.transaction() as session:
            rows = registry.feed_statuses(session)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    async def cycle() -> dict[str, Any]:
        before = announced()
        started = time.perf_counter()
        polled = await ingest.scheduler.poll_due()
        seconds = time.perf_counter() - started
        return {
            "polled": polled,
            "seconds": round(seconds, 2),
            "polls_per_s": round(polled / seconds, 1),
            "announced": announced() - before,
            "statuses": statuses(),
        }

    try:
        cold = await cycle()
        async with httpx.AsyncClient() as client:
            (await client.get(f"{base}/_bump", params={"count": args.changed})).raise_for_status()
        await asyncio.to_thread(all_due)
        warm = await cycle()
    finally:
        await ingest.aclose()
        store.engine.dispose()
    return {
        "feeds": args.feeds,
        "changed": args.changed,
        "items_per_feed": args.items,
        "max_in_flight": args.in_flight,
        "cold_cycle": cold,
        "warm_cycle": warm,
        "target_cycle_s": TARGET_CYCLE_S,
        # The cycle only counts if it did the right thing: every changed feed's new episode, nothing else, no errors.
        "meets_target": warm["seconds"] < TARGET_CYCLE_S
        and warm["announced"] == args.changed
        and warm["statuses"] == {"ok": args.feeds},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=200)
    parser.add_argument("--items", type=int, default=20, help="episodes per feed")
    parser.add_argument("--in-flight", type=int, default=32, help="PODBRIEF_MAX_IN_FLIGHT")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.feeds, args.items)
        return 0
    port = free_port()
    host = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--feeds", str(args.feeds), "--items", str(args.items)]
    )
    try:
        wait_for_port("127.0.0.1", port)
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(run(args, f"http://127.0.0.1:{port}", Path(tmp)))
    finally:
        host.terminate()
        host.wait(timeout=10)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if result["meets_target"] else 1
    for name in ("cold_cycle", "warm_cycle"):
        c = result[name]
        print(
            f"{name:>10}: {c['polled']} polls in {c['seconds']:.2f} s = {c['polls_per_s']:.0f} polls/s, "
            f"{c['announced']} episodes announced, statuses {c['statuses']}"
        )
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"warm cycle ({args.changed} changed, {args.feeds - args.changed} x 304) {verdict} the {TARGET_CYCLE_S:.0f} s target")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
