"""A gateway whose own node does not answer reads from a fallback node of the same chain
(``XIETONG_RPC_FALLBACK_URLS``): ``/readyz`` names the node that answered, and every answer
carries the ``Xietong-Chain-Node`` header while reads come from a fallback.

The gateway's own node is the session node behind a TCP proxy (tests/netfault.py), cut for
this gateway only; its fallback is the session node itself, the same chain and the same
deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from api.app import CHAIN_NODE_HEADER
from ledger import hashing
from tests.api._support import CIVIL, Api, World
from tests.api.test_reads import RULES, policy_file
from tests.netfault import TcpProxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def world(worlds: dict[str, World]) -> World:
    """The SQLite world: the fallback is about the chain, not the database."""
    return worlds["sqlite"]


@pytest.fixture
def own_node(world: World) -> Iterator[TcpProxy]:
    """The gateway's own node: the session node through a proxy the test can cut."""
    proxy = TcpProxy(int(world.rpc_url.rsplit(":", 1)[1]))
    yield proxy
    proxy.close()


@pytest.fixture
def gateway(world: World, own_node: TcpProxy, make_api: Callable[..., Api]) -> Api:
    """杭州市民政局's gateway: its own node, and the session node as its fallback."""
    return make_api(
        world.settings(rpc_url=own_node.url, rpc_fallback_urls=[world.rpc_url], rpc_timeout=1.0)
    )


@pytest.mark.parametrize("node", ["anvil"], indirect=True)
def test_readyz_and_every_answer_say_when_a_fallback_serves(
    world: World, own_node: TcpProxy, gateway: Api
) -> None:
    ready = gateway.ok("/readyz", scope=None)
    assert ready["node"]["url"] == own_node.url and ready["node"]["fallback"] is False
    assert CHAIN_NODE_HEADER not in gateway.get("/v1/departments").headers
    # Its own node is asked first again as soon as it failed (5 s later otherwise).
    gateway.state.gateway.client.w3.provider.retry_failed_after = 0.0

    own_node.refuse()

    answer = gateway.client.get("/readyz")
    assert answer.status_code == 200, answer.text  # still ready: the fallback answers
    node = answer.json()["node"]
    assert node.pop("head_age_seconds") >= 0
    assert node == {
        "reachable": True,
        "head": world.client.block_number(),
        "url": world.rpc_url,
        "fallback": True,
    }
    notice = f"fallback {world.rpc_url}"
    assert answer.headers[CHAIN_NODE_HEADER] == notice
    # Every answer says so, those that read the chain and those that do not.
    department = gateway.get(f"/v1/departments/{CIVIL}")
    assert department.status_code == 200 and department.headers[CHAIN_NODE_HEADER] == notice
    assert gateway.client.get("/healthz").headers[CHAIN_NODE_HEADER] == notice
    digest = "0x" + hashing.sha256_file(policy_file(world, RULES)).hex()
    verified = gateway.get("/v1/verify", params={"hash": digest})
    assert verified.status_code == 200, verified.text
    assert verified.json()["anchored"] is True
    assert verified.json()["index"]["node_reachable"] is True  # the fallback answered
    assert verified.headers[CHAIN_NODE_HEADER] == notice

    own_node.restore()
    back = gateway.ok("/readyz", scope=None)
    assert back["node"]["url"] == own_node.url and back["node"]["fallback"] is False
    assert CHAIN_NODE_HEADER not in gateway.get("/v1/departments").headers
