"""Shared test helpers: the consortium under test, revert assertions, mistyped secrets, a chain
snapshot undone after a test, a fresh database."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.client import ChainClient
from ledger.chain.deploy import Deployment
from ledger.chain.enums import ProposalKind
from ledger.errors import ContractRevertError
from ledger.ids import code_hash, dataset_id, department_id
from ledger.keys import dev_account

# Founding departments of the test consortium: key -> (code, name, dev account index).
FOUNDERS = {
    "A": ("TEST-PSB-001", "杭州市公安局", 1),
    "B": ("TEST-CAB-002", "杭州市民政局", 2),
    "C": ("TEST-HC-003", "杭州市卫生健康委员会", 3),
}
AUDITOR_INDEX = 4
THRESHOLD_BPS = 6667
PROPOSAL_LIFETIME = 7 * 24 * 3600


def gateway_environment(home: Path) -> dict[str, str]:
    """This process's environment with no ``XIETONG_`` variable of its own, and ``home`` as
    the gateway's home (``XIETONG_HOME``): a command run with it finds its state there and
    nowhere else, whatever folder it runs in."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("XIETONG_")},
        "XIETONG_HOME": str(home),
    }


def interrupt(process: subprocess.Popen[bytes], *, grace: float = 20.0) -> int:
    """Stop a server process as Ctrl-C does (SIGINT), killing it after ``grace`` seconds; its
    exit status."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=10)


def reply_json(handler: BaseHTTPRequestHandler, body: bytes, *, status: int = 200) -> None:
    """Answer the request ``handler`` serves with the JSON document ``body``."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def founder_id(key: str) -> bytes:
    """The department id of founder ``key`` ("A", "B" or "C")."""
    return department_id(FOUNDERS[key][0])


def dataset_of(key: str, code: str) -> bytes:
    """The id of founder ``key``'s dataset of catalogue code ``code`` (registered or not)."""
    return dataset_id(founder_id(key), code)


@dataclass
class Consortium:
    """The deployed contracts and the accounts that play the departments.

    - ``ops["A"]``, ``ops["B"]``, ``ops["C"]``: first operators of the founders (dev 1..3)
    - ``ids[...]``: their department ids; ``names[...]``: their UTF-8 names
    - ``auditor``: dev 4; ``deployer``: dev 0; ``spare(i)``: unused dev accounts 5..19
    """

    w3: Web3
    client: ChainClient
    deployment: Deployment
    deployer: LocalAccount = field(default_factory=lambda: dev_account(0))

    @property
    def ops(self) -> dict[str, LocalAccount]:
        return {key: dev_account(index) for key, (_, _, index) in FOUNDERS.items()}

    @property
    def ids(self) -> dict[str, bytes]:
        return {key: department_id(code) for key, (code, _, _) in FOUNDERS.items()}

    @property
    def names(self) -> dict[str, str]:
        return {key: name for key, (_, name, _) in FOUNDERS.items()}

    @property
    def auditor(self) -> LocalAccount:
        return dev_account(AUDITOR_INDEX)

    @staticmethod
    def spare(index: int) -> LocalAccount:
        """An account with no role (``index`` 5..19)."""
        assert 5 <= index < 20
        return dev_account(index)

    # -- contracts
    def transact(self, contract: str, function: str, *args: Any, sender: LocalAccount) -> Any:
        return self.client.transact(contract, function, *args, sender=sender)

    def call(self, contract: str, function: str, *args: Any) -> Any:
        return self.client.call(contract, function, *args)

    def register_dataset(
        self,
        key: str,
        code: str,
        metadata: bytes = b"\x11" * 32,
        *,
        sender: LocalAccount | None = None,
    ) -> bytes:
        """Register founder ``key``'s dataset ``code`` (sent by its first operator, or by
        ``sender``); returns the dataset id of its ``DatasetRegistered`` event, which must be
        :func:`dataset_of` (the Python twin)."""
        tx = self.transact(
            "DatasetRegistry",
            "registerDataset",
            code_hash(code),
            metadata,
            sender=sender or self.ops[key],
        )
        registered = bytes(tx.event("DatasetRegistered")["datasetId"])
        assert registered == dataset_of(key, code), "computeDatasetId and ids.dataset_id differ"
        return registered

    def enrol(self, sender: LocalAccount, account: LocalAccount) -> Any:
        """Make ``account`` an operator of ``sender``'s department: ``sender`` nominates it and
        ``account`` accepts with its own transaction (returned)."""
        department = self.call("DepartmentRegistry", "departmentOf", sender.address)
        self.transact("DepartmentRegistry", "nominateOperator", account.address, sender=sender)
        return self.transact("DepartmentRegistry", "acceptNomination", department, sender=account)

    # -- time
    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Move chain time forward and mine a block."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@contextlib.contextmanager
def reverts(
    error_name: str, **expected_args: Any
) -> Iterator[pytest.ExceptionInfo[ContractRevertError]]:
    """Assert the block raises ContractRevertError ``error_name`` with (a subset of) ``expected_args``.

    bytes32 arguments are compared as 0x-hex strings; bytes values given are converted.
    """
    with pytest.raises(ContractRevertError) as info:
        yield info
    assert info.value.error_name == error_name, (
        f"expected {error_name}, got {info.value.error_name}: {info.value}"
    )
    for key, value in expected_args.items():
        if isinstance(value, bytes):
            value = "0x" + value.hex()
        assert info.value.error_args[key] == value, (
            f"{error_name}.{key}: expected {value!r}, got {info.value.error_args[key]!r}"
        )


def mistype(secret: str) -> str:
    """``secret`` with its last character replaced by a different one: never the secret itself."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


@contextlib.contextmanager
def chain_snapshot(w3: Web3) -> Iterator[None]:
    """Every change made to the chain inside the block undone afterwards (``evm_snapshot`` /
    ``evm_revert``, Hardhat and Anvil); a failed revert fails the test."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    try:
        yield
    finally:
        result = w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]
        assert result.get("result") is True, f"evm_revert failed: {result}"


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_KINDS = ("sqlite", "postgresql")


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (e.g. ``0o600``)."""
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path, *, prefix: str = "xt") -> Iterator[str]:
    """The URL of a new, empty database of ``kind`` (see ``DB_KINDS``): the SQLite file
    ``folder/xietong.db``, or a PostgreSQL database ``<prefix>_<12 hex>`` on the local server,
    dropped afterwards (even when the block fails)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'xietong.db'}"
        return
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def admit_department(
    client: ChainClient, voters: list[LocalAccount], code: str, name: str, operator: LocalAccount
) -> bytes:
    """Admit the department ``code`` named ``name`` (any text the contract accepts) with
    ``operator`` as its first operator: proposed by ``voters[0]``, the role accepted by
    ``operator``, approved by the other voters (operators of active departments) until it
    executes. Returns its id."""
    registry = "DepartmentRegistry"
    dep = department_id(code)
    proposed = client.transact(
        registry, "propose", ProposalKind.ADMIT, dep, name, operator.address, sender=voters[0]
    )
    pid = int(proposed.event("ProposalCreated")["proposalId"])
    events = [n for n, _ in client.transact(registry, "acceptRole", pid, sender=operator).events]
    for voter in voters[1:]:
        if "DepartmentAdmitted" in events:
            break
        events = [n for n, _ in client.transact(registry, "approve", pid, sender=voter).events]
    assert "DepartmentAdmitted" in events, (name, events)
    return dep
