"""Text embeddings behind a small interface; the real one is a local sentence-transformers model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from podbrief_runtime.embedding import bundled_model_path, model_name


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array of unit vectors, in order."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path, loaded once; CPU unless `device` says otherwise."""

    def __init__(self, model: str | None = None, *, batch_size: int = 64, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        path = model or bundled_model_path()
        self.name = model_name(model)  # travels with every vector (InsightCreated.embedding_model)
        self.batch_size = batch_size
        self._model = SentenceTransformer(path, device=device)
        dim = self._model.get_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, encoded in batches of `batch_size`."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
