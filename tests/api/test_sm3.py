"""An SM3 dataset through the API (docs/SM3.md): a file uploaded, its SM3 digest, and a record
given as JSON are each found with ``"digest": "sm3"``; the bundles carry SM3 leaves that
``verify_bundle`` checks against the chain; a SHA-256 digest of the same file finds nothing.
On the demo chain, reverted after each test, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from eth_utils import keccak
from sqlmodel import Session

from ledger import hashing, merkle
from ledger.anchoring import prepare_path
from ledger.db.tables import CatalogueText
from ledger.ids import code_hash
from ledger.metadata import metadata_text
from ledger.verify import verify_bundle
from tests.api._support import CIVIL, Api, World, assert_problem, dataset_of

CODE = "HZ-MZ-SM3"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_an_sm3_dataset_is_verified_by_file_digest_and_record(
    writer: Api, chain: World, tmp_path: Path
) -> None:
    gateway = writer.state.gateway
    text = metadata_text("低保名单（国密）", "sm3")
    gateway.remember(("text", text))  # as `xietong dataset register --digest sm3` does
    gateway.client.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(CODE),
        keccak(text=text),
        sender=gateway.signer,
    )
    dataset = dataset_of(CIVIL, CODE)
    folder = tmp_path / "docs"
    folder.mkdir()
    content = "第一条 国密算法\n".encode()
    (folder / "办法.txt").write_bytes(content)
    gateway.anchorer().anchor(prepare_path(folder, dataset, digest="sm3"))
    rows = tmp_path / "rows.csv"
    with rows.open("w", encoding="utf-8", newline="") as handle:
        writer_ = csv.writer(handle)
        writer_.writerow(["编号", "姓名"])
        writer_.writerows([["G1", "甲"], ["G2", "乙"]])
    gateway.anchorer().anchor(prepare_path(rows, dataset, digest="sm3"))
    writer.sync()

    sm3 = "0x" + hashlib.new("sm3", content).hexdigest()
    uploaded = writer.post("/v1/verify/file", scope="read", content=content)
    assert uploaded.status_code == 200, uploaded.text
    [match] = uploaded.json()["matches"]
    assert match["digest"] == "sm3" and match["content_hash"] == sm3
    assert uploaded.json()["status"] == "anchored"

    by_digest = writer.ok("/v1/verify", params={"hash": sm3, "with_proof": "true"})
    bundle = by_digest["matches"][0]["proof"]
    assert bundle["leaf"]["types"] == ["string", "bytes32", "string"]
    assert bundle["leaf"]["values"] == ["sm3", sm3, "办法.txt"]
    check = verify_bundle(bundle, chain.client.w3, trust=chain.trust())
    assert check.kind == "file" and check.root == by_digest["matches"][0]["version"]["root"]
    sha256 = "0x" + hashlib.sha256(content).hexdigest()
    assert writer.get("/v1/verify", params={"hash": sha256}).status_code == 404

    salts = hashing.read_salts(tmp_path / "rows.csv.salts.json")
    salt = salts.values[1]
    assert salt is not None
    asked = writer.post(
        "/v1/verify/record",
        scope="read",
        json={
            "record": {"编号": "G2", "姓名": "乙"},
            "salt": "0x" + salt.hex(),
            "with_proof": True,
        },
    )
    assert asked.status_code == 200, asked.text
    [row] = asked.json()["matches"]
    assert row["digest"] == "sm3" and row["record_index"] == 1
    assert row["proof"]["leaf"]["types"] == ["string", "bytes32", "bytes32"]
    assert verify_bundle(row["proof"], chain.client.w3, trust=chain.trust()).kind == "record"
    # The record's SM3 digest given as record_hash finds it too; its SHA-256 does not.
    record = hashing.canonical_json({"编号": "G2", "姓名": "乙"})
    for digest, found in ((hashlib.new("sm3", record), True), (hashlib.sha256(record), False)):
        answer = writer.post(
            "/v1/verify/record",
            scope="read",
            json={"record_hash": "0x" + digest.hexdigest(), "salt": "0x" + salt.hex()},
        )
        assert answer.status_code == (200 if found else 404), answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hashes_submitted_for_an_sm3_dataset_are_anchored_as_sm3_leaves(
    writer: Api, chain: World
) -> None:
    gateway = writer.state.gateway
    text = metadata_text("决定书（国密）", "sm3")
    gateway.remember(("text", text))
    gateway.client.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE), keccak(text=text),
        sender=gateway.signer,
    )  # fmt: skip
    writer.sync()
    data = b"%PDF decision SM3"
    leaf = {"content_hash": "0x" + hashlib.new("sm3", data).hexdigest(), "name": "决定书.pdf"}
    response = writer.post("/v1/anchors", scope="anchor", json={"dataset": CODE, "leaves": [leaf]})
    assert response.status_code == 202, response.text
    batch = response.json()["batch_id"]
    state = writer.state
    assert state.queue.flush(state.anchorer, now=float(2**40)) == [batch]
    done = writer.ok(f"/v1/anchors/{batch}", scope="anchor")
    expected = merkle.MerkleTree.of(
        [["sm3", bytes.fromhex(leaf["content_hash"][2:]), leaf["name"]]],
        merkle.SM3_FILE_LEAF_TYPES,
    ).root
    assert done["status"] == "confirmed" and done["root"] == "0x" + expected.hex()
    writer.sync()
    [match] = writer.ok("/v1/verify", params={"hash": leaf["content_hash"]})["matches"]
    assert match["digest"] == "sm3" and match["path"] == "决定书.pdf"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hashes_for_a_dataset_whose_metadata_text_is_unknown_here_are_refused(
    writer: Api, chain: World
) -> None:
    """Registered by another gateway: without its metadata text this one cannot tell SHA-256
    from SM3, so it refuses the hashes (400) rather than anchor them under a guessed type; a
    batch queued before the text went missing fails with the same sentence."""
    gateway = writer.state.gateway
    text = metadata_text("别处登记（国密）", "sm3")
    gateway.client.transact(
        "DatasetRegistry", "registerDataset", code_hash(CODE), keccak(text=text),
        sender=gateway.signer,
    )  # fmt: skip
    writer.sync()
    leaf = {"content_hash": "0x" + hashlib.new("sm3", b"elsewhere").hexdigest(), "name": "a.pdf"}
    body = {"dataset": CODE, "leaves": [leaf]}
    dataset = "0x" + dataset_of(CIVIL, CODE).hex()
    sentence = (
        f"dataset {dataset} was registered with metadata 0x{keccak(text=text).hex()}, whose "
        "text this gateway's catalogue does not hold, so whether it takes SHA-256 or SM3 "
        "digests is unknown: add that text to the catalogue (xietong catalogue add --rule "
        "text TEXT, or catalogue import FILE of the registering gateway's export)."
    )
    refused = writer.post("/v1/anchors", scope="anchor", json=body)
    assert assert_problem(refused, 400, "bad-input")["detail"] == sentence
    # A text that does not give the hash (a tampered row, a lying import) names nothing: the
    # digest is still unknown, not SHA-256.
    metadata_hash = "0x" + keccak(text=text).hex()
    with Session(gateway.engine) as session:
        session.add(
            CatalogueText(
                hash=metadata_hash,
                text="别处登记（普通）",
                rule="text",
                source="forged",
                added_at=0,
            )
        )
        session.commit()
    forged = writer.post("/v1/anchors", scope="anchor", json=body)
    assert assert_problem(forged, 400, "bad-input")["detail"] == sentence
    with Session(gateway.engine) as session:
        session.delete(session.get(CatalogueText, metadata_hash))
        session.commit()

    gateway.remember(("text", text))
    queued = writer.post("/v1/anchors", scope="anchor", json=body)
    assert queued.status_code == 202, queued.text
    with Session(gateway.engine) as session:  # the text lost (a database restored, say)
        session.delete(session.get(CatalogueText, "0x" + keccak(text=text).hex()))
        session.commit()
    state = writer.state
    batch = queued.json()["batch_id"]
    assert state.queue.flush(state.anchorer, now=float(2**40)) == [batch]
    failed = writer.ok(f"/v1/anchors/{batch}", scope="anchor")
    assert failed["status"] == "failed" and failed["error"] == sentence
    writer.sync()
    assert writer.get("/v1/verify", params={"hash": leaf["content_hash"]}).status_code == 404
