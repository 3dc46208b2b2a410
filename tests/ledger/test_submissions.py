"""Submission batches on real nodes and databases: sealed by size or age, anchored under
their own id, no leaf lost to a race with a seal, failures kept on the batch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger import catalogue, merkle
from ledger.anchoring import Anchorer, prepare_hashes
from ledger.chain.client import ChainClient
from ledger.db.engine import create_db_engine
from ledger.db.queries import UnknownDatasetError
from ledger.db.tables import DatasetRow, SubmissionBatch, SubmittedLeaf
from ledger.errors import InputError
from ledger.ids import code_hash, dataset_id
from ledger.indexer import Indexer
from ledger.submissions import (
    MAX_LEAVES_PER_REQUEST,
    NotOwnerError,
    SubmissionQueue,
    UnknownBatchError,
)
from tests.support import Consortium, dataset_of

CODE = "SUBMIT-TEST"
DS = dataset_of("B", CODE)
LATER = float(2**40)  # a "now" at which every collecting batch is old enough


def h(n: int) -> bytes:
    """A distinct 32-byte content hash."""
    return keccak(text=f"file {n}")


def root_of(leaves: list[tuple[bytes, str]]) -> str:
    return (
        "0x"
        + merkle.MerkleTree.of([list(leaf) for leaf in leaves], merkle.FILE_LEAF_TYPES).root.hex()
    )


@dataclass
class Setup:
    c: Consortium
    engine: Engine
    anchorer: Anchorer
    dataset: str  # 0x id, as the index stores it
    department: str  # the owner's 0x id

    def queue(self, **kwargs: float) -> SubmissionQueue:
        return SubmissionQueue(self.engine, **kwargs)  # type: ignore[arg-type]

    def anchored(self, root: str) -> bool:
        dataset, anchored = bytes.fromhex(self.dataset[2:]), bytes.fromhex(root[2:])
        return bool(self.c.call("DatasetRegistry", "isAnchored", dataset, anchored))


@pytest.fixture
def setup(consortium: Consortium, engine: Engine) -> Setup:
    """Dataset SUBMIT-TEST of department B, indexed; B's operator anchors."""
    c = consortium
    c.register_dataset("B", CODE, keccak(text="meta"))
    with Session(engine) as session:  # as the registering gateway keeps it
        catalogue.remember(session=session, texts=[("text", "meta")], source="test")
    Indexer(c.client, c.deployment, engine).sync()
    return Setup(
        c, engine, Anchorer(c.client, engine, c.ops["B"]), "0x" + DS.hex(), "0x" + c.ids["B"].hex()
    )


def created_at(engine: Engine, batch_id: str) -> int:
    with Session(engine) as session:
        batch = session.get(SubmissionBatch, batch_id)
        assert batch is not None
        return batch.created_at


def leaves_of(engine: Engine, batch_id: str) -> list[tuple[bytes, str]]:
    with Session(engine) as session:
        rows = session.exec(select(SubmittedLeaf).where(SubmittedLeaf.batch_id == batch_id)).all()
    return [(bytes.fromhex(r.content_hash[2:]), r.name) for r in rows]


# --------------------------------------------------------------------------- batching


def test_a_full_batch_is_due_at_once(setup: Setup) -> None:
    queue = setup.queue(max_leaves=3, max_wait=3600)
    first = queue.submit(setup.dataset, [(h(1), "a"), (h(2), "b")], department_id=setup.department)
    assert first["status"] == "collecting" and first["leaf_count"] == 2
    assert queue.due() == []
    second = queue.submit(setup.dataset, [(h(3), "c")], department_id=setup.department)
    assert second["batch_id"] == first["batch_id"] and second["leaf_count"] == 3
    assert queue.due() == [first["batch_id"]]
    third = queue.submit(setup.dataset, [(h(4), "d")], department_id=setup.department)
    assert third["batch_id"] != first["batch_id"]  # a full batch takes no more

    assert queue.flush(setup.anchorer) == [first["batch_id"]]
    done = queue.status(first["batch_id"])
    assert done["status"] == "confirmed" and done["leaf_count"] == 3
    assert done["root"] == root_of([(h(1), "a"), (h(2), "b"), (h(3), "c")])
    assert setup.anchored(done["root"])
    assert queue.status(third["batch_id"])["status"] == "collecting"


def test_a_batch_is_due_once_old_enough(setup: Setup) -> None:
    queue = setup.queue(max_leaves=1000, max_wait=60)
    batch = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    opened = created_at(setup.engine, batch["batch_id"])
    assert queue.flush(setup.anchorer, now=opened + 59) == []
    assert queue.status(batch["batch_id"])["status"] == "collecting"
    assert queue.flush(setup.anchorer, now=opened + 60) == [batch["batch_id"]]
    done = queue.status(batch["batch_id"])
    assert done["status"] == "confirmed" and done["root"] == root_of([(h(1), "a")])
    assert done["transaction"] and done["block_number"] is not None
    assert setup.c.client.w3.eth.get_transaction_receipt(done["transaction"])["status"] == 1


def test_duplicate_leaves_of_a_batch_count_once(setup: Setup) -> None:
    queue = setup.queue(max_leaves=1000, max_wait=0)
    first = queue.submit(
        setup.dataset, [(h(1), "a"), (h(1), "a"), (h(1), "b")], department_id=setup.department
    )
    assert first["leaf_count"] == 2  # same content under another name is another leaf
    again = queue.submit(setup.dataset, [(h(1), "a"), (h(2), "c")], department_id=setup.department)
    assert again["batch_id"] == first["batch_id"] and again["leaf_count"] == 3
    queue.flush(setup.anchorer, now=LATER)
    done = queue.status(first["batch_id"])
    assert done["leaf_count"] == 3
    assert done["root"] == root_of([(h(1), "a"), (h(1), "b"), (h(2), "c")])


class SealedUnderfoot(SubmissionQueue):
    """Another instance seals the batch between finding it and adding to it (once)."""

    raced = False

    def _collecting(self, dataset_id: str) -> str | None:
        batch_id = super()._collecting(dataset_id)
        if batch_id is not None and not self.raced:
            self.raced = True
            assert self._seal(batch_id)
        return batch_id


def test_a_submission_racing_a_seal_lands_in_a_new_batch(setup: Setup) -> None:
    queue = SealedUnderfoot(setup.engine, max_leaves=1000, max_wait=0, claim_timeout=0)
    first = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    second = queue.submit(setup.dataset, [(h(2), "b")], department_id=setup.department)
    assert queue.raced
    assert second["batch_id"] != first["batch_id"] and second["status"] == "collecting"
    assert queue.status(first["batch_id"])["status"] == "sealed"
    assert leaves_of(setup.engine, first["batch_id"]) == [(h(1), "a")]
    assert leaves_of(setup.engine, second["batch_id"]) == [(h(2), "b")]
    # A sealed batch refuses additions; once the sealer's claim lapses (claim_timeout=0
    # here), the sealed batch is taken over and anchored by the next flush.
    assert queue._add(first["batch_id"], [("0x" + h(3).hex(), "c")]) is False
    assert sorted(queue.flush(setup.anchorer, now=LATER)) == sorted(
        [first["batch_id"], second["batch_id"]]
    )
    for batch, leaf in ((first, (h(1), "a")), (second, (h(2), "b"))):
        done = queue.status(batch["batch_id"])
        assert done["status"] == "confirmed" and done["root"] == root_of([leaf])
        assert setup.anchored(done["root"])


def test_concurrent_submissions_and_flushes_lose_no_leaf(setup: Setup) -> None:
    queue = setup.queue(max_leaves=3, max_wait=0)
    submitted = [[(h(100 * t + i), f"t{t}/{i}") for i in range(4)] for t in range(3)]
    errors: list[BaseException] = []
    batches: set[str] = set()
    done = threading.Event()

    def submit(leaves: list[tuple[bytes, str]]) -> None:
        try:
            for leaf in leaves:
                batches.add(
                    queue.submit(setup.dataset, [leaf], department_id=setup.department)["batch_id"]
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    def flush() -> None:
        try:
            while not done.is_set():
                queue.flush(setup.anchorer, now=LATER)
        except BaseException as exc:
            errors.append(exc)

    flusher = threading.Thread(target=flush)
    submitters = [threading.Thread(target=submit, args=(leaves,)) for leaves in submitted]
    flusher.start()
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join(timeout=120)
    done.set()
    flusher.join(timeout=120)
    assert not errors, errors
    queue.flush(setup.anchorer, now=LATER)

    anchored: list[tuple[bytes, str]] = []
    for batch_id in batches:
        status = queue.status(batch_id)
        assert status["status"] == "confirmed", status
        leaves = leaves_of(setup.engine, batch_id)
        assert status["root"] == root_of(leaves) and setup.anchored(status["root"])
        anchored += leaves
    assert sorted(anchored) == sorted(leaf for leaves in submitted for leaf in leaves)


# --------------------------------------------------------------------------- failures


def test_a_contract_refusal_is_recorded_on_the_batch(setup: Setup) -> None:
    # The anchoring key operates department A, which does not own the dataset.
    c = setup.c
    queue = setup.queue(max_leaves=1, max_wait=3600)
    batch = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    assert queue.flush(Anchorer(c.client, setup.engine, c.ops["A"])) == [batch["batch_id"]]
    failed = queue.status(batch["batch_id"])
    assert failed["status"] == "failed"
    assert "DatasetRegistryNotDatasetOwner" in failed["error"] or "does not own" in failed["error"]
    assert not setup.anchored(root_of([(h(1), "a")]))
    assert queue.due() == []  # a failed batch is not retried by itself


def test_hashes_anchored_by_another_gateway_fail_the_batch(setup: Setup, tmp_path: Path) -> None:
    elsewhere = create_db_engine(f"sqlite:///{tmp_path / 'other-gateway.db'}")
    try:
        prepared = prepare_hashes([(h(1), "a")], DS, source="elsewhere")
        Anchorer(setup.c.client, elsewhere, setup.c.ops["B"]).anchor(prepared)
    finally:
        elsewhere.dispose()
    queue = setup.queue(max_leaves=1, max_wait=3600)
    batch = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    queue.flush(setup.anchorer)
    failed = queue.status(batch["batch_id"])
    assert failed["status"] == "failed"
    assert (
        f"dataset {setup.dataset} already holds version {root_of([(h(1), 'a')])}"
        in (failed["error"])
    )
    assert queue.due() == []


def test_hashes_anchored_in_another_departments_dataset_do_not_fail_the_batch(
    setup: Setup,
) -> None:
    """Department A anchors the very hashes first, in its own dataset of the same code (as a
    squatter would): B's batch is anchored all the same, a version of B's dataset."""
    c = setup.c
    theirs = c.register_dataset("A", CODE, keccak(text="meta A"))
    prepared = prepare_hashes([(h(1), "a")], theirs, source="first")
    assert Anchorer(c.client, setup.engine, c.ops["A"]).anchor(prepared).status == "confirmed"
    root = root_of([(h(1), "a")])
    assert not setup.anchored(root)  # not in B's dataset
    queue = setup.queue(max_leaves=1, max_wait=3600)
    batch = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    queue.flush(setup.anchorer)
    done = queue.status(batch["batch_id"])
    assert (done["status"], done["root"], done["error"]) == ("confirmed", root, None)
    assert setup.anchored(root)


def test_hashes_anchored_here_before_do_not_leave_the_batch_sealed(setup: Setup) -> None:
    queue = setup.queue(max_leaves=1, max_wait=3600)
    first = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    queue.flush(setup.anchorer)
    assert queue.status(first["batch_id"])["status"] == "confirmed"
    again = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    assert again["batch_id"] != first["batch_id"]
    queue.flush(setup.anchorer)
    assert queue.status(again["batch_id"])["status"] == "redirected"  # names the first batch
    assert queue.due() == []


class MinedDuringTheCheck(ChainClient):
    """The node mines the pending anchor just after ``isAnchored`` answered no (once armed)."""

    armed = False

    def call(self, contract: str, function: str, *args: Any, block: int | str = "latest") -> Any:
        result = super().call(contract, function, *args, block=block)
        if self.armed and function == "isAnchored":
            self.armed = False
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return result


@pytest.fixture
def manual_mining(setup: Setup) -> Iterator[None]:
    """Blocks are mined only on request (evm_setAutomine false) during the test."""
    provider = setup.c.w3.provider
    provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield
    finally:
        provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def test_a_batch_mined_while_its_status_is_checked_is_confirmed(
    setup: Setup, manual_mining: None
) -> None:
    client = MinedDuringTheCheck(setup.c.w3, setup.c.deployment.addresses)

    def arm(step: str) -> None:
        if step == "broadcast":  # the anchor is in the node's pool, not yet mined
            client.armed = True

    anchorer = Anchorer(
        client, setup.engine, setup.c.ops["B"], confirmation_timeout=30, crash_hook=arm
    )
    queue = setup.queue(max_leaves=1, max_wait=3600)
    batch = queue.submit(setup.dataset, [(h(1), "a")], department_id=setup.department)
    queue.flush(anchorer)
    assert setup.anchored(root_of([(h(1), "a")]))
    done = queue.status(batch["batch_id"])
    assert done["status"] == "confirmed" and done["error"] is None, done


def test_unknown_batches_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownBatchError, match="there is no batch"):
        SubmissionQueue(engine).status("0" * 32)


# --------------------------------------------------------------------------- input


@pytest.fixture
def indexed_dataset(engine: Engine) -> str:
    """A dataset row of department 0x11…, written straight into the index (no chain needed)."""
    dataset = "0x" + dataset_id(b"\x11" * 32, "INPUT-TEST").hex()
    with Session(engine) as session:
        session.add(
            DatasetRow(
                id=dataset,
                owner_department="0x" + "11" * 32,
                code_hash="0x" + code_hash("INPUT-TEST").hex(),
                metadata_hash="0x" + "00" * 32,
                registered_at=1,
                block_number=1,
                tx_hash="0x" + "22" * 32,
            )
        )
        session.commit()
    return dataset


@pytest.mark.parametrize(
    ("leaves", "message"),
    [
        ([], "at least one"),
        ([(h(1), "a")] * (MAX_LEAVES_PER_REQUEST + 1), f"at most {MAX_LEAVES_PER_REQUEST} hashes"),
        ([(h(1), "名" * 342)], "at most 1024 bytes"),  # 1026 bytes of UTF-8
        ([(h(1)[:31], "a")], "32 bytes"),
        ([(h(1) + b"\x00", "a")], "32 bytes"),
    ],
    ids=["empty", "too-many", "name-too-long", "short-hash", "long-hash"],
)
def test_bad_submissions_are_refused(
    engine: Engine, indexed_dataset: str, leaves: list[tuple[bytes, str]], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        SubmissionQueue(engine).submit(indexed_dataset, leaves, department_id="0x" + "11" * 32)
    with Session(engine) as session:
        assert session.exec(select(SubmissionBatch)).all() == []


def test_limits_are_inclusive(engine: Engine, indexed_dataset: str) -> None:
    queue = SubmissionQueue(engine, max_leaves=2 * MAX_LEAVES_PER_REQUEST)
    owner = "0x" + "11" * 32
    many = [(h(i), "") for i in range(MAX_LEAVES_PER_REQUEST)]
    assert (
        queue.submit(indexed_dataset, many, department_id=owner)["leaf_count"]
        == MAX_LEAVES_PER_REQUEST
    )
    long_name = "名" * 341 + "a"  # 1024 bytes of UTF-8
    assert (
        queue.submit(indexed_dataset, [(h(1), long_name)], department_id=owner)["leaf_count"]
        == MAX_LEAVES_PER_REQUEST + 1
    )


def test_submissions_need_an_indexed_dataset_of_this_department(
    engine: Engine, indexed_dataset: str
) -> None:
    queue = SubmissionQueue(engine)
    with pytest.raises(UnknownDatasetError, match="no dataset"):
        queue.submit("0x" + "33" * 32, [(h(1), "a")], department_id="0x" + "11" * 32)
    with pytest.raises(NotOwnerError, match="belongs to department 0x1111"):
        queue.submit(indexed_dataset, [(h(1), "a")], department_id="0x" + "44" * 32)


@pytest.mark.parametrize(
    ("max_leaves", "max_wait", "claim_timeout"), [(0, 5.0, 60.0), (1, -1.0, 60.0), (1, 5.0, -1.0)]
)
def test_batch_limits_must_be_sensible(
    engine: Engine, max_leaves: int, max_wait: float, claim_timeout: float
) -> None:
    with pytest.raises(InputError, match="max_leaves >= 1, max_wait >= 0 and claim_timeout >= 0"):
        SubmissionQueue(
            engine, max_leaves=max_leaves, max_wait=max_wait, claim_timeout=claim_timeout
        )
