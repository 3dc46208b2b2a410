"""Session fixtures: a real chain node per engine (Hardhat 2 and Anvil), one deployment per
node, and snapshot/revert isolation for every chain test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from web3 import Web3

from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import Founder, FoundersFile, deploy
from ledger.chain.node import PORT_SLICE_VARIABLE, NodeSpec, free_port, start_node, stop_node
from ledger.db.engine import create_db_engine
from ledger.keys import dev_account
from tests.support import (
    AUDITOR_INDEX,
    DB_KINDS,
    FOUNDERS,
    PROPOSAL_LIFETIME,
    THRESHOLD_BPS,
    Consortium,
    chain_snapshot,
    fresh_database,
)
from tests.support import PG_ADMIN_URL as PG_ADMIN_URL  # imported from here by some tests

ENGINES = ("hardhat", "anvil")


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers), each worker and what it starts draw
    free ports from their own slice, so two workers never pick the same port at once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, …
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and count.isdigit():
        os.environ[PORT_SLICE_VARIABLE] = f"{int(worker[2:])}/{count}"


@pytest.fixture(scope="session", autouse=True)
def gateway_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The gateway's home of this test process (``XIETONG_HOME``): settings built without one
    of their own keep their defaults (``var/``, ``deployments/``) here, never in the checkout."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIETONG_HOME", str(home))
        yield home


@pytest.fixture(scope="session", params=ENGINES)
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeSpec]:
    """A running node of each engine, on a free port, stopped at the end of the session."""
    spec = NodeSpec(
        engine=request.param,
        port=free_port(),
        state_dir=tmp_path_factory.mktemp(f"node-{request.param}"),
    )
    start_node(spec)
    try:
        yield spec
    finally:
        stop_node(spec)


@pytest.fixture(scope="session")
def w3(node: NodeSpec) -> Web3:
    return connect(node.rpc_url)


def founders_for_tests() -> FoundersFile:
    return FoundersFile(
        departments=tuple(
            Founder(code=code, name=name, operator=dev_account(index).address)
            for code, name, index in FOUNDERS.values()
        ),
        auditors=(dev_account(AUDITOR_INDEX).address,),
        threshold_bps=THRESHOLD_BPS,
        proposal_lifetime=PROPOSAL_LIFETIME,
    )


@pytest.fixture(scope="session")
def deployed(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Consortium:
    manifest = Path(tmp_path_factory.mktemp("deployment")) / "manifest.json"
    deployment = deploy(w3, founders_for_tests(), deployer=dev_account(0), manifest_path=manifest)
    return Consortium(w3=w3, client=ChainClient(w3, deployment.addresses), deployment=deployment)


@pytest.fixture
def consortium(deployed: Consortium) -> Iterator[Consortium]:
    """The deployed consortium, with every change undone after the test (evm_snapshot/revert)."""
    with chain_snapshot(deployed.w3):
        # After a revert the latest block may be minutes old while the next one takes the wall
        # clock's time: a block mined now makes `now()` the time the test's blocks will have
        # (a window of "now + 100 s" was already over after a long suite).
        deployed.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        yield deployed


@pytest.fixture(params=DB_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL database."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine over ``database_url``, its schema created; disposed after the test."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()
