"""Choosing a brief's insights: score a user's candidates, then pick with MMR.

`briefs.draft` builds one user's candidates as a `Pool` and their interests and votes as a one-row `Tastes`;
the arithmetic is over (users x candidates) arrays, with one row in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Weights:
    """How much each part of the score counts, and how the picks are diversified."""

    interest: float = 0.40
    quality: float = 0.20
    freshness: float = 0.15
    cluster: float = 0.10
    feedback: float = 0.25
    diversity: float = 0.30  # MMR: weight of "unlike what is already picked" against the score
    per_episode: int = 2
    half_life_hours: float = 48.0


@dataclass
class Pool:
    """Candidate insights as arrays, one entry per candidate."""

    embeddings: np.ndarray  # (N, D) float32, unit rows
    quality: np.ndarray  # (N,) the insight's own score, 0..1
    age_hours: np.ndarray  # (N,) hours since the episode was published (or the insight arrived)
    shows: np.ndarray  # (N,) how many shows said it (its cluster's distinct shows)
    episodes: np.ndarray  # (N,) int code of the episode, for the per-episode cap

    def __len__(self) -> int:
        return int(self.quality.shape[0])


@dataclass
class Tastes:
    """What each of B users wants (B is 1 in `briefs.draft`), as row indices into one table of vectors.

    A vector shared by several rows is compared with the candidates once.
    """

    vectors: np.ndarray  # (Q, D) float32 unit rows: interests and voted insights
    interests: list[np.ndarray]  # per user: rows of `vectors`
    liked: list[np.ndarray] = field(default_factory=list)
    disliked: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        users = len(self.interests)
        self.liked = self.liked or [_EMPTY] * users
        self.disliked = self.disliked or [_EMPTY] * users

    def __len__(self) -> int:
        return len(self.interests)


def freshness(age_hours: np.ndarray, half_life_hours: float) -> np.ndarray:
    """1 for brand new, halving every `half_life_hours`."""
    return np.exp2(-np.maximum(age_hours, 0.0) / half_life_hours).astype(np.float32)


def cluster_weight(shows: np.ndarray) -> np.ndarray:
    """0 for an idea said on one show, approaching 1 the more shows said it."""
    return (1.0 - 1.0 / np.maximum(shows, 1)).astype(np.float32)


def _max_similarity(groups: list[np.ndarray], sims: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per user, the highest similarity of each candidate to any of the user's vectors (0 when none).

    `sims` holds similarities of the vectors `rows` (sorted unique table rows) to every candidate.
    """
    out = np.zeros((len(groups), sims.shape[1]), dtype=np.float32)
    for i, group in enumerate(groups):
        if len(group):
            # Clipped at 0, as a user without such vectors: a negative likeness is no signal.
            np.maximum(sims[np.searchsorted(rows, group)].max(axis=0), 0.0, out=out[i])
    return out


def taste_parts(pool: Pool, tastes: Tastes) -> tuple[np.ndarray, np.ndarray]:
    """(interest relevance, feedback pull), each (B, N): relevance 0..1, feedback -1..1."""
    groups = [*tastes.interests, *tastes.liked, *tastes.disliked]
    rows = np.unique(np.concatenate(groups)) if any(len(g) for g in groups) else _EMPTY
    if rows.size and tastes.vectors.shape[1] == pool.embeddings.shape[1]:
        sims = tastes.vectors[rows] @ pool.embeddings.T
    else:
        # No tastes, or vectors from a different model: no signal rather than a wrong one.
        rows = _EMPTY
        sims = np.zeros((0, len(pool)), dtype=np.float32)

    def part(per_user: list[np.ndarray]) -> np.ndarray:
        if not rows.size:
            return np.zeros((len(per_user), len(pool)), dtype=np.float32)
        return _max_similarity(per_user, sims, rows)

    relevance = part(tastes.interests)
    feedback = part(tastes.liked) - part(tastes.disliked)
    return relevance, feedback


def score(pool: Pool, tastes: Tastes, weights: Weights, parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Each candidate's score for each user, (B, N); higher is better. `parts` is `taste_parts(pool, tastes)` where
    the caller has it already."""
    relevance, feedback = parts if parts is not None else taste_parts(pool, tastes)
    own = (
        weights.quality * pool.quality.astype(np.float32)
        + weights.freshness * freshness(pool.age_hours, weights.half_life_hours)
        + weights.cluster * cluster_weight(pool.shows)
    )
    return weights.interest * relevance + weights.feedback * feedback + own[None, :]


def select(scores: np.ndarray, pool: Pool, size: int, weights: Weights) -> list[list[int]]:
    """Pick up to `size` candidates per user by MMR, at most `weights.per_episode` from one episode.

    `scores` is (B, N) with -inf where a candidate is not available to a user. Each pick's similarities to the
    candidates are computed as it is picked: `size` rows, not the (N, N) matrix (a brief picks a handful of a few
    hundred candidates; the matrix cost a reader more than the rest of the ranking).
    """
    users, count = scores.shape
    if count == 0 or size <= 0:
        return [[] for _ in range(users)]
    remaining = scores.astype(np.float32, copy=True)
    remaining[np.isnan(remaining)] = -np.inf  # a score that is not a number (a broken vector) is never picked, and stops nothing
    penalty = np.zeros_like(remaining)
    codes, episodes = np.unique(pool.episodes, return_inverse=True)
    per_episode = np.zeros((users, len(codes)), dtype=np.int32)
    chosen = np.full((users, size), -1, dtype=np.int64)
    rows = np.arange(users)
    lam = 1.0 - weights.diversity
    remaining *= lam
    for step in range(size):
        adjusted = remaining - weights.diversity * penalty
        pick = adjusted.argmax(axis=1)
        ok = np.isfinite(adjusted[rows, pick])
        if not ok.any():
            break
        live, picked = rows[ok], pick[ok]
        chosen[live, step] = picked
        remaining[live, picked] = -np.inf
        per_episode[live, episodes[picked]] += 1
        for user, episode in zip(live.tolist(), episodes[picked].tolist(), strict=True):
            if per_episode[user, episode] >= weights.per_episode:  # that episode is done for the user
                remaining[user, episodes == episode] = -np.inf
        near = pool.embeddings[picked] @ pool.embeddings.T
        np.maximum(penalty[live], near, out=near)
        penalty[live] = near
    return [[int(i) for i in row if i >= 0] for row in chosen]
