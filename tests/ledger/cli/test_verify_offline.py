"""``xietong verify-proof --offline``: the shared vectors' bundles checked by the CLI with the
trust file alone (no node runs here), each refusal one sentence naming its rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.paths import PROJECT_ROOT
from tests.support import gateway_environment

BIN = Path(sys.executable).parent
VECTORS = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json").read_text(encoding="utf-8")
)


def case(desc: str) -> dict[str, Any]:
    [found] = [c for c in VECTORS["cases"] if c["desc"] == desc]
    return dict(found)


def verify_offline(
    tmp_path: Path, bundle: Any, *args: str, trust: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    bundle_path = tmp_path / "bundle.json"
    bundle_path.write_text(
        bundle if isinstance(bundle, str) else json.dumps(bundle), encoding="utf-8"
    )
    trust_args: list[str] = []
    if trust is not None:
        (tmp_path / "trust.json").write_text(json.dumps(trust), encoding="utf-8")
        trust_args = ["--trust", str(tmp_path / "trust.json")]
    return subprocess.run(
        [str(BIN / "xietong"), "verify-proof", "--offline", str(bundle_path), *trust_args, *args],
        env={**gateway_environment(tmp_path), "XIETONG_RPC_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_sealed_bundle_is_valid_offline_and_names_who_sealed(tmp_path: Path) -> None:
    plain = case("a bundle sealed by a majority, without history")["bundle"]
    done = verify_offline(tmp_path, plain, trust=VECTORS["trust"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"VALID OFFLINE leaf {plain['leaf']['hash']} (file)"
    codes = {s["code"] for s in VECTORS["trust"]["clique"]["signers"]}
    sealed_lines = [line for line in lines if "sealed" in line and "by 0x" in line]
    assert len(sealed_lines) == 3 and all(any(c in line for c in codes) for line in sealed_lines)
    assert any("3 of 4 signers (3 required" in line for line in lines), lines
    assert any(line.startswith("  not checked whether the version was revoked") for line in lines)
    as_json = json.loads(verify_offline(tmp_path, plain, "--json", trust=VECTORS["trust"]).stdout)
    assert as_json["ok"] is True and as_json["offline"] is True
    assert (as_json["signers"], as_json["required"], as_json["from_genesis"]) == (4, 3, False)


def test_a_refusal_is_one_sentence_naming_its_rule(tmp_path: Path) -> None:
    outsider = case("a header sealed by a key outside the signer set")["bundle"]
    done = verify_offline(tmp_path, outsider, trust=VECTORS["trust"])
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: refused (signer-outside-set): block ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    as_json = json.loads(
        verify_offline(tmp_path, outsider, "--json", trust=VECTORS["trust"]).stdout
    )
    assert as_json["ok"] is False
    assert as_json["error"]["type"] == "offline-refused"
    assert as_json["error"]["reason"] == "signer-outside-set"


def test_a_bundle_without_seals_says_it_needs_a_node(tmp_path: Path) -> None:
    unsealed = case("sealed is null (a bundle from Hardhat or Anvil)")["bundle"]
    done = verify_offline(tmp_path, unsealed, trust=VECTORS["trust"])
    assert done.returncode == 1
    assert "refused (no-seals)" in done.stderr and "check it against a node" in done.stderr


def test_without_a_trust_file_it_says_where_it_looked(tmp_path: Path) -> None:
    plain = case("a bundle sealed by a majority, without history")["bundle"]
    done = verify_offline(tmp_path, plain)
    assert done.returncode == 1
    assert done.stderr == (
        "error: no consortium trust file for the bundle's chain here: pass the one your "
        "consortium published with --trust.\n"
    )


@pytest.mark.parametrize("with_history", [False, True])
def test_a_text_over_one_mib_needs_a_history(tmp_path: Path, with_history: bool) -> None:
    """A bundle without history is a few KB; over 1 MiB one is refused before it is read."""
    desc = (
        "the same anchor with the headers from block 1"
        if with_history
        else "a bundle sealed by a majority, without history"
    )
    bundle = case(desc)["bundle"]
    text = json.dumps(bundle) + " " * (1 << 20)
    done = verify_offline(tmp_path, text, "--json", trust=VECTORS["trust"])
    answer = json.loads(done.stdout)
    if with_history:
        assert answer["ok"] is True, answer
    else:
        assert answer["error"]["reason"] == "bundle-form", answer
        assert "without history one is at most 1048576" in answer["error"]["message"]


CHECKPOINTS = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "checkpoints.json").read_text(encoding="utf-8")
)


def test_a_cosigned_checkpoint_is_checked_offline_and_required_with_cosigned(
    tmp_path: Path,
) -> None:
    """tests/vectors/checkpoints.json's bundles through the CLI: the checkpoint named with its
    cosigners; a broken one refused with its reason; --cosigned refuses a bundle without."""
    [cosigned] = [
        c for c in CHECKPOINTS["bundles"] if c["desc"] == "cosigned at the last sealed header"
    ]
    trust = CHECKPOINTS["trust"]
    bundle = cosigned["bundle"]
    done = verify_offline(tmp_path, bundle, "--cosigned", trust=trust)
    assert done.returncode == 0, done.stderr
    number = bundle["checkpoint"]["number"]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("  checkpoint block")]
    assert line.startswith(f"  checkpoint block {number} {bundle['checkpoint']['hash']} ")
    assert "cosigned by 3 (3 required)" in line
    answer = json.loads(verify_offline(tmp_path, bundle, "--json", trust=trust).stdout)
    assert answer["checkpoint"]["number"] == number and answer["checkpoint"]["threshold"] == 3
    [unlinked] = [c for c in CHECKPOINTS["bundles"] if c.get("reason") == "checkpoint-unlinked"][:1]
    refused = json.loads(verify_offline(tmp_path, unlinked["bundle"], "--json", trust=trust).stdout)
    assert refused["error"]["type"] == "offline-refused"
    assert refused["error"]["reason"] == "checkpoint-unlinked"
    bare = {k: v for k, v in bundle.items() if k != "checkpoint"}
    missing = json.loads(verify_offline(tmp_path, bare, "--cosigned", "--json", trust=trust).stdout)
    assert missing["error"]["type"] == "checkpoint-refused"
    assert missing["error"]["reason"] == "checkpoint-missing"
