"""The off-chain tables are migrated with Alembic; the migrations match the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from ledger.apikeys import create_api_key
from ledger.db import tables
from ledger.db.engine import MIGRATIONS, _engine, create_db_engine, init_db
from ledger.db.tables import ApiKey, LeafRow, VersionAnchoring, Watcher

OFFCHAIN = {t.__tablename__ for t in tables.OFFCHAIN_TABLES}  # type: ignore[attr-defined]
HEAD = "0011"  # the newest revision in ledger/db/migrations/versions


def _revision(engine: object) -> str:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return str(connection.execute(text("select version_num from alembic_version")).scalar())


def _upgrade(engine: Engine, revision: str) -> None:
    """Migrate an empty database up to ``revision`` only (as an older gateway left it)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _differences(engine: object) -> list[object]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        context = MigrationContext.configure(
            connection,
            opts={"include_object": lambda o, name, kind, *_: kind != "table" or name in OFFCHAIN},
        )
        diffs = compare_metadata(context, SQLModel.metadata)
    # compare_metadata reports tables of the metadata missing from the database; the
    # projection tables exist too (created from the models), so any diff is a real one.
    return list(diffs)


def test_fresh_database_is_at_head_and_matches_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    assert _revision(engine) == HEAD == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert set(inspect(engine).get_table_names()) >= OFFCHAIN
    assert _differences(engine) == []


def test_a_database_from_before_migrations_is_adopted_without_loss(database_url: str) -> None:
    engine = _engine(database_url)
    SQLModel.metadata.create_all(engine)  # what init_db did before migrations existed
    with Session(engine) as session:
        session.add(
            LeafRow(
                root="0x" + "11" * 32,
                leaf_hash="0x" + "22" * 32,
                sorted_index=0,
                kind="file",
                content_hash="0x" + "33" * 32,
                path="a.txt",
            )
        )
        session.commit()
        _, _key = create_api_key(session=session, name="before", scope="read")
    init_db(engine)
    init_db(engine)  # idempotent
    with Session(engine) as session:
        assert [r.path for r in session.exec(select(LeafRow)).all()] == ["a.txt"]
        assert [k.name for k in session.exec(select(ApiKey)).all()] == ["before"]
    assert _revision(engine) == HEAD


def test_0002_drops_the_redundant_root_index_and_keeps_the_leaves(database_url: str) -> None:
    engine = _engine(database_url)
    _upgrade(engine, "0001")
    assert "ix_leaf_root" in {ix["name"] for ix in inspect(engine).get_indexes("leaf")}
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into leaf (root, leaf_hash, sorted_index, kind) values (:r, :l, 0, 'record')"
            ),
            {"r": "0x" + "11" * 32, "l": "0x" + "22" * 32},
        )
    init_db(engine)
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("leaf")}
    assert "ix_leaf_root" not in indexes and "ix_leaf_leaf_hash" in indexes
    assert _revision(engine) == HEAD
    with Session(engine) as session:
        assert [r.leaf_hash for r in session.exec(select(LeafRow)).all()] == ["0x" + "22" * 32]


def test_unreachable_database_is_one_sentence() -> None:
    from ledger.db.engine import DatabaseUnavailableError

    with pytest.raises(DatabaseUnavailableError, match="the database does not answer"):
        create_db_engine("postgresql://postgres@127.0.0.1:1/nothing")


def test_0003_renames_anchor_batch_and_keeps_a_version_being_anchored(database_url: str) -> None:
    engine = _engine(database_url)
    _upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into anchor_batch (id, dataset_id, root, leaf_count, leaf_kind,"
                " metadata_hash, parents, source, status, sender, tx_hash, created_at,"
                " updated_at) values ('a1', :d, :r, 2, 'file', :m, '[]', 'folder', 'sent',"
                " :s, :t, 1, 2)"
            ),
            {
                "d": "0x" + "d5" * 32,
                "r": "0x" + "a1" * 32,
                "m": "0x" + "0e" * 32,
                "s": "0x" + "5e" * 20,
                "t": "0x" + "7c" * 32,
            },
        )
    init_db(engine)
    names = set(inspect(engine).get_table_names())
    assert "version_anchoring" in names and "anchor_batch" not in names
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("version_anchoring")}
    assert {"ix_version_anchoring_dataset_id", "ix_version_anchoring_status"} <= indexes
    with Session(engine) as session:
        (kept,) = session.exec(select(VersionAnchoring)).all()
    assert (kept.id, kept.status, kept.tx_hash) == ("a1", "sent", "0x" + "7c" * 32)
    assert _revision(engine) == HEAD and _differences(engine) == []


_ANCHORING_COLUMNS = (
    "id, dataset_id, root, leaf_count, leaf_kind, metadata_hash, parents, source, status,"
    " sender, nonce, raw_tx, tx_hash, block_number, error, created_at, updated_at"
)
_SELECT_ANCHORINGS = text(f"select {_ANCHORING_COLUMNS} from version_anchoring")  # noqa: S608


def _insert_anchoring(engine: Engine, id: str, dataset: str, root: str) -> None:
    """A version being anchored, every column set (as an older gateway left it)."""
    values = ", ".join(f":{name.strip()}" for name in _ANCHORING_COLUMNS.split(","))
    with engine.begin() as connection:
        connection.execute(
            text(f"insert into version_anchoring ({_ANCHORING_COLUMNS}) values ({values})"),  # noqa: S608
            {
                "id": id,
                "dataset_id": dataset,
                "root": root,
                "leaf_count": 2**40,
                "leaf_kind": "record",
                "metadata_hash": "0x" + "0e" * 32,
                "parents": '["0x' + "9a" * 32 + '"]',
                "source": "数据/低保.csv",
                "status": "sent",
                "sender": "0x" + "5e" * 20,
                "nonce": 7,
                "raw_tx": "0x02f8",
                "tx_hash": "0x" + "7c" * 32,
                "block_number": None,
                "error": None,
                "created_at": 1,
                "updated_at": 2,
            },
        )


def test_0004_keys_a_version_being_anchored_by_its_dataset_and_root(database_url: str) -> None:
    """From 0003 (a root anchored once in all), the row is kept as it was; then the same root
    may be anchored into another dataset, never twice into one; the models match."""
    engine = _engine(database_url)
    _upgrade(engine, "0003")
    first, other = "0x" + "d5" * 32, "0x" + "d6" * 32
    root = "0x" + "a1" * 32
    _insert_anchoring(engine, "a1", first, root)
    with pytest.raises(IntegrityError):  # before: one root, one anchoring
        _insert_anchoring(engine, "a2", other, root)
    with engine.connect() as connection:
        before = connection.execute(_SELECT_ANCHORINGS)
        rows = [tuple(row) for row in before]
    init_db(engine)
    assert _revision(engine) == HEAD
    with engine.connect() as connection:
        after = connection.execute(_SELECT_ANCHORINGS)
        assert [tuple(row) for row in after] == rows
    with Session(engine) as session:
        (kept,) = session.exec(select(VersionAnchoring)).all()
    assert (kept.id, kept.dataset_id, kept.root, kept.status) == ("a1", first, root, "sent")
    assert (kept.leaf_count, kept.nonce, kept.source) == (2**40, 7, "数据/低保.csv")
    with pytest.raises(IntegrityError):  # the same version twice
        _insert_anchoring(engine, "a2", first, root)
    _insert_anchoring(engine, "a2", other, root)  # the same content in another dataset
    with Session(engine) as session:
        pairs = {(a.id, a.dataset_id, a.root) for a in session.exec(select(VersionAnchoring))}
    assert pairs == {("a1", first, root), ("a2", other, root)}
    inspector = inspect(engine)
    indexes = {ix["name"] for ix in inspector.get_indexes("version_anchoring")}
    assert {
        "ix_version_anchoring_dataset_id",
        "ix_version_anchoring_root",
        "ix_version_anchoring_status",
    } <= indexes
    uniques = inspector.get_unique_constraints("version_anchoring")
    assert [(u["name"], u["column_names"]) for u in uniques] == [
        ("uq_version_anchoring_version", ["dataset_id", "root"])
    ]
    assert _differences(engine) == []


def test_0004_downgrades_to_one_anchoring_per_root_keeping_the_rows(database_url: str) -> None:
    engine = _engine(database_url)
    init_db(engine)
    root = "0x" + "a1" * 32
    _insert_anchoring(engine, "a1", "0x" + "d5" * 32, root)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(_SELECT_ANCHORINGS)]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert _revision(engine) == "0003"
    with engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(_SELECT_ANCHORINGS)] == rows
    with pytest.raises(IntegrityError):  # one root, one anchoring again
        _insert_anchoring(engine, "a2", "0x" + "d6" * 32, root)
    init_db(engine)
    assert _revision(engine) == HEAD and _differences(engine) == []


def test_0011_keeps_the_watchers_and_leaves_them_to_the_departments_admins(
    database_url: str,
) -> None:
    engine = _engine(database_url)
    _upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into watcher (id, department_id, url, topics, secret, start_block,"
                " cursor_block, cursor_log, created_at) values ('wh_1', :d,"
                " 'https://hooks.example/x', '[\"dataset.version\"]', 'whsec_x', 1, 1, -1, 1)"
            ),
            {"d": "0x" + "d5" * 32},
        )
    init_db(engine)
    with Session(engine) as session:
        (kept,) = session.exec(select(Watcher)).all()
    assert (kept.id, kept.secret, kept.api_key_id) == ("wh_1", "whsec_x", None)
    assert _revision(engine) == HEAD and _differences(engine) == []
