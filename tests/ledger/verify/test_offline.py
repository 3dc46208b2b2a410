"""The offline verifier (ledger.verify.offline) over the shared vectors: real sealed bundles
from a 4-validator geth network and one tampered case per reason of docs/OFFLINE_PROOFS.md
(tests/vectors/offline_bundles.json, made by scripts/make_offline_vectors.py; the browser's
verifier is run over the same file in tests/portal_js). A bundle made on Hardhat says it
needs a node."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.db.engine import create_db_engine
from ledger.errors import OfflineProofError
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust
from ledger.verify import verify_bundle
from ledger.verify.offline import verify_bundle_offline
from tests.ledger.verify.test_bundle_attacks import anchored_bundle, decision
from tests.support import Consortium

VECTORS = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json").read_text(encoding="utf-8")
)
#: Every reason of docs/OFFLINE_PROOFS.md; each has a case among the vectors.
REASONS = {
    "bundle-form", "merkle-path", "no-seals", "trust-no-signers", "claim-chain",
    "claim-contract", "header-form", "wrong-genesis", "header-link", "claim-block",
    "claim-time", "header-field", "header-time", "seal-invalid", "signer-outside-set",
    "signer-repeated", "header-difficulty", "checkpoint-signers", "too-few-signers",
    "transaction-proof", "claim-transaction", "receipt-proof", "receipt-form",
    "receipt-failed", "anchor-missing", "claim-publisher", "claim-leaf-count", "claim-version",
}  # fmt: skip


def trust_of(case: dict[str, Any]) -> ConsortiumTrust:
    return ConsortiumTrust.from_dict(case.get("trust", VECTORS["trust"]))


def test_every_reason_of_the_rules_has_a_vector_and_the_document_names_them_all() -> None:
    assert {c["reason"] for c in VECTORS["cases"] if not c["valid"]} == REASONS
    rules = (PROJECT_ROOT / "docs" / "OFFLINE_PROOFS.md").read_text(encoding="utf-8")
    assert all(f"**`{reason}`**" in rules for reason in REASONS)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["desc"])
def test_the_vectors(case: dict[str, Any]) -> None:
    if case["valid"]:
        check = verify_bundle_offline(case["bundle"], trust_of(case))
        trust = trust_of(case)
        assert trust.clique is not None
        assert (check.signers, check.required) == (4, 3)
        sealers = [check.sealed_by, *check.confirmed_by]
        assert len({s["address"] for s in sealers}) == len(sealers) >= 3
        codes = {s.code for s in trust.clique.signers}
        assert {s["code"] for s in sealers} <= codes
        assert check.from_genesis is (case["bundle"]["sealed"]["history"] is not None)
        assert check.block_number == case["bundle"]["block_number"]
        assert check.transaction == case["bundle"]["transaction"]
        return
    with pytest.raises(OfflineProofError) as refused:
        verify_bundle_offline(case["bundle"], trust_of(case))
    assert refused.value.reason == case["reason"], str(refused.value)
    assert str(refused.value).endswith(".")


def test_a_bundle_is_not_changed_by_its_check() -> None:
    case = VECTORS["cases"][0]
    before = copy.deepcopy(case["bundle"])
    verify_bundle_offline(case["bundle"], trust_of(case))
    assert case["bundle"] == before


def test_a_bundle_made_on_hardhat_has_no_seals_and_says_it_needs_a_node(
    consortium: Consortium, tmp_path: Path
) -> None:
    c = consortium
    engine = create_db_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    try:
        dataset = c.register_dataset("B", "HZ-OFFLINE", b"\x01" * 32)
        bundle = anchored_bundle(
            c.client,
            c.deployment,
            engine,
            c.ops["B"],
            decision(tmp_path / "d", "无封印\n"),
            dataset,
        )
    finally:
        engine.dispose()
    assert bundle["format"] == "xietong-proof/3" and bundle["sealed"] is None
    trust = c.deployment.trust()
    assert trust.clique is None
    assert verify_bundle(bundle, c.client.w3, trust=trust).leaf == bundle["leaf"]["hash"]
    with pytest.raises(OfflineProofError, match=r"check it against a node") as refused:
        verify_bundle_offline(bundle, trust)
    assert refused.value.reason == "no-seals"
