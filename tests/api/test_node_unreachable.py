"""The chain node cannot be reached (refused, or accepting and never answering): ``/readyz``
says so, reads from the index keep working and say how stale they are, writes are refused
with problem JSON instead of waiting, and everything recovers when the node is back.

The node is cut off for this gateway only, by a TCP proxy between the two (tests/netfault.py);
the session's node runs on for the other tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger import hashing
from tests.api._support import DIBAO, Api, World, assert_problem
from tests.api.test_reads import RULES, policy_file
from tests.netfault import TcpProxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def proxy(world: World) -> Iterator[TcpProxy]:
    port = int(world.rpc_url.rsplit(":", 1)[1])
    proxy = TcpProxy(port)
    yield proxy
    proxy.close()


@pytest.fixture
def cut_off(world: World, proxy: TcpProxy, make_api: Callable[..., Api]) -> Api:
    """杭州市民政局's gateway over the demo world, talking to the node through the proxy (one
    second of JSON-RPC timeout, so a silent node costs a second, not ten)."""
    return make_api(world.settings(rpc_url=proxy.url, rpc_timeout=1.0))


def _verify(api: Api, world: World) -> dict[str, Any]:
    digest = "0x" + hashing.sha256_file(policy_file(world, RULES)).hex()
    body: dict[str, Any] = api.ok("/v1/verify", params={"hash": digest, "with_proof": "true"})
    return body


def _eventually(
    answer: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Ask until ``done`` holds (at most 5 s of 0.1 s pauses); the last answer either way."""
    for _ in range(50):
        body = answer()
        if done(body):
            return body
        time.sleep(0.1)
    return body


def _anchor(api: Api) -> Any:
    leaf = {"content_hash": "0x" + "ab" * 32, "name": "unreachable.pdf"}
    return api.post("/v1/anchors", scope="anchor", json={"dataset": DIBAO, "leaves": [leaf]})


@pytest.mark.parametrize("outage", ["refuse", "blackhole"])
def test_reads_keep_answering_from_the_index_and_writes_are_refused(
    world: World, proxy: TcpProxy, cut_off: Api, outage: str
) -> None:
    api = cut_off
    before = _verify(api, world)
    assert before["anchored"] and before["index"]["node_reachable"] is True
    indexed = before["index"]["block_number"]
    assert isinstance(indexed, int) and indexed > 0
    assert api.client.get("/readyz").status_code == 200

    getattr(proxy, outage)()

    ready = api.client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["ready"] is False and body["node"]["reachable"] is False
    assert body["database"]["reachable"] is True
    assert body["index"]["block_number"] == indexed  # how far the index got: its staleness

    # The chain's head is kept for half a second (head_ttl): answers made from the head read
    # before the outage are still the chain's; the next ones say the node was not reached.
    stale = _eventually(lambda: _verify(api, world), lambda b: not b["index"]["node_reachable"])
    assert stale["anchored"] is True and stale["status"] == "anchored"
    assert stale["index"] == {"block_number": indexed, "node_reachable": False}
    version = stale["matches"][0]["version"]
    assert version["root"] == before["matches"][0]["version"]["root"]
    # Confirmations are counted up to the index's block, never beyond what the chain had.
    assert version["confirmations"] == indexed - version["block_number"] + 1
    assert stale["matches"][0]["proof"]["root"] == version["root"]  # bundle from the index
    assert [d["name"] for d in api.walk("/v1/departments")]  # index-only lists are unaffected

    refused = _anchor(api)
    assert_problem(refused, 503, "node-unavailable")

    proxy.restore()
    ready_again = api.client.get("/readyz")
    assert ready_again.status_code == 200, ready_again.text
    # The verifier leaves an unreachable node alone for a second, then asks it again.
    again = _eventually(lambda: _verify(api, world), lambda b: b["index"]["node_reachable"])
    assert again["anchored"] is True and again["index"]["block_number"] >= indexed
