"""Measure the gas of every write function and deployment of the Xietong contracts.

Starts its own local node (Hardhat, Anvil, or both one after the other), deploys a three-department
consortium, calls every write function of the four contracts at least once (in the cases that
matter for sizing: anchoring a root of 1 leaf, and with 0/1/2/8 parents and 10 vs 1,000,000
leaves, the first and a second erasure of records of one version, agreements with 1 and 32
datasets, ...), prints a markdown table and writes it to ``docs/GAS.md``.

Usage::

    .venv/bin/python scripts/gas_table.py [--engine hardhat|anvil] [--out docs/GAS.md]

Without ``--engine`` both engines are measured and shown side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from ledger.chain.artifacts import CONTRACT_NAMES, load_artifact
from ledger.chain.client import ChainClient, SentTransaction, connect
from ledger.chain.deploy import Founder, FoundersFile, deploy
from ledger.chain.enums import ProposalKind
from ledger.chain.node import NodeSpec, free_port, start_node, stop_node
from ledger.eip712 import ConsentMessage, sign_consent
from ledger.errors import LedgerError
from ledger.ids import code_hash, dataset_id, department_id, version_id
from ledger.keys import dev_account

ENGINES = ("hardhat", "anvil")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_ROOT / "docs" / "GAS.md"
MILLION = 1_000_000

# The measured consortium: founders (code, name, dev account index) and one auditor.
FOUNDERS = (
    ("GAS-PSB-001", "杭州市公安局", 1),
    ("GAS-CAB-002", "杭州市民政局", 2),
    ("GAS-HC-003", "杭州市卫生健康委员会", 3),
)
AUDITOR_INDEX = 4
THRESHOLD_BPS = 6667
PROPOSAL_LIFETIME = 7 * 24 * 3600
# Founder A's datasets (catalogue codes): the anchors go to the first, agreements cover 1 or 32.
DATASET_CODES = tuple(f"GAS-DS-{i:02d}" for i in range(32))
#: The row of the one-leaf anchor (a new version, no parents), quoted by the docs.
ONE_LEAF = ("DatasetRegistry", "anchor", "no parents, 1 leaf")

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20


class GasTableError(LedgerError):
    """The measured scenario did not go as expected."""

    kind = "gas-table"


def h(label: str) -> bytes:
    return keccak(text=label)


def nonzero_hash(label: str) -> bytes:
    """A 32-byte value without zero bytes, so roots of different versions cost the same calldata."""
    counter = 0
    while True:
        value = keccak(text=f"{label}/{counter}")
        if 0 not in value:
            return value
        counter += 1


def founders_file() -> FoundersFile:
    return FoundersFile(
        departments=tuple(
            Founder(code=code, name=name, operator=dev_account(index).address)
            for code, name, index in FOUNDERS
        ),
        auditors=(dev_account(AUDITOR_INDEX).address,),
        threshold_bps=THRESHOLD_BPS,
        proposal_lifetime=PROPOSAL_LIFETIME,
    )


Row = tuple[str, str, str]  # contract, function, case


@dataclass
class Measurement:
    """Gas used per (contract, function, case), in the order measured."""

    gas: dict[Row, int] = field(default_factory=dict)

    def add(self, contract: str, function: str, case: str, gas: int) -> None:
        self.gas[(contract, function, case)] = gas


class Run:
    """One engine's scenario: a deployed consortium and the gas of each call."""

    def __init__(self, w3: Web3, client: ChainClient, measurement: Measurement) -> None:
        self.w3 = w3
        self.client = client
        self.m = measurement
        self.ops = {
            key: dev_account(index) for key, (_, _, index) in zip("ABC", FOUNDERS, strict=True)
        }
        self.ids = {
            key: department_id(code) for key, (code, _, _) in zip("ABC", FOUNDERS, strict=True)
        }
        self.relayer = dev_account(9)

    def send(
        self,
        contract: str,
        function: str,
        *args: Any,
        sender: LocalAccount,
        case: str | None = None,
    ) -> SentTransaction:
        """Send a transaction; record its gas when ``case`` is given."""
        tx = self.client.transact(contract, function, *args, sender=sender)
        if case is not None:
            self.m.add(contract, function, case, tx.gas_used)
        return tx

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise GasTableError(f"the gas scenario went wrong: {what}.")

    def consent(
        self, kind: str, contract: str, subject: bytes, signer: LocalAccount
    ) -> tuple[Any, ...]:
        """(signer, nonce, deadline, signature) of an EIP-712 consent, for *BySig."""
        nonce = int(self.client.call(contract, "nonces", signer.address))
        deadline = self.now() + 3600
        message = ConsentMessage(
            kind=kind,
            subject_id=subject,
            signer=signer.address,
            nonce=nonce,
            deadline=deadline,
            chain_id=self.client.chain_id,
            contract=self.client.address(contract),
        )
        return signer.address, nonce, deadline, sign_consent(message, signer.key)

    # ------------------------------------------------------------------ DepartmentRegistry

    def department_registry(self) -> None:
        ops = self.ops
        new_dept, new_operator = department_id("GAS-NEW-004"), dev_account(5)
        auditor = dev_account(6)
        steps: list[tuple[ProposalKind, bytes, str, str, str]] = [
            # kind, department id, name, account, case
            (ProposalKind.ADMIT, new_dept, "杭州市数据资源管理局", new_operator.address, "Admit"),
            (ProposalKind.SUSPEND, new_dept, "", ZERO_ADDRESS, "Suspend"),
            (ProposalKind.READMIT, new_dept, "", ZERO_ADDRESS, "Readmit"),
            (ProposalKind.GRANT_AUDITOR, ZERO32, "", auditor.address, "GrantAuditor"),
            (ProposalKind.REVOKE_AUDITOR, ZERO32, "", auditor.address, "RevokeAuditor"),
        ]
        for kind, target, name, account, case in steps:
            tx = self.send(
                "DepartmentRegistry",
                "propose",
                kind,
                target,
                name,
                account,
                sender=ops["A"],
                case=case,
            )
            proposal = tx.event("ProposalCreated")["proposalId"]
            # The account an admission or an auditor grant names accepts its role first (by
            # its own transaction for the admission, by a relayed signature for the grant).
            if kind == ProposalKind.ADMIT:
                self.send(
                    "DepartmentRegistry", "acceptRole", proposal, sender=new_operator, case=case
                )
            elif kind == ProposalKind.GRANT_AUDITOR:
                self.send(
                    "DepartmentRegistry",
                    "acceptRoleBySig",
                    proposal,
                    *self.consent(
                        "AcceptRole", "DepartmentRegistry", proposal.to_bytes(32, "big"), auditor
                    ),
                    sender=self.relayer,
                    case=case,
                )
            # 3 or 4 active departments at 6667 bps: B's approval is the second of three,
            # C's executes the proposal.
            self.send(
                "DepartmentRegistry",
                "approve",
                proposal,
                sender=ops["B"],
                case="does not execute",
            )
            tx = self.send(
                "DepartmentRegistry", "approve", proposal, sender=ops["C"], case=f"executes {case}"
            )
            self.expect(
                any(name == "ProposalExecuted" for name, _ in tx.events),
                f"the {case} proposal did not execute on the third approval",
            )
        operator, a = dev_account(7), self.ids["A"]
        nominations: tuple[tuple[str, Any, LocalAccount, str | None], ...] = (
            ("nominateOperator", operator.address, ops["A"], ""),
            ("withdrawNomination", operator.address, ops["A"], ""),
            ("nominateOperator", operator.address, ops["A"], None),
            ("acceptNomination", a, operator, ""),
            ("removeOperator", operator.address, ops["A"], ""),
            ("nominateOperator", operator.address, ops["A"], None),
        )
        for function, arg, sender, gas_case in nominations:
            self.send("DepartmentRegistry", function, arg, sender=sender, case=gas_case)
        self.send(
            "DepartmentRegistry",
            "acceptNominationBySig",
            a,
            *self.consent("AcceptOperator", "DepartmentRegistry", a, operator),
            sender=self.relayer,
            case="",
        )

    # ------------------------------------------------------------------ DatasetRegistry

    def dataset_registry(self, codes: Sequence[str]) -> list[bytes]:
        """Founder A registers its datasets ``codes`` and anchors versions in the first; the
        dataset ids (derived from A's id and each code)."""
        a = self.ops["A"]
        datasets = [dataset_id(self.ids["A"], code) for code in codes]
        for index, code in enumerate(codes):
            tx = self.send(
                "DatasetRegistry",
                "registerDataset",
                code_hash(code),
                h(f"catalogue-{index}"),
                sender=a,
                case="" if index == 0 else None,
            )
            registered = bytes(tx.event("DatasetRegistered")["datasetId"])
            self.expect(registered == datasets[index], f"dataset {code} got another id")
        ds = datasets[0]
        roots = [nonzero_hash(f"version-{i}") for i in range(8)]
        # Parents are version ids: keccak256(abi.encode(dataset id, root)).
        versions = [version_id(ds, root) for root in roots]

        def anchor(root: bytes, leaves: int, parents: Sequence[bytes], case: str | None) -> None:
            self.send(
                "DatasetRegistry",
                "anchor",
                ds,
                root,
                leaves,
                h("version metadata"),
                list(parents),
                sender=a,
                case=case,
            )

        anchor(nonzero_hash("one-leaf"), 1, [], ONE_LEAF[2])
        anchor(roots[0], 10, [], "no parents, 10 leaves")
        anchor(roots[1], MILLION, [], "no parents, 1,000,000 leaves")
        for root in roots[2:]:
            anchor(root, MILLION, [], None)
        anchor(nonzero_hash("child-1"), MILLION, versions[:1], "1 parent, 1,000,000 leaves")
        anchor(nonzero_hash("child-2"), MILLION, versions[:2], "2 parents, 1,000,000 leaves")
        anchor(nonzero_hash("child-8"), MILLION, versions, "8 parents (max), 1,000,000 leaves")
        self.send("DatasetRegistry", "revokeVersion", ds, roots[0], h("reason"), sender=a, case="")
        # Erasures of records of one version: the first also starts the version's erased count.
        for index, (count, case) in enumerate(
            ((1, "first of a version, 1 record"), (1_000, "second of a version, 1,000 records"))
        ):
            self.send(
                "DatasetRegistry",
                "eraseRecords",
                ds,
                roots[1],
                nonzero_hash(f"erased-{index}"),
                count,
                h("erasure reason"),
                sender=a,
                case=case,
            )
        return datasets

    # ------------------------------------------------------------------ SharingAgreements

    def sharing_agreements(self, datasets: Sequence[bytes]) -> None:
        ops, ids = self.ops, self.ids
        start = self.now() - 60

        def terms(purpose: str, chosen: Sequence[bytes]) -> tuple[Any, ...]:
            return (
                ids["A"],
                ids["B"],
                list(chosen),
                h(purpose),
                h("legal basis"),
                h("terms document"),
                start,
                start + 365 * 24 * 3600,
            )

        def propose(purpose: str, chosen: Sequence[bytes], who: str, case: str | None) -> bytes:
            tx = self.send(
                "SharingAgreements", "propose", terms(purpose, chosen), sender=ops[who], case=case
            )
            return bytes(tx.event("AgreementProposed")["agreementId"])

        one = propose("purpose-1", datasets[:1], "A", "1 dataset")
        accepted = self.send("SharingAgreements", "accept", one, sender=ops["B"], case="1 dataset")
        # validFrom is a minute back; receipts start no earlier than the acceptance.
        accepted_at = int(self.w3.eth.get_block(accepted.block_number)["timestamp"])
        many = propose("purpose-32", datasets, "A", f"{len(datasets)} datasets")
        self.send(
            "SharingAgreements", "accept", many, sender=ops["B"], case=f"{len(datasets)} datasets"
        )
        self.send(
            "SharingAgreements",
            "recordAccess",
            one,
            h("access log root"),
            1_000,
            accepted_at,
            self.now(),
            sender=ops["B"],
            case="",
        )
        tx = self.send(
            "SharingAgreements",
            "amend",
            one,
            terms("purpose-1-amended", datasets[:1]),
            sender=ops["B"],
            case="1 dataset",
        )
        amendment = bytes(tx.event("AgreementProposed")["agreementId"])
        tx = self.send(
            "SharingAgreements",
            "acceptBySig",
            amendment,
            *self.consent("AcceptAgreement", "SharingAgreements", amendment, ops["A"]),
            sender=self.relayer,
            case="amendment (supersedes), 1 dataset",
        )
        self.expect(
            any(name == "AgreementSuperseded" for name, _ in tx.events),
            "the accepted amendment did not supersede the agreement",
        )
        self.send("SharingAgreements", "revoke", many, h("reason"), sender=ops["A"], case="")
        rejected = propose("purpose-3", datasets[:1], "A", None)
        self.send("SharingAgreements", "reject", rejected, h("reason"), sender=ops["B"], case="")
        withdrawn = propose("purpose-4", datasets[:1], "B", None)
        self.send("SharingAgreements", "withdraw", withdrawn, sender=ops["B"], case="")

    # ------------------------------------------------------------------ JointCommitments

    def joint_commitments(self) -> None:
        ops, ids = self.ops, self.ids
        deadline = self.now() + 30 * 24 * 3600
        members = [ids["A"], ids["B"], ids["C"]]
        duties = [h("duty-A"), h("duty-B"), h("duty-C")]
        tx = self.send(
            "JointCommitments",
            "propose",
            h("matter-1"),
            members,
            duties,
            deadline,
            sender=ops["A"],
            case="3 participants",
        )
        commitment = bytes(tx.event("CommitmentProposed")["commitmentId"])
        self.send("JointCommitments", "sign", commitment, sender=ops["B"], case="")
        tx = self.send(
            "JointCommitments",
            "signBySig",
            commitment,
            *self.consent("SignCommitment", "JointCommitments", commitment, ops["C"]),
            sender=self.relayer,
            case="last signature (activates)",
        )
        self.expect(
            any(name == "CommitmentActivated" for name, _ in tx.events),
            "the commitment did not become active after the last signature",
        )
        self.send(
            "JointCommitments",
            "reportProgress",
            commitment,
            h("evidence-A-1"),
            False,
            sender=ops["A"],
            case="progress",
        )
        for who in ("A", "B", "C"):
            self.send(
                "JointCommitments",
                "reportProgress",
                commitment,
                h(f"evidence-{who}-done"),
                True,
                sender=ops[who],
                case="done" if who == "C" else None,
            )
        self.send(
            "JointCommitments", "complete", commitment, h("closing"), sender=ops["A"], case=""
        )
        tx = self.send(
            "JointCommitments",
            "propose",
            h("matter-2"),
            members[:2],
            duties[:2],
            deadline,
            sender=ops["A"],
        )
        cancelled = bytes(tx.event("CommitmentProposed")["commitmentId"])
        self.send("JointCommitments", "cancel", cancelled, h("reason"), sender=ops["A"], case="")

    def execute_after_electorate_shrinks(self) -> None:
        """`execute`: a proposal that met the threshold once two departments were suspended.

        Runs last: it leaves only A and B active. Four departments are active here (the three
        founders and the one admitted above), so 3 approvals are needed; A and B approve an
        admission, then two suspensions shrink the electorate to 2, where 2 approvals suffice.
        """
        ops = self.ops
        tx = self.send(
            "DepartmentRegistry",
            "propose",
            ProposalKind.ADMIT,
            department_id("GAS-LATE-005"),
            "杭州市大数据发展管理局",
            dev_account(8).address,
            sender=ops["A"],
        )
        admit = tx.event("ProposalCreated")["proposalId"]
        self.send("DepartmentRegistry", "acceptRole", admit, sender=dev_account(8))
        self.send("DepartmentRegistry", "approve", admit, sender=ops["B"])
        for target, approvers in (
            (department_id("GAS-NEW-004"), ("B", "C")),
            (self.ids["C"], ("B",)),
        ):
            tx = self.send(
                "DepartmentRegistry",
                "propose",
                ProposalKind.SUSPEND,
                target,
                "",
                ZERO_ADDRESS,
                sender=ops["A"],
            )
            suspension = tx.event("ProposalCreated")["proposalId"]
            for who in approvers:
                self.send("DepartmentRegistry", "approve", suspension, sender=ops[who])
        tx = self.send(
            "DepartmentRegistry",
            "execute",
            admit,
            sender=ops["A"],
            case="after the electorate shrank",
        )
        self.expect(
            any(name == "DepartmentAdmitted" for name, _ in tx.events),
            "execute did not admit the department",
        )


def measure(engine: str, workdir: Path) -> Measurement:
    """Start a node of ``engine``, run the scenario on it, stop it."""
    state = workdir / engine
    spec = NodeSpec(engine=engine, port=free_port(), state_dir=state)  # type: ignore[arg-type]
    start_node(spec)
    try:
        w3 = connect(spec.rpc_url)
        deployment = deploy(
            w3, founders_file(), deployer=dev_account(0), manifest_path=state / "manifest.json"
        )
        measurement = Measurement()
        for name in CONTRACT_NAMES:
            receipt = w3.eth.get_transaction_receipt(deployment.transactions[name])  # type: ignore[arg-type]
            case = f"{len(FOUNDERS)} founders, 1 auditor" if name == "DepartmentRegistry" else ""
            measurement.add(name, "deployment", case, int(receipt["gasUsed"]))
        run = Run(w3, ChainClient(w3, deployment.addresses), measurement)
        run.department_registry()
        datasets = run.dataset_registry(DATASET_CODES)
        run.sharing_agreements(datasets)
        run.joint_commitments()
        run.execute_after_electorate_shrinks()
        # The largest founding list: 32 founders whose 256-byte names the constructor checks
        # byte by byte (well-formed UTF-8, no control characters), under the EIP-7825 cap.
        founders = [
            (
                department_id(f"GAS-FOUNDER-{i:02d}"),
                "部" * 85 + "X",
                Account.from_key(keccak(text=f"gas-founder-{i}")).address,
            )
            for i in range(32)
        ]
        sent = run.client.deploy(
            "DepartmentRegistry",
            founders,
            [],
            THRESHOLD_BPS,
            PROPOSAL_LIFETIME,
            sender=dev_account(0),
        )
        measurement.add(
            "DepartmentRegistry", "deployment", "32 founders, 256-byte names", sent.gas_used
        )
        return measurement
    finally:
        stop_node(spec)


def uncovered(measurements: Sequence[Measurement]) -> list[str]:
    """Write functions of the ABIs that the scenario did not call."""
    called = {(contract, function) for m in measurements for contract, function, _ in m.gas}
    missing = []
    for name in CONTRACT_NAMES:
        for item in load_artifact(name).abi:
            writes = item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
            if writes and (name, item["name"]) not in called:
                missing.append(f"{name}.{item['name']}")
    return missing


def render(engines: Sequence[str], results: dict[str, Measurement], command: str) -> str:
    compiler = load_artifact("DepartmentRegistry").compiler_version
    measured = dict.fromkeys(row for engine in engines for row in results[engine].gas)
    # Grouped by contract (deployment order), in the order measured within each contract.
    rows: list[Row] = sorted(measured, key=lambda row: CONTRACT_NAMES.index(row[0]))
    lines = [
        "# Gas used by the Xietong contracts",
        "",
        f"- Engine{'s' if len(engines) > 1 else ''}: {', '.join(engines)} "
        "(local development chain, chain id 31337)",
        f"- Compiler: solc {compiler}",
        f"- Command: `{command}`",
        "",
        "Gas used per transaction (receipt `gasUsed`, intrinsic cost included). Generated by the "
        "command above; do not edit by hand. Agreement and commitment ids derive from block "
        "timestamps, so the engines can differ by multiples of 12 gas: a zero byte of calldata "
        "costs 4 gas, a non-zero byte 16.",
        "",
    ]
    anchor_row = ("DatasetRegistry", "anchor", "no parents, 1,000,000 leaves")
    per_hash = ", ".join(
        f"{results[e].gas[anchor_row] / MILLION:.4f} gas per leaf hash on {e} "
        f"({results[e].gas[anchor_row]:,} gas for the anchor)"
        for e in engines
    )
    one_leaf = ", ".join(f"{results[e].gas[ONE_LEAF]:,} gas on {e}" for e in engines)
    lines += [
        f"Gas per hash at 1,000,000 leaves: {per_hash}.",
        "",
        f"One-leaf anchor (a new version, keyed by dataset and root; no parents): {one_leaf} "
        f'(the table\'s `{ONE_LEAF[1]}` row of case "{ONE_LEAF[2]}").',
        "",
    ]
    header = "| Contract | Function | Case | " + " | ".join(f"Gas ({e})" for e in engines) + " |"
    lines += [header, "|" + "---|" * 3 + "---:|" * len(engines)]
    for contract, function, case in rows:
        cells = [
            f"{results[e].gas[(contract, function, case)]:,}"
            if (contract, function, case) in results[e].gas
            else "–"
            for e in engines
        ]
        lines.append(f"| {contract} | {function} | {case} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, *, echo: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=ENGINES, help="measure one engine (default: both)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    args = parser.parse_args(argv)
    engines = (args.engine,) if args.engine else ENGINES
    given = list(sys.argv[1:] if argv is None else argv)
    command = " ".join([".venv/bin/python scripts/gas_table.py", *given])
    try:
        with tempfile.TemporaryDirectory(prefix="xietong-gas-") as tmp:
            results = {engine: measure(engine, Path(tmp)) for engine in engines}
        missing = uncovered(list(results.values()))
        if missing:
            raise GasTableError(f"the scenario does not call {', '.join(missing)}.")
        table = render(engines, results, command)
    except LedgerError as exc:
        print(f"gas_table: {exc}", file=sys.stderr)
        return 1
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
    except OSError as exc:
        print(f"gas_table: cannot write {args.out} ({exc.strerror}).", file=sys.stderr)
        return 1
    echo(table)
    echo(f"Written to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
