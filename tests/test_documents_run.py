"""The documents are executed: the README's command blocks run as written, in order, with
``bash``, from a scratch folder against a fresh node — the only change is the node's address
(a free port instead of 8545) — so the documents cannot drift from the program again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.chain.deploy import load_founders
from ledger.chain.node import free_port
from ledger.ids import code_hash, department_id
from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment, interrupt

FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
README = PROJECT_ROOT / "README.md"
BIN = Path(sys.executable).parent
CIVIL_ID = department_id("11330100MB1A00002K").hex()


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section of a Markdown document."""
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def sh_blocks(text: str) -> list[str]:
    """The ```sh blocks of ``text``, in order (one indented in a list item dedented)."""
    found = re.findall(r"^( *)```sh\n(.*?)^\1```$", text, flags=re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(body) for _indent, body in found]


@dataclass
class Shell:
    """Runs document blocks with bash in a scratch folder, the venv's commands on PATH (what
    ``. .venv/bin/activate`` gives), the gateway's home elsewhere."""

    folder: Path
    env: dict[str, str]
    rpc_url: str
    api_url: str = "http://127.0.0.1:8000"
    demo_output: str = ""

    def run(self, block: str, *, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        script = block.replace("http://127.0.0.1:8545", self.rpc_url).replace(
            "http://127.0.0.1:8000", self.api_url
        )
        # The commands as bash ran them go to a trace of their own (stderr stays the block's):
        # when a block fails, its last commands show with their values, those captured in
        # variables too, which the block's output alone would not say.
        with tempfile.TemporaryDirectory() as scratch:
            trace = Path(scratch) / "trace"
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", _TRACED + script],
                cwd=self.folder,
                env={**self.env, "XT_TRACE": str(trace)},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            traced = trace.read_text(encoding="utf-8", errors="replace") if trace.exists() else ""
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        last = re.sub(r"xt_\w+_[\w-]+", "xt_…", "\n".join(traced.splitlines()[-25:]))
        assert result.returncode == 0, (
            f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            f"\n--- the last commands run\n{last}"
        )
        return result


#: Sends bash's trace (``set -x``) to the file named by XT_TRACE.
_TRACED = 'exec 9>>"$XT_TRACE"; BASH_XTRACEFD=9; set -x\n'


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    """A fresh Anvil node with the local founders deployed, a scratch folder to work in."""
    port = free_port()
    folder = tmp_path / "scratch"
    folder.mkdir()
    env = {
        **gateway_environment(tmp_path / "home"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(BIN.parent),
        "XIETONG_NODE_ENGINE": "anvil",
        "XIETONG_NODE_PORT": str(port),
        "XIETONG_RPC_URL": f"http://127.0.0.1:{port}",
    }
    runner = Shell(folder, env, f"http://127.0.0.1:{port}")
    runner.run("XIETONG_ENV=local xietong node start")
    try:
        runner.run(f"XIETONG_ENV=local xietong deploy --founders {FOUNDERS}")
        yield runner
    finally:
        subprocess.run(
            ["xietong", "node", "stop"], env=env, cwd=folder, capture_output=True, check=False
        )


def test_the_readme_command_walk_runs_as_written(shell: Shell) -> None:
    """README.md, "Using the `xietong` command": the one block as written, from the checkout
    (it activates the venv there, then moves to a scratch folder of its own, made in the
    test's folder through TMPDIR)."""
    text = section(README.read_text(encoding="utf-8"), "Using the `xietong` command")
    [block] = sh_blocks(text)
    in_checkout = Shell(PROJECT_ROOT, {**shell.env, "TMPDIR": str(shell.folder)}, shell.rpc_url)
    before = sorted(path.name for path in PROJECT_ROOT.iterdir())
    result = in_checkout.run(block)
    lines = result.stdout.splitlines()
    assert sorted(path.name for path in PROJECT_ROOT.iterdir()) == before  # nothing written there
    [scratch] = shell.folder.iterdir()
    shell = Shell(scratch, shell.env, shell.rpc_url)
    # What the walk shows where it matters: the file and the row verified as 民政局's, the
    # proof valid against the trust file, the agreement authorizing, the commitment active.
    assert lines.count("  published by   杭州市民政局 (0x" + CIVIL_ID + ")") == 2, lines
    assert any(line.startswith("VALID leaf 0x") for line in lines), lines
    assert sum(line.startswith("authorized by agreement 0x") for line in lines) == 1, lines
    [shown] = [line for line in lines if line.startswith("commitment 0x")]
    assert shown.split()[2:] == ["active"], shown
    purpose = "0x" + code_hash("eligibility-check").hex()
    assert f"{purpose}  eligibility-check" in lines, lines  # named by the catalogue, checked
    catalogue = json.loads((shell.folder / "catalogue.json").read_text(encoding="utf-8"))
    assert {"HZ-DIBAO", "社会救助暂行办法", "出生一件事-0001", "办理户口登记"} <= {
        t["text"] for t in catalogue["texts"]
    }
    trail = (shell.folder / "trail.csv").read_bytes()
    assert trail.startswith(b"\xef\xbb\xbf") and trail.count(b"\n") > 10
    proof = json.loads((shell.folder / "proof.json").read_text(encoding="utf-8"))
    assert proof["format"].startswith("xietong-proof/")
    # Nothing of the gateway's state landed in the scratch folder.
    assert not (shell.folder / "var").exists() and not (shell.folder / "deployments").exists()


API_MD = PROJECT_ROOT / "docs" / "API.md"


@pytest.fixture
def served(shell: Shell, tmp_path: Path) -> Iterator[Shell]:
    """What ``make run`` leaves: the demo played in the gateway's home, which stands for the
    checkout (its ``.venv``, its ``var/demo``), and ``xietong serve`` on a free port; blocks
    written for the checkout run there."""
    home = Path(shell.env["XIETONG_HOME"])
    local = {"XIETONG_ENV": "local", "XIETONG_DEV_ACCOUNT": "2", "XIETONG_API_OPEN_READS": "true"}
    checkout = Shell(home, {**shell.env, **local}, shell.rpc_url)
    checkout.demo_output = checkout.run("xietong demo --once && xietong index").stdout
    (home / ".venv").symlink_to(BIN.parent)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            ["xietong", "serve", "--port", str(port), "--log-level", "warning"],
            cwd=home,
            env=checkout.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    checkout.api_url = f"http://127.0.0.1:{port}"
    try:
        checkout.run(
            f"until curl -sf {checkout.api_url}/healthz >/dev/null; do sleep 0.2; done", timeout=60
        )
        yield checkout
    finally:
        interrupt(server)


def test_the_readme_first_steps_and_every_api_request_run_as_written(served: Shell) -> None:
    """README.md's first steps (after ``make run``), then docs/API.md's blocks in order: keys,
    the consortium trust file, and one request of each route."""
    # What the demo printed: one line per version and agreement (no Python reprs), and hints
    # that run as printed.
    shown = served.demo_output.splitlines()
    assert not any("{'" in line for line in shown), shown
    assert any(line.startswith("  version     dibao-2026-11 ") for line in shown), shown
    hints = [line.split(":", 1)[1] if line.startswith("Try:") else line for line in shown]
    tried = [h.strip() for h in hints if h.strip().startswith("xietong ")]
    assert [t.split()[1] for t in tried] == ["verify", "audit"], shown
    for hint in tried:
        served.run(hint)
    readme = section(README.read_text(encoding="utf-8"), "First steps: `make run`")
    [first_steps] = sh_blocks(readme)
    first = served.run(first_steps).stdout
    answers, decoder, at = [], json.JSONDecoder(), 0
    while at < len(first.strip()):  # curl prints the two answers with no line between
        answer, at = decoder.raw_decode(first, at)
        answers.append(answer)
    assert len(answers) == 2 and all(a["anchored"] is True for a in answers), first
    keys, requests, consortium = sh_blocks(API_MD.read_text(encoding="utf-8"))
    before = json.loads(served.run("xietong apikey list --json").stdout)["keys"]
    served.run(keys)
    after = json.loads(served.run("xietong apikey list --json").stdout)["keys"]
    made = [k for k in after if k["id"] not in {b["id"] for b in before}]
    # Four keys made, one of each scope; the last one listed revoked (the block's last line).
    assert sorted(k["scope"] for k in made) == ["admin", "anchor", "read", "watch"], made
    assert after[-1]["revoked_at"] is not None
    assert [k["id"] for k in after if k["revoked_at"] is not None] == [after[-1]["id"]]
    trust = json.loads(served.run(consortium).stdout)
    assert trust["format"] == "xietong-consortium/1" and trust["chain_id"] == 31337
    out = served.run(requests).stdout.splitlines()
    # The file and the row verified, the demo's two datasets, the 低保 list's two versions,
    # its agreement with 公安局 authorizing, the commitment completed.
    assert out[:6] == ['"杭州市民政局"', "true", "true", "2", "2", "5"], out
    assert '"authorized"' in out and '  "completed"' in out, out
    # The terms document of the demo's two agreements; 低保名单 named by its code; the
    # catalogue imported; the admission approved (2 of 3), executed by its role's acceptance,
    # nothing left to execute; the auditor grant proposed, open.
    assert "Cannot anchor" in out, out  # a confirmed batch is not given up
    watchers = out.index('[["agreement.changed","dataset.version"]]')
    # ... with a watch key, which may not anchor (403).
    assert out[watchers + 2 : watchers + 7] == ["true", "0", "Unknown webhook", "403", "wh_"], out
    # One record of the 低保 list erased, then answered erased by 民政局.
    erased = out.index("杭州市民政局", 1)
    assert out[erased - 1] == "1", out
    signed = out.index('["11330100MB1A00002K"]')  # 民政局's gateway signed; nobody else
    assert out[signed + 1 : signed + 5] == [
        "false",
        "No checkpoint at that block",
        "0",
        "Bad input",
    ], out
    assert "SharingAgreementsNotConsumer" in out, out  # the provider records no receipt
    assert '["agreement-terms","agreement-terms"]' in out, out
    assert "HZ-MZ-DIBAO" in out, out
    admitted = out.index("Proposal 1 was already executed.")
    assert out[admitted - 2 : admitted] == ["2", "true"], out
    assert '[["admit","executed"],["grant-auditor","open"]]' in out, out
    catalogue = json.loads((served.folder / "catalogue.json").read_text(encoding="utf-8"))
    assert "eligibility-check 低保资格核查" in {t["text"] for t in catalogue["texts"]}
    # The datasets of 民政局 (both of the demo's), the OpenAPI document's title, its page.
    assert out[-7:-4] == ["2", "Xietong (协同) gateway API", "swagger-ui"], out
    proof = json.loads((served.folder / "proof.json").read_text(encoding="utf-8"))
    assert proof["format"].startswith("xietong-proof/")
    assert (served.folder / "trail.csv").read_text(encoding="utf-8").count("\n") > 10
    assert (served.folder / "receipts.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    assert out[-4:-1] == [f'"{trust["fingerprint"]}"', '"ok"', "true"], out
    assert out[-1].startswith("xietong_index_block "), out


def test_the_readme_network_section_runs_as_written(tmp_path: Path) -> None:
    """README.md, "A consortium network": the block from the checkout (the gateway's home,
    standing for it), the validators on addresses and ports of the test's own (the settings
    the block's commands read) and a block a second, 民政局's address replaced accordingly."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".venv").symlink_to(BIN.parent)
    (home / "scripts").symlink_to(PROJECT_ROOT / "scripts")
    first, port = "127.0.0.101", free_port("127.0.0.101")
    env = {
        **gateway_environment(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "XIETONG_NETWORK_FIRST_HOST": first,
        "XIETONG_NETWORK_RPC_PORT": str(port),
        "XIETONG_NETWORK_P2P_PORT": str(free_port(first)),
        "XIETONG_NETWORK_AUTHRPC_PORT": str(free_port(first)),
        "XIETONG_NETWORK_PERIOD": "1",
    }
    [block] = sh_blocks(
        section(README.read_text(encoding="utf-8"), "A consortium network: `xietong network up`")
    )
    # Its first line builds what `make test` built already (the venv, geth): run as written
    # in the checkout, with nothing left to do.
    make, block = block.split("\n", 1)
    assert make.split("#")[0].split() == ["make", "setup", "geth"]
    built = subprocess.run(
        ["make", "-q", "setup", "geth"], cwd=PROJECT_ROOT, capture_output=True, check=False
    )
    assert built.returncode == 0, built.stdout
    assert "http://127.0.0.3:8545" in block
    lines_of_block = block.rstrip("\n").split("\n")
    down = ".venv/bin/xietong network down"
    at = lines_of_block.index(down)
    steps, offline = lines_of_block[:at], lines_of_block[at + 1 :]
    assert offline[0].split()[:3] == [".venv/bin/xietong", "verify-proof", "--offline"], offline
    shell = Shell(home, env, rpc_url="")
    try:
        out = shell.run("\n".join(steps).replace("http://127.0.0.3:8545", civil_url(port)))
        lines = out.stdout.splitlines()
        assert lines[0] == f"network up (chain id 31338, {home / 'var' / 'network'})", lines
        assert "31338" in lines and any(line.startswith("demo done: ") for line in lines), lines
        assert lines[-5:] == ["[", "  true,", "  true,", "  true", "]"], lines
        # The demo as every department's gateway sees it, each indexing its own validator
        # into its own SQLite: the trail the demo's gateway (民政局's) indexed, event for event.
        expected = trail_of({**env, "XIETONG_RPC_URL": civil_url(port)})
        names = [event["event"] for event in expected]
        # The demo anchors three versions, the block one more (the minutes proven offline).
        assert names.count("VersionAnchored") == 4 and "CommitmentProposed" in names, names
        for i in range(3):
            gateway = {
                **gateway_environment(tmp_path / f"gateway-{i}"),
                "XIETONG_RPC_URL": f"http://127.0.0.{101 + i}:{port}",
                "XIETONG_DEPLOYMENT": str(home / "deployments" / "31338.json"),
            }
            assert indexed_trail(gateway, expected) == expected
        stopped = shell.run(down).stdout
        assert stopped.startswith("stopped 3 validator(s): "), stopped
        # With every validator stopped, the proof bundle checks from its seals alone.
        checked = json.loads(shell.run("\n".join(offline)).stdout)
        founders = load_founders(PROJECT_ROOT / "scripts" / "founders.local.yaml", allow_dev=True)
        codes = {f.code for f in founders.departments}
        assert checked["valid"] is True and len(set(checked["sealed_by"])) == 2, checked
        assert set(checked["sealed_by"]) <= codes, checked
    finally:
        subprocess.run(
            ["xietong", "network", "down"], env={**env, "XIETONG_ENV": "local"}, cwd=home,
            capture_output=True, check=False,
        )  # fmt: skip


def civil_url(port: int) -> str:
    """民政局's validator in the network test (the second of 127.0.0.101, .102, .103)."""
    return f"http://127.0.0.102:{port}"


def trail_of(env: dict[str, str]) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(BIN / "xietong"), "audit", "trail", "--json"], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    events: list[dict[str, object]] = json.loads(done.stdout)["events"]
    return events


def indexed_trail(env: dict[str, str], expected: list[dict[str, object]]) -> object:
    """The audit trail of the gateway ``env`` describes, indexed until it holds as many events
    as ``expected`` (its validator may be a block behind) or for at most 30 seconds."""
    deadline = time.monotonic() + 30
    while True:
        subprocess.run([str(BIN / "xietong"), "index"], env=env, capture_output=True, check=True)
        trail = trail_of(env)
        if len(trail) >= len(expected) or time.monotonic() > deadline:
            return trail
        time.sleep(0.5)
