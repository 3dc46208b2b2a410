"""``/v1/checkpoints`` and ``/readyz`` over the demo chain: 民政局's gateway signs, a peer on
loopback gives 公安局's signature, the API serves the cosigned checkpoint and the proof bundles
carry it; a bundle's checkpoint is checked against the node (a checkpoint two departments
cosigned over another hash is refused); a conflict fails ``/readyz`` until an admin
acknowledges it."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.db.engine import CHECKPOINT_TRIGGERS
from ledger.errors import CheckpointError
from ledger.gateway import Gateway
from ledger.keys import dev_account
from ledger.verify import verify_bundle
from ledger.verify._generation import PostgresGeneration
from ledger.witness import check_checkpoint
from tests.api._support import (
    CIVIL_DEV,
    HEALTH_DEV,
    PSB_DEV,
    Api,
    World,
    assert_problem,
    wait_until,
)
from tests.api.test_writes import flush
from tests.ledger.witness._peer import Peer, peer, signed_item
from tests.support import fresh_database

pytestmark = [pytest.mark.parametrize("node", ["hardhat"], indirect=True)]

INTERVAL = 4


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def liar() -> Iterator[Peer]:
    with peer() as made:
        yield made


@pytest.fixture
def gateway(chain: World, sqlite_url: str, liar: Peer, make_api: Callable[..., Api]) -> Api:
    """民政局's gateway over the demo chain (a fresh index), one scripted peer."""
    api = make_api(
        chain.settings(
            database_url=sqlite_url,
            checkpoint_interval=INTERVAL,
            checkpoint_peers=[liar.url],
        )
    )
    api.sync()
    return api


def aligned(world: World) -> tuple[int, str]:
    """Mine to a multiple of the interval: the number and its hash."""
    w3 = world.client.w3
    while w3.eth.block_number % INTERVAL:
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    number = w3.eth.block_number
    return number, "0x" + bytes(w3.eth.get_block(number)["hash"]).hex()


def test_a_cosigned_checkpoint_is_served_and_carried_by_proof_bundles(
    gateway: Api, chain: World, liar: Peer
) -> None:
    assert gateway.ok("/v1/checkpoints") == {"items": [], "next_after": 0, "last_seq": 0}
    assert_problem(gateway.client.get("/v1/checkpoints/latest"), 404, "unknown-checkpoint")
    digest = "0x" + hashlib.sha256(b"%PDF decision 1").hexdigest()
    body = {"dataset": "HZ-MZ-POLICY", "leaves": [{"content_hash": digest, "name": "决定书.pdf"}]}
    assert gateway.post("/v1/anchors", scope="anchor", json=body).status_code == 202
    assert len(flush(gateway)) == 1
    gateway.sync()
    number, hash_ = aligned(chain)
    liar.serve(signed_item(chain.trust(), PSB_DEV, number, hash_))
    report = gateway.state.checkpoint_pass()
    assert report.signed == [number] and report.accepted == {liar.url: 1}
    assert metric(gateway, "xietong_checkpoint_cosigned_block") == number
    page = gateway.ok("/v1/checkpoints")
    assert [(i["number"], i["code"]) for i in page["items"]] == [
        (number, "11330100MB1A00001P"),
        (number, "11330100MB1A00002K"),
    ]
    assert gateway.ok("/v1/checkpoints", params={"after": page["next_after"]})["items"] == []
    latest = gateway.ok("/v1/checkpoints/latest")
    assert check_checkpoint(latest, chain.trust()).number == number
    shown = gateway.ok(f"/v1/checkpoints/{number}")
    assert shown["conflict"] is False and shown["hashes"][0]["cosigned"] is True
    assert_problem(gateway.client.get(f"/v1/checkpoints/{number + 1}"), 404, "unknown-checkpoint")
    # A proof of the demo's anchored file carries it, and it checks against the node.
    [match] = gateway.ok("/v1/verify", params={"hash": digest})["matches"]
    bundle = gateway.ok(match["proof_url"])
    assert bundle["checkpoint"] == latest
    checked = verify_bundle(bundle, chain.client.w3, trust=chain.trust())
    assert checked.checkpoint is not None and checked.checkpoint["number"] == number
    # Two departments' real keys over a hash that is not the node's block: refused.
    lying = copy.deepcopy(bundle)
    other = "0x" + "e0" * 32
    lying["checkpoint"] = {
        "number": number,
        "hash": other,
        "cosignatures": sorted(
            (
                {
                    k: signed_item(chain.trust(), a, number, other)[k]
                    for k in ("address", "time", "signature")
                }
                for a in (PSB_DEV, HEALTH_DEV)
            ),
            key=lambda c: str(c["address"]).lower(),
        ),
    }
    with pytest.raises(CheckpointError, match="the node says") as refused:
        verify_bundle(lying, chain.client.w3, trust=chain.trust())
    assert refused.value.reason == "checkpoint-unlinked"


def metric(gateway: Api, name: str) -> float:
    text = gateway.get("/metrics").text
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[1])


def test_a_conflict_fails_readiness_until_an_admin_acknowledges_it(
    gateway: Api, chain: World, liar: Peer
) -> None:
    assert gateway.client.get("/readyz").json()["checkpoints"] == {"conflicts": []}
    number, _hash = aligned(chain)
    liar.serve(signed_item(chain.trust(), HEALTH_DEV, number, "0x" + "e0" * 32))
    assert gateway.state.checkpoint_pass().conflicts == [number]
    assert metric(gateway, "xietong_checkpoint_conflicts") == 1
    assert metric(gateway, "xietong_checkpoint_cosigned_block") == 0  # none: it is in conflict
    ready = gateway.client.get("/readyz")
    assert ready.status_code == 503
    assert "checkpoint-conflict" in ready.json()["reasons"]
    assert ready.json()["checkpoints"] == {"conflicts": [number]}
    [conflict] = gateway.ok("/v1/checkpoints/conflicts")["items"]
    assert conflict["number"] == number and len(conflict["hashes"]) == 2
    assert_problem(gateway.client.get("/v1/checkpoints/latest"), 404, "unknown-checkpoint")
    path = f"/v1/checkpoints/conflicts/{number}/acknowledge"
    assert_problem(gateway.client.post(path), 401, "unauthorized")
    assert_problem(gateway.client.post(path, headers=gateway.headers("read")), 403, "forbidden")
    done = gateway.client.post(path, headers=gateway.headers("admin"))
    assert done.status_code == 200 and done.json()["acknowledged_at"] is not None
    ready = gateway.client.get("/readyz")
    assert "checkpoint-conflict" not in ready.json()["reasons"]
    assert ready.json()["checkpoints"] == {"conflicts": []}
    gateway.state.checkpoint_pass()
    assert metric(gateway, "xietong_checkpoint_conflicts") == 0
    assert_problem(
        gateway.client.post(
            f"/v1/checkpoints/conflicts/{number + 1}/acknowledge",
            headers=gateway.headers("admin"),
        ),
        400,
        "bad-input",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/checkpoints?after=-1",
        "/v1/checkpoints?limit=0",
        "/v1/checkpoints?limit=1001",
        "/v1/checkpoints/abc",
        "/v1/checkpoints/9007199254740992",
    ],
)
def test_bad_input_is_a_422_problem(gateway: Api, path: str) -> None:
    assert_problem(gateway.client.get(path), 422, "invalid-request")


def test_the_gateways_key_signs_for_its_department(gateway: Api, chain: World) -> None:
    witness = gateway.state.witness
    assert witness.signer is not None and witness.signer.address == dev_account(CIVIL_DEV).address
    assert witness.why_not_signing() is None


# ---------------------------------------------------------------- kept answers and checkpoints
# A kept answer (api/answer_cache.py) stands on the signatures the gateway held when it was
# made (ledger/verify/_cosigned.py): a checkpoint cosigned since reaches the next answer.


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_kept_answer_carries_a_checkpoint_cosigned_after_it(
    chain: World,
    liar: Peer,
    make_api: Callable[..., Api],
    tmp_path: Path,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signatures another process added are known once the database tells (SQLite: the next
    read; PostgreSQL: the announcement, the kept interval being an hour here); those this
    gateway's own pass added, at once (PostgreSQL: with the announcements switched off), a
    lying department's conflicting one included."""
    monkeypatch.setattr(PostgresGeneration, "KEPT_AT_MOST", 3600.0)
    with fresh_database(kind, tmp_path) as url:
        settings = chain.settings(
            database_url=url, checkpoint_interval=INTERVAL, checkpoint_peers=[liar.url]
        )
        api = make_api(settings)
        api.sync()
        digest = "0x" + hashlib.sha256(b"%PDF decision kept").hexdigest()
        body = {"dataset": "HZ-MZ-POLICY", "leaves": [{"content_hash": digest, "name": "决定.pdf"}]}
        assert api.post("/v1/anchors", scope="anchor", json=body).status_code == 202
        assert len(flush(api)) == 1
        lower, lower_hash = aligned(chain)
        chain.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        higher, higher_hash = aligned(chain)
        api.sync()
        state = api.state
        # The chain's head kept for an hour: only the signatures can tell a kept answer from
        # a new one.
        state.__dict__["verifier"] = state.gateway.verifier(head_ttl=3600.0)
        query = {"hash": digest, "with_proof": "true"}

        def checkpoint() -> int | None:
            [match] = api.ok("/v1/verify", params=query)["matches"]
            found = match["proof"].get("checkpoint")
            return None if found is None else int(found["number"])

        assert [checkpoint() for _ in range(3)] == [None, None, None]
        assert state.answers.get((bytes.fromhex(digest[2:]), True)) is not None  # kept

        # Another process's witness (its own gateway: nothing forgotten here) cosigns the
        # higher number with the peer's signature.
        liar.serve(signed_item(chain.trust(), PSB_DEV, higher, higher_hash))
        assert Gateway(settings).witness().run().signed == [higher]
        wait_until(lambda: checkpoint() == higher, "the higher checkpoint in the answer")

        # This gateway's own pass cosigns the lower one: the very next answer carries it,
        # with no announcement to tell (the triggers switched off under the watch).
        if kind == "postgresql":
            with state.gateway.engine.begin() as connection:
                for name, table in CHECKPOINT_TRIGGERS.items():
                    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
        assert checkpoint() == higher  # kept
        liar.serve(signed_item(chain.trust(), PSB_DEV, lower, lower_hash))
        assert state.checkpoint_pass().signed == [lower]
        assert checkpoint() == lower
        made = [match["proof"] for match in api.ok("/v1/verify", params=query)["matches"]]
        assert verify_bundle(made[0], chain.client.w3, trust=chain.trust()).checkpoint is not None

        # A department that lies signs another hash for the lower number: a conflict, so that
        # checkpoint is cosigned no more, and the very next answer carries the higher one.
        liar.serve(signed_item(chain.trust(), HEALTH_DEV, lower, "0x" + "e0" * 32))
        assert state.checkpoint_pass().conflicts == [lower]
        assert checkpoint() == higher
