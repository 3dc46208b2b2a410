"""Chain data is untrusted input (issue 12), as the API and the portal answer it: departments
with hostile names are shown safely with their id beside them; an index that cannot advance
fails ``/readyz`` (and recovers); an authorization revoked on chain while the index is frozen is
never answered "authorized". On Hardhat and Anvil, SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from api import create_app
from ledger.chain.node import free_port
from ledger.db.tables import IndexerCheckpoint
from ledger.errors import ContractRevertError
from ledger.ids import code_hash, department_id
from ledger.keys import dev_account
from tests.api._support import (
    CIVIL,
    CIVIL_DEV,
    DIBAO,
    ELIGIBILITY,
    HEALTH_DEV,
    PSB,
    PSB_DEV,
    Api,
    World,
)
from tests.hostile import GRANT_AUDITOR, Members, admit_names, fresh_account
from tests.support import PG_ADMIN_URL

pytestmark = pytest.mark.timeout(180)

HOSTILE = ("杭州市公安局\u200b", "\u200f杭州市民政局", "Pаypal 数据局")


def _members(world: World) -> Members:
    return Members(
        world.client, [dev_account(CIVIL_DEV), dev_account(PSB_DEV), dev_account(HEALTH_DEV)]
    )


def _hid(department: bytes) -> str:
    return "0x" + department.hex()


def test_departments_with_hostile_names_are_shown_with_their_id(
    chain: World, writer: Api, database_url: str, make_api: Callable[..., Api]
) -> None:
    members = _members(chain)
    hostile = dict(zip(admit_names(members, HOSTILE, "api"), HOSTILE, strict=True))
    with contextlib.suppress(ContractRevertError):  # a name the contract may refuse here
        members.propose(GRANT_AUDITOR, b"\0" * 32, b"\xff\xfe\x00", fresh_account("api-a").address)
    writer.sync()
    by_id = {d["id"]: d for d in writer.walk("/v1/departments")}
    psb, civil = by_id[_hid(department_id(PSB))], by_id[_hid(department_id(CIVIL))]
    zero_width, rlm, cyrillic = (by_id[_hid(d)] for d in hostile)
    assert zero_width["name"] == "杭州市公安局\u200b"  # the text as on chain, in JSON
    assert zero_width["name_flags"] == ["zero-width", "lookalike"]
    assert zero_width["display_name"] == f"杭州市公安局\\u200b [{zero_width['id']}]"
    assert zero_width["name_hex"] is None  # the text says the bytes exactly
    assert rlm["name_flags"] == ["bidi", "lookalike"]
    assert rlm["display_name"] == f"\\u200f杭州市民政局 [{rlm['id']}]"
    assert cyrillic["name_flags"] == ["confusable"]
    # The founders they imitate are flagged too: neither shows without its id.
    assert psb["name_flags"] == civil["name_flags"] == ["lookalike"]
    assert psb["display_name"] == f"杭州市公安局 [{psb['id']}]"
    assert writer.ok(f"/v1/departments/{zero_width['id']}") == zero_width
    # Agreements name their parties with the flags.
    [agreement] = writer.ok("/v1/agreements", params={"dataset": DIBAO, "status": "active"})[
        "items"
    ]
    assert agreement["provider"]["name_flags"] == ["lookalike"]

    # The portal never renders an invisible or reordering character, and shows the id beside a
    # flagged name (as its department, and in the events' arguments).
    portal = make_api(chain.settings(database_url=database_url, api_open_reads=True))
    for page in ("/audit", "/agreements", f"/agreements/{agreement['id']}"):
        response = portal.client.get(page)
        assert response.status_code == 200, response.text
        html = response.text
        for hidden in ("\u200b", "\u200f", "\u202e", "\ufeff", "\x00"):
            assert hidden not in html, (page, hidden)
        assert 'class="name-warning" data-flags="lookalike"' in html, page
        assert f'<code class="hex">{civil["id"]}</code>' in html, page
    audit = portal.client.get("/audit", params={"type": "DepartmentAdmitted"}).text
    assert "杭州市公安局\\u200b" in audit and "\\u200f杭州市民政局" in audit
    assert f'<code class="hex">{zero_width["id"]}</code>' in audit
    assert writer.client.get("/readyz").status_code == 200


def _check(api: Api) -> dict[str, Any]:
    params = {"provider": CIVIL, "consumer": PSB, "dataset": DIBAO, "purpose": ELIGIBILITY}
    body: dict[str, Any] = api.ok("/v1/authorizations/check", params=params)
    return body


def test_an_authorization_revoked_while_the_index_is_frozen_is_never_authorized(
    chain: World, writer: Api, database_url: str, make_api: Callable[..., Api]
) -> None:
    allowed = _check(writer)
    agreement = chain.report.agreements["dibao-to-psb"]
    assert (allowed["authorized"], allowed["status"], allowed["source"]) == (
        True,
        "authorized",
        "chain",
    )
    assert allowed["agreement_id"] == allowed["agreement"]["id"] == agreement
    assert allowed["block_number"] == chain.client.w3.eth.block_number
    # Revoked on chain; the index is frozen (no pass runs) and still holds it active.
    revoked = writer.post(f"/v1/agreements/{agreement}/revoke", json={"reason": "用途超出约定范围"})
    assert revoked.status_code == 200, revoked.text
    assert writer.ok(f"/v1/agreements/{agreement}")["status"] == "active"
    denied = _check(writer)
    assert (denied["authorized"], denied["status"], denied["source"]) == (
        False,
        "not-authorized",
        "chain",
    )
    assert denied["agreement"] is None and denied["agreement_id"] is None

    # The node cannot be asked: the index answers, saying how old it is …
    dead = f"http://127.0.0.1:{free_port()}"
    cut_off = make_api(chain.settings(database_url=database_url, rpc_url=dead, rpc_timeout=1.0))
    recent = _check(cut_off)
    assert recent["source"] == "index"
    age = recent["index"]["age_seconds"]
    assert age is not None and age <= cut_off.state.settings.index_max_lag_seconds
    assert recent["index"]["synced_at"] is not None
    assert recent["block_number"] == recent["index"]["block_number"]
    # … and once it is older than XIETONG_INDEX_MAX_LAG_SECONDS, it answers nothing confident.
    with Session(cut_off.state.gateway.engine) as session:
        session.execute(
            update(IndexerCheckpoint).values(synced_at=int(time.time()) - 3600)  # type: ignore[arg-type]
        )
        session.commit()
    stale = _check(cut_off)
    assert (stale["authorized"], stale["status"], stale["source"]) == (None, "unknown", "index")
    assert stale["agreement"] is None and stale["index"]["age_seconds"] >= 3600
    # The node answers again: the chain's word, whatever the index says.
    again = _check(writer)
    assert (again["authorized"], again["source"]) == (False, "chain")


# --------------------------------------------------------------------------- /readyz


@contextlib.contextmanager
def _serving(world: World, database_url: str, **settings: Any) -> Iterator[TestClient]:
    """The app with its background indexer (and batcher) running, as under ``xietong serve``;
    stopped before the test's chain snapshot is undone."""
    app = create_app(
        world.settings(database_url=database_url, index_interval=0.2, **settings), background=True
    )
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.xietong.gateway.engine.dispose()


def _eventually(
    client: TestClient, done: Callable[[dict[str, Any]], bool], what: str, patience: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + patience
    while True:
        body: dict[str, Any] = client.get("/readyz").json()
        if done(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}: {body}")
        time.sleep(0.1)


def _register(world: World, code: str) -> int:
    sent = world.client.transact(
        "DatasetRegistry",
        "registerDataset",
        code_hash(code),
        keccak(text=code),
        sender=dev_account(CIVIL_DEV),
    )
    return int(sent.block_number)


def test_readyz_fails_while_index_passes_fail_and_recovers(
    chain: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node garbles its eth_getLogs answers for the gateway's indexer: every pass fails
    (the log is never skipped), so /readyz answers 503 with the reason, then also the index's
    lag in blocks and in seconds; once the node answers well, the index catches up and
    /readyz answers 200 again."""
    with _serving(chain, database_url, index_max_lag_blocks=3, index_max_lag_seconds=2.0) as client:
        ready = _eventually(client, lambda b: b["ready"], "the index to catch up")
        assert ready["reasons"] == [] and ready["index"]["indexer"]["running"] is True
        gateway = client.app.state.xietong.gateway  # type: ignore[attr-defined]
        real = gateway.client.request

        def garbled(method: str, params: list[Any]) -> Any:
            result = real(method, params)
            if method == "eth_getLogs" and result:
                result = [{**log, "data": log["data"][:-6]} for log in result]
            return result

        monkeypatch.setattr(gateway.client, "request", garbled)
        block = _register(chain, "HOSTILE-READYZ")
        failing = _eventually(
            client, lambda b: "index-pass-failed" in b["reasons"], "a failed pass"
        )
        assert client.get("/readyz").status_code == 503
        assert failing["index"]["indexer"]["last_error"] == "undecodable-log"
        assert failing["index"]["block_number"] < block
        assert failing["node"]["reachable"] and failing["database"]["reachable"]
        for _ in range(4):
            chain.client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        lagging = _eventually(
            client,
            lambda b: {"index-behind", "index-stale"} <= set(b["reasons"]),
            "the lag to count",
        )
        assert lagging["index"]["behind_blocks"] > 3
        monkeypatch.undo()
        recovered = _eventually(client, lambda b: b["ready"], "the index to recover")
        assert recovered["reasons"] == [] and recovered["index"]["block_number"] >= block
        assert recovered["index"]["indexer"]["last_error"] is None
        assert client.get("/readyz").status_code == 200


def _read_only(url: str, on: bool) -> None:
    """Make the database refuse writes (as a standby does) or accept them again, for new
    sessions and, by cutting them off, for the gateway's pooled connections."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'
        )
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_readyz_fails_while_the_database_refuses_index_writes(
    chain: World, database_url: str
) -> None:
    """A database that answers but refuses writes: reads go on, but the index cannot advance,
    so /readyz answers 503 (the database itself is reachable) until writes are accepted."""
    with _serving(chain, database_url) as client:
        _eventually(client, lambda b: b["ready"], "the index to catch up")
        _read_only(database_url, True)
        try:
            block = _register(chain, "HOSTILE-READ-ONLY")
            # A pass cut off with its connection (the backends are terminated to make their
            # sessions read-only) fails as database-unavailable first; the next ones are the
            # refused writes, which are what this test is about.
            failing = _eventually(
                client,
                lambda b: (
                    "index-pass-failed" in b["reasons"]
                    and b["index"]["indexer"]["last_error"] == "InternalError"
                ),
                "a pass refused by the read-only database",
            )
            assert failing["database"]["reachable"] is True
            assert client.get("/v1/departments").status_code in (200, 401)
        finally:
            _read_only(database_url, False)
        recovered = _eventually(client, lambda b: b["ready"], "the index to recover")
        assert recovered["index"]["block_number"] >= block
