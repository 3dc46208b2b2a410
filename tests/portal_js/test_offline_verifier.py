"""The browser's offline verifier of proof bundles (api/portal/static/offline-proof.js, built by
`make portal-js` from hardhat-node/offline/, docs/OFFLINE_PROOFS.md): the served file is the
build of the pinned packages; run under node it answers every vector as expected, with the
reason codes of the Python verifier; and it reads what Python reads with its own parsers
(`anchored_at` with datetime.fromisoformat, trust files with ledger/trust.py) the same way.

No chain, no browser: node runs the built file (hardhat-node/offline/cli.mjs, or a script)."""

from __future__ import annotations

import copy
import json
import random
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.portal.i18n import STRINGS
from ledger.errors import TrustFileError
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust, fingerprint_of

NODE_DIR = PROJECT_ROOT / "hardhat-node"
STATIC = PROJECT_ROOT / "api" / "portal" / "static"
CLI = NODE_DIR / "offline" / "cli.mjs"
VECTORS = PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json"
BUILT = ("offline-proof.js", "offline-proof.LICENSES.txt")
#: The npm packages the verifier is built with (hardhat-node/package.json pins each).
PACKAGES = ("esbuild", "@ethereumjs/mpt", "@ethereumjs/rlp", "@noble/curves", "@noble/hashes")
#: The reason codes of docs/OFFLINE_PROOFS.md (each written **`code`**), in the order of its rules.
REASONS = re.findall(
    r"\*\*`([a-z-]+)`\*\*", (PROJECT_ROOT / "docs" / "OFFLINE_PROOFS.md").read_text()
)


def node(*args: str, timeout: float = 120) -> str:
    """The standard output of ``node ARGS`` run in hardhat-node/ (which must succeed)."""
    done = subprocess.run(
        ["node", *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def with_built(script: str, stdin: str = "") -> Any:
    """The JSON a node ``script`` prints, run with the built verifier as ``V``."""
    built = json.dumps(str(STATIC / BUILT[0]))
    loader = f"""
        const fs = require("node:fs");
        require("node:vm").runInThisContext(fs.readFileSync({built}, "utf8"));
        const V = globalThis.XietongOffline;
    """
    done = subprocess.run(
        ["node", "-e", loader + script],
        cwd=NODE_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def answers_to(vectors: Path) -> list[dict[str, Any]]:
    """The built verifier's answer to each case of a vectors file, in order."""
    return [json.loads(line) for line in node(str(CLI), "--vectors", str(vectors)).splitlines()]


def expected(case: dict[str, Any]) -> str:
    return "valid" if case["valid"] else case["reason"]


def answered(answer: dict[str, Any]) -> str:
    return "valid" if answer["valid"] else answer["reason"]


def mismatches(vectors: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The cases of ``vectors`` and, one line each, those the verifier answers otherwise."""
    cases = json.loads(vectors.read_text(encoding="utf-8"))["cases"]
    answers = answers_to(vectors)
    assert len(answers) == len(cases), "the runner gave no answer to some cases"
    wrong = [
        f"case {i} ({case['desc']}): expected {expected(case)}, got {answered(answer)}"
        f" ({answer.get('message')})"
        for i, (case, answer) in enumerate(zip(cases, answers, strict=True))
        if answered(answer) != expected(case)
    ]
    return cases, wrong


def test_the_served_verifier_is_the_build_of_the_pinned_packages(tmp_path: Path) -> None:
    """offline-proof.js and its licences, byte for byte what esbuild makes from the sources and
    the exact versions hardhat-node/package.json pins (installed by `npm ci` from its lock)."""
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())["packages"]
    for name in PACKAGES:
        version = pinned[name]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"pin {name} to an exact version"
        assert lock[f"node_modules/{name}"]["version"] == version, name
        installed = json.loads((NODE_DIR / "node_modules" / name / "package.json").read_text())
        assert installed["version"] == version, f"{name}: run `make setup` (npm ci)"
    node("offline/build.mjs", str(tmp_path))
    for name in BUILT:
        assert (STATIC / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"api/portal/static/{name} is not the build of hardhat-node/offline: `make portal-js`"
        )
    licences = (STATIC / BUILT[1]).read_text(encoding="utf-8")
    for name in ("@ethereumjs/mpt", "@ethereumjs/rlp", "@noble/curves", "@noble/hashes"):
        assert f"{name}@{pinned[name]} (" in licences, f"{name}'s licence is not beside the build"


def test_the_verifier_and_the_portal_know_every_reason_in_the_documents_order() -> None:
    """The built verifier lists the document's codes in its order (after its own `trust-form`,
    a trust file it cannot read), and the portal says each in Chinese and English."""
    assert len(REASONS) == 28
    assert with_built("console.log(JSON.stringify(V.REASONS));") == ["trust-form", *REASONS]
    for reason in ["trust-form", *REASONS, "unknown"]:
        chinese, english = STRINGS[f"js.offline_reason.{reason}"]
        assert chinese.endswith("。") and english.endswith("."), reason


def trust_readings(documents: list[Any]) -> list[dict[str, Any]]:
    """The built verifier's reading of each trust file's text: {fingerprint, problem}."""
    readings: list[dict[str, Any]] = with_built(
        """
        const texts = JSON.parse(fs.readFileSync(0, "utf8"));
        console.log(JSON.stringify(texts.map((text) => {
          const read = V.readTrustText(text);
          const fingerprint = read.trust ? V.trustFingerprint(read.trust) : null;
          return { problem: read.problem ?? null, fingerprint };
        })));
        """,
        stdin=json.dumps([json.dumps(d) for d in documents]),
    )
    return readings


def test_a_trust_file_is_read_as_ledger_trust_reads_it() -> None:
    """Its fingerprint (canonical JSON, non-ASCII escaped, SHA-256) and which files are refused,
    as ledger/trust.py: the fingerprint vectors, the network's trust file with a department
    code outside ASCII, and malformed ones."""
    fingerprints = json.loads(
        (PROJECT_ROOT / "tests/vectors/consortium_fingerprint.json").read_text()
    )
    network = json.loads(VECTORS.read_text(encoding="utf-8"))["trust"]
    named = copy.deepcopy(network)
    named["clique"]["signers"][0]["code"] = "杭州民政-é\u2028"
    signers = network["clique"]["signers"]
    documents: list[Any] = [case["input"] for case in fingerprints["cases"]] + [network, named]
    documents += [
        {**network, "chain_id": True},
        {**network, "fingerprint": "0000-0000-0000-0000-0000-0000-0000-0000"},
        {**network, "clique": {**network["clique"], "signers": signers[::-1]}},
        {**network, "clique": {**network["clique"], "epoch": 0}},
        {**network, "clique": {**network["clique"], "extra": 1}},
        {**network, "genesis_hash": network["genesis_hash"].upper().replace("0X", "0x")},
        {
            **network,
            "contracts": {
                **network["contracts"],
                "DatasetRegistry": network["contracts"]["DatasetRegistry"].lower(),
            },
        },
        {**network, "clique": {**network["clique"], "signers": [{**signers[0], "code": None}]}},
    ]
    readings = trust_readings(documents)
    for document, reading in zip(documents, readings, strict=True):
        try:
            ConsortiumTrust.from_dict(document)
        except TrustFileError:
            assert reading["problem"], document
            continue
        assert reading["problem"] is None, (reading, document)
        assert reading["fingerprint"] == fingerprint_of(document)
    for case, reading in zip(fingerprints["cases"], readings, strict=False):
        assert reading["fingerprint"] == case["expected"]
    assert sum(r["problem"] is None for r in readings) == len(fingerprints["cases"]) + 2


def test_every_vector_gets_the_answer_it_expects() -> None:
    """tests/vectors/offline_bundles.json: real bundles of a 4-validator geth network and one
    tampered case per reason code; the Python verifier answers the same cases."""
    assert VECTORS.is_file(), f"{VECTORS} is missing: the offline verifiers have no vectors"
    cases, wrong = mismatches(VECTORS)
    assert not wrong, "\n".join(wrong)
    assert any(case["valid"] for case in cases)


def test_the_vectors_refuse_for_every_reason() -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    covered = {case["reason"] for case in cases if not case["valid"]}
    assert set(REASONS) <= covered, f"no case refused for {sorted(set(REASONS) - covered)}"
    assert covered <= set(REASONS), f"unknown reasons {sorted(covered - set(REASONS))}"


def test_made_up_chains_with_votes_checkpoints_and_each_refusal(tmp_path: Path) -> None:
    """hardhat-node/offline/fixtures.mjs: chains sealed here with Hardhat's development keys
    (deterministic signatures), where a vote adds a signer who then seals the anchor block,
    epoch checkpoints list the signers, and one rule at a time is broken."""
    made = tmp_path / "made_up.json"
    made.write_text(node("offline/fixtures.mjs"), encoding="utf-8")
    cases, wrong = mismatches(made)
    assert not wrong, "\n".join(wrong)
    refused = {case["reason"] for case in cases if not case["valid"]}
    assert refused == set(REASONS), sorted(set(REASONS) ^ refused)
    assert sum(case["valid"] for case in cases) >= 4


def test_a_bundle_file_is_read_strictly_and_answered_on_one_line(tmp_path: Path) -> None:
    """The runner's file mode (as the portal reads a dropped file): strict JSON, so a member
    named twice or a chain id written 1.0 is no bundle, and a trust file is checked first."""
    made = json.loads(node("offline/fixtures.mjs"))
    bundle, trust = made["cases"][0]["bundle"], made["trust"]
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps(trust), encoding="utf-8")

    def answer(text: str, trust_path: Path = trust_file) -> dict[str, Any]:
        path = tmp_path / "bundle.json"
        path.write_text(text, encoding="utf-8")
        lines = node(str(CLI), str(path), str(trust_path)).splitlines()
        assert len(lines) == 1
        result: dict[str, Any] = json.loads(lines[0])
        return result

    valid = answer(json.dumps(bundle))
    assert valid["valid"] is True
    report = valid["report"]
    assert report["signers"] == 4 and report["required"] == 3
    assert report["from_genesis"] is False
    assert report["sealed_by"]["code"] and len(report["confirmed_by"]) == 2
    text = json.dumps(bundle)
    assert answer(text.replace('"chain_id": 31337', '"chain_id": 31337.0'))["reason"] == (
        "bundle-form"
    )
    assert answer(text[:-1] + ', "chain_id": 31337}')["reason"] == "bundle-form"
    assert answer(text[: len(text) // 2])["reason"] == "bundle-form"
    bad_trust = tmp_path / "bad-trust.json"
    bad_trust.write_text(json.dumps({**trust, "chain_id": "31337"}), encoding="utf-8")
    assert answer(text, bad_trust)["reason"] == "trust-form"


#: Times as bundles write them, and as Python's datetime.fromisoformat also reads them.
TIMES = (
    "{iso}",
    "{date}T{time}Z",
    "{date} {time}+00:00",
    "{date}T{time}.000000+00:00",
    "20261206T163950+0000",
    "2026-W49-7T16:39:50+08:00",
    "2026W497T163950Z",
    "2026-12-07T00:39:50+08:00",
    "2026-12-06\u4e2d16:39:50Z",
    "2026-12-06T16:39:50.5+00:00",
    "2026-12-06T16:39:50",
)
TIME_ALPHABET = "0123456789-+:.,TWZ x\u00e9\u4e2d\ud800"


def python_reading(claimed: str, timestamp: int) -> str:
    """What the Python verifier makes of ``anchored_at`` for a block sealed at ``timestamp``."""
    try:
        when = datetime.fromisoformat(claimed.replace("Z", "+00:00"))
    except ValueError:
        return "bundle-form"
    if when.tzinfo is None:
        return "bundle-form"
    return "valid" if when.timestamp() == timestamp else "claim-time"


def test_anchored_at_is_read_as_python_reads_it(tmp_path: Path) -> None:
    """`anchored_at` is checked (rule 1) and compared (rule 8) as the Python verifier does with
    datetime.fromisoformat: the same forms accepted, the same instants, for the written forms
    and for a few thousand strings made by changing them at random (seeded)."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    bundle = next(case["bundle"] for case in vectors["cases"] if case["valid"])
    timestamp = int(datetime.fromisoformat(bundle["anchored_at"]).timestamp())
    iso = datetime.fromtimestamp(timestamp, tz=UTC)
    written = [
        t.format(iso=bundle["anchored_at"], date=f"{iso:%Y-%m-%d}", time=f"{iso:%H:%M:%S}")
        for t in TIMES
    ]
    chance = random.Random(16)
    times = set(written)
    while len(times) < 1500:
        text = list(chance.choice(written))
        for _ in range(chance.randint(1, 4)):
            at = chance.randrange(len(text) + 1)
            if chance.random() < 0.5 and at < len(text):
                text[at] = chance.choice(TIME_ALPHABET)
            elif chance.random() < 0.5 and at < len(text):
                del text[at]
            else:
                text.insert(at, chance.choice(TIME_ALPHABET))
        times.add("".join(text))
    cases = []
    for claimed in sorted(times):
        changed = copy.deepcopy(bundle)
        changed["anchored_at"] = claimed
        reading = python_reading(claimed, timestamp)
        expected = {"valid": True} if reading == "valid" else {"valid": False, "reason": reading}
        cases.append({"desc": f"anchored_at {claimed!r}", "bundle": changed, **expected})
    made = tmp_path / "times.json"
    made.write_text(json.dumps({"trust": vectors["trust"], "cases": cases}), encoding="utf-8")
    _, wrong = mismatches(made)
    assert not wrong, "\n".join(wrong[:20])
    readings = [python_reading(t, timestamp) for t in times]
    assert {"valid", "claim-time", "bundle-form"} <= set(readings)
    assert readings.count("valid") >= 8
