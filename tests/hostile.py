"""A hostile department on a real chain: names of any bytes sent through raw ABI calls, and the
check that the index holds exactly what the chain logged (the tests of untrusted chain data,
tests/ledger/test_untrusted_chain_data.py and tests/api/test_untrusted_chain_data.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.chain.client import ChainClient
from ledger.db.tables import ChainEvent, DepartmentRow, IndexerCheckpoint
from ledger.display import split_flags, text_flags
from ledger.errors import ContractRevertError
from ledger.events import LogDecoder, canonical_type, event_topics
from ledger.keys import dev_account

ADMIT, GRANT_AUDITOR = 0, 3  # IDepartmentRegistry.ProposalKind
ACTIVE = 1  # IDepartmentRegistry.DepartmentStatus.Active
#: The errors with which the contract refuses a name (and nothing else is accepted as a refusal).
NAME_REFUSALS = frozenset(
    {
        "DepartmentRegistryInvalidName",
        "DepartmentRegistryNameNotUtf8",
        "DepartmentRegistryNameForbiddenCharacter",
        "DepartmentRegistryUnexpectedName",  # a name on a proposal that admits nobody
    }
)
#: Names of any bytes: invalid UTF-8 (a lone surrogate and an overlong form among them), NUL,
#: a terminal escape, and the longest a contract could take from a raw call.
HOSTILE_BYTES = (
    b"\xff\xfe\xfd",
    b"\x00",
    b"\xe6\x9d\xad\x00\xe5\xb7\x9e",  # 杭\0州
    b"\xed\xa0\x80",  # U+D800, a lone surrogate, as UTF-8 would write it
    b"\xc0\xaf",  # an overlong "/"
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xe6\x9d",  # truncated
    b"\x1b[31m\xe6\x9d\xad\xe5\xb7\x9e\x1b[0m",  # an ANSI colour escape around 杭州
)
#: Text names the contract takes (it refuses controls, bidi embeddings, overrides, isolates).
ACCEPTED_HOSTILE_NAMES = (
    "杭州市公安局\u200b",  # a zero-width space: reads like a founder's name
    "\u200f杭州市民政局",  # a right-to-left mark
    "Pаypal 数据局",  # a Cyrillic а among Latin letters
    "⼈民政府办公厅",  # a Kangxi radical that passes for 人
    "杭州市\u2060卫生\ufeff健康委员会",  # word joiner, zero-width no-break space
    "\u3164",  # a blank letter (Hangul filler) and nothing else
    "杭" * 85 + "a",  # 256 bytes: the longest name
)


def fresh_account(label: str) -> LocalAccount:
    """An account no test uses, derived from ``label``."""
    return Account.from_key(keccak(text=f"xietong hostile {label}"))


def send(client: ChainClient, contract: str, data: bytes, sender: LocalAccount) -> dict[str, Any]:
    """A transaction to ``contract`` with raw calldata; waits for the receipt and returns it.

    web3 would refuse to encode a ``string`` that is not UTF-8, and would decode the events of
    the receipt (failing on such a string): neither happens here. A revert raises
    ContractRevertError, decoded.
    """
    w3 = client.w3
    tx: dict[str, Any] = {
        "from": sender.address,
        "to": client.address(contract),
        "data": "0x" + data.hex(),
        "chainId": client.chain_id,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "gasPrice": w3.eth.gas_price,
    }
    tx["gas"] = client._guard(lambda: w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
    signed = sender.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30
    )
    assert receipt["status"] == 1, receipt
    return dict(receipt)


def fund(client: ChainClient, account: str) -> None:
    """Give ``account`` some ether from the deployer (development account 0)."""
    w3, payer = client.w3, dev_account(0)
    tx = {
        "from": payer.address,
        "to": account,
        "value": 10**17,
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(payer.address, "pending"),
        "chainId": client.chain_id,
    }
    signed = payer.sign_transaction(tx)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))


def call_data(client: ChainClient, function: str, *args: Any) -> bytes:
    """The calldata of ``DepartmentRegistry.function(*args)``."""
    return HexBytes(client.contract("DepartmentRegistry").encode_abi(function, args=list(args)))


def propose_data(kind: int, department: bytes, name: bytes, account: str) -> bytes:
    """``propose(kind, department, name, account)`` with the name as raw bytes (a ``string``
    is encoded as ``bytes`` are)."""
    selector = keccak(text="propose(uint8,bytes32,string,address)")[:4]
    return selector + abi_encode(
        ["uint8", "bytes32", "bytes", "address"], [kind, department, name, account]
    )


def as_bytes(name: str | bytes) -> bytes:
    return name if isinstance(name, bytes) else name.encode("utf-8")


@dataclass
class Members:
    """The operators of the active departments, who approve admissions."""

    client: ChainClient
    operators: list[LocalAccount]
    admitted: list[bytes] = field(default_factory=list)
    serial: int = 0

    def label(self) -> str:
        """A new label for fresh accounts and ids."""
        self.serial += 1
        return f"m{self.serial}"

    def propose(
        self, kind: int, department: bytes, name: str | bytes, account: str
    ) -> tuple[int, dict[str, Any]]:
        """A proposal by the first operator, its name sent as raw bytes: (id, receipt)."""
        receipt = send(
            self.client,
            "DepartmentRegistry",
            propose_data(kind, department, as_bytes(name), account),
            self.operators[0],
        )
        created = "0x" + keccak(text=_signature(self.client, "ProposalCreated")).hex()
        for log in receipt["logs"]:
            if log["topics"] and HexBytes(log["topics"][0]).to_0x_hex() == created:
                return int(HexBytes(log["topics"][1]).hex(), 16), receipt
        raise AssertionError("no ProposalCreated in the receipt")

    def admit(self, department: bytes, name: str | bytes, label: str) -> LocalAccount:
        """Admit a department named ``name`` (any bytes), its first operator a fresh account that
        accepts the role when the contract asks for consent; it then approves later admissions.
        A name the contract refuses raises ContractRevertError."""
        operator = fresh_account(label)
        proposal, _ = self.propose(ADMIT, department, name, operator.address)
        client = self.client
        for approver in self.operators[1:]:
            if self._active(department) or self._enough(proposal):
                break
            send(client, "DepartmentRegistry", call_data(client, "approve", proposal), approver)
        if not self._active(department):  # the first operator consents to the role
            fund(client, operator.address)
            send(client, "DepartmentRegistry", call_data(client, "acceptRole", proposal), operator)
        assert self._active(department)
        fund(client, operator.address)
        self.operators.append(operator)
        self.admitted.append(department)
        return operator

    def _active(self, department: bytes) -> bool:
        return int(self.client.call("DepartmentRegistry", "statusOf", department)) == ACTIVE

    def _enough(self, proposal: int) -> bool:
        approvers = self.client.call("DepartmentRegistry", "approvers", proposal)
        required = self.client.call("DepartmentRegistry", "requiredApprovals", proposal)
        return len(approvers) >= int(required)


def _signature(client: ChainClient, event: str) -> str:
    entry = next(
        e
        for e in client.contract("DepartmentRegistry").abi
        if e.get("type") == "event" and e.get("name") == event
    )
    return f"{event}({','.join(canonical_type(dict(i)) for i in entry['inputs'])})"


def _raw_strings(client: ChainClient, name: str, data: str) -> dict[str, bytes]:
    """The ``string`` values of an event, as the bytes the log holds (eth_abi reading them as
    ``bytes``): the ground truth the index must keep."""
    contract = next(c for c in client.contracts.values() if name in set(event_topics(c).values()))
    entry = next(e for e in contract.abi if e.get("type") == "event" and e.get("name") == name)
    inputs = [dict(i) for i in entry["inputs"] if not i.get("indexed")]
    types = [canonical_type(i).replace("string", "bytes") for i in inputs]
    values = abi_decode(types, bytes.fromhex(data[2:]))
    return {
        str(i["name"]): bytes(v)
        for i, v in zip(inputs, values, strict=True)
        if canonical_type(i) == "string"
    }


def assert_index_matches_chain(client: ChainClient, deployment_block: int, engine: Engine) -> int:
    """The index holds exactly the logs of our events the chain has up to its checkpoint, in
    order, each string's bytes kept exactly (its text with no NUL and no surrogate), and each
    department row says what its admission event said. The checkpoint's block."""
    decoder = LogDecoder(client.contracts)
    with Session(engine) as session:
        checkpoint = session.get(IndexerCheckpoint, 1)
        assert checkpoint is not None
        events = session.exec(
            select(ChainEvent).order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        ).all()
        departments = {row.id: row for row in session.exec(select(DepartmentRow)).all()}
        top = checkpoint.block_number
    logs = client.request(
        "eth_getLogs",
        [
            {
                "fromBlock": hex(deployment_block),
                "toBlock": hex(top),
                "address": [c.address for c in client.contracts.values()],
            }
        ],
    )
    ours = [log for log in logs if decoder.decode(log) is not None]
    assert [(e.block_number, e.log_index, e.tx_hash) for e in events] == [
        (int(log["blockNumber"], 16), int(log["logIndex"], 16), log["transactionHash"].lower())
        for log in ours
    ]
    for event, log in zip(events, ours, strict=True):
        args = json.loads(event.args)
        for key, raw in _raw_strings(client, event.name, log["data"]).items():
            text = args[key]
            assert "\0" not in text
            text.encode("utf-8")  # no lone surrogate
            kept = bytes.fromhex(args[f"{key}_hex"][2:]) if f"{key}_hex" in args else text.encode()
            assert kept == raw, (event.name, key)
        if event.name == "DepartmentAdmitted":
            row = departments[args["departmentId"]]
            assert (row.name, row.name_hex) == (args["name"], args.get("name_hex"))
            own = text_flags(args["name"], args.get("name_hex"))
            assert [f for f in split_flags(row.name_flags) if f != "lookalike"] == own
    return top


def admit_names(members: Members, names: Sequence[str | bytes], label: str) -> list[bytes]:
    """Admit a department per name; the ids of those admitted (a name the contract refuses,
    with one of NAME_REFUSALS, is left out)."""
    admitted = []
    for index, name in enumerate(names):
        department = keccak(text=f"{label}-{index}")
        try:
            members.admit(department, name, f"{label}-{index}")
        except ContractRevertError as exc:
            if exc.error_name not in NAME_REFUSALS:
                raise
            continue
        admitted.append(department)
    return admitted
