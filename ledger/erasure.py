"""Erasing records (personal information protection): their salts destroyed, the erasure on
chain, the rest of the version still provable (docs/ERASURE.md).

A record leaf commits to ``(record hash, salt)``; once the salt is gone, no one can link the
leaf to the record again (crypto-shredding: the salt is the key). :class:`Eraser` erases
records of one version this gateway's department anchored:

1. it finds the version holding every leaf (one version; ``root`` chooses among several);
2. it writes the leaves to ``erased_leaf`` with the root of their tree (an OpenZeppelin
   standard tree of ``(bytes32 leaf)`` values) before anything is sent, so a crash at any
   step is finished by erasing the same records again;
3. it records the erasure on chain (``DatasetRegistry.eraseRecords``: the version, that root,
   the count and the reason's hash; nothing names a record), unless the chain holds it;
4. it destroys the salts in the sidecar (``null`` in ``xietong-salts/1``), atomically.

The reason never goes into the catalogue: only its hash leaves this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from . import hashing, merkle
from .chain.client import ChainClient
from .db.tables import ErasedLeaf, ErasureRow, LeafRow, VersionRow
from .errors import InputError
from .ids import code_hash, erasure_id, version_id

__all__ = ["ErasedRecords", "Eraser", "erased_root", "record_leaves"]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def erased_root(leaves: Sequence[bytes]) -> bytes:
    """The root of an erasure's tree: the OpenZeppelin standard tree of the erased leaves,
    each a ``(bytes32)`` value (``merkle.ERASED_LEAF_TYPES``)."""
    return merkle.MerkleTree.of([[leaf] for leaf in leaves], merkle.ERASED_LEAF_TYPES).root


def record_leaves(
    data: Path, rows: Sequence[int], salts: hashing.Salts, *, digest: hashing.Digest = "sha256"
) -> list[bytes]:
    """The leaves of ``rows`` of the records file ``data`` with its ``salts``, its records
    hashed with ``digest`` (erased rows refused: their salt is gone)."""
    leaves = []
    types = merkle.leaf_types("record", digest)
    for row in rows:
        entry = hashing.record_at(data, row, salts=salts, digest=digest)
        values = merkle.leaf_values("record", digest, entry.record_hash, entry.salt)
        leaves.append(merkle.leaf_hash(types, values))
    return leaves


@dataclass(frozen=True)
class ErasedRecords:
    """What one erasure did."""

    erasure_id: str
    dataset_id: str
    root: str
    erased_root: str
    count: int
    reason_hash: str
    transaction: str | None  # None: the chain held it already (an erasure finished)
    block_number: int | None
    salts: str | None  # the sidecar whose salts were destroyed
    rows: list[int] | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Eraser:
    """Erases records of versions the signer's department anchored (see the module)."""

    def __init__(
        self,
        client: ChainClient,
        engine: Engine,
        signer: LocalAccount,
        *,
        crash_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.signer = signer
        #: Called at each step ("recorded": the leaves written; "sent": the erasure on chain,
        #: the salts not destroyed yet) — the fault tests kill the process there.
        self._crash_hook = crash_hook or (lambda _step: None)

    def erase(
        self,
        *,
        dataset: bytes,
        leaves: Sequence[bytes],
        reason: str,
        root: bytes | None = None,
        rows: Sequence[int] | None = None,
        salts_path: Path | None = None,
        subject_keys: Path | None = None,
    ) -> ErasedRecords:
        """Erase the records of ``leaves`` (with their ``rows`` in the sidecar ``salts_path``,
        whose salts are then destroyed) from the version of ``dataset`` holding them all.

        Raises:
            InputError: no leaf, a leaf twice, a leaf in no version of the dataset (or in
                several, and no ``root``), a record erased already, an empty reason.
            ContractRevertError: the chain refused (another department's dataset, …).
        """
        if not leaves:
            raise InputError("name at least one record to erase.")
        if len(set(leaves)) != len(leaves):
            raise InputError("a record is named twice; name each record to erase once.")
        if rows is not None and len(rows) != len(leaves):
            raise ValueError("rows must pair with leaves")
        reason_hash = code_hash(reason)
        keys = [_hex(leaf) for leaf in leaves]
        with Session(self.engine) as session:
            chosen = self._version(session, dataset, keys, root)
            tree_root = erased_root(leaves)
            key = _hex(erasure_id(dataset, bytes.fromhex(chosen[2:]), tree_root))
            self._refuse_erased(session, keys, key, rows)
            if not session.exec(select(ErasedLeaf.id).where(ErasedLeaf.erasure_id == key)).first():
                now = int(time.time())
                for index, leaf in enumerate(keys):
                    session.add(
                        ErasedLeaf(
                            erasure_id=key,
                            version_id=_hex(version_id(dataset, bytes.fromhex(chosen[2:]))),
                            dataset_id=_hex(dataset),
                            root=chosen,
                            erased_root=_hex(tree_root),
                            leaf_hash=leaf,
                            record_index=rows[index] if rows is not None else None,
                            reason_hash=_hex(reason_hash),
                            salts=str(salts_path) if salts_path is not None else None,
                            created_at=now,
                        )
                    )
                session.commit()
        self._crash_hook("recorded")
        transaction = block = None
        held = self.client.call(
            "DatasetRegistry", "erasure", dataset, bytes.fromhex(chosen[2:]), tree_root
        )
        if not held[1]:  # erasedAt: not on chain yet
            sent = self.client.transact(
                "DatasetRegistry",
                "eraseRecords",
                dataset,
                bytes.fromhex(chosen[2:]),
                tree_root,
                len(leaves),
                reason_hash,
                sender=self.signer,
            )
            transaction, block = sent.tx_hash, sent.block_number
        self._crash_hook("sent")
        if salts_path is not None and rows is not None:
            self._shred(salts_path, rows, key, subject_keys=subject_keys)
        return ErasedRecords(
            erasure_id=key,
            dataset_id=_hex(dataset),
            root=chosen,
            erased_root=_hex(tree_root),
            count=len(leaves),
            reason_hash=_hex(reason_hash),
            transaction=transaction,
            block_number=block,
            salts=str(salts_path) if salts_path is not None else None,
            rows=list(rows) if rows is not None else None,
        )

    def erased_leaf(self, salts_path: Path, row: int) -> bytes | None:
        """The leaf of row ``row`` of the records whose salts this gateway destroyed in the
        sidecar ``salts_path`` (so the owner can still ask when it was erased); None when it
        erased no such row."""
        with Session(self.engine) as session:
            leaf = session.exec(
                select(ErasedLeaf.leaf_hash).where(
                    ErasedLeaf.salts == str(salts_path.resolve()), ErasedLeaf.record_index == row
                )
            ).first()
        return bytes.fromhex(leaf[2:]) if leaf is not None else None

    def _version(
        self, session: Session, dataset: bytes, keys: Sequence[str], root: bytes | None
    ) -> str:
        """The root of the one version of ``dataset`` whose tree holds every leaf."""
        holding: dict[str, set[str]] = {}  # root -> the leaves named that it holds
        for found_root, leaf in session.exec(
            select(LeafRow.root, LeafRow.leaf_hash).where(col(LeafRow.leaf_hash).in_(keys))
        ).all():
            holding.setdefault(found_root, set()).add(leaf)
        roots = [r for r, leaves in holding.items() if len(leaves) == len(set(keys))]
        candidates = sorted(
            session.exec(
                select(VersionRow.root).where(
                    VersionRow.dataset_id == _hex(dataset), col(VersionRow.root).in_(roots or ())
                )
            ).all()
        )
        if root is not None:
            if _hex(root) not in candidates:
                raise InputError(
                    f"version {_hex(root)} of dataset {_hex(dataset)} does not hold every record named (or is not indexed here yet)."
                )
            return _hex(root)
        if not candidates:
            raise InputError(
                f"no version of dataset {_hex(dataset)} indexed here holds every record named; erase the records of one version at a time (a version anchored a moment ago is indexed within a few blocks)."
            )
        if len(candidates) > 1:
            raise InputError(
                f"the records are in {len(candidates)} versions of dataset {_hex(dataset)} ({', '.join(candidates)}); choose one with its root."
            )
        return candidates[0]

    @staticmethod
    def _refuse_erased(
        session: Session, keys: Sequence[str], key: str, rows: Sequence[int] | None
    ) -> None:
        """A record an erasure on chain holds already (other than this very erasure) is
        refused: erasing is done once."""
        done = session.exec(
            select(ErasedLeaf.leaf_hash, ErasureRow.erased_at)
            .join(ErasureRow, col(ErasureRow.id) == col(ErasedLeaf.erasure_id))
            .where(col(ErasedLeaf.leaf_hash).in_(keys), ErasedLeaf.erasure_id != key)
        ).first()
        if done is not None:
            where = keys.index(done[0])
            named = f"record {rows[where]}" if rows is not None else f"leaf {done[0]}"
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(done[1]))
            raise InputError(f"{named} was erased already, on {when}.")

    def _shred(
        self, salts_path: Path, rows: Sequence[int], key: str, *, subject_keys: Path | None
    ) -> None:
        """Destroy the salts of ``rows`` in the sidecar (atomically; again is harmless): a
        row's salt, or its subject's nonce (``xietong-salts/2``, read with ``subject_keys``)."""
        salts = hashing.read_salts(salts_path, subject_keys=subject_keys)
        shredded = salts.shredded(rows)
        if shredded != salts:
            hashing.write_salts(salts_path, shredded, overwrite=True)
        with Session(self.engine) as session:
            for row in session.exec(select(ErasedLeaf).where(ErasedLeaf.erasure_id == key)).all():
                row.shredded_at = int(time.time())
                session.add(row)
            session.commit()
