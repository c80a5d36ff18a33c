"""Each part of the brief score, the per-episode cap, MMR diversity, and batch == one-by-one."""

from __future__ import annotations

import numpy as np
from podbrief_notify.ranking import Pool, Tastes, Weights, cluster_weight, freshness, rank, score, taste_parts

DIM = 8


def unit(*components: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(components)] = components
    return v / np.linalg.norm(v)


def pool(vectors, quality=None, age=None, shows=None, episodes=None) -> Pool:
    n = len(vectors)
    return Pool(
        embeddings=np.stack(vectors).astype(np.float32),
        quality=np.asarray(quality if quality is not None else [0.5] * n, dtype=np.float32),
        age_hours=np.asarray(age if age is not None else [1.0] * n, dtype=np.float32),
        shows=np.asarray(shows if shows is not None else [1] * n),
        episodes=np.asarray(episodes if episodes is not None else list(range(n))),
    )


def one_user(interests=(), liked=(), disliked=()) -> Tastes:
    rows = [*interests, *liked, *disliked]
    vectors = np.stack(rows) if rows else np.zeros((0, DIM), np.float32)
    k, u = len(interests), len(liked)
    return Tastes(vectors, [np.arange(k)], [np.arange(k, k + u)], [np.arange(k + u, len(rows))])


ONLY = {"interest": 0.0, "quality": 0.0, "freshness": 0.0, "cluster": 0.0, "feedback": 0.0}


def only(part: str, **extra) -> Weights:
    return Weights(**{**ONLY, part: 1.0, **extra})


def test_interest_relevance_ranks_the_matching_insight_first():
    candidates = pool([unit(1, 0), unit(0, 1), unit(1, 1)])
    relevance, _ = taste_parts(candidates, one_user(interests=[unit(0, 1)]))
    assert relevance[0].argmax() == 1
    assert relevance.min() >= 0.0 and relevance.max() <= 1.0 + 1e-6
    assert rank(candidates, one_user(interests=[unit(0, 1)]), 1, only("interest"))[0] == [1]


def test_no_interests_give_no_relevance_signal():
    relevance, feedback = taste_parts(pool([unit(1), unit(0, 1)]), one_user())
    assert not relevance.any() and not feedback.any()


def test_the_insights_own_score_counts():
    assert rank(pool([unit(1), unit(0, 1)], quality=[0.2, 0.9]), one_user(), 1, only("quality"))[0] == [1]


def test_fresher_insights_rank_higher():
    assert freshness(np.array([0.0, 48.0, 96.0]), 48.0).tolist() == [1.0, 0.5, 0.25]
    assert rank(pool([unit(1), unit(0, 1)], age=[200, 2]), one_user(), 1, only("freshness"))[0] == [1]


def test_ideas_said_on_more_shows_rank_higher():
    assert cluster_weight(np.array([1, 2, 4])).tolist() == [0.0, 0.5, 0.75]
    assert rank(pool([unit(1), unit(0, 1)], shows=[1, 3]), one_user(), 1, only("cluster"))[0] == [1]


def test_a_down_vote_pushes_similar_insights_away_and_an_up_vote_pulls_them_in():
    candidates = pool([unit(1, 0.1), unit(0.1, 1)], quality=[0.6, 0.5])
    weights = Weights(**{**ONLY, "quality": 1.0, "feedback": 1.0})
    assert rank(candidates, one_user(), 1, weights)[0] == [0]
    assert rank(candidates, one_user(disliked=[unit(1)]), 1, weights)[0] == [1]
    assert rank(pool([unit(1, 0.1), unit(0.1, 1)], quality=[0.5, 0.6]), one_user(liked=[unit(1)]), 1, weights)[0] == [0]


def test_at_most_two_insights_come_from_one_episode():
    candidates = pool([unit(1, n) for n in range(4)] + [unit(0, 1)], quality=[0.9, 0.9, 0.9, 0.9, 0.1], episodes=[7, 7, 7, 7, 8])
    picked = rank(candidates, one_user(), 4, only("quality", diversity=0.0))[0]
    assert len(picked) == 3 and 4 in picked


def test_mmr_prefers_a_different_idea_over_a_near_duplicate():
    candidates = pool([unit(1, 0), unit(1, 0.01), unit(0, 1)], quality=[0.9, 0.89, 0.7])
    assert rank(candidates, one_user(), 2, only("quality", diversity=0.0))[0] == [0, 1]
    assert rank(candidates, one_user(), 2, only("quality", diversity=0.5))[0] == [0, 2]


def test_fewer_candidates_than_the_brief_size_give_a_shorter_brief():
    assert rank(pool([unit(1), unit(0, 1)]), one_user(), 5)[0] in ([0, 1], [1, 0])
    empty = Pool(np.zeros((0, DIM), np.float32), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert rank(empty, one_user(), 5) == [[]]


def test_ranking_many_users_at_once_matches_ranking_each_alone():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((40, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    candidates = pool(
        list(vectors),
        quality=rng.random(40),
        age=rng.random(40) * 100,
        shows=rng.integers(1, 4, 40),
        episodes=rng.integers(0, 10, 40),
    )
    table = rng.standard_normal((12, DIM)).astype(np.float32)
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    interests = [np.array([0, 1]), np.array([], dtype=np.int64), np.array([2]), np.array([0, 3, 4])]
    liked = [np.array([5]), np.array([6, 7]), np.array([], dtype=np.int64), np.array([8])]
    disliked = [np.array([9]), np.array([], dtype=np.int64), np.array([10, 11]), np.array([], dtype=np.int64)]
    available = rng.random((4, 40)) < 0.7
    together = rank(candidates, Tastes(table, interests, liked, disliked), 5, available=available, block=3)
    for u in range(4):
        alone = rank(candidates, Tastes(table, [interests[u]], [liked[u]], [disliked[u]]), 5, available=available[u : u + 1])
        assert together[u] == alone[0]
        assert all(available[u, i] for i in together[u])
    assert score(candidates, Tastes(table, interests, liked, disliked), Weights()).shape == (4, 40)
