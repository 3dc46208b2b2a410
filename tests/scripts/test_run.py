"""``make run`` (scripts/run.sh) while something already serves its port: one sentence on
stderr and exit 1 before anything starts, no banner, no key."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment


def test_a_second_make_run_says_so_before_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**gateway_environment(tmp_path), "XIETONG_API_PORT": str(port)}
        run = subprocess.run(
            ["bash", str(PROJECT_ROOT / "scripts" / "run.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == (
        f"error: something already listens on 127.0.0.1:{port} (another make run?): stop it "
        "(Ctrl-C where it runs), or use another port: XIETONG_API_PORT=8001 make run\n"
    )
