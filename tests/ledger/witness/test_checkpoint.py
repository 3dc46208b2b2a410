"""Cosigned checkpoints checked by ledger.witness (docs/CHECKPOINTS.md): every case of
tests/vectors/checkpoints.json gets the answer it expects (the browser's verifier runs the same
cases: tests/portal_js/test_offline_verifier.py); a cosignature is an EIP-191 personal
signature that Foundry's `cast`, an independent implementation, accepts, and refuses once the
text changes; and the vectors are what scripts/make_checkpoint_vectors.py makes, byte for byte.

No chain: the vectors' bundles were sealed by a real network once, and are checked offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import CheckpointError, OfflineProofError
from ledger.keys import dev_account
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust
from ledger.verify.offline import verify_bundle_offline
from ledger.witness import check_checkpoint, cosign, signed_text, signer_of
from ledger.witness.checkpoint import NO_COSIGNERS

VECTORS = PROJECT_ROOT / "tests" / "vectors" / "checkpoints.json"
SCRIPT = PROJECT_ROOT / "scripts" / "make_checkpoint_vectors.py"
CAST = PROJECT_ROOT / "hardhat-node/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
#: The reason codes of docs/CHECKPOINTS.md (each written **`code`**), in the order of its rules.
REASONS = re.findall(r"\*\*`([a-z-]+)`\*\*", (PROJECT_ROOT / "docs" / "CHECKPOINTS.md").read_text())
GENESIS = "0x" + "ab" * 32
BLOCK = "0x" + "cd" * 32


def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return loaded


def trust_of(case: dict[str, Any], document: dict[str, Any]) -> ConsortiumTrust:
    return ConsortiumTrust.from_dict(case.get("trust", document["trust"]))


def test_every_checkpoint_gets_the_answer_it_expects() -> None:
    """A valid checkpoint names its cosigners as the trust file does, one per cosignature in
    the checkpoint's (address) order, with enough departments; a broken one its reason."""
    document = vectors()
    valid = 0
    for case in document["checkpoints"]:
        trust = trust_of(case, document)
        if "reason" in case:
            with pytest.raises(CheckpointError) as refused:
                check_checkpoint(case["checkpoint"], trust)
            assert refused.value.reason == case["reason"], (case["desc"], str(refused.value))
            continue
        valid += 1
        cosigned = check_checkpoint(case["checkpoint"], trust)
        assert trust.checkpoints is not None
        named = {c.address: c for c in trust.checkpoints.cosigners}
        signatures = case["checkpoint"]["cosignatures"]
        assert cosigned.number == case["checkpoint"]["number"]
        assert cosigned.hash == case["checkpoint"]["hash"]
        assert cosigned.threshold == trust.checkpoints.threshold
        assert [c["address"] for c in cosigned.cosigners] == [s["address"] for s in signatures]
        for cosigner, signature in zip(cosigned.cosigners, signatures, strict=True):
            assert cosigner["time"] == signature["time"]
            assert cosigner["department"] == named[cosigner["address"]].department
            assert cosigner["code"] == named[cosigner["address"]].code
        assert cosigned.departments >= cosigned.threshold
    assert valid == 2


def test_every_bundle_gets_the_answer_it_expects() -> None:
    """A sealed bundle carrying a checkpoint: refused for the checkpoint's reason, or valid
    with the checkpoint checked; not checked (and said so) when the trust file names no
    cosigners; none when the bundle has none."""
    document = vectors()
    for case in document["bundles"]:
        trust = trust_of(case, document)
        if "reason" in case:
            with pytest.raises((OfflineProofError, CheckpointError)) as refused:
                verify_bundle_offline(case["bundle"], trust)
            assert getattr(refused.value, "reason", None) == case["reason"], case["desc"]
            continue
        answer = verify_bundle_offline(case["bundle"], trust)
        carried = case["bundle"].get("checkpoint")
        if case.get("unchecked_checkpoint"):
            assert answer.checkpoint is None and NO_COSIGNERS in answer.unchecked, case["desc"]
        elif carried is None:
            assert answer.checkpoint is None and NO_COSIGNERS not in answer.unchecked
        else:
            assert NO_COSIGNERS not in answer.unchecked
            assert answer.checkpoint == check_checkpoint(carried, trust).as_dict(), case["desc"]


def test_the_vectors_refuse_for_every_reason() -> None:
    """A case per reason of docs/CHECKPOINTS.md, and one for a trust file without cosigners."""
    document = vectors()
    cases = document["checkpoints"] + document["bundles"]
    covered = {case["reason"] for case in cases if "reason" in case}
    assert len(REASONS) == 6
    assert covered == {*REASONS, "trust-no-cosigners"}, covered


def cast_verifies(address: str, text: str, signature: str) -> bool:
    """Whether `cast wallet verify` says ``address`` signed ``text`` (given as 0x-hex, so that
    its bytes, the final line feed included, are what cast hashes)."""
    done = subprocess.run(
        [
            str(CAST),
            "wallet",
            "verify",
            "--address",
            address,
            "0x" + text.encode().hex(),
            signature,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    if done.returncode == 0:
        assert "Validation succeeded" in done.stdout, done.stdout
    else:
        assert "Validation failed" in done.stderr, done.stderr
    return done.returncode == 0


def test_a_cosignature_is_what_cast_verifies_as_an_eip191_signature() -> None:
    """Foundry's cast (Rust, alloy), an implementation of EIP-191 independent of eth-account,
    accepts a cosignature over the signed text and refuses it over any other text: another
    number, time, block hash or chain, or the text without its last line feed."""
    assert CAST.is_file(), f"{CAST} is missing: run `make setup` (npm ci in hardhat-node)"
    account = dev_account(12)
    time = 1765000000
    cosignature = cosign(
        account.key, chain_id=31338, genesis_hash=GENESIS, number=16, block_hash=BLOCK, time=time
    )
    text = signed_text(31338, GENESIS, 16, BLOCK, time)
    assert text == f"cosignature/v1\ntime {time}\nxietong/31338/{GENESIS}\n16\n{BLOCK}\n"
    assert cosignature.address == account.address
    assert signer_of(text, bytes.fromhex(cosignature.signature[2:])) == account.address
    assert cast_verifies(account.address, text, cosignature.signature)
    changed = [
        signed_text(31338, GENESIS, 17, BLOCK, time),
        signed_text(31338, GENESIS, 16, BLOCK, time + 1),
        signed_text(31338, GENESIS, 16, GENESIS, time),
        signed_text(31337, GENESIS, 16, BLOCK, time),
        text[:-1],
    ]
    for other in changed:
        assert not cast_verifies(account.address, other, cosignature.signature), other
    assert not cast_verifies(dev_account(13).address, text, cosignature.signature)


def test_the_vectors_are_what_the_script_makes(tmp_path: Path) -> None:
    """Signatures are deterministic (RFC 6979): the script, run again, writes the committed
    file byte for byte (it checks every case against ledger.witness first)."""
    out = tmp_path / "checkpoints.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == VECTORS.read_bytes(), (
        "tests/vectors/checkpoints.json is not what scripts/make_checkpoint_vectors.py makes"
    )
