"""Answer "is this file or record authentic, who published it, when, and who may receive it?"

:class:`Verifier` answers from the index (leaf store + projections) and checks each root it
reports once against the chain. :func:`verify_bundle` checks a proof bundle with nothing but
the bundle and any node: the Merkle path offline, then the root on chain.

Failures are typed (all :class:`VerificationError`): :class:`NotAnchoredError`,
:class:`RootMismatchError`, :class:`UnknownRootError`, :class:`RevokedVersionError`,
:class:`NotConfirmedError`, :class:`BundleFormatError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3 import Web3

from . import merkle
from .chain.artifacts import load_artifact
from .chain.client import ChainClient
from .db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from .db.tables import (
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    DatasetRow,
    DepartmentRow,
    LeafRow,
    TreeBlob,
    VersionParentRow,
    VersionRow,
)
from .errors import BadHashError, ContractRevertError, InputError, LedgerError

__all__ = [
    "BUNDLE_FORMAT",
    "BundleCheck",
    "BundleFormatError",
    "Match",
    "NotAnchoredError",
    "NotConfirmedError",
    "RevokedVersionError",
    "RootMismatchError",
    "UnknownRootError",
    "Verification",
    "VerificationError",
    "Verifier",
    "parse_hash",
    "verify_bundle",
]

BUNDLE_FORMAT = "xietong-proof/1"
_MAX_LINEAGE = 64
_TREE_CACHE = 16


class VerificationError(LedgerError):
    """Verification failed."""

    kind = "verification"


class NotAnchoredError(VerificationError):
    """No anchored version contains the file, hash or record."""

    kind = "not-anchored"


class RootMismatchError(VerificationError):
    """The proof does not lead from the leaf to the root."""

    kind = "root-mismatch"


class UnknownRootError(VerificationError):
    """The root is not anchored on the chain."""

    kind = "unknown-root"


class RevokedVersionError(VerificationError):
    """The version was revoked by its owner."""

    kind = "revoked"


class NotConfirmedError(VerificationError):
    """The anchor has fewer confirmations than required."""

    kind = "not-confirmed"


class BundleFormatError(VerificationError, InputError):
    """The proof bundle is malformed."""

    kind = "bad-bundle"


def parse_hash(text: str, *, what: str = "hash") -> bytes:
    """A 32-byte value from 64 hex digits (with or without 0x); BadHashError otherwise."""
    value = text.strip().removeprefix("0x").removeprefix("0X")
    shown = text.strip() if len(text.strip()) <= 80 else text.strip()[:77] + "..."
    if len(value) != 64:
        raise BadHashError(
            f"a {what} is 32 bytes (64 hex digits); {shown!r} has {len(value)} digits."
        )
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BadHashError(f"the {what} {shown!r} is not hexadecimal.") from None


# --------------------------------------------------------------------------- answers


@dataclass
class Department:
    id: str
    name: str | None
    status: str | None


@dataclass
class Version:
    root: str
    dataset_id: str
    owner: Department
    leaf_count: int
    block_number: int
    anchored_at: str | None
    transaction: str
    confirmations: int
    final: bool
    revoked_at: str | None
    parents: list[str]


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
class Match:
    leaf_hash: str
    kind: str
    content_hash: str | None
    path: str | None
    record_index: int | None
    version: Version
    lineage: list[Version]
    authorizations: list[Authorization]

    @property
    def status(self) -> str:
        if self.version.revoked_at is not None:
            return "revoked"
        return "anchored" if self.version.final else "unconfirmed"


@dataclass
class Verification:
    """The answer for one file, hash or record."""

    query: str
    matches: list[Match] = field(default_factory=list)

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
        return {
            "query": self.query,
            "anchored": self.anchored,
            "matches": [{**asdict(m), "status": m.status} for m in self.matches],
        }


class Verifier:
    """Answers verification questions from the index, checking roots on chain once each."""

    def __init__(
        self, engine: Engine, client: ChainClient | None, *, confirmations: int = 1,
        head_ttl: float = 0.0,
    ) -> None:  # fmt: skip
        """``head_ttl``: seconds a read of the chain's head may be reused (0: every answer
        reads it; a server answering many requests at once sets a fraction of a second)."""
        self.engine = engine
        self.client = client
        self.confirmations = max(1, confirmations)
        self.head_ttl = head_ttl
        self._clock: tuple[float, int, int] | None = None
        self._on_chain: dict[str, tuple[Any, ...]] = {}
        self._trees: dict[str, merkle.MerkleTree] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ queries

    def verify_content_hash(self, content_hash: bytes) -> Verification:
        """Files whose content SHA-256 is ``content_hash``."""
        key = "0x" + content_hash.hex()
        with Session(self.engine) as session:
            leaves = session.exec(select(LeafRow).where(LeafRow.content_hash == key)).all()
            return self._answer(session, f"file content {key}", leaves)

    def verify_leaf(self, leaf_hash: bytes, *, query: str | None = None) -> Verification:
        """The leaf ``leaf_hash`` (a file or salted record leaf)."""
        key = "0x" + leaf_hash.hex()
        with Session(self.engine) as session:
            leaves = session.exec(select(LeafRow).where(LeafRow.leaf_hash == key)).all()
            return self._answer(session, query or f"leaf {key}", leaves)

    def verify_record(
        self, record_hash: bytes, salt: bytes, *, query: str = "the record"
    ) -> Verification:
        """A record, given its canonical-JSON SHA-256 and its salt."""
        leaf = merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [record_hash, salt])
        return self.verify_leaf(leaf, query=query)

    def proof_bundle(
        self, leaf_hash: bytes, values: Sequence[Any], *, root: bytes | None = None
    ) -> dict[str, Any]:
        """A self-contained proof bundle for a leaf, with the leaf's ``values``."""
        key = "0x" + leaf_hash.hex()
        with Session(self.engine) as session:
            query = select(LeafRow).where(LeafRow.leaf_hash == key)
            if root is not None:
                query = query.where(LeafRow.root == "0x" + root.hex())
            rows = session.exec(query).all()
            versions = [(r, session.get(VersionRow, r.root)) for r in rows]
            anchored = [(r, v) for r, v in versions if v is not None]
            if not anchored:
                raise NotAnchoredError(f"leaf {key} is not in any anchored version known here.")
            leaf_row, version = anchored[-1]
            tree = self._tree(session, leaf_row.root)
        types = merkle.FILE_LEAF_TYPES if leaf_row.kind == "file" else merkle.RECORD_LEAF_TYPES
        if merkle.leaf_hash(types, list(values)) != leaf_hash:
            raise InputError("the leaf values given do not hash to the leaf.")
        chain_id = self.client.chain_id if self.client else None
        contract = self.client.address("DatasetRegistry") if self.client else None
        return {
            "format": BUNDLE_FORMAT,
            "leaf": {
                "kind": leaf_row.kind,
                "types": list(types),
                "values": ["0x" + v.hex() if isinstance(v, bytes) else v for v in values],
                "hash": key,
            },
            "proof": ["0x" + p.hex() for p in tree.proof(leaf_hash)],
            "root": version.root,
            "dataset_id": version.dataset_id,
            "leaf_count": version.leaf_count,
            "chain_id": chain_id,
            "contract": contract,
            "transaction": version.tx_hash,
            "block_number": version.block_number,
            "anchored_at": _iso(version.anchored_at),
        }

    # ------------------------------------------------------------------ internals

    def _answer(self, session: Session, query: str, leaves: Sequence[LeafRow]) -> Verification:
        answer = Verification(query=query)
        if not leaves:
            return answer
        now, head = self._chain_clock()
        for leaf in leaves:
            version_row = session.get(VersionRow, leaf.root)
            if version_row is None or not self._on_chain_ok(version_row.root):
                continue  # persisted but not (yet) anchored, or not on this chain
            version = self._version(session, version_row, head)
            answer.matches.append(
                Match(
                    leaf_hash=leaf.leaf_hash, kind=leaf.kind, content_hash=leaf.content_hash, path=leaf.path,
                    record_index=leaf.record_index, version=version, lineage=self._lineage(session, version_row, head),
                    authorizations=self._authorizations(session, version_row.dataset_id, now),
                )
            )  # fmt: skip
        answer.matches.sort(key=lambda m: (m.status != "anchored", -m.version.block_number))
        return answer

    def _tree(self, session: Session, root: str) -> merkle.MerkleTree:
        """The tree of ``root``, rebuilt from the leaf store once and kept (a few, newest)."""
        with self._lock:
            tree = self._trees.pop(root, None)
        if tree is None:
            blob = session.get(TreeBlob, root)
            if blob is None:
                raise NotAnchoredError(f"the tree of version {root} is not stored here.")
            tree = merkle.MerkleTree.from_sorted_leaves(blob.sorted_leaves)
        with self._lock:
            self._trees[root] = tree
            while len(self._trees) > _TREE_CACHE:
                self._trees.pop(next(iter(self._trees)))
        return tree

    def _chain_clock(self) -> tuple[int, int | None]:
        """(time, head block) of the chain: the latest block's, read at most every
        ``head_ttl`` seconds; the wall clock and no head without a client."""
        if self.client is None:
            return int(time.time()), None
        cached = self._clock
        if cached is not None and time.monotonic() - cached[0] < self.head_ttl:
            return cached[1], cached[2]
        block = self.client.w3.eth.get_block("latest")
        now, head = int(block["timestamp"]), int(block["number"])
        self._clock = (time.monotonic(), now, head)
        return now, head

    def _on_chain_ok(self, root: str) -> bool:
        if self.client is None:
            return True
        if root not in self._on_chain:
            try:
                self._on_chain[root] = tuple(
                    self.client.call("DatasetRegistry", "version", bytes(HexBytes(root)))
                )
            except ContractRevertError:
                return False
        return True

    def _department(self, session: Session, department_id: str) -> Department:
        row = session.get(DepartmentRow, department_id)
        return Department(
            id=department_id, name=row.name if row else None, status=row.status if row else None
        )

    def _version(self, session: Session, row: VersionRow, head: int | None) -> Version:
        dataset = session.get(DatasetRow, row.dataset_id)
        owner = dataset.owner_department if dataset else row.department_id
        confirmations = head - row.block_number + 1 if head is not None else self.confirmations
        parents = session.exec(
            select(VersionParentRow)
            .where(VersionParentRow.root == row.root)
            .order_by(col(VersionParentRow.position))
        ).all()
        return Version(
            root=row.root, dataset_id=row.dataset_id, owner=self._department(session, owner),
            leaf_count=row.leaf_count, block_number=row.block_number, anchored_at=_iso(row.anchored_at),
            transaction=row.tx_hash, confirmations=confirmations, final=confirmations >= self.confirmations,
            revoked_at=_iso(row.revoked_at), parents=[p.parent for p in parents],
        )  # fmt: skip

    def _lineage(self, session: Session, row: VersionRow, head: int | None) -> list[Version]:
        seen: set[str] = {row.root}
        queue = [
            p.parent
            for p in session.exec(select(VersionParentRow).where(VersionParentRow.root == row.root))
        ]
        lineage: list[Version] = []
        while queue and len(lineage) < _MAX_LINEAGE:
            root = queue.pop(0)
            if root in seen:
                continue
            seen.add(root)
            parent = session.get(VersionRow, root)
            if parent is None:
                continue
            version = self._version(session, parent, head)
            lineage.append(version)
            queue.extend(version.parents)
        return lineage

    def _authorizations(self, session: Session, dataset_id: str, now: int) -> list[Authorization]:
        rows = session.exec(
            select(AgreementRow)
            .join(
                AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id)
            )
            .where(AgreementDatasetRow.dataset_id == dataset_id)
            .where(AgreementRow.status == "active")
            .where(col(AgreementRow.valid_from) <= now)
            .where(col(AgreementRow.valid_until) > now)
        ).all()
        result = []
        for agreement in rows:
            provider = self._department(session, agreement.provider)
            consumer = self._department(session, agreement.consumer)
            if provider.status != "active" or consumer.status != "active":
                continue
            receipts = session.exec(
                select(AccessReceiptRow)
                .where(AccessReceiptRow.agreement_id == agreement.id)
                .order_by(col(AccessReceiptRow.receipt_index))
            ).all()
            result.append(
                Authorization(
                    agreement_id=agreement.id, provider=provider, consumer=consumer, purpose=agreement.purpose,
                    legal_basis=agreement.legal_basis, terms_hash=agreement.terms_hash,
                    valid_from=_iso(agreement.valid_from), valid_until=_iso(agreement.valid_until),
                    receipts=[
                        Receipt(index=r.receipt_index, log_root=r.log_root, entry_count=r.entry_count,
                                period_start=_iso(r.period_start), period_end=_iso(r.period_end),
                                recorded_at=_iso(r.recorded_at), transaction=r.tx_hash)
                        for r in receipts
                    ],
                )
            )  # fmt: skip
        return result


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True)
class BundleCheck:
    """A proof bundle that verified, and what the chain says about it."""

    leaf: str
    root: str
    dataset_id: str
    department_id: str | None
    leaf_count: int
    block_number: int
    anchored_at: str | None
    confirmations: int
    chain_id: int
    contract: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(bundle: dict[str, Any], name: str, kind: type) -> Any:
    if name not in bundle:
        raise BundleFormatError(f"the proof bundle has no `{name}`.")
    value = bundle[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BundleFormatError(f"`{name}` in the proof bundle must be a {kind.__name__}.")
    return value


def _bundle_hash(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise BundleFormatError(f"`{name}` in the proof bundle must be a 0x-hex string.")
    try:
        return parse_hash(value, what=name)
    except InputError as exc:
        raise BundleFormatError(f"`{name}` in the proof bundle is malformed: {exc}") from None


def check_bundle_offline(bundle: Any) -> tuple[bytes, list[bytes], bytes]:
    """Check a bundle's form and Merkle path without any I/O; returns (leaf, proof, root)."""
    if not isinstance(bundle, dict):
        raise BundleFormatError("a proof bundle is a JSON object.")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleFormatError(
            f"this is not a {BUNDLE_FORMAT} proof bundle (format {bundle.get('format')!r})."
        )
    leaf_info = _field(bundle, "leaf", dict)
    types, values = leaf_info.get("types"), leaf_info.get("values")
    if types not in (list(merkle.FILE_LEAF_TYPES), list(merkle.RECORD_LEAF_TYPES)):
        raise BundleFormatError(
            "`leaf.types` must be [bytes32, string] (file) or [bytes32, bytes32] (record)."
        )
    if not isinstance(values, list) or len(values) != 2:
        raise BundleFormatError("`leaf.values` must hold two values.")
    decoded: list[Any] = [_bundle_hash(values[0], "leaf.values[0]")]
    if types[1] == "string":
        if not isinstance(values[1], str):
            raise BundleFormatError("`leaf.values[1]` (the path) must be a string.")
        decoded.append(values[1])
    else:
        decoded.append(_bundle_hash(values[1], "leaf.values[1]"))
    leaf = _bundle_hash(leaf_info.get("hash"), "leaf.hash")
    if merkle.leaf_hash(types, decoded) != leaf:
        raise RootMismatchError("the leaf values in the bundle do not hash to its leaf hash.")
    proof_values = _field(bundle, "proof", list)
    if len(proof_values) > 256:
        raise BundleFormatError("the proof has more than 256 steps.")
    proof = [_bundle_hash(p, "proof") for p in proof_values]
    root = _bundle_hash(bundle.get("root"), "root")
    if not merkle.verify_proof(root, leaf, proof):
        raise RootMismatchError(
            f"the proof does not lead from leaf 0x{leaf.hex()} to root 0x{root.hex()}."
        )
    return leaf, proof, root


def verify_bundle(bundle: Any, w3: Web3, *, confirmations: int = 1) -> BundleCheck:
    """Check ``bundle`` offline, then its root on the chain ``w3`` talks to.

    Nothing from the gateway is trusted: the contract address and chain id come from the
    bundle and are checked against the node; the ABI is the committed artifact's.
    """
    leaf, proof, root = check_bundle_offline(bundle)
    contract_address = _field(bundle, "contract", str)
    if not is_hex_address(contract_address):
        raise BundleFormatError("`contract` in the proof bundle must be an address.")
    expected_chain = _field(bundle, "chain_id", int)
    dataset_id = _bundle_hash(bundle.get("dataset_id"), "dataset_id")
    client = ChainClient(w3, {})
    if client.chain_id != expected_chain:
        raise UnknownRootError(
            f"the node serves chain {client.chain_id}, but the bundle was anchored on chain {expected_chain}."
        )
    address = to_checksum_address(contract_address)
    if not w3.eth.get_code(address):
        raise UnknownRootError(f"there is no contract at {address} on chain {client.chain_id}.")
    registry = w3.eth.contract(address=address, abi=load_artifact("DatasetRegistry").abi)
    client.contracts["DatasetRegistry"] = registry
    try:
        version = client.call("DatasetRegistry", "version", root)
    except ContractRevertError as exc:
        if exc.error_name == "DatasetRegistryUnknownRoot":
            raise UnknownRootError(
                f"root 0x{root.hex()} is not anchored on chain {client.chain_id}."
            ) from None
        raise
    on_chain_dataset, leaf_count, anchored_at, block_number, revoked_at = version
    if bytes(on_chain_dataset) != dataset_id:
        raise UnknownRootError(
            f"root 0x{root.hex()} belongs to dataset 0x{bytes(on_chain_dataset).hex()}, not 0x{dataset_id.hex()}."
        )
    if revoked_at:
        raise RevokedVersionError(
            f"version 0x{root.hex()} was revoked by its owner at {_iso(revoked_at)}."
        )
    if not client.call("DatasetRegistry", "verifyLeaf", root, leaf, proof):
        raise RootMismatchError("the contract does not accept the proof for this root.")
    depth = int(w3.eth.block_number) - int(block_number) + 1
    if depth < confirmations:
        raise NotConfirmedError(
            f"the anchor has {depth} confirmation(s); {confirmations} are required."
        )
    return BundleCheck(
        leaf="0x" + leaf.hex(), root="0x" + root.hex(), dataset_id="0x" + dataset_id.hex(), department_id=None,
        leaf_count=int(leaf_count), block_number=int(block_number), anchored_at=_iso(int(anchored_at)),
        confirmations=depth, chain_id=client.chain_id, contract=address,
    )  # fmt: skip
