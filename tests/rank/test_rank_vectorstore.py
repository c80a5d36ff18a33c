"""Both vector-store adapters (Qdrant Edge and qdrant-client) pass the same tests."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from podbrief_rank.exceptions import VectorStoreError
from podbrief_rank.vectorstore import EdgeVectorStore, VectorPoint


def _unit(rng: np.random.Generator, n: int, dim: int = 384) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_search_finds_the_nearest_point_first_with_its_payload(vector_store):
    vectors = _unit(np.random.default_rng(1), 50)
    ids = _ids(50)
    vector_store.upsert(
        [VectorPoint(i, v, {"episode_id": f"e{n % 5}", "n": n}) for n, (i, v) in enumerate(zip(ids, vectors, strict=False))]
    )
    results = vector_store.search_batch(vectors[[3, 17]], limit=4)
    assert [r[0].id for r in results] == [ids[3], ids[17]]
    assert results[0][0].score == pytest.approx(1.0, abs=1e-4)
    assert results[0][0].payload == {"episode_id": "e3", "n": 3}
    assert all(len(r) == 4 for r in results)
    assert results[1][0].score >= results[1][1].score >= results[1][3].score


def test_search_can_leave_out_one_episode(vector_store):
    vectors = _unit(np.random.default_rng(2), 20)
    ids = _ids(20)
    vector_store.upsert(
        [VectorPoint(i, v, {"episode_id": f"e{n % 2}"}) for n, (i, v) in enumerate(zip(ids, vectors, strict=False))]
    )
    (hits,) = vector_store.search_batch(vectors[[4]], limit=20, exclude_episode="e0")
    assert len(hits) == 10
    assert all(h.payload["episode_id"] == "e1" for h in hits)


def test_upserting_the_same_id_again_replaces_the_point(vector_store):
    vectors = _unit(np.random.default_rng(3), 2)
    point_id = str(uuid.uuid4())
    vector_store.upsert([VectorPoint(point_id, vectors[0], {"v": 1})])
    vector_store.upsert([VectorPoint(point_id, vectors[1], {"v": 2})])
    assert vector_store.count() == 1
    (hits,) = vector_store.search_batch(vectors[[1]], limit=5)
    assert [(h.id, h.payload["v"]) for h in hits] == [(point_id, 2)]


def test_payloads_can_be_read_and_merged(vector_store):
    vectors = _unit(np.random.default_rng(4), 2)
    a, b = _ids(2)
    vector_store.upsert([VectorPoint(a, vectors[0], {"cluster_id": "c1", "score": 0.5}), VectorPoint(b, vectors[1], {})])
    vector_store.set_payload([a], {"cluster_id": "c2"})
    missing = str(uuid.uuid4())
    payloads = vector_store.get_payloads([a, b, missing])
    assert payloads[a] == {"cluster_id": "c2", "score": 0.5}
    assert payloads[b] == {}
    assert missing not in payloads


def test_an_empty_store_answers_empty_results(vector_store):
    assert vector_store.count() == 0
    assert vector_store.search_batch(_unit(np.random.default_rng(5), 2), limit=3) == [[], []]
    assert vector_store.search_batch(np.zeros((0, 384), dtype=np.float32), limit=3) == []


def test_the_edge_shard_keeps_its_points_across_a_reopen(tmp_path: Path):
    vectors = _unit(np.random.default_rng(6), 10)
    ids = _ids(10)
    store = EdgeVectorStore(tmp_path / "shard", 384)
    store.upsert([VectorPoint(i, v, {"episode_id": "e"}) for i, v in zip(ids, vectors, strict=False)])
    store.close()
    reopened = EdgeVectorStore(tmp_path / "shard", 384)
    try:
        assert reopened.count() == 10
        assert reopened.search_batch(vectors[[7]], limit=1)[0][0].id == ids[7]
    finally:
        reopened.close()


def test_the_edge_shard_refuses_a_second_opener_and_another_vector_size(tmp_path: Path):
    store = EdgeVectorStore(tmp_path / "shard", 384)
    try:
        with pytest.raises(VectorStoreError):
            EdgeVectorStore(tmp_path / "shard", 384)
    finally:
        store.close()
    with pytest.raises(VectorStoreError):
        EdgeVectorStore(tmp_path / "shard", 768)
