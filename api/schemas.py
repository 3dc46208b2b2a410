"""The answers of the API as Pydantic models: what ``/openapi.json`` documents for each route.

Each model is what a route really answers, field by field and in the same order (the route
builds a dict, :mod:`ledger.db.queries`, :mod:`ledger.verify.answers`,
:mod:`ledger.submissions`, and FastAPI validates and serializes it through the model given as
``response_model``). Every model forbids members it does not declare: a member an answer gains
without its model fails loudly (a 500 in the tests) instead of vanishing from the answer.

A member that an answer carries only sometimes (a match's ``proof``, the relations of a PROV
document, ``error`` in the readiness) has a default and is not required; the routes that give
such answers serialize with ``response_model_exclude_unset``, so the member is absent, never
null, when the answer leaves it out.

Hashes and ids are 0x and 64 lowercase hex digits; times are ISO 8601 in UTC
(``2026-11-20T08:00:00+00:00``) or null for none, and for a time past year 9999 ("forever").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from ledger.trust import TRUST_FORMAT
from ledger.verify.bundles import BUNDLE_FORMAT

__all__ = [
    "AccessProofCheck",
    "AccessReceipt",
    "Agreement",
    "AgreementList",
    "AgreementTransaction",
    "AgreementWithReceipts",
    "AuditEvent",
    "AuditEventList",
    "Authorization",
    "Batch",
    "BatchList",
    "CatalogueDocument",
    "CatalogueImport",
    "CatalogueNames",
    "CheckpointAnswer",
    "CheckpointConflictAnswer",
    "CheckpointConflictList",
    "CheckpointSignatures",
    "Commitment",
    "CommitmentList",
    "CommitmentParticipant",
    "CommitmentTransaction",
    "ConsortiumAnswer",
    "ConsortiumContracts",
    "CosignedCheckpointForm",
    "Dataset",
    "DatasetList",
    "DatasetSummary",
    "DatasetVersion",
    "Department",
    "DepartmentList",
    "DepartmentRef",
    "Document",
    "DocumentsAnswer",
    "FileVerifyAnswer",
    "Health",
    "IndexStatus",
    "LineageEdge",
    "Named",
    "ProofBundle",
    "ProofLeaf",
    "ProofPublisher",
    "Proposal",
    "ProposalList",
    "ProposalTransaction",
    "Provenance",
    "Readiness",
    "ReceiptTransaction",
    "ReviewedReceipt",
    "ReviewedReceiptList",
    "VerifiedAuthorization",
    "VerifiedDepartment",
    "VerifiedReceipt",
    "VerifiedVersion",
    "VerifyAnswer",
    "VerifyIndex",
    "VerifyMatch",
]


class _Answer(BaseModel):
    """An answer's object: every member declared, no other allowed."""

    model_config = ConfigDict(extra="forbid")


def _hash(what: str) -> Any:
    return Field(description=f"{what} (0x and 64 hex digits).")


def _time(what: str) -> Any:
    return Field(description=f"{what} (ISO 8601, UTC); null when none.")


Time = Annotated[str | None, Field(description="ISO 8601 (UTC); null when none.")]
Cursor = Annotated[
    str | None,
    Field(description="Pass as `cursor` for the next page; null on the last page."),
]
_HEX_HASH = r"^0x[0-9a-f]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Address = Annotated[str, Field(pattern=_ADDRESS, description="EIP-55 checksummed address.")]

#: A department's status on chain.
DepartmentStatus = Literal["active", "suspended"]
#: What a reader should be warned of in a name read from the chain (ledger.display.FLAGS).
NameFlag = Literal["invalid-utf8", "control", "bidi", "zero-width", "confusable", "lookalike"]
#: An agreement's status: the chain's, with ``pending`` and ``expired`` from the time
#: (ledger.db.queries.AGREEMENT_STATUSES).
AgreementStatus = Literal[
    "proposed", "pending", "active", "expired", "rejected", "withdrawn", "revoked", "superseded"
]
#: A commitment's status: the chain's, with ``overdue`` from the time.
CommitmentStatus = Literal["proposed", "active", "overdue", "completed", "cancelled"]
#: Where a match stands: anchored (final, unrevoked), not final yet, or revoked by its owner.
MatchStatus = Literal["anchored", "unconfirmed", "revoked", "erased"]
LeafKind = Literal["file", "record"]
#: A batch's status: its own while collecting, then its anchoring's (ledger.submissions).
BatchStatus = Literal[
    "collecting", "sealed", "pending", "sent", "confirmed", "failed", "abandoned", "redirected"
]
ContractName = Literal[
    "DepartmentRegistry", "DatasetRegistry", "SharingAgreements", "JointCommitments"
]
NotReadyReason = Literal[
    "node-unreachable",
    "chain-halted",
    "database-unreachable",
    "index-pass-failed",
    "index-behind",
    "index-stale",
    "checkpoint-conflict",
]


# --------------------------------------------------------------------------- departments


class DepartmentRef(_Answer):
    """A department as the index's answers name it. Show ``name`` with ``id`` beside it when
    ``name_flags`` is not empty (``GET /v1/departments/{id}`` gives its ``display_name``)."""

    id: str = _hash("Department id")
    name: str | None = Field(
        description="Its name as on chain (untrusted text); null when the index does not know "
        "the department."
    )
    name_flags: list[NameFlag] = Field(description="What to warn of in the name; [] when none.")


class Department(_Answer):
    """A member of the consortium. Show ``display_name``, not ``name``."""

    id: str = _hash("Department id: keccak256 of its code")
    name: str = Field(
        description="Its name as on chain (untrusted: may hold invisible or reordering characters)."
    )
    display_name: str = Field(
        description="The name to show: invisible and reordering characters escaped, the id "
        "beside a flagged name."
    )
    name_flags: list[NameFlag] = Field(description="What to warn of in the name; [] when none.")
    name_hex: str | None = Field(
        description="The name's bytes (0x hex) when the text cannot say them exactly (invalid "
        "UTF-8, NUL); else null."
    )
    status: DepartmentStatus = Field(description="Whether its votes and consents count.")
    admitted_at: Time = _time("When it was admitted")
    status_changed_at: Time = _time("When its status last changed")


class DepartmentList(_Answer):
    """A page of departments, in order of admission."""

    items: list[Department] = Field(description="The departments of this page.")
    next_cursor: Cursor


# --------------------------------------------------------------------------- agreements


class Agreement(_Answer):
    """A data-sharing agreement (数据共享授权) as the index holds it."""

    id: str = _hash("Agreement id")
    status: AgreementStatus = Field(
        description="The chain's status, with `pending` (accepted, not effective yet) and "
        "`expired` (validity over) from the time."
    )
    provider: DepartmentRef = Field(description="The department sharing the data.")
    consumer: DepartmentRef = Field(description="The department receiving it.")
    proposer: DepartmentRef = Field(description="The party that proposed the agreement.")
    datasets: list[str] = Field(description="The dataset ids it covers (sorted).")
    purpose: str = _hash("keccak256 of the purpose code")
    legal_basis: str = _hash("keccak256 of the legal basis")
    terms_hash: str = _hash("SHA-256 of the terms document")
    valid_from: Time = _time("Start of validity as signed")
    effective_from: Time = _time(
        "When it authorizes: the later of `valid_from` and the acceptance; null until accepted"
    )
    valid_until: Time = _time("End of validity (exclusive)")
    proposed_at: Time = _time("When it was proposed")
    accepted_at: Time = _time("When the counterparty accepted")
    accepted_by: str | None = Field(description="The account that accepted; null until accepted.")
    closed_at: Time = _time("When it was rejected, withdrawn, revoked or superseded")
    reason_hash: str | None = Field(
        description="keccak256 of the reason given on closing; null when none."
    )
    supersedes: str | None = Field(description="The agreement this one amends; null when none.")
    superseded_by: str | None = Field(description="The amendment that replaced it; null when none.")


class AccessReceipt(_Answer):
    """What a consumer recorded of its use of the data: the Merkle root of its access-log
    entries over a period."""

    index: int = Field(description="Position among the agreement's receipts, from 0.")
    log_root: str = _hash("Merkle root of the access-log entries")
    entry_count: int = Field(description="Number of entries under `log_root`.")
    period_start: Time = _time("Start of the period the entries cover")
    period_end: Time = _time("End of that period")
    recorded_at: Time = _time("When the receipt was recorded")
    block_number: int = Field(description="Block of the receipt's transaction.")
    transaction: str = _hash("Transaction hash")


class AgreementWithReceipts(Agreement):
    """An agreement and its access receipts."""

    access_receipts: list[AccessReceipt] = Field(description="In the order recorded.")


class AgreementList(_Answer):
    """A page of agreements, oldest proposal first."""

    items: list[Agreement] = Field(description="The agreements of this page.")
    next_cursor: Cursor


class IndexStatus(_Answer):
    """How far the index has read the chain."""

    block_number: int | None = Field(description="The index's block; null before any pass.")
    block_time: Time = _time("That block's time")
    chain_id: int | None = Field(description="The chain the index reads; null before any pass.")
    synced_at: Time = _time("When the index was last found caught up with the confirmed head")
    age_seconds: int | None = Field(description="Seconds since `synced_at`; null when never.")


class Authorization(_Answer):
    """Whether the provider may share the dataset with the consumer for the purpose now."""

    authorized: bool | None = Field(
        description="null when the node did not answer and the index is too old to say."
    )
    status: Literal["authorized", "not-authorized", "unknown"] = Field(
        description="`authorized` as a word."
    )
    source: Literal["chain", "index"] = Field(description="Who answered.")
    block_number: int | None = Field(
        description="The chain's head asked (`chain`), or the index's block (`index`)."
    )
    agreement_id: str | None = Field(description="The authorizing agreement; null when none.")
    agreement: Agreement | None = Field(
        description="That agreement as the index holds it; null when none or not indexed yet."
    )
    index: IndexStatus = Field(description="How far the index has read the chain.")


class AgreementTransaction(_Answer):
    """A transaction about an agreement, mined and successful."""

    agreement_id: str = _hash("Agreement id")
    transaction: str = _hash("Transaction hash")
    block_number: int = Field(description="Block it was mined in.")


# --------------------------------------------------------------------------- datasets


class DatasetSummary(_Answer):
    """A registered dataset, with its number of versions and its latest root."""

    id: str = _hash("Dataset id: derived from its owner and its catalogue code")
    owner: DepartmentRef = Field(description="The department that registered it.")
    code_hash: str = _hash("keccak256 of the catalogue code")
    metadata_hash: str = _hash("Hash of its metadata document")
    registered_at: Time = _time("When it was registered")
    transaction: str = _hash("The registration's transaction")
    version_count: int = Field(description="Versions anchored.")
    latest_root: str | None = Field(description="Root of the newest version; null when none.")
    latest_anchored_at: Time = _time("When the newest version was anchored")


class DatasetList(_Answer):
    """A page of datasets, oldest first."""

    items: list[DatasetSummary] = Field(description="The datasets of this page.")
    next_cursor: Cursor


class VersionErasure(_Answer):
    """An erasure of records of a version (docs/ERASURE.md): nothing names the records."""

    id: str = _hash("Erasure id (computeErasureId)")
    erased_root: str = _hash("Merkle root of the erased leaves, each a (bytes32) leaf")
    count: int = Field(description="How many records were erased.")
    erased_at: Time = _time("When they were erased")
    erased_by: DepartmentRef = Field(description="The department that erased them.")
    reason_hash: str = _hash("keccak256 of the reason (kept by the owner)")
    block_number: int = Field(description="Block of the erasure.")
    transaction: str = _hash("The erasure's transaction")


class DatasetVersion(_Answer):
    """A version of a dataset as the index holds it: a Merkle root over its leaves."""

    id: str = _hash("Version id: keccak256(abi.encode(dataset id, root))")
    root: str = _hash("Merkle root of the version's leaves")
    dataset_id: str = _hash("Dataset id")
    department: DepartmentRef = Field(description="The department that anchored it.")
    leaf_count: int = Field(description="Leaves under the root.")
    metadata_hash: str = _hash("Hash of the version's metadata")
    anchored_at: Time = _time("When it was anchored")
    block_number: int = Field(description="Block of the anchoring.")
    transaction: str = _hash("The anchoring's transaction")
    parents: list[str] = Field(description="Ids of the versions it derives from.")
    status: Literal["anchored", "revoked"] = Field(
        description="`revoked` once its owner revoked it."
    )
    revoked_at: Time = _time("When it was revoked")
    revoke_reason_hash: str | None = Field(
        description="keccak256 of the revocation's reason; null unless revoked."
    )
    erasures: list[VersionErasure] = Field(
        description="Erasures of its records by its owner, oldest first (docs/ERASURE.md)."
    )


class LineageEdge(_Answer):
    """A version derived from another."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="The parent version's id.")
    to: str = _hash("The derived version's id")


class Dataset(_Answer):
    """A dataset with every version (oldest first), the lineage between them and the agreements
    covering it."""

    id: str = _hash("Dataset id")
    owner: DepartmentRef = Field(description="The department that registered it.")
    code_hash: str = _hash("keccak256 of the catalogue code")
    metadata_hash: str = _hash("Hash of its metadata document")
    registered_at: Time = _time("When it was registered")
    block_number: int = Field(description="Block of the registration.")
    transaction: str = _hash("The registration's transaction")
    versions: list[DatasetVersion] = Field(description="Every version, oldest first.")
    lineage: list[LineageEdge] = Field(description="Parent → child edges between versions.")
    agreements: list[Agreement] = Field(description="Agreements covering it, oldest first.")


class Provenance(_Answer):
    """The dataset as a W3C PROV-JSON document: versions, agreements and access receipts as
    entities and activities, departments as agents. A relation is present only when the
    document has one of its kind."""

    prefix: dict[str, str] = Field(description="Namespace prefixes (`xt`, `prov`).")
    entity: dict[str, dict[str, Any]] = Field(
        description="The dataset, its versions and agreements, by PROV identifier."
    )
    agent: dict[str, dict[str, Any]] = Field(description="Departments, by PROV identifier.")
    activity: dict[str, dict[str, Any]] = Field(description="Anchorings and data accesses.")
    wasDerivedFrom: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(  # noqa: N815
        default=None, description="Version lineage."
    )
    wasAttributedTo: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(  # noqa: N815
        default=None, description="Who published a version, who are an agreement's parties."
    )
    wasGeneratedBy: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(  # noqa: N815
        default=None, description="The anchoring of each version."
    )
    used: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(
        default=None, description="Data accesses of the dataset."
    )
    wasAssociatedWith: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(  # noqa: N815
        default=None, description="Who anchored, who accessed under which agreement."
    )
    hadMember: dict[str, dict[str, Any]] | SkipJsonSchema[None] = Field(  # noqa: N815
        default=None, description="The dataset (a prov:Collection) and its versions."
    )


# --------------------------------------------------------------------------- verification


class ProofLeaf(_Answer):
    """The leaf a proof bundle proves, with its values."""

    kind: LeafKind = Field(description="A file (content hash, name) or a record (hash, salt).")
    types: list[str] = Field(
        description="ABI types of the values: [bytes32, string] (file) or [bytes32, bytes32] "
        "(record)."
    )
    values: list[str] = Field(
        description="The values: file content SHA-256 and name, or record hash and salt."
    )
    hash: str = _hash("The leaf hash")


class ProofPublisher(_Answer):
    """The department the bundle claims anchored the version."""

    id: str = _hash("Department id")


class SealedTransaction(_Answer):
    """The anchor transaction's place in its block and its Merkle-Patricia proof."""

    index: int = Field(ge=0, description="Its index in the block (the trie key is RLP(index)).")
    proof: list[str] = Field(description="RLP trie nodes, 0x-hex, from the root.")


class SealedReceipt(_Answer):
    """The anchor receipt's Merkle-Patricia proof (same key as the transaction's)."""

    proof: list[str] = Field(description="RLP trie nodes, 0x-hex, from the root.")


class SealedEvidence(_Answer):
    """What checks the anchor with no node: sealed headers and trie proofs
    (docs/OFFLINE_PROOFS.md)."""

    headers: list[str] = Field(
        description="RLP headers, 0x-hex: the anchor block's, then each child until a majority "
        "of the Clique signers sealed."
    )
    transaction: SealedTransaction
    receipt: SealedReceipt
    history: list[str] | None = Field(
        description="The headers from block 1 to the anchor's parent when the signer set changed "
        "by votes since genesis; else null."
    )


class CosignatureForm(_Answer):
    """One cosignature of a checkpoint's JSON form."""

    address: Address
    time: int = Field(ge=0, description="When it signed (Unix seconds).")
    signature: str = Field(pattern=r"^0x[0-9a-f]{130}$", description="r ‖ s ‖ v, 65 bytes.")


class CosignedCheckpointForm(_Answer):
    """A checkpoint in its JSON form (docs/CHECKPOINTS.md), as a proof bundle carries it."""

    number: int = Field(ge=0, description="The block number.")
    hash: str = Field(pattern=_HEX_HASH, description="The block's hash.")
    cosignatures: list[CosignatureForm] = Field(description="Ascending by address.")


class ProofBundle(_Answer):
    """A ``xietong-proof/3`` bundle: checks with ``xietong verify-proof`` against any node of
    the consortium and its trust file, without trusting this gateway; on the consortium
    network also with no node at all (``--offline``), from its sealed headers."""

    format: Literal["xietong-proof/3"] = Field(description=f"Always `{BUNDLE_FORMAT}`.")
    leaf: ProofLeaf = Field(description="The leaf and its values.")
    proof: list[str] = Field(description="The Merkle path from the leaf to the root.")
    root: str = _hash("The version's root")
    dataset_id: str = _hash("Dataset id")
    version_id: str = _hash("Version id")
    leaf_count: int = Field(description="Leaves under the root.")
    chain_id: int = Field(description="The consortium's chain id.")
    contract: str = Field(description="The DatasetRegistry's address (EIP-55).")
    transaction: str = _hash("The anchoring's transaction")
    block_number: int = Field(description="Block of the anchoring.")
    anchored_at: Time = _time("When it was anchored")
    publisher: ProofPublisher = Field(description="The department that anchored it.")
    sealed: SealedEvidence | None = Field(
        description="The sealed headers and trie proofs on a Clique network; null on a chain "
        "without seals (Hardhat, Anvil): check such a bundle against a node."
    )
    checkpoint: CosignedCheckpointForm | None = Field(
        default=None,
        description="The lowest checkpoint at or above the anchor's block cosigned by the trust "
        "file's threshold of departments (docs/CHECKPOINTS.md); absent while there is none.",
    )


class VerifiedDepartment(_Answer):
    """A department as a verification names it."""

    id: str = _hash("Department id")
    name: str | None = Field(
        description="Its name as on chain (untrusted text); null when the index does not know it."
    )
    status: DepartmentStatus | None = Field(description="null when the index does not know it.")


class VerifiedVersion(_Answer):
    """A version holding the leaf, and how final it is."""

    id: str = _hash("Version id")
    root: str = _hash("Merkle root")
    dataset_id: str = _hash("Dataset id")
    owner: VerifiedDepartment = Field(description="The dataset's owner.")
    anchored_by: VerifiedDepartment = Field(description="The department that anchored it.")
    leaf_count: int = Field(description="Leaves under the root.")
    block_number: int = Field(description="Block of the anchoring.")
    anchored_at: Time = _time("When it was anchored")
    transaction: str = _hash("The anchoring's transaction")
    confirmations: int = Field(description="Blocks from the anchoring's to the chain's head.")
    final: bool = Field(description="Whether it has the confirmations the gateway requires.")
    revoked_at: Time = _time("When its owner revoked it")
    parents: list[str] = Field(description="Ids of the versions it derives from.")


class VerifiedReceipt(_Answer):
    """An access receipt of an authorizing agreement."""

    index: int = Field(description="Position among the agreement's receipts, from 0.")
    log_root: str = _hash("Merkle root of the access-log entries")
    entry_count: int = Field(description="Number of entries under `log_root`.")
    period_start: Time = _time("Start of the period the entries cover")
    period_end: Time = _time("End of that period")
    recorded_at: Time = _time("When the receipt was recorded")
    transaction: str = _hash("The receipt's transaction")


class VerifiedAuthorization(_Answer):
    """An agreement letting the dataset's owner share it now, both parties active."""

    agreement_id: str = _hash("Agreement id")
    provider: VerifiedDepartment = Field(description="The department sharing the data.")
    consumer: VerifiedDepartment = Field(description="The department receiving it.")
    purpose: str = _hash("keccak256 of the purpose code")
    legal_basis: str = _hash("keccak256 of the legal basis")
    terms_hash: str = _hash("SHA-256 of the terms document")
    valid_from: Time = _time("Start of validity")
    valid_until: Time = _time("End of validity (exclusive)")
    receipts: list[VerifiedReceipt] = Field(description="Its access receipts.")


class VerifiedErasure(_Answer):
    """The erasure of a record by its owner (its salt destroyed; docs/ERASURE.md)."""

    id: str = _hash("Erasure id (computeErasureId)")
    erased_root: str = _hash("Merkle root of the erased leaves, each a (bytes32) leaf")
    count: int = Field(description="How many records the erasure holds.")
    erased_at: Time = _time("When it was erased")
    erased_by: VerifiedDepartment = Field(description="The department that erased it.")
    reason_hash: str = _hash("keccak256 of the reason (kept by the owner)")
    transaction: str = _hash("The erasure's transaction")
    block_number: int = Field(description="Block of the erasure.")
    proof: list[str] = Field(
        description="Sibling hashes from the record's leaf (as a (bytes32) leaf) to "
        "`erased_root`, which DatasetRegistry.erasure(dataset, root, erased_root) holds."
    )


class ErasureBody(BaseModel):
    """Records of one version to erase, by their leaves (the salts stay with the client)."""

    leaves: list[str] = Field(
        min_length=1,
        max_length=10_000,
        description="The record leaves to erase (0x and 64 hex digits), each once.",
        examples=[["0x" + "0b" * 32]],
    )
    reason: str = Field(
        min_length=1,
        max_length=1000,
        description="Why (a request number, never a name); only its hash goes on chain, the "
        "text is kept nowhere.",
        examples=["PIPL-2026-0113"],
    )
    root: str | None = Field(
        default=None,
        description="The version's root, when several versions of the dataset hold the leaves.",
    )


class ErasureReceipt(_Answer):
    """An erasure recorded on chain (docs/ERASURE.md)."""

    erasure_id: str = _hash("Erasure id (computeErasureId)")
    dataset_id: str = _hash("Dataset id")
    root: str = _hash("The version's root")
    erased_root: str = _hash("Merkle root of the erased leaves, each a (bytes32) leaf")
    count: int = Field(description="How many records were erased.")
    reason_hash: str = _hash("keccak256 of the reason")
    transaction: str | None = Field(
        description="The erasure's transaction; null when the chain held it already."
    )
    block_number: int | None = Field(description="Its block; null with `transaction`.")


class VerifyMatch(_Answer):
    """A version holding the file, hash or record."""

    leaf_hash: str = _hash("The leaf")
    kind: LeafKind = Field(description="A file leaf or a record leaf.")
    digest: Literal["sha256", "sm3"] = Field(
        description="What hashed the file's content or the record's canonical JSON: its "
        "dataset's digest (docs/SM3.md)."
    )
    content_hash: str | None = Field(
        description="The file's SHA-256 (SM3 when `digest` is sm3); null for a record."
    )
    path: str | None = Field(description="The file's name in the version; null for a record.")
    record_index: int | None = Field(description="The record's row; null for a file.")
    version: VerifiedVersion = Field(description="The version holding the leaf.")
    lineage: list[VerifiedVersion] = Field(
        description="The versions it derives from, breadth first."
    )
    authorizations: list[VerifiedAuthorization] = Field(
        description="Agreements letting its owner share the dataset now."
    )
    erasure: VerifiedErasure | None = Field(
        description="The record's erasure by its owner; null unless erased (status `erased`)."
    )
    unattributed_erasures: int = Field(
        description="Records of this version its owner erased that this gateway cannot name "
        "(another department's erasures: which leaves, only the erasing gateway knows); when "
        "not 0, whether this record is one of them is for the owner's gateway to answer. 0 for "
        "an erased match.",
        ge=0,
    )
    status: MatchStatus = Field(description="Where this version stands.")
    proof_url: str = Field(description="Where its proof bundle is (GET).")
    proof: ProofBundle | SkipJsonSchema[None] = Field(
        default=None,
        description="Its proof bundle: present when asked for with `with_proof` (file matches "
        "of GET /v1/verify and POST /v1/verify/file; every match of POST /v1/verify/record).",
    )


class VerifyIndex(_Answer):
    """The index the answer was made from."""

    block_number: int | None = Field(description="The index's block; null before any pass.")
    node_reachable: bool = Field(
        description="false when the chain node did not answer: the index alone answered."
    )


class VerifyAnswer(_Answer):
    """Where a file, hash or record is anchored, by whom, when, and who may receive it."""

    query: str = Field(description="What was asked, in words.")
    anchored: bool = Field(description="Whether any match is anchored, final and unrevoked.")
    matches: list[VerifyMatch] = Field(
        description="Every version holding it: anchored first, newest first."
    )
    index: VerifyIndex = Field(description="The index the answer was made from.")
    status: MatchStatus = Field(description="The first match's status.")


class FileVerifyAnswer(VerifyAnswer):
    """A verification of an uploaded file."""

    size: int = Field(description="Bytes received.")


# --------------------------------------------------------------------------- commitments


class CommitmentParticipant(_Answer):
    """A participant of a joint-handling commitment and its duty."""

    department: DepartmentRef = Field(description="The participating department.")
    duty_hash: str = _hash("keccak256 of its duty")
    signed_at: Time = _time("When it signed")
    signer: str | None = Field(description="The account that signed; null until signed.")
    done_at: Time = _time("When it reported its duty done")
    last_evidence_hash: str | None = Field(
        description="keccak256 of its last evidence; null before any report."
    )
    report_count: int = Field(description="Progress reports made.")


class Commitment(_Answer):
    """A joint-handling commitment (联办承诺)."""

    id: str = _hash("Commitment id")
    status: CommitmentStatus = Field(
        description="The chain's status, with `overdue` when not closed by its deadline."
    )
    matter_ref: str = _hash("keccak256 of the matter's reference")
    lead: DepartmentRef = Field(description="The leading department.")
    deadline: Time = _time("The deadline")
    proposed_at: Time = _time("When it was proposed")
    activated_at: Time = _time("When every participant had signed")
    closed_at: Time = _time("When it was completed or cancelled")
    closing_hash: str | None = Field(
        description="keccak256 of the closing evidence or reason; null while open."
    )
    participants: list[CommitmentParticipant] = Field(description="In the order proposed.")


class CommitmentList(_Answer):
    """A page of commitments, oldest first."""

    items: list[Commitment] = Field(description="The commitments of this page.")
    next_cursor: Cursor


class CommitmentTransaction(_Answer):
    """A transaction about a commitment, mined and successful."""

    commitment_id: str = _hash("Commitment id")
    transaction: str = _hash("Transaction hash")
    block_number: int = Field(description="Block it was mined in.")


# --------------------------------------------------------------------------- audit, anchors


class AuditEvent(_Answer):
    """An event of one of the four contracts."""

    block_number: int = Field(description="Its block.")
    log_index: int = Field(description="Its position in the block.")
    time: Time = _time("The block's time")
    transaction: str = _hash("Its transaction")
    contract: ContractName = Field(description="The contract that emitted it.")
    event: str = Field(description="Its name, e.g. AgreementRevoked.")
    department_id: str | None = Field(description="The department it concerns; null when none.")
    department: str | None = Field(
        description="That department's name as on chain (untrusted text); null when none."
    )
    subject_id: str | None = Field(
        description="What it is about (agreement, commitment, dataset, root, account); null "
        "when none."
    )
    args: dict[str, Any] = Field(description="Its arguments as decoded (0x hex for bytes).")


class AuditEventList(_Answer):
    """A page of the audit trail, in chain order."""

    items: list[AuditEvent] = Field(description="The events of this page.")
    next_cursor: Cursor


class Batch(_Answer):
    """A batch of submitted hashes, anchored as one version of its dataset."""

    batch_id: str = Field(description="Its id (32 hex digits): poll GET /v1/anchors/{batch_id}.")
    root: str | None = Field(description="The version's root, once sealed for anchoring.")
    transaction: str | None = Field(description="The anchoring's transaction, once sent.")
    block_number: int | None = Field(description="Its block, once mined.")
    dataset_id: str = _hash("Dataset id")
    status: BatchStatus = Field(
        description="collecting → sealed → pending → sent → confirmed; or failed (see `error`), "
        "or abandoned by its operator."
    )
    leaf_count: int = Field(description="Hashes in the batch (distinct).")
    error: str | None = Field(
        description="Why it failed, or (redirected) the batch that holds its version; else null."
    )


class BatchList(_Answer):
    """Batches, oldest first, a page at a time."""

    items: list[Batch] = Field(description="The batches.")
    next_cursor: Cursor


# --------------------------------------------------------------------------- watchers

WatchTopic = Literal[
    "code.taken",
    "content.anchored-by-other",
    "dataset.version",
    "agreement.changed",
    "commitment.changed",
    "department.suspension-proposed",
    "agreement.expiring",
    "commitment.overdue",
    "checkpoint.conflict",
]
MessageStatus = Literal["pending", "delivered", "dead"]


class WatchPosition(_Answer):
    """The last chain event matched."""

    block_number: int = Field(description="Its block (the first block, before any match).")
    log_index: int = Field(description="Its index in the block (-1 before any).")


class MessageCounts(_Answer):
    """A watcher's webhooks by status."""

    pending: int = Field(description="Waiting for their (next) attempt.")
    delivered: int = Field(description="Taken by the receiver (a 2xx answer).")
    dead: int = Field(description="Refused on every attempt: the dead letters.")


class WatcherAnswer(_Answer):
    """A subscription of this gateway's department (never its secret)."""

    id: str = Field(description="The watcher's id (wh_…).")
    department: str = _hash("The department it watches for")
    url: str = Field(description="Where its webhooks are POSTed.")
    topics: list[WatchTopic] = Field(description="What it is told of.")
    expiring_days: int | None = Field(description="With agreement.expiring: days ahead.")
    start_block: int = Field(description="It is told of events from this block on.")
    matched_to: WatchPosition = Field(description="How far the chain's events were matched.")
    rotating_until: Time = _time("Until when the previous secret still signs beside the new")
    created_at: Time = _time("When it was added")
    api_key: str | None = Field(
        description="The id of the watch key that added it, which alone (with admin keys) sees "
        "and changes it; null when added by the CLI or an admin key."
    )
    messages: MessageCounts = Field(description="Its webhooks by status.")


class WatcherList(_Answer):
    """This department's watchers, oldest first."""

    items: list[WatcherAnswer] = Field(description="The watchers.")


class WatcherSecret(_Answer):
    """A watcher with its signing secret, shown this once."""

    watcher: WatcherAnswer = Field(description="The watcher.")
    secret: str = Field(description="whsec_…: the key of its signatures (Standard Webhooks).")


class WebhookItem(_Answer):
    """One webhook of the outbox."""

    id: str = Field(description="The message id, sent as `webhook-id` on every attempt.")
    watcher_id: str = Field(description="Its watcher.")
    url: str = Field(description="Where it goes.")
    topic: WatchTopic = Field(description="What it says.")
    status: MessageStatus = Field(description="pending, delivered or dead.")
    attempts: int = Field(description="Attempts made.")
    next_attempt_at: Time = _time("When it is sent next (pending only)")
    last_status: int | None = Field(description="The receiver's last HTTP status.")
    last_error: str | None = Field(description="Why the last attempt failed.")
    created_at: Time = _time("When it was made")
    delivered_at: Time = _time("When the receiver took it")
    body: dict[str, Any] = Field(description="The JSON body sent: type, timestamp, data.")


class WebhookList(_Answer):
    """Webhooks, oldest first, a page at a time."""

    items: list[WebhookItem] = Field(description="The webhooks of this page.")
    next_cursor: Cursor


# --------------------------------------------------------------------------- consortium


class ConsortiumContracts(_Answer):
    """The four contracts' addresses."""

    DepartmentRegistry: Address
    DatasetRegistry: Address
    SharingAgreements: Address
    JointCommitments: Address


class CliqueSignerAnswer(_Answer):
    """A genesis signer and the founding department holding its key."""

    address: Address
    department: str | None = Field(description="Department id; null when no founder named it.")
    code: str | None = Field(description="Department code; null when no founder named it.")


class ConsortiumClique(_Answer):
    """The Clique parameters and genesis signers of a consortium network."""

    epoch: int = Field(ge=1, description="Blocks between checkpoints.")
    period: int = Field(ge=0, description="Seconds between blocks.")
    signers: list[CliqueSignerAnswer] = Field(description="Ascending by address.")


class ConsortiumCheckpoints(_Answer):
    """Who cosigns checkpoints of the chain, and how many departments one needs."""

    threshold: int = Field(ge=1, description="Departments a checkpoint needs.")
    cosigners: list[CliqueSignerAnswer] = Field(description="Ascending by address.")


class ConsortiumAnswer(_Answer):
    """The consortium trust file (``xietong-consortium/1``) with its fingerprint."""

    format: str = Field(description="Always `" + TRUST_FORMAT + "`.", examples=[TRUST_FORMAT])
    chain_id: int = Field(ge=1)
    genesis_hash: str = Field(pattern=_HEX_HASH, description="Hash of block 0.")
    deployment_block: int = Field(ge=0, description="Block the contracts were deployed in.")
    deployment_block_hash: str = Field(pattern=_HEX_HASH)
    contracts: ConsortiumContracts
    clique: ConsortiumClique | None = Field(
        default=None,
        description="On a Clique network (absent otherwise): what checks sealed proof bundles "
        "offline (docs/OFFLINE_PROOFS.md).",
    )
    checkpoints: ConsortiumCheckpoints | None = Field(
        default=None,
        description="Who cosigns checkpoints (docs/CHECKPOINTS.md); absent in a trust file made "
        "before them.",
    )
    fingerprint: str = Field(
        pattern=r"^[0-9a-f]{4}(-[0-9a-f]{4}){7}$",
        description="First 16 bytes of the SHA-256 of the canonical JSON of the other members "
        "(keys sorted, no whitespace, ASCII), as 8 groups of 4 hex digits (docs/API.md).",
    )


# --------------------------------------------------------------------------- checkpoints


class CheckpointSignatureItem(_Answer):
    """One department's signature on a checkpoint, as this gateway holds it."""

    seq: int = Field(ge=1, description="Its place in this gateway's order (pass as `after`).")
    number: int = Field(ge=0, description="The block number.")
    hash: str = Field(pattern=_HEX_HASH, description="The block's hash it signed.")
    address: Address
    department: str = _hash("The cosigning department")
    code: str | None = Field(description="Its code, as the trust file names it.")
    time: int = Field(ge=0, description="When it signed (Unix seconds, part of what is signed).")
    signature: str = Field(
        pattern=r"^0x[0-9a-f]{130}$", description="EIP-191 signature, r ‖ s ‖ v (65 bytes)."
    )


class CheckpointSignatures(_Answer):
    """Signatures in the order this gateway kept them, after `after`."""

    items: list[CheckpointSignatureItem] = Field(description="The signatures of this page.")
    next_after: int = Field(ge=0, description="Pass as `after` for what follows.")
    last_seq: int = Field(
        ge=0,
        description="The newest signature's `seq` (0: none); below `after` when this gateway's "
        "database started again, and a collector then asks from 0.",
    )


class CheckpointHash(_Answer):
    """One hash signed for a block number, and who signed it."""

    hash: str = Field(pattern=_HEX_HASH, description="The hash signed.")
    departments: int = Field(ge=1, description="Distinct departments that signed it.")
    cosigned: bool = Field(description="Whether they reach the trust file's threshold.")
    cosigners: list[CheckpointSignatureItem] = Field(description="Their signatures.")


class CheckpointAnswer(_Answer):
    """What this gateway holds for one block number."""

    number: int = Field(ge=0)
    threshold: int = Field(ge=0, description="Departments a checkpoint needs.")
    conflict: bool = Field(description="Whether two different hashes were signed for it.")
    hashes: list[CheckpointHash] = Field(description="Each hash signed, by hash.")


class ConflictHash(_Answer):
    """One of the hashes signed for a block number in conflict."""

    hash: str = Field(pattern=_HEX_HASH)
    departments: int = Field(ge=1, description="Distinct departments that signed it.")
    cosigners: list[CheckpointSignatureItem] = Field(description="Their signatures.")


class CheckpointConflictAnswer(_Answer):
    """A block number for which two different hashes were signed."""

    number: int = Field(ge=0)
    seen_at: Time = _time("When this gateway first saw the conflict (or one more hash)")
    acknowledged_at: Time = _time("When an operator acknowledged it")
    hashes: list[ConflictHash] = Field(description="Each hash signed, by hash.")


class CheckpointConflictList(_Answer):
    """Every conflict, newest block first."""

    items: list[CheckpointConflictAnswer]


# --------------------------------------------------------------------------- health


class Health(_Answer):
    """The process answers."""

    status: Literal["ok"] = Field(description="Always `ok`.")


class NodeReadiness(_Answer):
    """The chain node, asked now."""

    reachable: bool = Field(description="Whether it answered.")
    head: int | None = Field(description="Its head block; null when it did not answer.")
    head_age_seconds: int | None = Field(
        description="Seconds since the head block's time (`chain-halted` beyond "
        "`XIETONG_CHAIN_MAX_HEAD_AGE_SECONDS`, when set); null when it did not answer."
    )
    url: str | None = Field(
        description="The node that answered (scheme, host and port only); null when none did.",
        examples=["http://127.0.0.2:8545"],
    )
    fallback: bool = Field(
        description="Whether that node is a fallback (`XIETONG_RPC_FALLBACK_URLS`): the "
        "gateway's own node (`XIETONG_RPC_URL`) does not answer, and every answer then carries "
        "the `Xietong-Chain-Node` header."
    )
    error: str | SkipJsonSchema[None] = Field(
        default=None, description="The failure's kind; present only when it did not answer."
    )


class CheckpointReadiness(_Answer):
    """Conflicts between checkpoints (docs/CHECKPOINTS.md), read from the database now."""

    conflicts: list[int] = Field(
        description="Block numbers with two hashes signed, not acknowledged (then not ready)."
    )


class DatabaseReadiness(_Answer):
    """The database, asked now."""

    reachable: bool = Field(description="Whether it answered.")
    error: str | SkipJsonSchema[None] = Field(
        default=None, description="The failure's kind; present only when it did not answer."
    )


class IndexerLoop(_Answer):
    """This process's indexer loop (``xietong serve`` runs one)."""

    running: bool = Field(description="Whether this process runs an indexer loop.")
    last_pass_at: Time = _time("When its last pass ended")
    caught_up_at: Time = _time("When it last caught up with the chain")
    last_error: str | None = Field(
        description="Kind of its last pass's failure; null if it passed."
    )
    failures: int = Field(description="Passes failed in a row.")


class IndexReadiness(_Answer):
    """How far the index has read the chain, and how far behind it is."""

    block_number: int | None = Field(description="The index's block; null before any pass.")
    block_time: Time = _time("That block's time")
    chain_id: int | None = Field(description="The chain the index reads; null before any pass.")
    lag_blocks: int | None = Field(
        description="Blocks between the index and the head; null when unknown."
    )
    behind_blocks: int | None = Field(
        description="Confirmed blocks not indexed yet; null when unknown."
    )
    synced_at: Time = _time("When the index was last found caught up with the confirmed head")
    age_seconds: int | None = Field(description="Seconds since `synced_at`; null when never.")
    indexer: IndexerLoop = Field(description="This process's indexer loop.")


class Readiness(_Answer):
    """Node, database and index, each checked now (the same body with 200 and 503)."""

    ready: bool = Field(description="Whether `reasons` is empty.")
    reasons: list[NotReadyReason] = Field(description="Why it is not ready; [] when ready.")
    node: NodeReadiness = Field(description="The chain node.")
    database: DatabaseReadiness = Field(description="The database.")
    index: IndexReadiness = Field(description="The index.")
    checkpoints: CheckpointReadiness = Field(description="Cosigned checkpoints.")


# --------------------------------------------------------------------------- catalogue


class Named(_Answer):
    """What the catalogue says of a hash (ledger.catalogue)."""

    text: str | None = Field(
        description="The text that gives the hash (show it in place of the hash); null when "
        "the catalogue's text no longer gives it (then show the hash, marked as differing)."
    )
    verified: bool = Field(description="The text was hashed again and gives the hash.")
    owner: str | SkipJsonSchema[None] = Field(
        default=None,
        description="For a dataset id: the owner department's name (its id when the index holds "
        "none). Show it beside the code: another department may register the same code, which "
        "is then another dataset (ids derive from owner and code).",
    )


DocumentKind = Literal[
    "agreement-terms",
    "agreement-purpose",
    "agreement-legal-basis",
    "agreement-reason",
    "commitment-matter",
    "commitment-duty",
    "commitment-evidence",
    "commitment-closing",
    "commitment-reason",
    "dataset-code",
    "dataset-description",
]


class Document(_Answer):
    """One place the chain holds the hash outside a Merkle tree."""

    kind: DocumentKind = Field(
        description="What the hash is there: the SHA-256 of an agreement's terms document, or "
        "the keccak256 of a trimmed text (purpose, legal basis, reason, matter, duty, "
        "evidence, dataset code or description)."
    )
    subject_type: Literal["agreement", "commitment", "dataset"] = Field(
        description="What holds it."
    )
    subject: str = _hash("The agreement, commitment or dataset id")
    status: str | None = Field(
        description="The agreement's or commitment's status now; null for a dataset."
    )
    department: DepartmentRef | None = Field(
        description="The participant (duty, evidence) or the dataset's owner; else null."
    )
    time: Time = _time("When it went on chain (proposal, report, closure, registration)")


class DocumentsAnswer(_Answer):
    """What a hash is besides a leaf."""

    hash: str = _hash("The hash asked for")
    named: Named | None = Field(description="The catalogue's text for it; null when none.")
    documents: list[Document] = Field(
        description="Where the chain holds it, agreements first, oldest first (at most 100)."
    )


class CatalogueText(_Answer):
    """A text of the catalogue under the hash its rule gives."""

    rule: Literal["code", "text"] = Field(
        description="code: keccak256 of the trimmed UTF-8 text; text: of the exact text."
    )
    text: str = Field(description="The text as it was typed.")
    hash: str = _hash("The hash its rule gives")


class CatalogueDocument(_Answer):
    """A catalogue, as another department imports it (`xietong catalogue import`)."""

    format: Literal["xietong-catalogue/1"] = Field(description="The format.")
    texts: list[CatalogueText] = Field(description="Every text that gives its hash.")


class CatalogueImport(_Answer):
    """What an import added."""

    imported: int = Field(description="Texts now in the catalogue (new or already there).")
    hashes: list[str] = Field(description="Their hashes, in the order sent.")


class CatalogueNames(_Answer):
    """What the catalogue says of each hash asked for that it knows."""

    names: dict[str, Named] = Field(description="Hash → its text; hashes unknown are left out.")


# --------------------------------------------------------------------------- governance

ProposalKind = Literal["admit", "suspend", "readmit", "grant-auditor", "revoke-auditor"]


class Proposal(_Answer):
    """A membership proposal of the department registry."""

    id: int = Field(description="Its id (1, 2, …).")
    kind: ProposalKind = Field(description="What it does once executed.")
    status: Literal["open", "expired", "executed"] = Field(
        description="open (approvals may still come), expired (open past its lifetime), executed."
    )
    proposer: DepartmentRef | None = Field(description="The department that proposed it.")
    department: DepartmentRef | None = Field(
        description="The department admitted, suspended or readmitted; null for auditor kinds."
    )
    name: str | None = Field(description="The name an admission gives (untrusted text).")
    display_name: str | None = Field(description="That name to show, escaped.")
    name_flags: list[NameFlag] = Field(description="What to warn of in the name.")
    name_hex: str | None = Field(description="The name's bytes when the text cannot say them.")
    account: str | None = Field(
        description="The first operator (admit) or the auditor (auditor kinds); else null."
    )
    approvals: int = Field(description="Approvals of departments so far.")
    created_at: Time = _time("When it was proposed")
    expires_at: Time = _time("When it can no longer execute")
    executed_at: Time = _time("When it executed")


class ProposalList(_Answer):
    """A page of proposals, by id."""

    items: list[Proposal] = Field(description="The proposals of this page.")
    next_cursor: Cursor


class ProposalTransaction(_Answer):
    """A proposal, an approval or an execution, as mined."""

    proposal_id: int = Field(description="The proposal.")
    kind: ProposalKind | None = Field(description="Its kind (when it was just proposed).")
    approvals: int | None = Field(description="Approvals after this transaction, when it approved.")
    executed: bool = Field(description="The proposal executed in this transaction.")
    transaction: str = _hash("The transaction")
    block_number: int = Field(description="Its block.")


# --------------------------------------------------------------------------- access receipts


class ReceiptTransaction(_Answer):
    """An access receipt, as mined."""

    agreement_id: str = _hash("The agreement")
    receipt_index: int = Field(description="The receipt's index among the agreement's.")
    transaction: str = _hash("The transaction")
    block_number: int = Field(description="Its block.")


class AccessProofCheck(_Answer):
    """An access proof that holds: its entry is in the receipt's log."""

    valid: Literal[True] = Field(description="Always true: a proof that does not hold is 400.")
    agreement_id: str = _hash("The agreement")
    receipt_index: int = Field(description="The receipt.")
    record_hash: str = _hash(
        "The entry's record hash (SHA-256 of its canonical JSON: shown the entry, check it gives "
        "this; its number in the log is the prover's word)"
    )
    leaf: str = _hash("The entry's leaf")
    entry_count: int = Field(description="Entries in the receipt's log.")
    period_start: Time = _time("The receipt's period start")
    period_end: Time = _time("The receipt's period end")
    recorded_at: Time = _time("When the receipt was recorded")
    log_root: str = _hash("The receipt's log root")


ReceiptFlag = Literal[
    "before-effective",
    "after-validity",
    "after-closure",
    "consumer-mismatch",
    "department-inactive",
    "future-period",
    "empty",
    "period-inverted",
    "unknown-agreement",
]


class ReviewedReceipt(_Answer):
    """An access receipt beside its agreement, with what an auditor should look at."""

    agreement_id: str = _hash("The agreement")
    agreement: Agreement | None = Field(description="The agreement; null when the index has none.")
    index: int = Field(description="The receipt's index among the agreement's.")
    consumer: DepartmentRef | None = Field(description="The department that recorded it.")
    log_root: str = _hash("Merkle root of its access-log entries")
    entry_count: int = Field(description="Entries in its log.")
    period_start: Time = _time("Its period's start")
    period_end: Time = _time("Its period's end")
    recorded_at: Time = _time("When it was recorded")
    block_number: int = Field(description="Its block.")
    transaction: str = _hash("Its transaction")
    flags: list[ReceiptFlag] = Field(
        description="Use outside the agreement's scope or validity (ledger.db.queries."
        "RECEIPT_FLAGS); [] when none."
    )


class ReviewedReceiptList(_Answer):
    """A page of reviewed receipts, in the order they were recorded."""

    items: list[ReviewedReceipt] = Field(description="The receipts of this page.")
    next_cursor: Cursor
