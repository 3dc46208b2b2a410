"""``POST /v1/datasets/{dataset}/erasures``: 杭州市民政局's gateway erases records of a version
it anchored (the salts are the client's to destroy), and verifying one then answers
``erased``, when and by whom, with a proof against the root the chain holds; the rest of the
version stays anchored. Bad input is problem JSON; another department's dataset is the
contract's refusal. On the demo chain, reverted after each test."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlmodel import Session

from ledger import hashing, merkle
from ledger.anchoring import prepare_path
from ledger.db.tables import ErasedLeaf
from ledger.erasure import erased_root
from ledger.errors import ContractRevertError
from ledger.keys import dev_account
from tests.api._support import CIVIL, DIBAO, PSB_DEV, Api, World, assert_problem, dataset_of

REASON = "PIPL-2026-0114"


def _anchor_records(writer: Api, tmp_path: Path) -> tuple[str, list[str], hashing.Salts]:
    """Three records anchored as a version of 民政局's 低保 dataset: (root, leaves, salts)."""
    data = tmp_path / "dibao-erase.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer_ = csv.writer(handle)
        writer_.writerow(["编号", "姓名"])
        writer_.writerows([["E1", "甲"], ["E2", "乙"], ["E3", "丙"]])
    gateway = writer.state.gateway
    prepared = prepare_path(data, dataset_of(CIVIL, DIBAO), records=True)
    anchored = gateway.anchorer().anchor(prepared)
    writer.sync()
    salts = hashing.read_salts(tmp_path / "dibao-erase.csv.salts.json")
    records = hashing.hash_records(data, salts=salts)
    leaves = [
        "0x" + merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [e.record_hash, e.salt]).hex()
        for e in records.entries
    ]
    return anchored.root, leaves, salts


def test_an_erased_record_is_answered_erased_and_the_rest_stays_anchored(
    writer: Api, chain: World, tmp_path: Path
) -> None:
    root, leaves, salts = _anchor_records(writer, tmp_path)
    body = {"leaves": leaves[:2], "reason": REASON}
    url = f"/v1/datasets/{DIBAO}/erasures"
    # A read key may not erase.
    assert_problem(writer.post(url, scope="read", json=body), 403, "forbidden")
    response = writer.post(url, scope="admin", json=body)
    assert response.status_code == 201, response.text
    erased = response.json()
    expected_root = erased_root([bytes.fromhex(leaf[2:]) for leaf in leaves[:2]])
    assert erased["root"] == root and erased["count"] == 2
    assert erased["erased_root"] == "0x" + expected_root.hex()
    assert erased["transaction"].startswith("0x") and erased["block_number"] > 0
    assert set(erased) == {
        "erasure_id", "dataset_id", "root", "erased_root", "count", "reason_hash",
        "transaction", "block_number",
    }  # fmt: skip
    writer.sync()

    # The record with its salt (kept by whoever received it): erased, when and by whom.
    first = salts.values[0]
    assert first is not None
    asked = writer.post(
        "/v1/verify/record",
        scope="read",
        json={"record": {"编号": "E1", "姓名": "甲"}, "salt": "0x" + first.hex()},
    )
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["anchored"] is False and answer["status"] == "erased"
    [match] = answer["matches"]
    erasure = match["erasure"]
    assert erasure["erased_by"]["name"] == "杭州市民政局" and erasure["count"] == 2
    assert erasure["transaction"] == erased["transaction"]
    assert erasure["erased_root"] == erased["erased_root"]
    leaf = merkle.leaf_hash(merkle.ERASED_LEAF_TYPES, [bytes.fromhex(leaves[0][2:])])
    path = [bytes.fromhex(step[2:]) for step in erasure["proof"]]
    assert "0x" + merkle.process_proof(leaf, path).hex() == erasure["erased_root"]
    # The leaf alone, too; and the third record stays anchored.
    assert writer.ok("/v1/verify", params={"hash": leaves[1]})["status"] == "erased"
    third = writer.ok("/v1/verify", params={"hash": leaves[2]})
    assert third["anchored"] is True and third["matches"][0]["erasure"] is None

    # A gateway's own word is not an erasure: leaves journaled for an erasure the chain does
    # not hold (one never sent, or a store someone edited) claim nothing.
    version = erased["dataset_id"], root
    with Session(writer.state.gateway.engine) as session:
        session.add(
            ErasedLeaf(
                erasure_id="0x" + "ee" * 32,
                version_id=answer["matches"][0]["version"]["id"],
                dataset_id=version[0],
                root=version[1],
                erased_root="0x" + "e0" * 32,
                leaf_hash=leaves[2],
                record_index=2,
                reason_hash="0x" + "4e" * 32,
                created_at=0,
            )
        )
        session.commit()
    chain.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    writer.sync()  # a new generation of the index: nothing kept from before answers
    still = writer.ok("/v1/verify", params={"hash": leaves[2]})
    assert still["status"] == "anchored" and still["matches"][0]["erasure"] is None

    # The dataset lists the erasure under its version, naming no record.
    [version] = [v for v in writer.ok(f"/v1/datasets/{DIBAO}")["versions"] if v["root"] == root]
    [listed] = version["erasures"]
    assert listed["id"] == erased["erasure_id"] and listed["count"] == 2
    assert listed["erased_by"]["name"] == "杭州市民政局" and version["status"] == "anchored"
    assert listed["transaction"] == erased["transaction"]

    # Again: the records were erased already.
    again = writer.post(url, scope="admin", json={"leaves": leaves[1:], "reason": REASON})
    assert assert_problem(again, 400, "bad-input")["detail"].startswith(
        f"leaf {leaves[1]} was erased already, on "
    )


def test_bad_erasures_are_problems_and_other_departments_datasets_are_refused(
    writer: Api, chain: World, tmp_path: Path
) -> None:
    root, leaves, _salts = _anchor_records(writer, tmp_path)
    url = f"/v1/datasets/{DIBAO}/erasures"
    cases = [
        ({"leaves": [], "reason": REASON}, 422, "invalid-request"),
        ({"leaves": ["0x12"], "reason": REASON}, 400, "bad-hash"),
        ({"leaves": [leaves[0], leaves[0]], "reason": REASON}, 400, "bad-input"),
        ({"leaves": [leaves[0]], "reason": "   "}, 400, "bad-input"),
        ({"leaves": ["0x" + "ab" * 32], "reason": REASON}, 400, "bad-input"),
    ]
    for body, status, kind in cases:
        assert_problem(writer.post(url, scope="admin", json=body), status, kind)
    unknown = writer.post("/v1/datasets/NO-SUCH/erasures", scope="admin", json=cases[-1][0])
    assert unknown.status_code == 404

    # 公安局's operator (dev 1), lying that it may erase 民政局's records: the contract refuses.
    with pytest.raises(ContractRevertError) as refused:
        writer.state.gateway.client.transact(
            "DatasetRegistry",
            "eraseRecords",
            dataset_of(CIVIL, DIBAO),
            bytes.fromhex(root[2:]),
            b"\x01" * 32,
            1,
            b"\x02" * 32,
            sender=dev_account(PSB_DEV),
        )
    assert refused.value.error_name == "DatasetRegistryNotDatasetOwner"


def test_a_gateway_that_cannot_name_an_erasures_leaves_says_so(
    writer: Api, chain: World, tmp_path: Path
) -> None:
    """An erasure the chain holds whose leaves this gateway's database does not have (the
    erasure was made with another database, e.g. `xietong dataset erase` on an operator's
    machine): the records are still found in the leaf store, so they are answered anchored,
    and each match says how many records of its version were erased that this gateway cannot
    name; the owner's gateway, which has them, answers them erased."""
    _root, leaves, _salts = _anchor_records(writer, tmp_path)
    body = {"leaves": leaves[:2], "reason": REASON}
    assert (
        writer.post(f"/v1/datasets/{DIBAO}/erasures", scope="admin", json=body).status_code == 201
    )
    writer.sync()
    for leaf in leaves[:2]:
        [own] = writer.ok("/v1/verify", params={"hash": leaf})["matches"]
        assert own["status"] == "erased" and own["unattributed_erasures"] == 0
    [kept] = writer.ok("/v1/verify", params={"hash": leaves[2]})["matches"]
    assert kept["status"] == "anchored" and kept["unattributed_erasures"] == 0

    with Session(writer.state.gateway.engine) as session:  # the leaves journaled elsewhere
        session.execute(delete(ErasedLeaf))
        session.commit()
    chain.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    writer.sync()  # a new generation of the index: nothing kept from before answers
    for leaf in leaves:
        [match] = writer.ok("/v1/verify", params={"hash": leaf})["matches"]
        assert match["status"] == "anchored" and match["erasure"] is None
        assert match["unattributed_erasures"] == 2
