"""How the command speaks outside its commands: hints name a command that runs as printed
(``xietong`` when that name finds this program, else the path it was started by: ``make run``
activates no venv), and usage errors with ``--json`` are one JSON document."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli._output import command_name
from tests.support import gateway_environment

XIETONG = Path(sys.executable).with_name("xietong")


def test_the_name_when_path_finds_this_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "bin" / "xietong"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(program.parent))
    monkeypatch.setattr(sys, "argv", [str(program), "demo"])
    assert command_name() == "xietong"


def test_the_path_it_was_started_by_when_path_finds_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = tmp_path / "my venv" / "bin" / "xietong"
    other = tmp_path / "other" / "xietong"
    for program in (ours, other):
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(ours), "demo"])
    monkeypatch.setenv("PATH", str(other.parent))
    assert command_name() == f"'{ours}'"  # quoted: the folder has a space
    monkeypatch.setenv("PATH", "")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [".venv/bin/xietong", "demo"])
    assert command_name() == ".venv/bin/xietong"


def test_python_dash_m(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/src/ledger/cli/__main__.py", "demo"])
    assert command_name() == f"{sys.executable} -m ledger.cli"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dataset", "anchor"], "Missing argument 'path' (see `xietong dataset anchor --help`)."),
        (["verify", "--bogus", "x"], "No such option: --bogus (see `xietong verify --help`)."),
        (
            ["node", "status", "--port", "99999"],
            # click's sentence for the range, or typer's through pydantic (their versions word it
            # differently): the bound named, the command's help pointed at.
            re.compile(
                r"Invalid value for '--port': (99999 is not in the range 1<=x<=65535|Input "
                r"should be less than or equal to 65535) \(see `xietong node status --help`\)\."
            ),
        ),
        (["nothing-like-this"], "No such command 'nothing-like-this' (see `xietong --help`)."),
    ],
    ids=["missing-argument", "unknown-option", "value-out-of-range", "unknown-command"],
)
def test_with_json_a_usage_error_is_one_json_document(
    argv: list[str], message: str | re.Pattern[str], tmp_path: Path
) -> None:
    """Issue 14: ``--json`` always prints one JSON document, usage errors included (not a Rich
    box), with exit status 2; without ``--json`` the box stays, still no traceback."""
    env = gateway_environment(tmp_path)
    as_json = subprocess.run(
        [str(XIETONG), *argv, "--json"], capture_output=True, text=True, env=env, check=False
    )
    assert as_json.returncode == 2 and as_json.stderr == ""
    answer = json.loads(as_json.stdout)
    said = answer["error"]["message"]
    assert answer == {"ok": False, "error": {"type": "usage", "message": said}}
    assert re.fullmatch(message, said) if isinstance(message, re.Pattern) else said == message
    plain = subprocess.run(
        [str(XIETONG), *argv], capture_output=True, text=True, env=env, check=False
    )
    assert plain.returncode == 2 and plain.stdout == "" and "Traceback" not in plain.stderr
    assert "Usage: xietong" in plain.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "missing.txt"],
        ["verify", "missing.csv", "--record", "1", "--salts", "missing.csv.salts.json"],
        ["verify", "data.csv", "--record", "1", "--salts", "missing.salts.json"],
        ["dataset", "anchor", "missing.txt", "--dataset", "HZ-POLICY"],
    ],
    ids=["verify", "verify-record", "verify-record-salts", "anchor"],
)
def test_a_missing_path_says_it_does_not_exist_before_the_node_is_asked(
    argv: list[str], tmp_path: Path
) -> None:
    """Issue 14: not "the chain node … does not answer" for a typo in a file name (no node
    answers here)."""
    env = {**gateway_environment(tmp_path), "XIETONG_RPC_URL": "http://127.0.0.1:9"}
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    shown = subprocess.run(
        [str(XIETONG), *argv], capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )
    missing = next(arg for arg in argv if arg.startswith("missing."))
    said = f"{missing} does not exist."
    if missing.endswith("salts.json") and argv[1] == "data.csv":
        said = f"the salts sidecar {missing} does not exist."
    assert shown.returncode == 1 and shown.stderr == f"error: {said}\n"


def test_an_invalid_trusted_proxy_is_one_plain_sentence(tmp_path: Path) -> None:
    env = {**gateway_environment(tmp_path), "XIETONG_TRUSTED_PROXIES": "10.0.0.1/99"}
    shown = subprocess.run(
        [str(XIETONG), "doctor"], capture_output=True, text=True, env=env, check=False
    )
    assert shown.returncode == 1 and shown.stderr == (
        "error: XIETONG_TRUSTED_PROXIES is invalid: '10.0.0.1/99' is not an IP address or CIDR "
        "network.\n"
    )
