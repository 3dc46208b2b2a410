"""SM3 in the portal (docs/SM3.md): the vendored implementation (sm-crypto's dist/sm3.js, served as
api/portal/static/vendor/sm-crypto/sm3.js) is the pinned npm package's file and gives the
digests of GM/T 0004-2012 (tests/vectors/sm3.json) and of OpenSSL; the offline verifier (the
built api/portal/static/offline-proof.js) reads SM3 leaves as ledger/verify/bundles.py does.

No chain, no browser: node runs the vendored file as a browser runs it (a global script setting
``self.sm3``), and the built verifier as tests/portal_js/test_offline_verifier.py does."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger import merkle
from ledger.errors import OfflineProofError
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust
from ledger.verify.offline import verify_bundle_offline

NODE_DIR = PROJECT_ROOT / "hardhat-node"
NODE_MODULES = NODE_DIR / "node_modules"
STATIC = PROJECT_ROOT / "api" / "portal" / "static"
VENDORED = STATIC / "vendor" / "sm-crypto"
VECTORS = PROJECT_ROOT / "tests" / "vectors" / "sm3.json"
MERKLE_VECTORS = PROJECT_ROOT / "tests" / "vectors" / "merkle.json"
BUILT = STATIC / "offline-proof.js"
CLI = NODE_DIR / "offline" / "cli.mjs"
PACKAGE = "sm-crypto"

#: Runs the vendored file in a fresh context as a page's <script> runs it (no module, no
#: require, no Node built-in: only `self`), then SM3 of each message given on stdin (hex) as hex.
RUN_VENDORED = """
const fs = require("node:fs");
const vm = require("node:vm");
const sandbox = { self: {} };
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), sandbox);
const messages = JSON.parse(fs.readFileSync(0, "utf8"));
sandbox.messages = messages;
const digests = vm.runInContext(`
  messages.map((hex) => {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
    return self.sm3(bytes);
  })
`, sandbox);
console.log(JSON.stringify({ type: typeof sandbox.self.sm3, digests }));
"""


def vendored_sm3(messages: list[bytes]) -> list[str]:
    """SM3 (lower-case hex) of each message, by the vendored file run as a browser script."""
    done = subprocess.run(
        ["node", "-e", RUN_VENDORED, str(VENDORED / "sm3.js")],
        input=json.dumps([m.hex() for m in messages]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["type"] == "function", "the script did not set self.sm3"
    digests: list[str] = answer["digests"]
    return digests


def message_of(case: dict[str, Any]) -> bytes:
    """A vector's message: UTF-8 text or hex bytes, repeated ``repeat`` times."""
    one = (
        bytes.fromhex(case["message_hex"])
        if "message_hex" in case
        else case["message"].encode("utf-8")
    )
    return one * case.get("repeat", 1)


def openssl_sm3(data: bytes) -> str:
    try:
        return hashlib.new("sm3", data).hexdigest()
    except ValueError:  # pragma: no cover - this Python's OpenSSL has no SM3
        pytest.skip("this Python's OpenSSL has no SM3")


# --------------------------------------------------------------------------- the vendored file


def test_the_vendored_sm3_is_the_pinned_npm_build() -> None:
    """sm-crypto's dist/sm3.js is served from api/portal/static/vendor, byte for byte the file of
    the version hardhat-node/package.json pins (installed by `make setup`: npm ci from the lock),
    with its licence, and the verify page loads it."""
    pinned = json.loads((NODE_DIR / "package.json").read_text())
    version = pinned["dependencies"][PACKAGE]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin an exact version"
    installed = NODE_MODULES / PACKAGE
    meta = json.loads((installed / "package.json").read_text())
    assert meta["version"] == version, "run `make setup` (npm ci in hardhat-node)"
    assert meta["license"] == "MIT"
    assert (VENDORED / "sm3.js").read_bytes() == (installed / "dist" / "sm3.js").read_bytes()
    assert (VENDORED / "LICENSE.txt").read_bytes() == (installed / "LICENCE_MIT").read_bytes()
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{PACKAGE}"]["version"] == version
    assert lock["packages"][""]["dependencies"][PACKAGE] == version
    template = (PROJECT_ROOT / "api" / "portal" / "templates" / "verify.html").read_text()
    assert '<script src="/static/vendor/sm-crypto/sm3.js" defer></script>' in template
    # A plain script: nothing it runs needs Node (no require of a module, no Buffer, no process).
    script = (VENDORED / "sm3.js").read_text()
    assert not re.search(r"\brequire\(|\bBuffer\b|\bprocess\.", script)


def test_the_vendored_sm3_gives_every_vector() -> None:
    """tests/vectors/sm3.json: each case's digest, and never a negative case's wrong one."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    cases, negative = vectors["cases"], vectors["negative"]
    assert len(cases) >= 5 and negative
    got = vendored_sm3([message_of(c) for c in cases + negative])
    for case, digest in zip(cases, got[: len(cases)], strict=True):
        assert digest == case["expected"], case["desc"]
    for case, digest in zip(negative, got[len(cases) :], strict=True):
        assert re.fullmatch(r"[0-9a-f]{64}", digest), case["desc"]
        assert digest != case["not_expected"], case["desc"]


def test_the_vendored_sm3_is_openssls_at_every_padding_length() -> None:
    """Messages of 0 to 200 bytes (each way a last block pads: 55, 56, 63, 64, 119, 120 …),
    longer ones, and text with every UTF-8 width, as OpenSSL (Python's hashlib) hashes them."""
    chance = random.Random(3)
    messages = [bytes(chance.randrange(256) for _ in range(n)) for n in range(201)]
    messages += [bytes(chance.randrange(256) for _ in range(n)) for n in (511, 512, 513, 100_003)]
    messages.append("a é 中 😀 低保名单（国密）".encode())
    got = vendored_sm3(messages)
    for message, digest in zip(messages, got, strict=True):
        assert digest == openssl_sm3(message), len(message)


# --------------------------------------------------------------------------- the offline verifier


def run_vectors(cases: list[dict[str, Any]], tmp_path: Path, trust: dict[str, Any]) -> list[Any]:
    """The built verifier's answer to each case (offline/cli.mjs --vectors runs the built file)."""
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"trust": trust, "cases": cases}), encoding="utf-8")
    done = subprocess.run(
        ["node", str(CLI), "--vectors", str(path)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def python_answer(bundle: Any, trust: dict[str, Any]) -> dict[str, Any]:
    """ledger.verify.offline's answer: {report} or {reason, message}."""
    try:
        report = verify_bundle_offline(bundle, ConsortiumTrust.from_dict(trust))
    except OfflineProofError as exc:
        return {"reason": exc.reason, "message": str(exc)}
    return {"report": report.as_dict()}


def js_answer(answer: dict[str, Any]) -> dict[str, Any]:
    if answer["valid"]:
        return {"report": answer["report"]}
    return {"reason": answer["reason"], "message": answer["message"]}


def test_sealed_sm3_bundles_get_pythons_answer(tmp_path: Path) -> None:
    """hardhat-node/offline/fixtures.mjs seals chains anchoring an SM3 dataset's file leaf and
    record leaf (the tag "sm3" first): the browser's verifier finds them valid with Python's very
    report, and refuses for Python's reason each leaf whose tag or shape is wrong (the tag is in
    the leaf hash: SM3 values read as a SHA-256 leaf do not hash to it)."""
    made = json.loads(
        subprocess.run(
            ["node", "offline/fixtures.mjs"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
    )
    cases = [case for case in made["cases"] if "SM3" in case["desc"]]
    assert len(cases) == 16
    shapes = {tuple(case["bundle"]["leaf"]["types"]) for case in cases if case["valid"]}
    assert shapes == {merkle.SM3_FILE_LEAF_TYPES, merkle.SM3_RECORD_LEAF_TYPES}
    answers = run_vectors(cases, tmp_path, made["trust"])
    assert len(answers) == len(cases)
    for case, answer in zip(cases, answers, strict=True):
        python = python_answer(case["bundle"], case.get("trust", made["trust"]))
        expected = {"valid": True} if case["valid"] else {"reason": case["reason"]}
        assert ("report" in python) == case["valid"], (case["desc"], python)
        assert python.get("reason") == expected.get("reason"), (case["desc"], python)
        got = js_answer(answer)
        if case["valid"]:
            assert got == python, case["desc"]
            assert got["report"]["kind"] == case["bundle"]["leaf"]["kind"]
        else:
            assert got["reason"] == python["reason"], (case["desc"], got, python)


#: The sentences both verifiers give of an SM3 leaf's form (ledger/verify/bundles.py).
SM3_SENTENCES = (
    "`leaf.types` must be [bytes32, string] (file) or [bytes32, bytes32] (record), "
    "or for SM3 [string, bytes32, string] or [string, bytes32, bytes32].",
    '`leaf.values[0]` of an SM3 leaf must be "sm3".',
    '`leaf.values` must hold the tag "sm3" and two values.',
)


def unsealed_bundles() -> list[tuple[str, dict[str, Any]]]:
    """xietong-proof/1 bundles (a leaf, its proof, the root: no claims, no seals) of every leaf
    of the SM3 trees of tests/vectors/merkle.json (made by @openzeppelin/merkle-tree), and of
    one SHA-256 tree, each whole and tampered with."""
    vectors = json.loads(MERKLE_VECTORS.read_text(encoding="utf-8"))
    trees = [c for c in vectors["cases"] if c["types"][0] == "string"]
    trees += [c for c in vectors["cases"] if c["desc"] in ("file-5-leaves", "record-5-leaves")]
    assert len(trees) == 5
    bundles: list[tuple[str, dict[str, Any]]] = []
    for tree in trees:
        for i, values in enumerate(tree["values"]):
            bundle = {
                "format": "xietong-proof/1",
                "leaf": {"types": tree["types"], "values": values, "hash": tree["leaves"][i]},
                "proof": tree["proofs"][i],
                "root": tree["root"],
                "dataset_id": "0x" + "5a" * 32,
            }
            bundles.append((f"{tree['desc']} leaf {i}", bundle))
    tampered: list[tuple[str, dict[str, Any]]] = []
    for desc, bundle in bundles:
        if bundle["leaf"]["types"][0] != "string":
            continue
        file = bundle["leaf"]["types"][2] == "string"

        def changed(
            edit: Any, what: str, source: dict[str, Any] = bundle, name: str = desc
        ) -> None:
            copied = copy.deepcopy(source)
            edit(copied)
            tampered.append((f"{name}: {what}", copied))

        changed(lambda b: b["leaf"]["values"].__setitem__(0, "SM3"), "the tag in capitals")
        changed(lambda b: b["leaf"]["values"].__setitem__(0, "sha256"), "another tag")
        changed(lambda b: b["leaf"]["values"].pop(0), "no tag")
        changed(lambda b: b["leaf"]["values"].append("x"), "a fourth value")
        changed(lambda b: b["leaf"]["types"].insert(0, "string"), "four types")
        changed(lambda b: b["leaf"].__setitem__("types", ["string", "string"]), "two strings")
        changed(
            lambda b: (
                b["leaf"].__setitem__("types", b["leaf"]["types"][1:]),
                b["leaf"].__setitem__("values", b["leaf"]["values"][1:]),
            ),
            "read as a SHA-256 leaf",
        )
        changed(lambda b: b["leaf"]["values"].__setitem__(1, "0x" + "00" * 32), "another digest")
        if file:
            changed(lambda b: b["leaf"]["values"].__setitem__(2, "other.csv"), "another path")
        else:
            changed(lambda b: b["leaf"]["values"].__setitem__(2, "0x" + "11" * 32), "another salt")
        changed(
            lambda b: (
                b["proof"].reverse() if len(b["proof"]) > 1 else b["proof"].append("0x" + "22" * 32)
            ),
            "another proof",
        )
    return bundles + tampered


def test_sm3_leaves_hash_as_python_hashes_them(tmp_path: Path) -> None:
    """A Merkle-path check of SM3 leaves (rule 2, without seals): every leaf of the SM3 trees of
    tests/vectors/merkle.json is found on its tree's root by the built verifier (which then
    stops at `no-seals`, as Python does); each tampered one is refused for Python's reason, with
    Python's sentence when it is one of an SM3 leaf's form."""
    bundles = unsealed_bundles()
    trust = json.loads(
        (PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json").read_text(encoding="utf-8")
    )["trust"]
    cases = [{"desc": desc, "bundle": bundle, "valid": False} for desc, bundle in bundles]
    answers = run_vectors(cases, tmp_path, trust)
    assert len(answers) == len(cases)
    reasons: dict[str, int] = {}
    sentences = set()
    for (desc, bundle), answer in zip(bundles, answers, strict=True):
        python = python_answer(bundle, trust)
        assert "reason" in python, desc
        assert answer["valid"] is False and answer["reason"] == python["reason"], (
            desc,
            answer,
            python,
        )
        whole = ":" not in desc
        assert (python["reason"] == "no-seals") == whole, (desc, python)
        if python["message"] in SM3_SENTENCES:
            assert answer["message"] == python["message"], (desc, answer)
            sentences.add(python["message"])
        reasons[python["reason"]] = reasons.get(python["reason"], 0) + 1
    assert sentences == set(SM3_SENTENCES)
    assert set(reasons) == {"no-seals", "bundle-form", "merkle-path"}, reasons
    # The leaf hash is merkle.leaf_hash's: the tag inside it.
    for desc, bundle in bundles:
        if ":" in desc or bundle["leaf"]["types"][0] != "string":
            continue
        values = bundle["leaf"]["values"]
        decoded = [
            values[0],
            bytes.fromhex(values[1][2:]),
            values[2] if bundle["leaf"]["types"][2] == "string" else bytes.fromhex(values[2][2:]),
        ]
        leaf = merkle.leaf_hash(bundle["leaf"]["types"], decoded)
        assert "0x" + leaf.hex() == bundle["leaf"]["hash"], desc
