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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from web3.contract import Contract
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from ._events import canonical_type, event_topics
from ._projection import DELETING_EVENTS, EventFacts, apply_event, event_keys
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


def _converter(item: dict[str, Any]) -> Callable[[Any], Any]:
    """How an ABI-decoded value of ``item`` becomes what ``jsonable(process_log(...))`` gives:
    bytes as 0x-hex, addresses checksummed, structs as dicts by component name, arrays as lists."""
    kind = str(item["type"])
    if kind.endswith("]"):
        element = _converter({**item, "type": kind[: kind.rindex("[")]})
        return lambda values: [element(v) for v in values]
    if kind == "tuple":
        fields = [(str(c["name"]), _converter(c)) for c in item["components"]]
        return lambda values: {name: f(v) for (name, f), v in zip(fields, values, strict=True)}
    if kind == "address":
        return to_checksum_address
    if kind.startswith("bytes"):
        return lambda value: "0x" + bytes(value).hex()
    return lambda value: value


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _word_reader(kind: str) -> Callable[[str], Any] | None:
    """Reads a value of a one-word type from its 64 hex digits, as ``_converter`` would give it
    after eth_abi (None for the types left to eth_abi)."""
    if kind == "bytes32":
        return lambda word: "0x" + word.lower()
    if kind.startswith("uint"):
        return lambda word: int(word, 16)
    if kind == "address":
        return lambda word: to_checksum_address("0x" + word[24:])
    if kind == "bool":
        return lambda word: int(word, 16) != 0
    return None


_Reader = tuple[bool, Callable[[str], Any]]  # (dynamic array of it?, word reader)


def _data_readers(types: Sequence[str]) -> tuple[_Reader, ...] | None:
    """Word readers for every data value, when all are one-word types or dynamic arrays of
    them (most of our events); None sends the event to eth_abi."""
    readers: list[_Reader] = []
    for kind in types:
        array = kind.endswith("[]")
        read = _word_reader(kind[:-2] if array else kind)
        if read is None:
            return None
        readers.append((array, read))
    return tuple(readers)


@dataclass(frozen=True)
class _EventDecoder:
    """Decodes one event of one contract straight from a raw ``eth_getLogs`` entry, with the
    result of web3's ``process_log`` followed by ``jsonable`` (asserted by the tests), at a
    fraction of its cost."""

    contract: str
    name: str
    topic_names: tuple[str, ...]
    topic_types: tuple[str, ...]
    topic_converters: tuple[Callable[[Any], Any], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    data_converters: tuple[Callable[[Any], Any], ...]
    topic_readers: tuple[Callable[[str], Any] | None, ...]
    data_readers: tuple[_Reader, ...] | None

    @classmethod
    def of(cls, contract: str, abi: dict[str, Any]) -> _EventDecoder:
        indexed = [dict(i) for i in abi["inputs"] if i.get("indexed")]
        data = [dict(i) for i in abi["inputs"] if not i.get("indexed")]
        # An indexed dynamic value is only its keccak hash in the topic: kept as bytes32.
        topic_types = tuple(
            "bytes32" if _is_dynamic(canonical_type(i)) else canonical_type(i) for i in indexed
        )
        return cls(
            contract=contract,
            name=str(abi["name"]),
            topic_names=tuple(str(i["name"]) for i in indexed),
            topic_types=topic_types,
            topic_converters=tuple(
                _converter({"type": t}) if t == "bytes32" else _converter(i)
                for t, i in zip(topic_types, indexed, strict=True)
            ),
            data_names=tuple(str(i["name"]) for i in data),
            data_types=tuple(canonical_type(i) for i in data),
            data_converters=tuple(_converter(i) for i in data),
            topic_readers=tuple(_word_reader(t) for t in topic_types),
            data_readers=_data_readers([canonical_type(i) for i in data]),
        )

    def decode(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if len(topics) - 1 != len(self.topic_types):
            raise ValueError(f"{self.name}: {len(topics) - 1} topics, not {len(self.topic_types)}")
        for name, kind, read, convert, topic in zip(
            self.topic_names,
            self.topic_types,
            self.topic_readers,
            self.topic_converters,
            topics[1:],
            strict=True,
        ):
            if read is not None:
                args[name] = read(topic[2:])
            else:
                args[name] = convert(abi_decode([kind], bytes.fromhex(topic[2:]))[0])
        if self.data_readers is not None:
            body = data[2:]
            for index, (name, (array, read)) in enumerate(
                zip(self.data_names, self.data_readers, strict=True)
            ):
                word = body[64 * index : 64 * index + 64]
                if array:
                    at = 2 * int(word, 16)
                    count = int(body[at : at + 64], 16)
                    args[name] = [
                        read(body[at + 64 * j : at + 64 * j + 64]) for j in range(1, count + 1)
                    ]
                else:
                    args[name] = read(word)
            return args
        values = abi_decode(self.data_types, bytes.fromhex(data[2:])) if self.data_types else ()
        for name, convert, value in zip(self.data_names, self.data_converters, values, strict=True):
            args[name] = convert(value)
        return args


def _decoders(contracts: dict[str, Contract]) -> dict[tuple[str, str], _EventDecoder]:
    """(lower-case address, 0x-hex topic0) → decoder, for every event of every contract."""
    decoders: dict[tuple[str, str], _EventDecoder] = {}
    for name, contract in contracts.items():
        topics = {event: "0x" + topic.hex() for topic, event in event_topics(contract).items()}
        for item in contract.abi:
            entry: dict[str, Any] = dict(item)
            if entry.get("type") == "event" and not entry.get("anonymous"):
                decoders[(contract.address.lower(), topics[entry["name"]])] = _EventDecoder.of(
                    name, entry
                )
    return decoders


def _rpc(w3: Any, method: str, params: list[Any]) -> Any:
    """One raw JSON-RPC request (no web3 result formatting); RPC errors raise Web3RPCError."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if response.get("error") is not None:
        error = response["error"]
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        raise Web3RPCError(message, rpc_response=response)
    return response.get("result")


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
        self._decoders = _decoders(client.contracts)

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

    def follow(
        self,
        *,
        interval: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        on_pass: Callable[[SyncResult], None] | None = None,
    ) -> None:
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
        _project(session, ((event, json.loads(event.args)) for event in events))

    def _index_range(self, start: int, end: int) -> int:
        w3 = self.client.w3
        # Raw JSON-RPC: web3's result formatters would cost more than the decoding itself.
        logs = _rpc(
            w3,
            "eth_getLogs",
            [{"fromBlock": hex(start), "toBlock": hex(end), "address": list(self._by_address)}],
        )
        blocks = self._blocks(sorted({int(log["blockNumber"], 16) for log in logs} | {end}))
        if blocks is None:
            return 0  # the chain got shorter while we read it; the next pass sees the reorg
        rows: list[dict[str, Any]] = []
        facts: list[tuple[EventFacts, dict[str, Any]]] = []
        positions = sorted(
            (int(log["blockNumber"], 16), int(log["logIndex"], 16), log) for log in logs
        )
        for number, log_index, log in positions:
            block_hash, timestamp = blocks[number]
            if str(log["blockHash"]).lower() != block_hash:
                # The chain changed while we read it; the next pass will see the reorg.
                return 0
            decoded = self._decode_raw(log)
            if decoded is None:
                continue
            contract, name, args = decoded
            department, subject = event_keys(name, args)
            tx_hash = str(log["transactionHash"]).lower()
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
        with Session(self.engine) as session:
            _lock_index(session)
            checkpoint = session.get(IndexerCheckpoint, 1)
            indexed_to = checkpoint.block_number if checkpoint else self.deployment.block_number - 1
            if indexed_to != start - 1:
                return 0  # another gateway instance indexed (part of) this range meanwhile
            if rows:
                session.execute(insert(ChainEvent), rows)  # one multi-row insert per chunk
            _project(session, facts)
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
        return len(rows)

    def _blocks(self, numbers: list[int]) -> dict[int, tuple[str, int]] | None:
        """(hash, timestamp) of each block, in batched requests; None if one no longer exists."""
        provider: Any = self.client.w3.provider
        if not hasattr(provider, "make_batch_request"):
            try:
                return {number: self._block(number) for number in numbers}
            except Web3RPCError:
                return None
        blocks: dict[int, tuple[str, int]] = {}
        for at in range(0, len(numbers), _BLOCK_BATCH):
            part = numbers[at : at + _BLOCK_BATCH]
            answers = provider.make_batch_request(
                [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in part]
            )
            if not isinstance(answers, list) or len(answers) != len(part):  # refused as a whole
                error = answers.get("error") if isinstance(answers, dict) else answers
                raise Web3RPCError(f"batch of block requests refused: {error}")
            for number, answer in zip(part, answers, strict=True):  # web3 sorts them by id
                if answer.get("error") is not None:
                    raise Web3RPCError(str(answer["error"]), rpc_response=answer)
                block = answer.get("result")
                if block is None:
                    return None
                blocks[number] = (str(block["hash"]).lower(), int(block["timestamp"], 16))
        return blocks

    def _decode_raw(self, log: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """A raw ``eth_getLogs`` entry as (contract, event name, JSON-able args); None if unknown."""
        topics = log["topics"]
        if not topics:
            return None
        decoder = self._decoders.get((str(log["address"]).lower(), str(topics[0]).lower()))
        if decoder is None:
            return None
        return decoder.contract, decoder.name, decoder.decode(topics, log["data"])


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
