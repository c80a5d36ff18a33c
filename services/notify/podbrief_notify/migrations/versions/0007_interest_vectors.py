"""Interest vectors: each reader's interests embedded by the worker and stored, so the API process loads no model.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing readers start without vectors: the worker's refresher embeds their interests after the upgrade.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interest_vectors", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("interest_model", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("interest_model")
        batch_op.drop_column("interest_vectors")
