"""Each reader's interests as stored vectors, so that ranking a brief needs no model in the process that builds it.

The worker's refresher embeds the interests of every reader whose vectors are missing or were made by another
model, a few seconds after they change; a request that changes interests stores fresh vectors at once where its
process reaches a model (the worker's embedding endpoint, for the API), else clears the stale ones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from podbrief_runtime.store import Store
from sqlalchemy import Row, bindparam, or_, select, update

from podbrief_notify.embedder import Embedder, EmbedderUnavailable
from podbrief_notify.tables import users

log = logging.getLogger(__name__)

INTERVAL = 2.0  # seconds between the refresher's rounds
_BATCH = 200  # readers embedded per round
_quiet: set[str] = set()  # readers already reported as ranked without their interests


def encode(vectors: np.ndarray) -> bytes:
    """Rows of float32, as stored in `users.interest_vectors`."""
    return np.ascontiguousarray(vectors, dtype=np.float32).tobytes()


def decode(blob: bytes | None, count: int) -> np.ndarray | None:
    """The `count` stored rows, or None when none are stored or they do not split into `count` rows."""
    if blob is None or count == 0 or len(blob) % (4 * count):
        return None
    vectors = np.frombuffer(blob, dtype=np.float32)
    return vectors.reshape(count, -1) if vectors.size else None


def embedded(embedder: Embedder | None, interests: list[str]) -> dict[str, Any]:
    """The columns to store with new `interests`: their vectors and the model's name, or (no model reachable from
    this process) none, which the worker's refresher fills in within seconds."""
    cleared: dict[str, Any] = {"interest_vectors": None, "interest_model": None}
    if embedder is None or not interests:
        return cleared
    try:
        vectors = embedder.embed(list(interests))
    except EmbedderUnavailable:
        return cleared  # RemoteEmbedder has said why; the refresher embeds them once the worker answers
    return {"interest_vectors": encode(vectors), "interest_model": embedder.name}


def for_ranking(user: Row[Any], embedder: Embedder | None, dim: int) -> np.ndarray:
    """The reader's interests as rows of length `dim` (the candidates'): the stored vectors, else embedded now where
    this process has a model; without either, none (the brief is ranked without interests, and that is logged once)."""
    texts = list(user.interests or [])
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    stored = decode(user.interest_vectors, len(texts))
    if stored is not None and stored.shape[1] == dim:
        return stored
    if embedder is not None:
        try:
            vectors = embedder.embed(texts).astype(np.float32)
        except EmbedderUnavailable:
            vectors = None
        if vectors is not None and vectors.shape[1] == dim:
            return vectors
    if user.id not in _quiet:
        if len(_quiet) > 10_000:
            _quiet.clear()
        _quiet.add(user.id)
        reason = "not embedded yet" if stored is None else "embedded in another space than the insights"
        log.warning("a brief ranked without the reader's interests", extra={"user_id": user.id, "reason": reason})
    return np.zeros((0, dim), dtype=np.float32)


class Refresher:
    """Embeds the interests of readers whose vectors are missing or from another model than `embedder`'s."""

    def __init__(self, store: Store, embedder: Embedder, batch: int = _BATCH) -> None:
        self.store = store
        self.embedder = embedder
        self.batch = batch

    def run_once(self) -> int:
        """Embed one batch of readers; returns how many got fresh vectors."""
        model = self.embedder.name
        with self.store.reading() as session:
            pending = session.execute(
                select(users.c.id, users.c.interests)
                .where(or_(users.c.interest_model.is_(None), users.c.interest_model != model))
                .order_by(users.c.id)
                .limit(self.batch)
            ).all()
        if not pending:
            return 0
        texts = list(dict.fromkeys(t for row in pending for t in row.interests or []))
        table = dict(zip(texts, self.embedder.embed(texts), strict=True)) if texts else {}
        embedded_for = {row.id: list(row.interests or []) for row in pending}
        with self.store.transaction() as session:
            # Locked and read again: interests changed meanwhile keep their cleared vectors for the next round.
            current = session.execute(
                select(users.c.id, users.c.interests)
                .where(users.c.id.in_(list(embedded_for)))
                .order_by(users.c.id)
                .with_for_update()
            ).all()
            fresh = [
                {
                    "b_id": row.id,
                    "interest_vectors": encode(np.stack([table[t] for t in row.interests]) if row.interests else np.zeros(0)),
                    "interest_model": model,
                }
                for row in current
                if list(row.interests or []) == embedded_for[row.id]
            ]
            if fresh:
                session.execute(update(users).where(users.c.id == bindparam("b_id")), fresh)
        return len(fresh)

    async def run(self, interval: float = INTERVAL) -> None:
        """Refresh until cancelled: whole batches back to back, then every `interval` seconds."""
        while True:
            try:
                while await asyncio.to_thread(self.run_once) >= self.batch:
                    pass
            except Exception:
                log.exception("embedding interests failed; retrying next round")
            await asyncio.sleep(interval)
