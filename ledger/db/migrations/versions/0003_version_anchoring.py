"""Rename ``anchor_batch`` to ``version_anchoring``: "batch" now means only the API's
submission batch (``submission_batch``); a row here is one version being anchored.

The rows move unchanged (a version being anchored when the gateway was upgraded is finished
by ``xietong dataset resume`` as before); the indexes are made again under the new table's
names. A database that already has ``version_anchoring`` (created from the models before
it was migrated) takes the old table's rows that it lacks.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD, _NEW = "anchor_batch", "version_anchoring"
_INDEXED = ("dataset_id", "status")


def _rename(old: str, new: str) -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if old not in tables:
        return
    if new in tables:  # made from the models: take the rows it lacks, then drop the old one
        op.execute(
            f"INSERT INTO {new} SELECT * FROM {old} "  # noqa: S608 - names are constants
            f"WHERE id NOT IN (SELECT id FROM {new})"
        )
        op.drop_table(old)
        return
    for column in _INDEXED:
        op.drop_index(f"ix_{old}_{column}", table_name=old)
    op.rename_table(old, new)
    for column in _INDEXED:
        op.create_index(f"ix_{new}_{column}", new, [column])


def upgrade() -> None:
    _rename(_OLD, _NEW)


def downgrade() -> None:
    _rename(_NEW, _OLD)
