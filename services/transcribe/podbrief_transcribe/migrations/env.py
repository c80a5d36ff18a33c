"""Alembic environment of the transcribe store: its tables and the runtime's (see `podbrief_runtime.migrate`)."""

from __future__ import annotations

from podbrief_runtime.migrate import run_environment
from podbrief_transcribe.tables import metadata

run_environment(metadata)
