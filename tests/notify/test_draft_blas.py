"""`briefs.draft` ranks with BLAS on one thread (its products are small: BLAS threads only contend with the worker's
other work), puts the setting back afterwards, and ranks exactly as with BLAS threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from podbrief_notify import briefs
from podbrief_notify.interest_vectors import encode
from podbrief_notify.storage import open_store
from podbrief_notify.tables import catalog, clusters, feeds, insights, subscriptions, users
from podbrief_notify.users import create_user
from sqlalchemy import insert, select, update
from threadpoolctl import threadpool_info, threadpool_limits

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
DIM = 64
OPTIONS = briefs.BriefOptions(base_url="http://notify.invalid")


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture
def reader(store_url):
    """A store with 120 insights on 6 shows (ideas on several shows, some undated), 3 of them in the catalog, and a
    reader who follows one show, has two interests, and mixes in discovered shows; yields (store, user id)."""
    rng = np.random.default_rng(3)
    store = open_store(store_url)
    ids = [f"feed-{f}" for f in range(6)]
    topics = _unit(rng.standard_normal((2, DIM)))
    ideas = rng.integers(0, 90, 120)
    vectors = _unit(topics[ideas % 2] + _unit(rng.standard_normal((120, DIM))))
    rows = [
        {
            "insight_id": f"i{n:03d}",
            "cluster_id": f"c{ideas[n]:03d}",
            "feed_id": ids[n % 6],
            "episode_id": f"e{n % 6}-{n % 7}",
            "podcast_title": f"Show {n % 6}",
            "episode_title": f"Episode {n % 7}",
            "enclosure_url": f"https://feeds.example.com/{n % 6}/{n % 7}.mp3",
            "published_at": None if n % 5 == 0 else NOW - timedelta(hours=float(rng.random() * 200)),
            "text": f"Insight {n}.",
            "start": 10.0,
            "end": 20.0,
            "score": float(rng.random()),
            "keywords": [f"k{n % 3}"],
            "embedding": vectors[n].tobytes(),
            "embedding_model": "test",
            "created_at": NOW - timedelta(hours=float(rng.random() * 200)),
            "people": [{"name": "Ann", "role": "host"}],
        }
        for n in range(120)
    ]
    with store.transaction() as session:
        session.execute(
            insert(feeds), [{"feed_id": f, "feed_url": f"https://feeds.example.com/{f}.xml", "episodes_seen": 0} for f in ids]
        )
        session.execute(
            insert(catalog), [{"feed_id": f, "feed_url": f"https://feeds.example.com/{f}.xml", "added_at": NOW} for f in ids[3:]]
        )
        session.execute(insert(insights), rows)
        faces = {r["cluster_id"]: r["insight_id"] for r in reversed(rows)}
        session.execute(insert(clusters), [{"cluster_id": c, "face_insight_id": i, "updated_at": NOW} for c, i in faces.items()])
        user, _ = create_user(session, "reader@example.com", "UTC", 7, NOW)
        session.execute(
            insert(subscriptions),
            [
                {
                    "id": f"s{f}",
                    "user_id": user.id,
                    "feed_id": f,
                    "feed_url": f"https://feeds.example.com/{f}.xml",
                    "created_at": NOW,
                }
                for f in ids[:1]
            ],
        )
        session.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                interests=["one", "two"], interest_vectors=encode(topics), interest_model="test", discover="mix", brief_size=16
            )
        )
    yield store, user.id
    store.dispose()


def _draft(store, user_id: str, draft=briefs.draft) -> list[dict]:
    with store.transaction() as session:
        user = session.execute(select(users).where(users.c.id == user_id)).one()
        return draft(session, user, None, NOW, OPTIONS)


def _unlimited(session, user, embedder, now, options) -> list[dict]:
    return briefs._draft_many(session, [user], embedder, now, options, briefs.Candidates())[0]  # without the limit


def test_draft_ranks_with_one_blas_thread_and_restores_the_setting(reader, monkeypatch):
    store, user_id = reader
    seen: list[list[int]] = []

    def select_picks(*args):
        seen.append(_blas_threads())
        return real(*args)

    real = briefs.select_picks
    monkeypatch.setattr(briefs, "select_picks", select_picks)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        items = _draft(store, user_id)
        assert _blas_threads() == before
    assert items and seen and all(threads == [1] * len(threads) for threads in seen)


def test_draft_ranks_the_same_as_with_blas_threads(reader):
    store, user_id = reader
    limited = _draft(store, user_id)
    with threadpool_limits(2, user_api="blas"):
        unlimited = _draft(store, user_id, draft=_unlimited)
    assert limited == unlimited
    assert len(limited) == 16 and any(i["discovered"] for i in limited) and any(not i["discovered"] for i in limited)
    assert all(i["keywords"] and i["episode"]["people"] for i in limited)  # the chosen items are described in full
