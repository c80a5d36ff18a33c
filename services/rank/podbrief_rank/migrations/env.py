"""Alembic environment of the rank store: its tables and the runtime's (see `podbrief_runtime.migrate`)."""

from __future__ import annotations

from podbrief_rank.tables import metadata
from podbrief_runtime.migrate import run_environment

run_environment(metadata)
