"""Embedding interests and search queries with the same sentence-transformers model rank uses for insights.

Only the notify worker loads the model; the API process reaches it through `embed_service.RemoteEmbedder`.
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np
from cachetools import LRUCache
from podbrief_runtime import embedding


class EmbedderUnavailable(Exception):
    """The model cannot be reached now (the worker's embedding endpoint is down or too slow)."""


class Embedder(Protocol):
    """Texts in, unit-length float32 rows out; `embed` raises EmbedderUnavailable when the model is out of reach."""

    @property
    def name(self) -> str:
        """The model's name, stored with the vectors it made."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text, shape (len(texts), dim)."""
        ...


class SentenceEmbedder:
    """The real embedder: a sentence-transformers model, loaded on first use, once per process."""

    def __init__(self, model: str, cache_size: int = 10_000) -> None:
        self.model_name = model
        self._model = None  # type: ignore[var-annotated]
        self._lock = threading.Lock()
        # LRUCache reorders entries even on reads and is not thread-safe: every access holds the lock.
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=cache_size)

    @property
    def name(self) -> str:
        return embedding.model_name(self.model_name)

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer  # heavy: imported only when first needed

                self._model = SentenceTransformer(self.model_name, device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method; older releases only have the first name.
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Interests repeat across users and briefs: embed each distinct text once.
        with self._lock:
            found = {t: v for t in dict.fromkeys(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._load().encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, vectors, strict=True)}
            found.update(fresh)
            with self._lock:
                self._cache.update(fresh)
        return np.stack([found[t] for t in texts])


class HashEmbedder:
    """A deterministic stand-in for unit tests: bag of hashed words, so texts sharing words are similar."""

    def __init__(self, dim: int = 384, name: str = "hash") -> None:
        self._dim = dim
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                word = word.strip(".,;:!?\"'()")
                if len(word) > 2:
                    out[row, _stable_hash(word) % self._dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


def _stable_hash(word: str) -> int:
    value = 2166136261
    for byte in word.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value
