"""The SQLite database at rest: ``var/`` and the database (with its ``-wal`` and ``-shm``
files) readable by the gateway's user only, whatever the umask; an existing database open to
others is left as it is, with a warning naming the command that closes it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.db.engine import create_db_engine
from tests.support import file_mode


@pytest.mark.usefixtures("open_umask")
def test_a_new_sqlite_database_is_owner_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "var" / "gateway" / "xietong.db"
    with caplog.at_level(logging.WARNING, logger="xietong.db"):
        engine = create_db_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:  # an open connection: -wal and -shm exist
            connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
            files = {path.name: file_mode(path) for path in database.parent.iterdir()}
            assert files == {"xietong.db": 0o600, "xietong.db-wal": 0o600, "xietong.db-shm": 0o600}
    finally:
        engine.dispose()
    assert file_mode(tmp_path / "var") == file_mode(database.parent) == 0o700
    assert caplog.records == []


def test_an_existing_database_open_to_others_is_left_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "xietong.db"
    create_db_engine(f"sqlite:///{database}").dispose()
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="xietong.db"):
        create_db_engine(f"sqlite:///{database}").dispose()
    assert [record.getMessage() for record in caplog.records] == [
        f"the SQLite database file {database} is readable by other users (mode 0644): "
        f"run `chmod 600 {database}`."
    ]
    assert file_mode(database) == 0o644  # the operator's to change
    caplog.clear()
    database.chmod(0o600)
    create_db_engine(f"sqlite:///{database}").dispose()
    assert caplog.records == []
