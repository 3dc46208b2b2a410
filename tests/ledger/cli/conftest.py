"""The ``cli`` fixture: a node, a deployment and the environment of 杭州市民政局's gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.cli._cli import FOUNDERS, Cli, local_environment


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """A node, a deployment and the environment of 杭州市民政局's gateway (dev account 2)."""
    runner = Cli(local_environment(tmp_path, XIETONG_DATABASE_URL=database_url), tmp_path)
    runner.run("node", "start")
    runner.run("deploy", "--founders", str(FOUNDERS), account=0)
    try:
        yield runner
    finally:
        runner.run("node", "stop", ok=False)
