"""Cosigned checkpoints: the signatures this gateway made and collected, its peers, and the
conflicts seen (ledger.witness, docs/CHECKPOINTS.md).

``checkpoint_signature``, ``checkpoint_peer`` and ``checkpoint_conflict`` are new tables:
nothing to copy. Downgrading drops them; the signatures are collected again from the peers,
and this gateway's own are signed again for the heights it still sees.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("checkpoint_signature"):  # else created from the models
        op.create_table(
            "checkpoint_signature",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("number", sa.BigInteger(), nullable=False),
            sa.Column("block_hash", Text, nullable=False),
            sa.Column("address", Text, nullable=False),
            sa.Column("department_id", Text, nullable=False),
            sa.Column("signed_at", sa.BigInteger(), nullable=False),
            sa.Column("signature", Text, nullable=False),
            sa.Column("source", Text, nullable=False),
            sa.Column("received_at", sa.BigInteger(), nullable=False),
            sa.UniqueConstraint("number", "address", "block_hash", name="uq_checkpoint_signature"),
        )
        op.create_index("ix_checkpoint_signature_number", "checkpoint_signature", ["number"])
    if not inspector.has_table("checkpoint_peer"):
        op.create_table(
            "checkpoint_peer",
            sa.Column("url", Text, primary_key=True),
            sa.Column("cursor", Text, nullable=True),
            sa.Column("accepted", sa.BigInteger(), nullable=False),
            sa.Column("refused", sa.BigInteger(), nullable=False),
            sa.Column("last_refusal", Text, nullable=True),
            sa.Column("last_attempt_at", sa.BigInteger(), nullable=True),
            sa.Column("last_success_at", sa.BigInteger(), nullable=True),
            sa.Column("last_error", Text, nullable=True),
        )
    if not inspector.has_table("checkpoint_conflict"):
        op.create_table(
            "checkpoint_conflict",
            sa.Column("number", sa.BigInteger(), primary_key=True, autoincrement=False),
            sa.Column("hashes", sa.Integer(), nullable=False),
            sa.Column("seen_at", sa.BigInteger(), nullable=False),
            sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        )


def downgrade() -> None:
    op.drop_table("checkpoint_conflict")
    op.drop_table("checkpoint_peer")
    op.drop_table("checkpoint_signature")  # and its index
