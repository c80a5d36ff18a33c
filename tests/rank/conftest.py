"""Fixtures of rank's tests: the real MiniLM once per session, both vector-store adapters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from podbrief_rank.vectorstore import VectorStore
from rank_helpers import HashingEmbedder, open_vector_store


@pytest.fixture(scope="session")
def minilm():
    """The bundled all-MiniLM-L6-v2, loaded once."""
    from podbrief_rank.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(params=["edge", "qdrant-client"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def vector_store(store_kind: str, tmp_path: Path) -> Iterator[VectorStore]:
    """Each adapter in turn, empty, 384 dimensions."""
    store = open_vector_store(store_kind, tmp_path, 384)
    yield store
    store.close()
