"""Writing many rows at once, the fastest way each database offers.

A large version's leaf store is a million rows or more; through the ORM, or even SQLAlchemy
Core with dicts, most of the time goes to per-row Python work. Here rows are plain tuples:
SQLite gets one ``executemany`` on its own cursor, PostgreSQL a ``COPY … FROM STDIN``. Both
run on the session's connection, inside its transaction: nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session

__all__ = ["insert_rows"]


def insert_rows(
    table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], *, session: Session
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    connection = session.connection()
    dialect = connection.dialect.name
    names = ", ".join(columns)
    # The driver's own connection (sqlite3 or psycopg), typed loosely on purpose: each
    # branch uses what only its driver has (an iterable executemany, COPY).
    dbapi: Any = connection.connection.dbapi_connection
    if dialect == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor = dbapi.cursor()
        try:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - names are ours
        finally:
            cursor.close()
    elif dialect == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:  # create_db_engine makes no other kind of engine
        raise ValueError(f"insert_rows: no bulk path for {dialect}")
