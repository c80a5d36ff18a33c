"""Fixtures of the transcribe tests: the real bundled model (loaded once) and a loopback HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from podbrief_transcribe.asr import AsrEngine, load_engine
from podbrief_transcribe.settings import Settings
from transcribe_helpers import Loopback


@pytest.fixture(scope="session")
def engine() -> AsrEngine:
    """The bundled tiny.en with the service's default tuning, loaded once per session."""
    return load_engine(Settings())


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    with Loopback() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: its own data dir, loopback URLs allowed."""
    return Settings(data_dir=tmp_path, allow_private_urls=True, http_timeout_seconds=5.0, download_timeout_seconds=10.0)
