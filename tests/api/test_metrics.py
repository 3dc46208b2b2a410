"""``/metrics``: what a scrape costs (node requests and database queries, counted on the real
node's provider and the real engine), who may read it (``XIETONG_METRICS_SCOPE``), and its own
listen address (``XIETONG_METRICS_ADDRESS``) on a real ``xietong serve``."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session
from web3.middleware import Web3Middleware

from api import create_app
from ledger.chain.node import free_port
from ledger.db.tables import IndexerCheckpoint
from ledger.settings import Settings
from tests.api._serving import Served
from tests.api._support import CIVIL_DEV, Api, World, assert_problem
from tests.support import gateway_environment

pytestmark = pytest.mark.timeout(180)

SCRAPES = 50
#: The serve loops' threads (api/app.py names each "xietong-…": the indexer, the anchorer,
#: the webhooks and the checkpoints); a request is answered on another thread.
BACKGROUND = "xietong-"


def gauges(text: str) -> dict[str, float]:
    """The unlabelled xietong_ samples of a Prometheus text exposition."""
    return {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("xietong_") and "{" not in line
    }


class Cost:
    """Node requests and database statements made by the threads answering requests (the
    background loops' own are left out), counted in the app's real web3 (a middleware) and
    on its real engine (an event listener)."""

    def __init__(self) -> None:
        self.node: list[str] = []
        self.database: list[str] = []

    @staticmethod
    def _counted() -> bool:
        return not threading.current_thread().name.startswith(BACKGROUND)

    @contextmanager
    def counting(self, state: Any) -> Iterator[None]:
        cost = self

        class CountingMiddleware(Web3Middleware):
            def wrap_make_request(self, make_request: Any) -> Any:
                def counted(method: Any, params: Any) -> Any:
                    if cost._counted():
                        cost.node.append(str(method))
                    return make_request(method, params)

                return counted

        def counted_statement(*args: Any) -> None:
            if self._counted():
                self.database.append(str(args[2]))

        onion = state.gateway.client.w3.middleware_onion
        engine = state.gateway.engine
        onion.add(CountingMiddleware, name="count")
        event.listen(engine, "before_cursor_execute", counted_statement)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", counted_statement)
            onion.remove("count")


def scrape(client: TestClient, times: int, headers: dict[str, str] | None = None) -> str:
    text = ""
    for _ in range(times):
        response = client.get("/metrics", headers=headers or {})
        assert response.status_code == 200, response.text
        text = response.text
    return text


# ---------------------------------------------------------------------------- cost


def test_a_burst_of_scrapes_reads_the_node_and_the_database_once(
    world: World, make_api: Callable[..., Api]
) -> None:
    api = make_api(world.settings(metrics_scope="none", metrics_refresh_seconds=3600))
    cost = Cost()
    with cost.counting(api.state):
        text = scrape(api.client, SCRAPES)
    assert cost.node == ["eth_blockNumber"]
    assert len(cost.database) == 1 and "indexer_checkpoint" in cost.database[0].lower()
    # The numbers are the node's and the index's.
    with Session(api.state.gateway.engine) as session:
        checkpoint = session.get(IndexerCheckpoint, 1)
    assert checkpoint is not None
    shown = gauges(text)
    head = world.client.w3.eth.block_number
    assert shown["xietong_chain_head_block"] == head
    assert shown["xietong_index_block"] == checkpoint.block_number
    assert shown["xietong_index_lag_blocks"] == head - checkpoint.block_number


def test_without_a_refresh_interval_every_scrape_reads_them(
    world: World, make_api: Callable[..., Api]
) -> None:
    # What the cache saves: the same burst with an interval of 0 reads on every scrape.
    api = make_api(world.settings(metrics_scope="none", metrics_refresh_seconds=0))
    cost = Cost()
    with cost.counting(api.state):
        scrape(api.client, SCRAPES)
    assert cost.node == ["eth_blockNumber"] * SCRAPES
    assert len(cost.database) == SCRAPES


def test_concurrent_scrapes_read_once(world: World, make_api: Callable[..., Api]) -> None:
    api = make_api(world.settings(metrics_scope="none", metrics_refresh_seconds=3600))
    cost = Cost()
    failures: list[int] = []

    def scraper() -> None:
        for _ in range(SCRAPES // 10):
            status = api.client.get("/metrics").status_code
            if status != 200:
                failures.append(status)

    with cost.counting(api.state):
        threads = [threading.Thread(target=scraper) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert cost.node == ["eth_blockNumber"]
    assert len(cost.database) == 1


def test_under_serve_the_indexer_loop_supplies_the_position(world: World) -> None:
    # The loop passes once (then waits an hour): scrapes take its numbers, no round trip.
    settings = world.settings(
        metrics_scope="none", metrics_refresh_seconds=3600, index_interval=3600
    )
    app = create_app(settings, background=True)
    state = app.state.xietong
    try:
        with TestClient(app) as client:
            for _ in range(600):
                if state.index_health.last_result is not None:
                    break
                state.stopping.wait(0.1)
            result = state.index_health.last_result
            assert result is not None, state.index_health.snapshot()
            cost = Cost()
            with cost.counting(state):
                text = scrape(client, SCRAPES)
            assert cost.node == [] and cost.database == []
            shown = gauges(text)
            assert shown["xietong_chain_head_block"] == result.head
            assert shown["xietong_index_block"] == result.to_block
    finally:
        state.gateway.engine.dispose()


# ---------------------------------------------------------------------------- who may read


def test_metrics_need_a_read_key_by_default(world: World, make_api: Callable[..., Api]) -> None:
    assert Settings(_env_file=None).metrics_scope == "read"  # type: ignore[call-arg]
    api = make_api(world.settings())
    assert_problem(api.get("/metrics", scope=None), 401, "unauthorized")
    assert_problem(api.get("/metrics", headers={"X-API-Key": "xt_wrong"}), 401, "unauthorized")
    response = api.get("/metrics", scope="read")
    assert response.status_code == 200
    assert "xietong_http_requests_total" in response.text
    assert 'xietong_http_request_seconds_count{route="/metrics"}' in response.text
    # As Prometheus sends it (`authorization: {credentials: xt_…}`): a bearer token.
    key = api.headers("read")["X-API-Key"]
    bearer = api.get("/metrics", scope=None, headers={"Authorization": f"Bearer {key}"})
    assert bearer.status_code == 200 and "xietong_index_block" in bearer.text


@pytest.mark.parametrize("scope", ["anchor", "admin"])
def test_a_key_below_the_metrics_scope_is_forbidden(
    world: World, make_api: Callable[..., Api], scope: str
) -> None:
    api = make_api(world.settings(metrics_scope=scope))
    assert_problem(api.get("/metrics", scope=None), 401, "unauthorized")
    below = {"anchor": ["read", "watch"], "admin": ["read", "anchor", "watch"]}[scope]
    for lower in below:
        body = assert_problem(api.get("/metrics", scope=lower), 403, "forbidden")
        assert scope in body["detail"]
    assert api.get("/metrics", scope=scope).status_code == 200
    if scope == "anchor":
        assert api.get("/metrics", scope="admin").status_code == 200


def test_metrics_scope_none_opens_them(world: World, make_api: Callable[..., Api]) -> None:
    api = make_api(world.settings(metrics_scope="none"))
    assert api.get("/metrics", scope=None).status_code == 200


def test_open_reads_open_read_scoped_metrics_only(
    world: World, make_api: Callable[..., Api]
) -> None:
    # A read scope is as open as the read routes; a wider scope never is.
    api = make_api(world.settings(api_open_reads=True))
    assert api.get("/metrics", scope=None).status_code == 200
    closed = make_api(world.settings(api_open_reads=True, metrics_scope="admin"))
    assert_problem(closed.get("/metrics", scope=None), 401, "unauthorized")


def test_the_document_says_what_metrics_need(world: World, make_api: Callable[..., Api]) -> None:
    guarded = make_api(world.settings(metrics_scope="admin")).client.get("/openapi.json").json()
    operation = guarded["paths"]["/metrics"]["get"]
    assert {"401", "403", "429"} <= set(operation["responses"])
    assert "`admin`" in operation["description"]
    open_ = make_api(world.settings(metrics_scope="none")).client.get("/openapi.json").json()
    assert set(open_["paths"]["/metrics"]["get"]["responses"]) == {"200"}


# ---------------------------------------------------------------------------- own address


def test_metrics_on_their_own_address_and_not_on_the_api_port(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    world = worlds["sqlite"]
    key = world.api_key("admin", "metrics address test")
    metrics_port = free_port()
    served = Served.on(world, tmp_path, XIETONG_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}")
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        served.wait_until_up()
        answered = httpx.get(served.url + "/v1/departments", headers={"X-API-Key": key})
        assert answered.status_code == 200
        # On the API's port /metrics is an unknown route, with any key.
        refused = httpx.get(served.url + "/metrics", headers={"X-API-Key": key})
        assert_problem(refused, 404, "not-found")
        assert "/metrics" not in httpx.get(served.url + "/openapi.json").json()["paths"]
        # On its own address, without a key: the API's counters and the indexer's position.
        text = served.eventually(
            "the index position in the metrics",
            lambda: (
                (r := httpx.get(metrics_url)).status_code == 200
                and "xietong_index_block " in r.text
                and r.text
            ),
        )
    finally:
        served.stop()
    lines = text.splitlines()
    route = 'route="/v1/departments"'
    assert f'xietong_http_requests_total{{method="GET",{route},status="200"}} 1.0' in lines
    assert 'xietong_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in lines
    shown = gauges(text)
    assert shown["xietong_chain_head_block"] >= shown["xietong_index_block"] > 0
    assert "Traceback" not in served.text()


def _serve(
    world: World, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": world.rpc_url,
        "XIETONG_DATABASE_URL": world.database_url,
        "XIETONG_DEPLOYMENT": str(world.manifest),
        "XIETONG_DEV_ACCOUNT": str(CIVIL_DEV),
        **env,
    }
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("xietong")),
            "serve",
            "--port",
            str(free_port()),
            *args,
        ],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    sentence = " ".join(result.stderr.split())
    assert sentence.startswith("error: XIETONG_METRICS_ADDRESS"), result.stderr
    return sentence


def test_serve_refuses_a_metrics_address_with_several_workers(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = _serve(worlds["sqlite"], tmp_path, "--workers", "2", XIETONG_METRICS_ADDRESS=address)
    sentence = _refusal(result)
    assert f"({address}) serves the metrics of one process" in sentence
    assert "one of the 2 workers" in sentence


def test_serve_refuses_a_metrics_address_it_cannot_bind(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = _serve(worlds["sqlite"], tmp_path, XIETONG_METRICS_ADDRESS=address)
    sentence = _refusal(result)
    assert f"({address}) cannot be bound: Address already in use." in sentence


@pytest.mark.parametrize("address", ["9100", "localhost", "127.0.0.1:99999", "a b:1"])
def test_a_malformed_metrics_address_is_one_sentence(
    worlds: dict[str, World], tmp_path: Path, address: str
) -> None:
    sentence = _refusal(_serve(worlds["sqlite"], tmp_path, XIETONG_METRICS_ADDRESS=address))
    assert sentence.startswith("error: XIETONG_METRICS_ADDRESS is invalid:"), sentence
