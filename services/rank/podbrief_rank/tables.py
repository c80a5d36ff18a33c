"""Rank's relational tables: insights and same-idea clusters (with their face, the best-scored member).

The vectors live in the vector store; these rows are the record of what was emitted.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

insights = Table(
    "rank_insights",
    metadata,
    Column("insight_id", String(64), primary_key=True),
    Column("episode_id", String(64), nullable=False, index=True),
    Column("feed_id", String(64), nullable=False),
    Column("podcast_title", Text, nullable=False),
    Column("episode_title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("keywords", Text, nullable=False),
    Column("cluster_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

clusters = Table(
    "rank_clusters",
    metadata,
    Column("cluster_id", String(64), primary_key=True),
    Column("face_insight_id", String(64), nullable=False),
    Column("face_score", Float, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
