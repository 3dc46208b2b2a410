"""The chain client's failure paths: mined failures, node refusals, unreachable nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from eth_account import Account
from web3 import Web3

from ledger.chain.client import ChainClient, connect
from ledger.chain.node import NodeSpec, free_port, start_node, stop_node
from ledger.errors import ChainError, ChainUnavailableError, ContractRevertError
from tests.support import Consortium


def test_transaction_mined_as_failed_is_decoded(consortium: Consortium) -> None:
    """With an explicit gas limit no estimate runs: the failing transaction is mined with
    status 0 and the client replays it to name the error."""
    c = consortium
    before = c.w3.eth.block_number
    with pytest.raises(ContractRevertError) as info:
        c.client.transact(
            "DatasetRegistry",
            "registerDataset",
            b"\x01" * 32,
            b"\x00" * 32,
            sender=c.spare(9),
            gas=200_000,
        )
    assert info.value.error_name == "DepartmentRegistryNotOperator"
    assert info.value.error_args == {"account": c.spare(9).address}
    assert c.w3.eth.block_number == before + 1  # it was mined, and failed
    receipt = c.w3.eth.get_block(before + 1, full_transactions=True)
    assert len(receipt["transactions"]) == 1


def test_node_refusal_is_a_chain_error(consortium: Consortium) -> None:
    pauper = Account.create()  # no balance: the node refuses the transaction
    c = consortium
    with pytest.raises(ChainError) as info:
        c.client.transact(
            "DatasetRegistry",
            "registerDataset",
            b"\x01" * 32,
            b"\x00" * 32,
            sender=pauper,
            gas=100_000,
        )
    assert not isinstance(info.value, ContractRevertError)
    assert "refused" in str(info.value)


def test_unreachable_node() -> None:
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        connect(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_client_over_a_dead_node() -> None:
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        ChainClient(w3, {})


def test_node_that_goes_away(deployed: Consortium, tmp_path: Path) -> None:
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=tmp_path)
    start_node(spec)
    try:
        client = ChainClient(connect(spec.rpc_url), deployed.deployment.addresses)
    finally:
        stop_node(spec)
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        client.call("DepartmentRegistry", "departmentCount")
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        client.transact(
            "DatasetRegistry",
            "registerDataset",
            b"\x01" * 32,
            b"\x00" * 32,
            sender=deployed.ops["A"],
        )


def test_a_silent_node_fails_in_one_request_without_retries(node: NodeSpec) -> None:
    """A node that accepts and never answers costs one timeout, not web3's five retries."""
    from tests.netfault import TcpProxy

    proxy = TcpProxy(node.port)
    try:
        w3 = connect(proxy.url, timeout=0.5)
        proxy.blackhole()
        with pytest.raises((requests.Timeout, requests.ConnectionError)):
            w3.eth.block_number  # noqa: B018 - the kept-alive connection was cut, or a timeout
        before = proxy.accepted
        with pytest.raises(requests.Timeout):
            w3.eth.block_number  # noqa: B018
        assert proxy.accepted - before == 1
        proxy.refuse()
        with pytest.raises(requests.ConnectionError):
            w3.eth.block_number  # noqa: B018
    finally:
        proxy.close()
