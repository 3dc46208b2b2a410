"""Anchoring on real nodes and databases: durable batches, crash recovery, exactly once."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger import merkle
from ledger.anchoring import Anchorer, AnchorError, PreparedVersion, prepare_path
from ledger.chain.reads import read_version
from ledger.db.engine import create_db_engine
from ledger.db.tables import ChainEvent, LeafRow, TreeBlob, VersionAnchoring, VersionRow
from ledger.errors import TransactionFailedError
from ledger.ids import version_id
from ledger.indexer import Indexer
from tests.support import Consortium, dataset_of, fresh_database

DS = dataset_of("A", "ANCHOR-TEST")


class CrashError(Exception):
    """Stands for the gateway dying at a given step."""


def registered(c: Consortium) -> Consortium:
    c.register_dataset("A", "ANCHOR-TEST", keccak(text="meta"))
    return c


def owners_anchorer(c: Consortium, engine: Engine) -> tuple[Consortium, Anchorer]:
    """The test dataset registered, and its owner's (department A's) anchorer."""
    registered(c)
    return c, Anchorer(c.client, engine, c.ops["A"])


def anchor_dying_at(c: Consortium, engine: Engine, prepared: PreparedVersion, step: str) -> None:
    """Department A's gateway anchors ``prepared`` and dies at ``step``."""

    def crash(at: str) -> None:
        if at == step:
            raise CrashError(at)

    with pytest.raises(CrashError):
        Anchorer(c.client, engine, c.ops["A"], crash_hook=crash).anchor(prepared)


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
    version = c.call("DatasetRegistry", "version", DS, prepared.root)
    assert version[0] == 3  # leafCount
    assert version[2] == batch.block_number
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
    c, anchorer = owners_anchorer(consortium, engine)
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
    with pytest.raises(AnchorError) as info:
        Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)
    assert str(info.value) == (
        f"dataset 0x{DS.hex()} already holds version 0x{prepared.root.hex()} on chain "
        "(anchored by another gateway of its department, or earlier)."
    )
    with Session(engine) as session:  # nothing was kept for a version it cannot anchor
        assert session.exec(select(VersionAnchoring)).all() == []


def stored(engine: Engine, root: str) -> tuple[int, int, list[tuple[str, str, str]]]:
    """(leaves of ``root``, trees of ``root``, every anchoring as (dataset, root, status))."""
    with Session(engine) as session:
        leaves = session.exec(select(LeafRow).where(LeafRow.root == root)).all()
        trees = session.exec(select(TreeBlob).where(TreeBlob.root == root)).all()
        anchorings = session.exec(select(VersionAnchoring)).all()
        return (
            len(leaves),
            len(trees),
            sorted((a.dataset_id, a.root, a.status) for a in anchorings),
        )


@pytest.mark.parametrize("databases", ["shared", "one-each"])
def test_the_same_folder_anchored_into_datasets_of_two_departments(
    consortium: Consortium,
    engine: Engine,
    folder: Path,
    database_url: str,
    tmp_path: Path,
    databases: str,
) -> None:
    """Departments A and B each register their own dataset (of the same catalogue code) and
    anchor the same content through their own gateways: nobody can anchor a root first to
    block the other, both versions confirm, each attributed to its department. Sharing one
    database, the leaf store and tree are kept once for the root, beside two anchorings."""
    c = registered(consortium)
    theirs = c.register_dataset("B", "ANCHOR-TEST", keccak(text="meta B"))
    assert theirs != DS
    with contextlib.ExitStack() as stack:
        if databases == "shared":
            engine_b = engine
        else:
            kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
            (tmp_path / "b").mkdir()
            engine_b = create_db_engine(stack.enter_context(fresh_database(kind, tmp_path / "b")))
            stack.callback(engine_b.dispose)
        ours = Anchorer(c.client, engine, c.ops["A"]).anchor(prepare_path(folder, DS))
        other = Anchorer(c.client, engine_b, c.ops["B"]).anchor(prepare_path(folder, theirs))
        assert (ours.status, other.status) == ("confirmed", "confirmed")
        assert ours.root == other.root
        root = bytes.fromhex(ours.root[2:])
        assert (ours.dataset_id, other.dataset_id) == ("0x" + DS.hex(), "0x" + theirs.hex())
        for batch, dataset in ((ours, DS), (other, theirs)):
            version = read_version(c.client, dataset, root)
            assert (version.leaf_count, version.block_number) == (3, batch.block_number)
            assert version.revoked_at == 0
        assert anchored_events(c, root) == 2
        mine = (ours.dataset_id, ours.root, "confirmed")
        yours = (other.dataset_id, other.root, "confirmed")
        if databases == "shared":
            assert stored(engine, ours.root) == (3, 1, sorted([mine, yours]))
        else:
            assert stored(engine, ours.root) == (3, 1, [mine])
            assert stored(engine_b, ours.root) == (3, 1, [yours])
        # Anchoring either again finds its own anchoring; neither refuses the other.
        again = Anchorer(c.client, engine_b, c.ops["B"]).anchor(prepare_path(folder, theirs))
        assert (again.id, again.status) == (other.id, "confirmed")
        assert anchored_events(c, root) == 2
        Indexer(c.client, c.deployment, engine).sync()
        with Session(engine) as session:
            versions = session.exec(select(VersionRow).where(VersionRow.root == ours.root)).all()
            assert sorted((v.id, v.dataset_id, v.department_id) for v in versions) == sorted(
                [
                    ("0x" + version_id(DS, root).hex(), ours.dataset_id, "0x" + c.ids["A"].hex()),
                    (
                        "0x" + version_id(theirs, root).hex(),
                        other.dataset_id,
                        "0x" + c.ids["B"].hex(),
                    ),
                ]
            )


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


def test_a_refused_version_never_blocks_its_content(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    c, anchorer = owners_anchorer(consortium, engine)
    unregistered = dataset_of("A", "NOT-REGISTERED")
    with pytest.raises(AnchorError, match="refused"):
        anchorer.anchor(prepare_path(folder, unregistered))
    [refused] = anchorer.failed()
    assert refused.dataset_id == "0x" + unregistered.hex() and refused.status == "failed"
    assert anchorer.resume() == []  # nothing interrupted: a refusal is not resumed
    # The same content in the registered dataset: anchored, the refusal notwithstanding.
    anchored = anchorer.anchor(prepare_path(folder, DS))
    assert anchored.status == "confirmed" and anchored.root == refused.root
    assert c.call("DatasetRegistry", "isAnchored", DS, bytes.fromhex(anchored.root[2:]))
    # Given up: no longer listed; the leaves stay with the version that holds them.
    abandoned = anchorer.abandon(refused.id)
    assert abandoned.status == "abandoned" and anchorer.failed() == []
    with Session(engine) as session:
        assert len(session.exec(select(LeafRow).where(LeafRow.root == anchored.root)).all()) == 3
    # Once the dataset is registered, anchoring the abandoned version again succeeds.
    c.register_dataset("A", "NOT-REGISTERED", keccak(text="meta"))
    again = anchorer.anchor(prepare_path(folder, unregistered))
    assert (again.id, again.status) == (refused.id, "confirmed")


def test_a_refused_version_is_retried_with_what_the_new_call_prepared(
    consortium: Consortium, engine: Engine, folder: Path, tmp_path: Path
) -> None:
    """A refusal for a typo (a parent that is not anchored) is mended by anchoring again with
    the right parent: the retry sends the new parents, not the refused ones."""
    c, anchorer = owners_anchorer(consortium, engine)
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "first.txt").write_text("v1", encoding="utf-8")
    v1 = anchorer.anchor(prepare_path(tmp_path / "v1", DS))
    parent = version_id(DS, bytes.fromhex(v1.root[2:]))
    typo = keccak(text="no such version")
    with pytest.raises(AnchorError, match="is not anchored"):
        anchorer.anchor(prepare_path(folder, DS, parents=[typo]))
    [refused] = anchorer.failed()
    retried = anchorer.anchor(prepare_path(folder, DS, parents=[parent]))
    assert (retried.id, retried.status) == (refused.id, "confirmed")
    assert retried.parents == f'["0x{parent.hex()}"]' and retried.error is None
    [log] = (
        c.client.contract("DatasetRegistry")
        .events.VersionAnchored()
        .get_logs(
            from_block=c.deployment.block_number,
            argument_filters={"root": bytes.fromhex(retried.root[2:])},
        )
    )
    assert [bytes(p) for p in log["args"]["parents"]] == [parent]


def test_abandoning_loses_to_a_retry_that_came_first(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    """Abandon checks and changes the status in one statement: an anchoring another process
    just set back to pending (retrying it) is not given up under it."""
    _, anchorer = owners_anchorer(consortium, engine)
    with pytest.raises(AnchorError, match="refused"):
        anchorer.anchor(prepare_path(folder, dataset_of("A", "NOT-REGISTERED")))
    [refused] = anchorer.failed()
    with Session(engine) as session:  # what another process's retry has just done
        row = session.get(VersionAnchoring, refused.id)
        assert row is not None
        row.status = "pending"
        session.add(row)
        session.commit()
    with pytest.raises(AnchorError, match=f"anchoring {refused.id} is pending: only a failed"):
        anchorer.abandon(refused.id)
    with Session(engine) as session:
        row = session.get(VersionAnchoring, refused.id)
        assert row is not None and row.status == "pending"


def test_a_refused_version_the_chain_holds_by_now_is_not_sent_again(
    consortium: Consortium, engine: Engine, folder: Path, tmp_path: Path
) -> None:
    c = consortium
    here = Anchorer(c.client, engine, c.ops["A"])
    with pytest.raises(AnchorError, match="refused"):
        here.anchor(prepare_path(folder, DS))  # not registered yet
    registered(c)
    # Another gateway of the department (its own database) anchors the version meanwhile.
    with fresh_database("sqlite", tmp_path / "other") as url:
        other = create_db_engine(url)
        try:
            done = Anchorer(c.client, other, c.ops["A"]).anchor(prepare_path(folder, DS))
            assert done.status == "confirmed"
        finally:
            other.dispose()
    with pytest.raises(AnchorError, match="already holds version"):
        here.anchor(prepare_path(folder, DS))
    assert anchored_events(c, prepare_path(folder, DS).root) == 1
    [still] = here.failed()  # left for its operator to abandon
    assert here.abandon(still.id).status == "abandoned"


def test_each_signer_sees_and_abandons_only_its_own_refusals(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    c = registered(consortium)
    theirs = Anchorer(c.client, engine, c.ops["B"])
    with pytest.raises(AnchorError, match="does not own dataset"):
        theirs.anchor(prepare_path(folder, DS))  # B does not own DS: refused
    [refused] = theirs.failed()
    ours = Anchorer(c.client, engine, c.ops["A"])
    assert ours.failed() == []
    with pytest.raises(AnchorError, match=f"this gateway has no anchoring {refused.id}"):
        ours.abandon(refused.id)
    # The owner anchoring the same version takes it over, as its sender.
    anchored = ours.anchor(prepare_path(folder, DS))
    assert (anchored.id, anchored.status, anchored.sender) == (
        refused.id,
        "confirmed",
        c.ops["A"].address,
    )
    assert theirs.failed() == []


def test_only_a_failed_anchoring_can_be_abandoned(
    consortium: Consortium, engine: Engine, folder: Path
) -> None:
    _, anchorer = owners_anchorer(consortium, engine)
    confirmed = anchorer.anchor(prepare_path(folder, DS))
    with pytest.raises(AnchorError, match=f"anchoring {confirmed.id} is confirmed: only a failed"):
        anchorer.abandon(confirmed.id)
    with pytest.raises(AnchorError, match="this gateway has no anchoring nope"):
        anchorer.abandon("nope")


@pytest.mark.parametrize("step", ["persisted", "recorded", "broadcast"])
def test_crash_at_each_step_then_resume(
    consortium: Consortium, engine: Engine, folder: Path, step: str
) -> None:
    c = registered(consortium)
    prepared = prepare_path(folder, DS)
    anchor_dying_at(c, engine, prepared, step)
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
    anchor_dying_at(c, engine, prepared, "recorded")
    with Session(engine) as session:
        lost_hash = session.exec(select(VersionAnchoring)).one().tx_hash
    # Another transaction from the same account takes the recorded nonce.
    c.register_dataset("A", "OTHER", keccak(text="m"))
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


_PREPARE_AND_MEASURE = """
import resource, sys
from pathlib import Path
from ledger.anchoring import prepare_path
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
prepared = prepare_path(Path(sys.argv[1]), bytes(32))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(prepared.record_count, prepared.root.hex(), before, after)
"""


def test_records_are_prepared_in_bounded_memory(tmp_path: Path) -> None:
    """2,000,000 CSV rows (about 60 MiB) are prepared (read, salted, hashed, sorted, tree)
    with the process growing by less than 450 MiB: 32 bytes per row for the leaves, their
    sorted copy and the tree's nodes, 4 for the row order, nothing per row in Python. (The
    row-by-row version held a few hundred bytes of Python objects per row: 656 MB at 1M.)"""
    rows = 2_000_000
    data = tmp_path / "big.csv"
    with data.open("w", encoding="utf-8") as handle:
        handle.write("编号,姓名,街道,家庭人口,月保障金\n")
        for start in range(0, rows, 100_000):
            handle.write(
                "".join(
                    f"DB{i:07d},王明,湖滨街道,{i % 5 + 1},1250\n"
                    for i in range(start, start + 100_000)
                )
            )
    result = subprocess.run(
        [sys.executable, "-c", _PREPARE_AND_MEASURE, str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    count, root, before, after = result.stdout.split()
    assert int(count) == rows
    assert len(bytes.fromhex(root)) == 32
    grown_mib = (int(after) - int(before)) / 1024  # ru_maxrss is in KiB on Linux
    assert grown_mib < 450, f"preparing {rows:,} rows grew the process by {grown_mib:.0f} MiB"
    with (tmp_path / "big.csv.salts.json").open(encoding="utf-8") as sidecar:
        head = [next(sidecar) for _ in range(7)]
    assert f'  "rows": {rows},\n' in head


def test_records_leaf_store_matches_the_tree(
    consortium: Consortium, engine: Engine, tmp_path: Path
) -> None:
    """Every stored record leaf sits at its sorted index with its row number (rows made a
    chunk at a time from the sorted leaves and the row order), and the stored tree blob
    rebuilds the anchored tree."""
    c = registered(consortium)
    data = tmp_path / "rows.csv"
    data.write_text("n,v\n" + "".join(f"{i},{i % 3}\n" for i in range(300)), encoding="utf-8")
    prepared = prepare_path(data, DS)
    batch = Anchorer(c.client, engine, c.ops["A"]).anchor(prepared)
    with Session(engine) as session:
        leaves = session.exec(select(LeafRow).where(LeafRow.root == batch.root)).all()
        blob = session.exec(select(TreeBlob).where(TreeBlob.root == batch.root)).one()
    assert merkle.MerkleTree.from_sorted_leaves(blob.sorted_leaves) == prepared.tree
    assert sorted(leaf.sorted_index for leaf in leaves) == list(range(300))
    assert sorted(leaf.record_index or 0 for leaf in leaves) == list(range(300))
    for leaf in leaves:
        assert leaf.kind == "record"
        assert leaf.leaf_hash == "0x" + prepared.tree.leaf_at(leaf.sorted_index).hex()
        assert leaf.leaf_hash == "0x" + prepared.leaf_hashes[leaf.record_index or 0].hex()


def test_a_version_another_transaction_anchored_waits_for_the_confirmations_too(
    consortium: Consortium, engine: Engine, folder: Path, tmp_path: Path
) -> None:
    """Our transaction was recorded but never sent; another gateway of the department anchored
    the same version meanwhile (taking the nonce). The version found on chain counts only once
    it is as deep as our own receipt would have to be."""
    c = registered(consortium)
    prepared = prepare_path(folder, DS)
    anchor_dying_at(c, engine, prepared, "recorded")
    c.register_dataset("A", "OTHER", keccak(text="m"))  # takes the recorded transaction's nonce
    with fresh_database("sqlite", tmp_path / "other") as url:
        other = create_db_engine(url)
        try:
            theirs = Anchorer(c.client, other, c.ops["A"]).anchor(prepare_path(folder, DS))
        finally:
            other.dispose()
    deep = Anchorer(c.client, engine, c.ops["A"], confirmations=3, confirmation_timeout=0.5)
    with pytest.raises(TransactionFailedError, match=r"has not reached 3 confirmations"):
        deep.resume()
    for _ in range(2):
        c.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    [batch] = deep.resume()
    assert (batch.status, batch.block_number) == ("confirmed", theirs.block_number)
    assert anchored_events(c, prepared.root) == 1
