"""Database engines: SQLite by default (embedded), PostgreSQL for several gateways."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from ..errors import ConfigurationError, LedgerError
from . import tables

__all__ = [
    "MIGRATIONS",
    "DatabaseUnavailableError",
    "create_db_engine",
    "init_db",
    "session_scope",
]

#: Alembic scripts of the off-chain tables.
MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds to wait for a PostgreSQL server to accept a new connection.
PG_CONNECT_TIMEOUT = 5
_SCHEMA_LOCK = 0x78696574  # "xiet": serialises schema changes of gateways sharing a database


class DatabaseUnavailableError(LedgerError):
    """The database cannot be reached."""

    kind = "database-unavailable"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache (default 2 MiB): writing a large version's leaf store keeps its
    # indexes' pages in memory instead of reading them back (about 2x faster at 1M leaves).
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
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
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
            parsed, pool_pre_ping=True, pool_size=20, max_overflow=10, connect_args=connect_args
        )
    raise ConfigurationError(
        f"XIETONG_DATABASE_URL must be sqlite:/// or postgresql://, not {parsed.drivername}."
    )


def init_db(engine: Engine) -> None:
    """Bring the schema up to date: the projections are created as the models say (they are
    rebuilt from the chain, never migrated); the off-chain tables are migrated with Alembic
    (``ledger/db/migrations``), so an upgrade never loses a leaf or an API key. On PostgreSQL
    an advisory lock lets several gateways start at once."""
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK}
                )
            SQLModel.metadata.create_all(
                connection,
                tables=[t.__table__ for t in tables.PROJECTION_TABLES],  # type: ignore[attr-defined]
            )
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise DatabaseUnavailableError(f"the database does not answer ({exc.orig}).") from None


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
