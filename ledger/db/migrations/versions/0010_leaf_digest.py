"""SM3 datasets: each leaf says what hashed its content (``leaf.digest``: sha256 or sm3;
docs/SM3.md).

Every leaf stored before is a SHA-256 one: the column is added with that default. Downgrading
drops it (and SM3 leaves then read as SHA-256 ones: downgrade only a gateway that anchored
none).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("leaf")}
    if "digest" in columns:  # created from the models
        return
    with op.batch_alter_table("leaf") as batch:
        batch.add_column(sa.Column("digest", sa.String(), nullable=False, server_default="sha256"))


def downgrade() -> None:
    with op.batch_alter_table("leaf") as batch:
        batch.drop_column("digest")
