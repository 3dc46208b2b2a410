"""On-chain reads of departments, agreements, commitments and dataset versions, by field name.

web3 returns a struct as a plain tuple; :func:`call_named` names every value after the
function's ABI outputs (struct fields by their ``components`` names, recursively), so a read
says ``agreement["terms"]["validUntil"]``, never ``a[0][7]``. The ``read_*`` functions turn
those into typed records. Reverts (an unknown id) raise
:class:`~ledger.errors.ContractRevertError`, as every call of :class:`ChainClient` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from ..display import decode_text, raw_hex, text_flags
from ..errors import ChainError, ContractRevertError
from ..ids import AgreementTerms
from ..lifecycle import agreement_status, effective_from
from .client import ChainClient
from .enums import AgreementStatus, CommitmentStatus, DepartmentStatus

__all__ = [
    "AgreementRecord",
    "CommitmentRecord",
    "DepartmentRecord",
    "ParticipantRecord",
    "VersionRecord",
    "call_named",
    "name_outputs",
    "named_department",
    "read_agreement",
    "read_commitment",
    "read_department",
    "read_department_name",
    "read_version",
]


# --------------------------------------------------------------------------- naming


def _named(param: Mapping[str, Any], value: Any) -> Any:
    """``value`` of ABI parameter ``param``: a tuple as a dict by component name, an array
    item by item, anything else as is."""
    abi_type = str(param["type"])
    if abi_type.endswith("]"):
        item = {**param, "type": abi_type[: abi_type.rindex("[")]}
        return [_named(item, v) for v in value]
    if abi_type == "tuple":
        components: Sequence[Mapping[str, Any]] = param["components"]
        return {str(c["name"]): _named(c, v) for c, v in zip(components, value, strict=True)}
    return value


def name_outputs(abi: Sequence[Mapping[str, Any]], function: str, result: Any) -> Any:
    """Name ``result``, what web3 returns for ``function`` of a contract with ``abi``: one
    output as its named value, several as a dict by output name."""
    found = [i for i in abi if i.get("type") == "function" and i.get("name") == function]
    if len(found) != 1:
        raise ValueError(f"the ABI has {len(found)} functions called {function}")
    outputs: Sequence[Mapping[str, Any]] = found[0]["outputs"]
    if len(outputs) == 1:
        return _named(outputs[0], result)
    return {str(o["name"]): _named(o, v) for o, v in zip(outputs, result, strict=True)}


def call_named(client: ChainClient, contract: str, function: str, *args: Any) -> Any:
    """``client.call(contract, function, *args)`` with its result named (:func:`name_outputs`)."""
    result = client.call(contract, function, *args)
    return name_outputs(client.contract(contract).abi, function, result)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class DepartmentRecord:
    """``IDepartmentRegistry.Department`` as stored on chain."""

    id: bytes
    status: DepartmentStatus
    admitted_at: int
    status_changed_at: int
    operator_count: int
    name: str


@dataclass(frozen=True)
class AgreementRecord:
    """``ISharingAgreements.Agreement`` as stored on chain (zero ids where there is none)."""

    id: bytes
    terms: AgreementTerms
    status: AgreementStatus
    proposer: bytes
    supersedes: bytes
    superseded_by: bytes
    proposed_at: int
    accepted_at: int
    closed_at: int

    @property
    def effective_from(self) -> int | None:
        """When it starts to authorize: the later of ``validFrom`` and the acceptance (None
        before it is accepted); the contract's ``effectiveFrom``."""
        return effective_from(self.terms.valid_from, self.accepted_at)

    def status_at(self, now: int) -> str:
        """The status as Xietong shows it at ``now`` (:func:`ledger.lifecycle.agreement_status`:
        ``pending`` or ``expired`` for an accepted agreement outside its effective window)."""
        return agreement_status(
            self.status.label,
            valid_from=self.terms.valid_from,
            valid_until=self.terms.valid_until,
            now=now,
            accepted_at=self.accepted_at,
        )


@dataclass(frozen=True)
class ParticipantRecord:
    """``IJointCommitments.Participant``: one participant's duty and progress."""

    department_id: bytes
    duty_hash: bytes
    last_evidence_hash: bytes
    signed_at: int
    done_at: int
    report_count: int


@dataclass(frozen=True)
class CommitmentRecord:
    """``IJointCommitments.Commitment`` as stored on chain, with its participants."""

    id: bytes
    matter_ref: bytes
    lead: bytes
    deadline: int
    proposed_at: int
    activated_at: int
    closed_at: int
    status: CommitmentStatus
    participant_count: int
    signed_count: int
    done_count: int
    participants: tuple[ParticipantRecord, ...]


@dataclass(frozen=True)
class VersionRecord:
    """``IDatasetRegistry.Version``: what the registry holds for an anchored version."""

    leaf_count: int
    anchored_at: int
    block_number: int
    revoked_at: int  # 0 while not revoked


def read_version(client: ChainClient, dataset_id: bytes, root: bytes) -> VersionRecord:
    """``DatasetRegistry.version``; reverts (``DatasetRegistryUnknownVersion``) when the
    dataset holds no version of this root on this chain."""
    v = call_named(client, "DatasetRegistry", "version", dataset_id, root)
    return VersionRecord(
        leaf_count=int(v["leafCount"]),
        anchored_at=int(v["anchoredAt"]),
        block_number=int(v["blockNumber"]),
        revoked_at=int(v["revokedAt"]),
    )


def read_department(client: ChainClient, department_id: bytes) -> DepartmentRecord:
    """``DepartmentRegistry.department``; reverts for an unknown id."""
    d = call_named(client, "DepartmentRegistry", "department", department_id)
    return DepartmentRecord(
        id=bytes(d["id"]),
        status=DepartmentStatus(d["status"]),
        admitted_at=d["admittedAt"],
        status_changed_at=d["statusChangedAt"],
        operator_count=d["operatorCount"],
        name=str(d["name"]),
    )


def read_department_name(client: ChainClient, department_id: bytes) -> bytes | None:
    """The bytes of department ``department_id``'s on-chain name, whatever they are (a name
    need not be UTF-8: web3 would refuse to decode it as a ``string``); None for an unknown
    department."""
    contract = client.contract("DepartmentRegistry")
    (output,) = contract.get_function_by_name("department").abi["outputs"]
    components = output["components"]
    types = ",".join("bytes" if c["type"] == "string" else c["type"] for c in components)
    data = contract.encode_abi("department", [department_id])
    try:
        raw = client.call_data("DepartmentRegistry", data)
    except ContractRevertError:
        return None
    try:
        (values,) = abi_decode([f"({types})"], bytes(raw))
    except (DecodingError, ValueError, OverflowError) as exc:
        raise ChainError(
            f"the node's answer for department 0x{department_id.hex()} is garbled."
        ) from exc
    names = [c["name"] for c in components]
    return bytes(values[names.index("name")])


def named_department(client: ChainClient, department_id: bytes) -> dict[str, Any]:
    """A department as the chain names it: ``id``, ``name`` (any bytes decoded safely, None
    for an unknown department) and ``name_flags`` (what a reader must be warned of)."""
    raw = read_department_name(client, department_id)
    if raw is None:
        return {"id": "0x" + department_id.hex(), "name": None, "name_flags": []}
    text = decode_text(raw)
    return {
        "id": "0x" + department_id.hex(),
        "name": text,
        "name_flags": text_flags(text, raw_hex(raw, text)),
    }


def read_agreement(client: ChainClient, agreement_id: bytes) -> AgreementRecord:
    """``SharingAgreements.agreement``; reverts for an unknown id."""
    a = call_named(client, "SharingAgreements", "agreement", agreement_id)
    terms = a["terms"]
    return AgreementRecord(
        id=agreement_id,
        terms=AgreementTerms(
            provider=bytes(terms["provider"]),
            consumer=bytes(terms["consumer"]),
            dataset_ids=tuple(bytes(d) for d in terms["datasetIds"]),
            purpose=bytes(terms["purpose"]),
            legal_basis=bytes(terms["legalBasis"]),
            terms_hash=bytes(terms["termsHash"]),
            valid_from=terms["validFrom"],
            valid_until=terms["validUntil"],
        ),
        status=AgreementStatus(a["status"]),
        proposer=bytes(a["proposer"]),
        supersedes=bytes(a["supersedes"]),
        superseded_by=bytes(a["supersededBy"]),
        proposed_at=a["proposedAt"],
        accepted_at=a["acceptedAt"],
        closed_at=a["closedAt"],
    )


def read_commitment(client: ChainClient, commitment_id: bytes) -> CommitmentRecord:
    """``JointCommitments.commitment`` and ``participants``; reverts for an unknown id."""
    c = call_named(client, "JointCommitments", "commitment", commitment_id)
    participants = call_named(client, "JointCommitments", "participants", commitment_id)
    return CommitmentRecord(
        id=commitment_id,
        matter_ref=bytes(c["matterRef"]),
        lead=bytes(c["lead"]),
        deadline=c["deadline"],
        proposed_at=c["proposedAt"],
        activated_at=c["activatedAt"],
        closed_at=c["closedAt"],
        status=CommitmentStatus(c["status"]),
        participant_count=c["participantCount"],
        signed_count=c["signedCount"],
        done_count=c["doneCount"],
        participants=tuple(
            ParticipantRecord(
                department_id=bytes(p["departmentId"]),
                duty_hash=bytes(p["dutyHash"]),
                last_evidence_hash=bytes(p["lastEvidenceHash"]),
                signed_at=p["signedAt"],
                done_at=p["doneAt"],
                report_count=p["reportCount"],
            )
            for p in participants
        ),
    )
