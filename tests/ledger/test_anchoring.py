"""Anchoring on real nodes and databases: durable batches, crash recovery, exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger import merkle
from ledger.anchoring import Anchorer, AnchorError, prepare_path
from ledger.db.tables import ChainEvent, LeafRow, TreeBlob, VersionAnchoring
from ledger.ids import dataset_id
from ledger.indexer import Indexer
from tests.support import Consortium

DS = dataset_id("ANCHOR-TEST")


class CrashError(Exception):
    """Stands for the gateway dying at a given step."""


def registered(c: Consortium) -> Consortium:
    c.transact("DatasetRegistry", "registerDataset", DS, keccak(text="meta"), sender=c.ops["A"])
    return c


def anchored_events(c: Consortium, root: bytes) -> int:
    logs = (
        c.client.contract("DatasetRegistry")
        .events.VersionAnchored()
        .get_logs(from_block=c.deployment.block_number, argument_filters={"root": root})
    )
    return len(logs)


def test_anchor_a_folder(consortium: Consortium, engine: Engine, folder: Path) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)
    assert prepared.kind == "file"
    assert prepared.tree.leaf_count == 3
    batch = Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)
    assert batch.status == "confirmed"
    assert batch.root == "0x" + prepared.root.hex()
    version = c.call("DatasetRegistry", "version", prepared.root)
    assert (bytes(version[0]), version[1]) == (DS, 3)
    assert version[3] == batch.block_number
    with Session(engine) as session:
        leaves = session.exec(select(LeafRow).where(LeafRow.root == batch.root)).all()
        assert sorted(leaf.path for leaf in leaves) == ["a.txt", "sub/b.bin", "说明.md"]
        assert sorted(leaf.sorted_index for leaf in leaves) == [0, 1, 2]
        blob = session.get(TreeBlob, batch.root)
        assert blob is not None
        assert merkle.MerkleTree.from_sorted_leaves(blob.sorted_leaves).root == prepared.root
    assert anchored_events(c, prepared.root) == 1


def test_same_input_same_root_and_no_second_anchor(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    c = registered(consortium)
    anchorer = Anchorer(c.client, engine, c.ops["A"])
    first = anchorer.anchor(prepare_path(folder, DS))
    again = anchorer.anchor(prepare_path(folder, DS))
    assert again.id == first.id
    assert again.status == "confirmed"
    assert anchored_events(c, bytes.fromhex(first.root[2:])) == 1


def test_root_anchored_elsewhere_is_refused(
    consortium: Consortium, engine: Engine, folder: Path, database_url: str
) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)
    c.transact(
        "DatasetRegistry", "anchor", DS, prepared.root, 3, keccak(text="m"), [], sender=c.ops["A"]
    )
    with pytest.raises(AnchorError, match="already anchored on chain"):
        Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)


def test_contract_refusal_marks_the_batch_failed(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)
    with pytest.raises(AnchorError, match="does not own dataset") as info:
        Anchorer(c.client, engine, c.ops["B"]).anchor(prepared)  # B does not own DS
    assert "refused" in str(info.value)
    with Session(engine) as session:
        batch = session.exec(select(VersionAnchoring)).one()
        assert batch.status == "failed"
        assert batch.error is not None and "does not own dataset" in batch.error
    # The leaves stay: once the owner anchors it, nothing has to be hashed again.
    retried = Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)
    assert retried.status == "confirmed"


@pytest.mark.parametrize("step", ["persisted", "recorded", "broadcast"])
def test_crash_at_each_step_then_resume(
    consortium: Consortium, engine: Engine, folder: Path, step: str
) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)

    def crash(at: str) -> None:
        if at == step:
            raise CrashError(at)

    with pytest.raises(CrashError):
        Anchorer(c.client, engine, c.ops["A"], crash_hook=crash).anchor(prepared)
    with Session(engine) as session:
        batch = session.exec(select(VersionAnchoring)).one()
        assert batch.status == ("pending" if step == "persisted" else "sent")
        assert len(session.exec(select(LeafRow)).all()) == 3  # no leaf lost
    resumed = Anchorer(c.client, engine, c.ops["A"]).resume()
    assert [b.status for b in resumed] == ["confirmed"]
    assert anchored_events(c, prepared.root) == 1
    assert Anchorer(c.client, engine, c.ops["A"]).resume() == []


def test_resume_after_the_nonce_was_used_elsewhere(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)

    def crash(at: str) -> None:
        if at == "recorded":
            raise CrashError(at)

    with pytest.raises(CrashError):
        Anchorer(c.client, engine, c.ops["A"], crash_hook=crash).anchor(prepared)
    with Session(engine) as session:
        lost_hash = session.exec(select(VersionAnchoring)).one().tx_hash
    # Another transaction from the same account takes the recorded nonce.
    c.transact(
        "DatasetRegistry",
        "registerDataset",
        dataset_id("OTHER"),
        keccak(text="m"),
        sender=c.ops["A"],
    )
    [batch] = Anchorer(c.client, engine, c.ops["A"]).resume()
    assert batch.status == "confirmed"
    assert batch.tx_hash != lost_hash
    assert anchored_events(c, prepared.root) == 1


def test_records_with_salts(consortium: Consortium, engine: Engine, tmp_path: Path) -> None:
    c = registered(consortium)
    data = tmp_path / "dibao.csv"
    data.write_text("编号,姓名,街道\nDB1,王明,湖滨街道\nDB2,李华,小营街道\n", encoding="utf-8")
    prepared = prepare_path(data, DS)
    assert prepared.kind == "record"
    assert prepared.tree.leaf_count == 2
    sidecar = tmp_path / "dibao.csv.salts.json"
    assert sidecar.exists()
    again = prepare_path(data, DS)  # reuses the sidecar's salts
    assert again.root == prepared.root
    batch = Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)
    with Session(engine) as session:
        leaves = session.exec(select(LeafRow).where(LeafRow.root == batch.root)).all()
        assert sorted(leaf.record_index for leaf in leaves) == [0, 1]
        assert all(leaf.content_hash is None and leaf.path is None for leaf in leaves)
    Indexer(c.client, c.deployment, engine).sync()
    with Session(engine) as session:
        assert session.exec(select(ChainEvent).where(ChainEvent.name == "VersionAnchored")).one()
