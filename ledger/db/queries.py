"""Read-side queries over the index: keyword-only functions taking ``*, session``.

Lists are paginated with stable keyset cursors: a cursor names the last row of a page by its
sort key, so a page never repeats or skips rows when new rows arrive. Answers are plain
dicts (0x-hex ids, ISO 8601 UTC times) ready for JSON; department names come along with
department ids wherever they appear.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, tuple_
from sqlmodel import Session, col, select

from .. import lifecycle, spreadsheet
from ..catalogue import verified_texts
from ..display import display_name, split_flags
from ..errors import InputError, LedgerError
from ..hashing import loads_strict
from ..ids import code_hash
from ..refs import parse_hash
from .tables import (
    INT64_MAX,
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    ChainEvent,
    CheckpointConflict,
    CommitmentParticipantRow,
    CommitmentRow,
    DatasetRow,
    DepartmentRow,
    ErasureRow,
    IndexedBlock,
    IndexerCheckpoint,
    ProposalRow,
    SubmissionBatch,
    VersionAnchoring,
    VersionParentRow,
    VersionRow,
)

__all__ = [
    "AGREEMENT_STATUSES",
    "COMMITMENT_STATUSES",
    "RECEIPT_FLAGS",
    "AmbiguousDatasetError",
    "ExportTooLargeError",
    "NotFoundError",
    "Page",
    "UnknownAgreementError",
    "UnknownCommitmentError",
    "UnknownDatasetError",
    "UnknownDepartmentError",
    "UnknownProposalError",
    "agreement_events",
    "agreement_status",
    "authorizing_agreement",
    "commitment_status",
    "decode_cursor",
    "encode_cursor",
    "events_csv",
    "flagged_departments",
    "get_agreement",
    "get_commitment",
    "get_dataset",
    "get_department",
    "index_status",
    "indexed_agreement",
    "indexed_chain",
    "iso",
    "list_agreements",
    "list_commitments",
    "list_datasets",
    "list_departments",
    "list_events",
    "open_conflicts",
    "proposal_events",
    "provenance",
    "receipt_flags",
    "receipts_csv",
    "resolve_dataset",
    "review_receipts",
    "status_time",
    "suspended_within",
]

MAX_PAGE = 500

#: Agreement statuses: the chain's, plus ``pending`` (accepted, not yet valid) and
#: ``expired`` (accepted, validity over), which follow from the time.
AGREEMENT_STATUSES = (
    "proposed",
    "pending",
    "active",
    "expired",
    "rejected",
    "withdrawn",
    "revoked",
    "superseded",
)
#: Commitment statuses: the chain's, plus ``overdue`` (not closed, deadline passed).
COMMITMENT_STATUSES = ("proposed", "active", "overdue", "completed", "cancelled")


class NotFoundError(LedgerError):
    """The index holds no such department, dataset, agreement or commitment."""

    kind = "not-found"


class UnknownDepartmentError(NotFoundError):
    kind = "unknown-department"


class UnknownDatasetError(NotFoundError):
    kind = "unknown-dataset"


class UnknownAgreementError(NotFoundError):
    kind = "unknown-agreement"


class UnknownCommitmentError(NotFoundError):
    kind = "unknown-commitment"


class UnknownProposalError(NotFoundError):
    kind = "unknown-proposal"


class AmbiguousDatasetError(InputError):
    """A catalogue code names datasets of several departments: the 0x id is needed."""

    kind = "ambiguous-dataset"


#: The last second ISO 8601 shows with a four-digit year (9999-12-31T23:59:59Z); later times,
#: "forever" (2**63-1 as stored) among them, read as None.
MAX_ISO_TIME = 253_402_300_799


def iso(ts: int | None) -> str | None:
    """ISO 8601 (UTC) of unix seconds; None for None and for times after year 9999 ("forever",
    stored as 2**63-1, among them)."""
    if ts is None or ts > MAX_ISO_TIME:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor naming the sort key of the last row of a page."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Longest cursor read: one of ours is a sort key of two or three values (well under 200).
MAX_CURSOR = 1024


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    """The sort key a cursor names; InputError when it is not one of ours (too long, not
    base64, not JSON, nested deeper than a list of values: never a RecursionError)."""
    malformed = "the cursor is malformed; use the next_cursor of a page."
    if len(cursor) > MAX_CURSOR:
        raise InputError(malformed)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        raise InputError(malformed) from None
    key = loads_strict(raw, max_depth=2, error=lambda _reason: InputError(malformed))
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(k, int | str) and not isinstance(k, bool) for k in key)
    ):
        raise InputError("the cursor is malformed; use the next_cursor of a page.")
    return key


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}, not {limit}.")


def _after(query: Any, keys: Sequence[Any], cursor: str | None) -> Any:
    """``query`` restricted to the rows after the one ``cursor`` names (by ``keys``)."""
    if cursor:
        values = decode_cursor(cursor, arity=len(keys))
        for value, key in zip(values, keys, strict=True):
            wants_int = key.type.python_type is int
            if isinstance(value, int) != wants_int or (
                wants_int and not -(2**63) <= value <= INT64_MAX
            ):
                raise InputError("the cursor is malformed; use the next_cursor of a page.")
        query = query.where(tuple_(*keys) > tuple(values))
    return query


def keyset_page(
    session: Session,
    query: Any,
    keys: Sequence[Any],
    cursor: str | None,
    limit: int,
    row_key: Any,
    render: Any,
) -> Page:
    """One page of ``query`` in the order of ``keys`` after the row ``cursor`` names (keyset
    pagination: rows with equal first keys are neither skipped nor repeated): ``render`` of
    each row, and the cursor of ``row_key`` of the last when more follow. InputError for a
    limit out of range or a cursor that is not one of ours."""
    _check_limit(limit)
    query = _after(query, keys, cursor)
    rows = session.exec(query.order_by(*keys).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[render(r) for r in rows],
        next_cursor=encode_cursor(row_key(rows[-1])) if more and rows else None,
    )


def failed_batches(*, session: Session, cursor: str | None = None, limit: int = 100) -> Page:
    """Ids of the API's batches that failed, oldest first (by creation, then id), a page at a
    time: refused before anchoring (the batch's own status) or by the chain (its anchoring's).
    Items are ``{"batch_id": ...}``."""
    refused_on_chain = select(VersionAnchoring.id).where(VersionAnchoring.status == "failed")
    query = select(SubmissionBatch.id, SubmissionBatch.created_at).where(
        or_(
            col(SubmissionBatch.status) == "failed",
            col(SubmissionBatch.id).in_(refused_on_chain),
        )
    )
    keys = (col(SubmissionBatch.created_at), col(SubmissionBatch.id))
    return keyset_page(
        session,
        query,
        keys,
        cursor,
        limit,
        lambda r: (r.created_at, r.id),
        lambda r: {"batch_id": r.id},
    )


def every_item(fetch: Callable[[str | None], Page], *, max_rows: int | None = None) -> list[Any]:
    """Every item of a listing, page after page (``fetch(cursor)`` gives one, from None): for
    exports and whole lists.

    Raises:
        ExportTooLargeError: there are more than ``max_rows`` (when given): an export is whole
            or refused, never cut short.
    """
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        items.extend(page.items)
        if max_rows is not None and len(items) > max_rows:
            raise ExportTooLargeError(
                f"the export would hold more than {max_rows:,} rows: narrow it (a department, "
                "an event type, a time range or an agreement), or page through the JSON listing."
            )
        cursor = page.next_cursor
        if cursor is None:
            return items


def status_time(*, session: Session, wall: float | None = None) -> int:
    """The time statuses (expired, overdue, pending) are judged at: wall-clock time (``wall``,
    else now), or the newest indexed block's time when the chain runs ahead of it."""
    latest = session.exec(select(func.max(IndexedBlock.timestamp))).one()
    return max(int(time.time() if wall is None else wall), int(latest or 0))


class ExportTooLargeError(InputError):
    """A CSV export would hold more rows than one export may (:func:`every_item`)."""

    kind = "export-too-large"


class _Names:
    """Department names, loaded once per answer."""

    def __init__(self, session: Session) -> None:
        self._rows = {d.id: d for d in session.exec(select(DepartmentRow)).all()}

    def ref(self, department_id: str | None) -> dict[str, Any] | None:
        """``{"id", "name", "name_flags"}``: show the id beside a name that has flags."""
        if department_id is None:
            return None
        row = self._rows.get(department_id)
        return {
            "id": department_id,
            "name": row.name if row else None,
            "name_flags": split_flags(row.name_flags) if row else [],
        }


# --------------------------------------------------------------------------- index


def open_conflicts(*, session: Session) -> list[int]:
    """Block numbers with two hashes signed that no operator acknowledged, ascending
    (docs/CHECKPOINTS.md): what keeps ``/readyz`` from being ready."""
    return list(
        session.exec(
            select(CheckpointConflict.number)
            .where(col(CheckpointConflict.acknowledged_at).is_(None))
            .order_by(col(CheckpointConflict.number))
        ).all()
    )


def index_status(*, session: Session) -> dict[str, Any]:
    """How far the index has read the chain, and when it was last found caught up with the
    chain's confirmed head (``synced_at``; ``age_seconds`` since then)."""
    checkpoint = session.get(IndexerCheckpoint, 1)
    if checkpoint is None:
        return {
            "block_number": None,
            "block_time": None,
            "chain_id": None,
            "synced_at": None,
            "age_seconds": None,
        }
    block = session.get(IndexedBlock, checkpoint.block_number)
    synced = checkpoint.synced_at
    return {
        "block_number": checkpoint.block_number,
        "block_time": iso(block.timestamp) if block else None,
        "chain_id": checkpoint.chain_id,
        "synced_at": iso(synced),
        "age_seconds": None if synced is None else max(0, int(time.time()) - synced),
    }


def indexed_chain(*, session: Session) -> tuple[int, str, int, str] | None:
    """Which chain the index reads: its chain id, DepartmentRegistry address, and checkpoint
    block number and hash; None when nothing is indexed yet."""
    checkpoint = session.get(IndexerCheckpoint, 1)
    if checkpoint is None:
        return None
    return (
        checkpoint.chain_id,
        checkpoint.registry_address,
        checkpoint.block_number,
        checkpoint.block_hash,
    )


# --------------------------------------------------------------------------- departments


def _department(row: DepartmentRow) -> dict[str, Any]:
    """A department; ``name`` is the name's text as on chain (it may hold invisible or
    reordering characters: show ``display_name``, which escapes them and, when the name has
    flags, puts the id beside it); ``name_hex`` its bytes when the text cannot say them."""
    flags = split_flags(row.name_flags)
    return {
        "id": row.id,
        "name": row.name,
        "display_name": display_name(row.name, flags, row.id),
        "name_flags": flags,
        "name_hex": row.name_hex,
        "status": row.status,
        "admitted_at": iso(row.admitted_at),
        "status_changed_at": iso(row.status_changed_at),
    }


def list_departments(
    *, session: Session, status: str | None = None, cursor: str | None = None, limit: int = 100
) -> Page:
    """Consortium members, in order of admission."""
    query = select(DepartmentRow)
    if status:
        query = query.where(DepartmentRow.status == status)
    keys = (col(DepartmentRow.admitted_at), col(DepartmentRow.id))
    return keyset_page(
        session, query, keys, cursor, limit, lambda r: (r.admitted_at, r.id), _department
    )


def flagged_departments(*, session: Session) -> dict[str, list[str]]:
    """id → name flags of every department whose name has flags (to show its id beside it)."""
    rows = session.exec(select(DepartmentRow).where(DepartmentRow.name_flags != "")).all()
    return {row.id: split_flags(row.name_flags) for row in rows}


def get_department(*, session: Session, department_id: str) -> dict[str, Any]:
    """One department."""
    row = session.get(DepartmentRow, department_id)
    if row is None:
        raise UnknownDepartmentError(f"no department {department_id} is known here.")
    return _department(row)


# --------------------------------------------------------------------------- proposals

#: A membership proposal's statuses: ``open`` (approvals may still come), ``expired`` (open
#: past its lifetime: it can no longer execute), ``executed``.
PROPOSAL_STATUSES = ("open", "expired", "executed")


def _proposal(row: ProposalRow, names: _Names, now: int) -> dict[str, Any]:
    flags = split_flags(row.name_flags)
    # As the registry: an open proposal is expired from expiresAt on (block time >= expiresAt).
    status = "expired" if row.status == "open" and now >= row.expires_at else row.status
    return {
        "id": row.id,
        "kind": row.kind,
        "status": status,
        "proposer": names.ref(row.proposer_department),
        "department": names.ref(row.department_id),
        # The name an admission proposes (chain data: shown escaped, with the id, when flagged).
        "name": row.name,
        "display_name": display_name(row.name, flags, row.department_id or "")
        if row.name is not None
        else None,
        "name_flags": flags,
        "name_hex": row.name_hex,
        "account": row.account,
        "approvals": row.approvals,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "executed_at": iso(row.executed_at),
    }


def list_proposals(
    *, session: Session, status: str | None = None, cursor: str | None = None, limit: int = 100
) -> Page:
    """Membership proposals, oldest first (by id)."""
    if status is not None and status not in PROPOSAL_STATUSES:
        raise InputError(f"status must be one of {', '.join(PROPOSAL_STATUSES)}, not {status!r}.")
    names, now = _Names(session), status_time(session=session)
    query = select(ProposalRow)
    if status == "executed":
        query = query.where(ProposalRow.status == "executed")
    elif status == "open":
        query = query.where(ProposalRow.status == "open", col(ProposalRow.expires_at) > now)
    elif status == "expired":
        query = query.where(ProposalRow.status == "open", col(ProposalRow.expires_at) <= now)
    return keyset_page(
        session,
        query,
        (col(ProposalRow.id),),
        cursor,
        limit,
        lambda r: (r.id,),
        lambda r: _proposal(r, names, now),
    )


def get_proposal(*, session: Session, proposal_id: int) -> dict[str, Any]:
    """One membership proposal."""
    row = session.get(ProposalRow, proposal_id)
    if row is None:
        raise UnknownProposalError(f"no proposal {proposal_id} is known here.")
    return _proposal(row, _Names(session), status_time(session=session))


# --------------------------------------------------------------------------- datasets


def resolve_dataset(*, session: Session, text: str) -> str:
    """The dataset someone names: its 0x id as is (0x and 64 lowercase hex digits), else the
    one dataset registered here under that catalogue code. A dataset id derives from its
    owner and its code, so two departments may register the same code: then the code alone
    is refused, and the message gives each dataset's id and owner."""
    value = text.strip()
    if value.startswith(("0x", "0X")):
        return "0x" + parse_hash(value, what="dataset id").hex()
    if not value:
        raise InputError("the dataset must not be empty.")
    shown = repr(value if len(value) <= 80 else value[:77] + "...")
    rows = session.exec(
        select(DatasetRow)
        .where(DatasetRow.code_hash == "0x" + code_hash(value).hex())
        .order_by(col(DatasetRow.block_number), col(DatasetRow.id))
    ).all()
    if not rows:
        raise UnknownDatasetError(f"no dataset of code {shown} is registered here.")
    if len(rows) > 1:
        names = _Names(session)
        owners = [names.ref(r.owner_department) or {} for r in rows]
        each = "; ".join(
            f"{r.id} of {display_name(o.get('name'), o.get('name_flags', []), r.owner_department)}"
            for r, o in zip(rows, owners, strict=True)
        )
        raise AmbiguousDatasetError(
            f"{len(rows)} departments registered a dataset of code {shown}: give its 0x id "
            f"({each})."
        )
    return rows[0].id


def _version(
    row: VersionRow, parents: list[str], names: _Names, erasures: Sequence[ErasureRow] = ()
) -> dict[str, Any]:
    return {
        "id": row.id,
        "root": row.root,
        "dataset_id": row.dataset_id,
        "department": names.ref(row.department_id),
        "leaf_count": row.leaf_count,
        "metadata_hash": row.metadata_hash,
        "anchored_at": iso(row.anchored_at),
        "block_number": row.block_number,
        "transaction": row.tx_hash,
        "parents": parents,
        "status": "revoked" if row.revoked_at is not None else "anchored",
        "revoked_at": iso(row.revoked_at),
        "revoke_reason_hash": row.revoke_reason,
        "erasures": [
            {
                "id": e.id,
                "erased_root": e.erased_root,
                "count": e.count,
                "erased_at": iso(e.erased_at),
                "erased_by": names.ref(e.department_id),
                "reason_hash": e.reason_hash,
                "block_number": e.block_number,
                "transaction": e.tx_hash,
            }
            for e in erasures
        ],
    }


def _by_version(
    session: Session, model: Any, versions: Sequence[str], *order: Any
) -> dict[str, list[Any]]:
    """The rows of ``model`` of each of ``versions`` (version ids, its ``version_id``), in
    ``order``."""
    result: dict[str, list[Any]] = {v: [] for v in versions}
    if versions:
        rows = session.exec(
            select(model).where(col(model.version_id).in_(list(versions))).order_by(*order)
        ).all()
        for row in rows:
            result[row.version_id].append(row)
    return result


def _erasures(session: Session, versions: Sequence[str]) -> dict[str, list[ErasureRow]]:
    """The erasures of each of ``versions`` (version ids), oldest first."""
    return _by_version(
        session, ErasureRow, versions, col(ErasureRow.block_number), col(ErasureRow.id)
    )


def _parents(session: Session, versions: Sequence[str]) -> dict[str, list[str]]:
    """The parent version ids of each of ``versions`` (version ids), in their order."""
    rows = _by_version(
        session,
        VersionParentRow,
        versions,
        col(VersionParentRow.version_id),
        col(VersionParentRow.position),
    )
    return {v: [p.parent for p in found] for v, found in rows.items()}


def list_datasets(
    *, session: Session, owner: str | None = None, cursor: str | None = None, limit: int = 100
) -> Page:
    """Registered datasets, oldest first, with their number of versions and latest root."""
    names = _Names(session)
    query = select(DatasetRow)
    if owner:
        query = query.where(DatasetRow.owner_department == owner)
    keys = (col(DatasetRow.block_number), col(DatasetRow.id))

    def render(row: DatasetRow) -> dict[str, Any]:
        versions = session.exec(
            select(VersionRow.root, VersionRow.anchored_at)
            .where(VersionRow.dataset_id == row.id)
            .order_by(col(VersionRow.block_number).desc())
        ).all()
        return {
            "id": row.id,
            "owner": names.ref(row.owner_department),
            "code_hash": row.code_hash,
            "metadata_hash": row.metadata_hash,
            "registered_at": iso(row.registered_at),
            "transaction": row.tx_hash,
            "version_count": len(versions),
            "latest_root": versions[0][0] if versions else None,
            "latest_anchored_at": iso(versions[0][1]) if versions else None,
        }

    return keyset_page(
        session, query, keys, cursor, limit, lambda r: (r.block_number, r.id), render
    )


def get_dataset(*, session: Session, dataset_id: str) -> dict[str, Any]:
    """A dataset with every version (oldest first), its lineage edges and its agreements."""
    row = session.get(DatasetRow, dataset_id)
    if row is None:
        raise UnknownDatasetError(f"no dataset {dataset_id} is registered here.")
    names = _Names(session)
    versions = session.exec(
        select(VersionRow)
        .where(VersionRow.dataset_id == dataset_id)
        .order_by(col(VersionRow.block_number), col(VersionRow.root))
    ).all()
    parents = _parents(session, [v.id for v in versions])
    erasures = _erasures(session, [v.id for v in versions])
    now = status_time(session=session)
    agreements = session.exec(
        select(AgreementRow)
        .join(AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id))
        .where(AgreementDatasetRow.dataset_id == dataset_id)
        .order_by(col(AgreementRow.proposed_at), col(AgreementRow.id))
    ).all()
    return {
        "id": row.id,
        "owner": names.ref(row.owner_department),
        "code_hash": row.code_hash,
        "metadata_hash": row.metadata_hash,
        "registered_at": iso(row.registered_at),
        "block_number": row.block_number,
        "transaction": row.tx_hash,
        "versions": [_version(v, parents[v.id], names, erasures[v.id]) for v in versions],
        "lineage": [{"from": p, "to": v.id} for v in versions for p in parents[v.id]],
        "agreements": [_agreement(session, a, names, now, receipts=False) for a in agreements],
    }


def _qualified(name: str) -> dict[str, str]:
    """A PROV-JSON value that is a qualified name (``prov:type``, ``prov:role``): typed, so a
    PROV reader sees ``prov:Collection`` as the PROV type and not as a string that looks like
    one (PROV-JSON §2.3)."""
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def provenance(*, session: Session, dataset_id: str) -> dict[str, Any]:
    """The dataset's lineage, agreements and access receipts as W3C PROV-JSON: the dataset a
    ``prov:Collection`` whose members (``hadMember``) are its versions."""
    dataset = get_dataset(session=session, dataset_id=dataset_id)
    entity: dict[str, Any] = {}
    agent: dict[str, Any] = {}
    activity: dict[str, Any] = {}
    was_derived: dict[str, Any] = {}
    was_attributed: dict[str, Any] = {}
    was_generated: dict[str, Any] = {}
    used: dict[str, Any] = {}
    was_associated: dict[str, Any] = {}
    had_member: dict[str, Any] = {}

    def add_agent(ref: dict[str, Any] | None) -> str | None:
        if ref is None:
            return None
        key = f"xt:department/{ref['id']}"
        agent[key] = {
            "prov:type": _qualified("prov:Organization"),
            "prov:label": ref["name"] or ref["id"],
        }
        return key

    dataset_key = f"xt:dataset/{dataset['id']}"
    entity[dataset_key] = {
        "prov:type": _qualified("prov:Collection"),
        "xt:metadataHash": dataset["metadata_hash"],
    }
    owner = add_agent(dataset["owner"])
    if owner:
        was_attributed[f"_:attr-{dataset['id']}"] = {
            "prov:entity": dataset_key,
            "prov:agent": owner,
        }
    for v in dataset["versions"]:
        key = f"xt:version/{v['id']}"
        entity[key] = {
            "prov:type": _qualified("xt:DatasetVersion"),
            "xt:dataset": _qualified(dataset_key),
            "xt:root": v["root"],
            "xt:leafCount": v["leaf_count"],
            "xt:status": v["status"],
            "xt:transaction": v["transaction"],
            "xt:blockNumber": v["block_number"],
            "prov:generatedAtTime": v["anchored_at"],
        }
        had_member[f"_:mem-{v['id']}"] = {"prov:collection": dataset_key, "prov:entity": key}
        anchoring = f"xt:anchoring/{v['transaction']}"
        activity[anchoring] = {
            "prov:type": _qualified("xt:Anchoring"),
            "prov:endTime": v["anchored_at"],
        }
        was_generated[f"_:gen-{v['id']}"] = {
            "prov:entity": key,
            "prov:activity": anchoring,
            "prov:time": v["anchored_at"],
        }
        publisher = add_agent(v["department"])
        if publisher:
            was_attributed[f"_:attr-{v['id']}"] = {"prov:entity": key, "prov:agent": publisher}
            was_associated[f"_:assoc-{v['id']}"] = {
                "prov:activity": anchoring,
                "prov:agent": publisher,
            }
        for parent in v["parents"]:
            was_derived[f"_:der-{v['id']}-{parent}"] = {
                "prov:generatedEntity": key,
                "prov:usedEntity": f"xt:version/{parent}",
            }
    for a in dataset["agreements"]:
        detail = get_agreement(session=session, agreement_id=a["id"])
        key = f"xt:agreement/{a['id']}"
        entity[key] = {
            "prov:type": _qualified("xt:SharingAgreement"),
            "xt:status": detail["status"],
            "xt:purpose": detail["purpose"],
            "xt:legalBasis": detail["legal_basis"],
            "xt:termsHash": detail["terms_hash"],
            "xt:validFrom": detail["valid_from"],
            "xt:effectiveFrom": detail["effective_from"],
            "xt:validUntil": detail["valid_until"],
        }
        for role in ("provider", "consumer"):
            who = add_agent(detail[role])
            if who:
                was_attributed[f"_:{role}-{a['id']}"] = {
                    "prov:entity": key,
                    "prov:agent": who,
                    "prov:role": _qualified(f"xt:{role}"),
                }
        consumer = f"xt:department/{detail['consumer']['id']}"
        for r in detail["access_receipts"]:
            access = f"xt:access/{a['id']}/{r['index']}"
            activity[access] = {
                "prov:type": _qualified("xt:DataAccess"),
                "prov:startTime": r["period_start"],
                "prov:endTime": r["period_end"],
                "xt:logRoot": r["log_root"],
                "xt:entryCount": r["entry_count"],
                "xt:transaction": r["transaction"],
            }
            used[f"_:use-{a['id']}-{r['index']}"] = {
                "prov:activity": access,
                "prov:entity": dataset_key,
            }
            was_associated[f"_:assoc-{a['id']}-{r['index']}"] = {
                "prov:activity": access,
                "prov:agent": consumer,
                "prov:plan": key,
            }
    document: dict[str, Any] = {
        "prefix": {"xt": "https://xietong.example/ns#", "prov": "http://www.w3.org/ns/prov#"},
        "entity": entity,
        "agent": agent,
        "activity": activity,
    }
    for name, relation in (
        ("wasDerivedFrom", was_derived),
        ("wasAttributedTo", was_attributed),
        ("wasGeneratedBy", was_generated),
        ("used", used),
        ("wasAssociatedWith", was_associated),
        ("hadMember", had_member),
    ):
        if relation:
            document[name] = relation
    return document


# --------------------------------------------------------------------------- agreements


def agreement_status(row: AgreementRow, now: int) -> str:
    """The chain's status, with ``pending``/``expired`` for an accepted agreement outside its
    effective window (:func:`ledger.lifecycle.agreement_status`)."""
    return lifecycle.agreement_status(
        row.status,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        now=now,
        accepted_at=row.accepted_at,
    )


def _agreement(
    session: Session, row: AgreementRow, names: _Names, now: int, *, receipts: bool
) -> dict[str, Any]:
    datasets = session.exec(
        select(AgreementDatasetRow.dataset_id).where(AgreementDatasetRow.agreement_id == row.id)
    ).all()
    result: dict[str, Any] = {
        "id": row.id,
        "status": agreement_status(row, now),
        "provider": names.ref(row.provider),
        "consumer": names.ref(row.consumer),
        "proposer": names.ref(row.proposer),
        "datasets": sorted(datasets),
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "terms_hash": row.terms_hash,
        "valid_from": iso(row.valid_from),
        # Nothing is authorized or receipted before the acceptance (no backdating).
        "effective_from": iso(lifecycle.effective_from(row.valid_from, row.accepted_at)),
        "valid_until": iso(row.valid_until),
        "proposed_at": iso(row.proposed_at),
        "accepted_at": iso(row.accepted_at),
        "accepted_by": row.accepted_by,
        "closed_at": iso(row.closed_at),
        "reason_hash": row.reason_hash,
        "supersedes": row.supersedes,
        "superseded_by": row.superseded_by,
    }
    if receipts:
        rows = session.exec(
            select(AccessReceiptRow)
            .where(AccessReceiptRow.agreement_id == row.id)
            .order_by(col(AccessReceiptRow.receipt_index))
        ).all()
        result["access_receipts"] = [
            {
                "index": r.receipt_index,
                "log_root": r.log_root,
                "entry_count": r.entry_count,
                "period_start": iso(r.period_start),
                "period_end": iso(r.period_end),
                "recorded_at": iso(r.recorded_at),
                "block_number": r.block_number,
                "transaction": r.tx_hash,
            }
            for r in rows
        ]
    return result


def _status_filter(status: str, now: int) -> ColumnElement[bool]:
    stored = col(AgreementRow.status)
    # The effective start is max(valid_from, accepted_at) (ledger.lifecycle.effective_from).
    if status == "active":
        return and_(
            stored == "active",
            col(AgreementRow.valid_from) <= now,
            or_(col(AgreementRow.accepted_at).is_(None), col(AgreementRow.accepted_at) <= now),
            col(AgreementRow.valid_until) > now,
        )
    if status == "expired":
        return and_(stored == "active", col(AgreementRow.valid_until) <= now)
    if status == "pending":
        return and_(
            stored == "active",
            col(AgreementRow.valid_until) > now,
            or_(col(AgreementRow.valid_from) > now, col(AgreementRow.accepted_at) > now),
        )
    return stored == status


def list_agreements(
    *,
    session: Session,
    department: str | None = None,
    dataset: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """Agreements, oldest proposal first; ``department`` matches either party."""
    if status is not None and status not in AGREEMENT_STATUSES:
        raise InputError(f"status must be one of {', '.join(AGREEMENT_STATUSES)}, not {status!r}.")
    names, now = _Names(session), status_time(session=session)
    query = select(AgreementRow)
    if department:
        query = query.where(
            or_(col(AgreementRow.provider) == department, col(AgreementRow.consumer) == department)
        )
    if dataset:
        query = query.join(
            AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id)
        ).where(AgreementDatasetRow.dataset_id == dataset)
    if status:
        query = query.where(_status_filter(status, now))
    keys = (col(AgreementRow.proposed_at), col(AgreementRow.id))
    return keyset_page(
        session,
        query,
        keys,
        cursor,
        limit,
        lambda r: (r.proposed_at, r.id),
        lambda r: _agreement(session, r, names, now, receipts=False),
    )


def get_agreement(*, session: Session, agreement_id: str) -> dict[str, Any]:
    """One agreement with its access receipts."""
    row = session.get(AgreementRow, agreement_id)
    if row is None:
        raise UnknownAgreementError(f"no agreement {agreement_id} is known here.")
    return _agreement(session, row, _Names(session), status_time(session=session), receipts=True)


def indexed_agreement(*, session: Session, agreement_id: str) -> dict[str, Any] | None:
    """One agreement as the index holds it (without its receipts), or None when it has not
    indexed it (yet)."""
    row = session.get(AgreementRow, agreement_id)
    if row is None:
        return None
    return _agreement(session, row, _Names(session), status_time(session=session), receipts=False)


def authorizing_agreement(
    *, session: Session, provider: str, consumer: str, dataset: str, purpose: str
) -> dict[str, Any] | None:
    """The agreement that lets ``provider`` share ``dataset`` with ``consumer`` for ``purpose``
    now (both departments active, the agreement active and valid), or None."""
    now = status_time(session=session)
    departments = {
        d.id: d.status
        for d in session.exec(
            select(DepartmentRow).where(col(DepartmentRow.id).in_((provider, consumer)))
        ).all()
    }
    if departments.get(provider) != "active" or departments.get(consumer) != "active":
        return None
    row = session.exec(
        select(AgreementRow)
        .join(AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id))
        .where(AgreementDatasetRow.dataset_id == dataset)
        .where(AgreementRow.provider == provider, AgreementRow.consumer == consumer)
        .where(AgreementRow.purpose == purpose)
        .where(_status_filter("active", now))
        .order_by(col(AgreementRow.proposed_at), col(AgreementRow.id))
    ).first()
    return None if row is None else _agreement(session, row, _Names(session), now, receipts=False)


# --------------------------------------------------------------------------- commitments


def commitment_status(row: CommitmentRow, now: int) -> str:
    """The chain's status, with ``overdue`` for one not closed by its deadline
    (:func:`ledger.lifecycle.commitment_status`)."""
    return lifecycle.commitment_status(row.status, deadline=row.deadline, now=now)


def _commitment(session: Session, row: CommitmentRow, names: _Names, now: int) -> dict[str, Any]:
    participants = session.exec(
        select(CommitmentParticipantRow)
        .where(CommitmentParticipantRow.commitment_id == row.id)
        .order_by(col(CommitmentParticipantRow.position))
    ).all()
    return {
        "id": row.id,
        "status": commitment_status(row, now),
        "matter_ref": row.matter_ref,
        "lead": names.ref(row.lead),
        "deadline": iso(row.deadline),
        "proposed_at": iso(row.proposed_at),
        "activated_at": iso(row.activated_at),
        "closed_at": iso(row.closed_at),
        "closing_hash": row.closing_hash,
        "participants": [
            {
                "department": names.ref(p.department_id),
                "duty_hash": p.duty_hash,
                "signed_at": iso(p.signed_at),
                "signer": p.signer,
                "done_at": iso(p.done_at),
                "last_evidence_hash": p.last_evidence_hash,
                "report_count": p.report_count,
            }
            for p in participants
        ],
    }


def list_commitments(
    *,
    session: Session,
    department: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """Commitments, oldest first; ``department`` matches the lead or any participant."""
    if status is not None and status not in COMMITMENT_STATUSES:
        raise InputError(f"status must be one of {', '.join(COMMITMENT_STATUSES)}, not {status!r}.")
    names, now = _Names(session), status_time(session=session)
    query = select(CommitmentRow)
    if department:
        members = select(CommitmentParticipantRow.commitment_id).where(
            CommitmentParticipantRow.department_id == department
        )
        query = query.where(
            or_(col(CommitmentRow.lead) == department, col(CommitmentRow.id).in_(members))
        )
    if status == "overdue":
        query = query.where(
            col(CommitmentRow.status).in_(("proposed", "active")),
            col(CommitmentRow.deadline) < now,
        )
    elif status in ("proposed", "active"):
        query = query.where(CommitmentRow.status == status, col(CommitmentRow.deadline) >= now)
    elif status:
        query = query.where(CommitmentRow.status == status)
    keys = (col(CommitmentRow.proposed_at), col(CommitmentRow.id))
    return keyset_page(
        session,
        query,
        keys,
        cursor,
        limit,
        lambda r: (r.proposed_at, r.id),
        lambda r: _commitment(session, r, names, now),
    )


def get_commitment(*, session: Session, commitment_id: str) -> dict[str, Any]:
    """One commitment with its participants."""
    row = session.get(CommitmentRow, commitment_id)
    if row is None:
        raise UnknownCommitmentError(f"no commitment {commitment_id} is known here.")
    return _commitment(session, row, _Names(session), status_time(session=session))


# --------------------------------------------------------------------------- documents

#: What a hash can be besides a leaf: the SHA-256 of an agreement's terms document, or the
#: hash of a text people typed (``ledger.ids.code_hash``). Each (kind, row field).
_AGREEMENT_DOCUMENTS = (
    ("agreement-terms", "terms_hash"),
    ("agreement-purpose", "purpose"),
    ("agreement-legal-basis", "legal_basis"),
    ("agreement-reason", "reason_hash"),
)
#: The most documents one hash is answered with (a purpose may serve many agreements).
MAX_DOCUMENTS = 100


def documents_for(*, session: Session, digest: str) -> list[dict[str, Any]]:
    """Where the chain holds ``digest`` (0x hex) other than as a leaf: as an agreement's terms
    document (its SHA-256), purpose, legal basis or closing reason, a commitment's matter,
    a participant's duty or evidence, a commitment's closing evidence or reason, a dataset's
    code or description. Each ``{"kind", "subject_type", "subject", "status", "department",
    "time"}``, at most :data:`MAX_DOCUMENTS`, agreements first, oldest first."""
    names, now = _Names(session), status_time(session=session)
    found: list[dict[str, Any]] = []

    def add(kind: str, subject_type: str, subject: str, status: str | None, **more: Any) -> None:
        if len(found) < MAX_DOCUMENTS:
            found.append(
                {
                    "kind": kind,
                    "subject_type": subject_type,
                    "subject": subject,
                    "status": status,
                    "department": more.get("department"),
                    "time": iso(more.get("time")),
                }
            )

    for kind, field in _AGREEMENT_DOCUMENTS:
        column = col(getattr(AgreementRow, field))
        agreements = (
            select(AgreementRow).where(column == digest).order_by(col(AgreementRow.proposed_at))
        )
        for agreement in session.exec(agreements.limit(MAX_DOCUMENTS)).all():
            time = agreement.closed_at if kind == "agreement-reason" else agreement.proposed_at
            add(kind, "agreement", agreement.id, agreement_status(agreement, now), time=time)
    commitments = select(CommitmentRow).order_by(col(CommitmentRow.proposed_at))
    for matter in session.exec(
        commitments.where(CommitmentRow.matter_ref == digest).limit(MAX_DOCUMENTS)
    ):
        add(
            "commitment-matter",
            "commitment",
            matter.id,
            commitment_status(matter, now),
            time=matter.proposed_at,
        )
    for closed in session.exec(
        commitments.where(CommitmentRow.closing_hash == digest).limit(MAX_DOCUMENTS)
    ):
        kind = "commitment-closing" if closed.status == "completed" else "commitment-reason"
        add(kind, "commitment", closed.id, commitment_status(closed, now), time=closed.closed_at)
    duties = session.exec(
        select(CommitmentParticipantRow, CommitmentRow)
        .join(CommitmentRow, col(CommitmentRow.id) == col(CommitmentParticipantRow.commitment_id))
        .where(CommitmentParticipantRow.duty_hash == digest)
        .order_by(col(CommitmentRow.proposed_at), col(CommitmentParticipantRow.position))
        .limit(MAX_DOCUMENTS)
    ).all()
    for participant, commitment in duties:
        add(
            "commitment-duty",
            "commitment",
            commitment.id,
            commitment_status(commitment, now),
            department=names.ref(participant.department_id),
            time=commitment.proposed_at,
        )
    # Every report's evidence, not only each participant's last: from the event log (the
    # hash is in the event's arguments; reports are few beside the events of other names).
    reports = session.exec(
        select(ChainEvent)
        .where(ChainEvent.name == "ProgressReported", col(ChainEvent.args).contains(digest))
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        .limit(MAX_DOCUMENTS)
    ).all()
    for event in reports:
        args = json.loads(event.args)
        if args.get("evidenceHash") != digest:
            continue  # the hash stood elsewhere in the arguments
        reported = session.get(CommitmentRow, args["commitmentId"])
        add(
            "commitment-evidence",
            "commitment",
            args["commitmentId"],
            commitment_status(reported, now) if reported is not None else None,
            department=names.ref(args.get("departmentId")),
            time=event.timestamp,
        )
    for kind, field in (("dataset-code", "code_hash"), ("dataset-description", "metadata_hash")):
        column = col(getattr(DatasetRow, field))
        datasets = (
            select(DatasetRow).where(column == digest).order_by(col(DatasetRow.registered_at))
        )
        for dataset in session.exec(datasets.limit(MAX_DOCUMENTS)).all():
            add(
                kind,
                "dataset",
                dataset.id,
                None,
                department=names.ref(dataset.owner_department),
                time=dataset.registered_at,
            )
    return found


# --------------------------------------------------------------------------- audit trail


def list_events(
    *,
    session: Session,
    department: str | None = None,
    event_type: str | None = None,
    since: int | None = None,
    until: int | None = None,
    subject: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """The audit trail in chain order; ``until`` is exclusive."""
    names = _Names(session)
    query = select(ChainEvent)
    if department:
        query = query.where(ChainEvent.department_id == department)
    if event_type:
        query = query.where(ChainEvent.name == event_type)
    if since is not None:
        query = query.where(col(ChainEvent.timestamp) >= since)
    if until is not None:
        query = query.where(col(ChainEvent.timestamp) < until)
    if subject:
        query = query.where(ChainEvent.subject_id == subject)
    keys = (col(ChainEvent.block_number), col(ChainEvent.log_index))
    return keyset_page(
        session,
        query,
        keys,
        cursor,
        limit,
        lambda e: (e.block_number, e.log_index),
        lambda e: _event(e, names),
    )


def _event(e: ChainEvent, names: _Names) -> dict[str, Any]:
    """An event of the audit trail, as :func:`list_events` gives it."""
    dept = names.ref(e.department_id)
    return {
        "block_number": e.block_number,
        "log_index": e.log_index,
        "time": iso(e.timestamp),
        "transaction": e.tx_hash,
        "contract": e.contract,
        "event": e.name,
        "department_id": e.department_id,
        "department": dept["name"] if dept else None,
        "subject_id": e.subject_id,
        "args": json.loads(e.args),
    }


EVENT_CSV_FIELDS = (
    "block_number",
    "log_index",
    "time",
    "transaction",
    "contract",
    "event",
    "department_id",
    "department",
    "subject_id",
    "args",
)


def events_csv(items: Sequence[dict[str, Any]]) -> str:
    """Events (as :func:`list_events` gives them) as CSV, the args as sorted JSON text; cells a
    spreadsheet would evaluate (a department named ``=HYPERLINK(…)``) are neutralised with a
    leading ``'`` (:mod:`ledger.spreadsheet`)."""
    return spreadsheet.csv_text(
        EVENT_CSV_FIELDS,
        (
            {**item, "args": json.dumps(item["args"], ensure_ascii=False, sort_keys=True)}
            for item in items
        ),
    )


# --------------------------------------------------------------------------- histories

#: What an executed membership proposal does, each event naming the proposal (``proposalId``).
_PROPOSAL_EFFECTS = (
    "DepartmentAdmitted",
    "DepartmentSuspended",
    "DepartmentReadmitted",
    "AuditorGranted",
    "AuditorRevoked",
)


def _in_chain_order(events: Sequence[ChainEvent], names: _Names) -> list[dict[str, Any]]:
    unique = {(e.block_number, e.log_index): e for e in events}
    return [_event(unique[key], names) for key in sorted(unique)]


def agreement_events(*, session: Session, agreement_id: str) -> list[dict[str, Any]]:
    """An agreement's history in chain order (at most :data:`MAX_PAGE` events of each kind):
    its own events, and the proposals of amendments of it (``AgreementProposed`` whose
    ``supersedes`` names it, the amendment's id as subject), accepted or not."""
    own = session.exec(
        select(ChainEvent)
        .where(ChainEvent.subject_id == agreement_id)
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        .limit(MAX_PAGE)
    ).all()
    proposed = session.exec(
        select(ChainEvent)
        .where(ChainEvent.name == "AgreementProposed", col(ChainEvent.args).contains(agreement_id))
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        .limit(MAX_PAGE)
    ).all()
    amendments = [e for e in proposed if json.loads(e.args).get("supersedes") == agreement_id]
    return _in_chain_order([*own, *amendments], _Names(session))


def proposal_events(*, session: Session, proposal_id: int) -> list[dict[str, Any]]:
    """A membership proposal's history in chain order: its own events (created, approved,
    role accepted, executed), what its execution did (the department admitted, suspended or
    readmitted, the auditor role granted or revoked: events naming it as ``proposalId``) and
    the first operator an admission added in the same transaction."""
    names = _Names(session)
    registry = select(ChainEvent).where(ChainEvent.contract == "DepartmentRegistry")
    own = session.exec(
        registry.where(
            ChainEvent.subject_id == str(proposal_id), col(ChainEvent.name).startswith("Proposal")
        ).limit(MAX_PAGE)
    ).all()
    effects = [
        e
        for e in session.exec(
            registry.where(col(ChainEvent.name).in_(_PROPOSAL_EFFECTS))
            # args are stored as json.dumps(sort_keys=True): '"proposalId": 1' also finds 10,
            # 11 …, which the test below drops; never an unrelated number elsewhere.
            .where(col(ChainEvent.args).contains(f'"proposalId": {proposal_id}'))
            .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
            .limit(MAX_PAGE)
        ).all()
        if json.loads(e.args).get("proposalId") == proposal_id
    ]
    admitted = {
        (e.tx_hash, json.loads(e.args).get("departmentId"))
        for e in effects
        if e.name == "DepartmentAdmitted"
    }
    operators = []
    if admitted:
        operators = [
            e
            for e in session.exec(
                registry.where(
                    ChainEvent.name == "OperatorAdded",
                    col(ChainEvent.tx_hash).in_([tx for tx, _ in admitted]),
                )
            ).all()
            if (e.tx_hash, json.loads(e.args).get("departmentId")) in admitted
        ]
    return _in_chain_order([*own, *effects, *operators], names)


# --------------------------------------------------------------------------- receipts review

#: What the review of access receipts flags (:func:`review_receipts`), in this order. The
#: contract refuses most of these when a receipt is recorded; the review checks them anyway,
#: since chain data is untrusted input and a department's status may change inside a period
#: that is already over. A receipt's period is ``[period_start, period_end]``, both included.
RECEIPT_FLAGS = (
    # The period starts before the agreement took effect: before max(valid_from, accepted_at)
    # (ledger.lifecycle.effective_from); every period, for an agreement never accepted.
    "before-effective",
    # The period ends at or after valid_until (which is exclusive).
    "after-validity",
    # The period ends after the agreement was closed (rejected, withdrawn, revoked or
    # superseded: closed_at); a period ending in the very second of the closing is not flagged.
    "after-closure",
    # The department that recorded the receipt is not the agreement's consumer.
    "consumer-mismatch",
    # The provider or the consumer (the agreement's, and the receipt's) was suspended at some
    # moment of the period, from DepartmentSuspended and DepartmentReadmitted in chain order:
    # still suspended when period_start began (readmitted in that second or later), or
    # suspended in a second of the period (suspended_within).
    "department-inactive",
    # The period ends after the receipt was recorded (access receipted before it happened).
    "future-period",
    # The receipt counts no entry.
    "empty",
    # The period starts after it ends.
    "period-inverted",
    # The index holds no agreement of the receipt's id (nothing about the agreement can be
    # checked).
    "unknown-agreement",
)
_SUSPENSIONS = ("DepartmentSuspended", "DepartmentReadmitted")
#: Rows read at a time when only flagged receipts are wanted (flags are computed here).
_REVIEW_SCAN = MAX_PAGE


def _status_changes(session: Session) -> dict[str, list[tuple[int, bool]]]:
    """Each department's suspensions (True) and readmissions (False) with their block times,
    in chain order, from the event log."""
    changes: dict[str, list[tuple[int, bool]]] = {}
    events = session.exec(
        select(ChainEvent)
        .where(col(ChainEvent.name).in_(_SUSPENSIONS))
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
    ).all()
    for e in events:
        department = json.loads(e.args).get("departmentId")
        if isinstance(department, str):
            changes.setdefault(department, []).append(
                (e.timestamp, e.name == "DepartmentSuspended")
            )
    return changes


def suspended_within(changes: Sequence[tuple[int, bool]], start: int, end: int) -> bool:
    """Whether a department whose status ``changes`` (block time, suspended?) are in chain
    order was suspended at some moment of the seconds ``[start, end]``: it was still suspended
    when ``start`` began (the last change before it a suspension; a readmission in the second
    ``start`` itself leaves part of that second suspended), or it was suspended in one of
    those seconds."""
    suspended = False
    for when, suspension in changes:
        if when > end:
            break
        if when < start:
            suspended = suspension
        elif suspension:
            return True
    return suspended


def receipt_flags(
    receipt: AccessReceiptRow,
    agreement: AgreementRow | None,
    changes: dict[str, list[tuple[int, bool]]],
) -> list[str]:
    """The :data:`RECEIPT_FLAGS` of ``receipt`` beside its ``agreement`` (None when the index
    holds none), given every department's status ``changes`` (:func:`_status_changes`)."""
    start, end = receipt.period_start, receipt.period_end
    found: set[str] = set()
    departments = {receipt.consumer}
    if agreement is None:
        found.add("unknown-agreement")
    else:
        departments |= {agreement.provider, agreement.consumer}
        effective = lifecycle.effective_from(agreement.valid_from, agreement.accepted_at)
        if effective is None or start < effective:
            found.add("before-effective")
        if end >= agreement.valid_until:
            found.add("after-validity")
        if agreement.closed_at is not None and end > agreement.closed_at:
            found.add("after-closure")
        if receipt.consumer != agreement.consumer:
            found.add("consumer-mismatch")
    if any(suspended_within(changes.get(d, ()), start, end) for d in departments):
        found.add("department-inactive")
    if end > receipt.recorded_at:
        found.add("future-period")
    if receipt.entry_count == 0:
        found.add("empty")
    if start > end:
        found.add("period-inverted")
    return [flag for flag in RECEIPT_FLAGS if flag in found]


def review_receipts(
    *,
    session: Session,
    flagged_only: bool = False,
    agreement: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """Every access receipt beside its agreement, in the order they were recorded (block, then
    agreement id and receipt index), each with its ``flags`` (:data:`RECEIPT_FLAGS`, empty for
    a receipt within its agreement's scope and validity); ``flagged_only`` leaves out the
    receipts without flags, ``agreement`` (an id) those of other agreements. Each item's
    ``agreement`` is the agreement as :func:`list_agreements` gives it (None when the index
    holds none)."""
    _check_limit(limit)
    names, now, changes = _Names(session), status_time(session=session), _status_changes(session)
    query = select(AccessReceiptRow, AgreementRow).outerjoin(
        AgreementRow, col(AgreementRow.id) == col(AccessReceiptRow.agreement_id)
    )
    if agreement is not None:
        query = query.where(AccessReceiptRow.agreement_id == agreement)
    keys = (
        col(AccessReceiptRow.block_number),
        col(AccessReceiptRow.agreement_id),
        col(AccessReceiptRow.receipt_index),
    )

    def row_key(row: Any) -> tuple[int, str, int]:
        receipt = row[0]
        return (receipt.block_number, receipt.agreement_id, receipt.receipt_index)

    def render(row: Any, flags: list[str]) -> dict[str, Any]:
        receipt, terms = row
        return {
            "agreement_id": receipt.agreement_id,
            "agreement": None
            if terms is None
            else _agreement(session, terms, names, now, receipts=False),
            "index": receipt.receipt_index,
            "consumer": names.ref(receipt.consumer),
            "log_root": receipt.log_root,
            "entry_count": receipt.entry_count,
            "period_start": iso(receipt.period_start),
            "period_end": iso(receipt.period_end),
            "recorded_at": iso(receipt.recorded_at),
            "block_number": receipt.block_number,
            "transaction": receipt.tx_hash,
            "flags": flags,
        }

    if not flagged_only:
        return keyset_page(
            session,
            query,
            keys,
            cursor,
            limit,
            row_key,
            lambda row: render(row, receipt_flags(row[0], row[1], changes)),
        )
    # Flags are computed here, not in SQL: read on in chunks until a page of flagged ones.
    kept: list[tuple[Any, list[str]]] = []
    scan = _after(query, keys, cursor)
    while True:
        rows = session.exec(scan.order_by(*keys).limit(_REVIEW_SCAN)).all()
        for row in rows:
            flags = receipt_flags(row[0], row[1], changes)
            if not flags:
                continue
            if len(kept) == limit:
                return Page(
                    items=[render(r, f) for r, f in kept],
                    next_cursor=encode_cursor(row_key(kept[-1][0])),
                )
            kept.append((row, flags))
        if len(rows) < _REVIEW_SCAN:
            return Page(items=[render(r, f) for r, f in kept], next_cursor=None)
        scan = query.where(tuple_(*keys) > tuple(row_key(rows[-1])))


RECEIPT_CSV_FIELDS = (
    "agreement_id",
    "receipt_index",
    "flags",
    "agreement_status",
    "provider_id",
    "provider",
    "consumer_id",
    "consumer",
    "receipt_consumer_id",
    "receipt_consumer",
    "datasets",
    "purpose",
    "purpose_text",
    "effective_from",
    "valid_until",
    "closed_at",
    "period_start",
    "period_end",
    "entry_count",
    "log_root",
    "recorded_at",
    "block_number",
    "transaction",
)


def receipts_csv(items: Sequence[dict[str, Any]], texts: dict[str, str] | None = None) -> str:
    """Reviewed receipts (as :func:`review_receipts` gives them) as CSV, one row each: the
    flags joined with spaces, several datasets too; ``texts`` (hash → text, as the catalogue
    checked it) fills ``purpose_text``. Every cell through
    :func:`ledger.spreadsheet.csv_text` (a byte order mark, no formula evaluated)."""
    known = texts or {}

    def row(item: dict[str, Any]) -> dict[str, Any]:
        agreement = item["agreement"] or {}
        provider, consumer = agreement.get("provider") or {}, agreement.get("consumer") or {}
        datasets = agreement.get("datasets") or []
        receipt_consumer = item["consumer"] or {}
        return {
            "agreement_id": item["agreement_id"],
            "receipt_index": item["index"],
            "flags": " ".join(item["flags"]),
            "agreement_status": agreement.get("status"),
            "provider_id": provider.get("id"),
            "provider": provider.get("name"),
            "consumer_id": consumer.get("id"),
            "consumer": consumer.get("name"),
            "receipt_consumer_id": receipt_consumer.get("id"),
            "receipt_consumer": receipt_consumer.get("name"),
            "datasets": " ".join(datasets),
            "purpose": agreement.get("purpose"),
            "purpose_text": known.get(agreement.get("purpose") or ""),
            "effective_from": agreement.get("effective_from"),
            "valid_until": agreement.get("valid_until"),
            "closed_at": agreement.get("closed_at"),
            "period_start": item["period_start"],
            "period_end": item["period_end"],
            "entry_count": item["entry_count"],
            "log_root": item["log_root"],
            "recorded_at": item["recorded_at"],
            "block_number": item["block_number"],
            "transaction": item["transaction"],
        }

    return spreadsheet.csv_text(RECEIPT_CSV_FIELDS, (row(item) for item in items))


def export_receipts(
    *,
    session: Session,
    flagged_only: bool = False,
    agreement: str | None = None,
    max_rows: int = 100_000,
) -> str:
    """The receipts review (:func:`review_receipts`, every page of it; ExportTooLargeError
    beyond ``max_rows``) as CSV (:func:`receipts_csv`), each purpose named when the
    catalogue's text gives its hash."""
    items = every_item(
        lambda cursor: review_receipts(
            session=session,
            flagged_only=flagged_only,
            agreement=agreement,
            cursor=cursor,
            limit=MAX_PAGE,
        ),
        max_rows=max_rows,
    )
    purposes = [item["agreement"]["purpose"] for item in items if item["agreement"]]
    return receipts_csv(items, verified_texts(session=session, hashes=purposes))
