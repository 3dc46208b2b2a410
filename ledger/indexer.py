"""Project the contracts' events into SQL, ``confirmations`` blocks behind the head.

Each pass (:meth:`Indexer.sync`):

1. checks that the block it indexed last is still canonical; if not (a reorg), it finds the
   newest indexed block that still is, deletes the events above it and rebuilds the
   projections from the remaining event log;
2. reads the logs of the four contracts up to ``head - confirmations + 1``, in chunks, with
   their blocks' hashes and timestamps, and decodes them (:class:`~ledger.events.LogDecoder`);
3. stores each chunk's events, their blocks' hashes and the new checkpoint, and applies the
   events to the projection tables — all in one database transaction.

A full :meth:`Indexer.reindex` drops the projections and replays the chain from the
deployment block: it yields exactly the tables of the incremental run.

Chain data is untrusted input: whatever bytes an event carries, decoding never fails on them
(:mod:`ledger.events`, :mod:`ledger.display`). A log that cannot be decoded at all (a node
answering garbage) stops the pass with :class:`~ledger.events.UndecodableLogError` before that
log; the checkpoint stays where it was and the next pass tries again. A pass that reaches the
chain's confirmed head records the time in the checkpoint (``synced_at``): how fresh the index
is when the node cannot be asked. :class:`IndexHealth` keeps what the passes of a loop did, for
``/readyz``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select
from web3.types import RPCEndpoint

from ._projection import DELETING_EVENTS, EventFacts, apply_event, event_keys
from .chain.client import ChainClient
from .chain.deploy import Deployment
from .chain.transport import node_errors
from .db.engine import DatabaseUnavailableError, as_unavailable
from .db.tables import PROJECTION_TABLES, ChainEvent, IndexedBlock, IndexerCheckpoint
from .errors import ChainError, ChainUnavailableError, LedgerError
from .events import LogDecoder, UndecodableLogError

__all__ = ["IndexHealth", "Indexer", "IndexerError", "SyncResult"]

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
    #: The newest block with enough confirmations when the pass began: the index is caught up
    #: when ``to_block`` reached it.
    confirmed: int = -1

    @property
    def lag(self) -> int:
        """Blocks between the chain head and the checkpoint."""
        return max(0, self.head - self.to_block)

    @property
    def moved(self) -> bool:
        """The pass moved the checkpoint (blocks indexed, or a reorg rolled back)."""
        return self.reorged_from is not None or self.to_block >= self.from_block

    @property
    def caught_up(self) -> bool:
        """The pass indexed every block with enough confirmations."""
        return self.to_block >= self.confirmed


class IndexHealth:
    """What the passes of one indexer loop did (thread-safe): the loop records each pass,
    ``/readyz`` reads :meth:`snapshot`. Errors are kept by kind only (their text may hold a
    URL)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = False  #: a loop runs in this process
        self.started_at: float | None = None  #: wall-clock start of the loop
        self.last_pass_at: float | None = None  #: wall-clock end of the last pass
        self.last_success_at: float | None = None  #: … of the last pass that succeeded
        self.caught_up_at: float | None = None  #: … of the last pass that reached the head
        self.last_error: str | None = None  #: kind of the last pass's error; None after success
        self.failures = 0  #: failed passes since the last success
        self.last_result: SyncResult | None = None

    def started(self) -> None:
        with self._lock:
            self.running, self.started_at = True, time.time()

    def stopped(self) -> None:
        with self._lock:
            self.running = False

    def passed(self, result: SyncResult) -> None:
        now = time.time()
        with self._lock:
            self.last_pass_at = self.last_success_at = now
            if result.caught_up:
                self.caught_up_at = now
            self.last_error, self.failures, self.last_result = None, 0, result

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self.last_pass_at = time.time()
            self.last_error = error_kind(exc)
            self.failures += 1

    def snapshot(self) -> dict[str, Any]:
        """The loop's state: running, times (unix seconds), last error kind, failures."""
        with self._lock:
            return {
                "running": self.running,
                "started_at": self.started_at,
                "last_pass_at": self.last_pass_at,
                "last_success_at": self.last_success_at,
                "caught_up_at": self.caught_up_at,
                "last_error": self.last_error,
                "failures": self.failures,
            }


def error_kind(exc: BaseException) -> str:
    """A failure as one word safe to show anyone: a LedgerError's kind, else the class name."""
    return exc.kind if isinstance(exc, LedgerError) else type(exc).__name__


@dataclass(frozen=True)
class _Chunk:
    """Blocks ``start``–``end`` read from the chain and decoded, ready to be stored."""

    start: int
    end: int
    rows: list[dict[str, Any]]  # chain_event rows, in chain order
    facts: list[tuple[EventFacts, dict[str, Any]]]  # the same events, for the projections
    blocks: dict[int, tuple[str, int]]  # number → (hash, timestamp): the events' blocks and end


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


#: Block headers per batched JSON-RPC request.
_BLOCK_BATCH = 500


class Indexer:
    """Indexes one deployment into one database.

    Args:
        client: The chain client (with the deployment's contracts).
        deployment: The deployment manifest (start block, registry address).
        engine: The database engine.
        confirmations: A block is indexed once it has this many confirmations (1 = mined).
        chunk: Blocks per ``eth_getLogs`` request.
        on_moved: Called when a pass (or reindex) that moved the checkpoint returns, and
            when one fails: the checkpoint may have moved (the gateway's verifiers forget the generation they
            keep, see ``ledger.verify._generation``).
    """

    def __init__(
        self,
        client: ChainClient,
        deployment: Deployment,
        engine: Engine,
        *,
        confirmations: int = 1,
        chunk: int = 2_000,
        on_moved: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self._on_moved = on_moved
        self.deployment = deployment
        self.engine = engine
        self.confirmations = max(1, confirmations)
        self.chunk = chunk
        self._by_address = {c.address.lower(): (name, c) for name, c in client.contracts.items()}
        self._decoder = LogDecoder(client.contracts)

    # ------------------------------------------------------------------ public

    def sync(self, *, max_blocks: int | None = None) -> SyncResult:
        """Index everything confirmed so far (at most ``max_blocks`` blocks in this pass).

        Raises:
            ChainUnavailableError: The chain node does not answer (``node_errors``).
            DatabaseUnavailableError: The database does not answer: a connection lost, refused
                or timed out (``as_unavailable``). A database that answers but refuses writes
                raises its own error, which :meth:`follow` does not wait out.
            IndexerError: The database indexes another chain or deployment.
        """
        moved = True  # unless the pass tells otherwise (a failed one may have moved it)
        with node_errors():
            try:
                result = self._sync(max_blocks)
                moved = result.moved
                return result
            except (OperationalError, InterfaceError) as exc:
                # Connection failures only, not all of ``database_errors()``: a database that
                # refuses writes must end ``follow`` (the API's index loop logs its kind).
                raise (as_unavailable(exc) or exc) from None
            finally:
                if moved and self._on_moved is not None:
                    self._on_moved()

    def follow(
        self,
        *,
        interval: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        on_pass: Callable[[SyncResult], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Keep syncing until ``should_stop()``; transient node or database outages are retried
        (and handed to ``on_error``); any other error ends it."""
        while not should_stop():
            try:
                result = self.sync()
                if on_pass is not None:
                    on_pass(result)
            except (ChainUnavailableError, DatabaseUnavailableError) as exc:
                if on_error is not None:
                    on_error(exc)
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(0.1, interval))

    def reindex(self) -> SyncResult:
        """Forget the projection (never the leaf store) and index the chain from scratch."""
        with Session(self.engine) as session:
            for table in PROJECTION_TABLES:
                session.execute(delete(table))
            session.commit()
        if self._on_moved is not None:
            self._on_moved()
        return self.sync()

    def checkpoint(self) -> IndexerCheckpoint | None:
        """Where the index stands."""
        with Session(self.engine) as session:
            return session.get(IndexerCheckpoint, 1)

    # ------------------------------------------------------------------ internals

    def _sync(self, max_blocks: int | None) -> SyncResult:
        head = self.client.block_number()
        confirmed = target = head - self.confirmations + 1
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
        result = SyncResult(
            from_block=first,
            to_block=last.block_number if last else first - 1,
            events=total,
            reorged_from=reorged_from,
            head=head,
            confirmed=confirmed,
        )
        if last is not None and result.caught_up:
            self._mark_synced(last, confirmed)
        return result

    def _mark_synced(self, checkpoint: IndexerCheckpoint, confirmed: int) -> None:
        """Record that the index was caught up with the confirmed head now (at most one write a
        second; the write fails, and with it the pass, on a database that refuses writes)."""
        now = int(time.time())
        if checkpoint.synced_at is not None and checkpoint.synced_at >= now:
            return
        with Session(self.engine) as session:
            session.execute(
                update(IndexerCheckpoint)
                .where(
                    col(IndexerCheckpoint.id) == 1,
                    col(IndexerCheckpoint.block_number) >= confirmed,
                )
                .values(synced_at=now)
            )
            session.commit()

    def _block(self, number: int) -> tuple[str, int] | None:
        """(hash, timestamp) of block ``number``; None when the chain has no such block."""
        block = self.client.block(number)
        if block is None:
            return None
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
        block = self._block(number)
        # None: the block no longer exists, the chain got shorter.
        return block is not None and block[0] == block_hash

    def _check_identity(self, checkpoint: IndexerCheckpoint) -> None:
        registry = self.deployment.addresses["DepartmentRegistry"]
        if (
            checkpoint.chain_id != self.client.chain_id
            or checkpoint.registry_address.lower() != registry.lower()
        ):
            raise IndexerError(
                f"the database indexes chain {checkpoint.chain_id} at {checkpoint.registry_address}, "
                f"not chain {self.client.chain_id} at {registry}: check XIETONG_RPC_URL and "
                "XIETONG_DEPLOYMENT (`xietong doctor`) or use another database; `xietong reindex` "
                "makes this one index the configured chain instead."
            )

    def _rebuild_state(self, session: Session) -> None:
        for table in _STATE_TABLES:
            session.execute(delete(table))
        session.flush()
        events = session.exec(
            select(ChainEvent).order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        ).all()
        _project(session, ((event, json.loads(event.args)) for event in events))

    def _index_range(self, start: int, end: int) -> int:
        """Index blocks ``start``–``end``: the number of events stored."""
        chunk = self._read_chunk(start, end)
        return 0 if chunk is None else self._write_chunk(chunk)

    def _read_chunk(self, start: int, end: int) -> _Chunk | None:
        """Read and decode the logs of blocks ``start``–``end`` and their blocks' hashes and
        timestamps; None when the chain changed while we read it (the next pass sees the reorg)."""
        # Raw JSON-RPC: web3's result formatters would cost more than the decoding itself.
        logs = self.client.request(
            "eth_getLogs",
            [{"fromBlock": hex(start), "toBlock": hex(end), "address": list(self._by_address)}],
        )
        with _malformed("eth_getLogs"):
            numbers = {int(log["blockNumber"], 16) for log in logs}
            positions = sorted(
                ((int(log["blockNumber"], 16), int(log["logIndex"], 16), log) for log in logs),
                key=lambda position: position[:2],
            )
        blocks = self._blocks(sorted(numbers | {end}))
        if blocks is None:
            return None  # the chain got shorter while we read it
        rows: list[dict[str, Any]] = []
        facts: list[tuple[EventFacts, dict[str, Any]]] = []
        for number, log_index, log in positions:
            block_hash, timestamp = blocks[number]
            with _malformed("eth_getLogs"):
                log_block, tx_hash = str(log["blockHash"]), str(log["transactionHash"]).lower()
            if log_block.lower() != block_hash:
                return None  # the log's block is no longer the one at its height
            decoded = self._decoder.decode(log)  # UndecodableLogError: the pass stops here
            if decoded is None:
                continue
            contract, name, args = decoded
            department, subject = event_keys(name, args)
            rows.append(
                {
                    "block_number": number,
                    "block_hash": block_hash,
                    "log_index": log_index,
                    "tx_hash": tx_hash,
                    "timestamp": timestamp,
                    "contract": contract,
                    "name": name,
                    "department_id": department,
                    "subject_id": subject,
                    "args": json.dumps(args, ensure_ascii=False, sort_keys=True),
                }
            )
            facts.append((EventFacts(name, number, timestamp, tx_hash), args))
        return _Chunk(start, end, rows, facts, blocks)

    def _write_chunk(self, chunk: _Chunk) -> int:
        """Store a chunk in one database transaction: its events, their projection, its blocks
        and the checkpoint at its end. The number of events stored: 0 when the checkpoint is no
        longer just below the chunk (another gateway instance indexed it meanwhile)."""
        start, end, blocks = chunk.start, chunk.end, chunk.blocks
        with Session(self.engine) as session:
            _lock_index(session)
            checkpoint = session.get(IndexerCheckpoint, 1)
            indexed_to = checkpoint.block_number if checkpoint else self.deployment.block_number - 1
            if indexed_to != start - 1:
                return 0  # another gateway instance indexed (part of) this range meanwhile
            if chunk.rows:
                session.execute(insert(ChainEvent), chunk.rows)  # one multi-row insert per chunk
            _project(session, chunk.facts)
            known = set(
                session.exec(
                    select(IndexedBlock.number).where(
                        col(IndexedBlock.number) >= start, col(IndexedBlock.number) <= end
                    )
                ).all()
            )
            new_blocks = [
                {"number": number, "hash": block_hash, "timestamp": timestamp}
                for number, (block_hash, timestamp) in blocks.items()
                if number not in known
            ]
            if new_blocks:
                session.execute(insert(IndexedBlock), new_blocks)
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
        return len(chunk.rows)

    def _blocks(self, numbers: list[int]) -> dict[int, tuple[str, int]] | None:
        """(hash, timestamp) of each block, in batched requests; None if one no longer exists."""
        provider: Any = self.client.w3.provider
        blocks: dict[int, tuple[str, int]] = {}
        if not hasattr(provider, "make_batch_request"):
            for number in numbers:
                block = self._block(number)
                if block is None:
                    return None
                blocks[number] = block
            return blocks
        for at in range(0, len(numbers), _BLOCK_BATCH):
            part = numbers[at : at + _BLOCK_BATCH]
            with node_errors():
                answers = provider.make_batch_request(
                    [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in part]
                )
            if not isinstance(answers, list) or len(answers) != len(part):  # refused as a whole
                error = answers.get("error") if isinstance(answers, dict) else answers
                raise ChainError(f"the chain node refused a batch of block requests: {error}")
            for number, answer in zip(part, answers, strict=True):  # web3 sorts them by id
                if answer.get("error") is not None:
                    raise ChainError(
                        f"the chain node refused eth_getBlockByNumber: {answer['error']}"
                    )
                block = answer.get("result")
                if block is None:
                    return None
                blocks[number] = (str(block["hash"]).lower(), int(block["timestamp"], 16))
        return blocks


@contextmanager
def _malformed(method: str) -> Iterator[None]:
    """The block's reading of a node's answer: a field missing or of the wrong form raises
    :class:`~ledger.events.UndecodableLogError` (the pass stops; nothing is skipped)."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UndecodableLogError(
            f"the chain node's answer to {method} is malformed ({type(exc).__name__}: {exc!s:.120})."
        ) from exc


def _project(
    session: Session, events: Iterable[tuple[EventFacts | ChainEvent, dict[str, Any]]]
) -> None:
    """Apply events in order. The unit of work flushes on its own when a handler looks up a row
    added earlier in the batch (``Session.get`` autoflushes before it queries); an event that
    deletes a row is flushed at once, so a later event may add the same key again."""
    for event, args in events:
        apply_event(session, event, args)
        if event.name in DELETING_EVENTS:
            session.flush()
    session.flush()
