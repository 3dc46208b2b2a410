"""DepartmentRegistry: consortium membership, operators, auditors and threshold proposals.

Every test runs on both engines (Hardhat and Anvil) through the ``consortium`` fixture, whose
chain state is reverted after each test. The founding consortium has three active departments
A, B and C (one operator each), one auditor, a threshold of 6667 bps and a 7-day lifetime.

Threshold arithmetic used throughout (the documented formula, see ``approvals_for``)::

    approvalsFor(n) = max(1, ceil(n * 6667 / 10000))
    n = 1 -> 1,  n = 2 -> ceil(1.3334) = 2,  n = 3 -> ceil(2.0001) = 3,  n = 4 -> ceil(2.6668) = 3

so with three active departments all three must approve, while a suspension of one of them
(electorate 2) needs two.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.chain.client import ChainClient, SentTransaction
from ledger.chain.enums import DepartmentStatus, ProposalKind, ProposalStatus
from ledger.ids import department_id
from ledger.keys import dev_account
from tests.support import (
    AUDITOR_INDEX,
    FOUNDERS,
    PROPOSAL_LIFETIME,
    THRESHOLD_BPS,
    Consortium,
    reverts,
)

REG = "DepartmentRegistry"

# IDepartmentRegistry enums, by position.
ADMIT, SUSPEND, READMIT = ProposalKind.ADMIT, ProposalKind.SUSPEND, ProposalKind.READMIT
GRANT_AUDITOR, REVOKE_AUDITOR = ProposalKind.GRANT_AUDITOR, ProposalKind.REVOKE_AUDITOR
STATUS_NONE, STATUS_ACTIVE = DepartmentStatus.NONE, DepartmentStatus.ACTIVE
STATUS_SUSPENDED = DepartmentStatus.SUSPENDED
PROPOSAL_OPEN, PROPOSAL_EXECUTED = ProposalStatus.OPEN, ProposalStatus.EXECUTED

MAX_NAME = 256
ZERO_ID = bytes(32)
ZERO_ADDRESS = "0x" + "00" * 20

# The same accounts and ids as ``consortium.ops`` / ``consortium.ids``, usable in parametrize.
OPS = {key: dev_account(index).address for key, (_, _, index) in FOUNDERS.items()}
IDS = {key: department_id(code) for key, (code, _, _) in FOUNDERS.items()}
AUDITOR = dev_account(AUDITOR_INDEX).address
SPARE = Consortium.spare(5).address

NEW_ID = department_id("TEST-DRB-900")  # 杭州市数据资源管理局, not a founder
NEW_NAME = "杭州市数据资源管理局"


class Department(NamedTuple):
    id: bytes
    status: int
    admitted_at: int
    status_changed_at: int
    operator_count: int
    name: str


class Proposal(NamedTuple):
    kind: int
    status: int
    proposer_department: bytes
    department_id: bytes
    account: str
    created_at: int
    expires_at: int
    approvals: int
    name: str


def approvals_for(electorate: int, bps: int = THRESHOLD_BPS) -> int:
    """Reference: max(1, ceil(electorate * bps / 10000)) in integer arithmetic."""
    return max(1, -(-electorate * bps // 10_000))


# ------------------------------------------------------------------------------- helpers


def _department(c: Consortium, dep: bytes) -> Department:
    return Department(*c.call(REG, "department", dep))


def _proposal(c: Consortium, pid: int) -> Proposal:
    return Proposal(*c.call(REG, "proposal", pid))


def _block_time(c: Consortium, tx: SentTransaction) -> int:
    return int(c.w3.eth.get_block(tx.block_number)["timestamp"])


def _propose(
    c: Consortium,
    kind: int,
    sender: Any,
    dep: bytes = ZERO_ID,
    name: str = "",
    account: str = ZERO_ADDRESS,
) -> tuple[int, SentTransaction]:
    tx = c.transact(REG, "propose", kind, dep, name, account, sender=sender)
    return int(tx.event("ProposalCreated")["proposalId"]), tx


def _approve(c: Consortium, pid: int, sender: Any) -> SentTransaction:
    return c.transact(REG, "approve", pid, sender=sender)


def _approved(pid: int, dep: bytes, approver: str, approvals: int, required: int) -> Any:
    return (
        "ProposalApproved",
        {
            "proposalId": pid,
            "departmentId": dep,
            "approver": approver,
            "approvals": approvals,
            "required": required,
        },
    )


def _suspend_c(c: Consortium) -> int:
    """Suspend C with A's and B's approvals (electorate 2 -> 2 approvals)."""
    pid, _ = _propose(c, SUSPEND, c.ops["A"], c.ids["C"])
    tx = _approve(c, pid, c.ops["B"])
    assert ("DepartmentSuspended", {"departmentId": c.ids["C"], "proposalId": pid}) in tx.events
    assert c.call(REG, "statusOf", c.ids["C"]) == STATUS_SUSPENDED
    return pid


def _admit(c: Consortium, dep: bytes, name: str, operator: str) -> SentTransaction:
    """Admit ``dep`` with the approvals of A (proposer), B and C; returns the executing tx."""
    pid, _ = _propose(c, ADMIT, c.ops["A"], dep, name, operator)
    _approve(c, pid, c.ops["B"])
    tx = _approve(c, pid, c.ops["C"])
    assert ("ProposalExecuted", {"proposalId": pid, "kind": ADMIT}) in tx.events
    return tx


def _carry_with_all(c: Consortium, pid: int) -> SentTransaction:
    """Approve a proposal made by A with B and then C (3 of 3); returns C's tx."""
    tx_b = _approve(c, pid, c.ops["B"])
    assert not any(name == "ProposalExecuted" for name, _ in tx_b.events)
    return _approve(c, pid, c.ops["C"])


def _deploy(
    c: Consortium,
    founders: list[tuple[bytes, str, str]],
    auditors: list[str],
    bps: int = THRESHOLD_BPS,
    lifetime: int = PROPOSAL_LIFETIME,
) -> tuple[ChainClient, SentTransaction]:
    """Deploy a fresh DepartmentRegistry; returns a client bound to it and the deployment tx."""
    sent = c.client.deploy(REG, founders, auditors, bps, lifetime, sender=c.deployer)
    client = ChainClient(c.w3, {REG: str(sent.receipt["contractAddress"])})
    return client, sent


# ------------------------------------------------------------------------ deployment


def test_founding_consortium_state(consortium: Consortium) -> None:
    c = consortium
    assert c.call(REG, "departmentCount") == 3
    assert c.call(REG, "activeDepartmentCount") == 3
    assert [c.call(REG, "departmentIdAt", i) for i in range(3)] == [
        c.ids["A"],
        c.ids["B"],
        c.ids["C"],
    ]
    now = c.now()
    for key in ("A", "B", "C"):
        dep = _department(c, c.ids[key])
        assert dep.id == c.ids[key]
        assert dep.status == STATUS_ACTIVE
        assert dep.name == c.names[key]  # UTF-8 Chinese names survive the constructor
        assert dep.operator_count == 1
        assert 0 < dep.admitted_at == dep.status_changed_at <= now
        assert c.call(REG, "statusOf", c.ids[key]) == STATUS_ACTIVE
        assert c.call(REG, "isActive", c.ids[key]) is True
        c.call(REG, "requireActive", c.ids[key])  # does not revert
        assert c.call(REG, "operators", c.ids[key]) == [c.ops[key].address]
        assert c.call(REG, "departmentOf", c.ops[key].address) == c.ids[key]
        assert c.call(REG, "requireActiveOperator", c.ops[key].address) == c.ids[key]
        assert c.call(REG, "isAuditor", c.ops[key].address) is False
    assert c.call(REG, "isAuditor", c.auditor.address) is True
    assert c.call(REG, "departmentOf", c.auditor.address) == ZERO_ID
    assert c.call(REG, "thresholdBps") == THRESHOLD_BPS
    assert c.call(REG, "proposalLifetime") == PROPOSAL_LIFETIME
    assert c.call(REG, "maxNameLength") == MAX_NAME
    assert c.call(REG, "proposalCount") == 0


def test_constructor_emits_founding_events_and_accepts_boundary_settings(
    consortium: Consortium,
) -> None:
    c = consortium
    op1, op2, auditor = (Consortium.spare(i).address for i in (5, 6, 7))
    id1, id2 = department_id("FRESH-1"), department_id("FRESH-2")
    name1, name2 = "宁波市公安局", "宁波市民政局"
    # 10000 bps (unanimity) and one hour are the largest threshold / shortest lifetime allowed.
    client, sent = _deploy(c, [(id1, name1, op1), (id2, name2, op2)], [auditor], 10_000, 3600)
    deployer = c.deployer.address
    assert client.decode_events(sent.receipt) == [
        (
            "DepartmentAdmitted",
            {"departmentId": id1, "proposalId": 0, "name": name1, "firstOperator": op1},
        ),
        ("OperatorAdded", {"departmentId": id1, "account": op1, "addedBy": deployer}),
        (
            "DepartmentAdmitted",
            {"departmentId": id2, "proposalId": 0, "name": name2, "firstOperator": op2},
        ),
        ("OperatorAdded", {"departmentId": id2, "account": op2, "addedBy": deployer}),
        ("AuditorGranted", {"account": auditor, "proposalId": 0}),
    ]
    assert client.call(REG, "thresholdBps") == 10_000
    assert client.call(REG, "proposalLifetime") == 3600
    assert client.call(REG, "departmentCount") == 2
    assert client.call(REG, "activeDepartmentCount") == 2
    assert client.call(REG, "departmentIdAt", 1) == id2
    assert Department(*client.call(REG, "department", id2)).name == name2
    assert client.call(REG, "departmentOf", op1) == id1
    assert client.call(REG, "isAuditor", auditor) is True
    assert client.call(REG, "approvalsFor", 2) == 2  # unanimity of two
    assert client.call(REG, "approvalsFor", 7) == 7


def test_constructor_with_no_auditors_and_minimal_threshold(consortium: Consortium) -> None:
    c = consortium
    op = Consortium.spare(5).address
    client, sent = _deploy(c, [(NEW_ID, NEW_NAME, op)], [], 1, PROPOSAL_LIFETIME)
    assert [name for name, _ in client.decode_events(sent.receipt)] == [
        "DepartmentAdmitted",
        "OperatorAdded",
    ]
    assert client.call(REG, "thresholdBps") == 1
    # 1 bps: one approval for any electorate up to 10000, two from 10001.
    assert client.call(REG, "approvalsFor", 10_000) == 1
    assert client.call(REG, "approvalsFor", 10_001) == 2


_LONG_NAME = "杭" * 85 + "AB"  # 85 * 3 + 2 = 257 bytes of UTF-8
_F1 = (department_id("FRESH-1"), "宁波市公安局", Consortium.spare(5).address)
_F2 = (department_id("FRESH-2"), "宁波市民政局", Consortium.spare(6).address)
_AUD = Consortium.spare(7).address

CONSTRUCTOR_FAILURES = [
    pytest.param(
        [_F1],
        [],
        0,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryInvalidThreshold",
        {"thresholdBps": 0},
        id="threshold-zero",
    ),
    pytest.param(
        [_F1],
        [],
        10_001,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryInvalidThreshold",
        {"thresholdBps": 10_001},
        id="threshold-over-10000",
    ),
    pytest.param(
        [],
        [],
        0,
        0,
        "DepartmentRegistryInvalidThreshold",
        {"thresholdBps": 0},
        id="threshold-checked-first",
    ),
    pytest.param(
        [_F1],
        [],
        THRESHOLD_BPS,
        3599,
        "DepartmentRegistryInvalidProposalLifetime",
        {"lifetime": 3599},
        id="lifetime-under-hour",
    ),
    pytest.param(
        [_F1],
        [],
        THRESHOLD_BPS,
        0,
        "DepartmentRegistryInvalidProposalLifetime",
        {"lifetime": 0},
        id="lifetime-zero",
    ),
    pytest.param(
        [],
        [_AUD],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryNoFounders",
        {},
        id="no-founders",
    ),
    pytest.param(
        [(ZERO_ID, "某局", _F1[2])],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryZeroDepartmentId",
        {},
        id="founder-zero-id",
    ),
    pytest.param(
        [_F1, (_F1[0], "另一个局", _F2[2])],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryDepartmentExists",
        {"departmentId": _F1[0]},
        id="founder-duplicate-id",
    ),
    pytest.param(
        [(_F1[0], "", _F1[2])],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryInvalidName",
        {"length": 0, "maxLength": MAX_NAME},
        id="founder-empty-name",
    ),
    pytest.param(
        [(_F1[0], _LONG_NAME, _F1[2])],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryInvalidName",
        {"length": 257, "maxLength": MAX_NAME},
        id="founder-name-257-bytes",
    ),
    pytest.param(
        [(_F1[0], _F1[1], ZERO_ADDRESS)],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryZeroAddress",
        {},
        id="founder-zero-operator",
    ),
    pytest.param(
        [_F1, (_F2[0], _F2[1], _F1[2])],
        [],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryAccountIsOperator",
        {"account": _F1[2], "departmentId": _F1[0]},
        id="founder-shared-operator",
    ),
    pytest.param(
        [_F1],
        [ZERO_ADDRESS],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryZeroAddress",
        {},
        id="auditor-zero",
    ),
    pytest.param(
        [_F1],
        [_F1[2]],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryAccountIsOperator",
        {"account": _F1[2], "departmentId": _F1[0]},
        id="auditor-is-operator",
    ),
    pytest.param(
        [_F1],
        [_AUD, _AUD],
        THRESHOLD_BPS,
        PROPOSAL_LIFETIME,
        "DepartmentRegistryAccountIsAuditor",
        {"account": _AUD},
        id="auditor-duplicate",
    ),
]


@pytest.mark.parametrize(
    ("founders", "auditors", "bps", "lifetime", "error", "args"), CONSTRUCTOR_FAILURES
)
def test_constructor_rejects_bad_configuration(
    consortium: Consortium,
    founders: list[tuple[bytes, str, str]],
    auditors: list[str],
    bps: int,
    lifetime: int,
    error: str,
    args: dict[str, Any],
) -> None:
    with reverts(error, **args) as info:
        _deploy(consortium, founders, auditors, bps, lifetime)
    assert set(info.value.error_args) == set(args)  # every argument of the error is asserted


# ------------------------------------------------------------------------- proposals


def test_propose_records_proposal_and_counts_proposers_approval(consortium: Consortium) -> None:
    c = consortium
    new_op = c.spare(5).address
    pid, tx = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, new_op)
    created = _block_time(c, tx)
    expires = created + PROPOSAL_LIFETIME
    assert pid == 1
    assert tx.events == [
        (
            "ProposalCreated",
            {
                "proposalId": 1,
                "proposerDepartment": c.ids["A"],
                "departmentId": NEW_ID,
                "kind": ADMIT,
                "account": new_op,
                "name": NEW_NAME,
                "expiresAt": expires,
            },
        ),
        _approved(1, c.ids["A"], c.ops["A"].address, 1, 3),
    ]
    assert _proposal(c, 1) == Proposal(
        kind=ADMIT,
        status=PROPOSAL_OPEN,
        proposer_department=c.ids["A"],
        department_id=NEW_ID,
        account=new_op,
        created_at=created,
        expires_at=expires,
        approvals=1,
        name=NEW_NAME,
    )
    assert c.call(REG, "proposalCount") == 1
    assert c.call(REG, "hasApproved", 1, c.ids["A"]) is True
    assert c.call(REG, "hasApproved", 1, c.ids["B"]) is False
    assert c.call(REG, "requiredApprovals", 1) == approvals_for(3) == 3
    # Nothing is admitted before the threshold.
    assert c.call(REG, "statusOf", NEW_ID) == STATUS_NONE
    # Ids are sequential.
    pid2, _ = _propose(c, GRANT_AUDITOR, c.ops["B"], account=c.spare(6).address)
    assert pid2 == 2
    assert c.call(REG, "proposalCount") == 2
    assert _proposal(c, 2).proposer_department == c.ids["B"]


def test_admit_executes_on_the_threshold_approval(consortium: Consortium) -> None:
    c = consortium
    new_op = c.spare(5).address
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, new_op)
    # 3 active departments: ceil(3 * 0.6667) = 3, so B's approval alone does not execute.
    tx_b = _approve(c, pid, c.ops["B"])
    assert tx_b.events == [_approved(pid, c.ids["B"], c.ops["B"].address, 2, 3)]
    assert _proposal(c, pid).status == PROPOSAL_OPEN
    assert _proposal(c, pid).approvals == 2
    assert c.call(REG, "hasApproved", pid, c.ids["B"]) is True
    assert c.call(REG, "departmentCount") == 3

    tx_c = _approve(c, pid, c.ops["C"])
    executor = c.ops["C"].address
    assert tx_c.events == [
        _approved(pid, c.ids["C"], executor, 3, 3),
        ("ProposalExecuted", {"proposalId": pid, "kind": ADMIT}),
        (
            "DepartmentAdmitted",
            {"departmentId": NEW_ID, "proposalId": pid, "name": NEW_NAME, "firstOperator": new_op},
        ),
        ("OperatorAdded", {"departmentId": NEW_ID, "account": new_op, "addedBy": executor}),
    ]
    at = _block_time(c, tx_c)
    assert _department(c, NEW_ID) == Department(NEW_ID, STATUS_ACTIVE, at, at, 1, NEW_NAME)
    assert _proposal(c, pid).status == PROPOSAL_EXECUTED
    assert _proposal(c, pid).approvals == 3
    assert c.call(REG, "departmentCount") == 4
    assert c.call(REG, "departmentIdAt", 3) == NEW_ID
    assert c.call(REG, "activeDepartmentCount") == 4
    assert c.call(REG, "operators", NEW_ID) == [new_op]
    assert c.call(REG, "departmentOf", new_op) == NEW_ID
    assert c.call(REG, "requireActiveOperator", new_op) == NEW_ID
    assert c.call(REG, "isActive", NEW_ID) is True
    # The new department votes from now on: 4 active -> ceil(2.6668) = 3 approvals.
    pid2, tx = _propose(c, GRANT_AUDITOR, c.spare(5), account=c.spare(6).address)
    assert tx.event("ProposalApproved")["departmentId"] == NEW_ID
    assert c.call(REG, "requiredApprovals", pid2) == approvals_for(4) == 3


def test_proposal_kinds_are_stored_with_their_targets(consortium: Consortium) -> None:
    c = consortium
    pid, tx = _propose(c, REVOKE_AUDITOR, c.ops["C"], account=c.auditor.address)
    assert tx.event("ProposalCreated") == {
        "proposalId": pid,
        "proposerDepartment": c.ids["C"],
        "departmentId": ZERO_ID,
        "kind": REVOKE_AUDITOR,
        "account": c.auditor.address,
        "name": "",
        "expiresAt": _block_time(c, tx) + PROPOSAL_LIFETIME,
    }
    stored = _proposal(c, pid)
    assert (stored.kind, stored.account, stored.department_id) == (
        REVOKE_AUDITOR,
        c.auditor.address,
        ZERO_ID,
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("杭州市数据资源管理局（试点）🏛️ Data Bureau", id="mixed-scripts-emoji"),
        pytest.param("杭" * 85 + "A", id="exactly-256-bytes"),
    ],
)
def test_admitted_name_round_trips_as_utf8(consortium: Consortium, name: str) -> None:
    c = consortium
    assert len(name.encode("utf-8")) <= MAX_NAME
    tx = _admit(c, NEW_ID, name, c.spare(5).address)
    assert tx.event("DepartmentAdmitted")["name"] == name
    assert _department(c, NEW_ID).name == name
    assert _proposal(c, c.call(REG, "proposalCount")).name == name


@pytest.mark.parametrize(
    ("name", "length"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("杭" * 85 + "AB", 257, id="257-bytes"),
        pytest.param("杭" * 86, 258, id="86-chars-are-258-bytes"),
    ],
)
def test_admit_rejects_invalid_name(consortium: Consortium, name: str, length: int) -> None:
    c = consortium
    assert len(name.encode("utf-8")) == length
    with reverts("DepartmentRegistryInvalidName", length=length, maxLength=MAX_NAME):
        _propose(c, ADMIT, c.ops["A"], NEW_ID, name, c.spare(5).address)
    assert c.call(REG, "proposalCount") == 0


@pytest.mark.parametrize(
    ("dep", "operator", "error", "args"),
    [
        pytest.param(ZERO_ID, SPARE, "DepartmentRegistryZeroDepartmentId", {}, id="zero-id"),
        pytest.param(
            IDS["B"],
            SPARE,
            "DepartmentRegistryDepartmentExists",
            {"departmentId": IDS["B"]},
            id="existing-id",
        ),
        pytest.param(NEW_ID, ZERO_ADDRESS, "DepartmentRegistryZeroAddress", {}, id="zero-operator"),
        pytest.param(
            NEW_ID,
            OPS["B"],
            "DepartmentRegistryAccountIsOperator",
            {"account": OPS["B"], "departmentId": IDS["B"]},
            id="operator-of-another-department",
        ),
        pytest.param(
            NEW_ID,
            AUDITOR,
            "DepartmentRegistryAccountIsAuditor",
            {"account": AUDITOR},
            id="auditor-as-operator",
        ),
    ],
)
def test_propose_admit_rejects_invalid_department(
    consortium: Consortium, dep: bytes, operator: str, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    with reverts(error, **args):
        _propose(c, ADMIT, c.ops["A"], dep, NEW_NAME, operator)
    assert c.call(REG, "proposalCount") == 0


@pytest.mark.parametrize("who", ["spare", "auditor"])
def test_propose_requires_an_operator(consortium: Consortium, who: str) -> None:
    c = consortium
    sender = c.spare(9) if who == "spare" else c.auditor
    with reverts("DepartmentRegistryNotOperator", account=sender.address):
        _propose(c, ADMIT, sender, NEW_ID, NEW_NAME, c.spare(5).address)
    assert c.call(REG, "proposalCount") == 0


# ------------------------------------------------------------------ suspend / readmit


def test_suspension_electorate_excludes_the_target(consortium: Consortium) -> None:
    c = consortium
    admitted_c = _department(c, c.ids["C"]).admitted_at
    pid, tx = _propose(c, SUSPEND, c.ops["A"], c.ids["C"])
    # C may not vote on its own suspension: electorate 2 -> ceil(1.3334) = 2 approvals.
    assert tx.event("ProposalApproved")["required"] == approvals_for(2) == 2
    assert c.call(REG, "requiredApprovals", pid) == 2
    assert c.call(REG, "isActive", c.ids["C"]) is True

    tx_b = _approve(c, pid, c.ops["B"])
    assert tx_b.events == [
        _approved(pid, c.ids["B"], c.ops["B"].address, 2, 2),
        ("ProposalExecuted", {"proposalId": pid, "kind": SUSPEND}),
        ("DepartmentSuspended", {"departmentId": c.ids["C"], "proposalId": pid}),
    ]
    at = _block_time(c, tx_b)
    assert _department(c, c.ids["C"]) == Department(
        c.ids["C"], STATUS_SUSPENDED, admitted_c, at, 1, c.names["C"]
    )
    assert c.call(REG, "statusOf", c.ids["C"]) == STATUS_SUSPENDED
    assert c.call(REG, "isActive", c.ids["C"]) is False
    assert c.call(REG, "activeDepartmentCount") == 2
    assert c.call(REG, "departmentCount") == 3  # membership history is kept
    assert _proposal(c, pid).status == PROPOSAL_EXECUTED
    # The operator stays bound to its department (it cannot be moved elsewhere meanwhile).
    assert c.call(REG, "departmentOf", c.ops["C"].address) == c.ids["C"]
    assert c.call(REG, "operators", c.ids["C"]) == [c.ops["C"].address]
    with reverts("DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=2):
        c.call(REG, "requireActive", c.ids["C"])
    with reverts("DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=2):
        c.call(REG, "requireActiveOperator", c.ops["C"].address)
    # With C suspended, ordinary proposals need 2 of the 2 remaining departments.
    _, tx2 = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(6).address)
    assert tx2.event("ProposalApproved")["required"] == 2


def test_suspended_departments_operators_cannot_write(consortium: Consortium) -> None:
    c = consortium
    open_pid, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(6).address)
    _suspend_c(c)
    op_c = c.ops["C"]
    not_active = {"departmentId": c.ids["C"], "status": STATUS_SUSPENDED}
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        _approve(c, open_pid, op_c)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        _propose(c, GRANT_AUDITOR, op_c, account=c.spare(7).address)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        c.transact(REG, "addOperator", c.spare(8).address, sender=op_c)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        c.transact(REG, "removeOperator", op_c.address, sender=op_c)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        c.transact("DatasetRegistry", "registerDataset", b"\x11" * 32, b"\x22" * 32, sender=op_c)
    # Control: an active department's operator can register a dataset.
    tx = c.transact(
        "DatasetRegistry", "registerDataset", b"\x33" * 32, b"\x44" * 32, sender=c.ops["B"]
    )
    assert tx.event("DatasetRegistered")["ownerDepartment"] == c.ids["B"]
    # Nothing the suspended operator attempted took effect.
    assert c.call(REG, "hasApproved", open_pid, c.ids["C"]) is False
    assert c.call(REG, "departmentOf", c.spare(8).address) == ZERO_ID
    assert c.call(REG, "operators", c.ids["C"]) == [op_c.address]


def test_own_suspension_cannot_be_proposed(consortium: Consortium) -> None:
    c = consortium
    with reverts("DepartmentRegistryOwnSuspension", departmentId=c.ids["A"]):
        _propose(c, SUSPEND, c.ops["A"], c.ids["A"])
    assert c.call(REG, "proposalCount") == 0


def test_own_suspension_cannot_be_approved(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, SUSPEND, c.ops["B"], c.ids["A"])
    with reverts("DepartmentRegistryOwnSuspension", departmentId=c.ids["A"]):
        _approve(c, pid, c.ops["A"])
    assert c.call(REG, "hasApproved", pid, c.ids["A"]) is False
    # B and C (the electorate without A) carry it.
    tx = _approve(c, pid, c.ops["C"])
    assert ("DepartmentSuspended", {"departmentId": c.ids["A"], "proposalId": pid}) in tx.events
    assert c.call(REG, "statusOf", c.ids["A"]) == STATUS_SUSPENDED


@pytest.mark.parametrize(
    ("target", "error", "args"),
    [
        pytest.param(
            NEW_ID, "DepartmentRegistryUnknownDepartment", {"departmentId": NEW_ID}, id="unknown"
        ),
        pytest.param(
            ZERO_ID, "DepartmentRegistryUnknownDepartment", {"departmentId": ZERO_ID}, id="zero-id"
        ),
        pytest.param(
            IDS["C"],
            "DepartmentRegistryDepartmentNotActive",
            {"departmentId": IDS["C"], "status": STATUS_SUSPENDED},
            id="already-suspended",
        ),
    ],
)
def test_propose_suspend_rejects_non_active_target(
    consortium: Consortium, target: bytes, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    _suspend_c(c)
    count = c.call(REG, "proposalCount")
    with reverts(error, **args):
        _propose(c, SUSPEND, c.ops["A"], target)
    assert c.call(REG, "proposalCount") == count


def test_last_active_department_cannot_be_suspended(consortium: Consortium) -> None:
    c = consortium
    _suspend_c(c)
    # A and B remain; suspending B leaves an electorate of 1 (A): the proposer's own
    # approval meets approvalsFor(1) = 1, so the proposal executes in the same transaction.
    pid, tx = _propose(c, SUSPEND, c.ops["A"], c.ids["B"])
    assert tx.events[1:] == [
        _approved(pid, c.ids["A"], c.ops["A"].address, 1, 1),
        ("ProposalExecuted", {"proposalId": pid, "kind": SUSPEND}),
        ("DepartmentSuspended", {"departmentId": c.ids["B"], "proposalId": pid}),
    ]
    assert tx.events[0][0] == "ProposalCreated"
    assert c.call(REG, "activeDepartmentCount") == 1
    # A is the last active department: its suspension would leave nobody able to write.
    # (The last-active check runs before the own-suspension check.)
    with reverts("DepartmentRegistryLastActiveDepartment", departmentId=c.ids["A"]):
        _propose(c, SUSPEND, c.ops["A"], c.ids["A"])
    assert c.call(REG, "isActive", c.ids["A"]) is True


def test_last_active_department_in_a_single_founder_registry(consortium: Consortium) -> None:
    c = consortium
    op = c.spare(5)
    client, _ = _deploy(c, [(NEW_ID, NEW_NAME, op.address)], [])
    with reverts("DepartmentRegistryLastActiveDepartment", departmentId=NEW_ID):
        client.transact(REG, "propose", SUSPEND, NEW_ID, "", ZERO_ADDRESS, sender=op)
    assert client.call(REG, "proposalCount") == 0


def test_readmit_restores_a_suspended_department(consortium: Consortium) -> None:
    c = consortium
    _suspend_c(c)
    admitted_c = _department(c, c.ids["C"]).admitted_at
    pid, tx = _propose(c, READMIT, c.ops["A"], c.ids["C"])
    # C is not active, so the electorate is A and B: 2 approvals.
    assert tx.event("ProposalApproved")["required"] == 2
    tx_b = _approve(c, pid, c.ops["B"])
    assert tx_b.events == [
        _approved(pid, c.ids["B"], c.ops["B"].address, 2, 2),
        ("ProposalExecuted", {"proposalId": pid, "kind": READMIT}),
        ("DepartmentReadmitted", {"departmentId": c.ids["C"], "proposalId": pid}),
    ]
    at = _block_time(c, tx_b)
    assert _department(c, c.ids["C"]) == Department(
        c.ids["C"], STATUS_ACTIVE, admitted_c, at, 1, c.names["C"]
    )
    assert c.call(REG, "activeDepartmentCount") == 3
    assert c.call(REG, "departmentCount") == 3  # readmission does not re-append the id
    assert c.call(REG, "requireActiveOperator", c.ops["C"].address) == c.ids["C"]
    # C can write again.
    tx_ds = c.transact(
        "DatasetRegistry", "registerDataset", b"\x55" * 32, b"\x66" * 32, sender=c.ops["C"]
    )
    assert tx_ds.event("DatasetRegistered")["ownerDepartment"] == c.ids["C"]


@pytest.mark.parametrize(
    ("target", "error", "args"),
    [
        pytest.param(
            IDS["B"],
            "DepartmentRegistryDepartmentNotSuspended",
            {"departmentId": IDS["B"], "status": STATUS_ACTIVE},
            id="active",
        ),
        pytest.param(
            NEW_ID, "DepartmentRegistryUnknownDepartment", {"departmentId": NEW_ID}, id="unknown"
        ),
    ],
)
def test_propose_readmit_rejects_non_suspended(
    consortium: Consortium, target: bytes, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    with reverts(error, **args):
        _propose(c, READMIT, c.ops["A"], target)
    assert c.call(REG, "proposalCount") == 0


# -------------------------------------------------------------------------- auditors


def test_grant_auditor(consortium: Consortium) -> None:
    c = consortium
    new_auditor = c.spare(8)
    pid, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=new_auditor.address)
    assert c.call(REG, "isAuditor", new_auditor.address) is False
    tx = _carry_with_all(c, pid)
    assert tx.events == [
        _approved(pid, c.ids["C"], c.ops["C"].address, 3, 3),
        ("ProposalExecuted", {"proposalId": pid, "kind": GRANT_AUDITOR}),
        ("AuditorGranted", {"account": new_auditor.address, "proposalId": pid}),
    ]
    assert c.call(REG, "isAuditor", new_auditor.address) is True
    assert c.call(REG, "departmentOf", new_auditor.address) == ZERO_ID
    # The role is kept apart from operators.
    with reverts("DepartmentRegistryAccountIsAuditor", account=new_auditor.address):
        c.transact(REG, "addOperator", new_auditor.address, sender=c.ops["B"])
    with reverts("DepartmentRegistryNotOperator", account=new_auditor.address):
        _propose(c, GRANT_AUDITOR, new_auditor, account=c.spare(9).address)


@pytest.mark.parametrize(
    ("account", "error", "args"),
    [
        pytest.param(ZERO_ADDRESS, "DepartmentRegistryZeroAddress", {}, id="zero"),
        pytest.param(
            OPS["B"],
            "DepartmentRegistryAccountIsOperator",
            {"account": OPS["B"], "departmentId": IDS["B"]},
            id="operator",
        ),
        pytest.param(
            AUDITOR,
            "DepartmentRegistryAccountIsAuditor",
            {"account": AUDITOR},
            id="already-auditor",
        ),
    ],
)
def test_propose_grant_auditor_rejects_unavailable_account(
    consortium: Consortium, account: str, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    with reverts(error, **args):
        _propose(c, GRANT_AUDITOR, c.ops["A"], account=account)
    assert c.call(REG, "proposalCount") == 0


def test_revoke_auditor(consortium: Consortium) -> None:
    c = consortium
    auditor = c.auditor.address
    pid, _ = _propose(c, REVOKE_AUDITOR, c.ops["B"], account=auditor)
    assert c.call(REG, "isAuditor", auditor) is True
    tx_a = _approve(c, pid, c.ops["A"])
    assert tx_a.events == [_approved(pid, c.ids["A"], c.ops["A"].address, 2, 3)]
    tx_c = _approve(c, pid, c.ops["C"])
    assert tx_c.events == [
        _approved(pid, c.ids["C"], c.ops["C"].address, 3, 3),
        ("ProposalExecuted", {"proposalId": pid, "kind": REVOKE_AUDITOR}),
        ("AuditorRevoked", {"account": auditor, "proposalId": pid}),
    ]
    assert c.call(REG, "isAuditor", auditor) is False
    # A former auditor is a free account again: it may become an operator.
    tx = c.transact(REG, "addOperator", auditor, sender=c.ops["C"])
    assert tx.event("OperatorAdded")["account"] == auditor
    assert c.call(REG, "departmentOf", auditor) == c.ids["C"]


@pytest.mark.parametrize("account", [SPARE, OPS["B"], ZERO_ADDRESS], ids=["spare", "op", "zero"])
def test_propose_revoke_auditor_rejects_non_auditor(consortium: Consortium, account: str) -> None:
    c = consortium
    with reverts("DepartmentRegistryNotAuditor", account=account):
        _propose(c, REVOKE_AUDITOR, c.ops["A"], account=account)
    assert c.call(REG, "proposalCount") == 0


# ------------------------------------------------------------------------- approvals


def test_electorate_is_counted_at_each_approval(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, c.spare(5).address)
    assert c.call(REG, "requiredApprovals", pid) == 3
    _suspend_c(c)
    # Two active departments now: the open admission needs only 2, and B's approval executes.
    assert c.call(REG, "requiredApprovals", pid) == 2
    tx = _approve(c, pid, c.ops["B"])
    assert tx.events[:2] == [
        _approved(pid, c.ids["B"], c.ops["B"].address, 2, 2),
        ("ProposalExecuted", {"proposalId": pid, "kind": ADMIT}),
    ]
    assert c.call(REG, "isActive", NEW_ID) is True


def test_required_approvals_of_a_suspension_once_target_is_inactive(
    consortium: Consortium,
) -> None:
    c = consortium
    first = _suspend_c(c)
    # The electorate only excludes an *active* target: C is suspended, so it counts A and B.
    assert c.call(REG, "activeDepartmentCount") == 2
    assert c.call(REG, "requiredApprovals", first) == approvals_for(2) == 2


@pytest.mark.parametrize("pid", [0, 1, 2**256 - 1])
def test_approve_rejects_unknown_proposal(consortium: Consortium, pid: int) -> None:
    c = consortium
    with reverts("DepartmentRegistryUnknownProposal", proposalId=pid):
        _approve(c, pid, c.ops["B"])
    with reverts("DepartmentRegistryUnknownProposal", proposalId=pid):
        c.call(REG, "proposal", pid)
    with reverts("DepartmentRegistryUnknownProposal", proposalId=pid):
        c.call(REG, "requiredApprovals", pid)
    assert c.call(REG, "hasApproved", pid, c.ids["B"]) is False


def test_approve_rejects_second_approval_of_a_department(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(8).address)
    with reverts("DepartmentRegistryAlreadyApproved", proposalId=pid, departmentId=c.ids["A"]):
        _approve(c, pid, c.ops["A"])
    # Approval is per department: another operator of A cannot add a second vote.
    c.transact(REG, "addOperator", c.spare(5).address, sender=c.ops["A"])
    with reverts("DepartmentRegistryAlreadyApproved", proposalId=pid, departmentId=c.ids["A"]):
        _approve(c, pid, c.spare(5))
    _approve(c, pid, c.ops["B"])
    with reverts("DepartmentRegistryAlreadyApproved", proposalId=pid, departmentId=c.ids["B"]):
        _approve(c, pid, c.ops["B"])
    assert _proposal(c, pid).approvals == 2
    assert _proposal(c, pid).status == PROPOSAL_OPEN


def test_approve_rejects_executed_proposal(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(8).address)
    _carry_with_all(c, pid)
    assert _proposal(c, pid).status == PROPOSAL_EXECUTED
    # "Executed" is reported before "already approved".
    for key in ("A", "C"):
        with reverts("DepartmentRegistryProposalExecuted", proposalId=pid):
            _approve(c, pid, c.ops[key])
    # Also for a department that never voted on it (admitted afterwards).
    _admit(c, NEW_ID, NEW_NAME, c.spare(5).address)
    with reverts("DepartmentRegistryProposalExecuted", proposalId=pid):
        _approve(c, pid, c.spare(5))
    assert _proposal(c, pid).approvals == 3


def test_approve_rejects_expired_proposal(consortium: Consortium) -> None:
    c = consortium
    pid, tx = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(8).address)
    expires = tx.event("ProposalCreated")["expiresAt"]
    assert expires == _block_time(c, tx) + PROPOSAL_LIFETIME
    # One second before expiry an approval is still accepted ...
    c.w3.provider.make_request("evm_setNextBlockTimestamp", [expires - 1])  # type: ignore[arg-type]
    tx_b = _approve(c, pid, c.ops["B"])
    assert _block_time(c, tx_b) == expires - 1
    assert tx_b.events == [_approved(pid, c.ids["B"], c.ops["B"].address, 2, 3)]
    # ... from expiresAt on it is refused.
    c.advance(1)
    assert c.now() >= expires
    with reverts("DepartmentRegistryProposalExpired", proposalId=pid, expiresAt=expires):
        _approve(c, pid, c.ops["C"])
    stored = _proposal(c, pid)
    assert (stored.status, stored.approvals) == (PROPOSAL_OPEN, 2)  # expired = open past expiry
    assert c.call(REG, "isAuditor", c.spare(8).address) is False


def test_approve_requires_an_active_operator(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(8).address)
    for sender in (c.spare(9), c.auditor):
        with reverts("DepartmentRegistryNotOperator", account=sender.address):
            _approve(c, pid, sender)
    assert _proposal(c, pid).approvals == 1


# ------------------------------------------------------------- re-check at execution


def test_execution_rechecks_admit_of_the_same_id(consortium: Consortium) -> None:
    c = consortium
    first, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, c.spare(5).address)
    second, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, "重复的名称", c.spare(6).address)
    _carry_with_all(c, first)
    assert c.call(REG, "isActive", NEW_ID) is True
    # 4 active departments now: the second needs 3; B brings it to 2, C's would execute it.
    _approve(c, second, c.ops["B"])
    with reverts("DepartmentRegistryDepartmentExists", departmentId=NEW_ID):
        _approve(c, second, c.ops["C"])
    stored = _proposal(c, second)
    assert (stored.status, stored.approvals) == (PROPOSAL_OPEN, 2)
    assert c.call(REG, "hasApproved", second, c.ids["C"]) is False
    assert _department(c, NEW_ID).name == NEW_NAME
    assert c.call(REG, "departmentOf", c.spare(6).address) == ZERO_ID


def test_execution_rechecks_first_operator_of_an_admission(consortium: Consortium) -> None:
    c = consortium
    operator = c.spare(5).address
    other_id = department_id("TEST-DRB-901")
    first, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, operator)
    second, _ = _propose(c, ADMIT, c.ops["A"], other_id, "另一个局", operator)
    _carry_with_all(c, first)
    _approve(c, second, c.ops["B"])
    with reverts("DepartmentRegistryAccountIsOperator", account=operator, departmentId=NEW_ID):
        _approve(c, second, c.ops["C"])
    assert c.call(REG, "statusOf", other_id) == STATUS_NONE


def test_execution_rechecks_readmission(consortium: Consortium) -> None:
    c = consortium
    _suspend_c(c)
    first, _ = _propose(c, READMIT, c.ops["A"], c.ids["C"])
    second, _ = _propose(c, READMIT, c.ops["B"], c.ids["C"])
    _approve(c, first, c.ops["B"])  # 2 of 2: C is active again
    # Three active departments: the second needs 3 (B proposed, A approves, C would execute).
    _approve(c, second, c.ops["A"])
    with reverts(
        "DepartmentRegistryDepartmentNotSuspended", departmentId=c.ids["C"], status=STATUS_ACTIVE
    ):
        _approve(c, second, c.ops["C"])
    assert _proposal(c, second).status == PROPOSAL_OPEN


def test_execution_rechecks_suspension_target(consortium: Consortium) -> None:
    c = consortium
    first, _ = _propose(c, SUSPEND, c.ops["A"], c.ids["C"])
    second, _ = _propose(c, SUSPEND, c.ops["B"], c.ids["C"])
    _approve(c, first, c.ops["B"])
    assert c.call(REG, "statusOf", c.ids["C"]) == STATUS_SUSPENDED
    # C is no longer active: electorate A, B -> 2; A's approval would execute the second.
    assert c.call(REG, "requiredApprovals", second) == 2
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=STATUS_SUSPENDED
    ):
        _approve(c, second, c.ops["A"])
    assert _proposal(c, second).approvals == 1


def test_execution_rechecks_auditor_account(consortium: Consortium) -> None:
    c = consortium
    account = c.spare(7).address
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=account)
    # Meanwhile B makes the account one of its operators.
    c.transact(REG, "addOperator", account, sender=c.ops["B"])
    _approve(c, grant, c.ops["B"])
    with reverts("DepartmentRegistryAccountIsOperator", account=account, departmentId=c.ids["B"]):
        _approve(c, grant, c.ops["C"])
    assert c.call(REG, "isAuditor", account) is False


def test_execution_rechecks_auditor_revocation(consortium: Consortium) -> None:
    c = consortium
    auditor = c.auditor.address
    first, _ = _propose(c, REVOKE_AUDITOR, c.ops["A"], account=auditor)
    second, _ = _propose(c, REVOKE_AUDITOR, c.ops["A"], account=auditor)
    _carry_with_all(c, first)
    _approve(c, second, c.ops["B"])
    with reverts("DepartmentRegistryNotAuditor", account=auditor):
        _approve(c, second, c.ops["C"])


# ------------------------------------------------------------------------- operators


def test_add_operator(consortium: Consortium) -> None:
    c = consortium
    new_op = c.spare(5)
    tx = c.transact(REG, "addOperator", new_op.address, sender=c.ops["A"])
    assert tx.events == [
        (
            "OperatorAdded",
            {"departmentId": c.ids["A"], "account": new_op.address, "addedBy": c.ops["A"].address},
        ),
    ]
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address, new_op.address]
    assert c.call(REG, "departmentOf", new_op.address) == c.ids["A"]
    assert c.call(REG, "requireActiveOperator", new_op.address) == c.ids["A"]
    assert _department(c, c.ids["A"]).operator_count == 2
    # The new operator acts for A.
    pid, tx2 = _propose(c, GRANT_AUDITOR, new_op, account=c.spare(8).address)
    assert tx2.event("ProposalCreated")["proposerDepartment"] == c.ids["A"]
    assert c.call(REG, "hasApproved", pid, c.ids["A"]) is True
    # And it can itself add operators.
    tx3 = c.transact(REG, "addOperator", c.spare(6).address, sender=new_op)
    assert tx3.event("OperatorAdded")["addedBy"] == new_op.address
    assert _department(c, c.ids["A"]).operator_count == 3


@pytest.mark.parametrize(
    ("account", "error", "args"),
    [
        pytest.param(ZERO_ADDRESS, "DepartmentRegistryZeroAddress", {}, id="zero"),
        pytest.param(
            OPS["B"],
            "DepartmentRegistryAccountIsOperator",
            {"account": OPS["B"], "departmentId": IDS["B"]},
            id="operator-of-another-department",
        ),
        pytest.param(
            OPS["A"],
            "DepartmentRegistryAccountIsOperator",
            {"account": OPS["A"], "departmentId": IDS["A"]},
            id="already-own-operator",
        ),
        pytest.param(
            AUDITOR,
            "DepartmentRegistryAccountIsAuditor",
            {"account": AUDITOR},
            id="auditor",
        ),
    ],
)
def test_add_operator_rejects_unavailable_account(
    consortium: Consortium, account: str, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    with reverts(error, **args):
        c.transact(REG, "addOperator", account, sender=c.ops["A"])
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]


def test_operator_of_a_suspended_department_cannot_join_another(consortium: Consortium) -> None:
    c = consortium
    _suspend_c(c)
    op_c = c.ops["C"].address
    with reverts("DepartmentRegistryAccountIsOperator", account=op_c, departmentId=c.ids["C"]):
        c.transact(REG, "addOperator", op_c, sender=c.ops["A"])


@pytest.mark.parametrize("function", ["addOperator", "removeOperator"])
def test_operator_management_requires_an_operator(consortium: Consortium, function: str) -> None:
    c = consortium
    for sender in (c.spare(9), c.auditor):
        with reverts("DepartmentRegistryNotOperator", account=sender.address):
            c.transact(REG, function, c.ops["A"].address, sender=sender)
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]


def test_remove_operator(consortium: Consortium) -> None:
    c = consortium
    extra = c.spare(5)
    c.transact(REG, "addOperator", extra.address, sender=c.ops["A"])
    tx = c.transact(REG, "removeOperator", extra.address, sender=c.ops["A"])
    assert tx.events == [
        (
            "OperatorRemoved",
            {"departmentId": c.ids["A"], "account": extra.address, "removedBy": c.ops["A"].address},
        ),
    ]
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]
    assert c.call(REG, "departmentOf", extra.address) == ZERO_ID
    assert _department(c, c.ids["A"]).operator_count == 1
    with reverts("DepartmentRegistryNotOperator", account=extra.address):
        c.call(REG, "requireActiveOperator", extra.address)
    with reverts("DepartmentRegistryNotOperator", account=extra.address):
        _propose(c, GRANT_AUDITOR, extra, account=c.spare(8).address)
    # The freed account may now join another department.
    c.transact(REG, "addOperator", extra.address, sender=c.ops["B"])
    assert c.call(REG, "departmentOf", extra.address) == c.ids["B"]


def test_operator_may_remove_itself_but_not_the_last_operator(consortium: Consortium) -> None:
    c = consortium
    op_a = c.ops["A"]
    with reverts("DepartmentRegistryLastOperator", departmentId=c.ids["A"]):
        c.transact(REG, "removeOperator", op_a.address, sender=op_a)
    second = c.spare(5)
    c.transact(REG, "addOperator", second.address, sender=op_a)
    tx = c.transact(REG, "removeOperator", op_a.address, sender=op_a)
    assert tx.event("OperatorRemoved") == {
        "departmentId": c.ids["A"],
        "account": op_a.address,
        "removedBy": op_a.address,
    }
    assert c.call(REG, "operators", c.ids["A"]) == [second.address]
    with reverts("DepartmentRegistryLastOperator", departmentId=c.ids["A"]):
        c.transact(REG, "removeOperator", second.address, sender=second)
    assert _department(c, c.ids["A"]).operator_count == 1


@pytest.mark.parametrize(
    "account", [OPS["B"], SPARE, AUDITOR, ZERO_ADDRESS], ids=["op-of-B", "spare", "auditor", "zero"]
)
def test_remove_operator_rejects_account_outside_the_department(
    consortium: Consortium, account: str
) -> None:
    c = consortium
    with reverts("DepartmentRegistryNotOperatorOf", account=account, departmentId=c.ids["A"]):
        c.transact(REG, "removeOperator", account, sender=c.ops["A"])
    assert c.call(REG, "departmentOf", OPS["B"]) == c.ids["B"]


# ----------------------------------------------------------------------------- views


def test_views_of_unknown_department_and_account(consortium: Consortium) -> None:
    c = consortium
    for dep in (NEW_ID, ZERO_ID):
        with reverts("DepartmentRegistryUnknownDepartment", departmentId=dep):
            c.call(REG, "department", dep)
        with reverts("DepartmentRegistryUnknownDepartment", departmentId=dep):
            c.call(REG, "requireActive", dep)
        assert c.call(REG, "statusOf", dep) == STATUS_NONE
        assert c.call(REG, "isActive", dep) is False
        assert c.call(REG, "operators", dep) == []
    spare = c.spare(10).address
    assert c.call(REG, "departmentOf", spare) == ZERO_ID
    assert c.call(REG, "isAuditor", spare) is False
    for account in (spare, ZERO_ADDRESS):
        with reverts("DepartmentRegistryNotOperator", account=account):
            c.call(REG, "requireActiveOperator", account)
    # Past the end of the admission list: a Solidity array-bounds panic (0x32).
    with reverts("Panic", code=0x32):
        c.call(REG, "departmentIdAt", 3)


# ------------------------------------------------------------------ threshold arithmetic


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(electorate=0)
@example(electorate=1)
@example(electorate=2)
@example(electorate=3)
@example(electorate=1000)
@given(electorate=st.integers(min_value=0, max_value=1000))
def test_approvals_for_is_the_ceiling_of_the_threshold_share(
    consortium: Consortium, electorate: int
) -> None:
    on_chain = consortium.call(REG, "approvalsFor", electorate)
    assert on_chain == approvals_for(electorate)
    # The defining properties, checked on the contract's value itself: at least one, enough
    # (k / n >= bps / 10000), minimal (one fewer would fall short), never more than n.
    assert on_chain >= 1
    assert on_chain * 10_000 >= electorate * THRESHOLD_BPS
    assert on_chain == 1 or (on_chain - 1) * 10_000 < electorate * THRESHOLD_BPS
    assert on_chain <= max(1, electorate)
    assert consortium.call(REG, "approvalsFor", electorate + 1) >= on_chain


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=0, max_value=1000), bps=st.integers(min_value=1, max_value=10_000))
def test_reference_threshold_is_the_smallest_sufficient_count(n: int, bps: int) -> None:
    k = approvals_for(n, bps)
    # Independent definition: the least k >= 1 whose share k/n reaches bps/10000.
    assert k == next(j for j in itertools.count(1) if j * 10_000 >= n * bps)
    assert k > n * bps / 10_000 - 1
    assert 1 <= k <= max(1, n)
    assert approvals_for(n + 1, bps) >= k  # monotonic in the electorate
    assert approvals_for(n + 1, bps) <= k + 1  # one more voter adds at most one approval
    if bps < 10_000:
        assert approvals_for(n, bps + 1) >= k  # monotonic in the threshold
    if bps == 10_000:
        assert k == max(1, n)  # unanimity


def _two_thirds_exact(n: int) -> int:
    """max(1, ceil(2n/3)) in exact rational arithmetic."""
    return max(1, -(-2 * n // 3))


def test_6666_bps_is_two_of_three_while_6667_requires_all_three(consortium: Consortium) -> None:
    """ceil(3 * 0.6667) = 3 but ceil(3 * 0.6666) = 2: the deployed 6667 bps is just above 2/3."""
    c = consortium
    assert c.call(REG, "approvalsFor", 3) == 3
    ops = [c.spare(i) for i in (5, 6, 7)]
    deps = [department_id(f"FRESH-{i}") for i in range(3)]
    client, _ = _deploy(
        c,
        [(d, f"部门{i}", o.address) for i, (d, o) in enumerate(zip(deps, ops, strict=True))],
        [],
        6666,
    )
    # 6666 bps matches exact two thirds for small electorates.
    for n in range(0, 31):
        assert client.call(REG, "approvalsFor", n) == approvals_for(n, 6666) == _two_thirds_exact(n)
    tx = client.transact(
        REG, "propose", GRANT_AUDITOR, ZERO_ID, "", c.spare(8).address, sender=ops[0]
    )
    pid = tx.event("ProposalCreated")["proposalId"]
    tx2 = client.transact(REG, "approve", pid, sender=ops[1])
    assert [name for name, _ in tx2.events] == [
        "ProposalApproved",
        "ProposalExecuted",
        "AuditorGranted",
    ]
    assert tx2.event("ProposalApproved")["required"] == 2
    assert client.call(REG, "isAuditor", c.spare(8).address) is True


# ----------------------------------------------------------------------------- execute


def _admission_stuck_at_two(c: Consortium) -> int:
    """A and B approve NEW_ID's admission (2 of the 3 needed), then C is suspended, which
    shrinks the electorate to 2: the proposal now meets the threshold but nobody is left to
    approve it."""
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, SPARE)
    tx = _approve(c, pid, c.ops["B"])
    assert not any(name == "ProposalExecuted" for name, _ in tx.events)
    _suspend_c(c)
    assert c.call(REG, "requiredApprovals", pid) == 2
    assert _proposal(c, pid).approvals == 2
    return pid


def test_execute_carries_a_proposal_that_met_the_threshold_later(consortium: Consortium) -> None:
    c = consortium
    pid = _admission_stuck_at_two(c)
    with reverts("DepartmentRegistryAlreadyApproved", proposalId=pid, departmentId=c.ids["B"]):
        _approve(c, pid, c.ops["B"])
    tx = c.transact(REG, "execute", pid, sender=c.ops["B"])
    assert [name for name, _ in tx.events] == [
        "ProposalExecuted",
        "DepartmentAdmitted",
        "OperatorAdded",
    ]
    assert tx.event("DepartmentAdmitted") == {
        "departmentId": NEW_ID,
        "proposalId": pid,
        "name": NEW_NAME,
        "firstOperator": SPARE,
    }
    assert c.call(REG, "isActive", NEW_ID) is True
    assert _proposal(c, pid).status == 2  # Executed
    with reverts("DepartmentRegistryProposalExecuted", proposalId=pid):
        c.transact(REG, "execute", pid, sender=c.ops["A"])


def test_execute_refuses_below_the_threshold(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, SPARE)
    _approve(c, pid, c.ops["B"])
    with reverts("DepartmentRegistryThresholdNotMet", proposalId=pid, approvals=2, required=3):
        c.transact(REG, "execute", pid, sender=c.ops["C"])
    assert c.call(REG, "isActive", NEW_ID) is False


def test_execute_refuses_unknown_and_expired_proposals(consortium: Consortium) -> None:
    c = consortium
    with reverts("DepartmentRegistryUnknownProposal", proposalId=99):
        c.transact(REG, "execute", 99, sender=c.ops["A"])
    pid = _admission_stuck_at_two(c)
    expires_at = _proposal(c, pid).expires_at
    c.advance(PROPOSAL_LIFETIME + 1)
    with reverts("DepartmentRegistryProposalExpired", proposalId=pid, expiresAt=expires_at):
        c.transact(REG, "execute", pid, sender=c.ops["A"])


def test_execute_requires_an_active_operator(consortium: Consortium) -> None:
    c = consortium
    pid = _admission_stuck_at_two(c)
    with reverts("DepartmentRegistryNotOperator", account=c.spare(9).address):
        c.transact(REG, "execute", pid, sender=c.spare(9))
    with reverts("DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=2):
        c.transact(REG, "execute", pid, sender=c.ops["C"])


def test_execute_rechecks_the_proposal(consortium: Consortium) -> None:
    c = consortium
    pid = _admission_stuck_at_two(c)
    # Meanwhile SPARE became an operator of A: the admission can no longer execute.
    c.transact(REG, "addOperator", SPARE, sender=c.ops["A"])
    with reverts("DepartmentRegistryAccountIsOperator", account=SPARE, departmentId=c.ids["A"]):
        c.transact(REG, "execute", pid, sender=c.ops["A"])
