"""LexRank over sentence embeddings: how central each sentence is to what the episode talks about."""

from __future__ import annotations

import numpy as np


def lexrank(vectors: np.ndarray, damping: float = 0.85, iterations: int = 50, tol: float = 1e-6) -> np.ndarray:
    """PageRank over the cosine-similarity graph of unit `vectors`, scaled to 0..1 by rank (1 = most central)."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    if n == 1:
        return np.ones(1, dtype=np.float32)
    sim = np.clip(vectors @ vectors.T, 0.0, None)
    np.fill_diagonal(sim, 0.0)
    rows = sim.sum(axis=1, keepdims=True)
    # A sentence like no other (all zero similarities) links to every sentence evenly.
    transition = np.where(rows > 0, sim / np.where(rows > 0, rows, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1.0 - damping) / n + damping * (transition.T @ rank)
        if np.abs(updated - rank).sum() < tol:
            rank = updated
            break
        rank = updated
    # Ranks, not raw values: raw LexRank mass shrinks as episodes get longer.
    order = rank.argsort().argsort()
    return (order / (n - 1)).astype(np.float32)
