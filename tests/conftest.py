"""Fixtures every test tier shares: the real local broker, loopback HTTP servers, the bundled models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from podbrief_runtime.broker import LocalBroker

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Service processes started by tests run without the LLM stage unless a test turns it on: the stage has its own
# tests with the real model (tests/rank/test_rank_llm*.py, test_rank_writer*.py), and a stack-level test pays
# minutes of CPU per episode for it.
os.environ.setdefault("PODBRIEF_LLM_MODE", "off")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CONFORMANCE = ROOT.parent / "shared" / "conformance"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A real Kafka-protocol broker (Tansu) on loopback for the whole session; topics are per test."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with LocalBroker(log_path=log) as broker:
        yield broker


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker of this test's own, for tests that stop and restart it."""
    with LocalBroker(log_path=tmp_path / "tansu.log") as broker:
        yield broker


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL of this machine (set by .ci/run); tests needing it fail loudly when unset."""
    url = os.environ.get("PODBRIEF_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("PODBRIEF_TEST_POSTGRES_URL is not set; `make test` sets it (PostgreSQL on 127.0.0.1:5432)")
    return url


@contextmanager
def postgres_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A URL of `base_url`'s server whose search path is a fresh schema of its own, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
