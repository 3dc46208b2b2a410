"""The ``xietong`` command run as a user runs it (a subprocess), over a node and a deployment
of its own: the ``cli`` fixture of tests/ledger/cli/conftest.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.chain.node import free_port
from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment

FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"


def local_environment(home: Path, **extra: str) -> dict[str, str]:
    """A local-mode gateway's environment with ``home`` as its home: an Anvil node of its own
    on a free port (`xietong node start` starts it), its deployments beside it."""
    port = free_port()
    return {
        **gateway_environment(home),
        "XIETONG_ENV": "local",
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{port}",
        "XIETONG_NODE_DIR": str(home / "node"),
        "XIETONG_DEPLOYMENTS_DIR": str(home / "deployments"),
        **extra,
    }


class Cli:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd

    def run(
        self, *args: str, account: int = 2, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "XIETONG_DEV_ACCOUNT": str(account)}
        result = subprocess.run(
            [sys.executable, "-m", "ledger.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.cwd,
            timeout=180,
            check=False,
        )
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
        return result

    def json(self, *args: str, account: int = 2, ok: bool = True) -> Any:
        result = self.run(*args, "--json", account=account, ok=ok)
        return json.loads(result.stdout)


CLI_MD = PROJECT_ROOT / "docs" / "CLI.md"


def documented(heading: str, nth: int = 0) -> Any:
    """The ``nth`` JSON sample of the docs/CLI.md section whose heading starts with
    ``heading``: the tests compare each command's fields with it, so that the document
    cannot drift from the program."""
    text = CLI_MD.read_text(encoding="utf-8")
    [section] = [part for part in text.split("\n## ")[1:] if part.startswith(f"`{heading}")]
    return json.loads(re.findall(r"```json\n(.*?)```", section, re.S)[nth])
