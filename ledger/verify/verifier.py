"""The :class:`Verifier`: answers from the index (leaf store + projections), checking each
root it reports once against the chain, keeping what it read per index generation."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
from hexbytes import HexBytes
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3.exceptions import BlockNotFound, Web3RPCError

from .. import merkle
from ..chain.client import ChainClient
from ..db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from ..db.tables import (
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    AnchorBatch,
    DatasetRow,
    DepartmentRow,
    IndexerCheckpoint,
    LeafRow,
    TreeBlob,
    VersionParentRow,
    VersionRow,
)
from ..errors import ChainUnavailableError, ContractRevertError, InputError
from ._errors import NotAnchoredError, WouldBlockError
from ._facts import AgreementFacts, IndexFacts, Reads, VersionFacts
from .answers import Authorization, Department, Match, Receipt, Verification, Version
from .bundles import BUNDLE_FORMAT

__all__ = ["Verifier"]

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
    column: sa_select(
        _CHECKPOINT.c.block_number, _CHECKPOINT.c.block_hash, *(_LEAF.c[n] for n in _LEAF_COLUMNS)
    )
    .select_from(_CHECKPOINT.outerjoin(_LEAF, _LEAF.c[column] == bindparam("key")))
    .where(_CHECKPOINT.c.id == 1)
    for column in ("content_hash", "leaf_hash")
}
_LEAVES = {
    column: sa_select(*(_LEAF.c[n] for n in _LEAF_COLUMNS)).where(
        _LEAF.c[column] == bindparam("key")
    )
    for column in ("content_hash", "leaf_hash")
}


_NODE_RETRY = 1.0  # seconds an unreachable node is left alone before it is asked again
_NODE_DOWN = (ChainUnavailableError, requests.ConnectionError, requests.Timeout, OSError)

#: Set by Verifier.in_memory for the calls made inside it (this thread or task only).
_IN_MEMORY: ContextVar[bool] = ContextVar("xietong_verify_in_memory", default=False)


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
        self,
        engine: Engine,
        client: ChainClient | None,
        *,
        confirmations: int = 1,
        head_ttl: float = 0.0,
    ) -> None:
        """``head_ttl``: seconds a read of the chain's head may be reused (0: every answer
        reads it; a server answering many requests at once sets a fraction of a second)."""
        self.engine = engine
        self.client = client
        self.confirmations = max(1, confirmations)
        self.head_ttl = head_ttl
        self._clock: tuple[float, int, int] | None = None
        self._on_chain: dict[str, tuple[Any, ...]] = {}
        self._trees: dict[str, merkle.MerkleTree] = {}
        self._facts = IndexFacts(None)
        self._lock = threading.Lock()
        self._clock_lock = threading.Lock()
        self._renewal_claimed = -math.inf
        self._node_down_until = -math.inf
        self._index_checked: tuple[tuple[int, str], float, bool] | None = None
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
        self,
        kind: str,
        types: Sequence[str],
        values: Sequence[Any],
        leaf_hash: bytes,
        tree: merkle.MerkleTree,
        version: Version | VersionFacts,
    ) -> dict[str, Any]:
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
        self, reads: Reads, facts: IndexFacts, query: str, leaves: Sequence[Any]
    ) -> Verification:
        indexed = facts.generation[0] if facts.generation is not None else None
        answer = Verification(query=query, index_block=indexed)
        if not leaves:
            return answer
        now, head, node_ok = self._clock_or_index(indexed)
        # An index left on a branch the chain abandoned (a reorg deeper than the confirmations,
        # until the indexer's next pass rolls it back): no check kept from before counts.
        trusted = not node_ok or self._index_on_chain(facts.generation)
        for leaf in leaves:
            version = self._version_facts(reads, facts, leaf.root)
            if version is None or not self._on_chain_ok(
                version, head, node_ok=node_ok, trusted=trusted
            ):
                continue  # persisted but not (yet) anchored, or not on this chain (branch)
            answer.matches.append(
                Match(
                    leaf_hash=leaf.leaf_hash,
                    kind=leaf.kind,
                    content_hash=leaf.content_hash,
                    path=leaf.path,
                    record_index=leaf.record_index,
                    version=self._version(version, head),
                    lineage=[self._version(v, head) for v in self._lineage(reads, facts, version)],
                    authorizations=self._authorizations(reads, facts, version.dataset_id, now),
                )
            )
        answer.matches.sort(key=lambda m: (m.status != "anchored", -m.version.block_number))
        answer.node_reachable = node_ok and not self._node_down()
        return answer

    def _tree(self, root: str, reads: Reads | None = None) -> merkle.MerkleTree:
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

    def _node_down(self) -> bool:
        return time.monotonic() < self._node_down_until

    def _clock_or_index(self, indexed: int | None) -> tuple[int, int | None, bool]:
        """(time, head, node reachable): the chain's when its node answers; otherwise the wall
        clock and the index's block, so confirmations are counted as of the index (never more
        than the chain has) and the answer says the node was not reached. After a failure the
        node is left alone for ``_NODE_RETRY`` seconds (a hung node costs one timeout)."""
        if not self._node_down():
            try:
                now, head = self._chain_clock()
                return now, head, True
            except _NODE_DOWN:
                self._node_down_until = time.monotonic() + _NODE_RETRY
        return int(time.time()), indexed, False

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

    def _index_on_chain(self, generation: tuple[int, str] | None) -> bool:
        """Whether the chain still holds the index's checkpoint block (asked at most once per
        ``head_ttl`` for one generation of the index, by one caller: the others wait for it)."""
        if generation is None or self.client is None:
            return True
        kept = self._kept_index_check(generation)
        if kept is not None:
            return kept
        self._would_block("the chain node")
        with self._clock_lock:
            kept = self._kept_index_check(generation)  # read by a caller we waited for
            if kept is not None:
                return kept
            try:
                block = self.client.w3.eth.get_block(generation[0])
                holds = block["hash"].to_0x_hex() == generation[1]
            except (BlockNotFound, Web3RPCError):
                holds = False  # the chain got shorter than the index
            except _NODE_DOWN:
                self._node_down_until = time.monotonic() + _NODE_RETRY
                return True  # the answer says the node was not reached
            self._index_checked = (generation, time.monotonic(), holds)
        return holds

    def _kept_index_check(self, generation: tuple[int, str]) -> bool | None:
        kept = self._index_checked
        if (
            kept is not None
            and kept[0] == generation
            and time.monotonic() - kept[1] < self.head_ttl
        ):
            return kept[2]
        return None

    def _on_chain_ok(
        self, version: VersionFacts, head: int | None, *, node_ok: bool, trusted: bool = True
    ) -> bool:
        """Whether the chain holds ``version`` where the index says (same block).

        The answer is kept only once the version is final at the head read: until then a
        reorg may still drop it, so it is asked again each time (an index that has not caught
        up with a reorg yet must not make an orphaned version look anchored). Without the node,
        the index is the answer (the answer says so)."""
        if self.client is None or not node_ok:
            return True
        if trusted and version.root in self._on_chain:
            return True
        self._would_block("the chain node")
        try:
            record = tuple(
                self.client.call("DatasetRegistry", "version", bytes(HexBytes(version.root)))
            )
        except ContractRevertError:
            return False  # not on this chain, or on a branch the chain left
        except _NODE_DOWN:
            self._node_down_until = time.monotonic() + _NODE_RETRY
            return True
        block_number = int(record[3])
        if block_number != version.block_number:
            return False  # re-anchored at another block since the index read it
        if trusted and head is not None and head - block_number + 1 >= self.confirmations:
            self._on_chain[version.root] = record
        return True

    @contextmanager
    def _lookup(self, column: str, key: str) -> Iterator[tuple[Reads, IndexFacts, list[Any]]]:
        """The leaves whose ``column`` is ``key``, read with the index's checkpoint in one
        statement, and the facts kept for that generation of the index."""
        if not self._embedded:
            self._would_block("a database server")
        with self.engine.connect() as connection:
            # One statement, or a few reads of facts not kept yet, none of which writes: no
            # transaction to begin and roll back (two round trips to a database server).
            connection.execution_options(isolation_level="AUTOCOMMIT")
            reads = Reads(connection)
            try:
                rows = connection.execute(_LEAVES_AND_CHECKPOINT[column], {"key": key}).all()
                if rows:
                    facts = self._index_facts((int(rows[0].block_number), str(rows[0].block_hash)))
                    leaves: list[Any] = [r for r in rows if r.root is not None]
                else:  # nothing indexed yet, or a reindex under way: no checkpoint
                    facts = IndexFacts(None)
                    leaves = list(connection.execute(_LEAVES[column], {"key": key}).all())
                yield reads, facts, leaves
            finally:
                reads.close()

    def _index_facts(self, generation: tuple[int, str]) -> IndexFacts:
        """The facts kept for this generation of the index (its checkpoint's block number
        and hash: the indexer moves it in the transaction that changes the projections,
        and it is read in the statement that finds the leaves)."""
        with self._lock:
            if self._facts.generation != generation:
                self._facts = IndexFacts(generation)
            return self._facts

    def _department(
        self, reads: Reads, facts: IndexFacts, department_id: str
    ) -> tuple[str, str | None, str | None]:
        found = facts.departments.get(department_id)
        if found is None:
            row = reads.session.get(DepartmentRow, department_id)
            found = (department_id, row.name if row else None, row.status if row else None)
            facts.keep(facts.departments, department_id, found)
        return found

    def _version_facts(self, reads: Reads, facts: IndexFacts, root: str) -> VersionFacts | None:
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
            found = VersionFacts(
                root=row.root,
                dataset_id=row.dataset_id,
                owner=self._department(reads, facts, owner),
                leaf_count=row.leaf_count,
                block_number=row.block_number,
                anchored_at=_iso(row.anchored_at),
                transaction=row.tx_hash,
                revoked_at=_iso(row.revoked_at),
                parents=tuple(parents),
            )
            facts.keep(facts.versions, root, found)
            return found
        # Not indexed (yet): nothing kept, a batch of this gateway may be confirmed any moment.
        return self._anchored_here(reads, facts, root)

    def _anchored_here(self, reads: Reads, facts: IndexFacts, root: str) -> VersionFacts | None:
        """A version this gateway anchored and saw confirmed that the index has not reached
        yet (the indexer follows a moment later): its facts from the batch and the chain, once
        final, so that "confirmed" is verifiable at once."""
        batch = reads.session.exec(
            select(AnchorBatch).where(AnchorBatch.root == root, AnchorBatch.status == "confirmed")
        ).first()
        if batch is None or self.client is None:
            return None
        dataset = reads.session.get(DatasetRow, batch.dataset_id)
        if dataset is None:
            return None  # the index is further behind than one pass: let it catch up
        self._would_block("the chain node")
        try:
            on_chain = self.client.call("DatasetRegistry", "version", bytes(HexBytes(root)))
            head = int(self.client.w3.eth.block_number)
        except (ContractRevertError, *_NODE_DOWN):
            return None
        _, leaf_count, anchored_at, block_number, revoked_at = on_chain
        if head - int(block_number) + 1 < self.confirmations:
            return None  # not final yet: the index would not hold it either
        return VersionFacts(
            root=root,
            dataset_id=batch.dataset_id,
            owner=self._department(reads, facts, dataset.owner_department),
            leaf_count=int(leaf_count),
            block_number=int(block_number),
            anchored_at=_iso(int(anchored_at)),
            transaction=batch.tx_hash or "",
            revoked_at=_iso(int(revoked_at)) if revoked_at else None,
            parents=tuple(json.loads(batch.parents)),
        )

    def _version(self, facts: VersionFacts, head: int | None) -> Version:
        # A head kept from a moment ago may be older than a block just indexed or confirmed:
        # the block exists, so it is at least the head (one confirmation, counted low).
        confirmations = (
            max(head, facts.block_number) - facts.block_number + 1
            if head is not None
            else self.confirmations
        )
        return Version(
            root=facts.root,
            dataset_id=facts.dataset_id,
            owner=Department(*facts.owner),
            leaf_count=facts.leaf_count,
            block_number=facts.block_number,
            anchored_at=facts.anchored_at,
            transaction=facts.transaction,
            confirmations=confirmations,
            final=confirmations >= self.confirmations,
            revoked_at=facts.revoked_at,
            parents=list(facts.parents),
        )

    def _lineage(
        self, reads: Reads, facts: IndexFacts, version: VersionFacts
    ) -> list[VersionFacts]:
        """The versions ``version`` derives from, breadth first (at most _MAX_LINEAGE)."""
        known = facts.lineages.get(version.root)
        if known is not None:
            return known
        seen: set[str] = {version.root}
        queue = list(version.parents)
        lineage: list[VersionFacts] = []
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
        self, reads: Reads, facts: IndexFacts, dataset_id: str, now: int
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
                    agreement_id=a.agreement_id,
                    provider=Department(*a.provider),
                    consumer=Department(*a.consumer),
                    purpose=a.purpose,
                    legal_basis=a.legal_basis,
                    terms_hash=a.terms_hash,
                    valid_from=_iso(a.valid_from),
                    valid_until=_iso(a.valid_until),
                    receipts=[Receipt(*r) for r in a.receipts],
                )
            )
        return result

    def _agreements(self, reads: Reads, facts: IndexFacts, dataset_id: str) -> list[AgreementFacts]:
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
                AgreementFacts(
                    agreement_id=agreement.id,
                    provider=self._department(reads, facts, agreement.provider),
                    consumer=self._department(reads, facts, agreement.consumer),
                    purpose=agreement.purpose,
                    legal_basis=agreement.legal_basis,
                    terms_hash=agreement.terms_hash,
                    valid_from=agreement.valid_from,
                    valid_until=agreement.valid_until,
                    receipts=tuple(
                        (
                            r.receipt_index,
                            r.log_root,
                            r.entry_count,
                            _iso(r.period_start),
                            _iso(r.period_end),
                            _iso(r.recorded_at),
                            r.tx_hash,
                        )
                        for r in receipts
                    ),
                )
            )
        return result
