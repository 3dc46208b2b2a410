"""``make run`` (scripts/run.sh): the demo served, with a banner whose hints run as printed;
while something already serves its port, one sentence on stderr and exit 1 before anything
starts, no banner, no key."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from ledger.chain.node import free_port
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


def test_make_run_serves_the_demo_and_its_printed_hint_runs_as_written(tmp_path: Path) -> None:
    """``make run`` (scripts/run.sh) in a checkout of its own (the script and the founders file
    copied, the venv linked): node, contracts, demo, index and a read key, then the banner.
    Its curl command, run as printed with no venv activated, finds the demo's file anchored;
    Ctrl-C (to the whole process group, as a terminal sends it) stops the server and the
    node it started."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("run.sh", "founders.local.yaml"):
        shutil.copy(PROJECT_ROOT / "scripts" / name, checkout / "scripts" / name)
    (checkout / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    api_port, node_port = free_port(), free_port()
    no_venv = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    env = {
        **gateway_environment(tmp_path / "elsewhere"),  # run.sh makes its checkout the home
        "PATH": no_venv,
        "XIETONG_API_PORT": str(api_port),
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(node_port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{node_port}",
    }
    env.pop("VIRTUAL_ENV", None)
    process = subprocess.Popen(
        ["bash", str(checkout / "scripts" / "run.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        banner: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.strip().startswith("Ctrl-C stops"):
                break
        assert banner and banner[-1].strip() == "Ctrl-C stops the API and the node.", (
            banner[-20:],
            process.stderr.read() if process.poll() is not None and process.stderr else "",
        )
        assert f"http://127.0.0.1:{api_port}/            verify a file" in "\n".join(banner)
        start = next(i for i, line in enumerate(banner) if line.strip().startswith("curl "))
        command = "\n".join(banner[start : start + 2]).strip()
        served = eventually_served(api_port)
        assert served, "the API did not answer after the banner"
        answer = subprocess.run(
            ["bash", "-c", command],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout)["anchored"] is True, answer.stdout
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    with socket.socket() as probe:  # the node it started is stopped
        assert probe.connect_ex(("127.0.0.1", node_port)) != 0


def eventually_served(port: int, *, within: float = 60.0) -> bool:
    """Whether 127.0.0.1:``port`` answers ``/healthz`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False
