"""Leaf store: drop the index on ``root`` alone.

``uq_leaf_position`` (root, sorted_index) already serves every lookup by root (its first
column); the second index only cost time on each insert (about a fifth of writing a large
version's leaves to SQLite, see docs/BENCH_ANCHORING.md).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    indexes = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("leaf")}
    if "ix_leaf_root" in indexes:
        op.drop_index("ix_leaf_root", table_name="leaf")


def downgrade() -> None:
    op.create_index("ix_leaf_root", "leaf", ["root"])
