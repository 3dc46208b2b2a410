"""``GET /v1/verify`` answers kept per process (api/answer_cache.py) are served again only
while the index's checkpoint, the chain's head and its time stay where they were: a version
revoked, or the same file anchored in a new version, shows in the very next answer once a real
indexer pass has committed it, on SQLite and PostgreSQL (the checkpoint read over psycopg's
asynchronous connection there)."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.api._support import CIVIL, DIBAO, POLICY, Api, World, dataset_of
from tests.api.test_reads import RULES, file_leaf, policy_file
from tests.api.test_writes import flush


def _anchor(writer: Api, dataset: str, leaves: list[dict[str, str]]) -> None:
    submitted = writer.post(
        "/v1/anchors", scope="anchor", json={"dataset": dataset, "leaves": leaves}
    )
    assert submitted.status_code == 202, submitted.text
    assert flush(writer) == [submitted.json()["batch_id"]]


def test_kept_answers_follow_the_index_at_once(writer: Api, chain: World) -> None:
    state = writer.state
    # The chain's head kept for an hour: from here on only the index's checkpoint can tell
    # a kept answer from a new one.
    state.__dict__["verifier"] = state.gateway.verifier(head_ttl=3600.0)
    digest = "0x" + hashlib.sha256(b"%PDF notice kept").hexdigest()
    leaf = {"content_hash": digest, "name": "2026/11/通知-kept.pdf"}
    _anchor(writer, POLICY, [leaf])
    writer.sync()
    query = {"hash": digest, "with_proof": "true"}

    first = writer.get("/v1/verify", params=query)
    assert first.status_code == 200 and first.json()["status"] == "anchored"
    # The first answer finds the version final on chain; from the second on it is kept.
    second = writer.get("/v1/verify", params=query)
    assert second.content == first.content
    key = (bytes.fromhex(digest[2:]), True)
    kept = state.answers.get(key)
    assert kept is not None and kept[1] == second.content
    # What is kept is what is served while the stamp holds (the same bytes, no new answer).
    marked = kept[1].replace(b'"anchored":true', b'"anchored":true ', 1)
    state.answers.put(key, kept[0], marked)
    assert writer.get("/v1/verify", params=query).content == marked
    # Another question is another entry.
    assert writer.ok("/v1/verify", params={"hash": digest})["status"] == "anchored"

    # A revocation indexed: the next answer shows it.
    root = first.json()["matches"][0]["version"]["root"]
    chain.revoke_policy_version(root)
    writer.sync()
    revoked = writer.ok("/v1/verify", params=query)
    assert revoked["status"] == "revoked" and revoked["anchored"] is False
    assert revoked["matches"][0]["version"]["revoked_at"] is not None
    assert writer.ok("/v1/verify", params=query) == revoked  # kept again, as revoked

    # The same file in a new version (another dataset) indexed: the next answer has it.
    _anchor(writer, DIBAO, [{**leaf, "name": "附件/通知-kept.pdf"}])
    writer.sync()
    again = writer.ok("/v1/verify", params=query)
    assert again["status"] == "anchored" and again["anchored"] is True
    assert [m["version"]["dataset_id"] for m in again["matches"]] == [
        "0x" + dataset_of(CIVIL, DIBAO).hex(),
        "0x" + dataset_of(CIVIL, POLICY).hex(),
    ]
    assert again["index"]["block_number"] > revoked["index"]["block_number"]


def test_no_answer_is_kept_when_the_cache_is_off(world: World, make_api: Any) -> None:
    api = make_api(world.settings(api_answer_cache_mib=0))
    digest, _leaf = file_leaf(policy_file(world), RULES)
    answers = [api.get("/v1/verify", params={"hash": digest}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["status"] == "anchored"
    assert len(api.state.answers) == 0
