"""Several gateway instances serving from one PostgreSQL database."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from ledger.apikeys import revoke_api_key
from ledger.db.tables import LeafRow, VersionAnchoring
from tests.api._support import POLICY, Api, World, assert_problem


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_instances_share_keys_index_and_batches(
    chain: World, database_url: str, make_api: Callable[..., Any]
) -> None:
    first: Api = make_api(chain.settings(database_url=database_url))
    second: Api = make_api(chain.settings(database_url=database_url))

    # Both index the same chain into the same tables at once, without conflict.
    errors: list[BaseException] = []

    def sync(api: Api) -> None:
        try:
            api.sync()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sync, args=(api,)) for api in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert first.ok("/v1/datasets") == second.ok("/v1/datasets")

    # A key made through one instance works on the other (revoked below, through the other).
    key_id, key = first.new_key("anchor", "shared key")
    assert second.get("/v1/departments", scope=None, headers={"X-API-Key": key}).status_code == 200

    # Hashes submitted to both instances land in the dataset's one collecting batch.
    leaves = [hashlib.sha256(f"instance {i}".encode()).digest() for i in range(6)]
    batch_ids = set()
    for i, digest in enumerate(leaves):
        api = (first, second)[i % 2]
        response = api.post(
            "/v1/anchors",
            scope="anchor",
            json={
                "dataset": POLICY,
                "leaves": [{"content_hash": "0x" + digest.hex(), "name": f"f{i}"}],
            },
        )
        assert response.status_code == 202, response.text
        batch_ids.add(response.json()["batch_id"])
    assert len(batch_ids) == 1
    (batch_id,) = batch_ids

    # Both flush at once: the batch is sealed and anchored by exactly one of them.
    done: list[list[str]] = []

    def flush(api: Api) -> None:
        state = api.state
        with state.write_lock:
            done.append(state.queue.flush(state.anchorer, now=1e12))

    threads = [threading.Thread(target=flush, args=(api,)) for api in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(len(d) for d in done) == [0, 1]
    for api in (first, second):
        status = api.ok(f"/v1/anchors/{batch_id}", scope="anchor")
        assert status["status"] == "confirmed" and status["leaf_count"] == 6
    with Session(first.state.gateway.engine) as session:
        assert (
            len(session.exec(select(VersionAnchoring).where(VersionAnchoring.id == batch_id)).all())
            == 1
        )
        assert len(session.exec(select(LeafRow).where(LeafRow.root == status["root"])).all()) == 6

    # Indexed by either, the anchored hashes verify on both.
    second.sync()
    for api in (first, second):
        assert api.ok("/v1/verify", params={"hash": "0x" + leaves[3].hex()})["anchored"] is True

    with Session(second.state.gateway.engine) as session:
        revoke_api_key(session=session, key_id=key_id)
    # A fresh instance (no cached key) refuses the revoked key at once.
    third: Api = make_api(chain.settings(database_url=database_url))
    assert_problem(
        third.get("/v1/departments", scope=None, headers={"X-API-Key": key}), 401, "unauthorized"
    )
