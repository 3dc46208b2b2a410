"""Read routes over the demo scenario (indexed): verification, proofs, datasets and their
provenance, agreements, authorizations, commitments, departments, the audit trail, health."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prov.model import (
    PROV,
    PROV_ATTR_COLLECTION,
    PROV_ATTR_ENTITY,
    PROV_ROLE,
    Namespace,
    ProvActivity,
    ProvAgent,
    ProvAttribution,
    ProvDocument,
    ProvEntity,
    ProvMembership,
)

from api.examples import EXAMPLES
from ledger import hashing, merkle
from ledger.chain.reads import read_version
from ledger.db.queries import encode_cursor
from ledger.ids import code_hash, department_id, version_id
from ledger.keys import dev_account
from ledger.verify import verify_bundle
from tests.api._support import (
    CIVIL,
    DIBAO,
    ELIGIBILITY,
    HEALTH,
    NAMES,
    POLICY,
    PSB,
    PSB_DEV,
    STATISTICS,
    Api,
    World,
    assert_problem,
    dataset_of,
)

RULES = "杭州市最低生活保障实施办法.txt"  # one of the demo's policy files
UNKNOWN = "0x" + "5a" * 32


def hex_id(value: bytes) -> str:
    return "0x" + value.hex()


def version_of(code: str, root: str) -> str:
    """The 0x version id of 杭州市民政局's dataset ``code`` at ``root`` (0x hex)."""
    return hex_id(version_id(dataset_of(CIVIL, code), bytes.fromhex(root[2:])))


def policy_file(world: World, name: str = RULES) -> Path:
    return Path(world.report.files["policy"]) / name


def file_leaf(path: Path, name: str) -> tuple[str, str]:
    """(content SHA-256, leaf hash) of a file anchored under ``name``."""
    digest = hashing.sha256_file(path)
    return hex_id(digest), hex_id(merkle.leaf_hash(merkle.FILE_LEAF_TYPES, [digest, name]))


def november_row(world: World, index: int) -> tuple[dict[str, str], str]:
    """Row ``index`` of the demo's November 低保 list as the record object, and its salt."""
    data = world.report.files["november"]
    with open(data, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    salts = hashing.read_salts(world.report.files["november_salts"], data=data)
    return rows[index], hex_id(salts.values[index])


# --------------------------------------------------------------------------- verify


def test_verify_by_hash_names_publisher_transaction_and_confirmations(
    api: Api, world: World
) -> None:
    digest, leaf = file_leaf(policy_file(world), RULES)
    body = api.ok("/v1/verify", params={"hash": digest})
    assert body["anchored"] is True and body["status"] == "anchored"
    [match] = body["matches"]
    assert (match["kind"], match["path"], match["leaf_hash"]) == ("file", RULES, leaf)
    version = match["version"]
    assert version["root"] == world.report.versions["policy"]
    assert version["dataset_id"] == hex_id(dataset_of(CIVIL, POLICY))
    assert version["id"] == version_of(POLICY, version["root"])
    assert version["owner"] == {
        "id": hex_id(department_id(CIVIL)),
        "name": "杭州市民政局",
        "status": "active",
    }
    assert version["anchored_by"] == version["owner"]  # the owner anchored it itself
    w3 = world.client.w3
    receipt = w3.eth.get_transaction_receipt(version["transaction"])
    assert receipt["status"] == 1 and receipt["blockNumber"] == version["block_number"]
    assert receipt["to"] == world.client.address("DatasetRegistry")
    assert version["confirmations"] == w3.eth.block_number - version["block_number"] + 1
    assert match["proof_url"] == f"/v1/proofs/{leaf}?version={version['id']}"
    bundle = api.ok(match["proof_url"])
    check = verify_bundle(bundle, w3, trust=world.trust())
    assert (check.root, check.version_id) == (version["root"], version["id"])
    assert check.publisher["id"] == version["anchored_by"]["id"]


def test_verify_with_proof_includes_a_bundle_the_chain_accepts(api: Api, world: World) -> None:
    digest, leaf = file_leaf(policy_file(world), RULES)
    body = api.ok("/v1/verify", params={"hash": digest, "with_proof": "true"})
    [match] = body["matches"]
    bundle = match["proof"]
    check = verify_bundle(bundle, world.client.w3, trust=world.trust())
    assert (check.leaf, check.root) == (leaf, world.report.versions["policy"])
    assert bundle["leaf"]["values"] == [digest, RULES]
    # The leaf hash itself is a query too, and answers the same version.
    by_leaf = api.ok("/v1/verify", params={"hash": leaf})
    assert [m["version"]["root"] for m in by_leaf["matches"]] == [world.report.versions["policy"]]
    assert "proof" not in api.ok("/v1/verify", params={"hash": digest})["matches"][0]


def test_verify_refuses_unknown_and_malformed_hashes(api: Api) -> None:
    assert_problem(api.get("/v1/verify", params={"hash": UNKNOWN}), 404, "not-anchored")
    assert_problem(api.get("/v1/verify", params={"hash": "0x12"}), 400, "bad-hash")
    assert_problem(api.get("/v1/verify", params={"hash": "0x" + "zz" * 32}), 400, "bad-hash")
    body = assert_problem(api.get("/v1/verify"), 422, "invalid-request")
    assert body["errors"][0]["location"] == "query.hash"


def test_verify_an_uploaded_file_and_a_tampered_copy(api: Api, world: World) -> None:
    data = policy_file(world).read_bytes()
    response = api.post("/v1/verify/file", scope="read", content=data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["anchored"] is True and body["size"] == len(data)
    assert [m["path"] for m in body["matches"]] == [RULES]
    assert body["matches"][0]["version"]["owner"]["name"] == "杭州市民政局"
    tampered = bytearray(data)
    tampered[-2] ^= 0x01
    refused = api.post("/v1/verify/file", scope="read", content=bytes(tampered))
    assert_problem(refused, 404, "not-anchored")


def test_uploads_over_the_limit_are_refused(world: World, make_api: Any) -> None:
    api = make_api(world.settings(api_max_upload=64))
    declared = api.post("/v1/verify/file", scope="read", content=b"x" * 65)
    assert declared.request.headers["content-length"] == "65"
    assert_problem(declared, 413, "payload-too-large")

    def chunks(total: int) -> Any:
        for _ in range(total // 16):
            yield b"y" * 16

    streamed = api.post("/v1/verify/file", scope="read", content=chunks(80))
    assert "content-length" not in streamed.request.headers
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert_problem(streamed, 413, "payload-too-large")
    # Exactly at the limit is read and hashed (and not anchored).
    at_limit = api.post("/v1/verify/file", scope="read", content=chunks(64))
    assert_problem(at_limit, 404, "not-anchored")


def test_verify_a_record_with_its_salt(api: Api, world: World) -> None:
    row, salt = november_row(world, 3)
    body = api.post("/v1/verify/record", scope="read", json={"record": row, "salt": salt}).json()
    assert body["anchored"] is True
    [match] = body["matches"]
    assert (match["kind"], match["record_index"]) == ("record", 3)
    assert match["version"]["root"] == world.report.versions["dibao-2026-11"]
    assert match["version"]["parents"] == [
        version_of(DIBAO, world.report.versions["dibao-2026-10"])
    ]
    assert [v["root"] for v in match["lineage"]] == [world.report.versions["dibao-2026-10"]]
    [authorization] = match["authorizations"]  # the revoked agreement no longer authorizes
    assert authorization["agreement_id"] == world.report.agreements["dibao-to-psb"]
    assert authorization["consumer"]["name"] == "杭州市公安局"
    assert "proof" not in match
    # The proof link names the leaf and version, never the salt (a URL is logged).
    assert match["proof_url"] == f"/v1/proofs/{match['leaf_hash']}?version={match['version']['id']}"
    assert salt[2:] not in match["proof_url"]
    # The same by the record's hash; the bundle comes in the answer with with_proof.
    record_hash = hex_id(hashing.record_hash(row))
    by_hash = api.post(
        "/v1/verify/record",
        scope="read",
        json={"record_hash": record_hash, "salt": salt, "with_proof": True},
    )
    [proved] = by_hash.json()["matches"]
    assert proved["leaf_hash"] == match["leaf_hash"]
    bundle = proved["proof"]
    assert bundle["leaf"]["values"] == [record_hash, salt]
    assert bundle["leaf"]["hash"] == match["leaf_hash"]
    check = verify_bundle(bundle, world.client.w3, trust=world.trust())
    assert check.root == world.report.versions["dibao-2026-11"]
    # The query-string form still works (kept for compatibility) and gives the same bundle.
    query = {"root": match["version"]["root"], "record_hash": record_hash, "salt": salt}
    assert api.ok(f"/v1/proofs/{match['leaf_hash']}", params=query) == bundle


def test_verify_a_record_with_a_wrong_salt_or_ambiguous_input(api: Api, world: World) -> None:
    row, salt = november_row(world, 3)
    _other, other_salt = november_row(world, 4)
    wrong = api.post("/v1/verify/record", scope="read", json={"record": row, "salt": other_salt})
    assert_problem(wrong, 404, "not-anchored")
    changed = api.post(
        "/v1/verify/record",
        scope="read",
        json={"record": {**row, "月保障金": "9999"}, "salt": salt},
    )
    assert_problem(changed, 404, "not-anchored")
    both = {"record": row, "record_hash": UNKNOWN, "salt": salt}
    assert_problem(api.post("/v1/verify/record", scope="read", json=both), 400, "bad-input")
    neither = {"salt": salt}
    assert_problem(api.post("/v1/verify/record", scope="read", json=neither), 400, "bad-input")
    # A malformed salt is still most of a secret: the problem does not quote it.
    for bad_salt in ("0x1234", salt[:-1], salt[:-1] + "g", salt + "0"):
        body = {"record": row, "salt": bad_salt}
        problem = assert_problem(
            api.post("/v1/verify/record", scope="read", json=body), 400, "bad-hash"
        )
        assert "salt" in problem["detail"]
        assert bad_salt.removeprefix("0x")[:8] not in problem["detail"], problem


# --------------------------------------------------------------------------- proofs


def test_proofs_of_file_and_record_leaves(api: Api, world: World) -> None:
    _digest, leaf = file_leaf(policy_file(world, "低保资格核查流程.md"), "低保资格核查流程.md")
    bundle = api.ok(f"/v1/proofs/{leaf}")
    assert bundle["format"] == "xietong-proof/3" and bundle["leaf"]["kind"] == "file"
    assert bundle["version_id"] == version_of(POLICY, bundle["root"])
    assert bundle["publisher"]["id"] == hex_id(department_id(CIVIL))
    assert verify_bundle(bundle, world.client.w3, trust=world.trust()).leaf == leaf

    row, salt = november_row(world, 0)
    record_hash = hashing.record_hash(row)
    record_leaf = hex_id(
        merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [record_hash, bytes.fromhex(salt[2:])])
    )
    missing = api.get(f"/v1/proofs/{record_leaf}")
    assert "record_hash and salt" in assert_problem(missing, 400, "bad-input")["detail"]
    _row, other_salt = november_row(world, 1)
    mismatched = api.get(
        f"/v1/proofs/{record_leaf}", params={"record_hash": hex_id(record_hash), "salt": other_salt}
    )
    assert_problem(mismatched, 400, "bad-input")
    complete = api.ok(
        f"/v1/proofs/{record_leaf}", params={"record_hash": hex_id(record_hash), "salt": salt}
    )
    check = verify_bundle(complete, world.client.w3, trust=world.trust())
    assert check.root == world.report.versions["dibao-2026-11"]


def test_proofs_refuse_malformed_and_unknown_leaves(api: Api) -> None:
    assert_problem(api.get("/v1/proofs/0xabc"), 400, "bad-hash")
    assert_problem(api.get(f"/v1/proofs/{UNKNOWN}"), 404, "not-anchored")
    assert_problem(api.get(f"/v1/proofs/{UNKNOWN}", params={"root": "0x1"}), 400, "bad-hash")


# --------------------------------------------------------------------------- datasets


def test_datasets_pages_of_one_walk_every_dataset_once(api: Api, world: World) -> None:
    seen = []
    cursor = None
    for _ in range(10):
        page = api.ok("/v1/datasets", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(world.report.datasets.values())
    everything = api.ok("/v1/datasets")
    assert [d["id"] for d in everything["items"]] == seen and everything["next_cursor"] is None
    assert all(d["code_hash"] for d in everything["items"])
    dibao = next(d for d in everything["items"] if d["id"] == hex_id(dataset_of(CIVIL, DIBAO)))
    assert dibao["code_hash"] == hex_id(code_hash(DIBAO))
    assert dibao["version_count"] == 2
    assert dibao["latest_root"] == world.report.versions["dibao-2026-11"]
    assert dibao["owner"]["name"] == "杭州市民政局"
    assert api.ok("/v1/datasets", params={"owner": CIVIL})["items"] == everything["items"]
    assert api.ok("/v1/datasets", params={"owner": PSB})["items"] == []


def test_datasets_refuse_malformed_cursors_and_limits(api: Api) -> None:
    # Junk, not JSON, [1], {"a":1}; JSON nested 3,000 deep (a RecursionError, once a 500 with
    # a traceback) and 300 deep (within the length a cursor may have).
    deep = [base64.urlsafe_b64encode(b"[" * n + b"]" * n).decode() for n in (3_000, 300)]
    for cursor in ("!!!", "bm90IGpzb24", "WzFd", "eyJhIjoxfQ", *deep):
        response = api.get("/v1/datasets", params={"cursor": cursor})
        assert "cursor" in assert_problem(response, 400, "bad-input")["detail"]
    assert_problem(api.get("/v1/datasets", params={"limit": 0}), 422, "invalid-request")
    assert_problem(api.get("/v1/datasets", params={"limit": 501}), 422, "invalid-request")


def test_datasets_refuse_cursors_of_another_shape(api: Api) -> None:
    events_cursor = api.ok("/v1/audit/events", params={"limit": 1})["next_cursor"]
    for cursor in (events_cursor, encode_cursor([2**70, "x"]), encode_cursor(["abc", "x"])):
        assert_problem(api.get("/v1/datasets", params={"cursor": cursor}), 400, "bad-input")


def test_dataset_detail_has_versions_lineage_and_agreements(api: Api, world: World) -> None:
    by_code = api.ok(f"/v1/datasets/{DIBAO}")
    assert api.ok(f"/v1/datasets/{hex_id(dataset_of(CIVIL, DIBAO))}") == by_code
    october, november = (
        world.report.versions["dibao-2026-10"],
        world.report.versions["dibao-2026-11"],
    )
    assert by_code["code_hash"] == hex_id(code_hash(DIBAO))
    assert [v["root"] for v in by_code["versions"]] == [october, november]
    # Versions, their parents and the lineage edges are version ids (dataset and root).
    first, second = version_of(DIBAO, october), version_of(DIBAO, november)
    assert [v["id"] for v in by_code["versions"]] == [first, second]
    assert [v["parents"] for v in by_code["versions"]] == [[], [first]]
    assert by_code["lineage"] == [{"from": first, "to": second}]
    assert {a["id"] for a in by_code["agreements"]} == set(world.report.agreements.values())
    dibao = dataset_of(CIVIL, DIBAO)
    leaf_counts = [
        read_version(world.client, dibao, bytes.fromhex(r[2:])).leaf_count
        for r in (october, november)
    ]
    assert [v["leaf_count"] for v in by_code["versions"]] == leaf_counts
    assert_problem(api.get("/v1/datasets/HZ-NO-SUCH"), 404, "unknown-dataset")
    assert_problem(api.get("/v1/datasets/0x1234"), 400, "bad-hash")


def test_provenance_is_prov_json_with_derivation_agents_and_access(api: Api, world: World) -> None:
    doc = api.ok(f"/v1/datasets/{DIBAO}/provenance")
    assert set(doc["prefix"]) == {"xt", "prov"}
    october, november = (
        world.report.versions["dibao-2026-10"],
        world.report.versions["dibao-2026-11"],
    )
    first, second = version_of(DIBAO, october), version_of(DIBAO, november)
    assert list(doc["wasDerivedFrom"].values()) == [
        {
            "prov:generatedEntity": f"xt:version/{second}",
            "prov:usedEntity": f"xt:version/{first}",
        }
    ]
    assert doc["entity"][f"xt:version/{first}"]["xt:root"] == october
    assert doc["entity"][f"xt:version/{second}"]["xt:root"] == november
    labels = {a["prov:label"] for a in doc["agent"].values()}
    assert labels == {NAMES[CIVIL], NAMES[PSB], NAMES[HEALTH]}
    access = [a for a in doc["activity"].values() if a["prov:type"] == qualified("xt:DataAccess")]
    assert len(access) == world.report.receipts
    sharing = world.report.agreements["dibao-to-psb"]
    for use in doc["used"].values():
        assert use["prov:entity"] == f"xt:dataset/{hex_id(dataset_of(CIVIL, DIBAO))}"
    plans = [a for a in doc["wasAssociatedWith"].values() if "prov:plan" in a]
    assert {p["prov:plan"] for p in plans} == {f"xt:agreement/{sharing}"}
    assert {p["prov:agent"] for p in plans} == {f"xt:department/{hex_id(department_id(PSB))}"}
    assert (
        doc["entity"][f"xt:agreement/{world.report.agreements['dibao-to-health-revoked']}"][
            "xt:status"
        ]
        == "revoked"
    )
    assert_problem(api.get("/v1/datasets/HZ-NO-SUCH/provenance"), 404, "unknown-dataset")


def test_documents_say_what_a_hash_is_besides_a_leaf(api: Api, world: World) -> None:
    def documents(digest: str) -> dict[str, Any]:
        body: dict[str, Any] = api.ok("/v1/documents", params={"hash": digest})
        assert body["hash"] == digest
        return body

    def kinds(text: str) -> list[tuple[str, str, str | None, str | None]]:
        body = documents(hex_id(code_hash(text)))
        assert body["named"] == {"text": text, "verified": True}  # the demo catalogued it
        return [
            (d["kind"], d["subject"], d["status"], (d["department"] or {}).get("name"))
            for d in body["documents"]
        ]

    sharing = world.report.agreements["dibao-to-psb"]
    revoked = world.report.agreements["dibao-to-health-revoked"]
    commitment = world.report.commitment
    terms = documents(hex_id(hashing.sha256_file(Path(world.report.files["terms"]))))
    assert terms["named"] is None  # a document, not a text
    # The demo's two agreements share one terms document, oldest first.
    assert [
        {k: d[k] for k in ("kind", "subject_type", "subject", "status")} for d in terms["documents"]
    ] == [
        {"kind": "agreement-terms", "subject_type": "agreement", "subject": a, "status": s}
        for a, s in ((sharing, "active"), (revoked, "revoked"))
    ]
    proposed = api.ok(f"/v1/agreements/{sharing}")["proposed_at"]
    assert terms["documents"][0]["time"] == proposed
    assert kinds("eligibility-check 低保资格核查") == [
        ("agreement-purpose", sharing, "active", None)
    ]
    assert kinds("《社会救助暂行办法》第十一条") == [
        ("agreement-legal-basis", sharing, "active", None)
    ]
    assert kinds("《统计法》") == [("agreement-legal-basis", revoked, "revoked", None)]
    assert kinds("用途超出约定范围") == [("agreement-reason", revoked, "revoked", None)]
    assert kinds("出生一件事-2026-000123") == [("commitment-matter", commitment, "completed", None)]
    assert kinds("办理户口登记") == [("commitment-duty", commitment, "completed", NAMES[PSB])]
    assert kinds("户口登记 完成") == [("commitment-evidence", commitment, "completed", NAMES[PSB])]
    assert kinds("一件事办结") == [("commitment-closing", commitment, "completed", None)]
    assert kinds(DIBAO) == [("dataset-code", hex_id(dataset_of(CIVIL, DIBAO)), None, NAMES[CIVIL])]
    nothing = documents("0x" + "ab" * 32)
    assert nothing == {"hash": "0x" + "ab" * 32, "named": None, "documents": []}
    assert_problem(api.get("/v1/documents", params={"hash": "0x12"}), 400, "bad-hash")
    assert_problem(
        api.get("/v1/documents", params={"hash": "0x" + "ab" * 32}, scope=None), 401, "unauthorized"
    )


def test_receipts_reviewed_beside_their_agreements(api: Api, world: World) -> None:
    sharing = world.report.agreements["dibao-to-psb"]
    reviewed = api.walk("/v1/audit/receipts")
    assert [(r["agreement_id"], r["index"], r["flags"]) for r in reviewed] == [
        (sharing, 0, []),
        (sharing, 1, []),
    ]  # the demo's receipts are within their agreement's scope and validity
    assert [r["entry_count"] for r in reviewed] == [30, 15]
    assert reviewed[0]["agreement"]["id"] == sharing
    assert reviewed[0]["consumer"]["name"] == NAMES[PSB]
    assert api.walk("/v1/audit/receipts", flagged="true") == []
    assert api.walk("/v1/audit/receipts", agreement=world.report.commitment) == []
    exported = api.get("/v1/audit/receipts", params={"format": "csv", "agreement": sharing})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["receipt_index"], r["flags"]) for r in rows] == [("0", ""), ("1", "")]
    assert rows[0]["purpose_text"] == "eligibility-check 低保资格核查"  # named by the catalogue
    bad = api.get("/v1/audit/receipts", params={"agreement": "0x12"})
    assert_problem(bad, 400, "bad-hash")


def qualified(name: str) -> dict[str, str]:
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def test_provenance_reads_back_in_the_w3c_prov_library_with_types_and_members(
    api: Api, world: World
) -> None:
    # The prov package (W3C PROV's Python implementation) parses the document: types and roles
    # are qualified names, not strings, and the dataset collection lists its versions.
    text = api.get(f"/v1/datasets/{DIBAO}/provenance").text
    document = ProvDocument.deserialize(content=text, format="json")
    records = document.get_records()
    xt = Namespace("xt", "https://xietong.example/ns#")
    dataset = xt[f"dataset/{hex_id(dataset_of(CIVIL, DIBAO))}"]
    versions = {
        xt[f"version/{version_of(DIBAO, world.report.versions[name])}"]
        for name in ("dibao-2026-10", "dibao-2026-11")
    }

    def typed(kind: Any, prov_type: Any) -> set[Any]:
        return {
            r.identifier
            for r in records
            if isinstance(r, kind) and prov_type in r.get_asserted_types()
        }

    assert typed(ProvEntity, PROV["Collection"]) == {dataset}
    assert typed(ProvEntity, xt["DatasetVersion"]) == versions
    assert len(typed(ProvAgent, PROV["Organization"])) == 3
    assert len(typed(ProvActivity, xt["DataAccess"])) == world.report.receipts
    members = {
        (dict(r.attributes)[PROV_ATTR_COLLECTION], dict(r.attributes)[PROV_ATTR_ENTITY])
        for r in records
        if isinstance(r, ProvMembership)
    }
    assert members == {(dataset, version) for version in versions}
    roles = {
        dict(r.attributes)[PROV_ROLE]
        for r in records
        if isinstance(r, ProvAttribution) and PROV_ROLE in dict(r.attributes)
    }
    assert roles == {xt["provider"], xt["consumer"]}


# --------------------------------------------------------------------------- agreements


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_agreements_list_and_filters(api: Api, world: World) -> None:
    sharing = world.report.agreements["dibao-to-psb"]
    revoked = world.report.agreements["dibao-to-health-revoked"]
    assert sorted(ids(api.walk("/v1/agreements"))) == sorted([sharing, revoked])
    assert ids(api.walk("/v1/agreements", status="revoked")) == [revoked]
    assert ids(api.walk("/v1/agreements", status="active")) == [sharing]
    assert ids(api.walk("/v1/agreements", status="proposed")) == []
    assert ids(api.walk("/v1/agreements", department=PSB)) == [sharing]
    assert ids(api.walk("/v1/agreements", department=hex_id(department_id(HEALTH)))) == [revoked]
    assert sorted(ids(api.walk("/v1/agreements", department=CIVIL))) == sorted([sharing, revoked])
    assert sorted(ids(api.walk("/v1/agreements", dataset=DIBAO))) == sorted([sharing, revoked])
    assert ids(api.walk("/v1/agreements", dataset=POLICY)) == []
    assert ids(api.walk("/v1/agreements", dataset=DIBAO, status="revoked", department=HEALTH)) == [
        revoked
    ]
    one = api.ok("/v1/agreements", params={"limit": 1})
    assert len(one["items"]) == 1 and one["next_cursor"]
    assert_problem(api.get("/v1/agreements", params={"status": "valid"}), 400, "bad-input")


def test_agreement_detail_with_access_receipts(api: Api, world: World) -> None:
    sharing = world.report.agreements["dibao-to-psb"]
    body = api.ok(f"/v1/agreements/{sharing}")
    assert body["status"] == "active"
    assert (body["provider"]["name"], body["consumer"]["name"]) == (NAMES[CIVIL], NAMES[PSB])
    assert body["purpose"] == hex_id(code_hash(ELIGIBILITY))
    assert body["datasets"] == [hex_id(dataset_of(CIVIL, DIBAO))]
    client = world.client
    assert body["accepted_by"] == dev_account(PSB_DEV).address  # its consent, relayed
    # Valid from a day before it was accepted: in effect from the acceptance only (no
    # backdating), as the chain's effectiveFrom says, and no receipt starts earlier.
    assert body["valid_from"] < body["accepted_at"] == body["effective_from"]
    effective = client.call("SharingAgreements", "effectiveFrom", bytes.fromhex(sharing[2:]))
    assert body["effective_from"] == datetime.fromtimestamp(effective, tz=UTC).isoformat()
    assert all(r["period_start"] >= body["effective_from"] for r in body["access_receipts"])
    receipts = body["access_receipts"]
    assert len(receipts) == client.call(
        "SharingAgreements", "accessReceiptCount", bytes.fromhex(sharing[2:])
    )
    for receipt in receipts:
        on_chain = client.call(
            "SharingAgreements", "accessReceipt", bytes.fromhex(sharing[2:]), receipt["index"]
        )
        assert receipt["log_root"] == hex_id(bytes(on_chain[0]))
        assert receipt["entry_count"] == on_chain[1]
        assert client.w3.eth.get_transaction_receipt(receipt["transaction"])["status"] == 1
    revoked = api.ok(f"/v1/agreements/{world.report.agreements['dibao-to-health-revoked']}")
    assert revoked["status"] == "revoked" and revoked["closed_at"] is not None
    assert revoked["reason_hash"] == hex_id(code_hash("用途超出约定范围"))
    assert revoked["access_receipts"] == []
    assert_problem(api.get(f"/v1/agreements/{UNKNOWN}"), 404, "unknown-agreement")
    assert_problem(api.get("/v1/agreements/0xfeed"), 400, "bad-hash")


def test_authorization_check_answers_for_the_agreed_purpose_only(api: Api, world: World) -> None:
    def check(consumer: str, purpose: str) -> dict[str, Any]:
        params = {"provider": CIVIL, "consumer": consumer, "dataset": DIBAO, "purpose": purpose}
        return api.ok("/v1/authorizations/check", params=params)

    def on_chain(consumer: str, purpose: bytes) -> bool:
        return bool(
            world.client.call(
                "SharingAgreements",
                "isAuthorized",
                department_id(CIVIL),
                department_id(consumer),
                dataset_of(CIVIL, DIBAO),
                purpose,
            )
        )

    allowed = check(PSB, ELIGIBILITY)
    assert allowed["authorized"] is True is on_chain(PSB, code_hash(ELIGIBILITY))
    assert allowed["agreement"]["id"] == world.report.agreements["dibao-to-psb"]
    assert allowed["index"]["chain_id"] == world.client.chain_id
    assert check(PSB, hex_id(code_hash(ELIGIBILITY)))["authorized"] is True
    # Its hash as the CLI takes it too: 0X and surrounding spaces allowed.
    assert check(PSB, " 0X" + code_hash(ELIGIBILITY).hex().upper() + " ")["authorized"] is True
    assert_problem(
        api.get(
            "/v1/authorizations/check",
            params={"provider": CIVIL, "consumer": PSB, "dataset": DIBAO, "purpose": "0x12"},
        ),
        400,
        "bad-hash",
    )
    for consumer, purpose in ((PSB, STATISTICS), (HEALTH, STATISTICS), (HEALTH, ELIGIBILITY)):
        answer = check(consumer, purpose)
        assert answer["authorized"] is False is on_chain(consumer, code_hash(purpose))
        assert answer["agreement"] is None
    missing = api.get("/v1/authorizations/check", params={"provider": CIVIL, "consumer": PSB})
    assert_problem(missing, 422, "invalid-request")


# --------------------------------------------------------------------------- commitments


def test_commitments_list_detail_and_filters(api: Api, world: World) -> None:
    commitment = world.report.commitment
    assert ids(api.walk("/v1/commitments")) == [commitment]
    assert ids(api.walk("/v1/commitments", status="completed")) == [commitment]
    assert ids(api.walk("/v1/commitments", status="overdue")) == []
    assert ids(api.walk("/v1/commitments", status="active")) == []
    assert ids(api.walk("/v1/commitments", department=PSB)) == [commitment]
    body = api.ok(f"/v1/commitments/{commitment}")
    assert body["status"] == "completed" and body["lead"]["name"] == NAMES[HEALTH]
    assert body["matter_ref"] == hex_id(code_hash("出生一件事-2026-000123"))
    assert [p["department"]["name"] for p in body["participants"]] == [
        NAMES[HEALTH],
        NAMES[PSB],
        NAMES[CIVIL],
    ]
    assert all(
        p["signed_at"] and p["done_at"] and p["report_count"] == 1 for p in body["participants"]
    )
    assert body["closing_hash"] == hex_id(code_hash("一件事办结"))
    assert_problem(api.get(f"/v1/commitments/{UNKNOWN}"), 404, "unknown-commitment")
    assert_problem(api.get("/v1/commitments", params={"status": "late"}), 400, "bad-input")


# --------------------------------------------------------------------------- departments


def test_departments_list_and_detail_by_code_and_id(api: Api) -> None:
    items = api.walk("/v1/departments")
    assert {d["name"] for d in items} == set(NAMES.values())
    assert all(d["status"] == "active" for d in items)
    for code, name in NAMES.items():
        by_code = api.ok(f"/v1/departments/{code}")
        assert by_code["name"] == name and by_code["id"] == hex_id(department_id(code))
        assert api.ok(f"/v1/departments/{by_code['id']}") == by_code
    assert api.walk("/v1/departments", status="suspended") == []
    assert_problem(api.get("/v1/departments/NO-SUCH-CODE"), 404, "unknown-department")
    assert_problem(api.get("/v1/departments", params={"status": "gone"}), 422, "invalid-request")


# --------------------------------------------------------------------------- OpenAPI examples


def fields(node: Any, path: str = "") -> tuple[set[str], set[str]]:
    """The member paths of a JSON value (``.matches[].version.id``), and the paths of its
    empty lists (whose members it cannot show)."""
    paths: set[str] = set()
    empty: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            paths.add(f"{path}.{key}")
            inner, hollow = fields(value, f"{path}.{key}")
            paths |= inner
            empty |= hollow
    elif isinstance(node, list):
        if not node:
            empty.add(path)
        for item in node:
            inner, hollow = fields(item, f"{path}[]")
            paths |= inner
            empty |= hollow
    return paths, empty


def test_the_openapi_examples_have_the_fields_of_real_answers(api: Api, world: World) -> None:
    """Each example the OpenAPI document shows (api/examples.py) has exactly the members of the
    real answer, nested ones included, except inside a list one of them leaves empty."""
    _digest, leaf = file_leaf(policy_file(world), RULES)
    row, salt = november_row(world, 3)

    def record(**extra: Any) -> Any:
        response = api.post(
            "/v1/verify/record", scope="read", json={"record": row, "salt": salt, **extra}
        )
        assert response.status_code == 200, response.text
        return response.json()

    real = {
        "verification": record(),  # a version with lineage and an agreement with receipts
        "record_verification": record(with_proof=True),
        "bundle": api.ok(f"/v1/proofs/{leaf}"),
        "datasets": api.ok("/v1/datasets"),
        "dataset": api.ok(f"/v1/datasets/{DIBAO}"),
        "consortium": api.ok("/v1/consortium", scope=None),
    }
    for name, answer in real.items():
        shown, shown_empty = fields(EXAMPLES[name])
        has, has_empty = fields(answer)

        def inside(path: str, lists: set[str]) -> bool:
            return any(path.startswith(f"{empty}[]") for empty in lists)

        missing = {p for p in has - shown if not inside(p, shown_empty)}
        extra = {p for p in shown - has if not inside(p, has_empty)}
        assert (sorted(missing), sorted(extra)) == ([], []), name


# --------------------------------------------------------------------------- audit trail


def chain_event_count(world: World) -> int:
    """Logs of the four contracts since the deployment, counted on the chain itself."""
    w3 = world.client.w3
    manifest = json.loads(world.manifest.read_text(encoding="utf-8"))
    addresses = [c["address"] for c in manifest["contracts"].values()]
    logs = w3.eth.get_logs(
        {"fromBlock": manifest["block_number"], "toBlock": "latest", "address": addresses}
    )
    return len(logs)


def test_audit_events_cover_the_chain_in_order(api: Api, world: World) -> None:
    events = api.walk("/v1/audit/events", limit=7)
    assert len(events) == chain_event_count(world)
    positions = [(e["block_number"], e["log_index"]) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_audit_events_filters(api: Api, world: World) -> None:
    everything = api.walk("/v1/audit/events")
    revoked = world.report.agreements["dibao-to-health-revoked"]
    [event] = api.walk("/v1/audit/events", type="AgreementRevoked")
    assert event["subject_id"] == revoked and event["department"] == NAMES[CIVIL]
    assert event["args"]["reasonHash"] == hex_id(code_hash("用途超出约定范围"))
    for name in ("VersionAnchored", "AccessRecorded", "CommitmentCompleted"):
        expected = [e for e in everything if e["event"] == name]
        assert expected and api.walk("/v1/audit/events", type=name) == expected
    psb_id = hex_id(department_id(PSB))
    psb = api.walk("/v1/audit/events", department=PSB)
    assert psb and psb == [e for e in everything if e["department_id"] == psb_id]
    assert {e["department"] for e in psb} == {NAMES[PSB]}
    about = api.walk("/v1/audit/events", subject=revoked)
    assert [e["event"] for e in about] == [
        "AgreementProposed",
        "AgreementAccepted",
        "AgreementRevoked",
    ]
    assert api.walk("/v1/audit/events", type="NoSuchEvent") == []


def test_audit_events_time_range_is_since_inclusive_until_exclusive(api: Api) -> None:
    everything = api.walk("/v1/audit/events")
    times = sorted({e["time"] for e in everything})
    for t in times:
        assert api.walk("/v1/audit/events", since=t) == [e for e in everything if e["time"] >= t]
        assert api.walk("/v1/audit/events", until=t) == [e for e in everything if e["time"] < t]
        assert api.walk("/v1/audit/events", since=t, until=t) == []
    assert api.walk("/v1/audit/events", since="2000-01-01", until="2100-01-01") == everything
    assert api.walk("/v1/audit/events", since="2100-01-01") == []
    assert api.walk("/v1/audit/events", since="2100-01-01", until="2000-01-01") == []
    date = times[0][:10]  # a date alone is midnight UTC
    assert api.walk("/v1/audit/events", since=date) == everything
    assert api.walk("/v1/audit/events", until=date) == []
    assert_problem(api.get("/v1/audit/events", params={"since": "yesterday"}), 400, "bad-input")
    assert_problem(api.get("/v1/audit/events", params={"until": "2026-13-01"}), 400, "bad-input")


def test_audit_events_as_csv(api: Api) -> None:
    response = api.get("/v1/audit/events", params={"format": "csv", "department": CIVIL})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    # UTF-8 with a byte order mark, which Excel on Chinese Windows needs to read it as UTF-8.
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    assert header == [
        "block_number",
        "log_index",
        "time",
        "transaction",
        "contract",
        "event",
        "department_id",
        "department",
        "subject_id",
        "args",
    ]
    as_json = api.walk("/v1/audit/events", department=CIVIL)
    assert len(rows) == len(as_json) > 0
    for row, event in zip(rows, as_json, strict=True):
        assert (int(row["block_number"]), int(row["log_index"])) == (
            event["block_number"],
            event["log_index"],
        )
        assert row["department"] == NAMES[CIVIL] and json.loads(row["args"]) == event["args"]
    none = api.get("/v1/audit/events", params={"format": "csv", "since": "2100-01-01"})
    assert none.content.decode("utf-8-sig").splitlines() == [",".join(header)]


def test_audit_subject_filter_takes_every_subject_the_trail_shows(api: Api) -> None:
    """Subjects are agreement/commitment/dataset ids, roots, but also operator and auditor
    accounts (OperatorAdded, AuditorAdded): each must be usable as the filter."""
    everything = api.walk("/v1/audit/events")
    for subject in sorted({e["subject_id"] for e in everything if e["subject_id"]}):
        response = api.get("/v1/audit/events", params={"subject": subject, "limit": 500})
        assert response.status_code == 200, (subject, response.text)
        found = response.json()["items"]
        assert found and {e["subject_id"] for e in found} == {subject}, subject


def test_an_export_over_its_row_limit_is_refused_whole_not_cut_short(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV export is every row or a problem saying how to narrow it: never the first rows
    alone, passed off as the whole."""
    every = len(api.walk("/v1/audit/events", department=CIVIL))
    monkeypatch.setattr("api.routes.audit.MAX_CSV_ROWS", every)
    whole = api.get("/v1/audit/events", params={"format": "csv", "department": CIVIL})
    assert whole.status_code == 200
    assert len(whole.content.decode("utf-8-sig").splitlines()) == every + 1  # and the header
    monkeypatch.setattr("api.routes.audit.MAX_CSV_ROWS", every - 1)
    refused = api.get("/v1/audit/events", params={"format": "csv", "department": CIVIL})
    assert_problem(refused, 400, "export-too-large")
    assert f"more than {every - 1:,} rows: narrow it" in refused.json()["detail"]
    monkeypatch.setattr("api.routes.audit.MAX_CSV_ROWS", 1)  # the demo recorded two receipts
    receipts = api.get("/v1/audit/receipts", params={"format": "csv"})
    assert_problem(receipts, 400, "export-too-large")
    # The portal's export of the review says so too, on its error page.
    monkeypatch.setattr("api.portal.routes.MAX_CSV_ROWS", 1)
    page = api.get("/audit/receipts.csv")
    assert page.status_code == 400 and "text/html" in page.headers["content-type"], page.text
    assert "more than 1 rows: narrow it" in page.text
