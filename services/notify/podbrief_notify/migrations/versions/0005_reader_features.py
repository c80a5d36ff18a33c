"""Reader features: who said an insight and in which chapter (and the episode's people); the personal Atom feed's token.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("insights", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaker", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("chapter", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("quote", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("people", sa.JSON(), nullable=True))
        batch_op.create_index("ix_insights_created_at", ["created_at"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_token", sa.String(64), nullable=True))
        batch_op.create_unique_constraint("uq_users_feed_token", ["feed_token"])
    # Readers who signed up before the feed existed get theirs now.
    users = sa.table("users", sa.column("id", sa.String), sa.column("feed_token", sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(sa.update(users).where(users.c.id == user_id).values(feed_token=secrets.token_urlsafe(24)))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_feed_token", type_="unique")
        batch_op.drop_column("feed_token")
    with op.batch_alter_table("insights", schema=None) as batch_op:
        batch_op.drop_index("ix_insights_created_at")
        batch_op.drop_column("people")
        batch_op.drop_column("quote")
        batch_op.drop_column("chapter")
        batch_op.drop_column("speaker")
