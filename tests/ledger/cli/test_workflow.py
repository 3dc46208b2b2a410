"""The README journey through the `xietong` command, as separate processes on a real node
and a real database: anchor a folder and a CSV, verify a file and a row, hand a proof
bundle to someone who checks it against the node, run agreements and commitments, and
read the audit trail. The command is a thin layer over the library, whose SQL runs on SQLite
and PostgreSQL in tests/ledger and tests/api: here SQLite is enough."""

from __future__ import annotations

import csv
import json
import shlex
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger import receipts
from ledger.chain.client import ChainClient, connect
from ledger.chain.node import free_port
from ledger.ids import code_hash, dataset_id, department_id, version_id
from ledger.keys import dev_account
from ledger.trust import load_trust
from tests.ledger.cli._cli import Cli, documented
from tests.support import gateway_environment

PSB, CIVIL, HEALTH = "11330100MB1A00001P", "11330100MB1A00002K", "11330100MB1A00003F"


def hx_id(code: str) -> str:
    return "0x" + department_id(code).hex()


#: The JSON fields docs/CLI.md shows, command by command.
REGISTER_FIELDS = set(documented("xietong dataset register"))
ANCHOR_FIELDS = set(documented("xietong dataset anchor"))
REVOKE_FIELDS = set(documented("xietong dataset revoke"))
PROOF_FIELDS = set(documented("xietong dataset proof"))
BUNDLE_FIELDS = set(documented("xietong dataset proof", 1))
VERIFY_FIELDS = set(documented("xietong verify FILE"))
MATCH_FIELDS = set(documented("xietong verify FILE")["matches"][0])
VERSION_FIELDS = set(documented("xietong verify FILE")["matches"][0]["version"])
VERIFY_PROOF_FIELDS = set(documented("xietong verify-proof"))


def vid(dataset: str, root: str) -> str:
    """The id of version ``root`` of ``dataset`` (both 0x-hex)."""
    return "0x" + version_id(bytes.fromhex(dataset[2:]), bytes.fromhex(root[2:])).hex()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_proof_names_its_version_when_two_datasets_hold_the_content(
    cli: Cli, tmp_path: Path
) -> None:
    """`dataset proof --root ROOT` is refused when two datasets hold that root (naming each
    version id); `--root DATASET:ROOT`, with a code of this department or a 0x dataset id,
    writes the bundle of that version (docs/CLI.md)."""
    folder = tmp_path / "notices"
    folder.mkdir()
    notice = folder / "通知.txt"
    notice.write_text("关于开展低保复核的通知\n", encoding="utf-8")
    ids = {}
    for code in ("HZ-NOTICES", "HZ-ARCHIVE"):
        ids[code] = cli.json("dataset", "register", code)["dataset_id"]
        anchored = cli.json("dataset", "anchor", str(folder), "--dataset", code)
    root = anchored["root"]
    cli.run("index")
    refused = cli.json(
        "dataset", "proof", str(notice), "--out", str(tmp_path / "p.json"), "--root", root, ok=False
    )
    message = refused["error"]["message"]
    assert message.startswith(f"root {root} is a version of 2 datasets: name one by its ")
    assert vid(ids["HZ-NOTICES"], root) in message and vid(ids["HZ-ARCHIVE"], root) in message
    for code, named in (("HZ-NOTICES", "HZ-NOTICES"), ("HZ-ARCHIVE", ids["HZ-ARCHIVE"])):
        out = tmp_path / f"{code}.json"
        cli.json("dataset", "proof", str(notice), "--out", str(out), "--root", f"{named}:{root}")
        bundle = json.loads(out.read_text(encoding="utf-8"))
        assert (bundle["dataset_id"], bundle["version_id"]) == (ids[code], vid(ids[code], root))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_resume_lists_refused_versions_and_abandons_them(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "notices"
    folder.mkdir()
    (folder / "通知.txt").write_text("第一条\n", encoding="utf-8")
    cli.json("dataset", "register", "HZ-POLICY")
    unregistered = "0x" + dataset_id(department_id(CIVIL), "HZ-NOT-REGISTERED").hex()
    refused = cli.run("dataset", "anchor", str(folder), "--dataset", unregistered, ok=False)
    assert refused.returncode == 1 and "refused" in refused.stderr
    listed = cli.json("dataset", "resume")
    assert listed["batches"] == [] and listed["abandoned"] == []
    [failed] = listed["failed"]
    assert set(failed) == ANCHOR_FIELDS - {"ok", "digest"} and failed["status"] == "failed"
    assert failed["dataset_id"] == unregistered and "is not registered" in failed["error"]
    shown = cli.run("dataset", "resume").stdout
    assert f"refused {failed['batch_id']}: version {failed['root']}" in shown
    # The hint runs as printed (here the command was started as python -m ledger.cli).
    assert f"{shlex.quote(sys.executable)} -m ledger.cli dataset resume --abandon BATCH_ID" in shown
    # The same content in a registered dataset is anchored all the same.
    anchored = cli.json("dataset", "anchor", str(folder), "--dataset", "HZ-POLICY")
    assert anchored["status"] == "confirmed" and anchored["root"] == failed["root"]

    given_up = cli.json("dataset", "resume", "--abandon", failed["batch_id"])
    assert [b["batch_id"] for b in given_up["abandoned"]] == [failed["batch_id"]]
    assert given_up["abandoned"][0]["status"] == "abandoned" and given_up["failed"] == []
    assert cli.run("dataset", "resume").stdout.strip() == "nothing to resume."
    again = cli.run("dataset", "resume", "--abandon", failed["batch_id"], ok=False)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"error: anchoring {failed['batch_id']} is abandoned: only a failed one can be abandoned."
    )
    # Several given up at once (--abandon repeated).
    elsewhere = "0x" + dataset_id(department_id(CIVIL), "HZ-LATER").hex()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f.txt").write_text(name, encoding="utf-8")
        cli.run("dataset", "anchor", str(tmp_path / name), "--dataset", elsewhere, ok=False)
    both = [b["batch_id"] for b in cli.json("dataset", "resume")["failed"]]
    assert len(both) == 2
    # A wrong id among them gives up none (each is checked before any is abandoned).
    typo = cli.json("dataset", "resume", "--abandon", both[0], "--abandon", "nope", ok=False)
    assert typo["error"]["message"] == "this gateway has no anchoring nope."
    assert sorted(b["batch_id"] for b in cli.json("dataset", "resume")["failed"]) == sorted(both)
    # One id named twice is given up once.
    given_up = cli.json(
        "dataset", "resume", "--abandon", both[0], "--abandon", both[1], "--abandon", both[0]
    )
    assert sorted(b["batch_id"] for b in given_up["abandoned"]) == sorted(both)
    # Anchoring a given-up version again, once its dataset exists, retries it.
    cli.json("dataset", "register", "HZ-NOT-REGISTERED")
    retried = cli.json("dataset", "anchor", str(folder), "--dataset", unregistered)
    assert (retried["batch_id"], retried["status"]) == (failed["batch_id"], "confirmed")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anchor_verify_prove(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "办法.txt").write_text("第一条 ……\n", encoding="utf-8")
    (folder / "flow.md").write_text("# flow\n", encoding="utf-8")
    data = tmp_path / "dibao.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "街道"])
        writer.writerows([["DB1", "王明", "湖滨街道"], ["DB2", "李华", "小营街道"]])

    registered = cli.json("dataset", "register", "HZ-POLICY", "--metadata", "政策文件")
    assert set(registered) == REGISTER_FIELDS
    policy = "0x" + dataset_id(department_id(CIVIL), "HZ-POLICY").hex()
    assert registered["dataset_id"] == policy and registered["owner_department"] == hx_id(CIVIL)
    assert registered["code_hash"] == "0x" + code_hash("HZ-POLICY").hex()
    dibao = cli.json("dataset", "register", "HZ-DIBAO")["dataset_id"]
    by_id = cli.run("dataset", "register", "0x" + "11" * 32, ok=False)
    assert by_id.returncode == 1
    assert by_id.stderr.startswith("error: a dataset is registered by its catalogue code")
    files = cli.json("dataset", "anchor", str(folder), "--dataset", "HZ-POLICY")
    assert set(files) == ANCHOR_FIELDS
    assert (
        files["status"] == "confirmed" and files["leaf_count"] == 2 and files["leaf_kind"] == "file"
    )
    assert files["dataset_id"] == policy and files["version_id"] == vid(policy, files["root"])
    records = cli.json("dataset", "anchor", str(data), "--dataset", dibao)  # by id, as well
    assert records["leaf_kind"] == "record" and records["leaf_count"] == 2
    assert records["dataset_id"] == dibao
    salts = tmp_path / "dibao.csv.salts.json"
    assert salts.exists()

    answer = cli.json("verify", str(folder / "办法.txt"))
    assert set(answer) == VERIFY_FIELDS and answer["anchored"] is True
    [match] = answer["matches"]
    assert set(match) == MATCH_FIELDS and set(match["version"]) == VERSION_FIELDS
    assert match["path"] == "办法.txt" and match["version"]["root"] == files["root"]
    assert match["version"]["id"] == files["version_id"]
    civil = {"id": hx_id(CIVIL), "name": "杭州市民政局", "status": "active"}
    assert match["version"]["owner"] == match["version"]["anchored_by"] == civil
    shown = cli.run("verify", str(folder / "办法.txt")).stdout.splitlines()
    assert f"  version id     {files['version_id']}" in shown
    assert f"  published by   杭州市民政局 ({hx_id(CIVIL)})" in shown
    # The dataset by the code people typed (the catalogue's text, checked).
    assert f"  dataset        HZ-POLICY ({policy})" in shown

    tampered = tmp_path / "办法.txt"
    tampered.write_text("第一条 …… \n", encoding="utf-8")
    refused = cli.run("verify", str(tampered), ok=False)
    assert refused.returncode == 1
    assert "is not anchored" in refused.stderr

    row = cli.json("verify", str(data), "--record", "1", "--salts", str(salts))
    assert row["anchored"] is True and row["matches"][0]["record_index"] == 1
    no_salts = cli.run("verify", str(data), "--record", "1", ok=False)
    assert "--record needs --salts" in no_salts.stderr

    bundle = tmp_path / "bundle.json"
    proved = cli.json("dataset", "proof", str(folder / "flow.md"), "--out", str(bundle))
    assert set(proved) == PROOF_FIELDS and proved["root"] == files["root"]
    written = json.loads(bundle.read_text(encoding="utf-8"))
    assert set(written) == BUNDLE_FIELDS and written["format"] == "xietong-proof/3"
    assert written["version_id"] == files["version_id"]
    assert written["publisher"] == {"id": hx_id(CIVIL)}
    # Someone else, with only the bundle, the consortium's trust file and a node: no
    # database, no deployment manifest.
    trust_file = Path(cli.env["XIETONG_DEPLOYMENTS_DIR"]) / "31337.consortium.json"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outsider = {
        **{
            k: v
            for k, v in cli.env.items()
            if k not in ("XIETONG_DATABASE_URL", "XIETONG_DEPLOYMENTS_DIR")
        },
        "XIETONG_HOME": str(elsewhere),
    }
    received = elsewhere / "hangzhou.consortium.json"
    shutil.copyfile(trust_file, received)
    check = Cli(outsider, elsewhere)
    rpc = cli.env["XIETONG_RPC_URL"]
    checked = check.json("verify-proof", str(bundle), "--rpc", rpc, "--trust", str(received))
    assert set(checked) == VERIFY_PROOF_FIELDS
    assert checked["valid"] is True and checked["root"] == files["root"]
    assert checked["version_id"] == files["version_id"] and checked["unchecked"] == []
    assert checked["consortium"] == load_trust(trust_file).fingerprint
    named = {"id": hx_id(CIVIL), "name": "杭州市民政局", "name_flags": []}
    assert checked["publisher"] == checked["owner"] == named
    valid = check.run("verify-proof", str(bundle), "--trust", str(received)).stdout.splitlines()
    assert valid[0].startswith("VALID leaf 0x") and valid[0].endswith(" (file)")
    assert "  published by 杭州市民政局; dataset owned by 杭州市民政局" in valid

    # Without --trust, and no trust file where `xietong deploy` writes one: one sentence.
    default = elsewhere / "deployments" / "31337.consortium.json"
    untrusted = check.run("verify-proof", str(bundle), ok=False)
    assert untrusted.returncode == 1 and untrusted.stdout == ""
    assert untrusted.stderr.splitlines() == [
        f"error: no consortium trust file for chain 31337 at {default}: pass the one your "
        "consortium published with --trust."
    ]
    missing = check.json("verify-proof", str(bundle), "--trust", "nowhere.json", ok=False)
    assert missing["ok"] is False and missing["error"]["type"] == "bad-trust-file"
    assert missing["error"]["message"].startswith("there is no trust file at nowhere.json")

    record_bundle = tmp_path / "record.json"
    cli.run(
        "dataset",
        "proof",
        str(data),
        "--record",
        "0",
        "--salts",
        str(salts),
        "--out",
        str(record_bundle),
    )
    from_record = check.json("verify-proof", str(record_bundle), "--trust", str(received))
    assert from_record["root"] == records["root"] and from_record["kind"] == "record"

    # A forged claim: one sentence, no traceback (Cli.run asserts none).
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**written, "block_number": written["block_number"] + 1}))
    claimed = check.run("verify-proof", str(forged), "--trust", str(received), ok=False)
    assert claimed.returncode == 1
    assert claimed.stderr.splitlines() == [
        f"error: the bundle says its block number is {written['block_number'] + 1}; the chain "
        f"says {written['block_number']}."
    ]
    as_json = check.json("verify-proof", str(forged), "--trust", str(received), ok=False)
    assert as_json["error"]["type"] == "bundle-claim"

    broken = json.loads(bundle.read_text())
    broken["leaf"]["values"][1] = "other.md"
    bundle.write_text(json.dumps(broken))
    bad = check.run("verify-proof", str(bundle), "--trust", str(received), ok=False)
    assert bad.returncode == 1 and "do not hash" in bad.stderr

    # --parent ROOT: a version of the same dataset.
    derived = cli.json(
        "dataset",
        "anchor",
        str(folder / "flow.md"),
        "--dataset",
        "HZ-POLICY",
        "--parent",
        files["root"],
    )
    assert derived["parents"] == [files["version_id"]]
    lineage = cli.json("verify", str(folder / "flow.md"))
    assert any(
        m["lineage"] and m["lineage"][0]["root"] == files["root"] for m in lineage["matches"]
    )
    # --parent DATASET:ROOT: a version of another dataset (by code of this department).
    (tmp_path / "dibao-v2.csv").write_text(data.read_text(encoding="utf-8") + "DB3,赵敏,湖滨街道\n")
    merged = cli.json(
        "dataset",
        "anchor",
        str(tmp_path / "dibao-v2.csv"),
        "--dataset",
        "HZ-DIBAO",
        "--parent",
        records["root"],
        "--parent",
        f"HZ-POLICY:{files['root']}",
    )
    assert merged["parents"] == [records["version_id"], files["version_id"]]

    trail = cli.json("audit", "trail", "--type", "VersionAnchored")
    assert [e["args"]["root"] for e in trail["events"]] == [
        files["root"],
        records["root"],
        derived["root"],
        merged["root"],
    ]
    out = tmp_path / "trail.csv"
    cli.run("audit", "export", "--format", "csv", "--out", str(out), "--department", CIVIL)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))  # it starts with a BOM
    assert {r["event"] for r in rows} >= {"DatasetRegistered", "VersionAnchored"}
    assert all(r["department"] == "杭州市民政局" for r in rows)

    # dataset revoke ROOT --dataset X: the version of that dataset, not the root elsewhere.
    revoked = cli.json(
        "dataset", "revoke", derived["root"], "--dataset", "HZ-POLICY", "--reason", "错误"
    )
    assert set(revoked) == REVOKE_FIELDS
    assert (revoked["root"], revoked["dataset_id"]) == (derived["root"], policy)
    statuses = {
        m["version"]["id"]: m["status"]
        for m in cli.json("verify", str(folder / "flow.md"))["matches"]
    }
    assert statuses == {files["version_id"]: "anchored", derived["version_id"]: "revoked"}
    again = cli.json(
        "dataset", "revoke", derived["root"], "--dataset", "HZ-POLICY", "--reason", "x", ok=False
    )
    assert again["ok"] is False and again["error"]["type"] == "contract-revert"
    assert again["error"]["message"].startswith(
        f"Version {derived['root']} of dataset {policy} was already revoked at "
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_agreements_commitments_and_demo(cli: Cli, tmp_path: Path) -> None:
    cli.run("dataset", "register", "HZ-DIBAO")
    terms = tmp_path / "terms.txt"
    terms.write_text("协议\n", encoding="utf-8")
    proposed = cli.json(
        "agreement",
        "propose",
        "--provider",
        CIVIL,
        "--consumer",
        PSB,
        "--dataset",
        "HZ-DIBAO",
        "--purpose",
        "eligibility-check",
        "--legal-basis",
        "社会救助暂行办法",
        "--terms",
        str(terms),
        "--from",
        "2020-01-01",
        "--until",
        "2099-01-01",
    )
    agreement = proposed["agreement_id"]
    check_args = (
        "agreement",
        "check",
        "--provider",
        CIVIL,
        "--consumer",
        PSB,
        "--dataset",
        "HZ-DIBAO",
        "--purpose",
        "eligibility-check",
    )
    assert cli.json(*check_args, ok=False)["authorized"] is False
    # 公安局 (dev 1) signs its acceptance; 民政局's gateway (dev 2) relays it.
    consent = tmp_path / "consent.json"
    cli.run("agreement", "consent", agreement, "--out", str(consent), account=1)
    accepted = cli.json("agreement", "accept", agreement, "--signature", str(consent))
    assert accepted["signer"] == json.loads(consent.read_text())["signer"]
    replay = cli.run("agreement", "accept", agreement, "--signature", str(consent), ok=False)
    assert replay.returncode == 1
    assert replay.stderr.replace("\n", "") == (
        f"error: agreement {agreement} is already active: nothing is left to accept (this "
        "consent, or another of its signer's, was relayed before)."
    )
    assert cli.json(*check_args)["agreement_id"] == agreement
    by_hash = (*check_args[:-1], "0x" + code_hash("eligibility-check").hex())
    assert cli.json(*by_hash)["agreement_id"] == agreement  # the purpose by its 0x hash, as the API
    shown = cli.json("agreement", "show", agreement)["agreement"]
    assert shown["status"] == "active" and shown["consumer"]["name"] == "杭州市公安局"
    cli.run("agreement", "revoke", agreement, "--reason", "用途变更", account=1)
    assert cli.json("agreement", "show", agreement)["agreement"]["status"] == "revoked"
    not_party = cli.run("agreement", "revoke", agreement, "--reason", "x", account=3, ok=False)
    assert "neither the provider nor the consumer" in not_party.stderr
    # Accepted before its validity starts: `pending`, as the API shows it.
    future = cli.json(
        "agreement",
        "propose",
        "--provider",
        CIVIL,
        "--consumer",
        PSB,
        "--dataset",
        "HZ-DIBAO",
        "--purpose",
        "statistics",
        "--legal-basis",
        "社会救助暂行办法",
        "--terms",
        "0x" + "7d" * 32,
        "--from",
        "2098-01-01",
        "--until",
        "2099-01-01",
    )["agreement_id"]
    cli.run("agreement", "accept", future, account=1)
    pending = cli.json("agreement", "show", future)["agreement"]
    assert pending["status"] == "pending" and pending["accepted_at"] is not None
    assert pending["terms_hash"] == "0x" + "7d" * 32
    assert set(pending) == {  # the fields docs/CLI.md shows for `agreement show`
        "id",
        "status",
        "provider",
        "consumer",
        "datasets",
        "purpose",
        "legal_basis",
        "terms_hash",
        "valid_from",
        "effective_from",
        "valid_until",
        "proposer",
        "supersedes",
        "superseded_by",
        "proposed_at",
        "accepted_at",
        "closed_at",
        "access_receipts",
    }
    assert pending["effective_from"] == pending["valid_from"]  # accepted before it starts

    made = cli.json(
        "commitment",
        "propose",
        "--matter",
        "出生一件事-0001",
        "--deadline",
        "2099-01-01",
        "--participant",
        f"{HEALTH}=签发出生医学证明",
        "--participant",
        f"{PSB}=办理户口登记",
        account=3,
    )
    commitment = made["commitment_id"]
    cli.run("commitment", "sign", commitment, account=1)
    early = cli.run("commitment", "complete", commitment, "--evidence", "x", account=3, ok=False)
    assert "have not reported their duty done" in early.stderr
    cli.run("commitment", "report", commitment, "--evidence", "证明 No.1", "--done", account=3)
    cli.run("commitment", "report", commitment, "--evidence", "户口 ok", "--done", account=1)
    cli.run("commitment", "complete", commitment, "--evidence", "办结", account=3)
    shown = cli.json("commitment", "show", commitment)
    done = shown["commitment"]
    # Its matter, duties and evidence named by the catalogue (kept by the commands that sent
    # them; 卫健委's and 公安局's gateways share this database here).
    assert {
        shown["names"][h] for h in (done["matter_ref"], done["participants"][1]["duty_hash"])
    } == {
        "出生一件事-0001",
        "办理户口登记",
    }
    assert done["status"] == "completed" and [p["name"] for p in done["participants"]] == [
        "杭州市卫生健康委员会",
        "杭州市公安局",
    ]

    demo = cli.json("demo", "--workdir", str(tmp_path / "demo"))
    assert demo["receipts"] == 2 and len(demo["versions"]) == 3
    again = cli.run("demo", "--workdir", str(tmp_path / "demo"), ok=False)
    assert "already ran" in again.stderr
    assert cli.json("demo", "--once")["already_ran"] is True
    said = cli.run("demo", "--once").stdout  # a hint that runs as written, with no venv
    assert f"see `{sys.executable} -m ledger.cli audit trail`" in said.replace("\n", "")
    row = cli.json(
        "verify",
        demo["files"]["november"],
        "--record",
        "3",
        "--salts",
        demo["files"]["november_salts"],
    )
    october = vid(demo["datasets"]["HZ-MZ-DIBAO"], demo["versions"]["dibao-2026-10"])
    assert row["anchored"] and row["matches"][0]["version"]["parents"] == [october]
    said = cli.run(
        "verify",
        demo["files"]["november"],
        "--record",
        "3",
        "--salts",
        demo["files"]["november_salts"],
    ).stdout.splitlines()
    purpose = "0x" + code_hash("eligibility-check 低保资格核查").hex()
    assert f"    purpose      eligibility-check 低保资格核查 ({purpose})" in said
    basis = "0x" + code_hash("《社会救助暂行办法》第十一条").hex()
    assert f"    legal basis  《社会救助暂行办法》第十一条 ({basis})" in said
    dibao_id = demo["datasets"]["HZ-MZ-DIBAO"]
    assert f"  dataset        HZ-MZ-DIBAO ({dibao_id})" in said
    revoked = cli.json("audit", "trail", "--type", "AgreementRevoked")["events"]
    assert len(revoked) == 2


def chain_client(cli: Cli) -> ChainClient:
    """A client of the deployment the CLI's gateway uses, to check what the chain says."""
    manifest = json.loads((Path(cli.env["XIETONG_DEPLOYMENTS_DIR"]) / "31337.json").read_text())
    addresses = {name: c["address"] for name, c in manifest["contracts"].items()}
    return ChainClient(connect(cli.env["XIETONG_RPC_URL"]), addresses)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_agreements_withdrawn_and_amended(cli: Cli) -> None:
    """`xietong agreement withdraw|amend` (docs/CLI.md)."""
    cli.run("dataset", "register", "HZ-AMEND")
    base = [
        "agreement",
        "propose",
        "--provider",
        CIVIL,
        "--consumer",
        PSB,
        "--dataset",
        "HZ-AMEND",
        "--purpose",
        "eligibility-check",
        "--legal-basis",
        "社会救助暂行办法",
        "--terms",
        "0x" + "7d" * 32,
        "--from",
        "2020-01-01",
        "--until",
        "2099-01-01",
    ]
    proposed = cli.json(*base)["agreement_id"]
    withdrawn = cli.json("agreement", "withdraw", proposed)
    assert set(withdrawn) == {"ok", "agreement_id", "transaction", "block_number"}
    assert cli.json("agreement", "show", proposed)["agreement"]["status"] == "withdrawn"
    active = cli.json(*base)["agreement_id"]
    cli.run("agreement", "accept", active, account=1)
    nothing = cli.run("agreement", "amend", active, ok=False)
    assert nothing.stderr == (
        "error: an amendment changes something: datasets, purpose, legal basis, terms or "
        "validity.\n"
    )
    cli.run("index")  # a dataset id is named by its code once the index knows the dataset
    shown = cli.json("agreement", "show", active)
    assert shown["names"] == {
        "0x" + code_hash("eligibility-check").hex(): "eligibility-check",
        "0x" + code_hash("社会救助暂行办法").hex(): "社会救助暂行办法",
        shown["agreement"]["datasets"][0]: "HZ-AMEND",
    }
    people = cli.run("agreement", "show", active).stdout
    assert f"purpose   eligibility-check (0x{code_hash('eligibility-check').hex()})" in people
    amended = cli.json("agreement", "amend", active, "--purpose", "eligibility-recheck")
    assert set(amended) == {"ok", "agreement_id", "supersedes", "transaction", "block_number"}
    assert amended["supersedes"] == active
    cli.run("agreement", "accept", amended["agreement_id"], account=1)
    old = cli.json("agreement", "show", active)["agreement"]
    new = cli.json("agreement", "show", amended["agreement_id"])["agreement"]
    assert (old["status"], old["superseded_by"]) == ("superseded", amended["agreement_id"])
    assert new["purpose"] == "0x" + code_hash("eligibility-recheck").hex()
    assert new["legal_basis"] == old["legal_basis"] and new["datasets"] == old["datasets"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_access_receipts_recorded_proved_and_verified(cli: Cli, tmp_path: Path) -> None:
    """`xietong agreement record-access|prove-access|verify-access` (docs/CLI.md): 公安局
    records a receipt of its access log; one entry is proved; a proof that lies is refused."""
    cli.run("dataset", "register", "HZ-RECEIPTS")
    agreement = cli.json(
        "agreement",
        "propose",
        "--provider",
        CIVIL,
        "--consumer",
        PSB,
        "--dataset",
        "HZ-RECEIPTS",
        "--purpose",
        "eligibility-check",
        "--legal-basis",
        "社会救助暂行办法",
        "--terms",
        "0x" + "7d" * 32,
        "--from",
        "2020-01-01",
        "--until",
        "2099-01-01",
    )["agreement_id"]
    cli.run("agreement", "accept", agreement, account=1)
    accepted = cli.json("agreement", "show", agreement)["agreement"]["accepted_at"]
    moment = datetime.fromtimestamp(accepted, tz=UTC).isoformat()
    log = tmp_path / "psb-access.jsonl"
    log.write_text(
        "".join(json.dumps({"lookup": f"DB{i:03d}", "officer": "P007"}) + "\n" for i in range(9)),
        encoding="utf-8",
    )
    recorded = cli.json(
        "agreement",
        "record-access",
        agreement,
        "--log",
        str(log),
        "--from",
        moment,
        "--until",
        moment,
        account=1,
    )
    assert (recorded["receipt_index"], recorded["entry_count"]) == (0, 9)
    assert recorded["salts"] == str(log) + ".salts.json"
    proof = tmp_path / "entry-5.json"
    proved = cli.json(
        "agreement",
        "prove-access",
        agreement,
        "--receipt",
        "0",
        "--log",
        str(log),
        "--entry",
        "5",
        "--out",
        str(proof),
    )
    assert proved["log_root"] == recorded["log_root"]
    checked = cli.json("agreement", "verify-access", str(proof))
    assert (checked["valid"], checked["entry_count"]) == (True, 9)
    assert checked["record_hash"] == json.loads(proof.read_text())["record_hash"]
    assert checked["period_start"] == accepted
    said = cli.run("agreement", "verify-access", str(proof)).stdout
    record = json.loads(proof.read_text())["record_hash"]
    assert said.replace("\n", "").startswith(
        f"VALID the entry of record hash {record} is in receipt 0 of agreement {agreement} "
        "(9 entries, "
    ), said
    # Another log (or the same one with other salts) proves nothing against this receipt.
    other = tmp_path / "other.jsonl"
    other.write_bytes(log.read_bytes())
    refused = cli.run(
        "agreement",
        "prove-access",
        agreement,
        "--receipt",
        "0",
        "--log",
        str(other),
        "--entry",
        "5",
        "--out",
        str(tmp_path / "never.json"),
        ok=False,
    )
    assert refused.stderr.startswith(f"error: {other}.salts.json does not exist.")
    # Fresh salts for the copy: another root, its own receipt. Without --until its period ends
    # at the chain's latest block (the chain's clock, not this machine's).
    head = int(chain_client(cli).head()["timestamp"])
    hash_access = cli.run(
        "agreement", "record-access", agreement, "--log", str(other), "--from", moment, account=1
    )
    assert "receipt 1" in hash_access.stdout
    second = receipts.read_receipt(chain_client(cli), bytes.fromhex(agreement[2:]), 1)
    assert (second["period_start"], second["period_end"]) == (accepted, head)
    refused = cli.run(
        "agreement",
        "prove-access",
        agreement,
        "--receipt",
        "0",
        "--log",
        str(other),
        "--entry",
        "5",
        "--out",
        str(tmp_path / "never.json"),
        ok=False,
    )
    assert refused.stderr.replace("\n", "").startswith("error: the access proof names log root")
    assert not (tmp_path / "never.json").exists()
    lie = json.loads(proof.read_text())
    lie["entry_count"] = 10
    proof.write_text(json.dumps(lie))
    refused = cli.run("agreement", "verify-access", str(proof), ok=False)
    assert refused.stderr.replace("\n", "") == (
        "error: the access proof says the log has 10 entries; the receipt says 9."
    )
    as_json = cli.run("agreement", "verify-access", str(proof), "--json", ok=False)
    assert json.loads(as_json.stdout)["error"]["type"] == "bad-access-proof"
    # Only the consumer records.
    civil = cli.run(
        "agreement",
        "record-access",
        agreement,
        "--log",
        str(log),
        "--from",
        moment,
        "--until",
        moment,
        ok=False,
    )
    assert civil.returncode == 1 and "consumer" in civil.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_membership_governance_propose_approve_accept_and_execute(cli: Cli) -> None:
    """`xietong dept propose admit|suspend|readmit|grant-auditor|revoke-auditor`, `approve`,
    `execute`, `proposals` (docs/CLI.md): two of three founders (6666 bps) carry a change; an
    admission waits for its first operator to accept the role."""
    client = chain_client(cli)
    operator, auditor = dev_account(11).address, dev_account(12).address
    new_code = "11330100MB1A00009X"
    proposed = cli.json(
        "dept", "propose", "admit", new_code, "--name", "杭州市医疗保障局", "--operator", operator
    )
    assert proposed == {
        "ok": True,
        "proposal_id": 1,
        "kind": "admit",
        "approvals": 1,
        "executed": False,
        "transaction": proposed["transaction"],
        "block_number": proposed["block_number"],
    }
    approved = cli.json("dept", "approve", "1", account=1)  # 公安局: 2 of 3, role not accepted
    assert (approved["approvals"], approved["executed"]) == (2, False)
    twice = cli.run("dept", "approve", "1", account=1, ok=False)
    assert (twice.returncode, twice.stderr.replace("\n", "")) == (
        1,
        f"error: Department {hx_id(PSB)} already approved proposal 1.",
    )
    unknown = cli.run("dept", "approve", "99", ok=False)
    assert unknown.stderr == "error: There is no proposal 99.\n"
    accepted = cli.json("dept", "accept-role", "1", account=11)
    assert accepted["executed"] is True
    new_id = department_id(new_code)
    assert client.call("DepartmentRegistry", "isActive", new_id) is True
    # Suspending it takes 2 of the other 3 (the department itself is no elector of that).
    suspend = cli.json("dept", "propose", "suspend", new_code)
    assert (suspend["approvals"], suspend["executed"]) == (1, False)
    assert client.call("DepartmentRegistry", "isActive", new_id) is True
    done = cli.run("dept", "approve", str(suspend["proposal_id"]), account=3)
    assert done.stdout.rstrip().endswith("2 approval(s); executed"), done.stdout
    assert client.call("DepartmentRegistry", "isActive", new_id) is False
    # Readmitting: 2 of the 3 active departments (a suspended one does not vote).
    readmit = cli.json("dept", "propose", "readmit", "0x" + new_id.hex(), account=1)
    assert cli.json("dept", "approve", str(readmit["proposal_id"]))["executed"] is True
    assert client.call("DepartmentRegistry", "isActive", new_id) is True
    # An auditor granted, then revoked: 3 of the 4 active departments (ceil(4 × 6666 / 10000)).
    grant = cli.json("dept", "propose", "grant-auditor", auditor)["proposal_id"]
    cli.run("dept", "approve", str(grant), account=1)
    cli.run("dept", "approve", str(grant), account=3)
    cli.run("dept", "accept-role", str(grant), account=12)
    assert client.call("DepartmentRegistry", "isAuditor", auditor) is True
    revoke = cli.json("dept", "propose", "revoke-auditor", auditor)["proposal_id"]
    cli.run("dept", "approve", str(revoke), account=3)
    cli.run("dept", "approve", str(revoke), account=11)  # the admitted department votes too
    assert client.call("DepartmentRegistry", "isAuditor", auditor) is False
    # Nothing left to execute: execute says what the chain says.
    late = cli.run("dept", "execute", str(revoke), ok=False)
    assert (late.returncode, late.stderr) == (
        1,
        f"error: Proposal {revoke} was already executed.\n",
    )

    cli.run("index")
    listed = cli.json("dept", "proposals")["proposals"]
    assert [(p["id"], p["kind"], p["status"]) for p in listed] == [
        (1, "admit", "executed"),
        (2, "suspend", "executed"),
        (3, "readmit", "executed"),
        (4, "grant-auditor", "executed"),
        (5, "revoke-auditor", "executed"),
    ]
    assert listed[0]["name"] == "杭州市医疗保障局" and listed[0]["account"] == operator
    assert listed[1]["department"]["name"] == "杭州市医疗保障局"
    assert cli.json("dept", "proposals", "--status", "open")["proposals"] == []
    table = cli.run("dept", "proposals").stdout
    assert "grant-auditor" in table and "杭州市医疗保障局" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("admit", "0x" + "12" * 32, "--name", "x", "--operator", "0x" + "11" * 20),
            "a department is admitted by its stable code (its id derives from it), not by a 0x id.",
        ),
        (
            ("admit", "HZ-NEW", "--name", "  ", "--operator", "0x" + "11" * 20),
            "a proposal to admit needs the department's name.",
        ),
        (
            ("admit", "HZ-NEW", "--name", "杭州\u202e局", "--operator", "0x" + "11" * 20),
            "the name '杭州\\u202e局' holds characters a name may not (bidi).",  # escaped
        ),
        (
            ("admit", "HZ-NEW", "--name", "x" * 257, "--operator", "0x" + "11" * 20),
            "a department's name holds at most 256 bytes of UTF-8.",
        ),
        (("grant-auditor", "0x1234"), "'0x1234' is not an account address (0x and 40 hex digits)."),
        (("suspend", "0x12"), "a department is 32 bytes (64 hex digits); '0x12' has 2 characters."),
    ],
)
def test_a_malformed_proposal_is_one_sentence_before_the_node_is_asked(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = {
        **gateway_environment(tmp_path),
        "XIETONG_ENV": "local",
        "XIETONG_RPC_URL": f"http://127.0.0.1:{free_port()}",
    }  # no node there
    runner = Cli(env, tmp_path)
    result = runner.run("dept", "propose", *args, ok=False)
    assert result.returncode == 1, result.stdout
    assert result.stderr.replace("\n", "") == f"error: {message}", result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_operators_and_roles_join_only_with_their_consent(cli: Cli, tmp_path: Path) -> None:
    """`xietong dept nominate|accept|consent|withdraw-nomination|remove-operator` and
    `accept-role|role-consent` (docs/CLI.md): an account becomes an operator, or takes the
    role a proposal offers, only by its own key or its signed consent."""
    new = {i: dev_account(i).address for i in (7, 8, 9, 10)}
    # 民政局 (dev 2) nominates dev 7; dev 7 signs its consent; 民政局's gateway relays it.
    nominated = cli.json("dept", "nominate", new[7])
    assert nominated["account"] == new[7] and nominated["department_id"] == hx_id(CIVIL)
    # The shape docs/CLI.md shows for nominate|withdraw-nomination|remove-operator.
    assert set(nominated) == {"ok", "department_id", "account", "transaction", "block_number"}
    shown = cli.json("dept", "show", CIVIL)["department"]
    assert new[7] not in shown["operators"]  # a nomination is no role
    consent = tmp_path / "operator-consent.json"
    cli.run("dept", "consent", CIVIL, "--out", str(consent), account=7)
    assert json.loads(consent.read_text())["kind"] == "AcceptOperator"
    accepted = cli.json("dept", "accept", CIVIL, "--signature", str(consent))
    assert accepted["account"] == new[7] and accepted["nominated_by"] == dev_account(2).address
    assert set(accepted) == {"ok", "department_id", "account", "nominated_by", "transaction"}
    assert new[7] in cli.json("dept", "show", CIVIL)["department"]["operators"]
    replay = cli.run("dept", "accept", CIVIL, "--signature", str(consent), ok=False)
    assert replay.returncode == 1
    assert replay.stderr.replace("\n", "") == (
        "error: this consent was already used, or its signer has signed another since (nonce 0 "
        f"is spent): ask {new[7]} for a new one."
    )
    # 卫健委 (dev 3) nominates dev 8, which accepts with its own key.
    cli.run("dept", "nominate", new[8], account=3)
    assert cli.json("dept", "accept", HEALTH, account=8)["account"] == new[8]
    # A withdrawn nomination cannot be accepted.
    cli.run("dept", "nominate", new[9], account=1)
    cli.run("dept", "withdraw-nomination", new[9], account=1)
    refused = cli.run("dept", "accept", PSB, account=9, ok=False)
    assert "has no pending nomination" in refused.stderr
    # Removing an operator frees the account.
    cli.run("dept", "remove-operator", new[7])
    assert new[7] not in cli.json("dept", "show", CIVIL)["department"]["operators"]
    bad = cli.run("dept", "nominate", "0x1234", ok=False)
    assert "is not an account address" in bad.stderr

    # The auditor an auditor grant names accepts its role.
    client = chain_client(cli)
    proposal = str(cli.json("dept", "propose", "grant-auditor", new[10], account=1)["proposal_id"])
    cli.run("dept", "approve", proposal, account=2)
    assert client.call("DepartmentRegistry", "isAuditor", new[10]) is False  # not without it
    role = tmp_path / "role-consent.json"
    cli.run("dept", "role-consent", proposal, "--out", str(role), account=10)
    done = cli.json("dept", "accept-role", proposal, "--signature", str(role))
    assert done == {
        "ok": True,
        "proposal_id": int(proposal),
        "account": new[10],
        "executed": True,
        "transaction": done["transaction"],
    }
    assert client.call("DepartmentRegistry", "isAuditor", new[10]) is True
