"""Watchers owned by the watch-scoped API key that added them (``watcher.api_key_id``;
docs/WEBHOOKS.md): such a key sees and changes only its own.

Every watcher made before was added by the CLI or an admin key: the column is added empty.
Downgrading drops it (a watch key's watchers are then the department's admins').

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("watcher")}
    if "api_key_id" in columns:  # created from the models
        return
    with op.batch_alter_table("watcher") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watcher") as batch:
        batch.drop_column("api_key_id")
