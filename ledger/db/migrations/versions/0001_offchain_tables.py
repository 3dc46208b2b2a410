"""Off-chain tables: anchoring batches, leaf store, submission batches, API keys.

Revision ID: 0001
Revises: (none)

Databases made before migrations existed already hold some of these tables (created
directly from the models); they are adopted as they are.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str`


def _create(name: str, *columns: Any, indexes: tuple[tuple[str, ...], ...] = ()) -> None:
    if sa.inspect(op.get_bind()).has_table(name):
        return  # adopted from a database created before migrations
    op.create_table(name, *columns)
    for cols in indexes:
        op.create_index(f"ix_{name}_{'_'.join(cols)}", name, list(cols))


def big(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    _create(
        "anchor_batch",
        sa.Column("id", Text, primary_key=True),
        sa.Column("dataset_id", Text, nullable=False),
        sa.Column("root", Text, nullable=False, unique=True),
        big("leaf_count"),
        sa.Column("leaf_kind", Text, nullable=False),
        sa.Column("metadata_hash", Text, nullable=False),
        sa.Column("parents", sa.Text(), nullable=False),
        sa.Column("source", Text, nullable=False),
        sa.Column("status", Text, nullable=False),
        sa.Column("sender", Text, nullable=False),
        big("nonce", nullable=True),
        sa.Column("raw_tx", sa.Text(), nullable=True),
        sa.Column("tx_hash", Text, nullable=True),
        big("block_number", nullable=True),
        sa.Column("error", Text, nullable=True),
        big("created_at"),
        big("updated_at"),
        indexes=(("dataset_id",), ("status",)),
    )
    _create(
        "tree_blob",
        sa.Column("root", Text, primary_key=True),
        sa.Column("sorted_leaves", sa.LargeBinary(), nullable=False),
    )
    _create(
        "leaf",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("root", Text, nullable=False),
        sa.Column("leaf_hash", Text, nullable=False),
        big("sorted_index"),
        sa.Column("kind", Text, nullable=False),
        sa.Column("content_hash", Text, nullable=True),
        sa.Column("path", Text, nullable=True),
        big("record_index", nullable=True),
        sa.UniqueConstraint("root", "sorted_index", name="uq_leaf_position"),
        indexes=(("content_hash",), ("leaf_hash",), ("root",)),
    )
    _create(
        "submission_batch",
        sa.Column("id", Text, primary_key=True),
        sa.Column("dataset_id", Text, nullable=False),
        sa.Column("status", Text, nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        big("created_at"),
        big("sealed_at", nullable=True),
        sa.Column("error", Text, nullable=True),
        indexes=(("dataset_id",), ("status",)),
    )
    _create(
        "submitted_leaf",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", Text, nullable=False),
        sa.Column("content_hash", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.UniqueConstraint("batch_id", "content_hash", "name", name="uq_submitted_leaf"),
        indexes=(("batch_id",),),
    )
    _create(
        "api_key",
        sa.Column("id", Text, primary_key=True),
        sa.Column("name", Text, nullable=False),
        sa.Column("scope", Text, nullable=False),
        sa.Column("key_hash", Text, nullable=False),
        big("created_at"),
        big("revoked_at", nullable=True),
    )


def downgrade() -> None:
    for name in (
        "api_key",
        "submitted_leaf",
        "submission_batch",
        "leaf",
        "tree_blob",
        "anchor_batch",
    ):
        op.drop_table(name)
