"""briefs.draft_many: the briefs of a batch of readers drafted together equal each reader's own `draft`; the scheduler
drafts in batches and one failing reader does not stop the others' briefs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from podbrief_notify import briefs, scheduler
from podbrief_notify.interest_vectors import encode
from podbrief_notify.scheduler import Scheduler
from podbrief_notify.storage import open_store
from podbrief_notify.tables import briefs as briefs_table
from podbrief_notify.tables import (
    catalog,
    clusters,
    feedback,
    feeds,
    insight_links,
    insights,
    sent_clusters,
    subscriptions,
    users,
)
from podbrief_notify.users import create_user
from sqlalchemy import func, insert, select, update

from .helpers import EMBEDDER, FakeClock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DIM = 32
OPTIONS = briefs.BriefOptions(base_url="http://notify.invalid")


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def readers(store_url):
    """300 insights on 10 shows (4 in the catalog; ideas said on several shows; coarse scores, so ties; some undated;
    some of another embedding size; faces elsewhere or missing), related links, and 24 readers of every kind: each
    discover mode, no subscriptions, no interests, interests of another size, brief sizes 1-12, votes up and down
    (a catalog show turned down), ideas already sent. Yields (store, user ids)."""
    rng = np.random.default_rng(5)
    store = open_store(store_url)
    ids = [f"feed-{f}" for f in range(10)]
    topics = _unit(rng.standard_normal((3, DIM)))
    ideas = rng.integers(0, 200, 300)
    vectors = _unit(topics[ideas % 3] + _unit(rng.standard_normal((300, DIM))))
    other = _unit(rng.standard_normal((300, 16)))
    rows = [
        {
            "insight_id": f"i{n:03d}",
            "cluster_id": f"c{ideas[n]:03d}",
            "feed_id": ids[n % 10],
            "episode_id": f"e{n % 10}-{n % 4}",
            "podcast_title": f"Show {n % 10}",
            "podcast_image": f"https://feeds.example.com/{n % 10}.png",
            "episode_title": f"Episode {n % 4}",
            "episode_link": f"https://feeds.example.com/{n % 10}/{n % 4}",
            "enclosure_url": f"https://feeds.example.com/{n % 10}/{n % 4}.mp3",
            "published_at": None if n % 6 == 0 else NOW - timedelta(hours=float(rng.random() * 300)),
            "text": f"Insight {n}.",
            "start": 10.0,
            "end": 20.0,
            "score": float(round(rng.random(), 1)),
            "keywords": [f"k{n % 3}"],
            "embedding": (other[n] if n % 37 == 0 else vectors[n]).tobytes(),
            "embedding_model": "other" if n % 37 == 0 else "test",
            "created_at": NOW - timedelta(hours=float(rng.random() * 400)),
            "people": [{"name": "Ann", "role": "host"}],
        }
        for n in range(300)
    ]
    with store.transaction() as session:
        session.execute(
            insert(feeds), [{"feed_id": f, "feed_url": f"https://feeds.example.com/{f}.xml", "episodes_seen": 0} for f in ids]
        )
        session.execute(
            insert(catalog), [{"feed_id": f, "feed_url": f"https://feeds.example.com/{f}.xml", "added_at": NOW} for f in ids[6:]]
        )
        session.execute(insert(insights), rows)
        faces = {r["cluster_id"]: r["insight_id"] for r in reversed(rows)}
        faces.pop("c001", None)  # an idea without a cluster row
        faces["c002"] = "missing"
        session.execute(insert(clusters), [{"cluster_id": c, "face_insight_id": i, "updated_at": NOW} for c, i in faces.items()])
        pairs = {(f"i{a:03d}", f"i{b:03d}") for a, b in rng.integers(0, 300, (400, 2)) if a != b}
        session.execute(
            insert(insight_links),
            [
                {
                    "insight_id": a,
                    "related_id": b,
                    "text": f"rel {b}",
                    "podcast_title": "p",
                    "episode_title": "e",
                    "similarity": float(round(rng.random(), 1)),
                }
                for a, b in sorted(pairs)
            ],
        )
        user_ids = []
        modes = [None, "off", "mix", "only"]
        for u in range(24):
            user, _ = create_user(session, f"reader{u:02d}@example.com", "UTC", 7, NOW - timedelta(days=1))
            user_ids.append(user.id)
            follows = [] if u % 8 == 3 else rng.choice(10, int(rng.integers(1, 6)), replace=False)
            if len(follows):
                session.execute(
                    insert(subscriptions),
                    [
                        {
                            "id": f"s{u}-{f}",
                            "user_id": user.id,
                            "feed_id": ids[f],
                            "feed_url": f"https://feeds.example.com/{ids[f]}.xml",
                            "created_at": NOW,
                        }
                        for f in follows
                    ],
                )
            k = 0 if u % 6 == 5 else int(rng.integers(1, 4))
            vectors_of = topics[rng.choice(3, k, replace=False)] if u % 11 != 7 else _unit(rng.standard_normal((k, 16)))
            session.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(
                    interests=[f"topic {t}" for t in range(k)],
                    interest_vectors=encode(vectors_of) if k else None,
                    interest_model="test",
                    discover=modes[u % 4],
                    brief_size=int(rng.integers(1, 13)),
                )
            )
            voted = rng.choice(300, int(rng.integers(0, 6)), replace=False)
            if len(voted):
                session.execute(
                    insert(feedback),
                    [
                        {"user_id": user.id, "insight_id": f"i{n:03d}", "vote": "up" if n % 2 else "down", "created_at": NOW}
                        for n in voted
                    ],
                )
            if u % 3 == 0:
                session.execute(
                    insert(briefs_table).values(
                        id=f"b{u}", user_id=user.id, period=None, created_at=NOW, payload="{}", view_token="t"
                    )
                )
                sent = {f"c{c:03d}": f"i{c:03d}" for c in rng.integers(0, 200, 25)}
                session.execute(
                    insert(sent_clusters),
                    [{"user_id": user.id, "cluster_id": c, "insight_id": i, "brief_id": f"b{u}"} for c, i in sent.items()],
                )
    yield store, user_ids
    store.dispose()


def _rows(session, user_ids):
    found = {r.id: r for r in session.execute(select(users).where(users.c.id.in_(user_ids)))}
    return [found[u] for u in user_ids]


def test_draft_many_equals_each_readers_draft(readers):
    store, user_ids = readers
    with store.reading() as session:
        rows = _rows(session, user_ids)
        each = [json.dumps(briefs.draft(session, r, EMBEDDER, NOW, OPTIONS), default=repr) for r in rows]
        for size in (1, 5, 24):
            together = []
            for start in range(0, len(rows), size):
                together += briefs.draft_many(session, rows[start : start + size], EMBEDDER, NOW, OPTIONS)
            assert [json.dumps(b, default=repr) for b in together] == each
        assert briefs.draft_many(session, [], EMBEDDER, NOW, OPTIONS) == []
    drafted = [json.loads(b) for b in each]
    assert sum(1 for b in drafted if b) >= 18 and any(not b for b in drafted)
    assert any(i["discovered"] for b in drafted for i in b) and any(i["related"] for b in drafted for i in b)


def test_a_rounds_batches_read_the_candidates_once_and_draft_as_alone(readers, monkeypatch):
    store, user_ids = readers
    reads: list[tuple[frozenset[str], datetime]] = []
    real = briefs._shared_candidates

    def counted(session, feed_ids, shows_counted, cutoff):
        reads.append((frozenset(feed_ids), cutoff))
        return real(session, feed_ids, shows_counted, cutoff)

    monkeypatch.setattr(briefs, "_shared_candidates", counted)
    with store.reading() as session:
        rows = _rows(session, user_ids)
        each = [briefs.draft(session, r, EMBEDDER, NOW, OPTIONS) for r in rows]
        assert len(reads) == len(rows)  # draft: a read of its own each
        reads.clear()
        held = briefs.Candidates()
        together = []
        for start in range(0, len(rows), 5):
            together += briefs.draft_many(session, rows[start : start + 5], EMBEDDER, NOW, OPTIONS, held)
        assert together == each
        # Read again only where a batch ranked a show not held yet: never more reads than batches, and fewer here.
        assert 1 <= len(reads) < len(range(0, len(rows), 5))
        assert all(a < b for a, b in zip([r[0] for r in reads], [r[0] for r in reads[1:]], strict=False))  # each a superset
        # Another round (another `now`) reads afresh.
        reads.clear()
        later = NOW + timedelta(hours=1)
        assert briefs.draft_many(session, rows[:5], EMBEDDER, later, OPTIONS, held) == [
            briefs.draft(session, r, EMBEDDER, later, OPTIONS) for r in rows[:5]
        ]
        assert reads[0][1] == later - timedelta(days=OPTIONS.candidate_days)


def _scheduled(store_url: str, batch: int) -> Scheduler:
    return Scheduler(open_store(store_url), EMBEDDER, FakeClock(NOW), OPTIONS, batch=batch)


def test_the_scheduler_drafts_in_batches_and_stores_what_draft_would(readers, store_url):
    store, user_ids = readers
    with store.reading() as session:
        expected = {r.id: briefs.draft(session, r, EMBEDDER, NOW, OPTIONS) for r in _rows(session, user_ids)}
    s = _scheduled(store_url, batch=5)
    assert s.batch == 5 and Scheduler(store, None, FakeClock(NOW), OPTIONS).batch == scheduler.BATCH == 1024
    assert s.run_once() == sum(1 for items in expected.values() if items)
    with store.engine.connect() as conn:
        stored = {
            r.user_id: json.loads(r.payload)["items"]
            for r in conn.execute(select(briefs_table).where(briefs_table.c.period.is_not(None)))
        }
    assert set(stored) == {u for u, items in expected.items() if items}
    for u, items in stored.items():
        key = [(i["insight_id"], i["rank"], i["discovered"], i["why"], i["related"], i["also_said_on"]) for i in items]
        assert key == [
            (i["insight_id"], i["rank"], i["discovered"], i["why"], i["related"], i["also_said_on"]) for i in expected[u]
        ]
    assert s.run_once() == 0  # once per period
    s.store.dispose()


def test_one_failing_reader_does_not_stop_the_others_briefs(readers, store_url, monkeypatch, caplog):
    store, user_ids = readers
    with store.reading() as session:
        rows = _rows(session, user_ids)
        has_brief = [r.id for r in rows if briefs.draft(session, r, EMBEDDER, NOW, OPTIONS)]
    failing = has_brief[3]
    real = briefs.draft

    def draft(session, user, embedder, now, options):
        if user.id == failing:
            raise RuntimeError("boom")
        return real(session, user, embedder, now, options)

    batches: list[int] = []

    def draft_many(session, users, embedder, now, options, candidates=None):
        batches.append(len(users))
        if any(u.id == failing for u in users):
            raise RuntimeError("boom")
        return [real(session, u, embedder, now, options) for u in users]

    monkeypatch.setattr(briefs, "draft", draft)
    monkeypatch.setattr(scheduler, "draft_many", draft_many)
    s = _scheduled(store_url, batch=4)
    with caplog.at_level(logging.ERROR, logger="podbrief_notify.scheduler"):
        assert s.run_once() == len(has_brief) - 1
    with store.engine.connect() as conn:
        written = set(conn.execute(select(briefs_table.c.user_id).where(briefs_table.c.period.is_not(None))).scalars())
    assert written == set(has_brief) - {failing}
    assert any(r.getMessage().startswith("a scheduled brief failed") and r.user_id == failing for r in caplog.records)
    assert len(batches) > 1  # the other batches were drafted together
    # It is tried again after a pause that doubles with each failure, not every round.
    caplog.clear()
    for wait, tried in ((0, False), (59, False), (1, True), (60, False), (60, True)):
        s.clock.advance(wait)
        assert s.run_once() == 0
        failures = [r for r in caplog.records if r.getMessage().startswith("a scheduled brief failed")]
        assert len(failures) == (1 if tried else 0), (wait, tried)
        caplog.clear()
    assert [r.failures for r in failures] == [3]
    monkeypatch.setattr(briefs, "draft", real)
    s.clock.advance(240)
    assert s.run_once() == 1  # its brief is built once tried again
    assert s.run_once() == 0 and not s._failed
    with store.engine.connect() as conn:
        assert conn.execute(
            select(func.count()).select_from(briefs_table).where(briefs_table.c.period.is_not(None))
        ).scalar_one() == len(has_brief)
    s.store.dispose()
