"""The indexer on real nodes (Hardhat, Anvil) and real databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.chain.reads import read_version
from ledger.db.tables import (
    PROJECTION_TABLES,
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    AuditorRow,
    ChainEvent,
    CommitmentParticipantRow,
    CommitmentRow,
    DatasetRow,
    DepartmentRow,
    IndexedBlock,
    IndexerCheckpoint,
    OperatorRow,
    VersionParentRow,
    VersionRow,
)
from ledger.ids import AgreementTerms, code_hash, version_id
from ledger.indexer import Indexer, IndexerError
from tests.support import Consortium, dataset_of

CODE = "IDX-DATASET"
DS = dataset_of("A", CODE)


def h(label: str) -> bytes:
    return keccak(text=label)


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row (and the event log, without its surrogate key), sorted.

    ``indexed_block`` is left out: it records where each pass ended, which differs by design;
    so is the checkpoint's ``synced_at``, the wall-clock time of a pass.
    """
    result: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as session:
        for table in PROJECTION_TABLES:
            if table is IndexedBlock:
                continue
            rows = session.exec(select(table)).all()
            result[table.__tablename__] = sorted(  # type: ignore[attr-defined]
                tuple(
                    (k, v)
                    for k, v in sorted(r.model_dump().items())
                    if (k != "id" or table is not ChainEvent) and k != "synced_at"
                )
                for r in rows
            )
    return result


def activity(c: Consortium) -> tuple[bytes, bytes]:
    """Register and anchor, share under an agreement with a receipt, run a commitment."""
    a, b, cc = c.ops["A"], c.ops["B"], c.ops["C"]
    c.register_dataset("A", CODE, h("meta"))
    c.transact("DatasetRegistry", "anchor", DS, h("v1"), 10, h("m1"), [], sender=a)
    v1 = version_id(DS, h("v1"))
    c.transact("DatasetRegistry", "anchor", DS, h("v2"), 12, h("m2"), [v1], sender=a)
    now = c.now()
    terms = AgreementTerms(
        c.ids["A"], c.ids["B"], (DS,), h("purpose"), h("law"), h("terms"), now - 100, now + 10_000
    )
    agreement = bytes(
        c.transact("SharingAgreements", "propose", terms.as_tuple(), sender=a).event(
            "AgreementProposed"
        )["agreementId"]
    )
    c.transact("SharingAgreements", "accept", agreement, sender=b)
    accepted = c.now()
    c.advance(60)  # a receipt's period lies inside the agreement's effective window, in the past
    c.transact(
        "SharingAgreements",
        "recordAccess",
        agreement,
        h("log"),
        5,
        accepted,
        accepted + 30,
        sender=b,
    )
    tx = c.transact(
        "JointCommitments",
        "propose",
        h("matter"),
        [c.ids["A"], c.ids["C"]],
        [h("d1"), h("d2")],
        now + 5000,
        sender=a,
    )
    commitment = bytes(tx.event("CommitmentProposed")["commitmentId"])
    c.transact("JointCommitments", "sign", commitment, sender=cc)
    c.transact("JointCommitments", "reportProgress", commitment, h("e1"), True, sender=a)
    return agreement, commitment


def test_projects_every_kind_of_event(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    agreement, commitment = activity(c)
    result = Indexer(c.client, c.deployment, engine).sync()
    assert result.to_block == c.w3.eth.block_number
    assert result.lag == 0
    with Session(engine) as session:
        depts = {d.id: d for d in session.exec(select(DepartmentRow)).all()}
        assert {d.name for d in depts.values()} == set(c.names.values())
        assert {o.account for o in session.exec(select(OperatorRow)).all()} == {
            op.address for op in c.ops.values()
        }
        dataset = session.get(DatasetRow, hx(DS))
        assert dataset is not None
        assert dataset.owner_department == hx(c.ids["A"])
        assert dataset.code_hash == hx(code_hash(CODE))
        v1, v2 = (session.get(VersionRow, hx(version_id(DS, h(v)))) for v in ("v1", "v2"))
        assert v1 is not None and v2 is not None
        assert (v2.root, v2.leaf_count, v2.dataset_id, v2.metadata_hash) == (
            hx(h("v2")),
            12,
            hx(DS),
            hx(h("m2")),
        )
        parents = session.exec(select(VersionParentRow)).all()
        assert [(p.version_id, p.position, p.parent) for p in parents] == [(v2.id, 0, v1.id)]
        row = session.get(AgreementRow, hx(agreement))
        assert row is not None
        assert (row.status, row.provider, row.consumer) == (
            "active",
            hx(c.ids["A"]),
            hx(c.ids["B"]),
        )
        assert row.accepted_by == c.ops["B"].address
        assert [d.dataset_id for d in session.exec(select(AgreementDatasetRow)).all()] == [hx(DS)]
        receipt = session.exec(select(AccessReceiptRow)).one()
        assert (receipt.entry_count, receipt.log_root) == (5, hx(h("log")))
        crow = session.get(CommitmentRow, hx(commitment))
        assert crow is not None
        assert crow.status == "active"
        done = session.get(CommitmentParticipantRow, (hx(commitment), hx(c.ids["A"])))
        assert done is not None
        assert done.done_at is not None and done.report_count == 1
        names = [
            e.name
            for e in session.exec(
                select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index)
            ).all()
        ]  # type: ignore[arg-type]
        assert names[:2] == ["DepartmentAdmitted", "OperatorAdded"]
        assert names[-1] == "ProgressReported"
        # Each event is filed under a department and a subject, for the audit trail's filters.
        keys = {
            (e.name, e.department_id, e.subject_id) for e in session.exec(select(ChainEvent)).all()
        }
        assert ("DepartmentAdmitted", hx(c.ids["A"]), hx(c.ids["A"])) in keys
        assert ("OperatorAdded", hx(c.ids["B"]), c.ops["B"].address) in keys
        assert ("VersionAnchored", hx(c.ids["A"]), hx(h("v2"))) in keys
        assert ("AgreementAccepted", hx(c.ids["B"]), hx(agreement)) in keys
        # filed under the proposing department (A, the provider), not the consumer
        assert ("AgreementProposed", hx(c.ids["A"]), hx(agreement)) in keys
        assert ("CommitmentSigned", hx(c.ids["C"]), hx(commitment)) in keys
        args = json.loads(
            session.exec(select(ChainEvent).where(ChainEvent.name == "AgreementProposed"))
            .one()
            .args
        )
        assert args["terms"]["datasetIds"] == [hx(DS)]


def test_incremental_index_equals_full_reindex(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    indexer = Indexer(c.client, c.deployment, engine, chunk=3)
    indexer.sync()
    agreement, _ = activity(c)
    indexer.sync(max_blocks=2)
    indexer.sync()
    c.transact("SharingAgreements", "revoke", agreement, h("why"), sender=c.ops["B"])
    indexer.sync()
    incremental = dump(engine)
    assert incremental["agreement"][0]  # something was indexed
    indexer.reindex()
    assert dump(engine) == incremental


def test_reorg_rolls_back_orphaned_events(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    a = c.ops["A"]
    indexer = Indexer(c.client, c.deployment, engine)
    c.register_dataset("A", CODE, h("meta"))
    indexer.sync()
    fork = c.w3.eth.block_number
    snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    c.transact("DatasetRegistry", "anchor", DS, h("orphan"), 10, h("m"), [], sender=a)
    indexer.sync()
    with Session(engine) as session:
        assert session.get(VersionRow, hx(version_id(DS, h("orphan")))) is not None
    c.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    # The other branch: a different version, and one more block so it is longer.
    c.transact("DatasetRegistry", "anchor", DS, h("canonical"), 11, h("m"), [], sender=a)
    c.advance(1)
    result = indexer.sync()
    assert result.reorged_from == fork + 1
    with Session(engine) as session:
        assert session.get(VersionRow, hx(version_id(DS, h("orphan")))) is None
        assert session.get(VersionRow, hx(version_id(DS, h("canonical")))) is not None
        roots = [json.loads(e.args).get("root") for e in session.exec(select(ChainEvent)).all()]
        assert hx(h("orphan")) not in roots
    incremental = dump(engine)
    indexer.reindex()
    assert dump(engine) == incremental


def test_confirmations_hold_back_recent_blocks(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    c.register_dataset("A", CODE, h("meta"))
    head = c.w3.eth.block_number
    result = Indexer(c.client, c.deployment, engine, confirmations=3).sync()
    assert result.to_block == head - 2
    with Session(engine) as session:
        assert session.get(DatasetRow, hx(DS)) is None
    c.advance(1)
    c.advance(1)
    Indexer(c.client, c.deployment, engine, confirmations=3).sync()
    with Session(engine) as session:
        assert session.get(DatasetRow, hx(DS)) is not None


def test_two_instances_share_one_database(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    first, second = Indexer(c.client, c.deployment, engine), Indexer(c.client, c.deployment, engine)
    activity(c)
    first.sync()
    assert second.sync().events == 0
    with Session(engine) as session:
        events = session.exec(select(ChainEvent)).all()
        assert len(events) == len({(e.block_number, e.log_index) for e in events})


def test_database_of_another_deployment_is_refused(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    Indexer(c.client, c.deployment, engine).sync()
    with Session(engine) as session:
        checkpoint = session.get(IndexerCheckpoint, 1)
        assert checkpoint is not None
        checkpoint.registry_address = "0x000000000000000000000000000000000000dEaD"
        session.add(checkpoint)
        session.commit()
    with pytest.raises(
        IndexerError, match=r"check XIETONG_RPC_URL and XIETONG_DEPLOYMENT \(`xietong doctor`\)"
    ):
        Indexer(c.client, c.deployment, engine).sync()


def test_reindex_keeps_the_leaf_store(consortium: Consortium, engine: Engine) -> None:
    from ledger.db.tables import LeafRow

    c = consortium
    indexer = Indexer(c.client, c.deployment, engine)
    with Session(engine) as session:
        session.add(
            LeafRow(
                root=hx(h("r")),
                leaf_hash=hx(h("l")),
                sorted_index=0,
                kind="file",
                content_hash=hx(h("c")),
                path="a.txt",
            )
        )
        session.commit()
    indexer.reindex()
    with Session(engine) as session:
        assert len(session.exec(select(LeafRow)).all()) == 1


def more_activity(c: Consortium) -> str:
    """Membership governance (an auditor granted by proposal) and an operator removed and added
    again, all in a few blocks: the events ``activity`` leaves out."""
    a, b = c.ops["A"], c.ops["B"]
    auditor, operator = c.spare(5), c.spare(6)
    zero = b"\0" * 32
    created = c.transact("DepartmentRegistry", "propose", 3, zero, "", auditor.address, sender=a)
    proposal = int(created.event("ProposalCreated")["proposalId"])
    c.transact("DepartmentRegistry", "acceptRole", proposal, sender=auditor)  # its consent
    c.transact("DepartmentRegistry", "approve", proposal, sender=b)
    approved = c.transact("DepartmentRegistry", "approve", proposal, sender=c.ops["C"])
    if not any(name == "ProposalExecuted" for name, _ in approved.events):
        c.transact("DepartmentRegistry", "execute", proposal, sender=a)
    c.enrol(a, operator)
    c.transact("DepartmentRegistry", "removeOperator", operator.address, sender=a)
    c.enrol(a, operator)
    return str(operator.address)


def test_row_removed_and_added_again_in_one_pass(consortium: Consortium, engine: Engine) -> None:
    c = consortium
    activity(c)
    operator = more_activity(c)
    indexer = Indexer(c.client, c.deployment, engine)
    indexer.sync()  # everything in one chunk, one transaction
    with Session(engine) as session:
        row = session.get(OperatorRow, operator)
        assert row is not None
        assert row.department_id == hx(c.ids["A"])
        assert len(session.exec(select(AuditorRow)).all()) == 2
    once = dump(engine)
    Indexer(c.client, c.deployment, engine, chunk=1).reindex()  # one block per pass
    assert dump(engine) == once


# --------------------------------------------------------------------------- versions per dataset


def assert_datasets_and_versions_match_chain(c: Consortium, engine: Engine) -> None:
    """Every dataset and version row says what the registry holds: the ids are the contract's
    derivations (``computeDatasetId``, ``computeVersionId``) of what the row stores, and each
    version's leaf count, times, block and revocation are ``version(dataset, root)``."""
    with Session(engine) as session:
        datasets = session.exec(select(DatasetRow)).all()
        versions = session.exec(select(VersionRow)).all()
    assert datasets and versions
    for dataset in datasets:
        owner, code = bytes.fromhex(dataset.owner_department[2:]), dataset.code_hash
        assert hx(c.call("DatasetRegistry", "computeDatasetId", owner, code)) == dataset.id
        assert hx(c.call("DatasetRegistry", "ownerOf", dataset.id)) == dataset.owner_department
        assert c.call("DatasetRegistry", "dataset", dataset.id)[1] == dataset.registered_at
    for version in versions:
        assert (
            hx(c.call("DatasetRegistry", "computeVersionId", version.dataset_id, version.root))
            == version.id
        )
        record = read_version(
            c.client, bytes.fromhex(version.dataset_id[2:]), bytes.fromhex(version.root[2:])
        )
        assert (record.leaf_count, record.anchored_at, record.block_number) == (
            version.leaf_count,
            version.anchored_at,
            version.block_number,
        )
        assert (record.revoked_at or None) == version.revoked_at


def test_the_same_root_in_two_datasets_is_two_versions(
    consortium: Consortium, engine: Engine
) -> None:
    """One content anchored in A's dataset, in B's dataset of the same code and in a second
    dataset of A: three versions, each of its own dataset and department; a child names its
    parent by version id; revoking one of them revokes only that one. The index equals the
    chain, and a reindex and a replay of the stored events give the same tables."""
    c = consortium
    a, b = c.ops["A"], c.ops["B"]
    ours, theirs, other = (
        c.register_dataset("A", CODE, h("meta")),
        c.register_dataset("B", CODE, h("meta B")),
        c.register_dataset("A", "IDX-OTHER", h("meta 2")),
    )
    assert len({ours, theirs, other}) == 3
    root = h("shared content")
    for dataset, sender in ((ours, a), (theirs, b), (other, a)):
        c.transact("DatasetRegistry", "anchor", dataset, root, 7, h("m"), [], sender=sender)
    parent = version_id(theirs, root)  # B's version, a parent of a version of A
    c.transact("DatasetRegistry", "anchor", ours, h("child"), 8, h("m"), [parent], sender=a)
    c.transact("DatasetRegistry", "revokeVersion", ours, root, h("why"), sender=a)
    indexer = Indexer(c.client, c.deployment, engine)
    indexer.sync()
    with Session(engine) as session:
        rows = session.exec(select(VersionRow).where(VersionRow.root == hx(root))).all()
        assert sorted((r.id, r.dataset_id, r.department_id) for r in rows) == sorted(
            [
                (hx(version_id(ours, root)), hx(ours), hx(c.ids["A"])),
                (hx(version_id(theirs, root)), hx(theirs), hx(c.ids["B"])),
                (hx(version_id(other, root)), hx(other), hx(c.ids["A"])),
            ]
        )
        revoked = {r.dataset_id: (r.revoked_at, r.revoke_reason) for r in rows}
        assert revoked[hx(ours)][0] is not None and revoked[hx(ours)][1] == hx(h("why"))
        assert revoked[hx(theirs)] == revoked[hx(other)] == (None, None)
        codes = {d.id: d.code_hash for d in session.exec(select(DatasetRow)).all()}
        assert codes[hx(ours)] == codes[hx(theirs)] == hx(code_hash(CODE))
        assert codes[hx(other)] == hx(code_hash("IDX-OTHER"))
        child = hx(version_id(ours, h("child")))
        parents = session.exec(select(VersionParentRow)).all()
        assert [(p.version_id, p.position, p.parent) for p in parents] == [(child, 0, hx(parent))]
    assert_datasets_and_versions_match_chain(c, engine)
    once = dump(engine)
    indexer.reindex()
    assert dump(engine) == once
    with Session(engine) as session:  # the replay of a reorg: from the stored events' args
        indexer._rebuild_state(session)
        session.commit()
    assert dump(engine) == once


def test_the_index_of_every_kind_of_event_equals_the_chain(
    consortium: Consortium, engine: Engine
) -> None:
    c = consortium
    activity(c)
    c.transact("DatasetRegistry", "revokeVersion", DS, h("v1"), h("why"), sender=c.ops["A"])
    Indexer(c.client, c.deployment, engine, chunk=2).sync()
    assert_datasets_and_versions_match_chain(c, engine)
    with Session(engine) as session:
        revoked = session.get(VersionRow, hx(version_id(DS, h("v1"))))
        kept = session.get(VersionRow, hx(version_id(DS, h("v2"))))
        assert revoked is not None and revoked.revoked_at is not None
        assert kept is not None and kept.revoked_at is None


def test_on_moved_is_told_of_passes_that_moved_the_checkpoint_only(
    consortium: Consortium, engine: Engine
) -> None:
    c = consortium
    told: list[str] = []
    indexer = Indexer(c.client, c.deployment, engine, on_moved=lambda: told.append("moved"))
    first = indexer.sync()
    assert first.moved and told == ["moved"]
    again = indexer.sync()  # no new block: the checkpoint stays, nothing to forget
    assert not again.moved and told == ["moved"]
    c.advance(1)
    assert indexer.sync().moved and told == ["moved", "moved"]
    indexer.reindex()  # the projection emptied, then indexed again
    assert told == ["moved"] * 4
