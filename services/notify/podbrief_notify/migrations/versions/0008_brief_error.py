"""A reader sees why their scheduled brief did not arrive: the scheduler stores the failure on the user's row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from podbrief_runtime.sqltypes import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brief_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("brief_error_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("brief_error_at")
        batch_op.drop_column("brief_error")
