"""Fallback nodes (ledger/chain/_fallback.py): a gateway reads from another node of the same
chain while its own does not answer, skips its own node for a while after it failed, comes
back to it, names every node tried when none answers, and refuses a node of another chain.

Real Anvil nodes, started and stopped here; two Anvil nodes of one chain id do not share
blocks, so each test mines a few blocks on the fallback to tell by the head which node
answered."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint

from ledger.chain import ServingNode
from ledger.chain._fallback import FallbackProvider, node_origin
from ledger.chain.client import ChainClient, connect, wait_for_rpc
from ledger.chain.node import CHAIN_ID, NodeSpec, free_port, node_command
from ledger.chain.node import start_node as start
from ledger.chain.node import stop_node as stop
from ledger.errors import ChainUnavailableError, ConfigurationError
from ledger.keys import dev_account
from ledger.paths import HARDHAT_DIR
from tests.support import reply_json

pytestmark = pytest.mark.timeout(120)

FALLBACK_HEAD = 3  # blocks mined on the fallback: its head tells its answers apart


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[NodeSpec]:
    """The department's own node (stopped and started again by the tests)."""
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=tmp_path / "primary")
    start(spec)
    try:
        yield spec
    finally:
        stop(spec)


@pytest.fixture
def fallback(tmp_path: Path) -> Iterator[NodeSpec]:
    """Another node of the same chain id, ``FALLBACK_HEAD`` blocks ahead of the primary."""
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=tmp_path / "fallback")
    start(spec)
    try:
        Web3(Web3.HTTPProvider(spec.rpc_url)).provider.make_request(
            RPCEndpoint("anvil_mine"), [hex(FALLBACK_HEAD)]
        )
        yield spec
    finally:
        stop(spec)


@contextlib.contextmanager
def anvil_of_chain(chain_id: int, state_dir: Path) -> Iterator[str]:
    """An Anvil node of chain ``chain_id`` (node_command's, with another ``--chain-id``)."""
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=state_dir)
    command = node_command(spec)
    command[command.index("--chain-id") + 1] = str(chain_id)
    process = subprocess.Popen(
        command, cwd=HARDHAT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_rpc(spec.rpc_url, timeout=30, is_alive=lambda: process.poll() is None)
        yield spec.rpc_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def over(
    primary: str, *fallbacks: str, clock: Clock | None = None
) -> tuple[Web3, FallbackProvider]:
    """A Web3 over ``primary`` with ``fallbacks``, and its provider (on ``clock``)."""
    provider = FallbackProvider(primary, fallbacks, timeout=2, clock=clock or Clock())
    return Web3(provider), provider


def test_the_primary_serves_while_it_answers(primary: NodeSpec, fallback: NodeSpec) -> None:
    w3, provider = over(primary.rpc_url, fallback.rpc_url)
    assert w3.eth.block_number == 0  # the primary's head, not the fallback's
    assert provider.serving() == ServingNode(url=primary.rpc_url, fallback=False)
    assert provider.chain_id == CHAIN_ID


def test_a_stopped_primary_gives_way_to_the_fallback_for_every_kind_of_request(
    primary: NodeSpec, fallback: NodeSpec
) -> None:
    w3 = connect(primary.rpc_url, timeout=2, fallbacks=[fallback.rpc_url])
    client = ChainClient(w3, {})
    assert client.block_number() == 0
    stop(primary)

    assert client.block_number() == FALLBACK_HEAD
    assert client.serving_node() == ServingNode(url=fallback.rpc_url, fallback=True)
    # Raw requests and batches (the anchorer's and the indexer's) take the same way.
    assert int(client.request("eth_blockNumber", []), 16) == FALLBACK_HEAD
    answers = w3.provider.make_batch_request(  # type: ignore[attr-defined]
        [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in (1, 2)]
    )
    assert [int(a["result"]["number"], 16) for a in answers] == [1, 2]

    # A transaction signed here goes out raw through the fallback (no node signs for us).
    sender: LocalAccount = dev_account(1)
    tx: dict[str, Any] = {
        "to": dev_account(2).address,
        "value": 1,
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(sender.address),
        "chainId": CHAIN_ID,
    }
    sent = client.send_raw(bytes(sender.sign_transaction(tx).raw_transaction))
    assert sent.block_number == FALLBACK_HEAD + 1


def test_a_primary_down_at_connect_is_not_needed(primary: NodeSpec, fallback: NodeSpec) -> None:
    stop(primary)
    w3 = connect(primary.rpc_url, timeout=2, fallbacks=[fallback.rpc_url])
    assert w3.eth.chain_id == CHAIN_ID
    assert ChainClient(w3, {}).serving_node().fallback is True


def test_the_primary_is_skipped_after_a_failure_then_served_again(
    primary: NodeSpec, fallback: NodeSpec
) -> None:
    clock = Clock()
    w3, provider = over(primary.rpc_url, fallback.rpc_url, clock=clock)
    assert w3.eth.block_number == 0
    stop(primary)
    assert w3.eth.block_number == FALLBACK_HEAD
    start(primary)

    # Back, but within the window after its failure it is not asked: reads stay where they are.
    clock.now += provider.retry_failed_after / 2
    assert w3.eth.block_number == FALLBACK_HEAD
    assert provider.serving().fallback is True

    clock.now += provider.retry_failed_after
    assert w3.eth.block_number == 0
    assert provider.serving() == ServingNode(url=primary.rpc_url, fallback=False)


def test_no_node_answering_names_every_node_tried(primary: NodeSpec, fallback: NodeSpec) -> None:
    w3, _ = over(primary.rpc_url, fallback.rpc_url)
    stop(primary)
    stop(fallback)
    expected = (
        f"the chain nodes at {primary.rpc_url}, {fallback.rpc_url} do not answer (ConnectionError)."
    )
    with pytest.raises(ChainUnavailableError) as info:
        w3.eth.block_number  # noqa: B018
    assert str(info.value) == expected
    with pytest.raises(ChainUnavailableError) as at_connect:
        connect(primary.rpc_url, timeout=2, fallbacks=[fallback.rpc_url])
    assert str(at_connect.value) == expected


def test_a_fallback_down_at_connect_is_checked_when_it_serves(primary: NodeSpec) -> None:
    missing = f"http://127.0.0.1:{free_port()}"
    w3 = connect(primary.rpc_url, timeout=2, fallbacks=[missing])
    assert w3.eth.block_number == 0


def test_a_fallback_of_another_chain_is_refused(primary: NodeSpec, tmp_path: Path) -> None:
    with anvil_of_chain(CHAIN_ID + 1, tmp_path / "foreign") as foreign:
        with pytest.raises(ConfigurationError) as refused:
            connect(primary.rpc_url, timeout=2, fallbacks=[foreign])
        assert str(refused.value) == (
            f"the fallback node {foreign} serves chain {CHAIN_ID + 1}, not chain {CHAIN_ID}: "
            "XIETONG_RPC_FALLBACK_URLS must name nodes of the chain XIETONG_RPC_URL serves."
        )

        # One that was down at connect is refused when it would serve: never read from.
        w3, _ = over(primary.rpc_url, foreign)
        assert w3.eth.block_number == 0
        stop(primary)
        with pytest.raises(ChainUnavailableError) as info:
            w3.eth.block_number  # noqa: B018
        assert str(info.value) == (
            f"the chain node at {primary.rpc_url} does not answer (ConnectionError); the chain "
            f"node {foreign} is refused: it serves chain {CHAIN_ID + 1}, not chain {CHAIN_ID}."
        )


class _NotANode(BaseHTTPRequestHandler):
    """An HTTP server that answers every JSON-RPC request without a result."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"jsonrpc": "2.0", "id": 0, "result": null}'
        reply_json(self, body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


def test_a_fallback_that_does_not_name_its_chain_is_refused(primary: NodeSpec) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotANode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    garbage = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ConfigurationError) as refused:
            connect(primary.rpc_url, timeout=2, fallbacks=[garbage])
    finally:
        server.shutdown()
        server.server_close()
    assert str(refused.value) == (
        f"the fallback node {garbage} does not say which chain it serves: "
        "XIETONG_RPC_FALLBACK_URLS must name nodes of the chain XIETONG_RPC_URL serves."
    )


def test_shown_urls_keep_only_the_origin() -> None:
    assert node_origin("https://user:secret@rpc.example:8443/v3/KEY?x=1") == (
        "https://rpc.example:8443"
    )
