"""Reading facts from the index (the leaf store and the projections) for the verifier.

:class:`IndexReader` finds the leaves of a hash together with the index's generation (its
checkpoint) in one statement, keeps the facts it reads per generation (:class:`IndexFacts`)
and the trees it rebuilds per root; :class:`IndexRead` is one answer's read, over one
connection, reading on demand what is not kept yet.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from .. import merkle
from ..db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from ..db.tables import (
    AccessReceiptRow,
    AgreementDatasetRow,
    AgreementRow,
    DatasetRow,
    DepartmentRow,
    ErasedLeaf,
    ErasureRow,
    IndexerCheckpoint,
    LeafRow,
    TreeBlob,
    VersionAnchoring,
    VersionParentRow,
    VersionRow,
)
from ..ids import version_id
from ._chain_view import ChainView
from ._errors import NotAnchoredError
from ._gate import would_block
from ._generation import (
    CHECKPOINT,
    SIGNATURES_MARK,
    PostgresGeneration,
    SqliteGeneration,
    Standing,
    postgres_statement,
    standing_of,
)

__all__ = [
    "AgreementFacts",
    "ErasureFacts",
    "IndexFacts",
    "IndexRead",
    "IndexReader",
    "Reads",
    "VersionFacts",
]

_MAX_LINEAGE = 64
_TREE_CACHE = 16
# The statements of every answer, built once (Core: rows, not ORM objects).
_LEAF = LeafRow.__table__  # type: ignore[attr-defined]
_CHECKPOINT = IndexerCheckpoint.__table__  # type: ignore[attr-defined]
_LEAF_COLUMNS = ("root", "leaf_hash", "kind", "content_hash", "path", "record_index", "digest")
#: Leaves by content or leaf hash, with the index's checkpoint and the checkpoint signatures'
#: mark (a row of NULL leaf columns when no leaf matches; no row when nothing is indexed).
_LEAVES_AND_CHECKPOINT = {
    column: sa_select(
        _CHECKPOINT.c.block_number,
        _CHECKPOINT.c.block_hash,
        SIGNATURES_MARK,
        *(_LEAF.c[n] for n in _LEAF_COLUMNS),
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
#: The same statements as psycopg takes them (the loop's reads on PostgreSQL).
_LEAVES_AND_CHECKPOINT_PG = {c: postgres_statement(s) for c, s in _LEAVES_AND_CHECKPOINT.items()}
_LEAVES_PG = {c: postgres_statement(s) for c, s in _LEAVES.items()}


class Reads:
    """The connection of one answer, and an ORM session over it, opened only when facts
    not kept yet must be read; without a connection (an answer made on the event loop from
    leaves read there), facts not kept are a :class:`WouldBlockError`."""

    def __init__(self, connection: Connection | None) -> None:
        self.connection = connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            if self.connection is None:
                would_block("a database server")
            self._session = Session(bind=self.connection)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


Dept = tuple[str, str | None, str | None]  # id, name, status


@dataclass(frozen=True)
class VersionFacts:
    """What the index says about one version (all of :class:`Version` but the depth)."""

    version_id: str
    root: str
    dataset_id: str
    owner: Dept
    anchored_by: Dept
    leaf_count: int
    block_number: int
    anchored_at: str | None
    transaction: str
    revoked_at: str | None
    parents: tuple[str, ...]  # version ids


@dataclass(frozen=True)
class AgreementFacts:
    """An active agreement covering a dataset, its parties and receipts (as index rows say)."""

    agreement_id: str
    provider: Dept
    consumer: Dept
    purpose: str
    legal_basis: str
    terms_hash: str
    valid_from: int
    valid_until: int
    receipts: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class ErasureFacts:
    """An erasure holding a leaf: the chain's record of it, and the leaf's path in its tree."""

    erasure_id: str
    erased_root: str
    count: int
    erased_at: str | None
    erased_by: Dept
    reason_hash: str
    transaction: str
    block_number: int
    proof: tuple[str, ...]


@dataclass(frozen=True)
class VersionErasures:
    """The erasures of a version as this gateway knows them: the leaves it can name (its own
    erasures, each leaf with its erasure), and how many records the others hold (erasures the
    chain holds whose leaves are not known here: another department's, or leaves journaled
    here that do not make the root the chain holds)."""

    leaves: dict[str, ErasureFacts]
    unattributed: int


class IndexFacts:
    """Facts read from one generation of the index (checkpoint block number and hash); a
    generation of None (nothing indexed, or a reindex under way) keeps nothing."""

    _LIMIT = 50_000  # entries per kind before a kind is forgotten and read again

    def __init__(self, generation: tuple[int, str] | None) -> None:
        self.generation = generation
        self.departments: dict[str, Dept] = {}
        self.versions: dict[str, VersionFacts] = {}  # by version id
        self.roots: dict[str, tuple[str, ...]] = {}  # root -> version ids indexed
        self.lineages: dict[str, list[VersionFacts]] = {}
        self.agreements: dict[str, list[AgreementFacts]] = {}
        self.erasures: dict[str, VersionErasures] = {}  # by version id

    def keep(self, kind: dict[str, Any], key: str, value: Any) -> None:
        if self.generation is None:
            return
        if len(kind) >= self._LIMIT:
            kind.clear()
        kind[key] = value


class IndexReader:
    """Reads the index for the verifier's answers, on any thread.

    What the index says about versions, lineage, departments and agreements is kept per
    *index generation* (the indexer's checkpoint: block number and hash), which every read
    takes with the leaves it asks for, in one statement: an answer never uses facts older
    than the index it read, and a busy server asks the database only for the leaves of the
    hash in question. Trees are rebuilt once per root (a few, newest kept).

    ``_lock`` guards the facts of the current generation (replaced when the index moves) and
    the trees kept. Versions this gateway anchored that the index has not reached yet are
    read from its anchorings and the ``chain``.
    """

    def __init__(self, engine: Engine, chain: ChainView) -> None:
        self.engine = engine
        self.chain = chain
        #: SQLite is a library reading a local file; any other database is a server away.
        self.embedded = engine.dialect.name == "sqlite"
        self._facts = IndexFacts(None)
        self._trees: dict[str, merkle.MerkleTree] = {}
        self._lock = threading.Lock()

    @contextmanager
    def read(self, column: str, key: str) -> Iterator[IndexRead]:
        """The leaves whose ``column`` (``content_hash`` or ``leaf_hash``) is ``key``, read
        with the index's checkpoint in one statement, and the facts kept for that generation
        of the index; the connection stays open for the facts read in the block."""
        if not self.embedded:
            would_block("a database server")
        with self.engine.connect() as connection:
            # One statement, or a few reads of facts not kept yet, none of which writes: no
            # transaction to begin and roll back (two round trips to a database server).
            connection.execution_options(isolation_level="AUTOCOMMIT")
            reads = Reads(connection)
            try:
                rows = connection.execute(_LEAVES_AND_CHECKPOINT[column], {"key": key}).all()
                split = self._split(rows)
                if split is None:  # nothing indexed yet, or a reindex under way: no checkpoint
                    rest = connection.execute(_LEAVES[column], {"key": key}).all()
                    split = IndexFacts(None), [_Leaf(*row) for row in rest], None
                yield IndexRead(self, reads, *split)
            finally:
                reads.close()

    async def read_async(self, column: str, key: str) -> IndexRead:
        """:meth:`read` on the event loop, on PostgreSQL (one round trip over
        :meth:`PostgresGeneration.fetch`, no worker thread): the leaves and the checkpoint,
        and the facts kept for that generation. Facts not kept yet are a WouldBlockError
        when the answer asks for them (then answer on a worker thread); a database that does
        not answer is a GenerationUnknownError."""
        rows = await self._postgres.fetch(_LEAVES_AND_CHECKPOINT_PG[column], {"key": key})
        split = self._split(rows)
        if split is None:  # nothing indexed yet, or a reindex under way: no checkpoint
            rest = await self._postgres.fetch(_LEAVES_PG[column], {"key": key})
            split = IndexFacts(None), [_Leaf(*row) for row in rest], None
        return IndexRead(self, Reads(None), *split)

    def _split(self, rows: Sequence[Any]) -> tuple[IndexFacts, list[Any], int | None] | None:
        """The facts kept for the generation the rows of ``_LEAVES_AND_CHECKPOINT`` carry,
        their leaves and the signatures' mark; None without a checkpoint (no row)."""
        standing = standing_of(rows[0] if rows else None)
        if standing is None:
            return None
        leaves = [_Leaf(*row[3:]) for row in rows if row[3]]
        return self._generation(standing.generation), leaves, standing.signatures

    def standing(self) -> Standing | None:
        """The index's checkpoint (block number, hash) and the signatures' mark now; None
        when nothing is indexed. Inside ``in_memory`` on a database server: WouldBlockError
        (see :meth:`standing_async`)."""
        if not self.embedded:
            would_block("a database server")
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            return standing_of(connection.execute(CHECKPOINT).first())

    async def standing_async(self) -> Standing | None:
        """:meth:`standing` without a thread: on SQLite read at once; on PostgreSQL the
        standing kept while the checkpoint's moves are watched, else read over an
        asynchronous connection of this process's event loop (see ``._generation``).

        Raises GenerationUnknownError when it cannot tell (the server does not answer, the
        connection broke, or failed less than a second ago): callers then take the way that
        handles outages (the synchronous read)."""
        if self.embedded:
            return self._sqlite.read()
        return await self._postgres.read()

    def forget_standing(self) -> None:
        """This process moved the index's checkpoint or added checkpoint signatures (its
        indexer's or witness's pass returned): forget the standing kept, so the next answers
        read it (any thread)."""
        if "_postgres" in vars(self):
            self._postgres.forget()

    async def aclose(self) -> None:
        """Close what the event loop opened (PostgreSQL's asynchronous connections)."""
        if "_postgres" in vars(self):
            await self._postgres.aclose()

    @cached_property
    def _sqlite(self) -> SqliteGeneration:
        return SqliteGeneration(self.engine, self.standing)

    @cached_property
    def _postgres(self) -> PostgresGeneration:
        return PostgresGeneration(self.engine)

    def _generation(self, generation: tuple[int, str]) -> IndexFacts:
        """The facts kept for this generation of the index (its checkpoint's block number
        and hash: the indexer moves it in the transaction that changes the projections,
        and it is read in the statement that finds the leaves)."""
        with self._lock:
            if self._facts.generation != generation:
                self._facts = IndexFacts(generation)
            return self._facts

    def tree(self, root: str, reads: Reads | None = None) -> merkle.MerkleTree:
        """The tree of ``root``, rebuilt from the leaf store once and kept (a few, newest);
        read over ``reads`` when given, else over a session of its own."""
        with self._lock:
            tree = self._trees.pop(root, None)
        if tree is None:
            would_block("a tree to rebuild")
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


@dataclass(frozen=True)
class _Leaf:
    """A leaf row as the answers read it (the columns of ``_LEAF_COLUMNS``, by name)."""

    root: str
    leaf_hash: str
    kind: str
    content_hash: str | None
    path: str | None
    record_index: int | None
    digest: str


class IndexRead:
    """One answer's read of the index: the leaves found, the index's generation, and the
    facts of that generation, read on demand over the answer's connection and kept."""

    def __init__(
        self,
        reader: IndexReader,
        reads: Reads,
        facts: IndexFacts,
        leaves: list[Any],
        signatures: int | None,
    ) -> None:
        self.reads = reads
        self.facts = facts
        #: Rows of root, leaf_hash, kind, content_hash, path, record_index and digest.
        self.leaves = leaves
        #: The checkpoint signatures' mark read with them (None: nothing indexed).
        self.signatures = signatures
        #: Whether a version came from this gateway's anchorings, not from the index.
        self.unindexed = False
        self._reader = reader

    @property
    def generation(self) -> tuple[int, str] | None:
        """The index's checkpoint (block number, hash); None when nothing is indexed."""
        return self.facts.generation

    @property
    def block(self) -> int | None:
        """The index's block; None when nothing is indexed."""
        return self.facts.generation[0] if self.facts.generation is not None else None

    def tree(self, root: str) -> merkle.MerkleTree:
        """The tree of ``root`` (see :meth:`IndexReader.tree`)."""
        return self._reader.tree(root, self.reads)

    def department(self, department_id: str) -> Dept:
        found = self.facts.departments.get(department_id)
        if found is None:
            row = self.reads.session.get(DepartmentRow, department_id)
            found = (department_id, row.name if row else None, row.status if row else None)
            self.facts.keep(self.facts.departments, department_id, found)
        return found

    def versions(self, root: str) -> list[VersionFacts]:
        """Every version holding ``root`` (one per dataset that anchored this content): those
        the index holds or, when it holds none yet, those this gateway anchored and saw
        confirmed."""
        ids = self.facts.roots.get(root)
        if ids is None:
            ids = tuple(
                self.reads.session.exec(
                    select(VersionRow.id)
                    .where(VersionRow.root == root)
                    .order_by(col(VersionRow.block_number), col(VersionRow.id))
                ).all()
            )
            self.facts.keep(self.facts.roots, root, ids)
        found = [v for v in map(self.version, ids) if v is not None]
        # Only when the index holds none (as a version anchored a moment ago is): an answer
        # the index can give reads nothing more.
        if found:
            return found
        self.unindexed = True
        return self._anchored_here(root)

    def version(self, version_id: str) -> VersionFacts | None:
        """The index's facts on version ``version_id``; None when it is not (yet) indexed."""
        if version_id in self.facts.versions:
            return self.facts.versions[version_id]
        session = self.reads.session
        row = session.get(VersionRow, version_id)
        if row is None:
            return None
        dataset = session.get(DatasetRow, row.dataset_id)
        owner = dataset.owner_department if dataset else row.department_id
        parents = session.exec(
            select(VersionParentRow.parent)
            .where(VersionParentRow.version_id == row.id)
            .order_by(col(VersionParentRow.position))
        ).all()
        found = VersionFacts(
            version_id=row.id,
            root=row.root,
            dataset_id=row.dataset_id,
            owner=self.department(owner),
            anchored_by=self.department(row.department_id),
            leaf_count=row.leaf_count,
            block_number=row.block_number,
            anchored_at=_iso(row.anchored_at),
            transaction=row.tx_hash,
            revoked_at=_iso(row.revoked_at),
            parents=tuple(parents),
        )
        self.facts.keep(self.facts.versions, version_id, found)
        return found

    def _anchored_here(self, root: str) -> list[VersionFacts]:
        """Versions of ``root`` this gateway anchored and saw confirmed that the index has not
        reached yet (the indexer follows a moment later): their facts from the anchoring and
        the chain, once final, so that "confirmed" is verifiable at once. Nothing is kept: the
        index reaches them any moment."""
        session = self.reads.session
        chain = self._reader.chain
        if chain.client is None:
            return []
        anchorings = session.exec(
            select(VersionAnchoring).where(
                VersionAnchoring.root == root, VersionAnchoring.status == "confirmed"
            )
        ).all()
        found = [self._confirmed_here(anchoring) for anchoring in anchorings]
        return [version for version in found if version is not None]

    def _confirmed_here(self, anchoring: VersionAnchoring) -> VersionFacts | None:
        session = self.reads.session
        dataset = session.get(DatasetRow, anchoring.dataset_id)
        if dataset is None:
            return None  # the index is further behind than one pass: let it catch up
        on_chain = self._reader.chain.final_version(anchoring.dataset_id, anchoring.root)
        if on_chain is None:
            return None  # not final yet (the index would not hold it either), or not there
        owner = self.department(dataset.owner_department)
        return VersionFacts(
            version_id="0x"
            + version_id(
                bytes.fromhex(anchoring.dataset_id[2:]), bytes.fromhex(anchoring.root[2:])
            ).hex(),
            root=anchoring.root,
            dataset_id=anchoring.dataset_id,
            owner=owner,
            anchored_by=owner,  # the registry lets only the owner anchor
            leaf_count=on_chain.leaf_count,
            block_number=on_chain.block_number,
            anchored_at=_iso(on_chain.anchored_at),
            transaction=anchoring.tx_hash or "",
            revoked_at=_iso(on_chain.revoked_at) if on_chain.revoked_at else None,
            parents=tuple(json.loads(anchoring.parents)),
        )

    def lineage(self, version: VersionFacts) -> list[VersionFacts]:
        """The versions ``version`` derives from, breadth first (at most _MAX_LINEAGE)."""
        known = self.facts.lineages.get(version.version_id)
        if known is not None:
            return known
        seen: set[str] = {version.version_id}
        queue = list(version.parents)
        lineage: list[VersionFacts] = []
        while queue and len(lineage) < _MAX_LINEAGE:
            parent_id = queue.pop(0)
            if parent_id in seen:
                continue
            seen.add(parent_id)
            parent = self.version(parent_id)
            if parent is None:
                continue
            lineage.append(parent)
            queue.extend(parent.parents)
        self.facts.keep(self.facts.lineages, version.version_id, lineage)
        return lineage

    def erasures(self, version_id: str) -> VersionErasures:
        """The erasures of version ``version_id``: the leaves this gateway erased, each with
        its erasure (only erasures the chain holds, indexed, whose leaves make the root it
        holds), and the count of records erased that it cannot name."""
        known = self.facts.erasures.get(version_id)
        if known is not None:
            return known
        session = self.reads.session
        found: dict[str, ErasureFacts] = {}
        unattributed = 0
        for erasure in session.exec(
            select(ErasureRow).where(ErasureRow.version_id == version_id)
        ).all():
            leaves = session.exec(
                select(ErasedLeaf.leaf_hash).where(ErasedLeaf.erasure_id == erasure.id)
            ).all()
            if not leaves:  # another gateway's erasure: which leaves, only it knows
                unattributed += erasure.count
                continue
            values = [[bytes.fromhex(leaf[2:])] for leaf in leaves]
            tree = merkle.MerkleTree.of(values, merkle.ERASED_LEAF_TYPES)
            if "0x" + tree.root.hex() != erasure.erased_root or len(leaves) != erasure.count:
                unattributed += erasure.count  # not the leaves the chain's erasure holds
                continue
            by = self.department(erasure.department_id)
            for leaf, value in zip(leaves, values, strict=True):
                path = tree.proof(merkle.leaf_hash(merkle.ERASED_LEAF_TYPES, value))
                found[leaf] = ErasureFacts(
                    erasure_id=erasure.id,
                    erased_root=erasure.erased_root,
                    count=erasure.count,
                    erased_at=_iso(erasure.erased_at),
                    erased_by=by,
                    reason_hash=erasure.reason_hash,
                    transaction=erasure.tx_hash,
                    block_number=erasure.block_number,
                    proof=tuple("0x" + step.hex() for step in path),
                )
        made = VersionErasures(found, unattributed)
        self.facts.keep(self.facts.erasures, version_id, made)
        return made

    def agreements(self, dataset_id: str) -> list[AgreementFacts]:
        """The active agreements covering ``dataset_id`` (at any time; answers check it)."""
        known = self.facts.agreements.get(dataset_id)
        if known is not None:
            return known
        session = self.reads.session
        rows = session.exec(
            select(AgreementRow)
            .join(
                AgreementDatasetRow, col(AgreementDatasetRow.agreement_id) == col(AgreementRow.id)
            )
            .where(AgreementDatasetRow.dataset_id == dataset_id)
            .where(AgreementRow.status == "active")
        ).all()
        result = []
        for agreement in rows:
            receipts = session.exec(
                select(AccessReceiptRow)
                .where(AccessReceiptRow.agreement_id == agreement.id)
                .order_by(col(AccessReceiptRow.receipt_index))
            ).all()
            result.append(
                AgreementFacts(
                    agreement_id=agreement.id,
                    provider=self.department(agreement.provider),
                    consumer=self.department(agreement.consumer),
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
        self.facts.keep(self.facts.agreements, dataset_id, result)
        return result
