"""The verify page's offline check of a proof bundle (docs/OFFLINE_PROOFS.md): the built
verifier (offline-proof.js) runs in the browser with the network cut, against the trust file
the page embeds or one the reader chooses, and names the reason of a refusal.

Debian's Chromium driven by Playwright against the real app over a real Hardhat node with the
demo played (the ``world`` of conftest.py). The demo's chain has no seals, so its trust file
names no signers; the sealed bundles are those of tests/vectors/offline_bundles.json, made on
a geth Clique network, with that network's trust file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Page, Request, expect

from ledger.paths import PROJECT_ROOT
from tests.browser._portal import PORTAL_MARKS, World, axe_violations, sign_in

F = TypeVar("F", bound=Callable[..., Any])
VECTORS = PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json"
CHECKPOINT_VECTORS = PROJECT_ROOT / "tests" / "vectors" / "checkpoints.json"


def on_the_demo(test: F) -> F:
    for mark in PORTAL_MARKS:
        test = mark(test)
    return test


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """From the vectors: the network's trust file, a valid bundle and two tampered ones."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))

    def first(test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        case: dict[str, Any] = next(c for c in vectors["cases"] if "trust" not in c and test(c))
        return case["bundle"]

    chosen = {
        "trust": vectors["trust"],
        "valid": first(lambda c: c["valid"]),
        "outside": first(lambda c: c.get("reason") == "signer-outside-set"),
        "merkle": first(lambda c: c.get("reason") == "merkle-path"),
    }
    paths = {}
    for name, content in chosen.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(content, indent=1), encoding="utf-8")
    return paths


def answer(page: Page) -> Any:
    return page.locator("#offline-result .verdict")


@on_the_demo
def test_a_bundle_is_checked_in_the_browser_with_the_network_cut(
    page: Page, world: World, files: dict[str, Path]
) -> None:
    sign_in(page, world)
    page.goto(world.base + "/")
    # The gateway's own trust file is in the page: a Hardhat chain's, without signers.
    status = page.locator("#offline-trust-status")
    expect(status).to_contain_text("未列出 Clique 签封者")
    sent: list[str] = []

    def record(request: Request) -> None:
        sent.append(request.url)

    page.context.set_offline(True)
    page.on("request", record)
    page.set_input_files("#offline-bundle", str(files["valid"]))
    expect(answer(page)).to_have_attribute("data-reason", "trust-no-signers")
    # The network's trust file, chosen: the same bundle checked again, valid.
    page.set_input_files("#offline-trust-file", str(files["trust"]))
    expect(status).to_contain_text("链 ID 31338，4 个签封者")
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    expect(answer(page)).to_have_attribute("data-signers", "4")
    trust = json.loads(files["trust"].read_text(encoding="utf-8"))
    expect(status).to_contain_text(trust_fingerprint(page, trust))
    codes = {s["code"] for s in trust["clique"]["signers"]}
    sealers = page.locator("#offline-result .offline-facts .signer[data-code]")
    expect(sealers).to_have_count(3)  # the anchor's signer and two on top: 3 of 4
    assert set(sealers.evaluate_all("nodes => nodes.map(n => n.dataset.code)")) <= codes
    expect(answer(page)).to_contain_text("离线核验通过")
    expect(page.locator("#offline-result .offline-facts")).to_contain_text(
        "4 个中至少需 3 个，已有 3 个"
    )
    # Tampered bundles: refused, with the reason's code and sentence.
    page.set_input_files("#offline-bundle", str(files["outside"]))
    expect(answer(page)).to_have_attribute("data-reason", "signer-outside-set")
    expect(answer(page).locator("code.reason")).to_have_text("signer-outside-set")
    expect(answer(page)).to_contain_text("由不在签封者集合中的密钥签封")
    page.set_input_files("#offline-bundle", str(files["merkle"]))
    expect(answer(page)).to_have_attribute("data-reason", "merkle-path")
    # Not a bundle at all.
    page.set_input_files("#offline-bundle", str(world.anchored_file))
    expect(answer(page)).to_have_attribute("data-reason", "bundle-form")
    assert sent == [], f"the page sent requests while offline: {sent}"
    # A trust file that is no trust file is refused; the one in use stays.
    page.set_input_files("#offline-trust-file", str(files["valid"]))
    expect(status).to_contain_text("未被采用")
    page.set_input_files("#offline-bundle", str(files["valid"]))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")


@on_the_demo
def test_a_long_history_is_followed_in_the_browser(
    page: Page, world: World, tmp_path: Path
) -> None:
    """A bundle with 559 headers of history, a signer voted out on the way (made by
    hardhat-node/offline/fixtures.mjs): followed in slices, the page kept responsive."""
    made = subprocess.run(
        ["node", "offline/fixtures.mjs"],
        cwd=PROJECT_ROOT / "hardhat-node",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    case = next(c for c in json.loads(made.stdout)["cases"] if "559 headers" in c["desc"])
    bundle, trust = tmp_path / "long.json", tmp_path / "trust.json"
    bundle.write_text(json.dumps(case["bundle"]), encoding="utf-8")
    trust.write_text(json.dumps(case["trust"]), encoding="utf-8")
    sign_in(page, world)
    page.goto(world.base + "/?lang=en")
    page.context.set_offline(True)
    page.set_input_files("#offline-trust-file", str(trust))
    page.set_input_files("#offline-bundle", str(bundle))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    expect(answer(page)).to_have_attribute("data-signers", "3")
    facts = page.locator("#offline-result .offline-facts")
    expect(facts).to_contain_text("followed from the genesis block")
    expect(facts).to_contain_text("2 of 3; 2 required")


@on_the_demo
def test_a_bundles_cosigned_checkpoint_is_shown_with_its_cosigners(
    page: Page, world: World, tmp_path: Path
) -> None:
    """A bundle carrying a cosigned checkpoint (tests/vectors/checkpoints.json): its block,
    hash and cosigning departments shown; not checked against a trust file without cosigners,
    and refused, with the reason's sentence, when a cosignature does not verify."""
    vectors = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))

    def case(desc: str) -> dict[str, Any]:
        found: dict[str, Any] = next(c for c in vectors["bundles"] if c["desc"] == desc)
        return found

    cosigned = case("cosigned at the last sealed header")
    checkpoint = cosigned["bundle"]["checkpoint"]
    paths = {
        "trust": vectors["trust"],
        "old-trust": case("a checkpoint and a trust file that names no cosigners")["trust"],
        "cosigned": cosigned["bundle"],
        "none": case("no checkpoint (null)")["bundle"],
        "invalid": case("a checkpoint whose cosignature does not verify")["bundle"],
    }
    files = {}
    for name, content in paths.items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(content), encoding="utf-8")
    codes = {c["address"]: c["code"] for c in vectors["trust"]["checkpoints"]["cosigners"]}
    sign_in(page, world)
    page.goto(world.base + "/?lang=en")
    page.context.set_offline(True)
    page.set_input_files("#offline-trust-file", str(files["trust"]))
    page.set_input_files("#offline-bundle", str(files["cosigned"]))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    facts = page.locator("#offline-result .offline-facts")
    block = facts.locator(".offline-checkpoint")
    expect(block).to_have_attribute("data-checkpoint", str(checkpoint["number"]))
    expect(block).to_contain_text(f"#{checkpoint['number']}")
    expect(block.locator("code.hex")).to_have_attribute("title", checkpoint["hash"])
    cosigners = facts.locator(".cosigner[data-code]")
    expect(cosigners).to_have_count(3)
    expected = [codes[s["address"]] for s in checkpoint["cosignatures"]]
    assert cosigners.evaluate_all("nodes => nodes.map(n => n.dataset.code)") == expected
    for code in expected:
        expect(facts).to_contain_text(code)
    expect(facts).to_contain_text("3 departments; 3 required")
    # The signers who sealed are not taken for cosigners, nor the other way round.
    expect(facts.locator(".signer[data-code]")).to_have_count(3)
    # A bundle without a checkpoint says so.
    page.set_input_files("#offline-bundle", str(files["none"]))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    expect(facts.locator(".offline-checkpoint")).to_have_attribute("data-checkpoint", "none")
    expect(facts).to_contain_text("The bundle carries no cosigned checkpoint.")
    expect(facts.locator(".cosigner")).to_have_count(0)
    # A checkpoint that does not verify: the bundle is refused for it.
    page.set_input_files("#offline-bundle", str(files["invalid"]))
    expect(answer(page)).to_have_attribute("data-reason", "cosignature-invalid")
    expect(answer(page)).to_contain_text("A signature of the cosigned checkpoint does not verify.")
    # A trust file made before cosigners: the checkpoint is not checked, and the page says so.
    page.set_input_files("#offline-trust-file", str(files["old-trust"]))
    page.set_input_files("#offline-bundle", str(files["cosigned"]))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    expect(facts.locator(".offline-checkpoint")).to_have_attribute("data-checkpoint", "unchecked")
    expect(facts).to_contain_text("the trust file names no checkpoint cosigners")
    expect(facts.locator(".cosigner")).to_have_count(0)


def trust_fingerprint(page: Page, trust: dict[str, Any]) -> str:
    """The fingerprint the page's verifier computes (the vectors' trust file carries none)."""
    fingerprint: str = page.evaluate("(t) => window.XietongOffline.trustFingerprint(t)", trust)
    return fingerprint


@on_the_demo
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_offline_answers_have_no_wcag_21_aa_violation(
    axe_page: Page, world: World, files: dict[str, Path], lang: str
) -> None:
    page = axe_page
    sign_in(page, world)
    page.goto(f"{world.base}/?lang={lang}")
    found: dict[str, Any] = {}
    page.set_input_files("#offline-trust-file", str(files["trust"]))
    page.set_input_files("#offline-bundle", str(files["valid"]))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    found["valid"] = axe_violations(page)
    page.set_input_files("#offline-bundle", str(files["outside"]))
    expect(answer(page)).to_have_attribute("data-reason", "signer-outside-set")
    if lang == "en":
        expect(answer(page)).to_contain_text("sealed by a key outside the signer set")
    found["refused"] = axe_violations(page)
    # A bundle with its cosigned checkpoint, against the trust file that names the cosigners.
    vectors = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))
    cosigned = next(
        c for c in vectors["bundles"] if c["desc"] == "cosigned at the last sealed header"
    )
    trust, bundle = files["trust"].parent / "cosigners.json", files["trust"].parent / "bundle.json"
    trust.write_text(json.dumps(vectors["trust"]), encoding="utf-8")
    bundle.write_text(json.dumps(cosigned["bundle"]), encoding="utf-8")
    page.set_input_files("#offline-trust-file", str(trust))
    page.set_input_files("#offline-bundle", str(bundle))
    expect(answer(page)).to_have_attribute("data-status", "offline-valid")
    expect(page.locator("#offline-result .cosigner")).to_have_count(3)
    found["cosigned"] = axe_violations(page)
    violations = {state: v for state, v in found.items() if v}
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
