"""Each part of the brief score, the per-episode cap, MMR diversity and what a user may get, for one user as
`briefs.draft` ranks: `score`, then `select` over the available candidates."""

from __future__ import annotations

import numpy as np
from podbrief_notify.ranking import Pool, Tastes, Weights, cluster_weight, freshness, score, select, taste_parts

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


def pick(candidates: Pool, tastes: Tastes, size: int, weights: Weights | None = None, available=None) -> list[int]:
    """One user's picks as `briefs.draft` makes them: scores, candidates not `available` masked out, then MMR."""
    weights = weights or Weights()
    scores = score(candidates, tastes, weights)
    if available is not None:
        scores = np.where(np.asarray(available)[None, :], scores, -np.inf)
    [picked] = select(scores, candidates, size, weights)
    return picked


ONLY = {"interest": 0.0, "quality": 0.0, "freshness": 0.0, "cluster": 0.0, "feedback": 0.0}


def only(part: str, **extra) -> Weights:
    return Weights(**{**ONLY, part: 1.0, **extra})


def test_interest_relevance_ranks_the_matching_insight_first():
    candidates = pool([unit(1, 0), unit(0, 1), unit(1, 1)])
    relevance, _ = taste_parts(candidates, one_user(interests=[unit(0, 1)]))
    assert relevance[0].argmax() == 1
    assert relevance.min() >= 0.0 and relevance.max() <= 1.0 + 1e-6
    assert pick(candidates, one_user(interests=[unit(0, 1)]), 1, only("interest")) == [1]


def test_no_interests_give_no_relevance_signal():
    relevance, feedback = taste_parts(pool([unit(1), unit(0, 1)]), one_user())
    assert not relevance.any() and not feedback.any()


def test_the_insights_own_score_counts():
    assert pick(pool([unit(1), unit(0, 1)], quality=[0.2, 0.9]), one_user(), 1, only("quality")) == [1]


def test_fresher_insights_rank_higher():
    assert freshness(np.array([0.0, 48.0, 96.0]), 48.0).tolist() == [1.0, 0.5, 0.25]
    assert pick(pool([unit(1), unit(0, 1)], age=[200, 2]), one_user(), 1, only("freshness")) == [1]


def test_ideas_said_on_more_shows_rank_higher():
    assert cluster_weight(np.array([1, 2, 4])).tolist() == [0.0, 0.5, 0.75]
    assert pick(pool([unit(1), unit(0, 1)], shows=[1, 3]), one_user(), 1, only("cluster")) == [1]


def test_a_down_vote_pushes_similar_insights_away_and_an_up_vote_pulls_them_in():
    candidates = pool([unit(1, 0.1), unit(0.1, 1)], quality=[0.6, 0.5])
    weights = Weights(**{**ONLY, "quality": 1.0, "feedback": 1.0})
    assert pick(candidates, one_user(), 1, weights) == [0]
    assert pick(candidates, one_user(disliked=[unit(1)]), 1, weights) == [1]
    assert pick(pool([unit(1, 0.1), unit(0.1, 1)], quality=[0.5, 0.6]), one_user(liked=[unit(1)]), 1, weights) == [0]


def test_at_most_two_insights_come_from_one_episode():
    candidates = pool([unit(1, n) for n in range(4)] + [unit(0, 1)], quality=[0.9, 0.9, 0.9, 0.9, 0.1], episodes=[7, 7, 7, 7, 8])
    picked = pick(candidates, one_user(), 4, only("quality", diversity=0.0))
    assert len(picked) == 3 and 4 in picked


def test_mmr_prefers_a_different_idea_over_a_near_duplicate():
    candidates = pool([unit(1, 0), unit(1, 0.01), unit(0, 1)], quality=[0.9, 0.89, 0.7])
    assert pick(candidates, one_user(), 2, only("quality", diversity=0.0)) == [0, 1]
    assert pick(candidates, one_user(), 2, only("quality", diversity=0.5)) == [0, 2]


def test_fewer_candidates_than_the_brief_size_give_a_shorter_brief():
    assert pick(pool([unit(1), unit(0, 1)]), one_user(), 5) in ([0, 1], [1, 0])
    empty = Pool(np.zeros((0, DIM), np.float32), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert pick(empty, one_user(), 5) == []


def test_a_user_gets_only_what_is_available_to_them():
    candidates = pool([unit(1), unit(0, 1), unit(0, 0, 1)], quality=[0.9, 0.5, 0.1])
    assert pick(candidates, one_user(), 3, only("quality"), available=[False, True, True]) == [1, 2]
    assert pick(candidates, one_user(), 3, only("quality"), available=[False, False, False]) == []


def _random_user(rng: np.random.Generator, candidates: int = 40) -> tuple[Pool, Tastes, np.ndarray]:
    vectors = rng.standard_normal((candidates, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    table = rng.standard_normal((5, DIM)).astype(np.float32)
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    return (
        pool(
            list(vectors),
            quality=rng.random(candidates),
            age=rng.random(candidates) * 100,
            shows=rng.integers(1, 4, candidates),
            episodes=rng.integers(0, 10, candidates),
        ),
        Tastes(table, [np.array([0, 1])], [np.array([2, 3])], [np.array([4])]),
        rng.random(candidates) < 0.7,
    )


def test_a_full_brief_of_a_user_with_interests_and_votes_keeps_every_rule():
    rng = np.random.default_rng(3)
    for _ in range(20):
        candidates, tastes, available = _random_user(rng)
        picked = pick(candidates, tastes, 5, available=available)
        assert len(picked) == 5 and len(set(picked)) == 5
        assert all(available[i] for i in picked)
        episodes = candidates.episodes[picked].tolist()
        assert max(episodes.count(e) for e in episodes) <= Weights().per_episode
        assert score(candidates, tastes, Weights()).shape == (1, 40)


def _mmr_by_the_book(scores: np.ndarray, candidates: Pool, size: int, weights: Weights) -> list[int]:
    """MMR as written down, over the whole cosine matrix: each step takes the best of
    (1 - diversity) * score - diversity * (highest likeness to a pick so far), skipping spent episodes."""
    similarity = candidates.embeddings @ candidates.embeddings.T
    picked: list[int] = []
    for _ in range(size):
        best, best_value = None, -np.inf
        for i in range(len(candidates)):
            spent = sum(1 for j in picked if candidates.episodes[j] == candidates.episodes[i]) >= weights.per_episode
            if i in picked or spent or not np.isfinite(scores[i]):
                continue
            penalty = max((similarity[i, j] for j in picked), default=0.0)
            value = (1 - weights.diversity) * scores[i] - weights.diversity * max(penalty, 0.0)
            if value > best_value + 1e-6:
                best, best_value = i, value
        if best is None:
            break
        picked.append(best)
    return picked


def test_mmr_picks_as_the_textbook_rule_over_the_whole_matrix():
    # select computes a pick's similarities as it picks (no N x N matrix): the picks are those of the plain rule.
    rng = np.random.default_rng(5)
    for _ in range(30):
        candidates, tastes, available = _random_user(rng)
        scores = np.where(available, score(candidates, tastes, Weights())[0], -np.inf)
        for size in (1, 5, 12, 40):
            assert pick(candidates, tastes, size, available=available) == _mmr_by_the_book(scores, candidates, size, Weights())


def test_select_ranks_several_users_as_each_alone():
    rng = np.random.default_rng(9)
    candidates, tastes, _ = _random_user(rng)
    scores = np.vstack([score(candidates, tastes, Weights())[0], rng.random(40), np.full(40, -np.inf)])
    scores[1, ::3] = -np.inf
    together = select(scores, candidates, 5, Weights())
    assert together == [select(row[None, :], candidates, 5, Weights())[0] for row in scores]
    assert [len(p) for p in together] == [5, 5, 0]


def test_a_candidate_whose_score_is_not_a_number_is_skipped_not_fatal():
    rng = np.random.default_rng(11)
    candidates, tastes, _ = _random_user(rng)
    scores = score(candidates, tastes, Weights())
    broken = scores.copy()
    broken[0, int(np.argmax(scores[0]))] = np.nan  # e.g. an insight stored with a broken vector
    [picked] = select(broken, candidates, 5, Weights())
    assert len(picked) == 5 and int(np.argmax(scores[0])) not in picked
