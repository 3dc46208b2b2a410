"""Project the contracts' events into SQL, ``confirmations`` blocks behind the head.

Each pass (:meth:`Indexer.sync`):

1. checks that the block it indexed last is still canonical; if not (a reorg), it finds the
   newest indexed block that still is, deletes the events above it and rebuilds the
   projections from the remaining event log;
2. reads the logs of the four contracts up to ``head - confirmations + 1``, in chunks;
3. stores each chunk's events, their blocks' hashes and the new checkpoint, and applies the
   events to the projection tables — all in one database transaction.

A full :meth:`Indexer.reindex` drops the projections and replays the chain from the
deployment block: it yields exactly the tables of the incremental run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from web3.exceptions import Web3RPCError

from ._events import jsonable
from ._projection import apply_event, event_keys
from .chain.client import ChainClient
from .chain.deploy import Deployment
from .db.engine import DatabaseUnavailableError
from .db.tables import PROJECTION_TABLES, ChainEvent, IndexedBlock, IndexerCheckpoint
from .errors import ChainUnavailableError, LedgerError

__all__ = ["Indexer", "IndexerError", "SyncResult"]

# Projection tables replayed from the event log (everything but the log and its bookkeeping).
_STATE_TABLES = tuple(
    t for t in PROJECTION_TABLES if t not in (IndexerCheckpoint, IndexedBlock, ChainEvent)
)


class IndexerError(LedgerError):
    """The index does not belong to this chain or deployment."""

    kind = "indexer"


@dataclass(frozen=True)
class SyncResult:
    """What one pass did."""

    from_block: int
    to_block: int
    events: int
    reorged_from: int | None
    head: int

    @property
    def lag(self) -> int:
        """Blocks between the chain head and the checkpoint."""
        return max(0, self.head - self.to_block)


#: Key of the PostgreSQL advisory lock that serialises index writes of gateways sharing a
#: database ("xidx").
_INDEX_LOCK = 0x78696478


def _lock_index(session: Session) -> None:
    """Make the session's transaction the only one writing the index until it ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a (no-op) write statement, which
    takes the database's write lock now rather than at the first insert, so what the
    transaction reads next (the checkpoint) cannot change before it commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INDEX_LOCK})
    else:
        session.execute(text("UPDATE indexer_checkpoint SET id = id WHERE id = -1"))


class Indexer:
    """Indexes one deployment into one database.

    Args:
        client: The chain client (with the deployment's contracts).
        deployment: The deployment manifest (start block, registry address).
        engine: The database engine.
        confirmations: A block is indexed once it has this many confirmations (1 = mined).
        chunk: Blocks per ``eth_getLogs`` request.
    """

    def __init__(
        self,
        client: ChainClient,
        deployment: Deployment,
        engine: Engine,
        *,
        confirmations: int = 1,
        chunk: int = 2_000,
    ) -> None:
        self.client = client
        self.deployment = deployment
        self.engine = engine
        self.confirmations = max(1, confirmations)
        self.chunk = chunk
        self._by_address = {c.address.lower(): (name, c) for name, c in client.contracts.items()}

    # ------------------------------------------------------------------ public

    def sync(self, *, max_blocks: int | None = None) -> SyncResult:
        """Index everything confirmed so far (at most ``max_blocks`` blocks in this pass)."""
        try:
            return self._sync(max_blocks)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ChainUnavailableError(
                f"the chain node does not answer ({type(exc).__name__})."
            ) from exc
        except OperationalError as exc:
            raise DatabaseUnavailableError(f"the database does not answer ({exc.orig}).") from None

    def follow(self, *, interval: float = 1.0, should_stop: Callable[[], bool] = lambda: False,
               on_pass: Callable[[SyncResult], None] | None = None) -> None:  # fmt: skip
        """Keep syncing until ``should_stop()``; transient node or database outages are retried."""
        while not should_stop():
            try:
                result = self.sync()
                if on_pass is not None:
                    on_pass(result)
            except (ChainUnavailableError, DatabaseUnavailableError):
                pass
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(0.1, interval))

    def reindex(self) -> SyncResult:
        """Forget the projection (never the leaf store) and index the chain from scratch."""
        with Session(self.engine) as session:
            for table in PROJECTION_TABLES:
                session.execute(delete(table))
            session.commit()
        return self.sync()

    def checkpoint(self) -> IndexerCheckpoint | None:
        """Where the index stands."""
        with Session(self.engine) as session:
            return session.get(IndexerCheckpoint, 1)

    # ------------------------------------------------------------------ internals

    def _sync(self, max_blocks: int | None) -> SyncResult:
        w3 = self.client.w3
        head = int(w3.eth.block_number)
        target = head - self.confirmations + 1
        reorged_from = self._rewind_if_reorged()
        checkpoint = self.checkpoint()
        start = checkpoint.block_number + 1 if checkpoint else self.deployment.block_number
        if max_blocks is not None:
            target = min(target, start + max_blocks - 1)
        total = 0
        first = start
        while start <= target:
            end = min(target, start + self.chunk - 1)
            total += self._index_range(start, end)
            start = end + 1
        last = self.checkpoint()
        return SyncResult(
            from_block=first,
            to_block=last.block_number if last else first - 1,
            events=total,
            reorged_from=reorged_from,
            head=head,
        )

    def _block(self, number: int) -> tuple[str, int]:
        block = self.client.w3.eth.get_block(number)
        return block["hash"].to_0x_hex(), int(block["timestamp"])

    def _rewind_if_reorged(self) -> int | None:
        """If the indexed chain is no longer canonical, roll back to the fork; returns it."""
        with Session(self.engine) as session:
            checkpoint = session.get(IndexerCheckpoint, 1)
            if checkpoint is None:
                return None
            self._check_identity(checkpoint)
            if self._canonical(checkpoint.block_number, checkpoint.block_hash):
                return None
            _lock_index(session)
            session.refresh(checkpoint)
            if self._canonical(checkpoint.block_number, checkpoint.block_hash):
                return None
            known = session.exec(
                select(IndexedBlock).order_by(col(IndexedBlock.number).desc())
            ).all()
            fork = next((b for b in known if self._canonical(b.number, b.hash)), None)
            keep = fork.number if fork else self.deployment.block_number - 1
            session.execute(delete(ChainEvent).where(col(ChainEvent.block_number) > keep))
            session.execute(delete(IndexedBlock).where(col(IndexedBlock.number) > keep))
            if fork is None:
                session.delete(checkpoint)
            else:
                checkpoint.block_number, checkpoint.block_hash = fork.number, fork.hash
            self._rebuild_state(session)
            session.commit()
            return keep + 1

    def _canonical(self, number: int, block_hash: str) -> bool:
        try:
            return self._block(number)[0] == block_hash
        except Web3RPCError:
            return False  # the block no longer exists: the chain got shorter

    def _check_identity(self, checkpoint: IndexerCheckpoint) -> None:
        registry = self.deployment.addresses["DepartmentRegistry"]
        if (
            checkpoint.chain_id != self.client.chain_id
            or checkpoint.registry_address.lower() != registry.lower()
        ):
            raise IndexerError(
                f"the database indexes chain {checkpoint.chain_id} at {checkpoint.registry_address}, "
                f"not chain {self.client.chain_id} at {registry}: run `xietong reindex` or use another database."
            )

    def _rebuild_state(self, session: Session) -> None:
        for table in _STATE_TABLES:
            session.execute(delete(table))
        session.flush()
        events = session.exec(
            select(ChainEvent).order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        ).all()
        for event in events:
            apply_event(session, event, json.loads(event.args))
            session.flush()

    def _index_range(self, start: int, end: int) -> int:
        w3 = self.client.w3
        logs = w3.eth.get_logs(
            {
                "fromBlock": start,
                "toBlock": end,
                "address": [c.address for _, c in self._by_address.values()],
            }
        )
        blocks: dict[int, tuple[str, int]] = {}
        for number in sorted({int(log["blockNumber"]) for log in logs} | {end}):
            blocks[number] = self._block(number)
        rows: list[tuple[ChainEvent, dict[str, Any]]] = []
        for log in sorted(logs, key=lambda item: (int(item["blockNumber"]), int(item["logIndex"]))):
            number = int(log["blockNumber"])
            block_hash, timestamp = blocks[number]
            if log["blockHash"].to_0x_hex() != block_hash:
                # The chain changed while we read it; the next pass will see the reorg.
                return 0
            decoded = self._decode(log)
            if decoded is None:
                continue
            contract, name, args = decoded
            department, subject = event_keys(name, args)
            rows.append(
                (
                    ChainEvent(
                        block_number=number, block_hash=block_hash, log_index=int(log["logIndex"]),
                        tx_hash=log["transactionHash"].to_0x_hex(), timestamp=timestamp, contract=contract,
                        name=name, department_id=department, subject_id=subject,
                        args=json.dumps(args, ensure_ascii=False, sort_keys=True),
                    ),
                    args,
                )
            )  # fmt: skip
        with Session(self.engine) as session:
            _lock_index(session)
            checkpoint = session.get(IndexerCheckpoint, 1)
            indexed_to = checkpoint.block_number if checkpoint else self.deployment.block_number - 1
            if indexed_to != start - 1:
                return 0  # another gateway instance indexed (part of) this range meanwhile
            for event, args in rows:
                session.add(event)
                session.flush()
                apply_event(session, event, args)
            for number, (block_hash, timestamp) in blocks.items():
                if session.get(IndexedBlock, number) is None:
                    session.add(IndexedBlock(number=number, hash=block_hash, timestamp=timestamp))
            end_hash = blocks[end][0]
            if checkpoint is None:
                session.add(
                    IndexerCheckpoint(
                        chain_id=self.client.chain_id,
                        registry_address=self.deployment.addresses["DepartmentRegistry"],
                        block_number=end,
                        block_hash=end_hash,
                    )
                )
            else:
                checkpoint.block_number, checkpoint.block_hash = end, end_hash
            session.commit()
        return len(rows)

    def _decode(self, log: Any) -> tuple[str, str, dict[str, Any]] | None:
        entry = self._by_address.get(str(log["address"]).lower())
        if entry is None or not log["topics"]:
            return None
        contract_name, contract = entry
        name = self.client.event_name(contract, bytes(log["topics"][0]))
        if name is None:
            return None
        parsed = getattr(contract.events, name)().process_log(log)
        return contract_name, name, jsonable(dict(parsed["args"]))
