"""Every table of the gateway, in one module.

Two kinds of tables:

* **Projections of the chain** (``PROJECTION_TABLES``): departments, datasets, versions,
  erasures, agreements, commitments, receipts… and the raw event log they are built from. They hold
  nothing the chain does not; ``xietong reindex`` drops and rebuilds them.
* **Off-chain state** (``OFFCHAIN_TABLES``): versions being anchored, the leaf store that
  answers proofs, the leaves of the records this gateway erased, hashes submitted over the API and waiting to be anchored, API keys, portal
  sessions, the catalogue of texts whose hashes the chain holds, watchers and their webhooks,
  checkpoint signatures. It cannot be rebuilt from the chain, so reindexing never touches it.

Hashes, ids and addresses are stored as 0x-prefixed lowercase hex (addresses checksummed);
times are unix seconds; uint64 values above 2**63-1 (e.g. "valid forever") are stored as
2**63-1.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "OFFCHAIN_TABLES",
    "PROJECTION_TABLES",
    "RETRYABLE_ANCHORINGS",
    "UNFINISHED_ANCHORINGS",
    "AccessReceiptRow",
    "AgreementDatasetRow",
    "AgreementRow",
    "AnchoringStatus",
    "ApiKey",
    "AuditorRow",
    "CatalogueText",
    "ChainEvent",
    "CheckpointConflict",
    "CheckpointPeer",
    "CheckpointSignature",
    "CommitmentParticipantRow",
    "CommitmentRow",
    "DatasetRow",
    "DepartmentRow",
    "ErasedLeaf",
    "ErasureRow",
    "IndexedBlock",
    "IndexerCheckpoint",
    "LeafRow",
    "OperatorRow",
    "PortalSession",
    "ProposalRow",
    "SubmissionBatch",
    "SubmissionStatus",
    "SubmittedLeaf",
    "TreeBlob",
    "VersionAnchoring",
    "VersionParentRow",
    "VersionRow",
    "Watcher",
    "WebhookMessage",
]

INT64_MAX = 2**63 - 1


def _big(**kwargs: Any) -> Any:
    """A BIGINT column (block numbers, unix times and counts exceed 32 bits)."""
    return Field(sa_type=BigInteger, **kwargs)


# --------------------------------------------------------------------------- indexer state


class IndexerCheckpoint(SQLModel, table=True):
    """How far the index has read the chain (one row)."""

    __tablename__ = "indexer_checkpoint"
    id: int = Field(default=1, primary_key=True)
    chain_id: int = _big()
    registry_address: str
    block_number: int = _big()
    block_hash: str
    #: Wall-clock time (unix seconds) a pass last found the index caught up with the chain's
    #: confirmed head: how fresh the index is when the node cannot be asked.
    synced_at: int | None = Field(default=None, sa_type=BigInteger)


class IndexedBlock(SQLModel, table=True):
    """A block the index has read events from (hash kept to notice reorgs)."""

    __tablename__ = "indexed_block"
    number: int = Field(sa_type=BigInteger, primary_key=True)
    hash: str
    timestamp: int = _big()


class ChainEvent(SQLModel, table=True):
    """The raw event log: every event of the four contracts, in chain order."""

    __tablename__ = "chain_event"
    __table_args__ = (
        UniqueConstraint("block_number", "log_index", name="uq_chain_event_position"),
        Index("ix_chain_event_time", "timestamp"),
    )
    id: int | None = Field(default=None, primary_key=True)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str
    log_index: int
    tx_hash: str = Field(index=True)
    timestamp: int = _big()
    contract: str
    name: str = Field(index=True)
    department_id: str | None = Field(default=None, index=True)
    subject_id: str | None = Field(default=None, index=True)
    args: str = Field(sa_column=Column(Text, nullable=False))


# --------------------------------------------------------------------------- membership


class DepartmentRow(SQLModel, table=True):
    """A member. ``name`` is the text of the name's bytes on chain, safe to store
    (``ledger.display.decode_text``); ``name_hex`` holds the bytes when that text does not say
    them exactly (invalid UTF-8, NUL); ``name_flags`` what a reader must be warned of
    (``ledger.display.FLAGS``, comma-separated); ``name_skeleton`` finds look-alike names."""

    __tablename__ = "department"
    id: str = Field(primary_key=True)
    name: str
    name_hex: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name_flags: str = ""
    name_skeleton: str = Field(default="", index=True)  # ledger.display.skeleton(name)
    status: str
    admitted_at: int = _big()
    status_changed_at: int = _big()


class OperatorRow(SQLModel, table=True):
    __tablename__ = "operator"
    account: str = Field(primary_key=True)
    department_id: str = Field(index=True)
    added_at: int = _big()


class AuditorRow(SQLModel, table=True):
    __tablename__ = "auditor"
    account: str = Field(primary_key=True)
    granted_at: int = _big()


class ProposalRow(SQLModel, table=True):
    __tablename__ = "proposal"
    id: int = Field(sa_type=BigInteger, primary_key=True)
    kind: str
    status: str
    proposer_department: str
    department_id: str | None = None
    account: str | None = None
    name: str | None = None
    name_hex: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name_flags: str = ""
    approvals: int = 0
    created_at: int = _big()
    expires_at: int = _big()
    executed_at: int | None = Field(default=None, sa_type=BigInteger)


# --------------------------------------------------------------------------- datasets


class DatasetRow(SQLModel, table=True):
    __tablename__ = "dataset"
    id: str = Field(primary_key=True)
    owner_department: str = Field(index=True)
    code_hash: str = Field(index=True)
    metadata_hash: str
    registered_at: int = _big()
    block_number: int = _big()
    tx_hash: str


class VersionRow(SQLModel, table=True):
    __tablename__ = "dataset_version"
    id: str = Field(primary_key=True)  # keccak256(abi.encode(dataset_id, root))
    root: str = Field(index=True)
    dataset_id: str = Field(index=True)
    department_id: str
    leaf_count: int = _big()
    metadata_hash: str
    anchored_at: int = _big()
    block_number: int = _big()
    tx_hash: str
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    revoke_reason: str | None = None


class ErasureRow(SQLModel, table=True):
    """An erasure of records of a version (``RecordsErased``): which leaves, only this
    gateway knows (:class:`ErasedLeaf`); the chain holds their root and count."""

    __tablename__ = "record_erasure"
    id: str = Field(primary_key=True)  # computeErasureId(dataset_id, root, erased_root)
    version_id: str = Field(index=True)
    dataset_id: str
    root: str
    department_id: str
    erased_root: str
    count: int = _big()
    reason_hash: str
    erased_at: int = _big()
    block_number: int = _big()
    tx_hash: str


class VersionParentRow(SQLModel, table=True):
    __tablename__ = "dataset_version_parent"
    version_id: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    parent: str = Field(index=True)  # a version id


# --------------------------------------------------------------------------- agreements


class AgreementRow(SQLModel, table=True):
    __tablename__ = "agreement"
    id: str = Field(primary_key=True)
    provider: str = Field(index=True)
    consumer: str = Field(index=True)
    proposer: str
    purpose: str
    legal_basis: str
    terms_hash: str
    valid_from: int = _big()
    valid_until: int = _big()
    status: str
    supersedes: str | None = None
    superseded_by: str | None = None
    proposed_at: int = _big()
    accepted_at: int | None = Field(default=None, sa_type=BigInteger)
    accepted_by: str | None = None
    closed_at: int | None = Field(default=None, sa_type=BigInteger)
    reason_hash: str | None = None


class AgreementDatasetRow(SQLModel, table=True):
    __tablename__ = "agreement_dataset"
    agreement_id: str = Field(primary_key=True)
    dataset_id: str = Field(primary_key=True, index=True)


class AccessReceiptRow(SQLModel, table=True):
    __tablename__ = "access_receipt"
    agreement_id: str = Field(primary_key=True)
    receipt_index: int = Field(primary_key=True)
    consumer: str
    log_root: str
    entry_count: int = _big()
    period_start: int = _big()
    period_end: int = _big()
    recorded_at: int = _big()
    block_number: int = _big()
    tx_hash: str


# --------------------------------------------------------------------------- commitments


class CommitmentRow(SQLModel, table=True):
    __tablename__ = "commitment"
    id: str = Field(primary_key=True)
    matter_ref: str = Field(index=True)
    lead: str = Field(index=True)
    deadline: int = _big()
    status: str
    proposed_at: int = _big()
    activated_at: int | None = Field(default=None, sa_type=BigInteger)
    closed_at: int | None = Field(default=None, sa_type=BigInteger)
    closing_hash: str | None = None


class CommitmentParticipantRow(SQLModel, table=True):
    __tablename__ = "commitment_participant"
    commitment_id: str = Field(primary_key=True)
    department_id: str = Field(primary_key=True, index=True)
    position: int
    duty_hash: str
    signed_at: int | None = Field(default=None, sa_type=BigInteger)
    signer: str | None = None
    done_at: int | None = Field(default=None, sa_type=BigInteger)
    last_evidence_hash: str | None = None
    report_count: int = 0


# --------------------------------------------------------------------------- off-chain


#: The life of a :class:`VersionAnchoring`: ``pending`` (persisted, not sent) → ``sent`` (tx
#: hash and nonce recorded) → ``confirmed`` (enough confirmations); ``failed`` when the
#: contract refused it; ``abandoned`` when its operator gave a failed one up
#: (``xietong dataset resume --abandon``). Anchoring a failed or abandoned version again makes
#: it ``pending`` again: neither ever blocks its content.
AnchoringStatus = Literal["pending", "sent", "confirmed", "failed", "abandoned"]
#: Anchorings on their way: a crash left them to finish (``dataset resume``).
UNFINISHED_ANCHORINGS: frozenset[AnchoringStatus] = frozenset({"pending", "sent"})
#: Anchorings refused by the chain (or given up): anchoring the same version again retries one.
RETRYABLE_ANCHORINGS: frozenset[AnchoringStatus] = frozenset({"failed", "abandoned"})
#: The life of a :class:`SubmissionBatch`: ``collecting`` → ``sealed`` (handed to anchoring:
#: a :class:`VersionAnchoring` with the same id follows it), ``failed`` (``error`` says why;
#: ``abandoned`` once given up), or ``redirected`` (its hashes make a version another batch
#: holds: ``error`` names that batch, which anchors it).
SubmissionStatus = Literal["collecting", "sealed", "failed", "abandoned", "redirected"]


class VersionAnchoring(SQLModel, table=True):
    """One version being anchored (see :data:`AnchoringStatus`): committed before its
    transaction is sent, so that a crash at any step can be finished (``dataset resume``)."""

    __tablename__ = "version_anchoring"
    __table_args__ = (UniqueConstraint("dataset_id", "root", name="uq_version_anchoring_version"),)
    id: str = Field(primary_key=True)
    dataset_id: str = Field(index=True)
    root: str = Field(index=True)
    leaf_count: int = _big()
    leaf_kind: str
    metadata_hash: str
    parents: str = Field(sa_column=Column(Text, nullable=False))
    source: str
    status: str = Field(index=True)
    sender: str
    nonce: int | None = Field(default=None, sa_type=BigInteger)
    raw_tx: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tx_hash: str | None = None
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = None
    created_at: int = _big()
    updated_at: int = _big()


class TreeBlob(SQLModel, table=True):
    """The sorted leaf hashes of a version: enough to rebuild its tree and answer proofs."""

    __tablename__ = "tree_blob"
    root: str = Field(primary_key=True)
    sorted_leaves: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LeafRow(SQLModel, table=True):
    """One leaf of an anchored (or anchoring) version, for finding it by hash.

    File leaves keep their content hash and path; record leaves keep only the salted leaf
    hash and the row number — never the unsalted record hash, which could be guessed.
    """

    __tablename__ = "leaf"
    __table_args__ = (UniqueConstraint("root", "sorted_index", name="uq_leaf_position"),)
    id: int | None = Field(default=None, primary_key=True)
    root: str  # found through uq_leaf_position, whose first column it is
    leaf_hash: str = Field(index=True)
    sorted_index: int = _big()
    kind: str
    content_hash: str | None = Field(default=None, index=True)
    path: str | None = None
    record_index: int | None = Field(default=None, sa_type=BigInteger)
    #: What hashed the content (``content_hash``, a record's canonical JSON): sha256 or sm3.
    digest: str = Field(default="sha256", sa_column_kwargs={"server_default": "sha256"})


class ErasedLeaf(SQLModel, table=True):
    """A leaf of a record this gateway erased (``xietong dataset erase``), written before the
    erasure's transaction is sent: with the record's row, the tree of its erasure
    (``erased_root``) and the version. An erasure counts once the chain holds it
    (:class:`ErasureRow`); a row without one is an erasure to finish."""

    __tablename__ = "erased_leaf"
    __table_args__ = (UniqueConstraint("erasure_id", "leaf_hash", name="uq_erased_leaf"),)
    id: int | None = Field(default=None, primary_key=True)
    erasure_id: str = Field(index=True)
    version_id: str = Field(index=True)
    dataset_id: str
    root: str
    erased_root: str
    leaf_hash: str = Field(index=True)
    record_index: int | None = Field(default=None, sa_type=BigInteger)
    reason_hash: str
    salts: str | None = None  # the sidecar whose salts are destroyed (a path), if any
    shredded_at: int | None = Field(default=None, sa_type=BigInteger)
    created_at: int = _big()


class SubmissionBatch(SQLModel, table=True):
    """Hashes submitted over the API, collected until a size or time trigger seals them into
    one version (see :data:`SubmissionStatus`): the API's "batch"."""

    __tablename__ = "submission_batch"
    id: str = Field(primary_key=True)
    dataset_id: str = Field(index=True)
    status: str = Field(index=True)
    leaf_count: int = 0
    created_at: int = _big()
    sealed_at: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = None


class SubmittedLeaf(SQLModel, table=True):
    """One file hash submitted for anchoring, waiting in its batch."""

    __tablename__ = "submitted_leaf"
    __table_args__ = (
        UniqueConstraint("batch_id", "content_hash", "name", name="uq_submitted_leaf"),
    )
    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(index=True)
    content_hash: str
    name: str


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is stored; the secret is shown once, at creation."""

    __tablename__ = "api_key"
    id: str = Field(primary_key=True)
    name: str
    scope: str
    key_hash: str
    created_at: int = _big()
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)


class PortalSession(SQLModel, table=True):
    """A signed-in portal session: only the SHA-256 of its id (the cookie) is stored."""

    __tablename__ = "portal_session"
    id_hash: str = Field(primary_key=True)
    key_id: str = Field(index=True)
    created_at: int = _big()
    last_seen: int = _big()


class CatalogueText(SQLModel, table=True):
    """A text people typed (a dataset code, a purpose, a legal basis, a matter reference, a
    duty, a reason…) under the hash the chain holds for it, computed by ``rule``
    (:data:`ledger.catalogue.RULES`). Shown only when the text still gives the hash."""

    __tablename__ = "catalogue_text"
    hash: str = Field(primary_key=True)
    text: str
    rule: str
    source: str
    added_at: int = _big()


# --------------------------------------------------------------------------- watchers


class Watcher(SQLModel, table=True):
    """A department's subscription to what concerns it on chain (:mod:`ledger.watch`): the
    topics, where webhooks go, the secrets that sign them, and how far the chain's events
    were matched (the cursor: the position and block hash of the last event looked at)."""

    __tablename__ = "watcher"
    id: str = Field(primary_key=True)
    department_id: str = Field(index=True)
    #: The watch-scoped API key that added it, which sees and changes only its own; None when
    #: added by the CLI or an admin key (the department's admins then keep it).
    api_key_id: str | None = None
    url: str
    topics: str  # JSON list, sorted
    expiring_days: int | None = None
    secret: str
    #: The secret before the last rotation, still signing (beside the new one) until then.
    previous_secret: str | None = None
    previous_until: int | None = Field(default=None, sa_type=BigInteger)
    start_block: int = _big()
    cursor_block: int = _big()
    cursor_log: int = _big()
    cursor_hash: str | None = None
    created_at: int = _big()


class WebhookMessage(SQLModel, table=True):
    """One webhook in the outbox: committed (with the watcher's cursor) before it is sent,
    sent until the receiver takes it or the retries run out (``dead``), the same id on every
    attempt."""

    __tablename__ = "webhook_message"
    __table_args__ = (UniqueConstraint("watcher_id", "dedupe", name="uq_webhook_message_dedupe"),)
    id: str = Field(primary_key=True)
    watcher_id: str = Field(index=True)
    #: What it says, once per watcher: ``<block hash>:<log index>:<topic>`` for an event.
    dedupe: str
    topic: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(index=True)  # pending, delivered, dead
    attempts: int = 0
    next_attempt_at: int = _big()
    leased_until: int | None = Field(default=None, sa_type=BigInteger)
    last_status: int | None = None
    last_error: str | None = None
    created_at: int = _big()
    delivered_at: int | None = Field(default=None, sa_type=BigInteger)


# --------------------------------------------------------------------------- checkpoints


class CheckpointSignature(SQLModel, table=True):
    """One department's signature on a checkpoint of the chain (docs/CHECKPOINTS.md): this
    gateway's own, or collected from a peer after it verified. Each number, address and hash
    once: a department that signed two hashes for one number keeps both (a conflict)."""

    __tablename__ = "checkpoint_signature"
    __table_args__ = (
        UniqueConstraint("number", "address", "block_hash", name="uq_checkpoint_signature"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: int = _big(index=True)
    block_hash: str
    address: str  # EIP-55
    department_id: str
    #: The cosignature's own time (what was signed), unix seconds.
    signed_at: int = _big()
    signature: str
    #: ``own``, or the base URL of the peer it was collected from.
    source: str
    received_at: int = _big()


class CheckpointPeer(SQLModel, table=True):
    """A peer gateway whose checkpoint signatures this gateway collects, and how far."""

    __tablename__ = "checkpoint_peer"
    url: str = Field(primary_key=True)
    #: The peer's page cursor to ask from next (None: from the start).
    cursor: str | None = None
    accepted: int = _big(default=0)
    refused: int = _big(default=0)
    last_refusal: str | None = None
    last_attempt_at: int | None = Field(default=None, sa_type=BigInteger)
    last_success_at: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = None


class CheckpointConflict(SQLModel, table=True):
    """A block number for which two different hashes were signed, when it was first seen,
    and whether an operator acknowledged it (``/readyz`` fails until then)."""

    __tablename__ = "checkpoint_conflict"
    number: int = Field(sa_type=BigInteger, primary_key=True)
    #: How many different hashes were signed for it when last looked at.
    hashes: int
    seen_at: int = _big()
    acknowledged_at: int | None = Field(default=None, sa_type=BigInteger)


PROJECTION_TABLES: tuple[type[SQLModel], ...] = (
    IndexerCheckpoint,
    IndexedBlock,
    ChainEvent,
    DepartmentRow,
    OperatorRow,
    AuditorRow,
    ProposalRow,
    DatasetRow,
    VersionRow,
    VersionParentRow,
    ErasureRow,
    AgreementRow,
    AgreementDatasetRow,
    AccessReceiptRow,
    CommitmentRow,
    CommitmentParticipantRow,
)
OFFCHAIN_TABLES: tuple[type[SQLModel], ...] = (
    VersionAnchoring,
    TreeBlob,
    LeafRow,
    ErasedLeaf,
    SubmissionBatch,
    SubmittedLeaf,
    ApiKey,
    PortalSession,
    CatalogueText,
    Watcher,
    WebhookMessage,
    CheckpointSignature,
    CheckpointPeer,
    CheckpointConflict,
)
