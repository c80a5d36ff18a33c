"""API benchmark: GET /v1/briefs/latest under 64 connections, next to a bare FastAPI endpoint, same run.

Each server runs as one uvicorn worker on loopback, both async with their startup objects frozen: a bare
FastAPI endpoint returning the same JSON (the ceiling), and notify's API (a store read per request; concurrent
requests of one user share it) twice: all 64 connections as one reader, then each request as a random one of
`--readers` (1,000) readers with a brief each, the load of many people opening their brief at once.
The load comes from wrk (`apt-get install wrk`), or from an asyncio httpx load generator when wrk
is missing. Targets: >= 1,000 req/s, p99 < 50 ms.

    .venv/bin/python bench/api.py [--seconds 10] [--connections 64] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from podbrief_runtime.broker import free_port, wait_for_port

TARGET_RPS = 1000
TARGET_P99_MS = 50.0


def seed(db_url: str, readers: int = 1) -> tuple[list[str], str]:
    """`readers` users following one show, each with a full five-item brief, in a fresh store; returns (their API
    keys, the first one's brief JSON)."""
    from podbrief_contracts import EpisodeRef, InsightCreated, RelatedInsight, feed_id_for
    from podbrief_notify.briefs import BriefOptions, build
    from podbrief_notify.clock import SystemClock
    from podbrief_notify.embedder import HashEmbedder
    from podbrief_notify.insights import store_insight
    from podbrief_notify.migrate import upgrade
    from podbrief_notify.storage import open_store
    from podbrief_notify.subscriptions import subscribe
    from podbrief_notify.users import create_user

    upgrade(db_url)
    store = open_store(db_url)
    embedder, now = HashEmbedder(), SystemClock().now()
    url = "https://feeds.example.com/bench.xml"
    with store.transaction() as session:
        user, key = create_user(session, "bench@example.com", "UTC", 7, now)
        subscribe(session, user.id, url, now, 10)
        others = [create_user(session, f"bench{n}@example.com", "UTC", 7, now) for n in range(1, readers)]
        for other, _ in others:
            subscribe(session, other.id, url, now, 10)
        for n in range(8):
            text = f"Benchmark insight {n}: a takeaway about topic {n} with enough words to be realistic. It adds some detail."
            episode = EpisodeRef(
                episode_id=f"ep{n}",
                feed_id=feed_id_for(url),
                podcast_title="Bench Show",
                podcast_image="https://feeds.example.com/c.png",
                episode_title=f"Episode {n}",
                episode_link=f"https://feeds.example.com/{n}",
                enclosure_url=f"https://feeds.example.com/{n}.mp3",
            )
            related = [
                RelatedInsight(
                    insight_id=f"r{n}{k}",
                    text=f"Related idea {k} to {n}.",
                    podcast_title="Other",
                    episode_title="Other ep",
                    similarity=0.6,
                )
                for k in range(3)
            ]
            event = InsightCreated(
                event_id=f"e{n}",
                insight_id=f"i{n}",
                episode=episode,
                text=text,
                start=60.0 * n,
                end=60.0 * n + 30,
                score=0.5,
                keywords=["bench"],
                embedding=embedder.embed([text])[0].tolist(),
                embedding_model="hash",
                cluster_id=f"i{n}",
                is_cluster_face=True,
                related=related,
            )
            store_insight(session, event, now)
        payload = build(session, user.id, embedder, now, BriefOptions("http://127.0.0.1:8000"))
        for other, _ in others:
            build(session, other.id, embedder, now, BriefOptions("http://127.0.0.1:8000"))
    store.dispose()
    return [key, *(k for _, k in others)], json.dumps(payload)


def serve(kind: str, port: int, db_url: str, payload_file: str) -> None:
    """Run one server in this process (called in a subprocess)."""
    import uvicorn

    if kind == "bare":
        from fastapi import FastAPI, Response

        body = Path(payload_file).read_bytes()
        app = FastAPI()

        # The same shape of server as the real one: an async endpoint, and startup objects frozen below.
        @app.get("/brief")
        async def brief() -> Response:
            return Response(body, media_type="application/json")

    else:
        from podbrief_notify.api.app import create_app
        from podbrief_notify.context import build_context
        from podbrief_notify.embedder import HashEmbedder
        from podbrief_notify.settings import Settings
        from podbrief_notify.storage import open_store

        settings = Settings(_env_file=None, rate_limit_per_minute=0)  # type: ignore[call-arg]
        app = create_app(build_context(settings, open_store(db_url), HashEmbedder()))
    # Both servers get what the real API process does at start: everything loaded so far is exempt from GC passes.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


def _wrk(url: str, headers: dict[str, str], seconds: int, connections: int, keys: list[str] | None = None) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if keys:  # each request as one of many readers, drawn at random
            listed = ",".join(f'"{k}"' for k in keys)
            script.write(
                f"local keys = {{{listed}}}\n"
                "request = function()\n"
                '  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. keys[math.random(#keys)]})\n'
                "end\n"
            )
            script.flush()
            args += ["-s", script.name]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "errors": float(non2xx.group(1)) if non2xx else 0.0}


async def _httpx_load(
    url: str, headers: dict[str, str], seconds: int, connections: int, keys: list[str] | None = None
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                extra = {"Authorization": f"Bearer {random.choice(keys)}"} if keys else None
                response = await client.get(url, headers=extra)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "errors": float(errors)}


def load(url: str, headers: dict[str, str], seconds: int, connections: int, keys: list[str] | None = None) -> dict[str, float]:
    """Measure `url` with wrk when available, else with httpx; with `keys`, each request as a random one of them."""
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections, keys)
    return asyncio.run(_httpx_load(url, headers, seconds, connections, keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--store-url", help="a PostgreSQL database to serve from (in a schema of its own); default SQLite")
    parser.add_argument("--readers", type=int, default=1000, help="readers in the many-readers run (each request a random one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--serve", choices=["notify", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db, args.payload)
        return 0

    from briefs import _bench_store_url  # (bench/briefs.py: a fresh SQLite file, or a fresh PostgreSQL schema)

    with tempfile.TemporaryDirectory() as tmp, _bench_store_url(args.store_url, tmp) as db_url:
        keys, payload = seed(db_url, max(1, args.readers))
        payload_file = Path(tmp) / "brief.json"
        payload_file.write_text(payload)
        results: dict[str, dict[str, float]] = {}
        auth = {"Authorization": f"Bearer {keys[0]}"}
        for kind, path, headers, many in (
            ("bare_fastapi", "/brief", {}, None),
            ("notify_latest_brief", "/v1/briefs/latest", auth, None),
            ("notify_latest_many_readers", "/v1/briefs/latest", {}, keys),
        ):
            port = free_port()
            serve_kind = "bare" if kind == "bare_fastapi" else "notify"
            cmd = [
                sys.executable,
                __file__,
                "--serve",
                serve_kind,
                "--port",
                str(port),
                "--db",
                db_url,
                "--payload",
                str(payload_file),
            ]
            env = {**os.environ, "PODBRIEF_DATA_DIR": tmp}
            proc = subprocess.Popen(cmd, env=env)
            try:
                wait_for_port("127.0.0.1", port)
                url = f"http://127.0.0.1:{port}{path}"
                check = httpx.get(url, headers=headers or auth)
                assert check.status_code == 200 and check.json()["id"], check.text
                load(url, headers, 2, args.connections, many)  # warm-up
                results[kind] = load(url, headers, args.seconds, args.connections, many)
            finally:
                proc.terminate()
                proc.wait(10)
    results["brief_bytes"] = {"bytes": float(len(payload))}
    measured = ("notify_latest_brief", "notify_latest_many_readers")
    ok = all(results[k]["rps"] >= TARGET_RPS and results[k]["p99_ms"] < TARGET_P99_MS for k in measured)
    if args.json:
        print(json.dumps({"results": results, "meets_target": ok}, indent=2))
    else:
        tool = "wrk" if shutil.which("wrk") else "httpx"
        store = "postgresql" if args.store_url else "sqlite"
        setup = f"{args.connections} connections, {args.seconds}s, one uvicorn worker, {store}, {len(payload)}-byte brief"
        print(f"load: {tool}, {setup}")
        for name in ("bare_fastapi", "notify_latest_brief", "notify_latest_many_readers"):
            r = results[name]
            print(f"{name:27s} {r['rps']:8.0f} req/s   p99 {r['p99_ms']:6.1f} ms   non-2xx {int(r['errors'])}")
        print(f"(notify_latest_brief: one reader on all connections; _many_readers: each request one of {len(keys)})")
        print(f"target: >= {TARGET_RPS} req/s and p99 < {TARGET_P99_MS:.0f} ms -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
