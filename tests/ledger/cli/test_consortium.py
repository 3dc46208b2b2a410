"""`xietong deploy` writes the consortium trust file; `xietong consortium show|check` show it
and check a node against it (docs/CLI.md), as separate processes on a real Anvil node."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.node import free_port
from ledger.paths import PROJECT_ROOT
from ledger.trust import load_trust
from tests.ledger.cli._cli import FOUNDERS, Cli, local_environment

FINGERPRINT = re.compile(r"[0-9a-f]{4}(-[0-9a-f]{4}){7}")
TRUST_MEMBERS = {
    "format",
    "chain_id",
    "genesis_hash",
    "deployment_block",
    "deployment_block_hash",
    "contracts",
    "checkpoints",
}


@dataclass
class Deployed:
    cli: Cli
    deployments: Path
    #: What `xietong deploy --json` printed.
    deploy: dict[str, Any]

    @property
    def trust_file(self) -> Path:
        return self.deployments / "31337.consortium.json"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """An Anvil node started by `xietong node start`, the contracts deployed by `xietong
    deploy` (the tests only read: the chain is shared by the module)."""
    base = tmp_path_factory.mktemp("consortium-cli")
    env = local_environment(base, XIETONG_DATABASE_URL=f"sqlite:///{base / 'xietong.db'}")
    cli = Cli(env, base)
    cli.run("node", "start")
    try:
        made = cli.json("deploy", "--founders", str(FOUNDERS), account=0)
        yield Deployed(cli=cli, deployments=base / "deployments", deploy=made)
    finally:
        cli.run("node", "stop", ok=False)


def documented_show_shape() -> dict[str, Any]:
    """The JSON docs/CLI.md shows for `xietong consortium show`."""
    text = (PROJECT_ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    section = text.split("## `xietong consortium show|check", 1)[1].split("\n## ", 1)[0]
    block = section.split("```json\n", 1)[1].split("```", 1)[0]
    shape: dict[str, Any] = json.loads(block)
    return shape


def test_deploy_writes_the_trust_file_and_prints_its_fingerprint(deployed: Deployed) -> None:
    made = deployed.deploy
    trust = load_trust(deployed.trust_file)
    assert made["trust_file"] == str(deployed.trust_file)
    assert made["fingerprint"] == trust.fingerprint
    assert FINGERPRINT.fullmatch(made["fingerprint"])
    assert made["genesis_hash"] == trust.genesis_hash
    assert made["block_number"] == trust.deployment_block
    assert made["block_hash"] == trust.deployment_block_hash
    assert {n: c["address"] for n, c in made["contracts"].items()} == trust.contracts
    # The fields docs/CLI.md shows for `deploy` (besides the manifest's own).
    assert {"ok", "deployed", "manifest", "trust_file", "fingerprint", "genesis_hash"} <= set(made)


def test_deploy_reuse_writes_a_lost_trust_file_again(deployed: Deployed) -> None:
    before = deployed.trust_file.read_text(encoding="utf-8")
    deployed.trust_file.unlink()
    shown = deployed.cli.run("deploy", "--founders", str(FOUNDERS), "--reuse", account=0)
    assert deployed.trust_file.read_text(encoding="utf-8") == before
    fingerprint = load_trust(deployed.trust_file).fingerprint
    lines = shown.stdout.splitlines()
    assert "already deployed on chain 31337" in lines[0]
    assert f"consortium trust file: {deployed.trust_file}" in lines
    assert f"fingerprint: {fingerprint}" in lines


def test_show_prints_the_configured_chains_trust_file(deployed: Deployed) -> None:
    trust = load_trust(deployed.trust_file)
    shown = deployed.cli.json("consortium", "show")
    assert shown == {
        "ok": True,
        "file": str(deployed.trust_file),
        "fingerprint": trust.fingerprint,
        **trust.as_dict(),
    }
    documented = documented_show_shape()
    assert set(shown) == set(documented)
    assert set(shown["contracts"]) == set(documented["contracts"])
    assert set(documented) - {"ok", "file", "fingerprint"} == TRUST_MEMBERS

    text = deployed.cli.run("consortium", "show").stdout
    assert f"consortium trust file {deployed.trust_file}" in text
    assert "  checkpoints         2 of 3 departments" in text
    assert text.count("    cosigner          0x") == 3
    for label, value in [
        ("fingerprint", trust.fingerprint),
        ("chain id", "31337"),
        ("genesis hash", trust.genesis_hash),
        ("deployment block", f"{trust.deployment_block} ({trust.deployment_block_hash})"),
        *trust.contracts.items(),
    ]:
        assert re.search(rf"^  {re.escape(label)} +{re.escape(value)}$", text, re.M), (label, text)


def test_show_file_reads_any_trust_file_without_a_node(deployed: Deployed, tmp_path: Path) -> None:
    received = tmp_path / "received.json"
    received.write_bytes(deployed.trust_file.read_bytes())
    # Someone else: no node, no deployment of their own.
    outsider = Cli(
        {
            **{k: v for k, v in deployed.cli.env.items() if k != "XIETONG_DEPLOYMENTS_DIR"},
            "XIETONG_RPC_URL": f"http://127.0.0.1:{free_port()}",
        },
        tmp_path,
    )
    shown = outsider.json("consortium", "show", "--file", str(received))
    assert shown["file"] == str(received)
    assert shown["fingerprint"] == deployed.deploy["fingerprint"]
    # Without --file it needs the node, to know which chain's file to read.
    refused = outsider.json("consortium", "show", ok=False)
    assert refused["error"]["type"] == "node-unavailable"


def test_show_refuses_a_malformed_file_in_one_sentence(deployed: Deployed, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    document = json.loads(deployed.trust_file.read_text(encoding="utf-8"))
    document["chain_id"] = "31337"
    bad.write_text(json.dumps(document), encoding="utf-8")
    sentence = (
        f"the trust file {bad}: `chain_id` must be an integer from 1 to 9007199254740991, "
        'not "31337".'
    )
    refused = deployed.cli.run("consortium", "show", "--file", str(bad), ok=False)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.replace("\n", "") == f"error: {sentence}"
    as_json = deployed.cli.json("consortium", "show", "--file", str(bad), ok=False)
    assert as_json == {"ok": False, "error": {"type": "bad-trust-file", "message": sentence}}
    missing = deployed.cli.json("consortium", "show", "--file", str(tmp_path / "no.json"), ok=False)
    assert missing["error"] == {
        "type": "bad-trust-file",
        "message": f"there is no trust file at {tmp_path / 'no.json'} (the consortium's "
        "founders publish it beside the deployment manifest).",
    }
    # --out writes the file shown, to hand to a verifier; a place it cannot be written is
    # one sentence.
    handed = tmp_path / "handed" / "consortium.json"
    shown = deployed.cli.json("consortium", "show", "--out", str(handed))
    assert shown["out"] == str(handed) and load_trust(handed) == load_trust(deployed.trust_file)
    assert shown["fingerprint"] == load_trust(handed).fingerprint
    blocked = deployed.cli.json("consortium", "show", "--out", str(tmp_path), ok=False)
    assert blocked["error"]["type"] == "bad-input"
    assert blocked["error"]["message"].startswith(f"cannot write {tmp_path} (")


def test_check_says_the_node_matches(deployed: Deployed) -> None:
    trust = load_trust(deployed.trust_file)
    checked = deployed.cli.json("consortium", "check")
    assert checked == {
        "ok": True,
        "matches": True,
        "file": str(deployed.trust_file),
        "fingerprint": trust.fingerprint,
        **trust.as_dict(),
    }
    text = deployed.cli.run("consortium", "check").stdout.replace("\n", "")
    assert text == (
        f"matches: the node serves the consortium's chain 31337 (genesis {trust.genesis_hash}, "
        f"contracts deployed in block {trust.deployment_block}), trust file "
        f"{deployed.trust_file}, fingerprint {trust.fingerprint}"
    )
    rpc = deployed.cli.env["XIETONG_RPC_URL"]
    again = deployed.cli.json(
        "consortium", "check", "--file", str(deployed.trust_file), "--rpc", rpc
    )
    assert again["matches"] is True


def test_check_names_the_mismatch_and_fails(deployed: Deployed, tmp_path: Path) -> None:
    other = tmp_path / "other-chain.json"
    document = json.loads(deployed.trust_file.read_text(encoding="utf-8"))
    document["deployment_block_hash"] = "0x" + "77" * 32
    other.write_text(json.dumps(document), encoding="utf-8")
    block = document["deployment_block"]
    real = deployed.deploy["block_hash"]
    sentence = (
        f"the node's block {block} is {real}, not the block 0x{'77' * 32} in which the "
        "consortium's contracts were deployed: it is another chain with the same genesis."
    )
    refused = deployed.cli.run("consortium", "check", "--file", str(other), ok=False)
    assert refused.returncode == 1
    assert "matches" not in refused.stdout
    assert refused.stderr.replace("\n", "") == f"error: {sentence}"
    as_json = deployed.cli.json("consortium", "check", "--file", str(other), ok=False)
    assert as_json == {"ok": False, "error": {"type": "trust-mismatch", "message": sentence}}

    document["chain_id"] = 1337
    other.write_text(json.dumps(document), encoding="utf-8")
    wrong_chain = deployed.cli.json("consortium", "check", "--file", str(other), ok=False)
    assert wrong_chain["error"] == {
        "type": "trust-mismatch",
        "message": "the node serves chain 31337, not the consortium's chain 1337.",
    }


def test_check_against_a_node_that_does_not_answer(deployed: Deployed) -> None:
    silent = f"http://127.0.0.1:{free_port()}"
    refused = deployed.cli.json(
        "consortium", "check", "--file", str(deployed.trust_file), "--rpc", silent, ok=False
    )
    assert refused["ok"] is False and refused["error"]["type"] == "node-unavailable"
