"""Choosing an episode's insights: how many, and which (maximal marginal relevance, no overlaps)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from podbrief_rank.scoring import Passage


def insight_count(duration_seconds: float, least: int = 3, most: int = 15) -> int:
    """How many insights an episode of this length yields: 3 for a minute, 4 for two, 8 for ten, 15 from about 45."""
    minutes = max(0.0, duration_seconds) / 60.0
    return int(min(most, max(least, math.ceil(2.0 * math.sqrt(minutes)) + 1)))


def select(
    passages: Sequence[Passage],
    scores: np.ndarray,
    vectors: np.ndarray,
    count: int,
    *,
    min_score: float = 0.0,
    diversity: float = 0.3,
    accept: Callable[[int], bool] | None = None,
) -> list[int]:
    """Indices of up to `count` passages by MMR: high score, unlike those already chosen, sharing no sentence.

    `accept`, when given, is asked about each passage MMR would pick next; a refused one is passed over (and its
    sentences stay free for another passage). It is only asked about the few front runners, so it may be costly.
    """
    chosen: list[int] = []
    if not passages or count <= 0:
        return chosen
    available = scores >= min_score
    used = np.zeros(max(p.last for p in passages) + 1, dtype=bool)
    firsts = np.array([p.first for p in passages])
    lasts = np.array([p.last for p in passages])
    redundancy = np.zeros(len(passages), dtype=np.float32)
    while len(chosen) < count and available.any():
        mmr = (1.0 - diversity) * scores - diversity * redundancy
        mmr = np.where(available, mmr, -np.inf)
        best = int(mmr.argmax())
        if accept is not None and not accept(best):
            available[best] = False
            continue
        chosen.append(best)
        used[passages[best].first : passages[best].last + 1] = True
        # A passage touching a used sentence is out: no sentence appears in two insights.
        cumulative = np.concatenate([[0], np.cumsum(used)])
        available &= (cumulative[lasts + 1] - cumulative[firsts]) == 0
        redundancy = np.maximum(redundancy, np.clip(vectors @ vectors[best], 0.0, None))
    return chosen
