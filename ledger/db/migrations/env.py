"""Alembic environment of the off-chain tables (run by :func:`ledger.db.engine.init_db`).

Only the tables that cannot be rebuilt from the chain are migrated here (the leaf store,
anchoring and submission batches, API keys); the projections are dropped and rebuilt by
``xietong reindex`` instead. The connection comes from ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from ledger.db import tables

OFFCHAIN = {t.__tablename__ for t in tables.OFFCHAIN_TABLES}


def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    if type_ == "table":
        return name in OFFCHAIN
    table = getattr(obj, "table", None)
    return table is None or table.name in OFFCHAIN


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
