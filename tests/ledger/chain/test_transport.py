"""The one boundary where a node that does not answer becomes ChainUnavailableError, and the
client's block reads over it (on a real node, then through a proxy cut from it)."""

from __future__ import annotations

import pytest
import requests

from ledger.chain.client import ChainClient, connect
from ledger.chain.node import NodeSpec
from ledger.chain.transport import UNREACHABLE, node_errors
from ledger.errors import ChainError, ChainUnavailableError
from tests.netfault import TcpProxy
from tests.support import Consortium


@pytest.mark.parametrize("failure", list(UNREACHABLE), ids=lambda kind: kind.__name__)
def test_each_transport_failure_becomes_chain_unavailable(failure: type[Exception]) -> None:
    cause = failure("connection dropped")
    with pytest.raises(ChainUnavailableError) as info, node_errors():
        raise cause
    assert str(info.value) == f"the chain node does not answer ({failure.__name__})."
    assert info.value.__cause__ is cause


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(ValueError, match="not a transport failure"), node_errors():
        raise ValueError("not a transport failure")
    refused = ChainError("the chain node refused the request: nonce too low")
    with pytest.raises(ChainError) as info, node_errors():
        raise refused
    assert info.value is refused


def test_blocks_by_number_and_beyond_the_head(deployed: Consortium) -> None:
    client = deployed.client
    head = client.head()
    assert client.block_number() == int(head["number"])
    block = client.block(int(head["number"]))
    assert block is not None and block["hash"] == head["hash"]
    assert client.block(int(head["number"]) + 1_000) is None


def test_raw_requests_answer_results_and_errors(deployed: Consortium) -> None:
    client = deployed.client
    assert int(client.request("eth_chainId", []), 16) == client.chain_id
    with pytest.raises(ChainError, match="refused eth_noSuchMethod") as info:
        client.request("eth_noSuchMethod", [])
    assert not isinstance(info.value, ChainUnavailableError)


def test_every_read_of_a_cut_node_is_chain_unavailable(
    node: NodeSpec, deployed: Consortium
) -> None:
    proxy = TcpProxy(node.port)
    try:
        client = ChainClient(connect(proxy.url, timeout=0.5), deployed.deployment.addresses)
        proxy.refuse()
        reads = {
            "block_number": client.block_number,
            "head": client.head,
            "block": lambda: client.block(0),
            "request": lambda: client.request("eth_blockNumber", []),
            "call": lambda: client.call("DepartmentRegistry", "departmentCount"),
        }
        for name, read in reads.items():
            with pytest.raises(ChainUnavailableError, match=r"does not answer \(") as info:
                read()
            assert isinstance(info.value.__cause__, requests.ConnectionError), name
    finally:
        proxy.close()
