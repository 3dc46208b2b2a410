"""Answer "is this file or record authentic, who published it, when, and who may receive it?"

:class:`Verifier` answers from the index (leaf store + projections) and checks each root it
reports once against the chain. :func:`verify_bundle` checks a proof bundle with nothing but
the bundle and any node: the Merkle path offline, then the root on chain.

Failures are typed (all :class:`VerificationError`): :class:`NotAnchoredError`,
:class:`RootMismatchError`, :class:`UnknownRootError`, :class:`RevokedVersionError`,
:class:`NotConfirmedError`, :class:`BundleFormatError`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
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
    IndexerCheckpoint,
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
    "WouldBlockError",
    "parse_hash",
    "verify_bundle",
]

BUNDLE_FORMAT = "xietong-proof/1"
_MAX_LINEAGE = 64
_TREE_CACHE = 16
_RENEW_AT = 0.75  # of head_ttl: from then on, one caller reads the chain's head anew
# The statements of every answer, built once (Core: rows, not ORM objects).
_LEAF = LeafRow.__table__  # type: ignore[attr-defined]
_CHECKPOINT = IndexerCheckpoint.__table__  # type: ignore[attr-defined]
_LEAF_COLUMNS = ("root", "leaf_hash", "kind", "content_hash", "path", "record_index")
#: Leaves by content or leaf hash, with the index's checkpoint (a row of NULL leaf columns
#: when no leaf matches; no row when nothing is indexed).
_LEAVES_AND_CHECKPOINT = {
    column: sa_select(_CHECKPOINT.c.block_number, _CHECKPOINT.c.block_hash, *(_LEAF.c[n] for n in _LEAF_COLUMNS))
    .select_from(_CHECKPOINT.outerjoin(_LEAF, _LEAF.c[column] == bindparam("key")))
    .where(_CHECKPOINT.c.id == 1)
    for column in ("content_hash", "leaf_hash")
}  # fmt: skip
_LEAVES = {
    column: sa_select(*(_LEAF.c[n] for n in _LEAF_COLUMNS)).where(_LEAF.c[column] == bindparam("key"))
    for column in ("content_hash", "leaf_hash")
}  # fmt: skip


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


class WouldBlockError(Exception):
    """Inside :meth:`Verifier.in_memory`: the answer needs the chain node, a database server
    or a tree rebuilt; nothing was left half done, so ask again on a worker thread."""


#: Set by Verifier.in_memory for the calls made inside it (this thread or task only).
_IN_MEMORY: ContextVar[bool] = ContextVar("xietong_verify_in_memory", default=False)


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
        """The answer as JSON-ready dicts (what ``dataclasses.asdict`` gives, made faster)."""
        return {
            "query": self.query,
            "anchored": self.anchored,
            "matches": [_match_dict(m) for m in self.matches],
        }


def _department_dict(d: Department) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "status": d.status}


def _version_dict(v: Version) -> dict[str, Any]:
    return {
        "root": v.root, "dataset_id": v.dataset_id, "owner": _department_dict(v.owner),
        "leaf_count": v.leaf_count, "block_number": v.block_number, "anchored_at": v.anchored_at,
        "transaction": v.transaction, "confirmations": v.confirmations, "final": v.final,
        "revoked_at": v.revoked_at, "parents": list(v.parents),
    }  # fmt: skip


def _authorization_dict(a: Authorization) -> dict[str, Any]:
    return {
        "agreement_id": a.agreement_id, "provider": _department_dict(a.provider),
        "consumer": _department_dict(a.consumer), "purpose": a.purpose, "legal_basis": a.legal_basis,
        "terms_hash": a.terms_hash, "valid_from": a.valid_from, "valid_until": a.valid_until,
        "receipts": [
            {"index": r.index, "log_root": r.log_root, "entry_count": r.entry_count,
             "period_start": r.period_start, "period_end": r.period_end,
             "recorded_at": r.recorded_at, "transaction": r.transaction}
            for r in a.receipts
        ],
    }  # fmt: skip


def _match_dict(m: Match) -> dict[str, Any]:
    return {
        "leaf_hash": m.leaf_hash, "kind": m.kind, "content_hash": m.content_hash, "path": m.path,
        "record_index": m.record_index, "version": _version_dict(m.version),
        "lineage": [_version_dict(v) for v in m.lineage],
        "authorizations": [_authorization_dict(a) for a in m.authorizations], "status": m.status,
    }  # fmt: skip


class Verifier:
    """Answers verification questions from the index, checking roots on chain once each.

    What the index says about versions, lineage, departments and agreements is kept per
    *index generation* (the indexer's checkpoint: block number and hash), which every answer
    reads with the leaves it asks for, in one statement: an answer never uses facts older
    than the index it read, and a busy server asks the database only for the leaves of the
    hash in question. Trees are rebuilt once per root (a few, newest kept); the chain's head
    is kept for at most ``head_ttl`` seconds.
    """

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
        self._facts = _IndexFacts(None)
        self._lock = threading.Lock()
        self._clock_lock = threading.Lock()
        self._renewal_claimed = -math.inf
        #: SQLite is a library reading a local file; any other database is a server away.
        self._embedded = engine.dialect.name == "sqlite"

    @contextmanager
    def in_memory(self) -> Iterator[None]:
        """Answer on the caller's thread only from what is kept in memory and the embedded
        database: the calls inside raise :class:`WouldBlockError` instead of waiting on the
        network (the chain node, a PostgreSQL server) or rebuilding a tree.

        For an event loop, whose worker-thread hop costs more than a kept answer: try here,
        and on WouldBlockError make the same call on a worker thread.
        """
        token = _IN_MEMORY.set(True)
        try:
            yield
        finally:
            _IN_MEMORY.reset(token)

    @staticmethod
    def _would_block(what: str) -> None:
        if _IN_MEMORY.get():
            raise WouldBlockError(what)

    # ------------------------------------------------------------------ queries

    def verify_content_hash(self, content_hash: bytes) -> Verification:
        """Files whose content SHA-256 is ``content_hash``."""
        key = "0x" + content_hash.hex()
        with self._lookup("content_hash", key) as (reads, facts, leaves):
            return self._answer(reads, facts, f"file content {key}", leaves)

    def verify_leaf(self, leaf_hash: bytes, *, query: str | None = None) -> Verification:
        """The leaf ``leaf_hash`` (a file or salted record leaf)."""
        key = "0x" + leaf_hash.hex()
        with self._lookup("leaf_hash", key) as (reads, facts, leaves):
            return self._answer(reads, facts, query or f"leaf {key}", leaves)

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
        # Found by leaf hash alone and narrowed to the root here: given both, SQLite would
        # walk every leaf of the root (its (root, position) index looks as good to it).
        with self._lookup("leaf_hash", key) as (reads, facts, rows):
            if root is not None:
                rows = [r for r in rows if r.root == "0x" + root.hex()]
            anchored = [(r, v) for r in rows if (v := self._version_facts(reads, facts, r.root))]
            if not anchored:
                raise NotAnchoredError(f"leaf {key} is not in any anchored version known here.")
            leaf_row, version = anchored[-1]
            tree = self._tree(leaf_row.root, reads)
        types = merkle.FILE_LEAF_TYPES if leaf_row.kind == "file" else merkle.RECORD_LEAF_TYPES
        if merkle.leaf_hash(types, list(values)) != leaf_hash:
            raise InputError("the leaf values given do not hash to the leaf.")
        return self._bundle(leaf_row.kind, types, values, leaf_hash, tree, version)

    def match_bundle(self, match: Match) -> dict[str, Any]:
        """The proof bundle of a file ``match`` of an answer: what :meth:`proof_bundle` gives
        for its leaf, values and root, from what the answer already holds (no query)."""
        if match.kind != "file" or match.content_hash is None or match.path is None:
            raise InputError("only a file match carries the values of its leaf.")
        leaf_hash = bytes.fromhex(match.leaf_hash[2:])
        values = [bytes.fromhex(match.content_hash[2:]), match.path]
        if merkle.leaf_hash(merkle.FILE_LEAF_TYPES, values) != leaf_hash:
            raise InputError("the leaf values given do not hash to the leaf.")
        tree = self._tree(match.version.root)
        return self._bundle(
            match.kind, merkle.FILE_LEAF_TYPES, values, leaf_hash, tree, match.version
        )

    # ------------------------------------------------------------------ internals

    def _bundle(
        self, kind: str, types: Sequence[str], values: Sequence[Any], leaf_hash: bytes,
        tree: merkle.MerkleTree, version: Version | _VersionFacts,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "format": BUNDLE_FORMAT,
            "leaf": {
                "kind": kind,
                "types": list(types),
                "values": ["0x" + v.hex() if isinstance(v, bytes) else v for v in values],
                "hash": "0x" + leaf_hash.hex(),
            },
            "proof": ["0x" + p.hex() for p in tree.proof(leaf_hash)],
            "root": version.root,
            "dataset_id": version.dataset_id,
            "leaf_count": version.leaf_count,
            "chain_id": self.client.chain_id if self.client else None,
            "contract": self.client.address("DatasetRegistry") if self.client else None,
            "transaction": version.transaction,
            "block_number": version.block_number,
            "anchored_at": version.anchored_at,
        }

    def _answer(
        self, reads: _Reads, facts: _IndexFacts, query: str, leaves: Sequence[Any]
    ) -> Verification:
        answer = Verification(query=query)
        if not leaves:
            return answer
        now, head = self._chain_clock()
        for leaf in leaves:
            version = self._version_facts(reads, facts, leaf.root)
            if version is None or not self._on_chain_ok(version.root):
                continue  # persisted but not (yet) anchored, or not on this chain
            answer.matches.append(
                Match(
                    leaf_hash=leaf.leaf_hash, kind=leaf.kind, content_hash=leaf.content_hash, path=leaf.path,
                    record_index=leaf.record_index, version=self._version(version, head),
                    lineage=[self._version(v, head) for v in self._lineage(reads, facts, version)],
                    authorizations=self._authorizations(reads, facts, version.dataset_id, now),
                )
            )  # fmt: skip
        answer.matches.sort(key=lambda m: (m.status != "anchored", -m.version.block_number))
        return answer

    def _tree(self, root: str, reads: _Reads | None = None) -> merkle.MerkleTree:
        """The tree of ``root``, rebuilt from the leaf store once and kept (a few, newest)."""
        with self._lock:
            tree = self._trees.pop(root, None)
        if tree is None:
            self._would_block("a tree to rebuild")
            if reads is None:
                with Session(self.engine) as session:
                    blob = session.get(TreeBlob, root)
            else:
                blob = reads.session.get(TreeBlob, root)
            if blob is None:
                raise NotAnchoredError(f"the tree of version {root} is not stored here.")
            tree = merkle.MerkleTree.from_sorted_leaves(blob.sorted_leaves)
        with self._lock:
            self._trees[root] = tree
            while len(self._trees) > _TREE_CACHE:
                self._trees.pop(next(iter(self._trees)))
        return tree

    def _chain_clock(self) -> tuple[int, int | None]:
        """(time, head block) of the chain: the latest block's, kept for at most ``head_ttl``
        seconds; the wall clock and no head without a client.

        Once 3/4 of ``head_ttl`` have passed, one caller reads the head anew while the others
        still take the one kept: answers in memory (:meth:`in_memory`) rarely wait for it."""
        if self.client is None:
            return int(time.time()), None
        cached = self._clock
        if cached is not None:
            age = time.monotonic() - cached[0]
            if age < self.head_ttl * _RENEW_AT:
                return cached[1], cached[2]
            if age < self.head_ttl and _IN_MEMORY.get() and not self._claim_renewal():
                return cached[1], cached[2]  # another caller is reading it anew
        self._would_block("the chain node")
        with self._clock_lock:  # one read at a time: the others take what it read
            cached = self._clock
            if cached is not None and time.monotonic() - cached[0] < self.head_ttl * _RENEW_AT:
                return cached[1], cached[2]
            block = self.client.w3.eth.get_block("latest")
            now, head = int(block["timestamp"]), int(block["number"])
            self._clock = (time.monotonic(), now, head)
            self._renewal_claimed = -math.inf
        return now, head

    def _claim_renewal(self) -> bool:
        """Whether this caller is the one to read the head anew (a claim lapses after
        ``head_ttl``, should its caller never get to it)."""
        with self._lock:
            now = time.monotonic()
            if now - self._renewal_claimed < self.head_ttl:
                return False
            self._renewal_claimed = now
            return True

    def _on_chain_ok(self, root: str) -> bool:
        if self.client is None:
            return True
        if root not in self._on_chain:
            self._would_block("the chain node")
            try:
                self._on_chain[root] = tuple(
                    self.client.call("DatasetRegistry", "version", bytes(HexBytes(root)))
                )
            except ContractRevertError:
                return False
        return True

    @contextmanager
    def _lookup(self, column: str, key: str) -> Iterator[tuple[_Reads, _IndexFacts, list[Any]]]:
        """The leaves whose ``column`` is ``key``, read with the index's checkpoint in one
        statement, and the facts kept for that generation of the index."""
        if not self._embedded:
            self._would_block("a database server")
        with self.engine.connect() as connection:
            # One statement, or a few reads of facts not kept yet, none of which writes: no
            # transaction to begin and roll back (two round trips to a database server).
            connection.execution_options(isolation_level="AUTOCOMMIT")
            reads = _Reads(connection)
            try:
                rows = connection.execute(_LEAVES_AND_CHECKPOINT[column], {"key": key}).all()
                if rows:
                    facts = self._index_facts((int(rows[0].block_number), str(rows[0].block_hash)))
                    leaves: list[Any] = [r for r in rows if r.root is not None]
                else:  # nothing indexed yet, or a reindex under way: no checkpoint
                    facts = _IndexFacts(None)
                    leaves = list(connection.execute(_LEAVES[column], {"key": key}).all())
                yield reads, facts, leaves
            finally:
                reads.close()

    def _index_facts(self, generation: tuple[int, str]) -> _IndexFacts:
        """The facts kept for this generation of the index (its checkpoint's block number
        and hash: the indexer moves it in the transaction that changes the projections,
        and it is read in the statement that finds the leaves)."""
        with self._lock:
            if self._facts.generation != generation:
                self._facts = _IndexFacts(generation)
            return self._facts

    def _department(
        self, reads: _Reads, facts: _IndexFacts, department_id: str
    ) -> tuple[str, str | None, str | None]:
        found = facts.departments.get(department_id)
        if found is None:
            row = reads.session.get(DepartmentRow, department_id)
            found = (department_id, row.name if row else None, row.status if row else None)
            facts.keep(facts.departments, department_id, found)
        return found

    def _version_facts(self, reads: _Reads, facts: _IndexFacts, root: str) -> _VersionFacts | None:
        """The index's facts on version ``root``; None when it is not (yet) indexed."""
        if root in facts.versions:
            return facts.versions[root]
        row = reads.session.get(VersionRow, root)
        found = None
        if row is not None:
            dataset = reads.session.get(DatasetRow, row.dataset_id)
            owner = dataset.owner_department if dataset else row.department_id
            parents = reads.session.exec(
                select(VersionParentRow.parent)
                .where(VersionParentRow.root == row.root)
                .order_by(col(VersionParentRow.position))
            ).all()
            found = _VersionFacts(
                root=row.root, dataset_id=row.dataset_id, owner=self._department(reads, facts, owner),
                leaf_count=row.leaf_count, block_number=row.block_number, anchored_at=_iso(row.anchored_at),
                transaction=row.tx_hash, revoked_at=_iso(row.revoked_at), parents=tuple(parents),
            )  # fmt: skip
        facts.keep(facts.versions, root, found)
        return found

    def _version(self, facts: _VersionFacts, head: int | None) -> Version:
        confirmations = head - facts.block_number + 1 if head is not None else self.confirmations
        return Version(
            root=facts.root, dataset_id=facts.dataset_id, owner=Department(*facts.owner),
            leaf_count=facts.leaf_count, block_number=facts.block_number, anchored_at=facts.anchored_at,
            transaction=facts.transaction, confirmations=confirmations,
            final=confirmations >= self.confirmations, revoked_at=facts.revoked_at,
            parents=list(facts.parents),
        )  # fmt: skip

    def _lineage(
        self, reads: _Reads, facts: _IndexFacts, version: _VersionFacts
    ) -> list[_VersionFacts]:
        """The versions ``version`` derives from, breadth first (at most _MAX_LINEAGE)."""
        known = facts.lineages.get(version.root)
        if known is not None:
            return known
        seen: set[str] = {version.root}
        queue = list(version.parents)
        lineage: list[_VersionFacts] = []
        while queue and len(lineage) < _MAX_LINEAGE:
            root = queue.pop(0)
            if root in seen:
                continue
            seen.add(root)
            parent = self._version_facts(reads, facts, root)
            if parent is None:
                continue
            lineage.append(parent)
            queue.extend(parent.parents)
        facts.keep(facts.lineages, version.root, lineage)
        return lineage

    def _authorizations(
        self, reads: _Reads, facts: _IndexFacts, dataset_id: str, now: int
    ) -> list[Authorization]:
        """Agreements letting the dataset's provider share it right now, both parties active."""
        agreements = facts.agreements.get(dataset_id)
        if agreements is None:
            agreements = self._agreements(reads, facts, dataset_id)
            facts.keep(facts.agreements, dataset_id, agreements)
        result = []
        for a in agreements:
            if not (a.valid_from <= now < a.valid_until):
                continue
            if a.provider[2] != "active" or a.consumer[2] != "active":
                continue
            result.append(
                Authorization(
                    agreement_id=a.agreement_id, provider=Department(*a.provider),
                    consumer=Department(*a.consumer), purpose=a.purpose, legal_basis=a.legal_basis,
                    terms_hash=a.terms_hash, valid_from=_iso(a.valid_from), valid_until=_iso(a.valid_until),
                    receipts=[Receipt(*r) for r in a.receipts],
                )
            )  # fmt: skip
        return result

    def _agreements(
        self, reads: _Reads, facts: _IndexFacts, dataset_id: str
    ) -> list[_AgreementFacts]:
        """The active agreements covering ``dataset_id`` (at any time; answers check it)."""
        rows = reads.session.exec(
            select(AgreementRow)
            .join(
                AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id)
            )
            .where(AgreementDatasetRow.dataset_id == dataset_id)
            .where(AgreementRow.status == "active")
        ).all()
        result = []
        for agreement in rows:
            receipts = reads.session.exec(
                select(AccessReceiptRow)
                .where(AccessReceiptRow.agreement_id == agreement.id)
                .order_by(col(AccessReceiptRow.receipt_index))
            ).all()
            result.append(
                _AgreementFacts(
                    agreement_id=agreement.id, provider=self._department(reads, facts, agreement.provider),
                    consumer=self._department(reads, facts, agreement.consumer), purpose=agreement.purpose,
                    legal_basis=agreement.legal_basis, terms_hash=agreement.terms_hash,
                    valid_from=agreement.valid_from, valid_until=agreement.valid_until,
                    receipts=tuple(
                        (r.receipt_index, r.log_root, r.entry_count, _iso(r.period_start),
                         _iso(r.period_end), _iso(r.recorded_at), r.tx_hash)
                        for r in receipts
                    ),
                )
            )  # fmt: skip
        return result


class _Reads:
    """The connection of one answer, and an ORM session over it, opened only when facts
    not kept yet must be read."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


_Dept = tuple[str, str | None, str | None]  # id, name, status


@dataclass(frozen=True)
class _VersionFacts:
    """What the index says about one version (all of :class:`Version` but the depth)."""

    root: str
    dataset_id: str
    owner: _Dept
    leaf_count: int
    block_number: int
    anchored_at: str | None
    transaction: str
    revoked_at: str | None
    parents: tuple[str, ...]


@dataclass(frozen=True)
class _AgreementFacts:
    """An active agreement covering a dataset, its parties and receipts (as index rows say)."""

    agreement_id: str
    provider: _Dept
    consumer: _Dept
    purpose: str
    legal_basis: str
    terms_hash: str
    valid_from: int
    valid_until: int
    receipts: tuple[tuple[Any, ...], ...]


class _IndexFacts:
    """Facts read from one generation of the index (checkpoint block number and hash); a
    generation of None (nothing indexed, or a reindex under way) keeps nothing."""

    _LIMIT = 50_000  # entries per kind before a kind is forgotten and read again

    def __init__(self, generation: tuple[int, str] | None) -> None:
        self.generation = generation
        self.departments: dict[str, _Dept] = {}
        self.versions: dict[str, _VersionFacts | None] = {}
        self.lineages: dict[str, list[_VersionFacts]] = {}
        self.agreements: dict[str, list[_AgreementFacts]] = {}

    def keep(self, kind: dict[str, Any], key: str, value: Any) -> None:
        if self.generation is None:
            return
        if len(kind) >= self._LIMIT:
            kind.clear()
        kind[key] = value


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
