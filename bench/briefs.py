"""Brief benchmarks: ranking 10,000 users x 5,000 candidates (< 10 s), and 2,000 webhook deliveries (>= 500/s).

The ranking is the service's own vectorised code (`podbrief_notify.ranking.rank`) on synthetic
384-dim unit vectors; the deliveries go through the real Deliverer (store, signing, SafeClient,
attempt records) to a uvicorn receiver on loopback in another process.

    .venv/bin/python bench/briefs.py [--users 10000] [--candidates 5000] [--deliveries 2000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
from podbrief_runtime.broker import free_port, wait_for_port

RANK_TARGET_S = 10.0
DELIVERY_TARGET_PER_S = 500.0
DIM = 384


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def bench_ranking(users: int, candidates: int, seed: int = 7) -> dict[str, float]:
    """Time `rank` for every user against one pool: interests shared, votes, per-user subscriptions."""
    from podbrief_notify.ranking import Pool, Tastes, rank

    rng = np.random.default_rng(seed)
    feeds, topics, voted = 200, 500, 5000
    embeddings = _unit(rng.standard_normal((candidates, DIM)))
    pool = Pool(
        embeddings=embeddings,
        quality=rng.random(candidates).astype(np.float32),
        age_hours=(rng.random(candidates) * 14 * 24).astype(np.float32),
        shows=rng.integers(1, 5, candidates),
        episodes=rng.integers(0, candidates // 4, candidates),
    )
    # One table: distinct interests (shared by many users), then insights users voted on.
    table = np.vstack([_unit(rng.standard_normal((topics, DIM))), _unit(rng.standard_normal((voted, DIM)))])
    interests = [rng.choice(topics, rng.integers(0, 5), replace=False) for _ in range(users)]
    liked = [topics + rng.choice(voted, rng.integers(0, 4), replace=False) for _ in range(users)]
    disliked = [topics + rng.choice(voted, rng.integers(0, 4), replace=False) for _ in range(users)]
    follows = rng.random((users, feeds)) < 0.05
    available = follows[:, rng.integers(0, feeds, candidates)]
    started = time.perf_counter()
    picks = rank(pool, Tastes(table, interests, liked, disliked), 5, available=available)
    elapsed = time.perf_counter() - started
    assert len(picks) == users and all(all(available[u, i] for i in p) for u, p in enumerate(picks[:100]))
    return {"users": users, "candidates": candidates, "seconds": elapsed, "users_per_s": users / elapsed}


RECEIVER = """
import sys, uvicorn
count = 0
async def app(scope, receive, send):
    global count
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["method"] == "POST":
        count += 1
        body = b'{"ok":true}'
    else:
        body = str(count).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def _seed_deliveries(url: str, receiver: str, count: int, hooks: int) -> str:
    """`count` pending deliveries of a brief-sized body spread over `hooks` endpoints; returns one secret."""
    from podbrief_notify.keys import new_delivery_id
    from podbrief_notify.migrate import upgrade
    from podbrief_notify.storage import open_store
    from podbrief_notify.tables import deliveries
    from podbrief_notify.users import create_user
    from podbrief_notify.webhooks import create_webhook
    from sqlalchemy import insert

    upgrade(url)
    store = open_store(url)
    now = datetime.now(UTC)
    body = json.dumps({"type": "brief.ready", "timestamp": now.isoformat(), "data": {"items": ["x" * 1000] * 5}})
    rows = []
    with store.transaction() as session:
        for h in range(hooks):
            user, _ = create_user(session, f"u{h}@example.com", "UTC", 7, now)
            hook = create_webhook(session, user.id, receiver, now, 10)
            rows += [
                {
                    "id": new_delivery_id(),
                    "user_id": user.id,
                    "webhook_id": hook.id,
                    "event_type": "brief.ready",
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now - timedelta(seconds=1),
                    "created_at": now,
                }
                for _ in range(count // hooks)
            ]
        session.execute(insert(deliveries), rows)
    store.dispose()
    return hook.secret


async def bench_deliveries(count: int, tmp: str) -> dict[str, float]:
    """Deliver `count` pending webhooks with the service's Deliverer and time it."""
    from podbrief_notify.clock import SystemClock
    from podbrief_notify.delivery import Deliverer, HttpSender
    from podbrief_notify.storage import open_store
    from podbrief_notify.tables import deliveries
    from sqlalchemy import func, select

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    try:
        wait_for_port("127.0.0.1", port)
        receiver = f"http://127.0.0.1:{port}/hook"
        url = f"sqlite:///{tmp}/deliveries.sqlite3"
        _seed_deliveries(url, receiver, count, hooks=100)
        store = open_store(url)
        sender = HttpSender(allow_private=True, timeout=15, response_cap=1024, per_host=8)
        deliverer = Deliverer(store, sender, SystemClock(), timedelta(hours=24), concurrency=64)
        started = time.perf_counter()
        while await deliverer.run_due():
            pass
        elapsed = time.perf_counter() - started
        await sender.aclose()
        with store.engine.connect() as conn:
            delivered = conn.execute(select(func.count()).where(deliveries.c.status == "delivered")).scalar_one()
        received = int(httpx.get(f"http://127.0.0.1:{port}/count").text)
        store.dispose()
    finally:
        proc.terminate()
        proc.wait(10)
    assert delivered == count == received, (delivered, received)
    return {"deliveries": count, "seconds": elapsed, "per_s": count / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=5_000)
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ranking = bench_ranking(args.users, args.candidates)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PODBRIEF_DATA_DIR", tmp)
        delivery = asyncio.run(bench_deliveries(args.deliveries, tmp))
    ok = ranking["seconds"] < RANK_TARGET_S and delivery["per_s"] >= DELIVERY_TARGET_PER_S
    if args.json:
        print(json.dumps({"ranking": ranking, "deliveries": delivery, "meets_target": ok}, indent=2))
    else:
        print(
            f"ranking: {args.users} users x {args.candidates} candidates in {ranking['seconds']:.2f} s "
            f"({ranking['users_per_s']:.0f} users/s; target < {RANK_TARGET_S:.0f} s)"
        )
        print(
            f"webhooks: {delivery['deliveries']} delivered in {delivery['seconds']:.2f} s "
            f"({delivery['per_s']:.0f}/s; target >= {DELIVERY_TARGET_PER_S:.0f}/s)"
        )
        print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
