"""The :class:`Verifier`: answers from the index (leaf store + projections), checking each
root it reports against the chain, and the proof bundles of leaves, files and records
(``xietong-proof/3``: with the sealed headers of the anchor on a Clique network).

It reads facts through :class:`~._facts.IndexReader` (kept per index generation) and sees
the chain through :class:`~._chain_view.ChainView` (its head, the node's availability, the
versions known final); what it adds is the answer, built in one numbered path
(:meth:`Verifier.verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from sqlalchemy.engine import Engine

from .. import hashing, merkle
from ..chain.client import ChainClient
from ..chain.sealed import sealed_evidence
from ..clique import MAX_HEADERS
from ..db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from ..errors import InputError
from . import _gate
from ._chain_view import ChainView, Clock
from ._cosigned import CosignedCheckpoints, Lookup
from ._errors import NotAnchoredError, WouldBlockError
from ._facts import IndexRead, IndexReader, VersionFacts
from ._generation import GenerationUnknownError
from .answers import (
    Authorization,
    Department,
    Erasure,
    Match,
    Receipt,
    Verification,
    Version,
)
from .bundles import BUNDLE_FORMAT

__all__ = ["Verifier"]

#: What a leaf is looked up by: a file's content SHA-256, or the leaf hash itself.
LookupColumn = Literal["content_hash", "leaf_hash"]
#: How many anchors' sealed evidence a verifier keeps (a few KB each).
_SEALED_KEPT = 512


class Verifier:
    """Answers verification questions from the index, checking roots on chain, and makes
    proof bundles.

    What the index says is kept per *index generation* (the indexer's checkpoint), read with
    the leaves of every answer: an answer never uses facts older than the index it read.
    Trees are rebuilt once per root (a few, newest kept); the chain's head is kept for at most
    ``head_ttl`` seconds; a root found final on chain is not asked about again.
    """

    def __init__(
        self,
        engine: Engine,
        client: ChainClient | None,
        *,
        confirmations: int = 1,
        head_ttl: float = 0.0,
        checkpoints: Lookup | None = None,
    ) -> None:
        """``head_ttl``: seconds a read of the chain's head may be reused (0: every answer
        reads it; a server answering many requests at once sets a fraction of a second).
        ``checkpoints(at_least, at_most)``: the cosigned checkpoint a bundle of a block from
        ``at_least`` carries (``ledger.witness.Witness.cosigned``; None: bundles carry none),
        kept per mark of the signatures held (``._cosigned``)."""
        self.engine = engine
        self.client = client
        self.confirmations = max(1, confirmations)
        self.head_ttl = head_ttl
        #: The chain as every answer sees it (head, node availability, final versions).
        self.chain = ChainView(client, confirmations=self.confirmations, head_ttl=head_ttl)
        #: The sealed evidence of anchors (block, transaction), once a majority sealed them;
        #: ``_unsealed`` once the node turned out to run no Clique (Hardhat, Anvil).
        self._sealed: dict[tuple[int, str, int | None], dict[str, Any]] = {}
        self._unsealed = False
        #: The index's facts, kept per generation, and the trees of roots.
        self.index = IndexReader(engine, self.chain)
        #: The cosigned checkpoints bundles carry, kept per mark of the signatures held.
        self.cosigned = (
            CosignedCheckpoints(checkpoints, embedded=self.embedded) if checkpoints else None
        )

    @property
    def embedded(self) -> bool:
        """Whether the index is an embedded database (SQLite: read on any thread at once)."""
        return self.index.embedded

    async def aclose(self) -> None:
        """Close what an event loop opened for :meth:`stamp_async` and
        :meth:`verify_hash_async` (on that loop)."""
        await self.index.aclose()

    @contextmanager
    def in_memory(self) -> Iterator[None]:
        """Answer on the caller's thread only from what is kept in memory and the embedded
        database: the calls inside raise :class:`WouldBlockError` instead of waiting on the
        network (the chain node, a PostgreSQL server) or rebuilding a tree.

        For an event loop, whose worker-thread hop costs more than a kept answer: try here,
        and on WouldBlockError make the same call on a worker thread.
        """
        with _gate.in_memory():
            yield

    # ------------------------------------------------------------------ questions

    def verify_content_hash(self, content_hash: bytes) -> Verification:
        """Files whose content SHA-256 is ``content_hash``."""
        key = "0x" + content_hash.hex()
        return self.verify("content_hash", key, f"file content {key}")

    def file_verification(self, digests: Sequence[bytes]) -> Verification:
        """The answer for a file of these content digests (SHA-256 first, then SM3: its
        dataset's is one of them): the first any version holds, else the first's."""
        answers = []
        for digest in digests:
            answers.append(self.verify_content_hash(digest))
            if answers[-1].matches:
                return answers[-1]
        return answers[0]

    def verify_leaf(self, leaf_hash: bytes, *, query: str | None = None) -> Verification:
        """The leaf ``leaf_hash`` (a file or salted record leaf)."""
        key = "0x" + leaf_hash.hex()
        return self.verify("leaf_hash", key, query or f"leaf {key}")

    def verify_record(
        self, record_hash: RecordHashes, salt: bytes, *, query: str = "the record"
    ) -> Verification:
        """A record, given its salt and the digest of its canonical JSON: one value (tried
        as SHA-256 and as SM3, whichever its dataset used), or one per digest."""
        answer = None
        for leaf, _values in record_candidates(record_hash, salt):
            answer = self.verify_leaf(leaf, query=query)
            if answer.matches:
                return answer
        assert answer is not None
        return answer

    def verify(self, column: LookupColumn, key: str, query: str) -> Verification:
        """The answer for the leaves whose ``column`` is ``key`` (0x-hex), named ``query``:
        every version holding one of them that the chain holds too, with its lineage and the
        agreements under which it may be received now; anchored and newest first."""
        # 1) The leaves, and the index's generation read with them (one statement).
        with self.index.read(column, key) as index:
            return self._answer(index, query)

    async def verify_hash_async(self, digest: bytes) -> Verification:
        """:meth:`verify_hash` on the event loop, on PostgreSQL: the leaves read there (one
        round trip each way looked up), the answer made from the facts kept and the chain
        view kept. Raises WouldBlockError when it needs more (facts not kept yet, the node, a
        tree to rebuild) or the database does not answer at once: then call
        :meth:`verify_hash` on a worker thread (which handles outages)."""
        key = "0x" + digest.hex()
        answer = await self._verify_async("content_hash", key, f"file content {key}")
        return (
            answer if answer.matches else await self._verify_async("leaf_hash", key, f"leaf {key}")
        )

    async def _verify_async(self, column: LookupColumn, key: str, query: str) -> Verification:
        try:
            index = await self.index.read_async(column, key)
        except GenerationUnknownError:
            raise WouldBlockError("a database server that did not answer") from None
        with _gate.in_memory():
            return self._answer(index, query)

    def verify_hash(self, digest: bytes) -> Verification:
        """Files whose content SHA-256 is ``digest``; when there are none, the leaf
        ``digest``."""
        answer = self.verify_content_hash(digest)
        return answer if answer.matches else self.verify_leaf(digest)

    def _answer(self, index: IndexRead, query: str) -> Verification:
        """Steps 2) to 6) of :meth:`verify`, over what ``index`` read."""
        answer = Verification(query=query, index_block=index.block)
        if self.cosigned is not None:  # its bundles stand on the signatures this read saw
            self.cosigned.observe(index.signatures)
        if not index.leaves:
            return answer
        # 2) The clock: the chain's time and head; the wall clock and the index's block
        #    when the node does not answer (the answer then says so).
        clock = self.chain.clock(index.block)
        # 3) Is the index still on the chain? An index left on a branch the chain
        #    abandoned (a reorg deeper than the confirmations, until the indexer's next
        #    pass rolls it back): no check kept from before counts.
        trusted = not clock.reachable or self.chain.index_on_chain(index.generation)
        # 4) Per leaf: the version's facts, the chain's word on it, then the match with
        #    its lineage and authorizations.
        #    Every version holding the leaf's root is a match: the same content anchored
        #    in several datasets (by several departments) is listed once per version.
        stable = index.generation is not None and clock.reachable and trusted
        for leaf in index.leaves:
            for version in index.versions(leaf.root):  # none: persisted, not anchored yet
                stable = stable and self.chain.known_final(version.dataset_id, version.root)
                if not self.chain.holds(
                    version.dataset_id,
                    version.root,
                    version.block_number,
                    clock,
                    trusted=trusted,
                ):
                    continue  # not on this chain (a branch it left, or re-anchored elsewhere)
                answer.matches.append(self._match(index, leaf, version, clock))
        # 5) Anchored first, newest first; and whether the node answered throughout.
        answer.matches.sort(key=lambda m: (m.status != "anchored", -m.version.block_number))
        answer.node_reachable = clock.reachable and self.chain.reachable()
        # 6) The same answer again while the stamp stays: every version known final
        #    and indexed, the index standing on the chain, the node answering, no checkpoint
        #    signature added (its bundles' checkpoints).
        #    (``known_final`` is asked before ``holds``: a version found final by this
        #    answer's own ``holds`` makes it stable from the next answer on.)
        if stable and not index.unindexed and answer.node_reachable:
            answer.stamp = (index.generation, index.signatures, clock.head, clock.now)
        return answer

    async def stamp_async(self) -> tuple[Any, ...] | None:
        """The stamp an answer made now would carry if stable (:attr:`Verification.stamp`),
        read without a worker thread: the index's generation and the checkpoint signatures'
        mark (one statement, or kept: ``._generation``), the chain's head and time and the
        index's standing on it as kept. None when it cannot be told from memory and that
        statement (the node must be asked, the database does not answer): then make the
        answer anew."""
        try:
            standing = await self.index.standing_async()
        except GenerationUnknownError:
            return None
        if standing is None:
            return None
        generation = standing.generation
        try:
            with _gate.in_memory():
                clock = self.chain.clock(generation[0])
                if not (clock.reachable and self.chain.index_on_chain(generation)):
                    return None
        except WouldBlockError:
            return None
        if not self.chain.reachable():
            return None
        return (generation, standing.signatures, clock.head, clock.now)

    # ------------------------------------------------------------------ proof bundles

    def file_bundle(
        self,
        content_hash: bytes | Sequence[bytes],
        *,
        version: bytes | None = None,
        root: bytes | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """The proof bundle of the file whose content digest is ``content_hash`` (one value,
        or several, SHA-256 first: the first any version holds counts): in the version
        whose id is ``version``, or the one of root ``root`` (:func:`_chosen`), else in the
        first version of the answer (anchored and newest first).

        Raises what :meth:`Verification.raise_for_status` raises when no version holding it
        is anchored, final and unrevoked, and InputError when the version named does not hold
        it (``name`` names the file in that message) or ``root`` names several versions."""
        answer = self.file_verification(
            [content_hash] if isinstance(content_hash, bytes) else content_hash
        )
        answer.raise_for_status()
        if version is None and root is None:
            match: Match | None = answer.matches[0]
        else:
            match = _chosen(answer.matches, version=version, root=root)
        if match is None or match.path is None:
            named = _named(version=version, root=root)
            raise InputError(f"{name or answer.query} is not in {named}.")
        return self.match_bundle(match)

    def leaf_bundle(
        self,
        leaf_hash: bytes,
        *,
        version: bytes | None = None,
        root: bytes | None = None,
        record: Callable[[], tuple[bytes, bytes]] | None = None,
    ) -> dict[str, Any]:
        """The proof bundle of leaf ``leaf_hash``: in the version whose id is ``version``, or
        the one of root ``root``, else in the first version of its answer (any status).

        A file leaf's values are in the index. A record leaf's are not (the gateway never
        stores a record's hash and salt): ``record`` gives them (record hash, salt), called
        only for a record leaf, so that a caller parsing them from a request parses them only
        when they are needed; without it a record leaf is refused (InputError). NotAnchoredError
        when no version known here holds the leaf."""
        answer = self.verify_leaf(leaf_hash)
        if version is None and root is None:
            match = answer.matches[0] if answer.matches else None
        else:
            match = _chosen(answer.matches, version=version, root=root)
        if match is None:
            where = (
                "any version"
                if version is None and root is None
                else _named(version=version, root=root)
            )
            raise NotAnchoredError(f"leaf 0x{leaf_hash.hex()} is not in {where} known here.")
        if match.kind == "file":
            return self.match_bundle(match)
        if record is None:
            raise InputError("a record leaf's bundle needs the record's hash and salt.")
        record_hash, salt = record()
        values = merkle.leaf_values("record", match.digest, record_hash, salt)
        if merkle.leaf_hash(merkle.leaf_types("record", match.digest), values) != leaf_hash:
            raise InputError("the record_hash and salt given do not make this leaf.")
        return self.proof_bundle(leaf_hash, values, version=bytes.fromhex(match.version.id[2:]))

    def record_bundle(
        self,
        record_hash: RecordHashes,
        salt: bytes,
        *,
        version: bytes | None = None,
        root: bytes | None = None,
    ) -> dict[str, Any]:
        """The proof bundle of a record, given the digest of its canonical JSON (as
        :meth:`verify_record` takes it) and its salt: in the version ``version`` (an id) or of
        root ``root``, else in the latest unrevoked version holding it."""
        candidates = record_candidates(record_hash, salt)
        for leaf, values in candidates[:-1]:
            try:  # the leaf of one digest is in the index, not the other's
                return self.proof_bundle(leaf, values, version=version, root=root)
            except NotAnchoredError:
                continue
        leaf, values = candidates[-1]
        return self.proof_bundle(leaf, values, version=version, root=root)

    def proof_bundle(
        self,
        leaf_hash: bytes,
        values: Sequence[Any],
        *,
        version: bytes | None = None,
        root: bytes | None = None,
    ) -> dict[str, Any]:
        """A self-contained proof bundle for a leaf, with the leaf's ``values``: in the version
        whose id is ``version``, or the one of root ``root`` (InputError when several datasets
        hold that root: the version id names one), else in the latest unrevoked version
        holding it, or the latest revoked one when all are (as the index says)."""
        key = "0x" + leaf_hash.hex()
        # Found by leaf hash alone and narrowed to the version here: given both, SQLite would
        # walk every leaf of the root (its (root, position) index looks as good to it).
        with self.index.read("leaf_hash", key) as index:
            if self.cosigned is not None:  # the bundle stands on the signatures read here
                self.cosigned.observe(index.signatures)
            anchored = [(r, v) for r in index.leaves for v in index.versions(r.root)]
            if version is not None:
                anchored = [(r, v) for r, v in anchored if v.version_id == "0x" + version.hex()]
            elif root is not None:
                anchored = [(r, v) for r, v in anchored if v.root == "0x" + root.hex()]
                if len(anchored) > 1:
                    raise _ambiguous(root, [v.version_id for _, v in anchored])
            if not anchored:
                where = "any" if version is None and root is None else "that"
                raise NotAnchoredError(f"leaf {key} is not in {where} anchored version known here.")
            # The newest unrevoked version, else the newest (all revoked).
            leaf_row, chosen = max(
                anchored, key=lambda rv: (rv[1].revoked_at is None, rv[1].block_number)
            )
            tree = index.tree(leaf_row.root)
        types = merkle.leaf_types(leaf_row.kind, leaf_row.digest)
        if merkle.leaf_hash(types, list(values)) != leaf_hash:
            raise InputError("the leaf values given do not hash to the leaf.")
        return self._bundle(leaf_row.kind, types, values, leaf_hash, tree, chosen)

    def match_bundle(self, match: Match) -> dict[str, Any]:
        """The proof bundle of a file ``match`` of an answer: what :meth:`proof_bundle` gives
        for its leaf, values and root, from what the answer already holds (no query)."""
        if match.kind != "file" or match.content_hash is None or match.path is None:
            raise InputError("only a file match carries the values of its leaf.")
        leaf_hash = bytes.fromhex(match.leaf_hash[2:])
        types = merkle.leaf_types("file", match.digest)
        values = merkle.leaf_values(
            "file", match.digest, bytes.fromhex(match.content_hash[2:]), match.path
        )
        if merkle.leaf_hash(types, values) != leaf_hash:
            raise InputError("the leaf values given do not hash to the leaf.")
        tree = self.index.tree(match.version.root)
        return self._bundle(match.kind, types, values, leaf_hash, tree, match.version)

    # ------------------------------------------------------------------ building answers

    def _bundle(
        self,
        kind: str,
        types: Sequence[str],
        values: Sequence[Any],
        leaf_hash: bytes,
        tree: merkle.MerkleTree,
        version: Version | VersionFacts,
    ) -> dict[str, Any]:
        sealed, checkpoint = self._evidence(version.block_number, version.transaction)
        bundle = {
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
            "version_id": version.id if isinstance(version, Version) else version.version_id,
            "leaf_count": version.leaf_count,
            "chain_id": self.client.chain_id if self.client else None,
            "contract": self.client.address("DatasetRegistry") if self.client else None,
            "transaction": version.transaction,
            "block_number": version.block_number,
            "anchored_at": version.anchored_at,
            "publisher": {
                "id": version.anchored_by.id
                if isinstance(version, Version)
                else version.anchored_by[0]
            },
            "sealed": sealed,
        }
        if checkpoint is not None:
            bundle["checkpoint"] = checkpoint
        return bundle

    def _evidence(
        self, block_number: int, transaction: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """A bundle's ``sealed`` and ``checkpoint`` members: the lowest checkpoint cosigned
        from the anchor's block (docs/CHECKPOINTS.md), and on a Clique network the sealed
        headers up to it (a checkpoint beyond what a bundle may carry is left out)."""
        if self.cosigned is None:
            return self._sealed_evidence(block_number, transaction), None
        sealed = self._sealed_evidence(block_number, transaction)
        if sealed is None:
            return None, self.cosigned.lowest(block_number, None)
        checkpoint = self.cosigned.lowest(block_number, block_number + MAX_HEADERS - 1)
        if checkpoint is None:
            return sealed, None
        return self._sealed_evidence(block_number, transaction, checkpoint["number"]), checkpoint

    def _sealed_evidence(
        self, block_number: int, transaction: str, through: int | None = None
    ) -> dict[str, Any] | None:
        """The ``sealed`` member of a bundle (ledger.chain.sealed), None on a chain without
        seals; kept once made (a majority of the signers sealed it, and the headers reach
        ``through``)."""
        if self.client is None or self._unsealed:
            return None
        key = (block_number, transaction, through)
        if key not in self._sealed:
            _gate.would_block("the chain node (the sealed headers of a proof)")
            evidence = sealed_evidence(
                self.client.w3, block_number=block_number, transaction=transaction, through=through
            )
            if evidence is None:
                self._unsealed = True
                return None
            if len(self._sealed) >= _SEALED_KEPT:
                self._sealed.pop(next(iter(self._sealed)))
            self._sealed[key] = evidence
        return self._sealed[key]

    def _match(self, index: IndexRead, leaf: Any, version: VersionFacts, clock: Clock) -> Match:
        erasures = index.erasures(version.version_id)
        erased = erasures.leaves.get(leaf.leaf_hash)
        return Match(
            unattributed_erasures=erasures.unattributed if erased is None else 0,
            digest=leaf.digest,
            erasure=None
            if erased is None
            else Erasure(
                id=erased.erasure_id,
                erased_root=erased.erased_root,
                count=erased.count,
                erased_at=erased.erased_at,
                erased_by=Department(*erased.erased_by),
                reason_hash=erased.reason_hash,
                transaction=erased.transaction,
                block_number=erased.block_number,
                proof=list(erased.proof),
            ),
            leaf_hash=leaf.leaf_hash,
            kind=leaf.kind,
            content_hash=leaf.content_hash,
            path=leaf.path,
            record_index=leaf.record_index,
            version=self._version(version, clock.head),
            lineage=[self._version(v, clock.head) for v in index.lineage(version)],
            authorizations=self._authorizations(index, version.dataset_id, clock.now),
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
            id=facts.version_id,
            root=facts.root,
            dataset_id=facts.dataset_id,
            owner=Department(*facts.owner),
            anchored_by=Department(*facts.anchored_by),
            leaf_count=facts.leaf_count,
            block_number=facts.block_number,
            anchored_at=facts.anchored_at,
            transaction=facts.transaction,
            confirmations=confirmations,
            final=confirmations >= self.confirmations,
            revoked_at=facts.revoked_at,
            parents=list(facts.parents),
        )

    def _authorizations(self, index: IndexRead, dataset_id: str, now: int) -> list[Authorization]:
        """Agreements letting the dataset's provider share it right now, both parties active."""
        result = []
        for a in index.agreements(dataset_id):
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


#: A record's canonical-JSON digest: one value (its dataset's digest not known: tried as
#: SHA-256 and as SM3), or one value per digest (computed from the record itself).
RecordHashes = bytes | Mapping[str, bytes]


def record_candidates(record_hash: RecordHashes, salt: bytes) -> list[tuple[bytes, list[Any]]]:
    """(leaf, values) of a record for each digest, SHA-256 first (docs/SM3.md)."""
    hashes = (
        {digest: record_hash for digest in hashing.DIGESTS}
        if isinstance(record_hash, bytes)
        else record_hash
    )
    candidates = []
    for digest, value in hashes.items():
        values = merkle.leaf_values("record", digest, value, salt)
        candidates.append((merkle.leaf_hash(merkle.leaf_types("record", digest), values), values))
    return candidates


def _named(*, version: bytes | None, root: bytes | None) -> str:
    """How a message names the version asked for."""
    if version is not None:
        return f"version 0x{version.hex()}"
    return f"version {'0x' + root.hex() if root is not None else None}"


def _ambiguous(root: bytes, version_ids: Sequence[str]) -> InputError:
    return InputError(
        f"root 0x{root.hex()} is a version of {len(version_ids)} datasets: name one by its "
        f"version id ({', '.join(version_ids)})."
    )


def _chosen(matches: Sequence[Match], *, version: bytes | None, root: bytes | None) -> Match | None:
    """The match of version id ``version``, else the one of root ``root`` (InputError when
    several versions, of several datasets, hold that root)."""
    if version is not None:
        return next((m for m in matches if m.version.id == "0x" + version.hex()), None)
    found = [m for m in matches if root is not None and m.version.root == "0x" + root.hex()]
    if len({m.version.id for m in found}) > 1:
        assert root is not None
        raise _ambiguous(root, sorted({m.version.id for m in found}))
    return found[0] if found else None
