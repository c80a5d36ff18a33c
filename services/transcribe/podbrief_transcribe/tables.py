"""The transcribe service's own table: which episodes have a transcript (one per episode, ever)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table

metadata = MetaData()

transcripts = Table(
    "transcripts",
    metadata,
    Column("episode_id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False, doc="The TranscriptReady event emitted for it."),
    Column("source", String(16), nullable=False),
    Column("model", String(200), nullable=True),
    Column("language", String(16), nullable=False),
    Column("duration", Float, nullable=False),
    Column("segments", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
