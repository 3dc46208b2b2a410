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
from ledger.errors import CheckpointError, OfflineProofError, TrustFileError
from ledger.paths import PROJECT_ROOT
from ledger.trust import ConsortiumTrust, checkpoints_problem, fingerprint_of
from ledger.verify.offline import verify_bundle_offline
from ledger.witness import check_checkpoint
from ledger.witness.checkpoint import NO_COSIGNERS

NODE_DIR = PROJECT_ROOT / "hardhat-node"
STATIC = PROJECT_ROOT / "api" / "portal" / "static"
CLI = NODE_DIR / "offline" / "cli.mjs"
VECTORS = PROJECT_ROOT / "tests" / "vectors" / "offline_bundles.json"
#: Cosigned checkpoints and bundles carrying one (docs/CHECKPOINTS.md).
CHECKPOINT_VECTORS = PROJECT_ROOT / "tests" / "vectors" / "checkpoints.json"
BUILT = ("offline-proof.js", "offline-proof.LICENSES.txt")
#: The npm packages the verifier is built with (hardhat-node/package.json pins each).
PACKAGES = ("esbuild", "@ethereumjs/mpt", "@ethereumjs/rlp", "@noble/curves", "@noble/hashes")
#: The reason codes of docs/OFFLINE_PROOFS.md (each written **`code`**), in the order of its rules.
REASONS = re.findall(
    r"\*\*`([a-z-]+)`\*\*", (PROJECT_ROOT / "docs" / "OFFLINE_PROOFS.md").read_text()
)
#: The reason codes of docs/CHECKPOINTS.md, in the order of its rules (a bundle's checkpoint is
#: checked after docs/OFFLINE_PROOFS.md's rules).
CHECKPOINT_REASONS = re.findall(
    r"\*\*`([a-z-]+)`\*\*", (PROJECT_ROOT / "docs" / "CHECKPOINTS.md").read_text()
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
    a trust file it cannot read), then docs/CHECKPOINTS.md's for the bundle's checkpoint, and
    the portal says each in Chinese and English."""
    assert len(REASONS) == 28
    assert CHECKPOINT_REASONS == [
        "checkpoint-form",
        "cosigner-unknown",
        "cosignature-invalid",
        "cosigners-too-few",
        "checkpoint-below-anchor",
        "checkpoint-unlinked",
    ]
    assert with_built("console.log(JSON.stringify(V.REASONS));") == [
        "trust-form",
        *REASONS,
        *CHECKPOINT_REASONS,
    ]
    for reason in ["trust-form", *REASONS, *CHECKPOINT_REASONS, "unknown"]:
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


def test_a_trust_files_checkpoints_are_read_as_ledger_trust_reads_them() -> None:
    """The optional `checkpoints` member (docs/CHECKPOINTS.md): accepted when ledger/trust.py
    accepts it (with the same fingerprint), else refused with the very clause of
    `checkpoints_problem`, for each way a member can be malformed."""
    trust = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))["trust"]
    members = trust["checkpoints"]
    keys = members["cosigners"]
    first = keys[0]

    def changed(**change: Any) -> dict[str, Any]:
        return {**trust, "checkpoints": {**members, **change}}

    def key(i: int, **change: Any) -> dict[str, Any]:
        cosigners = copy.deepcopy(keys)
        cosigners[i] = {**cosigners[i], **change}
        return changed(cosigners=cosigners)

    one_department = copy.deepcopy(keys)
    one_department[1] = {**keys[1], "department": keys[0]["department"]}
    documents: list[dict[str, Any]] = [
        trust,
        {**trust, "fingerprint": fingerprint_of(trust)},
        key(0, code="杭州" * 32),  # 64 characters
        key(0, code="\U0001f600" * 64),  # 64 code points, 128 UTF-16 units
        changed(threshold=1),
        changed(threshold=4),
        changed(cosigners=one_department),  # 3 departments: threshold 3 still fits
        # Malformed: each refused.
        {**trust, "checkpoints": None},
        {**trust, "checkpoints": []},
        {**trust, "checkpoints": {"threshold": 3}},
        changed(extra=1),
        changed(cosigners=[]),
        changed(cosigners={"0": first}),
        changed(cosigners=[first] * 65),
        changed(cosigners=keys[::-1]),
        changed(cosigners=[first, first]),
        changed(cosigners=[*keys[:1], "0x" + "00" * 20]),
        changed(cosigners=[{k: v for k, v in first.items() if k != "code"}]),
        changed(cosigners=[{**first, "name": "x"}]),
        key(0, address=first["address"].lower()),
        key(0, address=first["address"][2:]),
        key(0, address=first["address"].replace("0x", "0X")),
        key(0, address=123),
        key(0, address="0x12"),
        key(0, address=None),
        key(0, department=None),
        key(0, department=first["department"].upper().replace("0X", "0x")),
        key(0, department=first["department"][:-2]),
        key(0, code=None),
        key(0, code=""),
        key(0, code="杭州" * 32 + "x"),
        key(0, code="\U0001f600" * 65),
        key(0, code=7),
        changed(threshold=0),
        changed(threshold=-1),
        changed(threshold=5),
        changed(threshold=True),
        changed(threshold="3"),
        changed(threshold=3.0),
        changed(threshold=None),
        changed(threshold=2**53),
        changed(threshold=[3]),
        changed(cosigners=one_department, threshold=4),
    ]
    readings = trust_readings(documents)
    accepted = 0
    for document, reading in zip(documents, readings, strict=True):
        problem = checkpoints_problem(document["checkpoints"])
        try:
            ConsortiumTrust.from_dict(document)
        except TrustFileError:
            assert problem is not None, document
            assert reading["problem"] == problem, (reading, problem)
            continue
        accepted += 1
        assert problem is None and reading["problem"] is None, (reading, document)
        assert reading["fingerprint"] == fingerprint_of(document)
    assert accepted == 7


def python_checkpoint(checkpoint: Any, trust: dict[str, Any]) -> dict[str, Any]:
    """ledger.witness's answer to a checkpoint alone: {checkpoint} or {reason}."""
    try:
        return {
            "checkpoint": check_checkpoint(checkpoint, ConsortiumTrust.from_dict(trust)).as_dict()
        }
    except CheckpointError as exc:
        return {"reason": exc.reason}


def python_bundle(bundle: Any, trust: dict[str, Any]) -> dict[str, Any]:
    """ledger.verify.offline's answer to a sealed bundle: {report} or {reason}."""
    try:
        return {"report": verify_bundle_offline(bundle, ConsortiumTrust.from_dict(trust)).as_dict()}
    except (OfflineProofError, CheckpointError) as exc:
        return {"reason": exc.reason}


def verdict(answer: dict[str, Any], what: str) -> dict[str, Any]:
    """The built verifier's ``answer`` as python_checkpoint or python_bundle gives theirs."""
    return {what: answer[what]} if answer["valid"] else {"reason": answer["reason"]}


def checkpoint_answers() -> dict[str, list[dict[str, Any]]]:
    """The built verifier's answers to tests/vectors/checkpoints.json, read as it reads JSON
    (strict, exact integers): `checkpoints` by V.checkCheckpoint, `bundles` by V.verifyBundle."""
    answers: dict[str, list[dict[str, Any]]] = with_built(
        f"""
        (async () => {{
          const vectors = V.parseJson(fs.readFileSync({json.dumps(str(CHECKPOINT_VECTORS))}, "utf8"));
          const trustOf = (entry) => (Object.hasOwn(entry, "trust") ? entry.trust : vectors.trust);
          const checkpoints = vectors.checkpoints.map((e) => V.checkCheckpoint(e.checkpoint, trustOf(e)));
          const bundles = [];
          for (const e of vectors.bundles) bundles.push(await V.verifyBundle(e.bundle, trustOf(e)));
          console.log(JSON.stringify({{ checkpoints, bundles }}));
        }})();
        """
    )
    return answers


def test_every_checkpoint_vector_gets_pythons_answer() -> None:
    """tests/vectors/checkpoints.json: each checkpoint checked alone (V.checkCheckpoint) and
    each sealed bundle carrying one (V.verifyBundle) gets the reason the vector expects, which
    is Python's; a valid one gets Python's very answer: the checkpoint, with its cosigners, and
    for a bundle the whole report (`checkpoint` and `unchecked` included)."""
    vectors = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))
    answers = checkpoint_answers()
    cases, bundles = vectors["checkpoints"], vectors["bundles"]
    assert len(answers["checkpoints"]) == len(cases) and len(answers["bundles"]) == len(bundles)
    wrong = []
    for case, answer in zip(cases, answers["checkpoints"], strict=True):
        python = python_checkpoint(case["checkpoint"], case.get("trust", vectors["trust"]))
        assert python.get("reason") == case.get("reason"), case["desc"]
        got = verdict(answer, "checkpoint")
        if got != python:
            wrong.append(
                f"checkpoint {case['desc']!r}: {got} ({answer.get('message')}), not {python}"
            )
    for case, answer in zip(bundles, answers["bundles"], strict=True):
        python = python_bundle(case["bundle"], case.get("trust", vectors["trust"]))
        assert python.get("reason") == case.get("reason"), case["desc"]
        got = verdict(answer, "report")
        if got != python:
            wrong.append(f"bundle {case['desc']!r}: {got} ({answer.get('message')}), not {python}")
    assert not wrong, "\n".join(wrong)
    valid = [a["report"] for a in answers["bundles"] if a["valid"]]
    cosigned = [r["checkpoint"] for r in valid if r["checkpoint"] is not None]
    assert len(cosigned) == 2 and all(len(c["cosigners"]) == 3 for c in cosigned)
    unchecked = [case for case in bundles if case.get("unchecked_checkpoint")]
    assert unchecked
    for case, answer in zip(bundles, answers["bundles"], strict=True):
        not_checked = NO_COSIGNERS in answer.get("report", {}).get("unchecked", [])
        assert not_checked == bool(case.get("unchecked_checkpoint")), case["desc"]
        if not_checked:
            assert answer["report"]["checkpoint"] is None


def test_the_checkpoint_vectors_refuse_for_every_reason() -> None:
    """Every reason of docs/CHECKPOINTS.md has a case (and the alone-checked `trust-no-cosigners`),
    and the built verifier's list of a checkpoint's reasons is theirs, in their order."""
    vectors = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))
    covered = {c["reason"] for c in vectors["checkpoints"] + vectors["bundles"] if "reason" in c}
    assert covered == {*CHECKPOINT_REASONS, "trust-no-cosigners"}, covered
    alone = with_built("console.log(JSON.stringify(V.CHECKPOINT_REASONS));")
    assert alone == ["checkpoint-form", "trust-no-cosigners", *CHECKPOINT_REASONS[1:4]]


def test_a_checkpoint_is_refused_as_python_refuses_it() -> None:
    """Changes the vectors leave out: integers as the strict reader keeps them (2^53 − 1 is one,
    1.0 and true are none), a checkpoint against a malformed trust file (`trust-form`), and a
    bundle's checkpoint that is no object, each answered as Python answers it."""
    vectors = json.loads(CHECKPOINT_VECTORS.read_text(encoding="utf-8"))
    trust = vectors["trust"]
    good = vectors["checkpoints"][0]["checkpoint"]
    texts = [
        json.dumps({**good, "number": 2**53 - 1}),
        json.dumps(good).replace(f'"number": {good["number"]}', f'"number": {good["number"]}.0'),
        json.dumps(good).replace(
            f'"time": {good["cosignatures"][0]["time"]}',
            f'"time": {good["cosignatures"][0]["time"]}.0',
            1,
        ),
        json.dumps({**good, "cosignatures": [{**good["cosignatures"][0], "time": False}]}),
        json.dumps({**good, "cosignatures": good["cosignatures"] * 22}),
        json.dumps({**good, "number": -1}),
        json.dumps(None),
    ]
    answers = with_built(
        f"""
        const trust = {json.dumps(trust)};
        const texts = JSON.parse(fs.readFileSync(0, "utf8"));
        const answers = texts.map((t) => V.checkCheckpoint(V.parseJson(t), trust));
        answers.push(V.checkCheckpoint(V.parseJson(texts[0]), {{ ...trust, chain_id: "1" }}));
        console.log(JSON.stringify(answers));
        """,
        stdin=json.dumps(texts),
    )
    for text, answer in zip(texts, answers, strict=False):
        python = python_checkpoint(json.loads(text), trust)
        got = verdict(answer, "checkpoint")
        assert got == python, (text[:120], answer)
    assert [a.get("reason") for a in answers] == [
        "cosignature-invalid",  # number 2^53 − 1 is an integer, but not what was signed
        "checkpoint-form",
        "checkpoint-form",
        "checkpoint-form",
        "checkpoint-form",  # 66 cosignatures
        "checkpoint-form",
        "checkpoint-form",
        "trust-form",
    ]


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
