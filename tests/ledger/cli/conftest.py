"""The ``cli`` fixture: a node, a deployment and the environment of 杭州市民政局's gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.node import free_port
from tests.ledger.cli._cli import FOUNDERS, Cli
from tests.support import gateway_environment


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """A node, a deployment and the environment of 杭州市民政局's gateway (dev account 2)."""
    port = free_port()
    env = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "local",
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{port}",
        "XIETONG_NODE_DIR": str(tmp_path / "node"),
        "XIETONG_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "XIETONG_DATABASE_URL": database_url,
    }
    runner = Cli(env, tmp_path)
    runner.run("node", "start")
    runner.run("deploy", "--founders", str(FOUNDERS), account=0)
    try:
        yield runner
    finally:
        runner.run("node", "stop", ok=False)
