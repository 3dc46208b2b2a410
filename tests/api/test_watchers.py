"""``/v1/watchers`` and ``/v1/webhooks`` over the demo chain (a real Hardhat or Anvil node, a
fresh SQLite or PostgreSQL database) and a real receiver on loopback: a watcher added with an
admin key hears what concerns 杭州市民政局, signed per Standard Webhooks; a receiver that
refuses makes a dead letter, which is listed and sent again; a watch key sees and changes only
the watchers it added; every refusal is problem JSON."""

from __future__ import annotations

import hashlib
import math
import time
from datetime import datetime
from typing import Any, get_args

from standardwebhooks import Webhook

from api.schemas import WatchTopic
from ledger.ids import code_hash, department_id
from ledger.keys import dev_account
from ledger.watch import TOPICS
from tests.api._support import CIVIL, PSB_DEV, Api, World, assert_problem
from tests.ledger.watch._receiver import receiver


def test_a_watcher_added_over_the_api_hears_of_its_agreements(writer: Api, chain: World) -> None:
    state = writer.state
    state.watchers.max_attempts = 2  # the gateway's setting, short for the test
    state.watchers.retry_base = 0
    with receiver() as got:
        made = writer.post(
            "/v1/watchers",
            json={"url": got.url, "topics": ["agreement.changed", "dataset.version"]},
        )
        assert made.status_code == 201, made.text
        secret, watcher = made.json()["secret"], made.json()["watcher"]
        assert watcher["messages"] == {"pending": 0, "delivered": 0, "dead": 0}
        assert writer.ok("/v1/watchers", scope="admin")["items"] == [watcher]
        assert writer.ok(f"/v1/watchers/{watcher['id']}", scope="admin") == watcher
        # 公安局 anchors to a dataset of its own: not 民政局's concern. 民政局 anchors one.
        leaves = [{"content_hash": "0x" + hashlib.sha256(b"w").hexdigest(), "name": "w.pdf"}]
        sent = writer.post(
            "/v1/anchors", scope="anchor", json={"dataset": "HZ-MZ-DIBAO", "leaves": leaves}
        )
        assert sent.status_code == 202, sent.text
        state.queue.flush(state.anchorer, now=float(2**40))
        chain.client.transact(
            "DatasetRegistry",
            "registerDataset",
            code_hash("HZ-GA-OTHER"),
            b"\x00" * 32,
            sender=dev_account(PSB_DEV),
        )
        writer.sync()
        got.statuses[:] = [500, 500]  # refused twice: dead
        assert state.watchers.scan() == 1
        assert state.watchers.deliver().failed == 1
        assert state.watchers.deliver().dead == 1
        [dead] = writer.ok("/v1/webhooks?status=dead", scope="admin")["items"]
        assert dead["topic"] == "dataset.version" and dead["attempts"] == 2
        assert dead["last_error"] == "the receiver answered HTTP 500"
        retried = writer.post(f"/v1/webhooks/{dead['id']}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        assert state.watchers.deliver().delivered == 1
        received = got.wait_for(3)
        assert {r.headers["webhook-id"] for r in received} == {dead["id"]}
        body = Webhook(secret).verify(received[-1].body, received[-1].headers)
        assert body["data"]["event"] == "VersionAnchored"
        again = writer.post(f"/v1/webhooks/{dead['id']}/retry")
        assert assert_problem(again, 400, "bad-input")["detail"] == (
            f"webhook {dead['id']} is delivered: only a dead one is sent again."
        )
        rotated = writer.post(f"/v1/watchers/{watcher['id']}/rotate")
        assert rotated.status_code == 200 and rotated.json()["secret"] != secret
        assert rotated.json()["watcher"]["rotating_until"] is not None
        gone = writer.client.delete(
            f"/v1/watchers/{watcher['id']}", headers=writer.headers("admin")
        )
        assert gone.status_code == 200 and gone.json()["id"] == watcher["id"]
        assert writer.ok("/v1/watchers", scope="admin")["items"] == []
        assert writer.ok("/v1/webhooks", scope="admin") == {"items": [], "next_cursor": None}


def test_a_watcher_of_agreements_ending_soon_hears_of_each_once(writer: Api) -> None:
    """``expiring_days`` over the API: 民政局's active agreements ending within that many
    days are each said once, signed, with the days left; a day too few says nothing."""
    state = writer.state
    active = [
        a
        for a in writer.ok("/v1/agreements?status=active", scope="read")["items"]
        if "0x" + department_id(CIVIL).hex() in (a["provider"]["id"], a["consumer"]["id"])
    ]
    assert active, "the demo has active agreements of 民政局"
    ends = [datetime.fromisoformat(a["valid_until"]).timestamp() for a in active]
    days = math.ceil((max(ends) - time.time()) / 86400) + 1
    with receiver() as got:
        short = writer.post(
            "/v1/watchers",
            json={"url": got.url, "topics": ["agreement.expiring"], "expiring_days": 0},
        )
        assert "needs the days ahead" in assert_problem(short, 400, "bad-input")["detail"]
        made = writer.post(
            "/v1/watchers",
            json={"url": got.url, "topics": ["agreement.expiring"], "expiring_days": days},
        )
        assert made.status_code == 201, made.text
        assert made.json()["watcher"]["expiring_days"] == days
        assert state.watchers.scan() == len(active)
        assert state.watchers.deliver().delivered == len(active)
        bodies = [
            Webhook(made.json()["secret"]).verify(r.body, r.headers)
            for r in got.wait_for(len(active))
        ]
        assert {b["data"]["agreement_id"] for b in bodies} == {a["id"] for a in active}
        assert all(
            b["type"] == "agreement.expiring" and 0 <= b["data"]["days_left"] <= days
            for b in bodies
        )
        assert state.watchers.scan() == 0  # once per agreement and end


def test_a_watch_key_sees_and_changes_only_the_watchers_it_added(writer: Api, chain: World) -> None:
    """Two integrations hold watch keys: each sees its own watchers and their webhooks, and
    another's are unknown to it (404, as another department's); an admin key sees all, and
    a watcher it adds belongs to no watch key."""
    state = writer.state
    state.watchers.max_attempts = 1  # the gateway's setting: one refusal makes a dead letter
    made = [writer.new_key("watch", name) for name in ("值班系统", "档案系统")]
    ids, keys = [key_id for key_id, _ in made], [key for _, key in made]
    as_key = [{"X-API-Key": key} for key in keys]

    def call(method: str, url: str, who: dict[str, str], **kwargs: Any) -> Any:
        return writer.client.request(method, url, headers=who, **kwargs)

    with receiver() as got:
        added = [
            call("POST", "/v1/watchers", who, json={"url": got.url, "topics": ["dataset.version"]})
            for who in as_key
        ]
        assert [a.status_code for a in added] == [201, 201], [a.text for a in added]
        mine, theirs = (a.json()["watcher"] for a in added)
        assert (mine["api_key"], theirs["api_key"]) == (ids[0], ids[1])
        by_admin = writer.post(
            "/v1/watchers", json={"url": got.url, "topics": ["agreement.changed"]}
        ).json()["watcher"]
        assert by_admin["api_key"] is None
        listed = [call("GET", "/v1/watchers", who).json()["items"] for who in as_key]
        assert [[w["id"] for w in items] for items in listed] == [[mine["id"]], [theirs["id"]]]
        every = writer.ok("/v1/watchers", scope="admin")["items"]
        assert {w["id"] for w in every} == {mine["id"], theirs["id"], by_admin["id"]}
        for other in (theirs, by_admin):  # unknown to the first key, whatever the method
            for method, url in (
                ("GET", f"/v1/watchers/{other['id']}"),
                ("POST", f"/v1/watchers/{other['id']}/rotate"),
                ("DELETE", f"/v1/watchers/{other['id']}"),
            ):
                answer = call(method, url, as_key[0])
                assert assert_problem(answer, 404, "unknown-watcher")["detail"] == (
                    f"there is no watcher {other['id']}."
                )
        # 民政局 anchors: each watch key's watcher gets one webhook, refused once: dead.
        leaves = [{"content_hash": "0x" + hashlib.sha256(b"k").hexdigest(), "name": "k.pdf"}]
        sent = writer.post(
            "/v1/anchors", scope="anchor", json={"dataset": "HZ-MZ-DIBAO", "leaves": leaves}
        )
        assert sent.status_code == 202, sent.text
        state.queue.flush(state.anchorer, now=float(2**40))
        writer.sync()
        got.statuses[:] = [500, 500]
        assert state.watchers.scan() == 2 and state.watchers.deliver().dead == 2
        dead = [call("GET", "/v1/webhooks?status=dead", who).json()["items"] for who in as_key]
        assert [[m["watcher_id"] for m in items] for items in dead] == [
            [mine["id"]],
            [theirs["id"]],
        ]
        other_message = dead[1][0]["id"]
        refused = call("POST", f"/v1/webhooks/{other_message}/retry", as_key[0])
        assert assert_problem(refused, 404, "unknown-message")["detail"] == (
            f"there is no webhook {other_message}."
        )
        assert (
            call("POST", f"/v1/webhooks/{dead[0][0]['id']}/retry", as_key[0]).json()["status"]
            == "pending"
        )
        assert len(writer.ok("/v1/webhooks", scope="admin")["items"]) == 2
        assert call("DELETE", f"/v1/watchers/{theirs['id']}", as_key[1]).status_code == 200


def test_bad_watchers_and_unknown_ids_are_problems(writer: Api) -> None:
    bad_url = writer.post("/v1/watchers", json={"url": "ftp://x/", "topics": ["dataset.version"]})
    assert assert_problem(bad_url, 400, "bad-input")["detail"] == (
        "'ftp://x/' is not an http(s) URL with a host."
    )
    no_days = writer.post(
        "/v1/watchers", json={"url": "http://127.0.0.1:9/", "topics": ["agreement.expiring"]}
    )
    assert "needs the days ahead" in assert_problem(no_days, 400, "bad-input")["detail"]
    unknown_topic = writer.post(
        "/v1/watchers", json={"url": "http://127.0.0.1:9/", "topics": ["x"]}
    )
    assert_problem(unknown_topic, 422, "invalid-request")
    for method, url in (
        ("GET", "/v1/watchers/wh_nope"),
        ("DELETE", "/v1/watchers/wh_nope"),
        ("POST", "/v1/watchers/wh_nope/rotate"),
    ):
        answer = writer.client.request(method, url, headers=writer.headers("admin"))
        assert assert_problem(answer, 404, "unknown-watcher")["detail"] == (
            "there is no watcher wh_nope."
        )
    missing = writer.post("/v1/webhooks/msg_nope/retry")
    assert (
        assert_problem(missing, 404, "unknown-message")["detail"] == "there is no webhook msg_nope."
    )
    assert_problem(writer.get("/v1/webhooks?status=lost", scope="admin"), 422, "invalid-request")
    assert_problem(writer.get("/v1/webhooks", scope="anchor"), 403, "forbidden")


def test_a_gateway_that_acts_for_no_department_watches_nothing(
    chain: World, database_url: str, make_api: Any
) -> None:
    """Its key operates no department: the API refuses with the contract's reason, the portal
    says so in a sentence, never a stack trace."""
    api = make_api(chain.settings(database_url=database_url, dev_account=9))
    refused = api.get("/v1/watchers", scope="admin")
    assert assert_problem(refused, 409, "contract-revert")["error_name"] == (
        "DepartmentRegistryNotOperator"
    )
    page = api.get("/audit/webhooks?lang=en")
    assert page.status_code == 503
    assert "This gateway acts for no department, so it watches nothing:" in page.text


def test_the_api_names_the_topics_the_library_knows() -> None:
    """api/schemas.py spells the topics out for the OpenAPI document: the same, in order."""
    assert get_args(WatchTopic) == TOPICS
