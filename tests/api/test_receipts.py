"""Access receipts through the API: the consumer records one (only a root and a count leave
it), anyone with a read key checks an entry's proof against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.receipts import access_entry_proof, hash_access_log, read_receipt
from tests.api._support import PSB_DEV, Api, World, assert_problem


def test_a_receipt_recorded_by_its_consumer_and_an_entry_proved(
    writer: Api, chain: World, make_api: Any, tmp_path: Path
) -> None:
    sharing = chain.report.agreements["dibao-to-psb"]
    log = tmp_path / "psb.jsonl"
    log.write_text(
        "".join(json.dumps({"lookup": f"DB{i:03d}"}) + "\n" for i in range(12)), encoding="utf-8"
    )
    hashed = hash_access_log(log)
    accepted = writer.ok(f"/v1/agreements/{sharing}")["effective_from"]
    body = {
        "log_root": "0x" + hashed.root.hex(),
        "entry_count": hashed.entry_count,
        "period_start": accepted,
        "period_end": accepted,
    }
    # The provider may not record the consumer's use.
    refused = writer.post(f"/v1/agreements/{sharing}/receipts", json=body)
    assert assert_problem(refused, 409, "contract-revert")["error_name"] == (
        "SharingAgreementsNotConsumer"
    )
    psb = make_api(
        chain.settings(database_url=writer.state.settings.database_url, dev_account=PSB_DEV)
    )
    recorded = psb.post(f"/v1/agreements/{sharing}/receipts", json=body)
    assert recorded.status_code == 201, recorded.text
    index = recorded.json()["receipt_index"]
    assert index == chain.report.receipts  # after the demo's receipts
    proof = access_entry_proof(
        log,
        salts_path=hashed.salts_path,
        entry=3,
        agreement_id=bytes.fromhex(sharing[2:]),
        receipt_index=index,
    )
    url = f"/v1/agreements/{sharing}/receipts/{index}/verify"
    checked = writer.post(url, json=proof, scope="read")
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert (answer["valid"], answer["entry_count"]) == (True, 12)
    assert answer["record_hash"] == proof["record_hash"]  # the entry, by what it hashes to
    assert answer["log_root"] == body["log_root"] and answer["period_start"] == accepted
    # A proof that lies, a proof of another receipt, malformed input.
    lie = {**proof, "salt": "0x" + "00" * 32}
    assert (
        assert_problem(writer.post(url, json=lie, scope="read"), 400, "bad-access-proof")["detail"]
        == "the access proof's leaf is not the leaf of its record hash and salt."
    )
    elsewhere = writer.post(f"/v1/agreements/{sharing}/receipts/0/verify", json=proof, scope="read")
    assert assert_problem(elsewhere, 400, "bad-access-proof")["detail"] == (
        f"the access proof is for receipt {index} of agreement {sharing}, not receipt 0 of "
        f"{sharing}."
    )
    bad = psb.post(f"/v1/agreements/{sharing}/receipts", json={**body, "log_root": "0x12"})
    assert_problem(bad, 400, "bad-hash")
    late = psb.post(f"/v1/agreements/{sharing}/receipts", json={**body, "period_end": "2000-01-01"})
    assert assert_problem(late, 400, "bad-input")["detail"] == (
        "a receipt's period ends before it starts."
    )
    negative = psb.post(f"/v1/agreements/{sharing}/receipts", json={**body, "entry_count": -1})
    assert_problem(negative, 422, "invalid-request")


def test_a_receipt_without_a_period_end_ends_at_the_chains_latest_block(
    writer: Api, chain: World, make_api: Any, tmp_path: Path
) -> None:
    """The contract holds a period end to the chain's clock (not after the block recording it),
    which need not be the gateway's: left out, the end is the latest block's time."""
    sharing = chain.report.agreements["dibao-to-psb"]
    log = tmp_path / "psb.jsonl"
    log.write_text('{"lookup": "DB001"}\n', encoding="utf-8")
    hashed = hash_access_log(log)
    psb = make_api(
        chain.settings(database_url=writer.state.settings.database_url, dev_account=PSB_DEV)
    )
    head = int(psb.state.gateway.client.head()["timestamp"])
    body = {
        "log_root": "0x" + hashed.root.hex(),
        "entry_count": 1,
        "period_start": writer.ok(f"/v1/agreements/{sharing}")["effective_from"],
    }
    recorded = psb.post(f"/v1/agreements/{sharing}/receipts", json=body)
    assert recorded.status_code == 201, recorded.text
    kept = read_receipt(
        psb.state.gateway.client, bytes.fromhex(sharing[2:]), recorded.json()["receipt_index"]
    )
    assert kept["period_end"] == head and kept["log_root"] == hashed.root
