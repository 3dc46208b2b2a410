"""The index's generation (the indexer's checkpoint: block number and hash), with the mark of
the checkpoint signatures held (the highest id of ``checkpoint_signature``: rows are only ever
added, so a new signature, collected or own, moves it), read without a worker thread, for
answers kept in memory (``Verifier.stamp_async``) and the cosigned checkpoints their proof
bundles carry (``ledger.verify._cosigned``). The two together are a :class:`Standing`, read in
one statement; below, "the generation" and "the checkpoint's moves" stand for both.

* :class:`SqliteGeneration`: a SQLite file read over a plain ``sqlite3`` connection of the
  calling thread, one statement per read.
* :class:`PostgresGeneration`: on PostgreSQL, read over psycopg's asynchronous connections
  on the event loop, and *watched*: one connection LISTENs on ``CHECKPOINT_CHANNEL``, on which
  the triggers of ``ledger.db.engine.init_db`` announce every move of the checkpoint when its
  transaction commits. While it watches, a read is the generation kept, with no round trip.

What a kept generation may lag behind, and why that is enough:

* a move made by another process (another gateway's indexer or witness, ``xietong index``,
  ``xietong checkpoint run``) is known
  when its announcement arrives, which PostgreSQL sends once the move commits (well under a
  millisecond on one host);
* a pass of this process's own indexer or witness makes it forget before the pass returns
  (:meth:`PostgresGeneration.forget`, called by the gateway's indexers and witnesses): once
  a pass has returned, this process's answers stand on what it indexed and signed (the
  chunks a long pass commits on the way are learnt from their announcements, like another
  process's);
* without all the triggers enabled (a database the gateway has not started on since), or
  while the watching connection is down, nothing is kept and each read asks the database;
* an announcement lost on the way all the same (a trigger disabled while the watch runs, a
  connection pooler that drops notifications) costs at most
  :attr:`PostgresGeneration.KEPT_AT_MOST` seconds: the generation kept is read again that
  often (one statement per interval and process).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from ..db.engine import (
    CHECKPOINT_CHANNEL,
    CHECKPOINT_TRIGGERS,
    CHECKPOINT_TRIGGERS_PRESENT,
    PG_CONNECT_TIMEOUT,
)
from ..db.tables import CheckpointSignature, IndexerCheckpoint

__all__ = [
    "CHECKPOINT",
    "SIGNATURES_MARK",
    "WATCHER_NAME",
    "Generation",
    "GenerationUnknownError",
    "PostgresGeneration",
    "PostgresStatement",
    "SqliteGeneration",
    "Standing",
    "generation_of",
    "postgres_statement",
    "standing_of",
]

Generation = tuple[int, str]


class Standing(NamedTuple):
    """Where the gateway's database stands for its answers: the index's generation, and the
    mark of the checkpoint signatures held (0: none)."""

    generation: Generation
    signatures: int


_TABLE = IndexerCheckpoint.__table__  # type: ignore[attr-defined]
_SIGNATURES = CheckpointSignature.__table__  # type: ignore[attr-defined]
#: The signatures' mark, as a column of another statement.
SIGNATURES_MARK = sa_select(func.max(_SIGNATURES.c.id)).scalar_subquery().label("signatures")
#: The index's checkpoint alone (its generation) and the signatures' mark: the statement, and
#: its text per driver.
CHECKPOINT = sa_select(_TABLE.c.block_number, _TABLE.c.block_hash, SIGNATURES_MARK).where(
    _TABLE.c.id == 1
)
_CHECKPOINT_SQLITE = str(
    CHECKPOINT.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
)
_POSTGRES = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class PostgresStatement:
    """A statement as psycopg takes it: its text (``%(name)s`` parameters) and the values of
    the parameters it fixes itself (the others are given to :meth:`PostgresGeneration.fetch`)."""

    sql: str
    fixed: dict[str, Any]


def postgres_statement(statement: Select[Any]) -> PostgresStatement:
    """``statement`` compiled for psycopg."""
    compiled = statement.compile(dialect=_POSTGRES)
    fixed = {name: value for name, value in compiled.params.items() if value is not None}
    return PostgresStatement(str(compiled), fixed)


_CHECKPOINT_POSTGRES = postgres_statement(CHECKPOINT)
#: The ``application_name`` of the watching connection (as ``pg_stat_activity`` shows it).
WATCHER_NAME = "xietong-checkpoint-watch"
#: Not known (nothing kept): a distinct object, as None is a standing (nothing indexed).
_UNKNOWN: Any = object()


class GenerationUnknownError(Exception):
    """The index's generation could not be read without a thread (the database does not
    answer, the connection broke, or failed less than a second ago): callers take the way
    that handles outages (a worker thread)."""


def generation_of(row: Any) -> Generation | None:
    """The generation a checkpoint row (block number, block hash first) holds; None for no row."""
    return None if row is None else (int(row[0]), str(row[1]))


def standing_of(row: Any) -> Standing | None:
    """The standing a row of :data:`CHECKPOINT` (block number, block hash, signatures' mark
    first) holds; None for no row (nothing indexed)."""
    return None if row is None else Standing((int(row[0]), str(row[1])), int(row[2] or 0))


class SqliteGeneration:
    """The index's checkpoint read from a SQLite file over a plain ``sqlite3`` connection of
    the calling thread (read-only, autocommit: each read sees the last commit), without
    SQLAlchemy's pool and statement machinery (most of the cost of so small a read); through
    ``fallback`` (a read over the engine) for a database that is not a file."""

    def __init__(self, engine: Engine, fallback: Callable[[], Standing | None]) -> None:
        database = engine.url.database
        self._path = database if database and database != ":memory:" else None
        self._fallback = fallback
        self._local = threading.local()

    def read(self) -> Standing | None:
        if self._path is None:
            return self._fallback()
        try:
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = sqlite3.connect(
                    f"file:{self._path}?mode=ro", uri=True, isolation_level=None, timeout=10
                )
                self._local.connection = connection
            row = connection.execute(_CHECKPOINT_SQLITE).fetchone()
        except sqlite3.Error:
            self._local.connection = None
            raise GenerationUnknownError from None
        return standing_of(row)


class PostgresGeneration:
    """The index's checkpoint on PostgreSQL, read on one event loop and kept while watched
    (see the module's docstring); also the loop's way to the index for other statements
    (:meth:`fetch`).

    Connections are psycopg's asynchronous ones in autocommit, at most ``_CONNECTIONS`` at
    once besides the watching one, opened on first use and kept. A failure closes the
    connection that failed, and for ``_RETRY`` seconds no read is tried. Everything belongs to
    the loop that used it first; another loop (a test client's) starts afresh.

    ``_known`` (the generation kept, or ``_UNKNOWN``) and ``_epoch`` (counts forgettings) are
    written under ``_lock``: :meth:`forget` comes from other threads, and a generation read
    before a forgetting must not be kept after it.
    """

    _RETRY = 1.0
    _CONNECTIONS = 4
    #: Seconds between the watcher's looks at whether this process forgot the generation.
    _POLL = 0.05
    #: Seconds a generation is kept at most without an announcement before it is read again:
    #: an announcement lost on the way (a trigger disabled after the watch began, a pooler that
    #: drops notifications) costs at most this long, and one read per interval.
    KEPT_AT_MOST = 2.0

    def __init__(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connect_timeout = int(url.query.get("connect_timeout", PG_CONNECT_TIMEOUT))  # type: ignore[arg-type]
        self._idle: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._failed_at = -math.inf
        self._lock = threading.Lock()
        self._known: Standing | None = _UNKNOWN
        self._epoch = 0
        self._watcher: asyncio.Task[None] | None = None

    @property
    def watching(self) -> bool:
        """Whether a generation is kept now (reads cost no round trip)."""
        return self._known is not _UNKNOWN

    def forget(self) -> None:
        """Forget the generation kept (any thread): this process moved the checkpoint. Reads
        ask the database until the watcher has read it again."""
        with self._lock:
            self._epoch += 1
            self._known = _UNKNOWN

    async def read(self) -> Standing | None:
        """The standing now (the index's generation, the signatures' mark): the one kept
        while watched, else read (one round
        trip). Raises GenerationUnknownError when the database does not answer."""
        self._adopt(asyncio.get_running_loop())
        known = self._known
        if known is not _UNKNOWN:
            return known
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        rows = await self.fetch(_CHECKPOINT_POSTGRES)
        return standing_of(rows[0] if rows else None)

    async def fetch(
        self, statement: PostgresStatement, params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """The rows of ``statement`` with ``params``, prepared on the server. Raises
        GenerationUnknownError when the database does not answer."""
        import psycopg

        self._adopt(asyncio.get_running_loop())
        if time.monotonic() - self._failed_at < self._RETRY:
            raise GenerationUnknownError
        assert self._slots is not None
        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            try:
                if connection is None or connection.closed:
                    connection = await self._connect()
                values = {**statement.fixed, **(params or {})}
                cursor = await connection.execute(statement.sql, values, prepare=True)
                rows: list[Any] = await cursor.fetchall()
            except (psycopg.Error, OSError):
                self._failed_at = time.monotonic()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                raise GenerationUnknownError from None
            self._idle.append(connection)
        return rows

    async def aclose(self) -> None:
        """Stop watching and close the connections (on the loop that used them)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(Exception):
                await connection.close()

    # ------------------------------------------------------------------ the watcher

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop:  # connections, tasks and the semaphore belong to one loop
            self._loop, self._slots, self._idle = loop, asyncio.Semaphore(self._CONNECTIONS), []
            self._watcher = None
            self.forget()

    async def _connect(self, name: str = "xietong-verify") -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=self._connect_timeout,
            application_name=name,
        )

    async def _watch(self) -> None:
        """LISTEN, read the checkpoint, keep it until it moves (announced, or forgotten by
        this process), read it again; after a failure, forget and start again. Whatever ends
        the watch (stopped, or an error of any kind) forgets what it kept."""
        try:
            while await self._watch_once():
                await asyncio.sleep(self._RETRY)
        finally:
            self.forget()

    async def _watch_once(self) -> bool:
        """One connection's watch; False when moves are not announced (no trigger: never
        keep a generation), True after a failure (watch again)."""
        connection = None
        try:
            connection = await self._connect(WATCHER_NAME)
            cursor = await connection.execute(
                CHECKPOINT_TRIGGERS_PRESENT, {"names": list(CHECKPOINT_TRIGGERS)}
            )
            present = await cursor.fetchone()
            if present is None or present[0] != len(CHECKPOINT_TRIGGERS):
                return False
            await connection.execute(f"LISTEN {CHECKPOINT_CHANNEL}")
            while True:
                epoch = self._epoch
                cursor = await connection.execute(
                    _CHECKPOINT_POSTGRES.sql, _CHECKPOINT_POSTGRES.fixed
                )
                standing = standing_of(await cursor.fetchone())
                with self._lock:
                    kept = epoch == self._epoch  # not forgotten while it was read
                    if kept:
                        self._known = standing
                if kept and await self._until_moved(connection):
                    self.forget()  # moved: reads ask the database until it is read again
        except Exception:  # a broken connection, or anything else: read per request meanwhile
            self.forget()
            return True
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()

    async def _until_moved(self, connection: Any) -> bool:
        """Wait until the checkpoint's move is announced or this process forgot it (True), or
        until it has been kept :attr:`KEPT_AT_MOST` seconds (False: read it again)."""
        deadline = time.monotonic() + self.KEPT_AT_MOST
        while self._known is not _UNKNOWN:
            if time.monotonic() >= deadline:
                return False
            # Closed at once, not left to the loop's finaliser holding the connection's lock.
            notified = connection.notifies(timeout=self._POLL, stop_after=1)
            async with contextlib.aclosing(notified) as announced:
                async for _ in announced:
                    return True
        return True
