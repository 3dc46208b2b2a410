"""Database engines: SQLite by default (embedded), PostgreSQL for several gateways."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlmodel import Session, SQLModel, create_engine

from ..errors import ConfigurationError, LedgerError
from ..file_modes import create_private_file, exposure, make_private_dir
from . import tables
from .urls import sqlite_file

__all__ = [
    "CHECKPOINT_CHANNEL",
    "CHECKPOINT_TRIGGERS",
    "CHECKPOINT_TRIGGERS_PRESENT",
    "MIGRATIONS",
    "DatabaseUnavailableError",
    "as_unavailable",
    "create_db_engine",
    "database_errors",
    "init_db",
    "session_scope",
]

#: Alembic scripts of the off-chain tables.
MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds to wait for a PostgreSQL server to accept a new connection.
PG_CONNECT_TIMEOUT = 5
_SCHEMA_LOCK = 0x78696574  # "xiet": serialises schema changes of gateways sharing a database
#: PostgreSQL: the channel on which every move of the indexer's checkpoint (block number or
#: hash changed, the row made or removed, the table emptied) and every change of the checkpoint
#: signatures held (a row added or removed, the table emptied) is announced when its
#: transaction commits, by the triggers :func:`init_db` puts on ``indexer_checkpoint`` and
#: ``checkpoint_signature``; readers that keep the index's generation and the signatures'
#: mark in memory (``ledger.verify``) LISTEN on it.
CHECKPOINT_CHANNEL = "xietong_index_checkpoint"
#: The triggers that announce them, and their tables (a reader keeps a generation only when
#: all are there).
CHECKPOINT_TRIGGERS = {
    "indexer_checkpoint_moved": "indexer_checkpoint",  # block number or hash updated
    "indexer_checkpoint_set": "indexer_checkpoint",  # the row inserted or deleted
    "indexer_checkpoint_emptied": "indexer_checkpoint",  # the table truncated
    "checkpoint_signature_changed": "checkpoint_signature",  # a row added, changed or removed
    "checkpoint_signature_emptied": "checkpoint_signature",  # the table truncated
}
_ANNOUNCE_CHECKPOINT = (
    f"""CREATE OR REPLACE FUNCTION xietong_announce_checkpoint() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHECKPOINT_CHANNEL}', '');
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER indexer_checkpoint_moved AFTER UPDATE ON indexer_checkpoint
    FOR EACH ROW WHEN (OLD.block_number IS DISTINCT FROM NEW.block_number
                       OR OLD.block_hash IS DISTINCT FROM NEW.block_hash)
    EXECUTE FUNCTION xietong_announce_checkpoint()""",
    """CREATE OR REPLACE TRIGGER indexer_checkpoint_set AFTER INSERT OR DELETE
    ON indexer_checkpoint FOR EACH ROW EXECUTE FUNCTION xietong_announce_checkpoint()""",
    """CREATE OR REPLACE TRIGGER indexer_checkpoint_emptied AFTER TRUNCATE ON indexer_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION xietong_announce_checkpoint()""",
)
#: The signatures' triggers (``checkpoint_signature`` is an off-chain table, made by the
#: migrations: these are made after them).
_ANNOUNCE_SIGNATURES = (
    """CREATE OR REPLACE TRIGGER checkpoint_signature_changed AFTER INSERT OR UPDATE OR DELETE
    ON checkpoint_signature FOR EACH ROW EXECUTE FUNCTION xietong_announce_checkpoint()""",
    """CREATE OR REPLACE TRIGGER checkpoint_signature_emptied AFTER TRUNCATE
    ON checkpoint_signature FOR EACH STATEMENT EXECUTE FUNCTION xietong_announce_checkpoint()""",
)
#: How many of the triggers the table has, enabled (all of them: moves are announced; one
#: disabled with ALTER TABLE … DISABLE TRIGGER counts as missing).
CHECKPOINT_TRIGGERS_PRESENT = (
    "SELECT count(*) FROM pg_trigger WHERE tgrelid IN"
    " (to_regclass('indexer_checkpoint'), to_regclass('checkpoint_signature'))"
    " AND tgname = ANY(%(names)s) AND tgenabled IN ('O', 'A')"
)

log = logging.getLogger("xietong.db")


class _NoRowData(logging.Filter):
    """Drops SQLAlchemy's records of the rows a query returned (``Row (…)``, at debug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


# The database holds the watchers' webhook signing secrets (``ledger.watch``): at any log
# level, SQLAlchemy logs neither the parameters of a statement (every engine is made with
# hide_parameters, which also keeps them out of its error messages) nor the rows it reads.
logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowData())


class DatabaseUnavailableError(LedgerError):
    """The database cannot be reached, or accepts no writes now."""

    kind = "database-unavailable"


def as_unavailable(exc: Exception) -> DatabaseUnavailableError | None:
    """What a database failure means, from one table: a connection lost, refused or timed out
    (``OperationalError``, ``InterfaceError``), or a server that accepts no writes (a standby,
    or a database set read-only), is :class:`DatabaseUnavailableError`; anything else is a
    real error of the statement (None)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailableError(
            f"the database does not answer ({type(exc.orig or exc).__name__})."
        )
    if isinstance(exc, InternalError) and type(exc.orig).__name__ == "ReadOnlySqlTransaction":
        return DatabaseUnavailableError("the database accepts no writes now.")
    return None


@contextmanager
def database_errors() -> Iterator[None]:
    """Run the block's statements; a database that does not answer (or accepts no writes)
    raises :class:`DatabaseUnavailableError` (see :func:`as_unavailable`)."""
    try:
        yield
    except DBAPIError as exc:
        mapped = as_unavailable(exc)
        if mapped is None:
            raise
        raise mapped from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache (default 2 MiB): writing a large version's leaf store keeps its
    # indexes' pages in memory instead of reading them back (docs/BENCH_ANCHORING.md).
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def create_db_engine(url: str, *, create_tables: bool = True) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://…``), its tables created.

    Raises:
        ConfigurationError: ``url`` is not a SQLite or PostgreSQL URL.
        DatabaseUnavailableError: the database does not answer.
    """
    engine = _engine(url)
    if create_tables:
        init_db(engine)
    return engine


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"XIETONG_DATABASE_URL {url!r} is not a database URL.") from None
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is not None:
            _private_sqlite_file(database)
        engine = create_engine(parsed, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # A pool large enough for a serving worker's threads; pre-ping survives restarts. A
        # server that accepts connections and never answers (hung, or a dropped route) costs
        # a request PG_CONNECT_TIMEOUT seconds, then 503, instead of holding it forever; a
        # connect_timeout in the URL wins.
        connect_args = (
            {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT}
        )
        return create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=20,
            max_overflow=10,
            connect_args=connect_args,
            hide_parameters=True,
        )
    raise ConfigurationError(
        f"XIETONG_DATABASE_URL must be sqlite:/// or postgresql://, not {parsed.drivername}."
    )


def _private_sqlite_file(database: Path) -> None:
    """Make a new SQLite database owner-only: its missing directories 0700 (``var/``), the file
    0600 before SQLite opens it (its ``-wal`` and ``-shm`` files take its mode). An existing
    database other users can get at is left as it is, with a warning naming the command that
    closes it (the data is the operator's to move)."""
    make_private_dir(database.parent)
    if create_private_file(database):
        return
    for path in (database, *(Path(f"{database}{end}") for end in ("-wal", "-shm"))):
        try:
            problem = exposure(path)
        except OSError:  # no such file (no -wal yet), or not ours to look at
            continue
        if problem is not None:
            log.warning("the SQLite database file %s %s.", path, problem)


def init_db(engine: Engine) -> None:
    """Bring the schema up to date: the projections are created as the models say (they are
    rebuilt from the chain, never migrated: when a release changed a projection table's
    columns, all of them are dropped and the next indexer pass indexes the chain again from the
    deployment block); the off-chain tables are migrated with Alembic
    (``ledger/db/migrations``), so an upgrade never loses a leaf or an API key. On PostgreSQL
    an advisory lock lets several gateways start at once, and the checkpoint's moves are
    announced on :data:`CHECKPOINT_CHANNEL`."""
    with database_errors(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        projections = [t.__table__ for t in tables.PROJECTION_TABLES]  # type: ignore[attr-defined]
        if _projection_schema_changed(connection, projections):
            # A projection table of an older (or newer) release: drop them all, checkpoint
            # included, and the next indexer pass rebuilds them from the chain (a reindex).
            SQLModel.metadata.drop_all(connection, tables=projections)
            if connection.dialect.name == "postgresql":
                # DROP TABLE fires no trigger: the checkpoint's end is announced here (at commit).
                connection.execute(
                    text("SELECT pg_notify(:channel, '')"), {"channel": CHECKPOINT_CHANNEL}
                )
        SQLModel.metadata.create_all(connection, tables=projections)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if connection.dialect.name == "postgresql" and connection.exec_driver_sql(
            CHECKPOINT_TRIGGERS_PRESENT, {"names": list(CHECKPOINT_TRIGGERS)}
        ).scalar() != len(CHECKPOINT_TRIGGERS):
            # The checkpoint's are part of the projection's schema (dropped with the table,
            # made again here); all are made only when one is missing: replacing a trigger
            # locks its table against writes.
            for statement in (*_ANNOUNCE_CHECKPOINT, *_ANNOUNCE_SIGNATURES):
                connection.execute(text(statement))


def _projection_schema_changed(connection: Connection, projections: list[Table]) -> bool:
    """Whether a projection table exists with other columns than its model has (a release
    that added or removed columns): projections are never migrated, they are rebuilt."""
    inspector = inspect(connection)
    for table in projections:
        if inspector.has_table(table.name):
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            if columns != set(table.columns.keys()):
                return True
    return False


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
