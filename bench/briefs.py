"""Brief benchmarks: the scheduler's `briefs.draft_many` for every user (10,000 < 10 s), 2,000 webhooks (>= 500/s).

Briefs: the scheduler's code path for every user of a seeded notify store (a temporary SQLite file, or
`--store-url` PostgreSQL): 5,000 insights (384-dim unit float32 vectors, random quality, published within 14 days,
ideas said on up to 4 shows) over 200 feeds; each user follows about 10 feeds, has 0-4 interests with stored
vectors (from a shared table of 500 topics, so no model is loaded: embedder=None) and a few up and down votes.
As `Scheduler.run_once` drafts: `briefs.draft_many` over batches of `scheduler.BATCH` users, one read session per
batch, one `briefs.Candidates` for the round (nothing is written). Printed next to, in the same run on the same
store, for the first `--sample` users: `briefs.draft` one user per session (the API's POST /v1/briefs), and the bare
SQL read of each user's candidate rows. The timed drafts must equal the per-user drafts. The target is on the time
for 10,000 users (projected from `--users` when fewer are drafted).

Deliveries go through the real Deliverer (store, signing, SafeClient, attempt records) to a uvicorn receiver on
loopback in another process.

    .venv/bin/python bench/briefs.py [--users N] [--sample N] [--candidates 5000] [--deliveries 2000] [--store-url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from podbrief_runtime.broker import free_port, wait_for_port

BRIEFS_TARGET_S = 10.0  # for 10,000 users, drafted one after another
TARGET_USERS = 10_000
DELIVERY_TARGET_PER_S = 500.0
DIM = 384
FEEDS = 200
TOPICS = 500
CANDIDATE_DAYS = 14.0


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@contextmanager
def _bench_store_url(store_url: str | None, tmp: str) -> Iterator[str]:
    """A fresh store: a SQLite file under `tmp`, or a schema of its own in the PostgreSQL database `store_url`
    (dropped afterwards)."""
    if store_url is None:
        yield f"sqlite:///{tmp}/briefs.sqlite3"
        return
    if not store_url.startswith("postgresql"):
        yield store_url  # another SQLite file: it must be empty
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_briefs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(store_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{store_url}{'&' if '?' in store_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _seed_briefs(url: str, users: int, candidates: int, now: datetime, rng: np.random.Generator) -> dict[str, Any]:
    """Insights, feeds, users with subscriptions, stored interest vectors and votes; returns what the checks need."""
    from podbrief_notify.interest_vectors import encode
    from podbrief_notify.migrate import upgrade
    from podbrief_notify.storage import open_store
    from podbrief_notify.tables import clusters, feedback, feeds, insights, subscriptions
    from podbrief_notify.tables import users as users_table
    from podbrief_notify.users import create_user
    from sqlalchemy import bindparam, insert, update

    upgrade(url)
    store = open_store(url)
    topics = _unit(rng.standard_normal((TOPICS, DIM)))
    # Ideas lie near a topic (so interests match some of them); an idea said on several shows is one cluster.
    ideas = max(1, candidates * 4 // 5)
    centres = _unit(topics[rng.integers(0, TOPICS, ideas)] + _unit(rng.standard_normal((ideas, DIM))))
    idea_of = np.concatenate([np.arange(ideas), rng.integers(0, ideas, candidates - ideas)])
    embeddings = _unit(centres[idea_of] + 0.15 * _unit(rng.standard_normal((candidates, DIM))))
    feed_of = rng.integers(0, FEEDS, candidates)
    episode_of = rng.integers(0, 5, candidates)  # about 5 insights per episode
    published = [now - timedelta(days=float(d)) for d in rng.random(candidates) * (CANDIDATE_DAYS - 0.5)]
    feed_ids = [f"bench-feed-{f:03d}" for f in range(FEEDS)]
    url_of = {fid: f"https://feeds.example.com/{fid}.xml" for fid in feed_ids}
    insight_ids = [f"bench-insight-{i:06d}" for i in range(candidates)]
    rows = [
        {
            "insight_id": insight_ids[i],
            "cluster_id": f"bench-idea-{idea_of[i]:06d}",
            "feed_id": feed_ids[feed_of[i]],
            "episode_id": f"bench-ep-{feed_of[i]:03d}-{episode_of[i]}",
            "podcast_title": f"Show {feed_of[i]}",
            "podcast_image": None,
            "episode_title": f"Episode {episode_of[i]} of show {feed_of[i]}",
            "episode_link": None,
            "enclosure_url": f"https://feeds.example.com/{feed_ids[feed_of[i]]}/{episode_of[i]}.mp3",
            "published_at": published[i],
            "text": f"Insight {i}: an idea about topic {idea_of[i] % TOPICS}, said in a sentence of ordinary length.",
            "start": 60.0,
            "end": 90.0,
            "score": float(rng.random()),
            "keywords": [],
            "embedding": embeddings[i].tobytes(),
            "embedding_model": "bench",
            "created_at": min(now, published[i] + timedelta(hours=float(rng.random() * 6))),
            "speaker": None,
            "chapter": None,
            "quote": None,
            "people": [],
        }
        for i in range(candidates)
    ]
    # The face of each idea: its first phrasing.
    faces = {}
    for i in range(candidates):
        faces.setdefault(int(idea_of[i]), i)
    by_feed: list[list[int]] = [[] for _ in range(FEEDS)]
    for i, f in enumerate(feed_of):
        by_feed[f].append(i)
    follows: dict[str, set[str]] = {}
    interests: dict[str, int] = {}
    with store.transaction() as session:
        session.execute(insert(feeds), [{"feed_id": fid, "feed_url": url_of[fid], "episodes_seen": 0} for fid in feed_ids])
        session.execute(insert(insights), rows)
        session.execute(
            insert(clusters),
            [
                {"cluster_id": f"bench-idea-{idea:06d}", "face_insight_id": insight_ids[i], "updated_at": now}
                for idea, i in faces.items()
            ],
        )
        subs, votes, tastes = [], [], []
        for u in range(users):
            user, _ = create_user(session, f"bench{u}@example.com", "UTC", 7, now)
            chosen = rng.choice(FEEDS, int(rng.integers(8, 13)), replace=False)
            follows[user.id] = {feed_ids[f] for f in chosen}
            subs += [
                {
                    "id": str(uuid.uuid4()),
                    "user_id": user.id,
                    "feed_id": feed_ids[f],
                    "feed_url": url_of[feed_ids[f]],
                    "created_at": now,
                }
                for f in chosen
            ]
            mine = [i for f in chosen for i in by_feed[f]]
            voted = rng.choice(mine, min(len(mine), int(rng.integers(0, 7))), replace=False) if mine else []
            votes += [
                {
                    "user_id": user.id,
                    "insight_id": insight_ids[i],
                    "vote": "up" if rng.random() < 0.5 else "down",
                    "created_at": now,
                }
                for i in voted
            ]
            topic_rows = rng.choice(TOPICS, int(rng.integers(0, 5)), replace=False)
            interests[user.id] = len(topic_rows)
            tastes.append(
                {
                    "b_id": user.id,
                    "interests": [f"topic {t}" for t in topic_rows],
                    "interest_vectors": encode(topics[topic_rows]) if len(topic_rows) else None,
                    "interest_model": "bench",
                }
            )
        session.execute(insert(subscriptions), subs)
        if votes:
            session.execute(insert(feedback), votes)
        session.execute(update(users_table).where(users_table.c.id == bindparam("b_id")), tastes)
    store.dispose()
    return {"follows": follows, "interests": interests, "votes": len(votes), "ideas": len(faces)}


def _time_each(user_ids: list[str], run: Callable[[str], int]) -> tuple[float, np.ndarray, int]:
    """(seconds for all, milliseconds per user, total count `run` returned)."""
    per_user = np.zeros(len(user_ids))
    total = 0
    started = time.perf_counter()
    for n, user_id in enumerate(user_ids):
        t0 = time.perf_counter()
        total += run(user_id)
        per_user[n] = (time.perf_counter() - t0) * 1000
    return time.perf_counter() - started, per_user, total


def _figures(users: int, seconds: float, per_user_ms: np.ndarray) -> dict[str, float]:
    return {
        "seconds": seconds,
        "users_per_s": users / seconds,
        "ms_p50": float(np.percentile(per_user_ms, 50)),
        "ms_p99": float(np.percentile(per_user_ms, 99)),
        "projected_seconds_10k": seconds / users * TARGET_USERS,
    }


def bench_ranking(
    users: int, candidates: int, store_url: str | None = None, seed: int = 7, sample: int = 1_000
) -> dict[str, Any]:
    """Time the scheduler's path, `briefs.draft_many` over every user in batches of `scheduler.BATCH` (one read
    session a batch), next to `briefs.draft` per user (one session each, as the API drafts) and the bare candidate
    read, both on the first `sample` users."""
    from podbrief_notify.briefs import BriefOptions, Candidates, draft, draft_many
    from podbrief_notify.interest_vectors import for_ranking
    from podbrief_notify.scheduler import BATCH
    from podbrief_notify.storage import open_store
    from podbrief_notify.tables import insights, subscriptions
    from podbrief_notify.tables import users as users_table
    from sqlalchemy import select

    rng = np.random.default_rng(seed)
    load = os.getloadavg()[0]  # this is timed on whatever else the machine runs
    now = datetime.now(UTC)
    options = BriefOptions(base_url="http://bench.invalid")
    cutoff = now - timedelta(days=options.candidate_days)
    with tempfile.TemporaryDirectory() as tmp, _bench_store_url(store_url, tmp) as url:
        started = time.perf_counter()
        seeded = _seed_briefs(url, users, candidates, now, rng)
        seed_seconds = time.perf_counter() - started
        store = open_store(url)
        user_ids = list(seeded["follows"])
        picked: dict[str, list[dict[str, Any]]] = {}

        def drafted(user_id: str) -> int:
            # As briefs.build (the API's POST /v1/briefs): a transaction per user, the user's row, then draft.
            with store.transaction() as session:
                user = session.execute(select(users_table).where(users_table.c.id == user_id)).one()
                items = draft(session, user, None, now, options)
            picked[user_id] = items
            return len(items)

        def candidate_read(user_id: str) -> int:
            with store.transaction() as session:
                return len(
                    session.execute(
                        select(insights)
                        .join(subscriptions, subscriptions.c.feed_id == insights.c.feed_id)
                        .where(subscriptions.c.user_id == user_id, insights.c.created_at >= cutoff)
                    ).all()
                )

        batched: dict[str, list[dict[str, Any]]] = {}
        round_candidates = [Candidates()]  # a round's, as Scheduler.run_once holds them

        def drafted_batch(batch: list[str]) -> int:
            # As Scheduler.run_once: one read session a batch, the users' rows, then draft_many.
            with store.reading() as session:
                found = {r.id: r for r in session.execute(select(users_table).where(users_table.c.id.in_(batch)))}
                out = draft_many(session, [found[u] for u in batch], None, now, options, round_candidates[0])
            batched.update(zip(batch, out, strict=True))
            return sum(len(items) for items in out)

        # draft must rank by the stored vectors: no model here, and nothing ranked without its reader's interests.
        someone = next((u for u in user_ids if seeded["interests"][u]), None)
        if someone is not None:
            with store.reading() as session:
                row = session.execute(select(users_table).where(users_table.c.id == someone)).one()
                assert for_ranking(row, None, DIM).shape == (seeded["interests"][someone], DIM)
        ranked_without = _Count()
        logger = logging.getLogger("podbrief_notify.interest_vectors")
        logger.addHandler(ranked_without)
        try:
            for user_id in user_ids[:20]:  # warm-up, not timed
                candidate_read(user_id)
                drafted(user_id)
            drafted_batch(user_ids[:BATCH])
            sampled = user_ids[: max(1, min(sample, users))]
            base_seconds, base_ms, rows_read = _time_each(sampled, candidate_read)
            each_seconds, each_ms, _ = _time_each(sampled, drafted)
            batches = [user_ids[k : k + BATCH] for k in range(0, len(user_ids), BATCH)]
            round_candidates[0] = Candidates()  # the timed round reads its candidates itself
            started = time.perf_counter()
            per_batch = [(drafted_batch(b), time.perf_counter()) for b in batches]
            seconds = time.perf_counter() - started
            ends = [started] + [t for _, t in per_batch]
            per_user_ms = np.concatenate(
                [np.full(len(b), (ends[n + 1] - ends[n]) * 1000 / len(b)) for n, b in enumerate(batches)]
            )
            items = sum(n for n, _ in per_batch)
        finally:
            logger.removeHandler(ranked_without)
            store.dispose()

    assert ranked_without.count == 0, f"{ranked_without.count} briefs ranked without their reader's interests"
    assert len(batched) == users and len(picked) == len(sampled)
    assert all(batched[u] == picked[u] for u in sampled), "draft_many differs from draft"
    for user_id in user_ids[:200]:
        assert all(item["show"]["feed_id"] in seeded["follows"][user_id] for item in batched[user_id])
    return {
        "users": users,
        "candidates": candidates,
        "store": "postgresql" if url.startswith("postgresql") else "sqlite",
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "load_average_1m": load,
        "seed_seconds": seed_seconds,
        "ideas": seeded["ideas"],
        "votes": seeded["votes"],
        "users_with_interests": sum(1 for k in seeded["interests"].values() if k),
        "candidates_per_user": rows_read / len(sampled),
        "items_per_user": items / users,
        "batch": BATCH,
        "sampled_users": len(sampled),
        **_figures(users, seconds, per_user_ms),
        "per_reader_draft": {"what": "briefs.draft, one user a session", **_figures(len(sampled), each_seconds, each_ms)},
        "baseline": {
            "what": "bare SQL read of each user's candidate rows",
            **_figures(len(sampled), base_seconds, base_ms),
        },
    }


def users_of(figures: dict[str, Any]) -> float:
    return figures["users_per_s"] * figures["seconds"]


class _Count(logging.Handler):
    """Counts the warnings of a brief ranked without its reader's interests."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


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
                for _ in range(count // hooks + (h < count % hooks))  # exactly `count` in all
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
        _seed_deliveries(url, receiver, count, hooks=max(1, min(100, count)))  # every webhook gets some
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
    parser.add_argument("--users", type=int, default=2_000, help="users whose briefs are drafted (the target is for 10,000)")
    parser.add_argument("--sample", type=int, default=1_000, help="users timed with draft per user and the bare read")
    parser.add_argument("--candidates", type=int, default=5_000, help="insights in the store, over 200 feeds")
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--store-url", help="a PostgreSQL database to draft on (in a schema of its own); default SQLite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ranking = bench_ranking(args.users, args.candidates, args.store_url, sample=args.sample)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PODBRIEF_DATA_DIR", tmp)
        delivery = asyncio.run(bench_deliveries(args.deliveries, tmp))
    ok = ranking["projected_seconds_10k"] < BRIEFS_TARGET_S and delivery["per_s"] >= DELIVERY_TARGET_PER_S
    if args.json:
        print(json.dumps({"ranking": ranking, "deliveries": delivery, "meets_target": ok}, indent=2))
    else:
        base = ranking["baseline"]
        print(
            f"briefs: draft_many() in batches of {ranking['batch']} for {args.users:,} users (draft() and the bare read: "
            f"the first {ranking['sampled_users']:,}) over {args.candidates:,} insights ({ranking['store']}, "
            f"OPENBLAS_NUM_THREADS {ranking['blas_threads']}, load average {ranking['load_average_1m']:.1f} on "
            f"{os.cpu_count()} CPUs; "
            f"{ranking['candidates_per_user']:.0f} candidates and {ranking['items_per_user']:.1f} items per user; "
            f"seeded in {ranking['seed_seconds']:.1f} s)"
        )
        each = ranking["per_reader_draft"]
        for name, r in (
            ("draft_many (scheduler's path)", ranking),
            ("draft per user (API's path)", each),
            ("baseline: bare candidate read", base),
        ):
            print(
                f"  {name:30s} {r['seconds']:7.2f} s  {r['users_per_s']:6.0f} users/s  "
                f"p50 {r['ms_p50']:6.2f} ms  p99 {r['ms_p99']:6.2f} ms  -> 10,000 users {r['projected_seconds_10k']:6.1f} s"
            )
        print(
            f"  per user, draft_many / bare read: "
            f"{ranking['seconds'] / users_of(ranking) / (base['seconds'] / users_of(base)):.2f}x, "
            f"draft / bare read: {each['seconds'] / base['seconds']:.1f}x; target for 10,000 users < {BRIEFS_TARGET_S:.0f} s"
        )
        print(
            f"webhooks: {delivery['deliveries']} delivered in {delivery['seconds']:.2f} s "
            f"({delivery['per_s']:.0f}/s; target >= {DELIVERY_TARGET_PER_S:.0f}/s)"
        )
        print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
