"""The API under test: the demo scenario played once per node and database engine on its own
deployment of the local founders, read-only apps over it, and for writes the same chain
under snapshot/revert with a fresh, freshly indexed database."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from api import create_app
from ledger.chain.client import ChainClient
from ledger.chain.deploy import deploy, load_founders
from ledger.chain.node import NodeSpec
from ledger.demo import run_demo
from ledger.gateway import Gateway
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from tests.api._support import Api, World, keep_demo_descriptions
from tests.support import DB_KINDS, chain_snapshot, fresh_database


@pytest.fixture(scope="session")
def worlds(
    node: NodeSpec, w3: Web3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, World]]:
    """One demo world per database engine on this node.

    Played at session scope, outside any snapshot, so every later snapshot holds it; read
    tests never change it, write tests revert what they do (see ``chain``).
    """
    founders = load_founders(PROJECT_ROOT / "scripts" / "founders.local.yaml", allow_dev=True)
    made: dict[str, World] = {}
    with contextlib.ExitStack() as databases:
        for kind in DB_KINDS:
            base = tmp_path_factory.mktemp(f"world-{node.engine}-{kind}")
            manifest = base / "deployment.json"
            deployment = deploy(w3, founders, deployer=dev_account(0), manifest_path=manifest)
            url = databases.enter_context(fresh_database(kind, base, prefix="xt_world"))
            world = World(
                manifest=manifest,
                rpc_url=node.rpc_url,
                client=ChainClient(w3, deployment.addresses),
                report=None,
                database_url=url,  # type: ignore[arg-type]
            )
            gateway = Gateway(world.settings())
            world.report = run_demo(gateway, base / "demo", echo=lambda _line: None)
            gateway.engine.dispose()
            made[kind] = world
        yield made


@pytest.fixture(params=DB_KINDS)
def world(request: pytest.FixtureRequest, worlds: dict[str, World]) -> World:
    """The demo world on SQLite, then on PostgreSQL (read-only: never write to its chain)."""
    return worlds[request.param]


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """Open apps (lifespan running, no background threads); all closed after the test."""
    opened: list[tuple[TestClient, Any]] = []

    def make(settings: Any) -> Api:
        app = create_app(settings)
        client = TestClient(app)
        client.__enter__()
        opened.append((client, app))
        keep_demo_descriptions(app.state.xietong.gateway.engine)
        return Api(app, client)

    yield make
    for client, app in reversed(opened):
        client.__exit__(None, None, None)
        app.state.xietong.gateway.engine.dispose()


@pytest.fixture
def api(world: World, make_api: Callable[..., Api]) -> Api:
    """杭州市民政局's gateway over the demo world, read routes only."""
    return make_api(world.settings())


@pytest.fixture
def chain(worlds: dict[str, World]) -> Iterator[World]:
    """The SQLite world's chain, every change undone after the test (evm_snapshot/revert)."""
    world = worlds["sqlite"]
    with chain_snapshot(world.client.w3):
        yield world


@pytest.fixture
def writer(chain: World, database_url: str, make_api: Callable[..., Api]) -> Api:
    """杭州市民政局's gateway over the demo chain, with a fresh database indexed from it and
    the demo's dataset descriptions in its catalogue (see ``make_api``)."""
    api = make_api(chain.settings(database_url=database_url))
    api.sync()
    return api
