"""Erasure of records: the leaves of the records this gateway erased (ledger.erasure,
docs/ERASURE.md).

``erased_leaf`` is a new table: nothing to copy. Downgrading drops it, and with it this
gateway's knowledge of which leaves its erasures hold (the chain keeps their roots and counts).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table("erased_leaf"):  # created from the models
        return
    op.create_table(
        "erased_leaf",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("erasure_id", Text, nullable=False),
        sa.Column("version_id", Text, nullable=False),
        sa.Column("dataset_id", Text, nullable=False),
        sa.Column("root", Text, nullable=False),
        sa.Column("erased_root", Text, nullable=False),
        sa.Column("leaf_hash", Text, nullable=False),
        sa.Column("record_index", sa.BigInteger(), nullable=True),
        sa.Column("reason_hash", Text, nullable=False),
        sa.Column("salts", Text, nullable=True),
        sa.Column("shredded_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("erasure_id", "leaf_hash", name="uq_erased_leaf"),
    )
    op.create_index("ix_erased_leaf_erasure_id", "erased_leaf", ["erasure_id"])
    op.create_index("ix_erased_leaf_version_id", "erased_leaf", ["version_id"])
    op.create_index("ix_erased_leaf_leaf_hash", "erased_leaf", ["leaf_hash"])


def downgrade() -> None:
    op.drop_table("erased_leaf")  # and its indexes
