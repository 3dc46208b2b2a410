"""Apply one decoded contract event to the projection tables.

The projection is a pure function of the event log: applying the events of
``chain_event`` in (block, log index) order to empty tables always yields the same rows,
which is what makes ``reindex`` and reorg rollback exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session, select

from .chain.enums import ProposalKind
from .db.tables import (
    INT64_MAX,
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    AuditorRow,
    CommitmentParticipantRow,
    CommitmentRow,
    DatasetRow,
    DepartmentRow,
    ErasureRow,
    OperatorRow,
    ProposalRow,
    VersionParentRow,
    VersionRow,
)
from .display import join_flags, skeleton, split_flags, text_flags
from .ids import erasure_id, version_id

__all__ = ["DELETING_EVENTS", "EventFacts", "EventRecord", "apply_event", "event_keys"]

PROPOSAL_KINDS = ProposalKind.labels()


class EventRecord(Protocol):
    """What a handler reads of an event besides its arguments (a ``ChainEvent`` row has it)."""

    @property
    def name(self) -> str: ...
    @property
    def block_number(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def tx_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class EventFacts:
    """An event's place on chain, as the indexer hands it over before any row exists."""

    name: str
    block_number: int
    timestamp: int
    tx_hash: str


Handler = Callable[[Session, EventRecord, dict[str, Any]], None]

#: Events whose handler deletes a row: the caller flushes after them, so that a later event in
#: the same batch may insert the same key again.
DELETING_EVENTS = frozenset({"OperatorRemoved", "AuditorRevoked"})
_HANDLERS: dict[str, Handler] = {}


def _on(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        return handler

    return register


def _u64(value: int) -> int:
    return min(int(value), INT64_MAX)


def event_keys(name: str, args: dict[str, Any]) -> tuple[str | None, str | None]:
    """(department id, subject id) an event is filed under in the audit trail."""
    department = (
        args.get("departmentId")
        or args.get("ownerDepartment")
        or args.get("proposerDepartment")
        or args.get("proposer")  # AgreementProposed: the proposing department
        or args.get("lead")
        or args.get("consumer")
        or args.get("provider")
    )
    if name.startswith("Department"):
        subject = args.get("departmentId")
    elif name.startswith(("Operator", "Auditor")):
        subject = args.get("account")
    elif name.startswith("Proposal"):
        subject = str(args["proposalId"])
    else:
        subject = (
            args.get("agreementId")
            or args.get("commitmentId")
            or args.get("root")
            or args.get("datasetId")
        )
    return (str(department) if department else None, str(subject) if subject else None)


def _version_id(dataset: str, root: str) -> str:
    """The version id of (``dataset``, ``root``), 0x hex, as ``computeVersionId`` derives it."""
    return "0x" + version_id(bytes.fromhex(dataset[2:]), bytes.fromhex(root[2:])).hex()


def apply_event(session: Session, event: EventRecord, args: dict[str, Any]) -> None:
    """Project ``event`` into the state tables (in the session; the caller flushes)."""
    handler = _HANDLERS.get(event.name)
    if handler is not None:
        handler(session, event, args)


def _get(session: Session, model: Any, key: Any) -> Any:
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key} missing while projecting the event log")
    return row


# --------------------------------------------------------------------------- membership


def _name_flags(session: Session, name: str, name_hex: str | None, own_id: str | None) -> str:
    """The stored flags of a department name read from an event (``ledger.display``): the
    name's own, and ``lookalike`` when it reads like another department's name (which is then
    flagged too, when ``own_id`` is a department being admitted)."""
    flags = text_flags(name, name_hex)
    key = skeleton(name)
    if key:
        query = select(DepartmentRow).where(DepartmentRow.name_skeleton == key)
        for other in session.exec(query).all():
            if other.id == own_id:
                continue
            flags.append("lookalike")
            if own_id is not None and "lookalike" not in split_flags(other.name_flags):
                other.name_flags = join_flags([*split_flags(other.name_flags), "lookalike"])
    return join_flags(flags)


@_on("DepartmentAdmitted")
def _admitted(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    # The name is untrusted text (ledger.events keeps its bytes in name_hex when the text does
    # not say them exactly); readers are warned through its flags.
    name, name_hex = a["name"], a.get("name_hex")
    session.add(
        DepartmentRow(
            id=a["departmentId"],
            name=name,
            name_hex=name_hex,
            name_flags=_name_flags(session, name, name_hex, a["departmentId"]),
            name_skeleton=skeleton(name),
            status="active",
            admitted_at=e.timestamp,
            status_changed_at=e.timestamp,
        )
    )


@_on("DepartmentSuspended")
def _suspended(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, DepartmentRow, a["departmentId"])
    row.status, row.status_changed_at = "suspended", e.timestamp


@_on("DepartmentReadmitted")
def _readmitted(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, DepartmentRow, a["departmentId"])
    row.status, row.status_changed_at = "active", e.timestamp


@_on("OperatorAdded")
def _operator_added(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.add(
        OperatorRow(account=a["account"], department_id=a["departmentId"], added_at=e.timestamp)
    )


@_on("OperatorRemoved")
def _operator_removed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.delete(_get(session, OperatorRow, a["account"]))


@_on("AuditorGranted")
def _auditor_granted(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.add(AuditorRow(account=a["account"], granted_at=e.timestamp))


@_on("AuditorRevoked")
def _auditor_revoked(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.delete(_get(session, AuditorRow, a["account"]))


@_on("ProposalCreated")
def _proposal_created(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    zero_id, zero_account = "0x" + "00" * 32, "0x" + "00" * 20
    session.add(
        ProposalRow(
            id=a["proposalId"],
            kind=PROPOSAL_KINDS[a["kind"]],
            status="open",
            proposer_department=a["proposerDepartment"],
            department_id=None if a["departmentId"] == zero_id else a["departmentId"],
            account=None if a["account"].lower() == zero_account else a["account"],
            name=a["name"] or None,
            name_hex=a.get("name_hex"),
            name_flags=_name_flags(session, a["name"], a.get("name_hex"), None)
            if a["name"] or a.get("name_hex")
            else "",
            created_at=e.timestamp,
            expires_at=_u64(a["expiresAt"]),
        )
    )


@_on("ProposalApproved")
def _proposal_approved(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    _get(session, ProposalRow, a["proposalId"]).approvals = a["approvals"]


@_on("ProposalExecuted")
def _proposal_executed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, ProposalRow, a["proposalId"])
    row.status, row.executed_at = "executed", e.timestamp
    # The approvals of departments active at execution (a department suspended since it
    # approved no longer counts); events of an older registry did not carry them.
    if "approvals" in a:
        row.approvals = a["approvals"]


# --------------------------------------------------------------------------- datasets


@_on("DatasetRegistered")
def _dataset_registered(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.add(
        DatasetRow(
            id=a["datasetId"],
            owner_department=a["ownerDepartment"],
            code_hash=a["codeHash"],
            metadata_hash=a["metadataHash"],
            registered_at=e.timestamp,
            block_number=e.block_number,
            tx_hash=e.tx_hash,
        )
    )


@_on("VersionAnchored")
def _version_anchored(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    version = _version_id(a["datasetId"], a["root"])
    session.add(
        VersionRow(
            id=version,
            root=a["root"],
            dataset_id=a["datasetId"],
            department_id=a["departmentId"],
            leaf_count=_u64(a["leafCount"]),
            metadata_hash=a["metadataHash"],
            anchored_at=e.timestamp,
            block_number=e.block_number,
            tx_hash=e.tx_hash,
        )
    )
    for position, parent in enumerate(a["parents"]):
        session.add(VersionParentRow(version_id=version, position=position, parent=parent))


@_on("VersionRevoked")
def _version_revoked(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, VersionRow, _version_id(a["datasetId"], a["root"]))
    row.revoked_at, row.revoke_reason = e.timestamp, a["reasonHash"]


@_on("RecordsErased")
def _records_erased(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    dataset, root, erased_root = a["datasetId"], a["root"], a["erasedRoot"]
    key = erasure_id(*(bytes.fromhex(v[2:]) for v in (dataset, root, erased_root)))
    session.add(
        ErasureRow(
            id="0x" + key.hex(),
            version_id=_version_id(dataset, root),
            dataset_id=dataset,
            root=root,
            department_id=a["departmentId"],
            erased_root=erased_root,
            count=_u64(a["count"]),
            reason_hash=a["reasonHash"],
            erased_at=e.timestamp,
            block_number=e.block_number,
            tx_hash=e.tx_hash,
        )
    )


# --------------------------------------------------------------------------- agreements


@_on("AgreementProposed")
def _agreement_proposed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    terms = a["terms"]
    zero = "0x" + "00" * 32
    session.add(
        AgreementRow(
            id=a["agreementId"],
            provider=terms["provider"],
            consumer=terms["consumer"],
            proposer=a["proposer"],
            purpose=terms["purpose"],
            legal_basis=terms["legalBasis"],
            terms_hash=terms["termsHash"],
            valid_from=_u64(terms["validFrom"]),
            valid_until=_u64(terms["validUntil"]),
            status="proposed",
            supersedes=None if a["supersedes"] == zero else a["supersedes"],
            proposed_at=e.timestamp,
        )
    )
    for dataset_id in terms["datasetIds"]:
        session.add(AgreementDatasetRow(agreement_id=a["agreementId"], dataset_id=dataset_id))


@_on("AgreementAccepted")
def _agreement_accepted(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, AgreementRow, a["agreementId"])
    row.status, row.accepted_at, row.accepted_by = "active", e.timestamp, a["signer"]


def _close(status: str) -> Handler:
    def handler(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
        row = _get(session, AgreementRow, a["agreementId"])
        row.status, row.closed_at = status, e.timestamp
        if "reasonHash" in a:
            row.reason_hash = a["reasonHash"]
        if "supersededBy" in a:
            row.superseded_by = a["supersededBy"]

    return handler


_HANDLERS["AgreementRejected"] = _close("rejected")
_HANDLERS["AgreementWithdrawn"] = _close("withdrawn")
_HANDLERS["AgreementRevoked"] = _close("revoked")
_HANDLERS["AgreementSuperseded"] = _close("superseded")


@_on("AccessRecorded")
def _access_recorded(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.add(
        AccessReceiptRow(
            agreement_id=a["agreementId"],
            receipt_index=a["receiptIndex"],
            consumer=a["consumer"],
            log_root=a["logRoot"],
            entry_count=_u64(a["entryCount"]),
            period_start=_u64(a["periodStart"]),
            period_end=_u64(a["periodEnd"]),
            recorded_at=e.timestamp,
            block_number=e.block_number,
            tx_hash=e.tx_hash,
        )
    )


# --------------------------------------------------------------------------- commitments


@_on("CommitmentProposed")
def _commitment_proposed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    session.add(
        CommitmentRow(
            id=a["commitmentId"],
            matter_ref=a["matterRef"],
            lead=a["lead"],
            deadline=_u64(a["deadline"]),
            status="proposed",
            proposed_at=e.timestamp,
        )
    )
    for position, (department, duty) in enumerate(
        zip(a["participants"], a["dutyHashes"], strict=True)
    ):
        session.add(
            CommitmentParticipantRow(
                commitment_id=a["commitmentId"],
                department_id=department,
                position=position,
                duty_hash=duty,
            )
        )


@_on("CommitmentSigned")
def _commitment_signed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, CommitmentParticipantRow, (a["commitmentId"], a["departmentId"]))
    row.signed_at, row.signer = e.timestamp, a["signer"]


@_on("CommitmentActivated")
def _commitment_activated(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, CommitmentRow, a["commitmentId"])
    row.status, row.activated_at = "active", e.timestamp


@_on("ProgressReported")
def _progress_reported(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, CommitmentParticipantRow, (a["commitmentId"], a["departmentId"]))
    row.last_evidence_hash = a["evidenceHash"]
    row.report_count += 1
    if a["done"]:
        row.done_at = e.timestamp


@_on("CommitmentCompleted")
def _commitment_completed(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, CommitmentRow, a["commitmentId"])
    row.status, row.closed_at, row.closing_hash = "completed", e.timestamp, a["evidenceHash"]


@_on("CommitmentCancelled")
def _commitment_cancelled(session: Session, e: EventRecord, a: dict[str, Any]) -> None:
    row = _get(session, CommitmentRow, a["commitmentId"])
    row.status, row.closed_at, row.closing_hash = "cancelled", e.timestamp, a["reasonHash"]
