"""The verifier's view of the chain, on real nodes: a ChainClient that counts what it asks of the
node (the node answers), a TCP proxy to cut the node off (tests/netfault.py), versions anchored
by the Anchorer, and a clock for the view that moves only when the test moves it. (Reorgs and
outages seen through the gateway: tests/api/test_reorg.py, tests/api/test_node_unreachable.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from web3 import Web3
from web3.types import BlockData, BlockIdentifier

from ledger.anchoring import Anchorer, prepare_path
from ledger.chain.client import ChainClient, connect
from ledger.chain.node import NodeSpec
from ledger.verify import WouldBlockError, _chain_view
from ledger.verify._chain_view import _NODE_RETRY, _RENEW_AT, ChainView, Clock
from ledger.verify._gate import in_memory
from tests.netfault import TcpProxy
from tests.support import Consortium, dataset_of

T = TypeVar("T")

DS_CODE = "CHAIN-VIEW-TEST"
DS = dataset_of("A", DS_CODE)
DS_HEX = "0x" + DS.hex()
OTHER_DS_HEX = "0x" + dataset_of("B", DS_CODE).hex()  # the same code, another owner
#: A root no chain holds, and a block hash no chain holds.
UNKNOWN_ROOT = "0x" + keccak(text="a root never anchored").hex()
OTHER_HASH = "0x" + keccak(text="a block of another branch").hex()
TTL = 8.0  # the views' head_ttl: renewal from 6 s on (3/4), in steps the clock adds exactly
THREADS = 8

#: The database only holds what the Anchorer keeps; the view never reads it, so one kind.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class CountingClient(ChainClient):
    """A ChainClient that records each read it is asked for, then asks the node.

    ``lag`` seconds before each read make the node slow, so that callers asking at once find
    a read under way (only ever a wait: no answer depends on it)."""

    def __init__(self, w3: Web3, addresses: dict[str, str]) -> None:
        super().__init__(w3, addresses)
        self.asked: list[str] = []
        self.lag = 0.0
        self._inner = 0  # head() reads through block(): one read, recorded once

    def _record(self, what: str) -> None:
        if not self._inner:
            self.asked.append(what)
            if self.lag:
                time.sleep(self.lag)

    def head(self) -> BlockData:
        self._record("head")
        self._inner += 1
        try:
            return super().head()
        finally:
            self._inner -= 1

    def block(self, identifier: BlockIdentifier) -> BlockData | None:
        self._record("block")
        return super().block(identifier)

    def block_number(self) -> int:
        self._record("block_number")
        return super().block_number()

    def call(self, contract: str, function: str, *args: Any, block: int | str = "latest") -> Any:
        self._record(function)
        return super().call(contract, function, *args, block=block)


class StoppedClock:
    """``time.monotonic`` and ``time.time`` as the chain view sees them: still until advanced."""

    WALL = 1_750_000_000

    def __init__(self) -> None:
        self.elapsed = 0.0

    def monotonic(self) -> float:
        return 1_000.0 + self.elapsed

    def time(self) -> float:
        return self.WALL + self.elapsed

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> StoppedClock:
    """The chain view's clock (its module's ``time``; everything else keeps the real one)."""
    stopped = StoppedClock()
    monkeypatch.setattr(_chain_view, "time", stopped)
    return stopped


@pytest.fixture
def proxy(node: NodeSpec) -> Iterator[TcpProxy]:
    proxy = TcpProxy(node.port)
    yield proxy
    proxy.close()


def counting(c: Consortium, rpc_url: str | None = None) -> CountingClient:
    """A counting client on the consortium's node, or through ``rpc_url`` (a proxy) with a
    half-second timeout, so a silent node costs half a second."""
    w3 = c.w3 if rpc_url is None else connect(rpc_url, timeout=0.5)
    return CountingClient(w3, c.deployment.addresses)


def view(client: ChainClient, *, head_ttl: float = TTL) -> ChainView:
    return ChainView(client, confirmations=2, head_ttl=head_ttl)


def chain_clock(c: Consortium) -> Clock:
    """The clock the chain's head gives, read now without the view."""
    head = c.client.head()
    return Clock(int(head["timestamp"]), int(head["number"]), reachable=True)


def mine(c: Consortium) -> None:
    c.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def at_once(call: Callable[[], T]) -> list[T]:
    """``call`` made by THREADS threads at once (they all start it together)."""
    start = threading.Barrier(THREADS)

    def together(_: int) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(together, range(THREADS)))


@dataclass(frozen=True)
class Anchored:
    root: str
    block_number: int
    leaf_count: int


@pytest.fixture
def anchored(consortium: Consortium, engine: Engine, tmp_path: Path) -> Anchored:
    """A version of DS (two files) anchored by A with the Anchorer: the chain's head is its block."""
    c = consortium
    c.register_dataset("A", DS_CODE, keccak(text="meta"))
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "report.txt").write_text("2026 年度报告\n", encoding="utf-8")
    (folder / "table.csv.txt").write_text("a,b\n1,2\n", encoding="utf-8")
    version = Anchorer(c.client, engine, c.ops["A"]).anchor(prepare_path(folder, DS))
    assert version.status == "confirmed" and version.block_number is not None
    assert c.client.block_number() == version.block_number
    return Anchored(version.root, version.block_number, version.leaf_count)


# ---------------------------------------------------------------------------- the head


def test_the_head_is_read_once_per_ttl(consortium: Consortium, clock: StoppedClock) -> None:
    client = counting(consortium)
    chain = view(client)
    first = chain.clock(7)
    assert first == chain_clock(consortium)
    mine(consortium)
    clock.advance(TTL * _RENEW_AT - 0.5)
    assert chain.clock(7) == first  # kept, though the chain has moved on
    assert client.asked == ["head"]
    clock.advance(1.0)  # past 3/4 of the ttl: read anew, by one of the callers asking at once
    client.lag = 0.2  # the others find the read under way: they wait for it and take it
    answers = at_once(lambda: chain.clock(7))
    client.lag = 0.0
    assert answers == [chain_clock(consortium)] * THREADS
    assert answers[0].head == first.head + 1  # type: ignore[operator]
    assert client.asked == ["head"] * 2
    every_time = view(client, head_ttl=0.0)
    every_time.clock(7)
    every_time.clock(7)
    assert client.asked == ["head"] * 4


def test_one_caller_claims_the_renewal_of_the_head(
    consortium: Consortium, clock: StoppedClock
) -> None:
    client = counting(consortium)
    chain = view(client)

    def from_memory() -> Clock | None:
        with in_memory():
            try:
                return chain.clock(7)
            except WouldBlockError:
                return None

    first = chain.clock(7)
    mine(consortium)
    clock.advance(TTL * _RENEW_AT + 0.5)  # renewal due, the head not expired yet
    answers = at_once(from_memory)
    # One caller claims the renewal (it is to read the head outside memory); the others take
    # the head kept, without waiting.
    assert answers.count(None) == 1
    assert [a for a in answers if a is not None] == [first] * (THREADS - 1)
    assert client.asked == ["head"]
    renewed = chain.clock(7)  # the claimer, outside memory
    assert renewed == chain_clock(consortium) and renewed.head == first.head + 1  # type: ignore[operator]
    assert from_memory() == renewed
    assert client.asked == ["head"] * 2
    # The read released the claim: at the next renewal, one caller claims it again.
    clock.advance(TTL * _RENEW_AT + 0.5)
    assert [from_memory(), from_memory()] == [None, renewed]
    # Once the head expires, no one in memory takes it.
    clock.advance(TTL)
    assert [from_memory(), from_memory()] == [None, None]
    assert client.asked == ["head"] * 2


def test_in_memory_refuses_to_wait_for_the_node(deployed: Consortium, clock: StoppedClock) -> None:
    client = counting(deployed)
    chain = view(client)
    head = deployed.client.head()
    generation = (int(head["number"]), head["hash"].to_0x_hex())
    reachable = Clock(0, int(head["number"]), reachable=True)
    with in_memory():
        with pytest.raises(WouldBlockError, match="the chain node"):
            chain.clock(7)
        with pytest.raises(WouldBlockError):
            chain.index_on_chain(generation)
        with pytest.raises(WouldBlockError):
            chain.holds(DS_HEX, UNKNOWN_ROOT, 1, reachable, trusted=True)
        with pytest.raises(WouldBlockError):
            chain.final_version(DS_HEX, UNKNOWN_ROOT)
        # Without the node, the index is the answer: nothing to wait for.
        assert chain.holds(DS_HEX, UNKNOWN_ROOT, 1, Clock(0, 7, reachable=False), trusted=True)
    assert client.asked == []
    kept = chain.clock(7)
    assert chain.index_on_chain(generation)
    with in_memory():
        assert chain.clock(7) == kept == chain_clock(deployed)  # kept: no wait
        assert chain.index_on_chain(generation)
    assert client.asked == ["head", "block"]


# ---------------------------------------------------------------------------- the node down


@pytest.mark.parametrize("outage", ["refuse", "blackhole"])
def test_a_node_that_does_not_answer_is_left_alone_for_a_moment(
    deployed: Consortium, proxy: TcpProxy, clock: StoppedClock, outage: str
) -> None:
    client = counting(deployed, proxy.url)
    chain = view(client, head_ttl=0.0)  # the head is asked for each time the node is asked
    assert chain.clock(7) == chain_clock(deployed)  # through the proxy, the node answers
    getattr(proxy, outage)()

    first, second = chain.clock(7), chain.clock(7)
    assert first == second == Clock(StoppedClock.WALL, 7, reachable=False)
    assert client.asked == ["head"] * 2  # the second answer did not ask again
    assert not chain.reachable()
    # Without the node, the index is the answer.
    assert chain.holds(DS_HEX, UNKNOWN_ROOT, 5, first, trusted=True)
    clock.advance(_NODE_RETRY / 2)
    assert not chain.reachable() and not chain.clock(7).reachable
    assert client.asked == ["head"] * 2

    # After the back-off the node is asked again; each failure backs off anew.
    clock.advance(_NODE_RETRY)
    assert chain.reachable()
    assert chain.clock(7) == Clock(int(clock.time()), 7, reachable=False)
    assert not chain.reachable()
    clock.advance(_NODE_RETRY * 2)
    assert chain.index_on_chain((1, OTHER_HASH))  # not denied for want of the node
    assert not chain.reachable()
    clock.advance(_NODE_RETRY * 2)
    assert chain.holds(DS_HEX, UNKNOWN_ROOT, 5, Clock(0, 10, reachable=True), trusted=True)
    assert not chain.reachable()
    assert client.asked == ["head"] * 3 + ["block", "version"]

    proxy.restore()
    assert not chain.reachable() and not chain.clock(7).reachable  # still left alone
    clock.advance(_NODE_RETRY * 2)
    assert chain.clock(7) == chain_clock(deployed)
    # The node answers those two now.
    assert not chain.index_on_chain((1, OTHER_HASH))
    assert not chain.holds(DS_HEX, UNKNOWN_ROOT, 5, Clock(0, 10, reachable=True), trusted=True)
    assert client.asked == ["head"] * 3 + ["block", "version", "head", "block", "version"]


# ---------------------------------------------------------------------------- the index


def test_the_index_is_on_chain_while_the_chain_holds_its_block(
    deployed: Consortium, clock: StoppedClock
) -> None:
    client = counting(deployed)
    chain = view(client)
    head = deployed.client.head()
    number = int(head["number"])
    generation = (number, head["hash"].to_0x_hex())
    client.lag = 0.2  # callers asking at once find the read under way and take what it read
    assert at_once(lambda: chain.index_on_chain(generation)) == [True] * THREADS
    client.lag = 0.0
    assert chain.index_on_chain(generation)
    assert client.asked == ["block"]  # kept for this generation, read by one caller
    assert not chain.index_on_chain((number, OTHER_HASH))  # another block at that height
    assert not chain.index_on_chain((number, OTHER_HASH))
    assert not chain.index_on_chain((number + 1_000, generation[1]))  # the chain got shorter
    assert client.asked == ["block"] * 3
    assert chain.index_on_chain(generation)  # a generation again: asked again
    clock.advance(TTL - 0.5)
    assert chain.index_on_chain(generation)
    assert client.asked == ["block"] * 4
    clock.advance(1.0)  # kept for head_ttl
    assert chain.index_on_chain(generation)
    assert client.asked == ["block"] * 5
    assert chain.index_on_chain(None)  # no index yet
    assert client.asked == ["block"] * 5


# ---------------------------------------------------------------------------- versions


@sqlite_only
def test_a_version_is_kept_once_final_and_trusted(
    consortium: Consortium, anchored: Anchored, clock: StoppedClock
) -> None:
    client = counting(consortium)
    chain = view(client)
    root, block = anchored.root, anchored.block_number
    at_head = chain.clock(block)
    assert at_head.head == block  # one confirmation: not final
    assert chain.holds(DS_HEX, root, block, at_head, trusted=True)
    assert chain.holds(DS_HEX, root, block, at_head, trusted=True)
    assert client.asked == ["head", "version", "version"]

    mine(consortium)
    clock.advance(TTL)
    final = chain.clock(block)
    assert final.head == block + 1  # two confirmations
    client.asked.clear()
    assert chain.holds(
        DS_HEX, root, block, final, trusted=False
    )  # the index is off the chain: ask again
    assert chain.holds(DS_HEX, root, block, final, trusted=False)
    assert chain.holds(DS_HEX, root, block, final, trusted=True)
    assert client.asked == ["version"] * 3
    assert chain.holds(DS_HEX, root, block, final, trusted=True)
    assert chain.holds(DS_HEX, root, block, at_head, trusted=True)
    with in_memory():
        assert chain.holds(DS_HEX, root, block, final, trusted=True)  # kept: no wait
    assert client.asked == ["version"] * 3
    assert not chain.holds(
        DS_HEX, root, block + 1, final, trusted=False
    )  # anchored at another block
    assert not chain.holds(DS_HEX, UNKNOWN_ROOT, block, final, trusted=True)  # not on this chain
    # A version is (dataset, root): the root kept final for DS says nothing of another dataset.
    assert not chain.holds(OTHER_DS_HEX, root, block, final, trusted=True)
    assert client.asked == ["version"] * 6


@sqlite_only
def test_a_final_version_read_now(
    consortium: Consortium, anchored: Anchored, proxy: TcpProxy, clock: StoppedClock
) -> None:
    c = consortium
    client = counting(c, proxy.url)
    chain = view(client)
    root, block = anchored.root, anchored.block_number
    assert chain.final_version(DS_HEX, root) is None  # one confirmation
    assert client.asked == ["version", "block_number"]
    mine(c)
    anchored_at = int(c.w3.eth.get_block(block)["timestamp"])
    record = chain.final_version(DS_HEX, root)
    assert record is not None
    fields = (record.leaf_count, record.anchored_at, record.block_number)
    assert fields == (anchored.leaf_count, anchored_at, block) and record.revoked_at == 0
    assert chain.final_version(DS_HEX, UNKNOWN_ROOT) is None
    assert chain.final_version(OTHER_DS_HEX, root) is None
    # Read now, nothing kept: a revocation shows at once.
    tx = c.transact(
        "DatasetRegistry",
        "revokeVersion",
        DS,
        bytes.fromhex(root[2:]),
        keccak(text="error"),
        sender=c.ops["A"],
    )
    revoked_at = int(c.w3.eth.get_block(tx.block_number)["timestamp"])
    revoked = chain.final_version(DS_HEX, root)
    assert revoked is not None and revoked.revoked_at == revoked_at > 0
    proxy.refuse()
    assert chain.final_version(DS_HEX, root) is None
    read = ["version", "block_number"]
    assert client.asked == read + read + ["version"] * 2 + read + ["version"]
