"""The vector store behind one small interface, with two adapters.

`EdgeVectorStore`: Qdrant Edge, Qdrant's in-process engine on a folder (the embedded
default; one process may open a shard at a time). `QdrantClientVectorStore`: a Qdrant
server through qdrant-client (or qdrant-client's local mode in tests). Cosine distance
on unit vectors; point ids are the insights' UUIDs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from podbrief_rank.exceptions import VectorStoreError


@dataclass(frozen=True)
class VectorPoint:
    """A vector with its id and payload."""

    id: str
    vector: Sequence[float] | np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A search result: a stored point and its cosine similarity to the query."""

    id: str
    score: float
    payload: dict[str, Any]


class VectorStore(Protocol):
    """What rank needs from a vector database."""

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace `points` (same id = same point)."""
        ...

    def search_batch(self, vectors: np.ndarray, limit: int, exclude_episode: str | None = None) -> list[list[Hit]]:
        """The `limit` nearest points of each query vector, best first, in one round trip."""
        ...

    def get_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Payloads of the points that exist among `ids`."""
        ...

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Merge `payload` into the payload of points `ids`."""
        ...

    def count(self) -> int:
        """Number of stored points."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


EPISODE_KEY = "episode_id"


class EdgeVectorStore:
    """Qdrant Edge shard in `path` (created on first use)."""

    def __init__(self, path: Path, dim: int) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.dim = dim
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        path.mkdir(parents=True, exist_ok=True)
        fresh = not any(path.iterdir())
        try:
            self._shard = qe.EdgeShard.create(str(path), config) if fresh else qe.EdgeShard.load(str(path), config)
        except Exception as exc:  # qdrant_edge raises bare Exception for a locked or incompatible shard
            raise VectorStoreError(f"cannot open the Qdrant Edge shard at {path}: {exc}") from exc
        if fresh:
            self._shard.update(qe.UpdateOperation.create_field_index(EPISODE_KEY, qe.PayloadSchemaType.Keyword))

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace `points`."""
        if not points:
            return
        qe = self._qe
        batch = [qe.Point(p.id, _floats(p.vector), dict(p.payload)) for p in points]
        self._shard.update(qe.UpdateOperation.upsert_points(batch))

    def search_batch(self, vectors: np.ndarray, limit: int, exclude_episode: str | None = None) -> list[list[Hit]]:
        """Nearest points of each vector, one planned batch for all of them."""
        if len(vectors) == 0:
            return []
        qe = self._qe
        flt = None
        if exclude_episode is not None:
            flt = qe.Filter(must_not=[qe.FieldCondition(EPISODE_KEY, match=qe.MatchValue(exclude_episode))])
        requests = [
            qe.QueryRequest(limit=limit, query=qe.Query.Nearest(_floats(v)), with_payload=True, filter=flt) for v in vectors
        ]
        results = self._shard.query_batch(qe.QueryBatchRequest(requests))
        return [[Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points] for points in results]

    def get_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Payloads of the existing points among `ids`."""
        if not ids:
            return {}
        records = self._shard.retrieve(list(ids), with_payload=True, with_vector=False)
        return {str(r.id): dict(r.payload or {}) for r in records}

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Merge `payload` into points `ids`."""
        if ids:
            self._shard.update(self._qe.UpdateOperation.set_payload(list(ids), payload))

    def count(self) -> int:
        """Number of stored points."""
        return int(self._shard.info().points_count)

    def close(self) -> None:
        """Flush to disk and close the shard."""
        self._shard.flush()
        self._shard.close()


class QdrantClientVectorStore:
    """A collection on a Qdrant server (or qdrant-client's local mode), created when missing."""

    def __init__(self, client: Any, collection: str, dim: int) -> None:
        from qdrant_client import models

        self._models = models
        self.client = client
        self.collection = collection
        self.dim = dim
        if not client.collection_exists(collection):
            client.create_collection(collection, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE))
            client.create_payload_index(collection, EPISODE_KEY, models.PayloadSchemaType.KEYWORD)

    @classmethod
    def connect(cls, url: str, collection: str, dim: int, api_key: str | None = None) -> QdrantClientVectorStore:
        """A store on the Qdrant server at `url`."""
        from qdrant_client import QdrantClient

        return cls(QdrantClient(url=url, api_key=api_key), collection, dim)

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace `points`, waiting until they are searchable."""
        if not points:
            return
        batch = [self._models.PointStruct(id=p.id, vector=_floats(p.vector), payload=dict(p.payload)) for p in points]
        self.client.upsert(self.collection, points=batch, wait=True)

    def search_batch(self, vectors: np.ndarray, limit: int, exclude_episode: str | None = None) -> list[list[Hit]]:
        """Nearest points of each vector in one `query_batch_points` call."""
        if len(vectors) == 0:
            return []
        m = self._models
        flt = None
        if exclude_episode is not None:
            flt = m.Filter(must_not=[m.FieldCondition(key=EPISODE_KEY, match=m.MatchValue(value=exclude_episode))])
        requests = [m.QueryRequest(query=_floats(v), limit=limit, with_payload=True, filter=flt) for v in vectors]
        responses = self.client.query_batch_points(self.collection, requests=requests)
        return [[Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in r.points] for r in responses]

    def get_payloads(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Payloads of the existing points among `ids`."""
        if not ids:
            return {}
        records = self.client.retrieve(self.collection, ids=list(ids), with_payload=True, with_vectors=False)
        return {str(r.id): dict(r.payload or {}) for r in records}

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Merge `payload` into points `ids`."""
        if ids:
            self.client.set_payload(self.collection, payload=payload, points=list(ids), wait=True)

    def count(self) -> int:
        """Number of stored points."""
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        """Close the client."""
        self.client.close()


def _floats(vector: Sequence[float] | np.ndarray) -> list[float]:
    return list(np.asarray(vector, dtype=np.float32).tolist())
