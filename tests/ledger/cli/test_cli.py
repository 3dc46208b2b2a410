"""The `xietong` command end to end: real processes, one JSON document with --json, one
sentence (no stack trace) on errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.paths import PROJECT_ROOT
from tests.ledger.cli._cli import local_environment

FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"


def xietong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    values = local_environment(tmp_path)
    yield values
    xietong(values, "node", "stop")


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_node_deploy_dept_flow(env: dict[str, str], tmp_path: Path) -> None:
    started = xietong(env, "node", "start", "--json")
    assert started.returncode == 0, started.stderr
    doc = json.loads(started.stdout)
    assert doc["ok"] and doc["answering"] and doc["chain_id"] == 31337 and doc["engine"] == "anvil"

    deployed = xietong(env, "deploy", "--founders", str(FOUNDERS), "--json")
    assert deployed.returncode == 0, deployed.stderr
    manifest = json.loads(deployed.stdout)
    assert manifest["deployed"] is True
    assert set(manifest["contracts"]) == {
        "DepartmentRegistry",
        "DatasetRegistry",
        "SharingAgreements",
        "JointCommitments",
    }
    assert Path(manifest["manifest"]) == tmp_path / "deployments" / "31337.json"
    assert json.loads(Path(manifest["manifest"]).read_text())["contracts"] == manifest["contracts"]

    again = xietong(env, "deploy", "--founders", str(FOUNDERS))
    assert again.returncode == 1
    assert "already has a Xietong deployment" in again.stderr
    no_traceback(again)

    reused = xietong(env, "deploy", "--founders", str(FOUNDERS), "--reuse", "--json")
    assert reused.returncode == 0
    assert json.loads(reused.stdout)["deployed"] is False

    listed = xietong(env, "dept", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [d["name"] for d in json.loads(listed.stdout)["departments"]]
    assert names == ["杭州市公安局", "杭州市民政局", "杭州市卫生健康委员会"]

    shown = xietong(env, "dept", "show", "11330100MB1A00002K")
    assert shown.returncode == 0 and "杭州市民政局" in shown.stdout

    status = xietong(env, "node", "status", "--json")
    assert json.loads(status.stdout)["block_number"] >= 4

    stopped = xietong(env, "node", "stop", "--json")
    assert json.loads(stopped.stdout)["stopped"] is True
    down = xietong(env, "node", "status", "--json")
    assert down.returncode == 1 and json.loads(down.stdout)["answering"] is False


def test_errors_are_one_sentence(env: dict[str, str]) -> None:
    unreachable = xietong(env, "dept", "list")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: the chain node at")
    no_traceback(unreachable)

    as_json = xietong(env, "dept", "list", "--json")
    doc = json.loads(as_json.stdout)
    assert doc == {
        "ok": False,
        "error": {"type": "node-unavailable", "message": doc["error"]["message"]},
    }

    bad_id = xietong(env, "dept", "show", "0x1234")
    assert bad_id.returncode == 1 and "32 bytes" in bad_id.stderr


def test_bad_setting_is_one_sentence(env: dict[str, str]) -> None:
    result = xietong({**env, "XIETONG_NODE_PORT": "not-a-port"}, "node", "status")
    assert result.returncode == 1
    assert "XIETONG_NODE_PORT is invalid" in result.stderr
    no_traceback(result)


def test_deploy_refuses_dev_keys_outside_local(env: dict[str, str]) -> None:
    assert xietong(env, "node", "start").returncode == 0
    result = xietong({**env, "XIETONG_ENV": "production"}, "deploy", "--founders", str(FOUNDERS))
    assert result.returncode == 1
    assert "only in local mode" in result.stderr
    no_traceback(result)


def test_port_taken_is_reported(env: dict[str, str]) -> None:
    assert xietong(env, "node", "start").returncode == 0
    other = xietong({**env, "XIETONG_NODE_DIR": env["XIETONG_NODE_DIR"] + "-2"}, "node", "start")
    assert other.returncode == 1
    assert "already in use" in other.stderr
