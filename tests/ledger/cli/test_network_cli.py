"""`xietong network up|down|status|join|votes` (docs/CLI.md, docs/CONSORTIUM.md): the local
consortium network from the command line, its refusals as sentences."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.network import GETH_VERSION
from ledger.chain.node import free_port
from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment

BIN = Path(sys.executable).parent
FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
FIRST_HOST = "127.0.0.81"


def xietong(
    *args: str, env: dict[str, str], ok: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BIN / "xietong"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    return done


def answer(*args: str, env: dict[str, str], ok: bool = True) -> Any:
    return json.loads(xietong(*args, "--json", env=env, ok=ok).stdout)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**gateway_environment(tmp_path / "home"), "XIETONG_ENV": "local"}
    try:
        yield env
    finally:
        subprocess.run([str(BIN / "xietong"), "network", "down"], env=env, capture_output=True)


def test_network_up_refusals_are_sentences(home: dict[str, str], tmp_path: Path) -> None:
    production = {**home, "XIETONG_ENV": "production"}
    refused = answer("network", "up", env=production, ok=False)["error"]
    assert refused["type"] == "configuration"
    assert "set XIETONG_ENV=local" in refused["message"]
    no_geth = xietong("network", "up", env={**home, "XIETONG_GETH": "/nowhere/geth"}, ok=False)
    assert no_geth.stderr.replace("\n", "") == (
        f"error: geth {GETH_VERSION} is not built at /nowhere/geth: run `make geth` (go install "
        "from the Go module proxy, a few minutes once)."
    )
    unsigned = tmp_path / "founders.yaml"
    unsigned.write_text(
        FOUNDERS.read_text(encoding="utf-8").replace("signer:", "# signer:"), encoding="utf-8"
    )
    no_signer = answer("network", "up", "--founders", str(unsigned), env=home, ok=False)
    assert no_signer["error"]["message"].startswith(
        "no founding department names a `signer` in the founders file"
    )
    outside = answer("network", "up", "--first-host", "10.0.0.2", env=home, ok=False)
    assert outside["error"]["message"] == (
        "the validators bind loopback addresses only: 10.0.0.2 and the 2 after it must lie in "
        "127.0.0.0/8."
    )
    nonsense = answer("network", "up", "--first-host", "localhost", env=home, ok=False)
    assert nonsense["error"]["message"] == (
        "the first validator's address 'localhost' (--first-host or XIETONG_NETWORK_FIRST_HOST) "
        "is not an IPv4 address."
    )
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    too_deep = answer("network", "up", env={**home, "TMPDIR": str(deep)}, ok=False)
    folder = deep / f"xietong-{os.getuid()}"
    [socket] = re.findall(r"bytes in (\S+), at most", too_deep["error"]["message"])
    assert too_deep["error"]["message"] == (
        f"the folder of the validators' IPC sockets, {folder}, is too deep "
        f"({len(socket)} bytes in {socket}, at most 107): set TMPDIR to a shorter folder."
    )
    assert socket.startswith(f"{folder}/") and socket.endswith(".ipc")
    assert not (tmp_path / "home" / "var" / "network").exists()
    for command in (["status"], ["votes"], ["join", "X", "--name", "x", "--signer", "dev:18"]):
        none = answer("network", *command, env=home, ok=False)["error"]["message"]
        assert none.startswith("no network at ") and none.endswith(
            ": run `xietong network up` to create and start one."
        )
    # Nothing was written by a refusal.
    assert not (tmp_path / "home" / "var" / "network" / "network.json").exists()


def test_network_up_status_join_votes_down(home: dict[str, str], tmp_path: Path) -> None:
    """The demo on the network, one gateway per department: the README's network section
    (tests/test_documents_run.py)."""
    ports = [str(free_port(FIRST_HOST)) for _ in range(3)]
    up = answer(
        "network", "up", "--period", "1", "--first-host", FIRST_HOST,
        "--rpc-port", ports[0], "--p2p-port", ports[1], "--authrpc-port", ports[2],
        env=home,
    )  # fmt: skip
    members = up["members"]
    assert up["chain_id"] == 31338 and len(members) == 3
    assert [m["rpc_url"] for m in members] == [
        f"http://127.0.0.{81 + i}:{ports[0]}" for i in range(3)
    ]
    assert all(m["answering"] and m["sealing"] for m in members), members
    # Up again: the same network, its validators running already; options would change it.
    again = answer("network", "up", env=home)
    assert [m["pid"] for m in again["members"]] == [m["pid"] for m in members]
    changed = answer("network", "up", "--period", "3", env=home, ok=False)
    assert changed["error"]["message"].startswith(
        f"the network in {tmp_path / 'home' / 'var' / 'network'} exists already: its founders, "
        "period, addresses and ports were set when it was made;"
    )
    civil = next(m for m in members if m["code"] == "11330100MB1A00002K")
    on_civil = {**home, "XIETONG_RPC_URL": civil["rpc_url"], "XIETONG_DEV_ACCOUNT": "2"}
    deployed = answer("deploy", "--founders", str(FOUNDERS), env=on_civil)
    assert deployed["chain_id"] == 31338
    status = answer("network", "status", env=home)
    assert all(m["answering"] for m in status["members"])
    # A validator for a department that joins later: refused when it repeats a member.
    taken = answer(
        "network", "join", "11330100MB1A00001P", "--name", "again", "--signer", "dev:18",
        env=home, ok=False,
    )  # fmt: skip
    assert taken["error"]["message"] == (
        "department 11330100MB1A00001P already runs a validator in the network."
    )
    twice = answer(
        "network", "join", "11330100MB1A00009X", "--name", "医保", "--signer", "dev:15",
        env=home, ok=False,
    )  # fmt: skip
    assert twice["error"]["message"] == (
        f"signer {members[0]['signer']} already seals for another validator of the network."
    )
    production = {**home, "XIETONG_ENV": "production"}
    refused = answer(
        "network", "join", "11330100MB1A00009X", "--name", "医保", "--signer", "dev:18",
        env=production, ok=False,
    )  # fmt: skip
    assert refused["error"]["type"] == "configuration"
    # Every department active on chain seals already: no vote.
    assert answer("network", "votes", env=on_civil)["votes"] == []
    down = answer("network", "down", env=home)
    assert sorted(down["stopped"]) == sorted(m["code"] for m in members)
    after = answer("network", "status", env=home, ok=False)
    assert not any(m["answering"] or m["running"] for m in after["members"])


def test_a_code_that_would_leave_the_networks_folder_is_refused(
    home: dict[str, str], tmp_path: Path
) -> None:
    """A department's code names its validator's folder: a founders file (or `join`) whose code
    climbs out of the network's home is refused before anything is written."""
    climbing = tmp_path / "founders.yaml"
    climbing.write_text(
        FOUNDERS.read_text(encoding="utf-8").replace('"11330100MB1A00001P"', '"../../escape"'),
        encoding="utf-8",
    )
    refused = answer("network", "up", "--founders", str(climbing), env=home, ok=False)
    assert refused["error"]["message"] == (
        "department code '../../escape' cannot name a validator's folder: 1 to 64 letters, "
        "digits, '-', '_' or '.'."
    )
    assert not (tmp_path / "home" / "var" / "network").exists()
    assert not (tmp_path / "escape").exists()


def test_a_signer_without_a_development_key_is_refused_before_anything_is_written(
    home: dict[str, str], tmp_path: Path
) -> None:
    """A local network seals with development keys: a department's own signer address is for
    its own machine (docs/CONSORTIUM.md), and nothing of the network is left behind."""
    foreign = tmp_path / "founders.yaml"
    address = "0x00000000000000000000000000000000000000aa"
    foreign.write_text(
        FOUNDERS.read_text(encoding="utf-8").replace('"dev:15"', f'"{address}"'), encoding="utf-8"
    )
    refused = answer("network", "up", "--founders", str(foreign), env=home, ok=False)
    assert refused["error"]["message"].startswith(
        "signer 0x00000000000000000000000000000000000000AA is not a development account"
    )
    assert not (tmp_path / "home" / "var" / "network" / "network.json").exists()
    assert not any((tmp_path / "home" / "var" / "network").glob("*"))
