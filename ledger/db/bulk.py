"""Writing many rows at once, the fastest way each database offers.

A large version's leaf store is a million rows or more; through the ORM, or even SQLAlchemy
Core with dicts, most of the time goes to per-row Python work. Here rows are plain tuples:
SQLite gets one ``executemany`` on its own cursor, PostgreSQL a ``COPY … FROM STDIN``. Both
run on the session's connection, inside its transaction: nothing is committed here.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, cast

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

__all__ = ["insert_blob", "insert_record_leaves", "insert_rows"]

#: Bytes written per incremental write by :func:`insert_blob` on SQLite.
_BLOB_PIECE = 4 << 20

#: Leaves written per statement batch / COPY chunk by :func:`insert_record_leaves`.
_LEAF_CHUNK = 65536
_ROOT = re.compile(r"0x[0-9a-f]{64}")


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


def _leaf_hexes(sorted_leaves: bytes, start: int, stop: int) -> list[str]:
    text = sorted_leaves[32 * start : 32 * stop].hex()
    return ["0x" + text[k : k + 64] for k in range(0, len(text), 64)]


def insert_record_leaves(
    root: str,
    sorted_leaves: bytes,
    order: array[int],
    *,
    session: Session,
    digest: Literal["sha256", "sm3"] = "sha256",
) -> None:
    """Insert the ``leaf`` rows of a records version: sorted leaf ``i`` (32 bytes each in
    ``sorted_leaves``) at ``sorted_index`` ``i`` with ``record_index`` ``order[i]``, their
    records hashed with ``digest``.

    Rows are made a chunk at a time (memory stays bounded at any leaf count) and go in tree
    order, so both leaf indexes grow at their end. SQLite binds three values per row (the
    constant root and kind are in the statement); PostgreSQL gets COPY text. Nothing is
    committed here.

    Raises:
        ValueError: ``root`` is not ``0x`` and 64 lower-case hex digits, or the leaves and
            the order differ in length.
    """
    if not _ROOT.fullmatch(root):
        raise ValueError(f"insert_record_leaves: {root!r} is not a root")
    if digest not in ("sha256", "sm3"):
        raise ValueError(f"insert_record_leaves: {digest!r} is not a digest")
    count = len(order)
    if len(sorted_leaves) != 32 * count:
        raise ValueError("insert_record_leaves: one row number per 32-byte leaf is needed")
    connection = session.connection()
    dialect = connection.dialect.name
    dbapi: Any = connection.connection.dbapi_connection
    chunks = range(0, count, _LEAF_CHUNK)
    if dialect == "sqlite":

        def rows() -> Iterator[tuple[str, int, int]]:
            for start in chunks:
                stop = min(start + _LEAF_CHUNK, count)
                yield from zip(
                    _leaf_hexes(sorted_leaves, start, stop),
                    range(start, stop),
                    order[start:stop],
                    strict=True,
                )

        cursor = dbapi.cursor()
        try:
            cursor.executemany(
                "INSERT INTO leaf (root, leaf_hash, sorted_index, kind, record_index, digest) "  # noqa: S608 - root and digest checked above
                f"VALUES ('{root}', ?, ?, 'record', ?, '{digest}')",
                rows(),
            )
        finally:
            cursor.close()
    elif dialect == "postgresql":
        columns = "root, leaf_hash, sorted_index, kind, record_index, digest"
        with dbapi.cursor() as cursor, cursor.copy(f"COPY leaf ({columns}) FROM STDIN") as copy:
            for start in chunks:
                stop = min(start + _LEAF_CHUNK, count)
                lines = [
                    f"{root}\t{leaf}\t{position}\trecord\t{number}\t{digest}\n"
                    for leaf, position, number in zip(
                        _leaf_hexes(sorted_leaves, start, stop),
                        range(start, stop),
                        order[start:stop],
                        strict=True,
                    )
                ]
                copy.write("".join(lines).encode("ascii"))
    else:  # create_db_engine makes no other kind of engine
        raise ValueError(f"insert_record_leaves: no bulk path for {dialect}")


def insert_blob(
    table: str, key_column: str, key: str, blob_column: str, data: bytes, *, session: Session
) -> None:
    """Insert one row ``(key, data)`` whose blob may be hundreds of MB, without copying it.

    SQLite copies a bound blob, then copies it again into the record it writes: a 320 MB
    tree (10 million leaves) would take three times its size in memory. Here SQLite gets a
    ``zeroblob`` of the right size and the bytes are written into it piece by piece through
    incremental blob I/O. PostgreSQL takes the value as an ordinary parameter (the server
    holds it, not this process). A duplicate key raises SQLAlchemy's IntegrityError, as an
    ORM insert would. Nothing is committed here.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        session.execute(
            text(f"INSERT INTO {table} ({key_column}, {blob_column}) VALUES (:key, :data)"),  # noqa: S608 - names are ours
            {"key": key, "data": data},
        )
        return
    result = session.execute(
        text(f"INSERT INTO {table} ({key_column}, {blob_column}) VALUES (:key, zeroblob(:size))"),  # noqa: S608 - names are ours
        {"key": key, "size": len(data)},
    )
    rowid = cast("CursorResult[Any]", result).lastrowid
    dbapi: Any = connection.connection.dbapi_connection
    view = memoryview(data)
    with dbapi.blobopen(table, blob_column, rowid) as blob:
        for start in range(0, len(view), _BLOB_PIECE):
            blob.write(view[start : start + _BLOB_PIECE])
