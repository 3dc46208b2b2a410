"""Anchor dataset versions: leaves → Merkle root → one transaction, durably.

The order of operations makes every crash recoverable without losing a leaf or anchoring a
root twice:

1. :meth:`Anchorer.persist` commits the anchoring of the version (its dataset and root, the leaf
   store and the tree) — status ``pending``;
2. :meth:`Anchorer.submit` signs the anchor transaction with an explicit nonce and commits
   its hash, nonce and raw bytes — status ``sent`` — *before* broadcasting it;
3. once mined with the configured confirmations the anchoring is ``confirmed``; a contract
   refusal marks it ``failed`` with the decoded error.

:meth:`Anchorer.resume` finishes whatever a crash left: a ``pending`` anchoring is submitted; a
``sent`` anchoring is confirmed from its receipt, or recognised as anchored on chain, or its
very same signed bytes are broadcast again, or — when its nonce was used by another
transaction — it is signed anew. The contract refuses a version (dataset and root) anchored
before, so a version can never be anchored twice. The same content (root) may be a version of
several datasets, of one department or of several: its leaf store and tree are kept once.

A chain node that is down or stops answering at any step raises
:class:`~ledger.errors.ChainUnavailableError` at once (no wait for a timeout); the anchoring
stays as the last step left it, for :meth:`Anchorer.resume`.
"""

from __future__ import annotations

import json
import time
import uuid
from array import array
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update
from web3.exceptions import TransactionNotFound, Web3RPCError

from . import hashing, merkle
from .chain.client import ChainClient
from .chain.reads import read_version
from .chain.transport import node_errors
from .db.bulk import insert_blob, insert_record_leaves, insert_rows
from .db.tables import (
    RETRYABLE_ANCHORINGS,
    UNFINISHED_ANCHORINGS,
    AnchoringStatus,
    TreeBlob,
    VersionAnchoring,
)
from .errors import (
    ChainError,
    ChainUnavailableError,
    ContractRevertError,
    InputError,
    LedgerError,
    TransactionFailedError,
)
from .ids import version_id

__all__ = [
    "AnchorError",
    "Anchorer",
    "PreparedVersion",
    "prepare_files",
    "prepare_hashes",
    "prepare_path",
    "prepare_records",
]

LeafKind = Literal["file", "record"]
_LEAF_COLUMNS = (
    "root",
    "leaf_hash",
    "sorted_index",
    "kind",
    "content_hash",
    "path",
    "record_index",
    "digest",
)


class AnchorError(LedgerError):
    """A version cannot be anchored (already anchored, refused by the contract, …)."""

    kind = "anchor"


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class PreparedVersion:
    """A version ready to anchor: its leaves, tree and what it was made from."""

    dataset_id: bytes
    kind: LeafKind
    tree: merkle.MerkleTree
    leaf_hashes: Sequence[bytes]  # in input order (files: path order; records: row order)
    files: list[hashing.FileEntry] | None
    record_count: int
    metadata_hash: bytes
    parents: tuple[bytes, ...]  # version ids (``ids.version_id``)
    source: str
    #: Records: ``row_order[i]`` is the row number of sorted leaf ``i`` (None for files).
    row_order: array[int] | None = None
    #: What hashed the files' contents or the records' canonical JSON (docs/SM3.md).
    digest: hashing.Digest = "sha256"

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def version_id(self) -> bytes:
        return version_id(self.dataset_id, self.root)


def _metadata_hash(
    kind: LeafKind, source: str, leaf_count: int, digest: hashing.Digest = "sha256"
) -> bytes:
    description: dict[str, Any] = {
        "kind": kind,
        "leafCount": leaf_count,
        "source": source,
        "format": "xietong-version/1",
    }
    if digest != "sha256":  # a SHA-256 version's description is as it always was
        description["digest"] = digest
    return keccak(json.dumps(description, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def _check_parents(parents: Sequence[bytes]) -> tuple[bytes, ...]:
    for parent in parents:
        if len(parent) != 32:
            raise InputError(f"a parent version is a 32-byte version id, not {len(parent)} bytes.")
    if len(set(parents)) != len(parents):
        raise InputError("a parent version is listed twice.")
    return tuple(parents)


def prepare_files(
    path: Path,
    dataset_id: bytes,
    *,
    parents: Sequence[bytes] = (),
    digest: hashing.Digest = "sha256",
    on_progress: Callable[[int, int], None] | None = None,
) -> PreparedVersion:
    """Hash a directory (or a single file) into file leaves (content SHA-256 or SM3,
    relative path)."""
    if path.is_dir():
        files = hashing.walk_directory(path, digest=digest, on_progress=on_progress)
    elif path.is_file() and not path.is_symlink():
        files = [
            hashing.FileEntry(
                content_hash=hashing.digest_file(path, digest=digest),
                path=path.name,
                size=path.stat().st_size,
                digest=digest,
            )
        ]
    else:
        raise InputError(f"{path} is neither a directory nor a regular file.")
    leaves = _file_leaves([(f.content_hash, f.path) for f in files], digest)
    tree = merkle.MerkleTree.from_leaf_hashes(leaves)
    return PreparedVersion(
        dataset_id=dataset_id,
        kind="file",
        tree=tree,
        leaf_hashes=leaves,
        files=files,
        record_count=0,
        metadata_hash=_metadata_hash("file", path.name, len(leaves), digest),
        parents=_check_parents(parents),
        source=str(path.name),
        digest=digest,
    )


def _file_leaves(entries: Sequence[tuple[bytes, str]], digest: hashing.Digest) -> list[bytes]:
    if digest == "sm3":
        return merkle.sm3_file_leaf_hashes(entries)
    return merkle.file_leaf_hashes(entries)


def prepare_hashes(
    entries: Sequence[tuple[bytes, str]],
    dataset_id: bytes,
    *,
    source: str,
    parents: Sequence[bytes] = (),
    digest: hashing.Digest = "sha256",
) -> PreparedVersion:
    """File leaves from (content digest, name) pairs already hashed elsewhere (e.g. the API)."""
    if not entries:
        raise InputError("a version needs at least one leaf.")
    files = [
        hashing.FileEntry(content_hash=value, path=name, size=0, digest=digest)
        for value, name in entries
    ]
    leaves = _file_leaves(list(entries), digest)
    tree = merkle.MerkleTree.from_leaf_hashes(leaves)
    return PreparedVersion(
        dataset_id=dataset_id,
        kind="file",
        tree=tree,
        leaf_hashes=leaves,
        files=files,
        record_count=0,
        metadata_hash=_metadata_hash("file", source, len(leaves), digest),
        parents=_check_parents(parents),
        source=source,
        digest=digest,
    )


def prepare_records(
    path: Path,
    dataset_id: bytes,
    *,
    salts_path: Path,
    parents: Sequence[bytes] = (),
    digest: hashing.Digest = "sha256",
    on_progress: Callable[[int, int], None] | None = None,
    subject_column: str | None = None,
    subject_keys: Path | None = None,
) -> PreparedVersion:
    """Hash a CSV or JSON Lines file into salted record leaves (SHA-256 or SM3 of each
    record's canonical JSON).

    The salts come from ``salts_path`` when it exists (the same salts give the same root);
    otherwise fresh salts are drawn and written there. The sidecar stays with the data owner.
    With ``subject_column``, each row's salt comes from its subject's key in the store
    ``subject_keys`` (made when there is none; :mod:`ledger.hashing._subjects`).
    """
    if subject_column is not None and subject_keys is None:
        raise InputError("a subject column needs a subject key store (XIETONG_SUBJECT_KEYS).")
    salts = (
        hashing.read_salts(salts_path, subject_keys=subject_keys) if salts_path.exists() else None
    )
    if salts is not None and subject_column is not None and salts.subject_keys_id is None:
        raise InputError(
            f"the salts sidecar {salts_path} exists and gives every row a salt of its own: "
            "a subject column applies to fresh salts only (anchor without it, or with a new "
            "sidecar)."
        )
    store = (
        hashing.SubjectKeys.open(subject_keys, create=True)
        if salts is None and subject_column is not None and subject_keys is not None
        else None
    )
    packed = bytearray()  # the leaves in row order, 32 bytes each

    blob = merkle.sm3_record_leaf_blob if digest == "sm3" else merkle.record_leaf_blob

    def add_leaves(pairs: bytes) -> None:
        packed.extend(blob(pairs))

    stream = hashing.stream_records(
        path,
        add_leaves,
        salts=salts,
        salts_path=None if salts is not None else salts_path,
        digest=digest,
        on_progress=on_progress,
        subject_column=subject_column if store is not None else None,
        subject_keys=store,
    )
    del salts
    sorted_leaves, order = merkle.sort_leaves(packed)
    packed.clear()  # frees the row-order leaves
    tree = merkle.MerkleTree.from_sorted_leaves(sorted_leaves)
    return PreparedVersion(
        dataset_id=dataset_id,
        kind="record",
        tree=tree,
        leaf_hashes=_RowOrderLeaves(sorted_leaves, order),
        files=None,
        record_count=stream.rows,
        metadata_hash=_metadata_hash("record", path.name, stream.rows, digest),
        parents=_check_parents(parents),
        source=str(path.name),
        row_order=order,
        digest=digest,
    )


class _RowOrderLeaves(Sequence[bytes]):
    """The leaves of a records version in row order, read from the sorted leaves and the sort
    order (``order[i]`` = row of sorted leaf ``i``) without a Python object per leaf."""

    __slots__ = ("_inverse", "_order", "_sorted")

    def __init__(self, sorted_leaves: bytes, order: array[int]) -> None:
        self._sorted = sorted_leaves
        self._order = order
        self._inverse: array[int] | None = None

    def __len__(self) -> int:
        return len(self._order)

    def _leaf(self, row: int) -> bytes:
        if self._inverse is None:
            inverse = array("I", bytes(4 * len(self._order)))
            for position, number in enumerate(self._order):
                inverse[number] = position
            self._inverse = inverse
        k = 32 * self._inverse[row]
        return self._sorted[k : k + 32]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._leaf(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("leaf index out of range")
        return self._leaf(index)


def prepare_path(
    path: Path,
    dataset_id: bytes,
    *,
    parents: Sequence[bytes] = (),
    records: bool | None = None,
    salts_path: Path | None = None,
    digest: hashing.Digest = "sha256",
    on_progress: Callable[[int, int], None] | None = None,
    subject_column: str | None = None,
    subject_keys: Path | None = None,
) -> PreparedVersion:
    """Files for a directory or an ordinary file; records for ``.csv``/``.jsonl`` (or
    ``records=True``); contents hashed with ``digest``; with ``subject_column`` (records
    only), salts from the subjects' keys in ``subject_keys``."""
    as_records = (
        records if records is not None else path.suffix.lower() in (".csv", ".jsonl", ".ndjson")
    )
    if as_records:
        if path.is_dir():
            raise InputError(
                f"{path} is a directory; records come from one CSV or JSON Lines file."
            )
        sidecar = salts_path or path.with_name(path.name + ".salts.json")
        return prepare_records(
            path,
            dataset_id,
            salts_path=sidecar,
            parents=parents,
            digest=digest,
            on_progress=on_progress,
            subject_column=subject_column,
            subject_keys=subject_keys,
        )
    if subject_column is not None:
        raise InputError(
            f"{path} is anchored as files: a subject column names the subject of each record "
            "of a CSV or JSON Lines file."
        )
    return prepare_files(path, dataset_id, parents=parents, digest=digest, on_progress=on_progress)


class Anchorer:
    """Persists and anchors versions for the department whose key is ``signer``."""

    def __init__(
        self,
        client: ChainClient,
        engine: Engine,
        signer: LocalAccount,
        *,
        confirmations: int = 1,
        confirmation_timeout: float = 120.0,
        crash_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.signer = signer
        self.confirmations = max(1, confirmations)
        self.confirmation_timeout = confirmation_timeout
        # Test seam for fault injection: called with "persisted", "recorded", "broadcast".
        self._crash_hook = crash_hook or (lambda _step: None)

    # ------------------------------------------------------------------ public

    def anchor(
        self, prepared: PreparedVersion, *, anchoring_id: str | None = None
    ) -> VersionAnchoring:
        """Persist ``prepared`` and anchor it; returns the confirmed anchoring."""
        anchoring = self.persist(prepared, anchoring_id=anchoring_id)
        if anchoring.status == "confirmed":
            return anchoring
        try:
            return self.submit(anchoring.id)
        except ChainUnavailableError as exc:
            raise ChainUnavailableError(
                f"{str(exc).rstrip('.')}; version {anchoring.root} is kept, and "
                "`xietong dataset resume` anchors it once the node answers again."
            ) from exc

    def persist(
        self, prepared: PreparedVersion, *, anchoring_id: str | None = None
    ) -> VersionAnchoring:
        """Commit the anchoring and its leaf store (status ``pending``) before anything is sent.

        ``anchoring_id`` names it (a fresh id by default), e.g. the id of the API's submission
        batch it anchors.
        """
        root, dataset = _hex(prepared.root), _hex(prepared.dataset_id)
        with Session(self.engine) as session:
            existing = session.exec(
                select(VersionAnchoring).where(
                    VersionAnchoring.dataset_id == dataset, VersionAnchoring.root == root
                )
            ).first()
            if existing is not None and existing.status not in RETRYABLE_ANCHORINGS:
                return existing
        # New here, or refused before: unless the chain holds it by now (another gateway of
        # the department anchored it meanwhile), it is anchored (again).
        if self.client.call("DatasetRegistry", "isAnchored", prepared.dataset_id, prepared.root):
            raise AnchorError(
                f"dataset {dataset} already holds version {root} on chain (anchored by another "
                "gateway of its department, or earlier)."
            )
        if existing is not None:
            # Retried with what this call prepared (a corrected parent, other metadata), by
            # this signer; only if no other process retried or abandoned it meanwhile.
            retried = self._move(
                existing.id,
                "pending",
                only_from=RETRYABLE_ANCHORINGS,
                error=None,
                sender=self.signer.address,
                parents=json.dumps([_hex(p) for p in prepared.parents]),
                metadata_hash=_hex(prepared.metadata_hash),
                source=prepared.source,
                raw_tx=None,
                tx_hash=None,
                nonce=None,
            )
            if retried is None:
                raise AnchorError(
                    f"anchoring {existing.id} of version {root} was retried or abandoned by "
                    "another process meanwhile; run the command again."
                )
            return retried
        now = int(time.time())
        anchoring = VersionAnchoring(
            id=anchoring_id or uuid.uuid4().hex,
            dataset_id=dataset,
            root=root,
            leaf_count=prepared.tree.leaf_count,
            leaf_kind=prepared.kind,
            metadata_hash=_hex(prepared.metadata_hash),
            parents=json.dumps([_hex(p) for p in prepared.parents]),
            source=prepared.source,
            status="pending",
            sender=self.signer.address,
            created_at=now,
            updated_at=now,
        )
        try:
            anchoring = self._store(anchoring, prepared)
        except IntegrityError:
            # Another gateway sharing the database stored the same content (for another
            # dataset) a moment ago: its leaves and tree serve this version too. The same
            # version stored by another instance is its to anchor (the error goes on).
            with Session(self.engine) as session:
                if session.exec(select(TreeBlob.root).where(TreeBlob.root == root)).first() is None:
                    raise
            anchoring = self._store(anchoring, prepared)
        self._crash_hook("persisted")
        return anchoring

    def _store(self, anchoring: VersionAnchoring, prepared: PreparedVersion) -> VersionAnchoring:
        """Commit ``anchoring`` with the leaf store and tree of its root, unless that content
        is stored already (the same root in another dataset: the root is the leaves' hash),
        in one transaction."""
        root = anchoring.root
        with Session(self.engine) as session:
            session.add(VersionAnchoring.model_validate(anchoring))
            # Asked without loading the tree (32 MB at 1,000,000 leaves).
            stored = session.exec(select(TreeBlob.root).where(TreeBlob.root == root)).first()
            if stored is None:
                session.flush()
                insert_blob(
                    "tree_blob",
                    "root",
                    root,
                    "sorted_leaves",
                    prepared.tree.sorted_leaves(),
                    session=session,
                )
                if prepared.kind == "record" and prepared.row_order is not None:
                    insert_record_leaves(
                        root,
                        prepared.tree.sorted_leaves(),
                        prepared.row_order,
                        session=session,
                        digest=prepared.digest,
                    )
                else:
                    rows = self._leaf_rows(prepared, root)
                    insert_rows("leaf", _LEAF_COLUMNS, rows, session=session)
            session.commit()
            row = session.get(VersionAnchoring, anchoring.id)
            assert row is not None
            return row

    def submit(self, anchoring_id: str) -> VersionAnchoring:
        """Sign, record, broadcast and confirm a ``pending`` anchoring."""
        anchoring = self._load(anchoring_id)
        if anchoring.status != "pending":
            return self._finish(anchoring)
        try:
            fn = self.client.contract("DatasetRegistry").functions.anchor(
                bytes(HexBytes(anchoring.dataset_id)),
                bytes(HexBytes(anchoring.root)),
                anchoring.leaf_count,
                bytes(HexBytes(anchoring.metadata_hash)),
                [bytes(HexBytes(p)) for p in json.loads(anchoring.parents)],
            )
            raw, tx_hash, nonce = self.client.sign(fn, sender=self.signer)
        except ContractRevertError as exc:
            return self._fail(anchoring, exc)
        with Session(self.engine) as session:
            row = session.get(VersionAnchoring, anchoring.id)
            assert row is not None
            row.raw_tx, row.tx_hash, row.nonce = "0x" + raw.hex(), tx_hash, nonce
            row.status, row.updated_at = "sent", int(time.time())
            session.commit()
            session.refresh(row)
            anchoring = row
        self._crash_hook("recorded")
        self._broadcast(anchoring)
        self._crash_hook("broadcast")
        return self._finish(anchoring)

    def resume(self) -> list[VersionAnchoring]:
        """Finish every anchoring a crash left ``pending`` or ``sent``."""
        unfinished = self._mine(UNFINISHED_ANCHORINGS)
        return [self.submit(b.id) if b.status == "pending" else self._finish(b) for b in unfinished]

    def failed(self) -> list[VersionAnchoring]:
        """This signer's anchorings the chain refused (``failed``), oldest first: anchor the same
        version again to retry one, or :meth:`abandon` it."""
        return self._mine({"failed"})

    def abandon(self, anchoring_id: str) -> VersionAnchoring:
        """Give up the failed anchoring ``anchoring_id`` (its leaves stay: they may serve the
        same content in another version). AnchorError when there is none, or it did not fail
        (checked and changed in one statement: a retry by another process meanwhile wins)."""
        abandoned = self._move(
            anchoring_id, "abandoned", only_from={"failed"}, owned_by=self.signer.address
        )
        if abandoned is not None:
            return abandoned
        with Session(self.engine) as session:
            row = session.get(VersionAnchoring, anchoring_id)
        if row is None or row.sender != self.signer.address:  # another signer's is not ours
            raise AnchorError(f"this gateway has no anchoring {anchoring_id}.")
        raise AnchorError(
            f"anchoring {anchoring_id} is {row.status}: only a failed one can be abandoned."
        )

    # ------------------------------------------------------------------ internals

    def _mine(self, statuses: Collection[AnchoringStatus]) -> list[VersionAnchoring]:
        """This signer's anchorings in one of ``statuses``, oldest first."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(VersionAnchoring)
                    .where(col(VersionAnchoring.status).in_(sorted(statuses)))
                    .where(VersionAnchoring.sender == self.signer.address)
                    .order_by(col(VersionAnchoring.created_at), col(VersionAnchoring.id))
                ).all()
            )

    def _move(
        self,
        anchoring_id: str,
        status: AnchoringStatus,
        *,
        only_from: Collection[AnchoringStatus],
        owned_by: str | None = None,
        **values: Any,
    ) -> VersionAnchoring | None:
        """Move the anchoring to ``status`` only if it is in one of ``only_from`` (and sent by
        ``owned_by``, when given), in one conditional UPDATE: None when it was not (another
        process moved it first, or it is not there)."""
        conditions = [
            col(VersionAnchoring.id) == anchoring_id,
            col(VersionAnchoring.status).in_(sorted(only_from)),
        ]
        if owned_by is not None:
            conditions.append(col(VersionAnchoring.sender) == owned_by)
        with Session(self.engine) as session:
            moved = session.execute(
                update(VersionAnchoring)
                .where(*conditions)
                .values(status=status, updated_at=int(time.time()), **values)
            )
            session.commit()
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(VersionAnchoring, anchoring_id)

    def _leaf_rows(self, prepared: PreparedVersion, root: str) -> list[tuple[Any, ...]]:
        """The leaf store's rows (in :data:`_LEAF_COLUMNS` order), in tree order: ascending
        leaf hash, so the leaf-hash index grows sequentially (much faster than input order).

        (Records from :func:`prepare_records` skip this: ``insert_record_leaves`` makes
        their rows a chunk at a time from the sorted leaves and the row order.)"""
        rows: list[tuple[Any, ...]]
        index = prepared.tree.leaf_index
        if prepared.kind == "file":
            assert prepared.files is not None
            rows = [
                (
                    root,
                    _hex(leaf),
                    index(leaf),
                    "file",
                    _hex(entry.content_hash),
                    entry.path,
                    None,
                    prepared.digest,
                )
                for leaf, entry in zip(prepared.leaf_hashes, prepared.files, strict=True)
            ]
            rows.sort(key=lambda row: row[2])
            return rows
        rows = [  # records prepared without a row order (prepare_records gives one)
            (root, _hex(leaf), index(leaf), "record", None, None, number, prepared.digest)
            for number, leaf in enumerate(prepared.leaf_hashes)
        ]
        rows.sort(key=lambda row: row[2])
        return rows

    def _load(self, anchoring_id: str) -> VersionAnchoring:
        with Session(self.engine) as session:
            anchoring = session.get(VersionAnchoring, anchoring_id)
        if anchoring is None:
            raise InputError(f"there is no anchoring {anchoring_id}.")
        return anchoring

    def _update(
        self, anchoring_id: str, status: AnchoringStatus, **values: Any
    ) -> VersionAnchoring:
        """Move the anchoring to ``status``, with the other ``values`` it records."""
        with Session(self.engine) as session:
            row = session.get(VersionAnchoring, anchoring_id)
            assert row is not None
            row.status = status
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = int(time.time())
            session.commit()
            session.refresh(row)
            return row

    def _fail(self, anchoring: VersionAnchoring, exc: ContractRevertError) -> VersionAnchoring:
        self._update(anchoring.id, status="failed", error=str(exc))
        raise AnchorError(f"the anchor of {anchoring.root} was refused: {exc}") from exc

    def _broadcast(self, anchoring: VersionAnchoring) -> None:
        assert anchoring.raw_tx is not None
        try:
            with node_errors():
                self.client.w3.eth.send_raw_transaction(HexBytes(anchoring.raw_tx or "0x"))
        except Web3RPCError as exc:
            message = str(exc.message).lower()
            if (
                "already known" in message
                or "known transaction" in message
                or "already imported" in message
            ):
                return  # the node has it: fine
            if "nonce too low" in message or "nonce has already been used" in message:
                return  # mined already, or replaced: _finish tells which
            raise ChainError(
                f"the node refused anchoring transaction {anchoring.tx_hash}: {exc.message}"
            ) from None

    def _finish(self, anchoring: VersionAnchoring) -> VersionAnchoring:
        """Bring a ``sent`` anchoring to ``confirmed`` (or ``failed``)."""
        if anchoring.status not in UNFINISHED_ANCHORINGS:  # confirmed, failed or abandoned
            return anchoring
        if anchoring.status == "pending":
            return self.submit(anchoring.id)
        w3 = self.client.w3
        root = bytes(HexBytes(anchoring.root))
        dataset = bytes(HexBytes(anchoring.dataset_id))
        deadline = time.monotonic() + self.confirmation_timeout
        rebroadcast = False
        delay = 0.005  # doubling to 0.2 s: Anvil mines just after answering the broadcast
        while True:
            # The nonce first: used already when the receipt is then missing means another
            # transaction took it (ours, had it been mined in between, would have a receipt).
            with node_errors():
                nonce_used = w3.eth.get_transaction_count(self.signer.address, "latest") > (
                    anchoring.nonce or 0
                )
                try:
                    receipt = w3.eth.get_transaction_receipt(HexBytes(anchoring.tx_hash or "0x"))
                except TransactionNotFound:
                    receipt = None
            if receipt is not None:
                if receipt["status"] != 1:
                    error = self.client.failure_of(receipt)
                    if isinstance(error, ContractRevertError):
                        return self._fail(anchoring, error)
                    self._update(anchoring.id, status="failed", error=str(error))
                    raise AnchorError(f"the anchor transaction {anchoring.tx_hash} failed: {error}")
                mined = int(receipt["blockNumber"])
                if self.client.block_number() - mined + 1 >= self.confirmations:
                    return self._update(
                        anchoring.id, status="confirmed", block_number=mined, error=None
                    )
            elif self.client.call("DatasetRegistry", "isAnchored", dataset, root):
                # Anchored by another transaction (ours replaced): as deep as ours must be.
                version = read_version(self.client, dataset, root)
                if self.client.block_number() - version.block_number + 1 >= self.confirmations:
                    return self._update(
                        anchoring.id,
                        status="confirmed",
                        block_number=version.block_number,
                        error=None,
                    )
            elif nonce_used:
                # Our nonce was used by another transaction: this one can never be mined.
                self._update(anchoring.id, status="pending", raw_tx=None, tx_hash=None, nonce=None)
                return self.submit(anchoring.id)
            elif not rebroadcast:
                self._broadcast(anchoring)  # e.g. the node restarted and forgot its pool
                rebroadcast = True
            if time.monotonic() > deadline:
                raise TransactionFailedError(
                    f"anchoring transaction {anchoring.tx_hash} has not reached {self.confirmations} "
                    f"confirmations within {self.confirmation_timeout:.0f} seconds; run `xietong dataset resume` later."
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
