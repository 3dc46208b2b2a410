"""/healthz, /readyz and /metrics, with everything up, with the node unreachable and with
the database gone (real failures: a closed port, a dropped PostgreSQL database)."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ledger.chain.node import free_port
from tests.api._support import CIVIL, Api, World, assert_problem
from tests.support import PG_ADMIN_URL


def test_readyz_reports_node_database_and_index_lag(api: Api, world: World) -> None:
    body = api.ok("/readyz", scope=None)
    head = world.client.w3.eth.block_number
    assert body["ready"] is True
    age = body["node"].pop("head_age_seconds")
    assert body["node"] == {
        "reachable": True,
        "head": head,
        "url": world.rpc_url,
        "fallback": False,
    }
    # Asked before now, of the same head (no transaction since): no older than it is now (0
    # while a development chain's clock runs ahead of this machine's).
    assert 0 <= age <= max(0, int(time.time()) - int(world.client.head()["timestamp"]))
    assert body["database"] == {"reachable": True}
    index = body["index"]
    assert index["chain_id"] == world.client.chain_id
    assert index["lag_blocks"] == head - index["block_number"] >= 0
    assert api.ok("/healthz", scope=None) == {"status": "ok"}


def test_metrics_count_requests_per_route_and_show_the_index_position(api: Api) -> None:
    api.ok(f"/v1/departments/{CIVIL}")
    api.get("/v1/departments/NO-SUCH-CODE")
    api.get("/v1/no-such-route")
    response = api.get("/metrics")  # a read key (XIETONG_METRICS_SCOPE's default)
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    route = 'route="/v1/departments/{department}"'
    assert f'xietong_http_requests_total{{method="GET",{route},status="200"}} 1.0' in lines
    assert f'xietong_http_requests_total{{method="GET",{route},status="404"}} 1.0' in lines
    assert 'xietong_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in lines
    ready = api.ok("/readyz", scope=None)
    gauges = {
        line.split()[0]: float(line.split()[1])
        for line in lines
        if line.startswith("xietong_") and "{" not in line
    }
    assert gauges["xietong_index_block"] == ready["index"]["block_number"]
    assert gauges["xietong_chain_head_block"] == ready["node"]["head"]
    assert gauges["xietong_index_lag_blocks"] == ready["index"]["lag_blocks"]


def test_an_unreachable_node_makes_the_gateway_unready(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(rpc_url=f"http://127.0.0.1:{free_port()}"))
    response = api.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["node"]["reachable"] is False
    assert body["database"] == {"reachable": True}
    assert api.ok("/healthz", scope=None) == {"status": "ok"}
    # Index-only reads still answer; what needs the node says so.
    assert api.ok(f"/v1/departments/{CIVIL}")["name"] == "杭州市民政局"
    assert_problem(
        api.get("/v1/verify", params={"hash": "0x" + "11" * 32}), 503, "node-unavailable"
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_vanished_database_makes_the_gateway_unready(
    worlds: dict[str, World], database_url: str, make_api: Callable[..., Api]
) -> None:
    api = make_api(worlds["sqlite"].settings(database_url=database_url))
    key = api.key("read")
    name = make_url(database_url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    response = api.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["database"]["reachable"] is False
    assert body["node"]["reachable"] is True
    refused = api.client.get("/v1/departments", headers={"X-API-Key": key})
    assert_problem(refused, 503, "database-unavailable")


def test_a_head_older_than_the_limit_says_the_chain_halted(
    world: World, make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """XIETONG_CHAIN_MAX_HEAD_AGE_SECONDS: the session's Anvil seals only on demand, so its
    head ages like a stopped network's; unset (0), the age is shown and not judged.

    The gateway's clock is read five seconds past the head's time: a development chain that
    mined several blocks in one second runs ahead of this machine's clock, and waiting for it
    took up to half a minute."""
    head_time = int(world.client.head()["timestamp"])
    monkeypatch.setattr("api.routes.health.head_clock", lambda: float(head_time + 5))
    judged = make_api(world.settings(chain_max_head_age_seconds=1))
    unjudged = make_api(world.settings())
    halted = judged.client.get("/readyz")
    assert halted.status_code == 503, halted.text
    assert halted.json()["reasons"] == ["chain-halted"]
    assert halted.json()["node"]["head_age_seconds"] == 5
    fine = unjudged.client.get("/readyz")
    assert fine.status_code == 200 and "chain-halted" not in fine.json()["reasons"]
