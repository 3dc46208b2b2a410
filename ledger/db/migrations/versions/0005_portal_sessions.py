"""Portal sessions: the portal's cookie holds an opaque session id, no longer an API key.

``portal_session`` keeps the SHA-256 of each session id, the API key it was opened with, and
when it was opened and last used (idle and absolute expiry). A new table: nothing to copy.
Downgrading drops it, which signs everyone out of the portal.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLE = "portal_session"
Text = sa.String()  # unbounded VARCHAR, as SQLModel maps `str` (and as 0001)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(_TABLE):
        return  # created from the models by a database made before migrations
    op.create_table(
        _TABLE,
        sa.Column("id_hash", Text, primary_key=True),
        sa.Column("key_id", Text, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{_TABLE}_key_id", _TABLE, ["key_id"])


def downgrade() -> None:
    op.drop_table(_TABLE)  # and its index
