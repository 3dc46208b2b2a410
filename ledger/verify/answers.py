"""What a verification answers: the matching versions, their lineage and the agreements
allowing receipt, as plain data (``as_dict`` gives the JSON the CLI and the API print)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._errors import NotAnchoredError, NotConfirmedError, RecordErasedError, RevokedVersionError

__all__ = [
    "Authorization",
    "Department",
    "Erasure",
    "Match",
    "Receipt",
    "Verification",
    "Version",
]


@dataclass
class Department:
    id: str
    name: str | None
    status: str | None


@dataclass
class Version:
    id: str  # keccak256(abi.encode(dataset_id, root)): a version is keyed by both
    root: str
    dataset_id: str
    owner: Department
    anchored_by: Department
    leaf_count: int
    block_number: int
    anchored_at: str | None
    transaction: str
    confirmations: int
    final: bool
    revoked_at: str | None
    parents: list[str]  # version ids


@dataclass
class Receipt:
    index: int
    log_root: str
    entry_count: int
    period_start: str | None
    period_end: str | None
    recorded_at: str | None
    transaction: str


@dataclass
class Authorization:
    agreement_id: str
    provider: Department
    consumer: Department
    purpose: str
    legal_basis: str
    terms_hash: str
    valid_from: str | None
    valid_until: str | None
    receipts: list[Receipt]


@dataclass
class Erasure:
    """The erasure of a record (its salt destroyed by its owner), as the chain records it:
    the leaf is under ``erased_root`` by ``proof`` (a tree of ``(bytes32 leaf)`` values), and
    ``DatasetRegistry.erasure(dataset, root, erased_root)`` holds its count and time."""

    id: str
    erased_root: str
    count: int
    erased_at: str | None
    erased_by: Department
    reason_hash: str
    transaction: str
    block_number: int
    proof: list[str]


@dataclass
class Match:
    leaf_hash: str
    kind: str
    content_hash: str | None
    path: str | None
    record_index: int | None
    version: Version
    lineage: list[Version]
    authorizations: list[Authorization]
    erasure: Erasure | None = None
    digest: str = "sha256"  # what hashed the content: sha256 or sm3 (docs/SM3.md)
    #: Records of the version its owner erased that this gateway cannot name (another
    #: department's erasures): whether this one is among them, only the owner's gateway says.
    unattributed_erasures: int = 0

    @property
    def status(self) -> str:
        if self.erasure is not None:
            return "erased"
        if self.version.revoked_at is not None:
            return "revoked"
        return "anchored" if self.version.final else "unconfirmed"


@dataclass
class Verification:
    """The answer for one file, hash or record."""

    query: str
    matches: list[Match] = field(default_factory=list)
    #: The index's block when the answer was made (None: nothing indexed yet).
    index_block: int | None = None
    #: False when the chain node did not answer: the answer is the index's alone, its
    #: confirmations counted up to ``index_block``.
    node_reachable: bool = True
    #: What the answer was made at (index generation, chain head, chain time) when another
    #: answer made at the same stamp is the same answer (see ``Verifier.stamp_async``);
    #: None when it may differ (the node not reached, a version not final yet or not
    #: indexed yet).
    stamp: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def anchored(self) -> bool:
        return any(m.status == "anchored" for m in self.matches)

    def raise_for_status(self) -> None:
        """Raise the typed error when no match is anchored, final and unrevoked."""
        if not self.matches:
            raise NotAnchoredError(
                f"{self.query} is not anchored in any dataset version known here."
            )
        if self.anchored:
            return
        first = self.matches[0]
        if first.erasure is not None:
            by = first.erasure.erased_by
            raise RecordErasedError(
                f"{self.query} was erased on {first.erasure.erased_at} by {by.name or by.id} "
                f"(version {first.version.root})."
            )
        if first.status == "revoked":
            raise RevokedVersionError(
                f"{self.query} was anchored in version {first.version.root}, which its owner revoked "
                f"at {first.version.revoked_at}."
            )
        raise NotConfirmedError(
            f"{self.query} is in version {first.version.root}, which has {first.version.confirmations} "
            "confirmation(s), fewer than required."
        )

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready dicts (what ``dataclasses.asdict`` gives, made faster)."""
        return {
            "query": self.query,
            "anchored": self.anchored,
            "matches": [_match_dict(m) for m in self.matches],
            "index": {"block_number": self.index_block, "node_reachable": self.node_reachable},
        }


def _department_dict(d: Department) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "status": d.status}


def _version_dict(v: Version) -> dict[str, Any]:
    return {
        "id": v.id,
        "root": v.root,
        "dataset_id": v.dataset_id,
        "owner": _department_dict(v.owner),
        "anchored_by": _department_dict(v.anchored_by),
        "leaf_count": v.leaf_count,
        "block_number": v.block_number,
        "anchored_at": v.anchored_at,
        "transaction": v.transaction,
        "confirmations": v.confirmations,
        "final": v.final,
        "revoked_at": v.revoked_at,
        "parents": list(v.parents),
    }


def _authorization_dict(a: Authorization) -> dict[str, Any]:
    return {
        "agreement_id": a.agreement_id,
        "provider": _department_dict(a.provider),
        "consumer": _department_dict(a.consumer),
        "purpose": a.purpose,
        "legal_basis": a.legal_basis,
        "terms_hash": a.terms_hash,
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "receipts": [
            {
                "index": r.index,
                "log_root": r.log_root,
                "entry_count": r.entry_count,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "recorded_at": r.recorded_at,
                "transaction": r.transaction,
            }
            for r in a.receipts
        ],
    }


def _match_dict(m: Match) -> dict[str, Any]:
    return {
        "leaf_hash": m.leaf_hash,
        "kind": m.kind,
        "digest": m.digest,
        "content_hash": m.content_hash,
        "path": m.path,
        "record_index": m.record_index,
        "version": _version_dict(m.version),
        "lineage": [_version_dict(v) for v in m.lineage],
        "authorizations": [_authorization_dict(a) for a in m.authorizations],
        "erasure": _erasure_dict(m.erasure) if m.erasure is not None else None,
        "unattributed_erasures": m.unattributed_erasures,
        "status": m.status,
    }


def _erasure_dict(e: Erasure) -> dict[str, Any]:
    return {
        "id": e.id,
        "erased_root": e.erased_root,
        "count": e.count,
        "erased_at": e.erased_at,
        "erased_by": _department_dict(e.erased_by),
        "reason_hash": e.reason_hash,
        "transaction": e.transaction,
        "block_number": e.block_number,
        "proof": list(e.proof),
    }
