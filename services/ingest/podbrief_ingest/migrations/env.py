"""Alembic environment of the ingest store: its tables and the runtime's (see `podbrief_runtime.migrate`)."""

from __future__ import annotations

from podbrief_ingest.registry import metadata
from podbrief_runtime.migrate import run_environment

run_environment(metadata)
