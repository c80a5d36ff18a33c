"""Discovery: the catalog of shows scanned for every reader, the files it was seeded from, each reader's discover mode.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog",
        sa.Column("feed_id", sa.String(64), primary_key=True),
        sa.Column("feed_url", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "catalog_imports",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feed_ids", sa.JSON(), nullable=True),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discover", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("discover")
    op.drop_table("catalog_imports")
    op.drop_table("catalog")
