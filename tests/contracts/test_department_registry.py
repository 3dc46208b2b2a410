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
from eth_abi import encode as abi_encode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from ledger.chain.artifacts import load_artifact
from ledger.chain.client import ChainClient, SentTransaction
from ledger.chain.enums import DepartmentStatus, ProposalKind, ProposalStatus
from ledger.chain.revert import decode_revert
from ledger.consent import proposal_subject
from ledger.eip712 import (
    ACCEPT_OPERATOR_TYPE,
    ACCEPT_ROLE_TYPE,
    CONSENT_TYPES,
    REGISTRY_DOMAIN,
    ConsentMessage,
    domain_separator,
    sign_consent,
)
from ledger.errors import ContractRevertError
from ledger.ids import code_hash, department_id
from ledger.keys import dev_account
from ledger.names import NameProblem, name_problem
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
    role_accepted_at: int
    name: str


def approvals_for(electorate: int, bps: int = THRESHOLD_BPS) -> int:
    """Reference: max(1, ceil(electorate * bps / 10000)) in integer arithmetic."""
    return max(1, -(-electorate * bps // 10_000))


# ------------------------------------------------------------------------------- helpers


def _local(address: str) -> LocalAccount:
    """The development account with ``address`` (the test accounts are dev 0..19)."""
    return next(a for a in map(dev_account, range(20)) if a.address == address)


def _executed(pid: int, kind: int, approvals: int, required: int) -> Any:
    return (
        "ProposalExecuted",
        {"proposalId": pid, "kind": kind, "approvals": approvals, "required": required},
    )


def _accept_role(c: Consortium, pid: int) -> SentTransaction:
    """The account proposal ``pid`` names accepts the role it offers (its own transaction)."""
    return c.transact(REG, "acceptRole", pid, sender=_local(_proposal(c, pid).account))


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
    """Admit ``dep`` with the approvals of A (proposer), B and C, its first operator having
    accepted; returns the executing tx."""
    pid, _ = _propose(c, ADMIT, c.ops["A"], dep, name, operator)
    _accept_role(c, pid)
    _approve(c, pid, c.ops["B"])
    tx = _approve(c, pid, c.ops["C"])
    assert _executed(pid, ADMIT, 3, 3) in tx.events
    return tx


def _carry_with_all(c: Consortium, pid: int) -> SentTransaction:
    """Approve a proposal made by A with B and then C (3 of 3), the account it names (if it
    offers a role) having accepted; returns C's tx."""
    stored = _proposal(c, pid)
    if stored.kind in (ADMIT, GRANT_AUDITOR) and stored.role_accepted_at == 0:
        _accept_role(c, pid)
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
        role_accepted_at=0,
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
    # The first operator accepts its role (2 of 3 approvals: nothing executes yet).
    accepted = c.transact(REG, "acceptRole", pid, sender=c.spare(5))
    assert accepted.events == [("ProposalRoleAccepted", {"proposalId": pid, "account": new_op})]
    assert _proposal(c, pid).role_accepted_at == _block_time(c, accepted)

    tx_c = _approve(c, pid, c.ops["C"])
    executor = c.ops["C"].address
    assert tx_c.events == [
        _approved(pid, c.ids["C"], executor, 3, 3),
        _executed(pid, ADMIT, 3, 3),
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
        _executed(pid, SUSPEND, 2, 2),
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
        c.transact(REG, "nominateOperator", c.spare(8).address, sender=op_c)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        c.transact(REG, "removeOperator", op_c.address, sender=op_c)
    with reverts("DepartmentRegistryDepartmentNotActive", **not_active):
        c.transact(
            "DatasetRegistry", "registerDataset", code_hash("DS-C"), b"\x22" * 32, sender=op_c
        )
    # Control: an active department's operator can register a dataset.
    tx = c.transact(
        "DatasetRegistry", "registerDataset", code_hash("DS-B"), b"\x44" * 32, sender=c.ops["B"]
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
        _executed(pid, SUSPEND, 1, 1),
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
        _executed(pid, READMIT, 2, 2),
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
        "DatasetRegistry", "registerDataset", code_hash("DS-C"), b"\x66" * 32, sender=c.ops["C"]
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
        _executed(pid, GRANT_AUDITOR, 3, 3),
        ("AuditorGranted", {"account": new_auditor.address, "proposalId": pid}),
    ]
    assert c.call(REG, "isAuditor", new_auditor.address) is True
    assert c.call(REG, "departmentOf", new_auditor.address) == ZERO_ID
    # The role is kept apart from operators.
    with reverts("DepartmentRegistryAccountIsAuditor", account=new_auditor.address):
        c.transact(REG, "nominateOperator", new_auditor.address, sender=c.ops["B"])
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
        _executed(pid, REVOKE_AUDITOR, 3, 3),
        ("AuditorRevoked", {"account": auditor, "proposalId": pid}),
    ]
    assert c.call(REG, "isAuditor", auditor) is False
    # A former auditor is a free account again: it may become an operator.
    tx = c.enrol(c.ops["C"], c.auditor)
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
    _accept_role(c, pid)
    assert c.call(REG, "requiredApprovals", pid) == 3
    _suspend_c(c)
    # Two active departments now: the open admission needs only 2, and B's approval executes.
    assert c.call(REG, "requiredApprovals", pid) == 2
    tx = _approve(c, pid, c.ops["B"])
    assert tx.events[:2] == [
        _approved(pid, c.ids["B"], c.ops["B"].address, 2, 2),
        _executed(pid, ADMIT, 2, 2),
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
    c.enrol(c.ops["A"], c.spare(5))
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
    _accept_role(c, second)
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
    _accept_role(c, second)  # the operator accepted both roles; the first admission wins
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
    _accept_role(c, grant)
    # Meanwhile the account accepts B's nomination: it is one of B's operators now.
    c.enrol(c.ops["B"], c.spare(7))
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


def test_nominate_then_accept_makes_an_operator(consortium: Consortium) -> None:
    c = consortium
    new_op = c.spare(5)
    tx = c.transact(REG, "nominateOperator", new_op.address, sender=c.ops["A"])
    assert tx.events == [
        (
            "OperatorNominated",
            {
                "departmentId": c.ids["A"],
                "account": new_op.address,
                "nominatedBy": c.ops["A"].address,
            },
        ),
    ]
    assert c.call(REG, "nomination", c.ids["A"], new_op.address) == c.ops["A"].address
    # A nomination gives no role: the account is nobody's operator until it accepts.
    assert c.call(REG, "departmentOf", new_op.address) == ZERO_ID
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]
    with reverts("DepartmentRegistryNotOperator", account=new_op.address):
        _propose(c, GRANT_AUDITOR, new_op, account=c.spare(8).address)

    tx = c.transact(REG, "acceptNomination", c.ids["A"], sender=new_op)
    assert tx.events == [
        (
            "OperatorAdded",
            {"departmentId": c.ids["A"], "account": new_op.address, "addedBy": c.ops["A"].address},
        ),
    ]
    assert c.call(REG, "nomination", c.ids["A"], new_op.address) == ZERO_ADDRESS
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address, new_op.address]
    assert c.call(REG, "departmentOf", new_op.address) == c.ids["A"]
    assert c.call(REG, "requireActiveOperator", new_op.address) == c.ids["A"]
    assert _department(c, c.ids["A"]).operator_count == 2
    # The new operator acts for A.
    pid, tx2 = _propose(c, GRANT_AUDITOR, new_op, account=c.spare(8).address)
    assert tx2.event("ProposalCreated")["proposerDepartment"] == c.ids["A"]
    assert c.call(REG, "hasApproved", pid, c.ids["A"]) is True
    # And it can itself nominate operators.
    tx3 = c.enrol(new_op, c.spare(6))
    assert tx3.event("OperatorAdded")["addedBy"] == new_op.address
    assert _department(c, c.ids["A"]).operator_count == 3


def test_a_department_cannot_enrol_another_departments_nominee(consortium: Consortium) -> None:
    """The attack of issue 12: B wants X as its operator; A, hostile, used to enrol X first
    (`addOperator`), which bound X to A and so blocked B. Now A can only nominate X, X stays
    free until it accepts, and it accepts B's nomination."""
    c = consortium
    x = c.spare(5)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["B"])
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])  # the hostile move
    assert c.call(REG, "departmentOf", x.address) == ZERO_ID
    c.transact(REG, "acceptNomination", c.ids["B"], sender=x)
    assert c.call(REG, "departmentOf", x.address) == c.ids["B"]
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]
    # A's stale nomination cannot pull X over, whoever submits it.
    with reverts("DepartmentRegistryAccountIsOperator", account=x.address, departmentId=c.ids["B"]):
        c.transact(REG, "acceptNomination", c.ids["A"], sender=x)
    # Nor can A accept on X's behalf: acceptance is X's own transaction or signature.
    with reverts("DepartmentRegistryNotNominated", departmentId=c.ids["A"], account=OPS["A"]):
        c.transact(REG, "acceptNomination", c.ids["A"], sender=c.ops["A"])
    # An auditor-to-be is not blocked either: a nomination is no role.
    auditor = c.spare(6)
    c.transact(REG, "nominateOperator", auditor.address, sender=c.ops["A"])
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=auditor.address)
    _carry_with_all(c, grant)
    assert c.call(REG, "isAuditor", auditor.address) is True
    with reverts("DepartmentRegistryAccountIsAuditor", account=auditor.address):
        c.transact(REG, "acceptNomination", c.ids["A"], sender=auditor)


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
        pytest.param(
            SPARE,
            "DepartmentRegistryAlreadyNominated",
            {"departmentId": IDS["A"], "account": SPARE},
            id="already-nominated",
        ),
    ],
)
def test_nominate_operator_rejects_unavailable_account(
    consortium: Consortium, account: str, error: str, args: dict[str, Any]
) -> None:
    c = consortium
    c.transact(REG, "nominateOperator", SPARE, sender=c.ops["A"])
    with reverts(error, **args):
        c.transact(REG, "nominateOperator", account, sender=c.ops["A"])
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]


def test_operator_of_a_suspended_department_cannot_join_another(consortium: Consortium) -> None:
    c = consortium
    _suspend_c(c)
    op_c = c.ops["C"].address
    with reverts("DepartmentRegistryAccountIsOperator", account=op_c, departmentId=c.ids["C"]):
        c.transact(REG, "nominateOperator", op_c, sender=c.ops["B"])


@pytest.mark.parametrize("function", ["nominateOperator", "withdrawNomination", "removeOperator"])
def test_operator_management_requires_an_operator(consortium: Consortium, function: str) -> None:
    c = consortium
    for sender in (c.spare(9), c.auditor):
        with reverts("DepartmentRegistryNotOperator", account=sender.address):
            c.transact(REG, function, c.ops["A"].address, sender=sender)
    assert c.call(REG, "operators", c.ids["A"]) == [c.ops["A"].address]


def test_withdraw_nomination(consortium: Consortium) -> None:
    c = consortium
    x = c.spare(5)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])
    # Only the nominating department's nomination is withdrawn, by any of its operators.
    with reverts("DepartmentRegistryNotNominated", departmentId=c.ids["B"], account=x.address):
        c.transact(REG, "withdrawNomination", x.address, sender=c.ops["B"])
    tx = c.transact(REG, "withdrawNomination", x.address, sender=c.ops["A"])
    assert tx.events == [
        (
            "OperatorNominationWithdrawn",
            {"departmentId": c.ids["A"], "account": x.address, "withdrawnBy": c.ops["A"].address},
        ),
    ]
    assert c.call(REG, "nomination", c.ids["A"], x.address) == ZERO_ADDRESS
    with reverts("DepartmentRegistryNotNominated", departmentId=c.ids["A"], account=x.address):
        c.transact(REG, "acceptNomination", c.ids["A"], sender=x)
    with reverts("DepartmentRegistryNotNominated", departmentId=c.ids["A"], account=x.address):
        c.transact(REG, "withdrawNomination", x.address, sender=c.ops["A"])
    assert c.call(REG, "departmentOf", x.address) == ZERO_ID


def test_accept_nomination_refusals(consortium: Consortium) -> None:
    c = consortium
    x = c.spare(5)
    # Never nominated, or nominated by an unknown department.
    for dep in (c.ids["A"], NEW_ID, ZERO_ID):
        with reverts("DepartmentRegistryNotNominated", departmentId=dep, account=x.address):
            c.transact(REG, "acceptNomination", dep, sender=x)
    # The nominating department was suspended since.
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["C"])
    _suspend_c(c)
    with reverts(
        "DepartmentRegistryDepartmentNotActive", departmentId=c.ids["C"], status=STATUS_SUSPENDED
    ):
        c.transact(REG, "acceptNomination", c.ids["C"], sender=x)
    # Accepted once: the nomination is used up.
    c.enrol(c.ops["A"], x)
    with reverts("DepartmentRegistryNotNominated", departmentId=c.ids["A"], account=x.address):
        c.transact(REG, "acceptNomination", c.ids["A"], sender=x)
    assert _department(c, c.ids["A"]).operator_count == 2


def _operator_consent(
    c: Consortium,
    dep: bytes,
    signer: LocalAccount,
    *,
    nonce: int | None = None,
    deadline: int | None = None,
    kind: str = "AcceptOperator",
    chain_id: int | None = None,
    contract: str | None = None,
) -> tuple[int, int, bytes]:
    """(nonce, deadline, signature) of ``signer``'s consent to ``dep``'s nomination."""
    nonce = c.call(REG, "nonces", signer.address) if nonce is None else nonce
    deadline = c.now() + 3600 if deadline is None else deadline
    message = ConsentMessage(
        kind=kind,
        subject_id=dep,
        signer=signer.address,
        nonce=nonce,
        deadline=deadline,
        chain_id=c.client.chain_id if chain_id is None else chain_id,
        contract=c.client.address(REG) if contract is None else contract,
    )
    return nonce, deadline, sign_consent(message, signer.key)


def test_eip712_typehashes_and_domain_match_python_twins(consortium: Consortium) -> None:
    c = consortium
    assert c.call(REG, "acceptOperatorTypehash") == keccak(text=ACCEPT_OPERATOR_TYPE)
    assert c.call(REG, "acceptRoleTypehash") == keccak(text=ACCEPT_ROLE_TYPE)
    assert c.call(REG, "acceptOperatorTypehash") == keccak(
        text=CONSENT_TYPES["AcceptOperator"].preimage
    )
    name, version = REGISTRY_DOMAIN
    assert c.call(REG, "domainSeparator") == domain_separator(
        name, version, chain_id=c.client.chain_id, contract=c.client.address(REG)
    )
    eip712 = c.client.contract(REG).functions.eip712Domain().call()
    assert (eip712[1], eip712[2], eip712[3], eip712[4]) == (
        name,
        version,
        c.client.chain_id,
        c.client.address(REG),
    )


@pytest.mark.parametrize("nonce", [0, 1, 2**256 - 1])
def test_eip712_digests_match_python_twins(consortium: Consortium, nonce: int) -> None:
    c = consortium
    account, deadline = c.spare(5).address, 2**64 + 7
    for kind, function, subject, on_chain_subject in (
        ("AcceptOperator", "acceptOperatorDigest", c.ids["B"], c.ids["B"]),
        ("AcceptRole", "acceptRoleDigest", proposal_subject(12345), 12345),
    ):
        message = ConsentMessage(
            kind=kind,
            subject_id=subject,
            signer=account,
            nonce=nonce,
            deadline=deadline,
            chain_id=c.client.chain_id,
            contract=c.client.address(REG),
        )
        on_chain = c.call(REG, function, on_chain_subject, account, nonce, deadline)
        assert on_chain == message.digest()
        # And a wallet signing the typed data signs that very digest.
        signable = encode_typed_data(full_message=message.typed_data())
        assert keccak(b"\x19" + signable.version + signable.header + signable.body) == on_chain


def test_accept_nomination_by_sig_relayed_by_anyone(consortium: Consortium) -> None:
    c = consortium
    x = c.spare(5)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])
    nonce, deadline, signature = _operator_consent(c, c.ids["A"], x)
    assert nonce == 0
    relayer = c.spare(9)  # no role at all: anyone may relay
    tx = c.transact(
        REG,
        "acceptNominationBySig",
        c.ids["A"],
        x.address,
        nonce,
        deadline,
        signature,
        sender=relayer,
    )
    assert tx.events == [
        (
            "OperatorAdded",
            {"departmentId": c.ids["A"], "account": x.address, "addedBy": c.ops["A"].address},
        ),
    ]
    assert c.call(REG, "departmentOf", x.address) == c.ids["A"]
    assert c.call(REG, "nonces", x.address) == 1
    # Replaying the same signature: the nonce is used.
    c.transact(REG, "removeOperator", x.address, sender=c.ops["A"])
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])
    with reverts("InvalidAccountNonce", account=x.address, currentNonce=1):
        c.transact(
            REG,
            "acceptNominationBySig",
            c.ids["A"],
            x.address,
            nonce,
            deadline,
            signature,
            sender=relayer,
        )


def _relay_operator_consent(
    c: Consortium, dep: bytes, account: str, consent: tuple[int, int, bytes]
) -> SentTransaction:
    nonce, deadline, signature = consent
    return c.transact(
        REG, "acceptNominationBySig", dep, account, nonce, deadline, signature, sender=c.spare(9)
    )


def test_accept_nomination_by_sig_refuses_forged_consent(consortium: Consortium) -> None:
    c = consortium
    x, other = c.spare(5), c.spare(6)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["B"])
    forged = {
        # A's operator signs "X accepts": not X's signature.
        "wrong-signer": (c.ids["A"], _operator_consent(c, c.ids["A"], c.ops["A"])),
        # X consented to B, not to A.
        "other-department": (c.ids["A"], _operator_consent(c, c.ids["B"], x)),
        # An AcceptRole signature is no AcceptOperator one.
        "other-type": (c.ids["A"], _operator_consent(c, c.ids["A"], x, kind="AcceptRole")),
        "other-chain": (c.ids["A"], _operator_consent(c, c.ids["A"], x, chain_id=1)),
        "other-contract": (
            c.ids["A"],
            _operator_consent(c, c.ids["A"], x, contract=c.client.address("SharingAgreements")),
        ),
        "another-accounts-signature": (c.ids["A"], _operator_consent(c, c.ids["A"], other)),
    }
    for case, (dep, consent) in forged.items():
        with reverts("DepartmentRegistryInvalidSignature", signer=x.address):
            _relay_operator_consent(c, dep, x.address, consent)
        assert c.call(REG, "departmentOf", x.address) == ZERO_ID, case
    nonce, deadline, signature = _operator_consent(c, c.ids["A"], x)
    for bad in (b"", signature[:64], signature[:-1] + bytes([signature[-1] ^ 1]), b"\x00" * 65):
        with reverts("DepartmentRegistryInvalidSignature", signer=x.address):
            _relay_operator_consent(c, c.ids["A"], x.address, (nonce, deadline, bad))
    # A nonce ahead of the account's is refused too.
    with reverts("InvalidAccountNonce", account=x.address, currentNonce=0):
        _relay_operator_consent(
            c, c.ids["A"], x.address, _operator_consent(c, c.ids["A"], x, nonce=1)
        )
    assert c.call(REG, "nonces", x.address) == 0


def test_accept_nomination_by_sig_deadline(consortium: Consortium) -> None:
    c = consortium
    x = c.spare(5)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["A"])
    expired = c.now() - 1
    with reverts("DepartmentRegistrySignatureExpired", deadline=expired) as info:
        _relay_operator_consent(
            c, c.ids["A"], x.address, _operator_consent(c, c.ids["A"], x, deadline=expired)
        )
    assert info.value.error_args["currentTime"] > expired
    assert c.call(REG, "nonces", x.address) == 0
    # At the deadline itself the signature is still good (an explicit gas limit: no estimate
    # at some other time, the block is mined at `deadline`).
    deadline = c.now() + 100
    nonce, _, signature = _operator_consent(c, c.ids["A"], x, deadline=deadline)
    c.w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])  # type: ignore[arg-type]
    tx = c.client.transact(
        REG,
        "acceptNominationBySig",
        c.ids["A"],
        x.address,
        nonce,
        deadline,
        signature,
        sender=c.spare(9),
        gas=500_000,
    )
    assert _block_time(c, tx) == deadline
    assert c.call(REG, "departmentOf", x.address) == c.ids["A"]


def test_remove_operator(consortium: Consortium) -> None:
    c = consortium
    extra = c.spare(5)
    c.enrol(c.ops["A"], extra)
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
    c.enrol(c.ops["B"], extra)
    assert c.call(REG, "departmentOf", extra.address) == c.ids["B"]


def test_operator_may_remove_itself_but_not_the_last_operator(consortium: Consortium) -> None:
    c = consortium
    op_a = c.ops["A"]
    with reverts("DepartmentRegistryLastOperator", departmentId=c.ids["A"]):
        c.transact(REG, "removeOperator", op_a.address, sender=op_a)
    second = c.spare(5)
    c.enrol(op_a, second)
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
    client.transact(REG, "acceptRole", pid, sender=c.spare(8))
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
    approve it. SPARE accepted to be the first operator."""
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, SPARE)
    _accept_role(c, pid)
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
    # Meanwhile SPARE accepted A's nomination: the admission can no longer execute.
    c.enrol(c.ops["A"], c.spare(5))
    with reverts("DepartmentRegistryAccountIsOperator", account=SPARE, departmentId=c.ids["A"]):
        c.transact(REG, "execute", pid, sender=c.ops["A"])


# ------------------------------------------------------------- consent to a proposal's role


def test_an_admission_waits_for_its_first_operators_consent(consortium: Consortium) -> None:
    """A hostile majority cannot bind an account as another department's first operator: the
    admission executes only once the account accepted (here, last, which executes it)."""
    c = consortium
    operator = c.spare(5)
    pid, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, operator.address)
    _approve(c, pid, c.ops["B"])
    tx = _approve(c, pid, c.ops["C"])
    assert tx.events == [_approved(pid, c.ids["C"], c.ops["C"].address, 3, 3)]  # no execution
    assert c.call(REG, "statusOf", NEW_ID) == STATUS_NONE
    assert c.call(REG, "departmentOf", operator.address) == ZERO_ID
    with reverts(
        "DepartmentRegistryRoleNotAccepted", proposalId=pid, account=operator.address
    ) as info:
        c.transact(REG, "execute", pid, sender=c.ops["A"])
    assert set(info.value.error_args) == {"proposalId", "account"}
    tx = c.transact(REG, "acceptRole", pid, sender=operator)
    assert tx.events == [
        ("ProposalRoleAccepted", {"proposalId": pid, "account": operator.address}),
        _executed(pid, ADMIT, 3, 3),
        (
            "DepartmentAdmitted",
            {
                "departmentId": NEW_ID,
                "proposalId": pid,
                "name": NEW_NAME,
                "firstOperator": operator.address,
            },
        ),
        (
            "OperatorAdded",
            {"departmentId": NEW_ID, "account": operator.address, "addedBy": operator.address},
        ),
    ]
    assert c.call(REG, "departmentOf", operator.address) == NEW_ID
    assert _proposal(c, pid).role_accepted_at == _block_time(c, tx)


def test_a_majority_cannot_make_an_account_an_auditor_without_its_consent(
    consortium: Consortium,
) -> None:
    """An auditor can never be an operator, so granting the role to someone else's nominee
    blocked it. The grant now waits for the account, which may prefer the nomination."""
    c = consortium
    x = c.spare(5)
    c.transact(REG, "nominateOperator", x.address, sender=c.ops["B"])
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=x.address)
    _approve(c, grant, c.ops["B"])
    _approve(c, grant, c.ops["C"])
    assert c.call(REG, "isAuditor", x.address) is False
    assert _proposal(c, grant).status == PROPOSAL_OPEN
    c.transact(REG, "acceptNomination", c.ids["B"], sender=x)
    assert c.call(REG, "departmentOf", x.address) == c.ids["B"]
    with reverts("DepartmentRegistryAccountIsOperator", account=x.address, departmentId=c.ids["B"]):
        c.transact(REG, "acceptRole", grant, sender=x)
    assert c.call(REG, "isAuditor", x.address) is False


def test_a_granted_auditor_accepts_by_relayed_signature(consortium: Consortium) -> None:
    c = consortium
    auditor = c.spare(5)
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=auditor.address)
    _approve(c, grant, c.ops["B"])
    subject = proposal_subject(grant)
    nonce, deadline, signature = _operator_consent(c, subject, auditor, kind="AcceptRole")
    tx = c.transact(
        REG,
        "acceptRoleBySig",
        grant,
        auditor.address,
        nonce,
        deadline,
        signature,
        sender=c.spare(9),
    )
    assert tx.events == [
        ("ProposalRoleAccepted", {"proposalId": grant, "account": auditor.address})
    ]
    assert c.call(REG, "nonces", auditor.address) == 1
    tx = _approve(c, grant, c.ops["C"])
    assert _executed(grant, GRANT_AUDITOR, 3, 3) in tx.events
    assert c.call(REG, "isAuditor", auditor.address) is True
    # The consent was for this proposal: replayed, it is refused.
    with reverts("InvalidAccountNonce", account=auditor.address, currentNonce=1):
        c.transact(
            REG,
            "acceptRoleBySig",
            grant,
            auditor.address,
            nonce,
            deadline,
            signature,
            sender=c.spare(9),
        )


def test_accept_role_by_sig_refuses_forged_consent(consortium: Consortium) -> None:
    c = consortium
    auditor = c.spare(5)
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=auditor.address)
    other, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(6).address)
    forged = {
        "signed-by-a-department": _operator_consent(
            c, proposal_subject(grant), c.ops["A"], kind="AcceptRole"
        ),
        "other-proposal": _operator_consent(c, proposal_subject(other), auditor, kind="AcceptRole"),
        "other-type": _operator_consent(c, proposal_subject(grant), auditor),
    }
    for case, (nonce, deadline, signature) in forged.items():
        with reverts("DepartmentRegistryInvalidSignature", signer=auditor.address):
            c.transact(
                REG,
                "acceptRoleBySig",
                grant,
                auditor.address,
                nonce,
                deadline,
                signature,
                sender=c.spare(9),
            )
        assert _proposal(c, grant).role_accepted_at == 0, case
    expired = c.now() - 1
    nonce, _, signature = _operator_consent(
        c, proposal_subject(grant), auditor, kind="AcceptRole", deadline=expired
    )
    with reverts("DepartmentRegistrySignatureExpired", deadline=expired):
        c.transact(
            REG,
            "acceptRoleBySig",
            grant,
            auditor.address,
            nonce,
            expired,
            signature,
            sender=c.spare(9),
        )


def test_accept_role_refusals(consortium: Consortium) -> None:
    c = consortium
    x, y = c.spare(5), c.spare(6)
    admit, _ = _propose(c, ADMIT, c.ops["A"], NEW_ID, NEW_NAME, x.address)
    # Someone else than the named account.
    for sender in (y, c.ops["A"]):
        with reverts("DepartmentRegistryNotRoleAccount", proposalId=admit, account=sender.address):
            c.transact(REG, "acceptRole", admit, sender=sender)
    # A proposal that offers no role (suspension, readmission, revocation).
    suspend, _ = _propose(c, SUSPEND, c.ops["A"], c.ids["C"])
    revoke, _ = _propose(c, REVOKE_AUDITOR, c.ops["A"], account=c.auditor.address)
    for pid, sender in ((suspend, x), (revoke, c.auditor)):
        with reverts("DepartmentRegistryNotRoleAccount", proposalId=pid, account=sender.address):
            c.transact(REG, "acceptRole", pid, sender=sender)
    # Accepted twice.
    c.transact(REG, "acceptRole", admit, sender=x)
    with reverts("DepartmentRegistryRoleAlreadyAccepted", proposalId=admit, account=x.address):
        c.transact(REG, "acceptRole", admit, sender=x)
    # An account that is an operator (or an auditor) cannot accept another role.
    grant, _ = _propose(c, GRANT_AUDITOR, c.ops["A"], account=y.address)
    c.enrol(c.ops["B"], y)
    with reverts("DepartmentRegistryAccountIsOperator", account=y.address, departmentId=c.ids["B"]):
        c.transact(REG, "acceptRole", grant, sender=y)
    # Unknown, executed and expired proposals.
    with reverts("DepartmentRegistryUnknownProposal", proposalId=99):
        c.transact(REG, "acceptRole", 99, sender=x)
    _approve(c, admit, c.ops["B"])
    _approve(c, admit, c.ops["C"])  # executes: x accepted
    with reverts("DepartmentRegistryProposalExecuted", proposalId=admit):
        c.transact(REG, "acceptRole", admit, sender=x)
    late, tx = _propose(c, GRANT_AUDITOR, c.ops["A"], account=c.spare(7).address)
    expires = tx.event("ProposalCreated")["expiresAt"]
    c.advance(PROPOSAL_LIFETIME + 1)
    with reverts("DepartmentRegistryProposalExpired", proposalId=late, expiresAt=expires):
        c.transact(REG, "acceptRole", late, sender=c.spare(7))


# ------------------------------------------------------ only active departments' votes count


def _registry_of(c: Consortium, n: int) -> tuple[ChainClient, list[LocalAccount], list[bytes]]:
    """A fresh registry of ``n`` founders (dev accounts 5..5+n-1) at the test threshold."""
    ops = [dev_account(5 + i) for i in range(n)]
    ids = [department_id(f"VOTE-{n}-{i}") for i in range(n)]
    founders = [(d, f"部门{i}", o.address) for i, (d, o) in enumerate(zip(ids, ops, strict=True))]
    client, _ = _deploy(c, founders, [])
    return client, ops, ids


def _events(tx: SentTransaction, name: str) -> list[dict[str, Any]]:
    return [args for event, args in tx.events if event == name]


@pytest.mark.parametrize("n", [3, 4, 7, 8])
def test_a_suspended_departments_approval_no_longer_counts(consortium: Consortium, n: int) -> None:
    """Issue 12 (3b): approvals of departments suspended after approving used to count (seen:
    admitted with 4 of 7 active approvals where 5 were required, the n = 8 case). A vote is
    under way; one of its approvers is suspended in the middle of it; from then on its approval
    is not counted, at each approval, at `execute` and in the views."""
    c = consortium
    client, ops, ids = _registry_of(c, n)
    auditor = dev_account(5 + n)
    grant_tx = client.transact(
        REG, "propose", GRANT_AUDITOR, ZERO_ID, "", auditor.address, sender=ops[0]
    )
    grant = grant_tx.event("ProposalCreated")["proposalId"]
    client.transact(REG, "acceptRole", grant, sender=auditor)
    # Approvals up to one short of the threshold of n: departments 0 .. k-1.
    k = approvals_for(n) - 1
    for i in range(1, k):
        client.transact(REG, "approve", grant, sender=ops[i])
    assert Proposal(*client.call(REG, "proposal", grant)).approvals == k
    # Department k-1, an approver, is suspended by the others (the target cannot vote).
    target = k - 1
    voters = [i for i in range(n) if i != target][: approvals_for(n - 1)]
    tx = client.transact(
        REG, "propose", SUSPEND, ids[target], "", ZERO_ADDRESS, sender=ops[voters[0]]
    )
    suspension = tx.event("ProposalCreated")["proposalId"]
    for i in voters[1:]:
        tx = client.transact(REG, "approve", suspension, sender=ops[i])
    assert client.call(REG, "statusOf", ids[target]) == STATUS_SUSPENDED
    # The grant's views: k approvers on record, k - 1 of them count.
    required = approvals_for(n - 1)
    assert client.call(REG, "approvers", grant) == ids[:k]
    assert client.call(REG, "hasApproved", grant, ids[target]) is True
    assert Proposal(*client.call(REG, "proposal", grant)).approvals == k - 1
    assert client.call(REG, "requiredApprovals", grant) == required
    if k - 1 < required:
        with reverts(
            "DepartmentRegistryThresholdNotMet",
            proposalId=grant,
            approvals=k - 1,
            required=required,
        ):
            client.transact(REG, "execute", grant, sender=ops[0])
    # The remaining active departments approve one by one; it executes exactly when the
    # active approvals reach the threshold, and every event says how many counted.
    counted = k - 1
    for i in range(k, n):
        if counted >= required:
            break
        tx = client.transact(REG, "approve", grant, sender=ops[i])
        counted += 1
        [approved] = _events(tx, "ProposalApproved")
        assert (approved["approvals"], approved["required"]) == (counted, required)
        executed = _events(tx, "ProposalExecuted")
        assert executed == (
            []
            if counted < required
            else [
                {
                    "proposalId": grant,
                    "kind": GRANT_AUDITOR,
                    "approvals": counted,
                    "required": required,
                }
            ]
        )
        assert client.call(REG, "isAuditor", auditor.address) is (counted >= required)
    if counted >= required and not client.call(REG, "isAuditor", auditor.address):
        # Met by the suspension alone (k - 1 >= required): `execute` carries it.
        tx = client.transact(REG, "execute", grant, sender=ops[0])
        assert _events(tx, "ProposalExecuted")[0]["approvals"] == k - 1
    assert client.call(REG, "isAuditor", auditor.address) is True


def test_a_readmitted_departments_approval_counts_again(consortium: Consortium) -> None:
    c = consortium
    pid, _ = _propose(c, GRANT_AUDITOR, c.ops["C"], account=c.spare(8).address)
    _accept_role(c, pid)
    _suspend_c(c)
    assert _proposal(c, pid).approvals == 0
    readmit, _ = _propose(c, READMIT, c.ops["A"], c.ids["C"])
    _approve(c, readmit, c.ops["B"])
    assert c.call(REG, "isActive", c.ids["C"]) is True
    assert _proposal(c, pid).approvals == 1
    _approve(c, pid, c.ops["A"])
    tx = _approve(c, pid, c.ops["B"])
    assert _executed(pid, GRANT_AUDITOR, 3, 3) in tx.events


def test_approvals_of_a_suspension_count_only_active_departments(consortium: Consortium) -> None:
    """Four departments: A proposes suspending D, B approves, then B is itself suspended (by
    A, C and D): the suspension of D has one active approval left, of the two it needs."""
    c = consortium
    d = c.spare(5)
    _admit(c, NEW_ID, NEW_NAME, d.address)
    against_d, _ = _propose(c, SUSPEND, c.ops["A"], NEW_ID)
    _approve(c, against_d, c.ops["B"])  # 2 of the 3 needed out of A, B, C
    against_b, _ = _propose(c, SUSPEND, c.ops["C"], c.ids["B"])
    _approve(c, against_b, c.ops["A"])
    _approve(c, against_b, d)
    assert c.call(REG, "statusOf", c.ids["B"]) == STATUS_SUSPENDED
    # Electorate of D's suspension: A and C (D excluded) -> 2; only A's approval counts.
    assert c.call(REG, "requiredApprovals", against_d) == 2
    assert _proposal(c, against_d).approvals == 1
    with reverts(
        "DepartmentRegistryThresholdNotMet", proposalId=against_d, approvals=1, required=2
    ):
        c.transact(REG, "execute", against_d, sender=c.ops["A"])
    tx = _approve(c, against_d, c.ops["C"])
    assert _executed(against_d, SUSPEND, 2, 2) in tx.events


# ------------------------------------------------------------------ hostile names (item 1)

_PROPOSE = function_signature_to_4byte_selector("propose(uint8,bytes32,string,address)")


def _admit_calldata(name: bytes) -> bytes:
    """``propose(Admit, NEW_ID, name, SPARE)`` with ``name`` as raw bytes: a ``string`` and a
    ``bytes`` share the ABI encoding, so web3's UTF-8 encoding of str is bypassed."""
    return _PROPOSE + abi_encode(
        ["uint8", "bytes32", "bytes", "address"], [ADMIT, NEW_ID, name, SPARE]
    )


def _revert_of(exc: ContractLogicError) -> ContractRevertError:
    data: Any = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    assert isinstance(data, str) and data.startswith("0x"), exc
    return decode_revert(bytes.fromhex(data[2:]))


def _call_raw(
    c: Consortium, data: bytes, sender: str, to: str | None = None
) -> ContractRevertError | None:
    """``eth_call`` of raw calldata: the decoded revert, or None when it succeeds."""
    call: dict[str, Any] = {"from": sender, "data": data}
    if to is not None or data[:4] == _PROPOSE:
        call["to"] = to or c.client.address(REG)
    try:
        c.w3.eth.call(call)  # type: ignore[arg-type]
    except ContractLogicError as exc:
        return _revert_of(exc)
    return None


def _send_raw(
    c: Consortium, data: bytes, sender: LocalAccount, *, to: str | None
) -> SentTransaction:
    """A signed transaction with raw calldata and a fixed gas limit (no estimate), mined."""
    tx: dict[str, Any] = {
        "from": sender.address,
        "data": data,
        "gas": 15_000_000,
        "chainId": c.client.chain_id,
        "nonce": c.w3.eth.get_transaction_count(sender.address, "pending"),
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "value": 0,
    }
    if to is not None:
        tx["to"] = to
    raw = bytes(sender.sign_transaction(tx).raw_transaction)  # type: ignore[arg-type]
    return c.client.send_raw(raw, call=tx)


def _problem_of(error: ContractRevertError | None) -> NameProblem | None:
    """What the contract said, as the Python twin says it."""
    if error is None:
        return None
    args = error.error_args
    return {
        "DepartmentRegistryInvalidName": lambda: NameProblem("length"),
        "DepartmentRegistryNameNotUtf8": lambda: NameProblem("not-utf8", args["offset"]),
        "DepartmentRegistryNameForbiddenCharacter": lambda: NameProblem(
            "forbidden", args["offset"], args["codePoint"]
        ),
    }[error.error_name]()


NOT_UTF8 = [
    pytest.param(b"\xff\xfe\xfd", 0, id="ff-fe-fd"),
    pytest.param(b"\xc0\x80", 0, id="overlong-nul-2-bytes"),
    pytest.param(b"\xc1\xbf", 0, id="overlong-2-bytes-c1"),
    pytest.param("杭".encode() + b"\xe0\x80\xaf", 3, id="overlong-3-bytes"),
    pytest.param(b"\xf0\x80\x80\xaf", 0, id="overlong-4-bytes"),
    pytest.param(b"ok\xed\xa0\x80", 2, id="lone-high-surrogate-ed-a0-80"),
    pytest.param(b"\xed\xbf\xbf", 0, id="lone-low-surrogate"),
    pytest.param("杭州".encode() + b"\xe5\xb7", 6, id="truncated-at-the-end"),
    pytest.param(b"\xe6\x9dA", 0, id="truncated-before-ascii"),
    pytest.param(b"\xf0\x9f\x8f", 0, id="truncated-4-bytes"),
    pytest.param(b"A\x80", 1, id="stray-continuation"),
    pytest.param(b"\xf4\x90\x80\x80", 0, id="above-u10ffff"),
    pytest.param(b"\xf5\x80\x80\x80", 0, id="f5-lead"),
    pytest.param(b"\xfe", 0, id="fe"),
]


@pytest.mark.parametrize(("name", "offset"), NOT_UTF8)
def test_admit_refuses_a_name_that_is_not_utf8(
    consortium: Consortium, name: bytes, offset: int
) -> None:
    c = consortium
    # Through a mined transaction (the revert is read back by replaying it) ...
    with reverts("DepartmentRegistryNameNotUtf8", offset=offset) as info:
        _send_raw(c, _admit_calldata(name), c.ops["A"], to=c.client.address(REG))
    assert set(info.value.error_args) == {"offset"}
    assert c.call(REG, "proposalCount") == 0
    # ... and the Python twin says the same.
    assert name_problem(name) == NameProblem("not-utf8", offset)


FORBIDDEN = [
    pytest.param("a\x00b", 1, 0x00, id="nul"),
    pytest.param("杭州\n市", 6, 0x0A, id="newline"),
    pytest.param("\r", 0, 0x0D, id="carriage-return"),
    pytest.param("a\tb", 1, 0x09, id="tab"),
    pytest.param("\x1b[31m红", 0, 0x1B, id="escape"),
    pytest.param("局\x7f", 3, 0x7F, id="del"),
    pytest.param("x\x85", 1, 0x85, id="c1-next-line"),
    pytest.param("\x9b31m", 0, 0x9B, id="c1-csi"),
    pytest.param("a\u2028", 1, 0x2028, id="line-separator"),
    pytest.param("杭\u202e局", 3, 0x202E, id="right-to-left-override"),
    pytest.param("\u202a", 0, 0x202A, id="left-to-right-embedding"),
    pytest.param("\u2066x", 0, 0x2066, id="left-to-right-isolate"),
    pytest.param("x\u2069", 1, 0x2069, id="pop-directional-isolate"),
]


@pytest.mark.parametrize(("name", "offset", "code_point"), FORBIDDEN)
def test_admit_refuses_control_and_bidi_characters(
    consortium: Consortium, name: str, offset: int, code_point: int
) -> None:
    c = consortium
    with reverts(
        "DepartmentRegistryNameForbiddenCharacter", offset=offset, codePoint=code_point
    ) as info:
        _propose(c, ADMIT, c.ops["A"], NEW_ID, name, SPARE)
    assert f"U+{code_point:04X}" in str(info.value)
    assert c.call(REG, "proposalCount") == 0
    assert name_problem(name) == NameProblem("forbidden", offset, code_point)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\u00a0\u2027\u202f\u2065\u206a", id="neighbours-of-forbidden-ranges"),
        pytest.param("\u0800\ud7ff\ue000\uffff", id="3-byte-edges"),
        pytest.param("\U00010000\U0010ffff", id="4-byte-edges"),
        pytest.param("🏛" * 64, id="256-bytes-of-4-byte-characters"),
        pytest.param("A" * 256, id="256-bytes-of-ascii"),
        pytest.param("杭" * 85 + "~", id="256-bytes-of-3-byte-characters"),
    ],
)
def test_admit_accepts_well_formed_names_up_to_the_maximum(
    consortium: Consortium, name: str
) -> None:
    c = consortium
    assert name_problem(name) is None
    tx = _admit(c, NEW_ID, name, SPARE)
    assert tx.event("DepartmentAdmitted")["name"] == name == _department(c, NEW_ID).name


def test_a_name_one_byte_too_long_is_refused_before_its_bytes_are_read(
    consortium: Consortium,
) -> None:
    c = consortium
    error = _call_raw(c, _admit_calldata(b"\xff" * 257), c.ops["A"].address)
    assert error is not None and error.error_name == "DepartmentRegistryInvalidName"
    assert error.error_args == {"length": 257, "maxLength": MAX_NAME}


def test_founders_names_are_checked_by_the_constructor(consortium: Consortium) -> None:
    c = consortium
    artifact = load_artifact(REG)
    founder_type = "(bytes32,bytes,address)[]"  # bytes in the place of the string `name`

    def deploy_data(names: list[bytes]) -> bytes:
        founders = [
            (department_id(f"RAW-{i}"), name, dev_account(5 + i).address)
            for i, name in enumerate(names)
        ]
        args = abi_encode(
            [founder_type, "address[]", "uint16", "uint64"],
            [founders, [], THRESHOLD_BPS, PROPOSAL_LIFETIME],
        )
        return bytes.fromhex(artifact.bytecode.removeprefix("0x")) + args

    with reverts("DepartmentRegistryNameNotUtf8", offset=3):
        _send_raw(
            c, deploy_data(["杭州".encode(), "杭".encode() + b"\xed\xa0\x80"]), c.deployer, to=None
        )
    with reverts("DepartmentRegistryNameForbiddenCharacter", offset=2, codePoint=0x0A):
        _send_raw(c, deploy_data([b"ok\nthen"]), c.deployer, to=None)
    # Through web3 (str names) as well.
    with reverts("DepartmentRegistryNameForbiddenCharacter", offset=0, codePoint=0x202E):
        _deploy(c, [(NEW_ID, "\u202eevil", SPARE)], [])
    # Control: the same deployment with clean names succeeds.
    assert _call_raw(c, deploy_data(["杭州".encode(), b"ok then"]), c.deployer.address) is None


#: Bytes at the edges of the UTF-8 table and of the forbidden ranges.
_INTERESTING = bytes.fromhex("000a1f20417e7f80859fa0a8aebfc0c1c2c3dfe0e1e2e9ecedeff0f1f4f5ff")


@st.composite
def _hostile_names(draw: st.DrawFn) -> bytes:
    """Raw names: random bytes, runs of edge bytes, text (surrogates included), and long
    printable or Chinese runs (which the contract scans by 32-byte words and fast paths) with
    a hostile byte or character planted somewhere."""
    kind = draw(st.sampled_from(["binary", "edges", "text", "planted"]))
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=80))
    if kind == "edges":
        return bytes(draw(st.lists(st.sampled_from(list(_INTERESTING)), min_size=1, max_size=80)))
    if kind == "text":
        text = draw(st.text(min_size=1, max_size=40))
        return text.encode("utf-8", "surrogatepass")
    run = draw(st.sampled_from(["A", "杭", "é", "🏛"])) * draw(st.integers(1, 60))
    raw = run.encode()[:255]
    planted = draw(
        st.one_of(
            st.binary(min_size=1, max_size=3),
            st.sampled_from(["\n", "\x7f", "\x85", "\u202e", "\u2069"]).map(str.encode),
        )
    )
    at = draw(st.integers(0, len(raw)))
    return (raw[:at] + planted + raw[at:])[:256]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(raw=b"\xe2\x80\xae")
@example(raw=b"\xe2\x81\xa6")
@example(raw="杭州市公安局".encode())
@example(raw=b"\xef\xbf\xbf\xf4\x8f\xbf\xbf")
@example(raw=b"A" * 31 + b"\x7f")
@example(raw=b"A" * 32 + b"\x1f")
@example(raw="杭".encode() * 85 + b"\xe6")
@given(raw=_hostile_names())
def test_the_python_twin_of_the_name_check_agrees_with_the_contract(
    consortium: Consortium, raw: bytes
) -> None:
    on_chain = _problem_of(_call_raw(consortium, _admit_calldata(raw), OPS["A"]))
    assert on_chain == name_problem(raw)


@pytest.mark.parametrize(
    ("kind", "dep", "account"),
    [
        pytest.param(SUSPEND, IDS["C"], ZERO_ADDRESS, id="suspend"),
        pytest.param(READMIT, IDS["C"], ZERO_ADDRESS, id="readmit"),
        pytest.param(GRANT_AUDITOR, ZERO_ID, SPARE, id="grant-auditor"),
        pytest.param(REVOKE_AUDITOR, ZERO_ID, AUDITOR, id="revoke-auditor"),
    ],
)
def test_only_an_admission_carries_a_name(
    consortium: Consortium, kind: int, dep: bytes, account: str
) -> None:
    """The name of any other proposal used to be stored and emitted unchecked: any bytes."""
    c = consortium
    for name, length in (("\x1b[2J", 4), ("x", 1)):
        with reverts("DepartmentRegistryUnexpectedName", kind=kind, length=length) as info:
            _propose(c, kind, c.ops["A"], dep, name, account)
        assert "Only an admission carries a name" in str(info.value)
    assert c.call(REG, "proposalCount") == 0
