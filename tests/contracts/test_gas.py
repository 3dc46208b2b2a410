"""Gas bounds of the contracts, on both engines (gas is deterministic, so these are exact checks).

- anchoring a one-leaf version without parents costs at most 65,000 gas;
- anchoring a version with two parents costs at most 100,000 gas;
- anchoring costs the same whatever the leaf count (only the root is stored);
- every write function, at its largest realistic size, and every deployment stays below the
  EIP-7825 per-transaction gas cap of 2**24.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.artifacts import CONTRACT_NAMES, load_artifact
from ledger.chain.client import ChainClient
from ledger.chain.deploy import Founder, FoundersFile, deploy
from ledger.chain.enums import ProposalKind
from ledger.eip712 import ConsentMessage, sign_consent
from ledger.ids import code_hash, department_id, version_id
from ledger.keys import dev_account
from tests.support import PROPOSAL_LIFETIME, THRESHOLD_BPS, Consortium, dataset_of

ANCHOR_ONE_LEAF_LIMIT = 65_000
ANCHOR_WITH_TWO_PARENTS_LIMIT = 100_000
EIP7825_CAP = 16_777_216  # 2**24
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
ADMIT, SUSPEND, GRANT_AUDITOR = ProposalKind.ADMIT, ProposalKind.SUSPEND, ProposalKind.GRANT_AUDITOR
MAX_NAME = "部" * 85 + "X"  # 256 bytes of UTF-8, the longest name allowed
assert len(MAX_NAME.encode("utf-8")) == 256


def h(label: str) -> bytes:
    return keccak(text=label)


def nonzero_hash(label: str) -> bytes:
    """A keccak-derived 32-byte value without zero bytes (so calldata costs 16 gas per byte)."""
    counter = 0
    while True:
        value = keccak(text=f"{label}/{counter}")
        if 0 not in value:
            return value
        counter += 1


def calldata_cost(data: bytes) -> int:
    """Intrinsic calldata gas: 16 per non-zero byte, 4 per zero byte."""
    return sum(16 if byte else 4 for byte in data)


def tx_input(c: Consortium, tx_hash: str) -> bytes:
    return bytes(c.w3.eth.get_transaction(tx_hash)["input"])  # type: ignore[arg-type]


def anchor(
    c: Consortium,
    dataset: bytes,
    root: bytes,
    *,
    leaf_count: int = 10,
    parents: Sequence[bytes] = (),
    who: str = "A",
) -> Any:
    return c.transact(
        "DatasetRegistry",
        "anchor",
        dataset,
        root,
        leaf_count,
        h("metadata"),
        list(parents),
        sender=c.ops[who],
    )


# ================================================================== anchoring


def test_anchor_of_one_leaf_without_parents_costs_at_most_65k_gas(consortium: Consortium) -> None:
    c = consortium
    ds = c.register_dataset("A", "GAS-DS-0", h("meta"))
    tx = anchor(c, ds, nonzero_hash("one-leaf root"), leaf_count=1)
    assert tx.event("VersionAnchored")["leafCount"] == 1
    assert c.call("DatasetRegistry", "version", ds, nonzero_hash("one-leaf root"))[0] == 1
    assert 21_000 < tx.gas_used <= ANCHOR_ONE_LEAF_LIMIT, tx.gas_used


def test_anchor_with_two_parents_costs_at_most_100k_gas(consortium: Consortium) -> None:
    c = consortium
    ds = c.register_dataset("A", "GAS-DS-1", h("meta"))
    anchor(c, ds, h("parent-1"))
    anchor(c, ds, h("parent-2"))
    parents = [version_id(ds, h("parent-1")), version_id(ds, h("parent-2"))]
    tx = anchor(c, ds, h("child"), leaf_count=1_000_000, parents=parents)
    assert list(tx.event("VersionAnchored")["parents"]) == parents
    assert 21_000 < tx.gas_used <= ANCHOR_WITH_TWO_PARENTS_LIMIT, tx.gas_used


def test_anchor_gas_does_not_depend_on_leaf_count(consortium: Consortium) -> None:
    c = consortium
    ds = c.register_dataset("A", "GAS-DS-2", h("meta"))
    small = anchor(c, ds, nonzero_hash("root-small"), leaf_count=10)
    large = anchor(c, ds, nonzero_hash("root-large"), leaf_count=1_000_000)
    assert c.call("DatasetRegistry", "version", ds, nonzero_hash("root-large"))[0] == 1_000_000
    assert c.call("DatasetRegistry", "version", ds, nonzero_hash("root-small"))[0] == 10
    small_input, large_input = tx_input(c, small.tx_hash), tx_input(c, large.tx_hash)
    assert len(small_input) == len(large_input)
    # 10 = 0x0a (1 non-zero byte); 1_000_000 = 0x0f4240 (3 non-zero bytes): 2 * (16 - 4) more gas.
    assert calldata_cost(large_input) - calldata_cost(small_input) == 24
    small_execution = small.gas_used - calldata_cost(small_input)
    large_execution = large.gas_used - calldata_cost(large_input)
    assert large_execution == small_execution, (small.gas_used, large.gas_used)


# ================================================================== EIP-7825 cap


def write_functions() -> set[tuple[str, str]]:
    """(contract, function) of every state-changing function and constructor in the ABIs."""
    found = set()
    for name in CONTRACT_NAMES:
        for item in load_artifact(name).abi:
            if item["type"] == "constructor":
                found.add((name, "constructor"))
            elif item["type"] == "function" and item["stateMutability"] not in ("view", "pure"):
                found.add((name, item["name"]))
    return found


class GasLog:
    """The largest gas seen per (contract, function), with the case that used it."""

    def __init__(self) -> None:
        self.max: dict[tuple[str, str], tuple[int, str]] = {}

    def add(self, contract: str, function: str, gas: int, case: str) -> None:
        key = (contract, function)
        if key not in self.max or gas > self.max[key][0]:
            self.max[key] = (gas, case)

    def send(
        self,
        c: Consortium,
        contract: str,
        function: str,
        *args: Any,
        sender: LocalAccount,
        case: str,
    ) -> Any:
        tx = c.transact(contract, function, *args, sender=sender)
        self.add(contract, function, tx.gas_used, case)
        return tx


def consent_signature(
    kind: str, subject: bytes, signer: LocalAccount, client: ChainClient, contract: str, nonce: int
) -> tuple[int, bytes]:
    deadline = 2**40
    message = ConsentMessage(
        kind=kind,
        subject_id=subject,
        signer=signer.address,
        nonce=nonce,
        deadline=deadline,
        chain_id=client.chain_id,
        contract=client.address(contract),
    )
    return deadline, sign_consent(message, signer.key)


def run_department_registry(c: Consortium, log: GasLog) -> None:
    new_operator = c.spare(10)
    tx = log.send(
        c,
        "DepartmentRegistry",
        "propose",
        ADMIT,
        department_id("GAS-NEW-DEPT"),
        MAX_NAME,
        new_operator.address,
        sender=c.ops["A"],
        case="admit, 256-byte name",
    )
    proposal = tx.event("ProposalCreated")["proposalId"]
    log.send(c, "DepartmentRegistry", "acceptRole", proposal, sender=new_operator, case="")
    # 3 active departments at 6667 bps: all three must approve.
    log.send(c, "DepartmentRegistry", "approve", proposal, sender=c.ops["B"], case="approve")
    log.send(c, "DepartmentRegistry", "approve", proposal, sender=c.ops["C"], case="executes admit")
    assert c.call("DepartmentRegistry", "isActive", department_id("GAS-NEW-DEPT")) is True
    tx = log.send(
        c,
        "DepartmentRegistry",
        "propose",
        GRANT_AUDITOR,
        ZERO32,
        "",
        c.spare(11).address,
        sender=c.ops["A"],
        case="grant auditor",
    )
    proposal = tx.event("ProposalCreated")["proposalId"]
    log.send(c, "DepartmentRegistry", "approve", proposal, sender=c.ops["B"], case="approve")
    log.send(c, "DepartmentRegistry", "approve", proposal, sender=new_operator, case="approve")
    auditor = c.spare(11)
    nonce = c.call("DepartmentRegistry", "nonces", auditor.address)
    deadline, signature = consent_signature(
        "AcceptRole",
        proposal.to_bytes(32, "big"),
        auditor,
        c.client,
        "DepartmentRegistry",
        nonce,
    )
    log.send(
        c,
        "DepartmentRegistry",
        "acceptRoleBySig",
        proposal,
        auditor.address,
        nonce,
        deadline,
        signature,
        sender=c.spare(13),
        case="executes",
    )
    assert c.call("DepartmentRegistry", "isAuditor", auditor.address) is True
    operator = c.spare(12)
    for function, args, sender in (
        ("nominateOperator", (operator.address,), c.ops["A"]),
        ("withdrawNomination", (operator.address,), c.ops["A"]),
        ("nominateOperator", (operator.address,), c.ops["A"]),
        ("acceptNomination", (c.ids["A"],), operator),
        ("removeOperator", (operator.address,), c.ops["A"]),
        ("nominateOperator", (operator.address,), c.ops["A"]),
    ):
        log.send(c, "DepartmentRegistry", function, *args, sender=sender, case="")
    nonce = c.call("DepartmentRegistry", "nonces", operator.address)
    deadline, signature = consent_signature(
        "AcceptOperator", c.ids["A"], operator, c.client, "DepartmentRegistry", nonce
    )
    log.send(
        c,
        "DepartmentRegistry",
        "acceptNominationBySig",
        c.ids["A"],
        operator.address,
        nonce,
        deadline,
        signature,
        sender=c.spare(13),
        case="",
    )


def run_dataset_registry(c: Consortium, log: GasLog, codes: Sequence[str]) -> None:
    for index, code in enumerate(codes):
        tx = log.send(
            c,
            "DatasetRegistry",
            "registerDataset",
            code_hash(code),
            h(f"m{index}"),
            sender=c.ops["A"],
            case="",
        )
        assert tx.event("DatasetRegistered")["datasetId"] == dataset_of("A", code)
    datasets = [dataset_of("A", code) for code in codes]
    roots = [nonzero_hash(f"parent-{i}") for i in range(8)]
    for root in roots:
        log.send(
            c,
            "DatasetRegistry",
            "anchor",
            datasets[0],
            root,
            10,
            h("m"),
            [],
            sender=c.ops["A"],
            case="",
        )
    child = nonzero_hash("child")
    log.send(
        c,
        "DatasetRegistry",
        "anchor",
        datasets[0],
        child,
        1_000_000,
        h("m"),
        [version_id(datasets[0], root) for root in roots],
        sender=c.ops["A"],
        case="8 parents",
    )
    log.send(
        c,
        "DatasetRegistry",
        "revokeVersion",
        datasets[0],
        child,
        h("r"),
        sender=c.ops["A"],
        case="",
    )
    # Erasures of the revoked 1,000,000-leaf version: the first, then one of 999,999 records.
    for index, count in enumerate((1, 999_999)):
        log.send(
            c,
            "DatasetRegistry",
            "eraseRecords",
            datasets[0],
            child,
            nonzero_hash(f"erased-{index}"),
            count,
            h("r"),
            sender=c.ops["A"],
            case="first" if index == 0 else "second, to the leaf count",
        )
    assert c.call("DatasetRegistry", "erasedCount", datasets[0], child) == 1_000_000


def run_sharing_agreements(c: Consortium, log: GasLog, datasets: Sequence[bytes]) -> None:
    now = c.now()

    def terms(purpose: str, ids: Sequence[bytes]) -> tuple[Any, ...]:
        return (
            c.ids["A"],
            c.ids["B"],
            list(ids),
            h(purpose),
            h("legal basis"),
            h("terms document"),
            now - 60,
            now + 365 * 24 * 3600,
        )

    tx = log.send(
        c,
        "SharingAgreements",
        "propose",
        terms("purpose-1", datasets),
        sender=c.ops["A"],
        case="32 datasets",
    )
    first = tx.event("AgreementProposed")["agreementId"]
    accepted = log.send(
        c, "SharingAgreements", "accept", first, sender=c.ops["B"], case="32 datasets"
    )
    # validFrom is a minute back, but nothing is receipted before the acceptance.
    accepted_at = int(c.w3.eth.get_block(accepted.block_number)["timestamp"])
    log.send(
        c,
        "SharingAgreements",
        "recordAccess",
        first,
        h("log root"),
        1_000,
        accepted_at,
        c.now(),
        sender=c.ops["B"],
        case="",
    )
    tx = log.send(
        c,
        "SharingAgreements",
        "amend",
        first,
        terms("purpose-2", datasets),
        sender=c.ops["B"],
        case="32 datasets",
    )
    amendment = tx.event("AgreementProposed")["agreementId"]
    nonce = c.call("SharingAgreements", "nonces", c.ops["A"].address)
    deadline, signature = consent_signature(
        "AcceptAgreement", amendment, c.ops["A"], c.client, "SharingAgreements", nonce
    )
    log.send(
        c,
        "SharingAgreements",
        "acceptBySig",
        amendment,
        c.ops["A"].address,
        nonce,
        deadline,
        signature,
        sender=c.spare(13),
        case="supersedes, 32 datasets",
    )
    assert c.call("SharingAgreements", "agreement", first)[1] == 6  # Superseded
    log.send(c, "SharingAgreements", "revoke", amendment, h("why"), sender=c.ops["A"], case="")
    tx = c.transact("SharingAgreements", "propose", terms("p3", datasets[:1]), sender=c.ops["A"])
    log.send(
        c,
        "SharingAgreements",
        "reject",
        tx.event("AgreementProposed")["agreementId"],
        h("no"),
        sender=c.ops["B"],
        case="",
    )
    tx = c.transact("SharingAgreements", "propose", terms("p4", datasets[:1]), sender=c.ops["B"])
    log.send(
        c,
        "SharingAgreements",
        "withdraw",
        tx.event("AgreementProposed")["agreementId"],
        sender=c.ops["B"],
        case="",
    )


def run_joint_commitments(c: Consortium, log: GasLog) -> None:
    deadline = c.now() + 30 * 24 * 3600
    members = [c.ids["A"], c.ids["B"], c.ids["C"]]
    duties = [h("duty-a"), h("duty-b"), h("duty-c")]
    tx = log.send(
        c,
        "JointCommitments",
        "propose",
        h("matter-1"),
        members,
        duties,
        deadline,
        sender=c.ops["A"],
        case="3 participants",
    )
    commitment = tx.event("CommitmentProposed")["commitmentId"]
    log.send(c, "JointCommitments", "sign", commitment, sender=c.ops["B"], case="")
    nonce = c.call("JointCommitments", "nonces", c.ops["C"].address)
    sig_deadline, signature = consent_signature(
        "SignCommitment", commitment, c.ops["C"], c.client, "JointCommitments", nonce
    )
    log.send(
        c,
        "JointCommitments",
        "signBySig",
        commitment,
        c.ops["C"].address,
        nonce,
        sig_deadline,
        signature,
        sender=c.spare(13),
        case="activates",
    )
    for who in ("A", "B", "C"):
        log.send(
            c,
            "JointCommitments",
            "reportProgress",
            commitment,
            h(f"evidence-{who}"),
            True,
            sender=c.ops[who],
            case="",
        )
    log.send(
        c, "JointCommitments", "complete", commitment, h("closing"), sender=c.ops["A"], case=""
    )
    tx = c.transact(
        "JointCommitments",
        "propose",
        h("matter-2"),
        members[:2],
        duties[:2],
        deadline,
        sender=c.ops["A"],
    )
    commitment = tx.event("CommitmentProposed")["commitmentId"]
    log.send(c, "JointCommitments", "cancel", commitment, h("reason"), sender=c.ops["A"], case="")


def run_large_consortium(c: Consortium, log: GasLog, manifest: Path) -> None:
    """A second deployment with 32 founders (256-byte names) and a 32-participant commitment."""
    lead = dev_account(1)
    operators = [lead.address] + [
        Account.from_key(keccak(text=f"gas-operator-{i}")).address for i in range(1, 32)
    ]
    founders = FoundersFile(
        departments=tuple(
            Founder(code=f"GAS-FOUNDER-{i:02d}", name=MAX_NAME, operator=operator)
            for i, operator in enumerate(operators)
        ),
        auditors=(dev_account(4).address,),
        threshold_bps=THRESHOLD_BPS,
        proposal_lifetime=PROPOSAL_LIFETIME,
    )
    deployment = deploy(c.w3, founders, deployer=dev_account(0), manifest_path=manifest)
    for name, tx_hash in deployment.transactions.items():
        receipt = c.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        log.add(name, "constructor", int(receipt["gasUsed"]), "32 founders")
    client = ChainClient(c.w3, deployment.addresses)
    ids = [f.department_id for f in founders.departments]
    tx = client.transact(
        "JointCommitments",
        "propose",
        h("big matter"),
        ids,
        [h(f"duty-{i}") for i in range(32)],
        c.now() + 3600,
        sender=lead,
    )
    assert len(tx.event("CommitmentProposed")["participants"]) == 32
    log.add("JointCommitments", "propose", tx.gas_used, "32 participants")


def run_execute(c: Consortium, log: GasLog) -> None:
    """`execute` after the electorate shrank (leaves only A and B active: run it last).

    Four departments are active after run_department_registry, so an admission needs 3
    approvals; A and B approve, two suspensions shrink the electorate to 2, and then the two
    approvals suffice.
    """
    tx = log.send(
        c,
        "DepartmentRegistry",
        "propose",
        ADMIT,
        department_id("GAS-LATE"),
        "后加入部门",
        c.spare(13).address,
        sender=c.ops["A"],
        case="admit",
    )
    admit = tx.event("ProposalCreated")["proposalId"]
    c.transact("DepartmentRegistry", "acceptRole", admit, sender=c.spare(13))
    log.send(c, "DepartmentRegistry", "approve", admit, sender=c.ops["B"], case="approve")
    for target, approvers in ((department_id("GAS-NEW-DEPT"), ("B", "C")), (c.ids["C"], ("B",))):
        tx = log.send(
            c,
            "DepartmentRegistry",
            "propose",
            SUSPEND,
            target,
            "",
            ZERO_ADDRESS,
            sender=c.ops["A"],
            case="suspend",
        )
        for who in approvers:
            log.send(
                c,
                "DepartmentRegistry",
                "approve",
                tx.event("ProposalCreated")["proposalId"],
                sender=c.ops[who],
                case="approve",
            )
    assert c.call("DepartmentRegistry", "activeDepartmentCount") == 2
    tx = log.send(c, "DepartmentRegistry", "execute", admit, sender=c.ops["A"], case="execute")
    assert tx.event("ProposalExecuted")["proposalId"] == admit
    assert c.call("DepartmentRegistry", "isActive", department_id("GAS-LATE")) is True


def test_every_write_function_stays_below_the_eip7825_cap(
    consortium: Consortium, tmp_path: Path
) -> None:
    c = consortium
    log = GasLog()
    for name, tx_hash in c.deployment.transactions.items():
        receipt = c.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        log.add(name, "constructor", int(receipt["gasUsed"]), "3 founders")
    codes = [f"GAS-CAP-DS-{i:02d}" for i in range(32)]
    datasets = [dataset_of("A", code) for code in codes]
    run_department_registry(c, log)
    run_dataset_registry(c, log, codes)
    run_sharing_agreements(c, log, datasets)
    run_joint_commitments(c, log)
    run_execute(c, log)
    run_large_consortium(c, log, tmp_path / "large.json")

    missing = write_functions() - set(log.max)
    assert not missing, f"write functions not exercised: {sorted(missing)}"
    over = {key: value for key, value in log.max.items() if value[0] >= EIP7825_CAP}
    assert not over, f"over the EIP-7825 cap: {over}"
    assert all(gas > 21_000 for gas, _ in log.max.values())


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(MAX_NAME, id="chinese"),
        pytest.param("A" * 256, id="ascii"),
        pytest.param("é" * 128, id="2-byte"),
        pytest.param("🏛" * 64, id="4-byte"),
        pytest.param("杭Aé🏛" * 25 + "杭" * 2, id="mixed"),
    ],
)
def test_32_founders_with_256_byte_names_of_any_script_stay_below_the_cap(
    consortium: Consortium, name: str
) -> None:
    """The constructor checks every founder's name byte by byte (UTF-8, no control
    characters): whatever the script, 32 founders with the longest names fit in a transaction."""
    assert len(name.encode("utf-8")) == 256
    c = consortium
    founders = [
        (
            department_id(f"GAS-NAME-{i:02d}"),
            name,
            Account.from_key(keccak(text=f"gas-name-{i}")).address,
        )
        for i in range(32)
    ]
    sent = c.client.deploy(
        "DepartmentRegistry", founders, [], THRESHOLD_BPS, PROPOSAL_LIFETIME, sender=c.deployer
    )
    assert 15_000_000 < sent.gas_used < EIP7825_CAP, sent.gas_used
