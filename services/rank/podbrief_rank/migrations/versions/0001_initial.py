"""Initial schema: insights, clusters, cluster shows, related links, outbox and inbox (what create_all made before migrations).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rank_clusters",
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("face_insight_id", sa.String(length=64), nullable=False),
        sa.Column("face_score", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id"),
    )
    op.create_table(
        "rank_insights",
        sa.Column("insight_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("feed_id", sa.String(length=64), nullable=False),
        sa.Column("podcast_title", sa.Text(), nullable=False),
        sa.Column("episode_title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("insight_id"),
    )
    with op.batch_alter_table("rank_insights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rank_insights_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rank_insights_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "rank_cluster_shows",
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("feed_id", sa.String(length=64), nullable=False),
        sa.Column("podcast_title", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["rank_clusters.cluster_id"]),
        sa.PrimaryKeyConstraint("cluster_id", "feed_id"),
    )
    op.create_table(
        "rank_related",
        sa.Column("insight_id", sa.String(length=64), nullable=False),
        sa.Column("related_id", sa.String(length=64), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["insight_id"], ["rank_insights.insight_id"]),
        sa.PrimaryKeyConstraint("insight_id", "related_id"),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_created_at"))

    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("rank_related")
    op.drop_table("rank_cluster_shows")
    with op.batch_alter_table("rank_insights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rank_insights_episode_id"))
        batch_op.drop_index(batch_op.f("ix_rank_insights_cluster_id"))

    op.drop_table("rank_insights")
    op.drop_table("rank_clusters")
