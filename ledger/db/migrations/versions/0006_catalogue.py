"""The catalogue: texts people typed (dataset codes, purposes, legal bases, matter references,
duties, reasons) under the hashes the chain holds for them.

``catalogue_text`` is a new table: nothing to copy. Downgrading drops it; the pages then show
those hashes as hashes again.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLE = "catalogue_text"
Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(_TABLE):
        return  # created from the models by a database made before migrations
    op.create_table(
        _TABLE,
        sa.Column("hash", Text, primary_key=True),
        sa.Column("text", Text, nullable=False),
        sa.Column("rule", Text, nullable=False),
        sa.Column("source", Text, nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
