"""``/v1/proposals``: membership governance through the API, against the real contracts: a
department proposes, others approve, the named account accepts its role, and the index shows
it; every refusal is a problem naming what is wrong."""

from __future__ import annotations

from typing import Any

from ledger.ids import department_id
from ledger.keys import dev_account
from tests.api._support import CIVIL, NAMES, PSB_DEV, Api, World, assert_problem

NEW_CODE = "11330100MB1A00009X"
NEW_NAME = "杭州市医疗保障局"


def hex_id(value: bytes) -> str:
    return "0x" + value.hex()


def test_admission_proposed_approved_accepted_and_listed(writer: Api, chain: World) -> None:
    operator = dev_account(11)
    answer = writer.post(
        "/v1/proposals",
        json={
            "kind": "admit",
            "department": NEW_CODE,
            "name": NEW_NAME,
            "account": operator.address,
        },
    )
    assert answer.status_code == 201, answer.text
    proposed = answer.json()
    assert {k: proposed[k] for k in ("kind", "approvals", "executed")} == {
        "kind": "admit",
        "approvals": 1,
        "executed": False,
    }
    number = proposed["proposal_id"]
    # 公安局's gateway approves (2 of 3); the first operator accepts the role: executed.
    chain.client.transact("DepartmentRegistry", "approve", number, sender=dev_account(PSB_DEV))
    chain.client.transact("DepartmentRegistry", "acceptRole", number, sender=operator)
    assert chain.client.call("DepartmentRegistry", "isActive", department_id(NEW_CODE)) is True
    twice = writer.post(f"/v1/proposals/{number}/approve")
    body = assert_problem(twice, 409, "contract-revert")
    assert body["detail"] == f"Proposal {number} was already executed."
    writer.sync()
    shown = writer.ok(f"/v1/proposals/{number}")
    assert {k: shown[k] for k in ("id", "kind", "status", "name", "account", "approvals")} == {
        "id": number,
        "kind": "admit",
        "status": "executed",
        "name": NEW_NAME,
        "account": operator.address,
        "approvals": 2,
    }
    assert shown["proposer"]["name"] == NAMES[CIVIL]
    assert shown["department"]["id"] == hex_id(department_id(NEW_CODE))
    assert [p["id"] for p in writer.walk("/v1/proposals", status="executed")] == [number]
    assert writer.walk("/v1/proposals", status="open") == []


def test_suspension_approved_through_the_api_executes(
    writer: Api, chain: World, make_api: Any
) -> None:
    health_code = "11330100MB1A00003F"
    proposed = writer.post("/v1/proposals", json={"kind": "suspend", "department": health_code})
    assert proposed.status_code == 201, proposed.text
    number = proposed.json()["proposal_id"]
    psb = make_api(
        chain.settings(database_url=writer.state.settings.database_url, dev_account=PSB_DEV)
    )
    approved = psb.post(f"/v1/proposals/{number}/approve")
    assert approved.status_code == 200, approved.text
    # 卫健委 is no elector of its own suspension: 2 of the other 2 executes it.
    assert {k: approved.json()[k] for k in ("approvals", "executed")} == {
        "approvals": 2,
        "executed": True,
    }
    assert chain.client.call("DepartmentRegistry", "isActive", department_id(health_code)) is False
    late = writer.post(f"/v1/proposals/{number}/execute")
    assert assert_problem(late, 409, "contract-revert")["detail"] == (
        f"Proposal {number} was already executed."
    )
    # Readmitted the same way: proposed by one gateway, approved by another, executed.
    readmit = writer.post("/v1/proposals", json={"kind": "readmit", "department": health_code})
    assert readmit.status_code == 201, readmit.text
    again = psb.post(f"/v1/proposals/{readmit.json()['proposal_id']}/approve")
    assert again.status_code == 200 and again.json()["executed"] is True, again.text
    assert chain.client.call("DepartmentRegistry", "isActive", department_id(health_code)) is True


def test_an_auditor_granted_and_revoked_through_the_api(
    writer: Api, chain: World, make_api: Any
) -> None:
    auditor = dev_account(12)
    psb = make_api(
        chain.settings(database_url=writer.state.settings.database_url, dev_account=PSB_DEV)
    )

    def decided(kind: str) -> dict[str, Any]:
        proposed = writer.post("/v1/proposals", json={"kind": kind, "account": auditor.address})
        assert proposed.status_code == 201, proposed.text
        approved = psb.post(f"/v1/proposals/{proposed.json()['proposal_id']}/approve")
        assert approved.status_code == 200, approved.text
        body: dict[str, Any] = approved.json()
        return body

    granted = decided("grant-auditor")
    assert granted["executed"] is False  # approved, waiting for the account to accept the role
    chain.client.transact(
        "DepartmentRegistry", "acceptRole", granted["proposal_id"], sender=auditor
    )
    assert chain.client.call("DepartmentRegistry", "isAuditor", auditor.address) is True
    assert decided("revoke-auditor")["executed"] is True
    assert chain.client.call("DepartmentRegistry", "isAuditor", auditor.address) is False


def test_malformed_proposals_are_refused_before_the_chain(writer: Api) -> None:
    cases = [
        (
            {"kind": "admit", "department": NEW_CODE, "name": NEW_NAME},
            400,
            "a proposal to admit needs the account.",
        ),
        (
            {"kind": "suspend", "department": NEW_CODE, "account": "0x" + "11" * 20},
            400,
            "a proposal to suspend takes no account.",
        ),
        (
            {"kind": "grant-auditor", "account": "0x1234"},
            400,
            "'0x1234' is not an account address (0x and 40 hex digits).",
        ),
        (
            {
                "kind": "admit",
                "department": "0x" + "12" * 32,
                "name": "x",
                "account": "0x" + "11" * 20,
            },
            400,
            "a department is admitted by its stable code (its id derives from it), not by a 0x id.",
        ),
    ]
    for body, status, detail in cases:
        answer = writer.post("/v1/proposals", json=body)
        assert assert_problem(answer, status, "bad-input")["detail"] == detail, body
    surrogate = writer.post(
        "/v1/proposals",
        content=b'{"kind": "admit", "department": "HZ-X", "name": "\\ud800", '
        b'"account": "0x' + b"11" * 20 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(surrogate, 422, "invalid-request")  # no valid string: refused by its model
    assert_problem(writer.get(f"/v1/proposals/{2**63}"), 422, "invalid-request")
    assert_problem(writer.post("/v1/proposals", json={"kind": "abolish"}), 422, "invalid-request")
    assert_problem(writer.post("/v1/proposals/0/approve"), 422, "invalid-request")
    unknown = writer.post("/v1/proposals/99/approve")
    assert assert_problem(unknown, 409, "contract-revert")["detail"] == "There is no proposal 99."
    assert_problem(writer.get("/v1/proposals/99"), 404, "unknown-proposal")
    assert_problem(writer.get("/v1/proposals", params={"status": "gone"}), 422, "invalid-request")
