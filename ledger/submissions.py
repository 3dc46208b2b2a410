"""Hashes submitted for anchoring (e.g. over the HTTP API), batched by size or age.

:meth:`SubmissionQueue.submit` adds file hashes to the dataset's ``collecting`` batch (one is
opened when there is none) and returns the batch id at once; the id stays valid for polling
through every later step. :meth:`SubmissionQueue.flush` seals every batch that is full
(``max_leaves``) or old enough (``max_wait`` seconds) and anchors it with the
:class:`~ledger.anchoring.Anchorer` under the same id, so the batch status follows it:
``collecting`` → ``sealed`` → the anchoring statuses (``pending``, ``sent``, ``confirmed``,
``failed``).

Nothing is lost to a race or a crash: adding hashes starts with a conditional update of the
batch row (``… WHERE status = 'collecting'``), and sealing is the same conditional update,
so on SQLite and PostgreSQL alike a submission either lands before the seal, in the batch,
or after it, in a new batch; of several instances flushing at once, exactly one seals (and
anchors) each batch. A batch sealed but not persisted for anchoring within
``claim_timeout`` (its instance crashed) is taken over by the next flush of any instance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .anchoring import Anchorer, AnchorError, prepare_hashes
from .catalogue import dataset_digest
from .db import queries
from .db.queries import Page, UnknownDatasetError
from .db.tables import DatasetRow, SubmissionBatch, SubmittedLeaf, VersionAnchoring
from .errors import ContractRevertError, InputError, LedgerError

__all__ = ["MAX_LEAVES_PER_REQUEST", "NotOwnerError", "SubmissionQueue", "UnknownBatchError"]

MAX_LEAVES_PER_REQUEST = 10_000
MAX_NAME_BYTES = 1024


class UnknownBatchError(LedgerError):
    """No batch has this id."""

    kind = "unknown-batch"


class NotOwnerError(LedgerError):
    """The dataset belongs to another department than this gateway's."""

    kind = "not-owner"


class SubmissionQueue:
    """Collects submitted hashes per dataset and anchors them in batches."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_leaves: int = 1_000,
        max_wait: float = 5.0,
        claim_timeout: float = 60.0,
    ) -> None:
        """``claim_timeout``: seconds after which a batch sealed by an instance that then
        vanished (before persisting it for anchoring) is taken over by another."""
        if max_leaves < 1 or max_wait < 0 or claim_timeout < 0:
            raise InputError("a batch needs max_leaves >= 1, max_wait >= 0 and claim_timeout >= 0.")
        self.engine = engine
        self.max_leaves = max_leaves
        self.max_wait = max_wait
        self.claim_timeout = claim_timeout

    # ------------------------------------------------------------------ submitting

    def submit(
        self, dataset_id: str, leaves: Sequence[tuple[bytes, str]], *, department_id: str
    ) -> dict[str, Any]:
        """Queue file leaves (content SHA-256, name) of a dataset owned by ``department_id``."""
        self._check_leaves(leaves)
        with Session(self.engine) as session:
            dataset = session.get(DatasetRow, dataset_id)
        if dataset is None:
            raise UnknownDatasetError(
                f"no dataset {dataset_id} is registered here (or it is not indexed yet)."
            )
        if dataset.owner_department != department_id:
            raise NotOwnerError(
                f"dataset {dataset_id} belongs to department {dataset.owner_department}; "
                "this gateway anchors only its own department's datasets."
            )
        with Session(self.engine) as session:  # its digest known (UnknownDigestError else)
            dataset_digest(session=session, dataset_id=dataset_id)
        unique = list(dict.fromkeys(("0x" + h.hex(), name) for h, name in leaves))
        for _attempt in range(5):
            batch_id = self._collecting(dataset_id) or self._open(dataset_id)
            if self._add(batch_id, unique):
                return self.status(batch_id)
        raise LedgerError("the submission could not be queued (batches sealed too fast); retry.")

    def _check_leaves(self, leaves: Sequence[tuple[bytes, str]]) -> None:
        if not leaves:
            raise InputError("submit at least one hash.")
        if len(leaves) > MAX_LEAVES_PER_REQUEST:
            raise InputError(f"submit at most {MAX_LEAVES_PER_REQUEST} hashes per request.")
        for digest, name in leaves:
            if len(digest) != 32:
                raise InputError("a content hash is 32 bytes (64 hex digits).")
            if len(name.encode("utf-8")) > MAX_NAME_BYTES:
                raise InputError(f"a name is at most {MAX_NAME_BYTES} bytes of UTF-8.")

    def _collecting(self, dataset_id: str) -> str | None:
        with Session(self.engine) as session:
            return session.exec(
                select(SubmissionBatch.id)
                .where(SubmissionBatch.dataset_id == dataset_id)
                .where(SubmissionBatch.status == "collecting")
                .where(col(SubmissionBatch.leaf_count) < self.max_leaves)
                .order_by(col(SubmissionBatch.created_at))
            ).first()

    def _open(self, dataset_id: str) -> str:
        batch = SubmissionBatch(
            id=uuid.uuid4().hex,
            dataset_id=dataset_id,
            status="collecting",
            created_at=int(time.time()),
        )
        with Session(self.engine) as session:
            session.add(batch)
            session.commit()
            return batch.id

    def _add(self, batch_id: str, leaves: list[tuple[str, str]]) -> bool:
        """Add ``leaves`` to the batch if it is still collecting; False when it was sealed."""
        with Session(self.engine) as session:
            claimed = session.execute(
                update(SubmissionBatch)
                .where(col(SubmissionBatch.id) == batch_id)
                .where(col(SubmissionBatch.status) == "collecting")
                .values(leaf_count=SubmissionBatch.leaf_count)  # takes the row's write lock
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return False
            present = {
                (row.content_hash, row.name)
                for row in session.exec(
                    select(SubmittedLeaf).where(SubmittedLeaf.batch_id == batch_id)
                ).all()
            }
            new = [leaf for leaf in leaves if leaf not in present]
            for content_hash, name in new:
                session.add(SubmittedLeaf(batch_id=batch_id, content_hash=content_hash, name=name))
            session.execute(
                update(SubmissionBatch)
                .where(col(SubmissionBatch.id) == batch_id)
                .values(leaf_count=SubmissionBatch.leaf_count + len(new))
            )
            session.commit()
            return True

    # ------------------------------------------------------------------ anchoring

    def due(self, *, now: float | None = None) -> list[str]:
        """Collecting batches that are full or old enough, and sealed ones not yet anchored."""
        now = time.time() if now is None else now
        with Session(self.engine) as session:
            collecting = session.exec(
                select(SubmissionBatch.id)
                .where(SubmissionBatch.status == "collecting")
                .where(
                    (col(SubmissionBatch.leaf_count) >= self.max_leaves)
                    | (col(SubmissionBatch.created_at) <= now - self.max_wait)
                )
                .where(col(SubmissionBatch.leaf_count) > 0)
                .order_by(col(SubmissionBatch.created_at))
            ).all()
            orphaned = session.exec(
                select(SubmissionBatch.id)
                .where(SubmissionBatch.status == "sealed")
                .where(col(SubmissionBatch.sealed_at) <= time.time() - self.claim_timeout)
                .where(~col(SubmissionBatch.id).in_(select(VersionAnchoring.id)))
            ).all()
        return list(collecting) + list(orphaned)

    def flush(self, anchorer: Anchorer, *, now: float | None = None) -> list[str]:
        """Seal and anchor every due batch; returns their ids. Failures are kept on the batch."""
        done = []
        for batch_id in self.due(now=now):
            if self._seal(batch_id) or self._reclaim(batch_id):
                self._anchor(anchorer, batch_id)
                done.append(batch_id)
        return done

    def _seal(self, batch_id: str) -> bool:
        """Seal a collecting batch; True for the one caller (of any instance) that did."""
        return self._claim(batch_id, col(SubmissionBatch.status) == "collecting")

    def _reclaim(self, batch_id: str) -> bool:
        """Take over a batch sealed more than ``claim_timeout`` ago and still not persisted
        for anchoring (its sealer crashed); True for the one caller that did."""
        return self._claim(
            batch_id,
            col(SubmissionBatch.status) == "sealed",
            col(SubmissionBatch.sealed_at) <= time.time() - self.claim_timeout,
            ~col(SubmissionBatch.id).in_(select(VersionAnchoring.id)),
        )

    def _claim(self, batch_id: str, *conditions: Any) -> bool:
        with Session(self.engine) as session:
            claimed = session.execute(
                update(SubmissionBatch)
                .where(col(SubmissionBatch.id) == batch_id, *conditions)
                .values(status="sealed", sealed_at=int(time.time()))
            )
            session.commit()
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    def _anchor(self, anchorer: Anchorer, batch_id: str) -> None:
        with Session(self.engine) as session:
            batch = session.get(SubmissionBatch, batch_id)
            assert batch is not None
            leaves = session.exec(
                select(SubmittedLeaf)
                .where(SubmittedLeaf.batch_id == batch_id)
                .order_by(col(SubmittedLeaf.id))
            ).all()
            entries = [(bytes(HexBytes(leaf.content_hash)), leaf.name) for leaf in leaves]
            dataset = bytes(HexBytes(batch.dataset_id))
        try:
            # The dataset's digest (docs/SM3.md): its clients submit SM3 digests of an SM3
            # dataset's files, and its leaves say so.
            with Session(self.engine) as session:
                digest = dataset_digest(session=session, dataset_id=batch.dataset_id)
            prepared = prepare_hashes(
                entries, dataset, source=f"api-batch-{batch_id}", digest=digest or "sha256"
            )
            anchored = anchorer.anchor(prepared, anchoring_id=batch_id)
        except (AnchorError, ContractRevertError, InputError) as exc:
            self._record_failure(batch_id, str(exc))
            return
        except IntegrityError:
            return  # another instance persisted this batch first; it anchors it
        if anchored.id != batch_id:  # the same hashes make a version this gateway knows
            self._record_failure(
                batch_id,
                f"these hashes make root {anchored.root}, the version of batch {anchored.id} "
                f"(now {anchored.status}): follow that batch.",
                status="redirected",
            )

    def _record_failure(self, batch_id: str, error: str, *, status: str = "failed") -> None:
        with Session(self.engine) as session:
            if session.get(VersionAnchoring, batch_id) is not None:
                return  # the anchoring batch carries its own status and error
            batch = session.get(SubmissionBatch, batch_id)
            assert batch is not None
            batch.status, batch.error = status, error
            session.add(batch)
            session.commit()

    # ------------------------------------------------------------------ status

    def failed(self, *, cursor: str | None = None, limit: int = 100) -> Page:
        """Batches that failed, oldest first, a page at a time: refused before anchoring (their
        own status) or refused by the chain (their anchoring's). Submit the same hashes again to
        retry one (the refused version is retried with what the new batch prepared), or abandon
        it. InputError for a malformed cursor or a limit out of range."""
        with Session(self.engine) as session:
            ids = queries.failed_batches(session=session, cursor=cursor, limit=limit)
        return Page(
            items=[self.status(item["batch_id"]) for item in ids.items],
            next_cursor=ids.next_cursor,
        )

    def abandon(self, batch_id: str, anchorer: Anchorer) -> dict[str, Any]:
        """Give up a failed batch: its anchoring (:meth:`Anchorer.abandon`), or the batch itself
        when it failed before anchoring. AnchorError for a batch that did not fail; a retry
        that came first wins (each move is one conditional update)."""
        with Session(self.engine) as session:
            batch = session.get(SubmissionBatch, batch_id)
            anchored = session.get(VersionAnchoring, batch_id) is not None
        if batch is None and not anchored:
            raise UnknownBatchError(f"there is no batch {batch_id}.")
        if anchored:
            anchorer.abandon(batch_id)
            return self.status(batch_id)
        with Session(self.engine) as session:
            moved = session.execute(
                update(SubmissionBatch)
                .where(col(SubmissionBatch.id) == batch_id, col(SubmissionBatch.status) == "failed")
                .values(status="abandoned")
            )
            session.commit()
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            status = self.status(batch_id)["status"]
            raise AnchorError(f"batch {batch_id} is {status}: only a failed one can be abandoned.")
        return self.status(batch_id)

    def status(self, batch_id: str) -> dict[str, Any]:
        """Where the batch stands: collecting, sealed, or the status of its anchoring."""
        with Session(self.engine) as session:
            batch = session.get(SubmissionBatch, batch_id)
            anchor = session.get(VersionAnchoring, batch_id)
            if batch is None and anchor is None:
                raise UnknownBatchError(f"there is no batch {batch_id}.")
        result: dict[str, Any] = {
            "batch_id": batch_id,
            "root": None,
            "transaction": None,
            "block_number": None,
        }
        if batch is not None:
            result.update(
                dataset_id=batch.dataset_id,
                status=batch.status,
                leaf_count=batch.leaf_count,
                error=batch.error,
            )
        if anchor is not None:
            result["dataset_id"] = anchor.dataset_id
            result.update(
                status=anchor.status,
                root=anchor.root,
                leaf_count=anchor.leaf_count,
                transaction=anchor.tx_hash,
                block_number=anchor.block_number,
                error=anchor.error,
            )
        return result
