"""Drop the cluster-shows and related-links tables: rank wrote them and nothing read them.

The shows that said an idea and each insight's related insights travel in `InsightCreated`; notify keeps them
(its insights, clusters and related rows). Rank keeps only what it decides with.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store that create_all made after the tables left the code (stamped 0001 on adoption) never had them.
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rank_related", "rank_cluster_shows"):
        if table in present:
            op.drop_table(table)


def downgrade() -> None:
    # The tables come back empty: what they held was never read.
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
