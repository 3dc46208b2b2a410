"""The one table of database outages (ledger.db.engine.as_unavailable), on real databases: a
server that refuses connections and one that accepts no writes are DatabaseUnavailableError;
a statement's own error is not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.chain.node import free_port
from ledger.db.engine import DatabaseUnavailableError, create_db_engine, database_errors


def test_a_server_that_refuses_connections_is_unavailable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    with pytest.raises(DatabaseUnavailableError) as info:
        create_db_engine(url)
    assert str(info.value) == "the database does not answer (OperationalError)."
    assert url not in str(info.value)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_that_accepts_no_writes_is_unavailable(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
        connection.commit()
        with (
            pytest.raises(DatabaseUnavailableError, match="accepts no writes now"),
            database_errors(),
        ):
            connection.execute(text("DELETE FROM api_key"))
        connection.rollback()


def test_a_statement_error_is_not_an_outage(engine: Engine) -> None:
    insert = text(
        "INSERT INTO api_key (id, name, scope, key_hash, created_at) "
        "VALUES ('k1', 'x', 'read', 'h', 0)"
    )
    with engine.connect() as connection:
        connection.execute(insert)
        with pytest.raises(IntegrityError), database_errors():
            connection.execute(insert)  # the same primary key again
