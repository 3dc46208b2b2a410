"""Watchers: departments' subscriptions to what concerns them on chain, and the outbox of the
webhooks they are sent (ledger.watch).

``watcher`` and ``webhook_message`` are new tables: nothing to copy. Downgrading drops them,
and with them the webhooks not yet delivered.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("watcher"):  # else created from the models before migrations
        op.create_table(
            "watcher",
            sa.Column("id", Text, primary_key=True),
            sa.Column("department_id", Text, nullable=False),
            sa.Column("url", Text, nullable=False),
            sa.Column("topics", Text, nullable=False),
            sa.Column("expiring_days", sa.Integer(), nullable=True),
            sa.Column("secret", Text, nullable=False),
            sa.Column("previous_secret", Text, nullable=True),
            sa.Column("previous_until", sa.BigInteger(), nullable=True),
            sa.Column("start_block", sa.BigInteger(), nullable=False),
            sa.Column("cursor_block", sa.BigInteger(), nullable=False),
            sa.Column("cursor_log", sa.BigInteger(), nullable=False),
            sa.Column("cursor_hash", Text, nullable=True),
            sa.Column("created_at", sa.BigInteger(), nullable=False),
        )
        op.create_index("ix_watcher_department_id", "watcher", ["department_id"])
    if not inspector.has_table("webhook_message"):
        op.create_table(
            "webhook_message",
            sa.Column("id", Text, primary_key=True),
            sa.Column("watcher_id", Text, nullable=False),
            sa.Column("dedupe", Text, nullable=False),
            sa.Column("topic", Text, nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("status", Text, nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
            sa.Column("leased_until", sa.BigInteger(), nullable=True),
            sa.Column("last_status", sa.Integer(), nullable=True),
            sa.Column("last_error", Text, nullable=True),
            sa.Column("created_at", sa.BigInteger(), nullable=False),
            sa.Column("delivered_at", sa.BigInteger(), nullable=True),
            sa.UniqueConstraint("watcher_id", "dedupe", name="uq_webhook_message_dedupe"),
        )
        op.create_index("ix_webhook_message_watcher_id", "webhook_message", ["watcher_id"])
        op.create_index("ix_webhook_message_status", "webhook_message", ["status"])


def downgrade() -> None:
    op.drop_table("webhook_message")  # and its indexes
    op.drop_table("watcher")
