"""A version being anchored is keyed by its dataset and root, no longer by its root alone:
two datasets (of one department, or of two departments sharing a database) may anchor the
same content, as the DatasetRegistry now allows.

``version_anchoring`` loses the uniqueness of ``root`` (kept as an index) and gains
``uq_version_anchoring_version`` on (``dataset_id``, ``root``). The table is copied into its
new form (the one way that works alike on SQLite, whose unnamed constraints cannot be
dropped, and on PostgreSQL); every row moves unchanged. Rows of earlier anchorings name
dataset ids and parents of the earlier registry (ids were keccak256 of the code, parents were
roots): they belong to that deployment, and stay as its record.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLE, _COPY = "version_anchoring", "version_anchoring_0004"
Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def _columns() -> list[sa.Column[object]]:
    def big(name: str, *, nullable: bool = False) -> sa.Column[object]:
        return sa.Column(name, sa.BigInteger(), nullable=nullable)

    return [
        sa.Column("id", Text, primary_key=True),
        sa.Column("dataset_id", Text, nullable=False),
        sa.Column("root", Text, nullable=False),
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
    ]


def _rebuild(*, per_dataset: bool) -> None:
    inspector = sa.inspect(op.get_bind())
    if _TABLE not in set(inspector.get_table_names()):
        return
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(_TABLE)}
    if (("dataset_id", "root") in uniques) == per_dataset:  # in that form already (the models)
        return
    columns = _columns()
    if per_dataset:
        constraints: list[sa.Constraint] = [
            sa.UniqueConstraint("dataset_id", "root", name="uq_version_anchoring_version")
        ]
    else:
        constraints = [sa.UniqueConstraint("root")]
    # A copy left by an attempt that died half way (SQLite commits each statement of DDL).
    op.execute(f"DROP TABLE IF EXISTS {_COPY}")
    op.create_table(_COPY, *columns, *constraints)
    names = ", ".join(c.name for c in columns)
    op.execute(f"INSERT INTO {_COPY} ({names}) SELECT {names} FROM {_TABLE}")  # noqa: S608
    op.drop_table(_TABLE)  # and its indexes
    op.rename_table(_COPY, _TABLE)
    for column in ("dataset_id", "status") + (("root",) if per_dataset else ()):
        op.create_index(f"ix_{_TABLE}_{column}", _TABLE, [column])


def upgrade() -> None:
    _rebuild(per_dataset=True)


def downgrade() -> None:
    _rebuild(per_dataset=False)
