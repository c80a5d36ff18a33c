"""API keys of their own (several per user, revocable) and email confirmation.

Each user's one key moves to `api_keys` under the user's id (its last 4 characters are unknown:
only the hash was kept). Existing addresses start unconfirmed: email goes only to confirmed ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)
    op.execute(
        "INSERT INTO api_keys (id, user_id, key_hash, last4, created_at, revoked_at) "
        "SELECT id, id, api_key_hash, NULL, created_at, NULL FROM users"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("api_key_hash")
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_confirm_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("email_confirm_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_email_confirm_hash"), ["email_confirm_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_email_confirm_hash"), type_="unique")
        batch_op.drop_column("email_confirm_sent_at")
        batch_op.drop_column("email_confirm_hash")
        batch_op.drop_column("email_confirmed_at")
        batch_op.add_column(sa.Column("api_key_hash", sa.String(length=64), nullable=True))
    # Each user keeps their oldest active key (there is always one); the others are lost with the table.
    op.execute(
        "UPDATE users SET api_key_hash = (SELECT k.key_hash FROM api_keys k WHERE k.user_id = users.id "
        "AND k.revoked_at IS NULL ORDER BY k.created_at, k.id LIMIT 1)"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("api_key_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("users_api_key_hash_key", ["api_key_hash"])
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))
    op.drop_table("api_keys")
