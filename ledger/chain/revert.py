"""Decode revert data into the contracts' custom errors and one readable sentence each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from ..errors import ContractRevertError
from ..events import canonical_type
from .artifacts import load_artifacts
from .enums import SOLIDITY_ENUMS, label_of

__all__ = ["ERROR_MESSAGES", "decode_revert", "known_errors"]

# One sentence per custom error; `{name}` placeholders are the error's arguments, bytes32
# values shown as 0x-hex, enums by their names.
ERROR_MESSAGES: dict[str, str] = {
    # DepartmentRegistry
    "DepartmentRegistryNotOperator": "Account {account} is not an operator of any department.",
    "DepartmentRegistryDepartmentNotActive": "Department {departmentId} is {status}, not active.",
    "DepartmentRegistryUnknownDepartment": "Department {departmentId} is not a member of the consortium.",
    "DepartmentRegistryDepartmentExists": "Department {departmentId} is already a member.",
    "DepartmentRegistryZeroDepartmentId": "The department id must not be zero.",
    "DepartmentRegistryInvalidName": (
        "A department name must be 1 to {maxLength} bytes of UTF-8, not {length}."
    ),
    "DepartmentRegistryNameNotUtf8": (
        "The department name is not valid UTF-8 (an ill-formed sequence at byte {offset})."
    ),
    "DepartmentRegistryUnexpectedName": (
        "Only an admission carries a name; this {kind} proposal has one of {length} bytes."
    ),
    "DepartmentRegistryNameForbiddenCharacter": (
        "The department name holds a control or bidirectional-formatting character "
        "({codePoint}) at byte {offset}."
    ),
    "DepartmentRegistryZeroAddress": "The account must not be the zero address.",
    "DepartmentRegistryAccountIsOperator": (
        "Account {account} already operates department {departmentId}."
    ),
    "DepartmentRegistryAccountIsAuditor": (
        "Account {account} is an auditor; auditors cannot also be operators."
    ),
    "DepartmentRegistryNotOperatorOf": (
        "Account {account} is not an operator of department {departmentId}."
    ),
    "DepartmentRegistryLastOperator": (
        "Department {departmentId} cannot remove its last operator."
    ),
    "DepartmentRegistryLastActiveDepartment": (
        "Department {departmentId} is the last active department and cannot be suspended."
    ),
    "DepartmentRegistryDepartmentNotSuspended": (
        "Department {departmentId} is {status}; only a suspended department can be readmitted."
    ),
    "DepartmentRegistryNotAuditor": "Account {account} is not an auditor.",
    "DepartmentRegistryUnknownProposal": "There is no proposal {proposalId}.",
    "DepartmentRegistryProposalExecuted": "Proposal {proposalId} was already executed.",
    "DepartmentRegistryProposalExpired": "Proposal {proposalId} expired at {expiresAt}.",
    "DepartmentRegistryAlreadyApproved": (
        "Department {departmentId} already approved proposal {proposalId}."
    ),
    "DepartmentRegistryAlreadyNominated": (
        "Department {departmentId} has already nominated {account} as an operator."
    ),
    "DepartmentRegistryNotNominated": (
        "Department {departmentId} has no pending nomination of {account} as an operator."
    ),
    "DepartmentRegistryNotRoleAccount": (
        "Proposal {proposalId} offers no role to {account}: only the account an admission or "
        "an auditor grant names accepts it."
    ),
    "DepartmentRegistryRoleAlreadyAccepted": (
        "Account {account} already accepted the role proposal {proposalId} offers it."
    ),
    "DepartmentRegistryRoleNotAccepted": (
        "Proposal {proposalId} cannot execute before {account} accepts the role it offers."
    ),
    "DepartmentRegistrySignatureExpired": (
        "The signature expired at {deadline} (now {currentTime})."
    ),
    "DepartmentRegistryInvalidSignature": (
        "The signature was not made by {signer} for this contract, chain and message."
    ),
    "DepartmentRegistryOwnSuspension": (
        "Department {departmentId} cannot propose or approve its own suspension."
    ),
    "DepartmentRegistryThresholdNotMet": (
        "Proposal {proposalId} has {approvals} of the {required} approvals it needs."
    ),
    "DepartmentRegistryInvalidThreshold": (
        "The approval threshold must be between 1 and 10000 basis points, not {thresholdBps}."
    ),
    "DepartmentRegistryInvalidProposalLifetime": (
        "A proposal must stay open at least one hour, not {lifetime} seconds."
    ),
    "DepartmentRegistryNoFounders": "A consortium needs at least one founding department.",
    # DatasetRegistry
    "DatasetRegistryZeroCode": "The dataset's catalogue code hash must not be zero.",
    "DatasetRegistryDatasetExists": (
        "Dataset {datasetId} is already registered to department {ownerDepartment}."
    ),
    "DatasetRegistryUnknownDataset": "Dataset {datasetId} is not registered.",
    "DatasetRegistryNotDatasetOwner": (
        "Department {departmentId} does not own dataset {datasetId}."
    ),
    "DatasetRegistryZeroRoot": "The Merkle root must not be zero.",
    "DatasetRegistryEmptyVersion": "Version {root} has no leaves.",
    "DatasetRegistryVersionExists": (
        "Dataset {datasetId} already holds a version with root {root}."
    ),
    "DatasetRegistryTooManyParents": "A version may name at most {max} parents, not {count}.",
    "DatasetRegistryUnknownParent": "Parent version {parentVersionId} is not anchored.",
    "DatasetRegistryDuplicateParent": "Parent version {parentVersionId} is listed twice.",
    "DatasetRegistryUnknownVersion": "Dataset {datasetId} holds no version with root {root}.",
    "DatasetRegistryVersionRevoked": (
        "Version {root} of dataset {datasetId} was already revoked at {revokedAt}."
    ),
    "DatasetRegistryEmptyErasure": "Erasure {erasedRoot} must name at least one record.",
    "DatasetRegistryErasureExists": (
        "Version {root} of dataset {datasetId} already records the erasure {erasedRoot}."
    ),
    "DatasetRegistryTooManyErased": (
        "Version {root} of dataset {datasetId} has {leafCount} records; its erasures would "
        "count {erased}."
    ),
    # SharingAgreements
    "SharingAgreementsUnknownAgreement": "There is no agreement {agreementId}.",
    "SharingAgreementsInvalidStatus": "Agreement {agreementId} is {status}.",
    "SharingAgreementsNotParty": (
        "Department {departmentId} is neither the provider nor the consumer."
    ),
    "SharingAgreementsNotCounterparty": (
        "Department {departmentId} is not the counterparty of agreement {agreementId}."
    ),
    "SharingAgreementsNotProposer": (
        "Department {departmentId} did not propose agreement {agreementId}."
    ),
    "SharingAgreementsNotConsumer": (
        "Department {departmentId} is not the consumer of agreement {agreementId}."
    ),
    "SharingAgreementsSameDepartment": (
        "Provider and consumer are the same department ({departmentId})."
    ),
    "SharingAgreementsNoDatasets": "An agreement must name at least one dataset.",
    "SharingAgreementsTooManyDatasets": (
        "An agreement may name at most {max} datasets, not {count}."
    ),
    "SharingAgreementsDuplicateDataset": "Dataset {datasetId} is named twice.",
    "SharingAgreementsDatasetNotOwnedByProvider": (
        "Dataset {datasetId} is not registered to provider {provider}."
    ),
    "SharingAgreementsZeroPurpose": "The purpose must not be zero.",
    "SharingAgreementsInvalidValidity": (
        "The validity window {validFrom}–{validUntil} is empty or already over (now {currentTime})."
    ),
    "SharingAgreementsExpired": "Agreement {agreementId} expired at {validUntil}.",
    "SharingAgreementsPartiesChanged": (
        "An amendment of agreement {agreementId} cannot change the provider or the consumer."
    ),
    "SharingAgreementsSignatureExpired": (
        "The signature expired at {deadline} (now {currentTime})."
    ),
    "SharingAgreementsInvalidSignature": (
        "The signature was not made by {signer} for this contract, chain and message."
    ),
    "SharingAgreementsZeroLogRoot": "The access-log root must not be zero.",
    "SharingAgreementsZeroEntryCount": "An access receipt must count at least one entry.",
    "SharingAgreementsInvalidReceiptPeriod": (
        "The receipt period {periodStart}–{periodEnd} is inverted, in the future, or outside "
        "the agreement's effective window {effectiveFrom}–{validUntil} (it starts when the "
        "agreement was accepted, if that came after its validFrom)."
    ),
    "SharingAgreementsUnknownReceipt": "Agreement {agreementId} has no access receipt {index}.",
    # JointCommitments
    "JointCommitmentsUnknownCommitment": "There is no commitment {commitmentId}.",
    "JointCommitmentsInvalidStatus": "Commitment {commitmentId} is {status}.",
    "JointCommitmentsNotParticipant": (
        "Department {departmentId} does not participate in commitment {commitmentId}."
    ),
    "JointCommitmentsNotLead": (
        "Department {departmentId} does not lead commitment {commitmentId}."
    ),
    "JointCommitmentsAlreadySigned": (
        "Department {departmentId} already signed commitment {commitmentId}."
    ),
    "JointCommitmentsAlreadyDone": (
        "Department {departmentId} already reported its duty in {commitmentId} done."
    ),
    "JointCommitmentsParticipantCount": (
        "A joint commitment needs {min} to {max} participants, not {count}."
    ),
    "JointCommitmentsLengthMismatch": (
        "{participants} participants but {dutyHashes} duty hashes were given."
    ),
    "JointCommitmentsDuplicateParticipant": "Department {departmentId} is listed twice.",
    "JointCommitmentsLeadNotParticipant": (
        "The lead department {lead} must be among the participants."
    ),
    "JointCommitmentsZeroDutyHash": "The duty hash of department {departmentId} is zero.",
    "JointCommitmentsZeroMatterRef": "The matter reference must not be zero.",
    "JointCommitmentsZeroEvidence": "The evidence hash must not be zero.",
    "JointCommitmentsDeadlineInPast": "The deadline {deadline} is not in the future (now {currentTime}).",
    "JointCommitmentsDeadlinePassed": (
        "Commitment {commitmentId} passed its deadline {deadline} before everyone signed."
    ),
    "JointCommitmentsParticipantsNotDone": (
        "{remaining} participants of commitment {commitmentId} have not reported their duty done."
    ),
    "JointCommitmentsSignatureExpired": "The signature expired at {deadline} (now {currentTime}).",
    "JointCommitmentsInvalidSignature": (
        "The signature was not made by {signer} for this contract, chain and message."
    ),
    # OpenZeppelin
    "InvalidAccountNonce": (
        "Nonce mismatch for {account}: the next valid nonce is {currentNonce} "
        "(the signature was already used or is out of order)."
    ),
    "StringTooLong": "The string {str} is too long for an EIP-712 domain field.",
    "InvalidShortString": "An EIP-712 domain field is not a valid short string.",
}

_PANICS = {
    0x01: "an assertion failed",
    0x11: "an arithmetic overflow or underflow",
    0x12: "a division by zero",
    0x21: "an invalid enum value",
    0x32: "an array index out of bounds",
    0x41: "out of memory",
}


@dataclass(frozen=True)
class ErrorSpec:
    """A custom error's ABI: name, argument names, types and enum types (by position)."""

    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]
    enum_types: tuple[str | None, ...]


@cache
def known_errors() -> dict[bytes, ErrorSpec]:
    """Every custom error of every deployed contract, by 4-byte selector."""
    specs: dict[bytes, ErrorSpec] = {}
    for artifact in load_artifacts().values():
        for item in artifact.abi:
            if item.get("type") != "error":
                continue
            types = tuple(canonical_type(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            enums = tuple(
                str(i["internalType"]).removeprefix("enum ").split(".")[-1]
                if str(i.get("internalType", "")).startswith("enum ")
                else None
                for i in item["inputs"]
            )
            specs[selector] = ErrorSpec(
                name=item["name"],
                arg_names=tuple(str(i["name"]) for i in item["inputs"]),
                arg_types=types,
                enum_types=enums,
            )
    specs[function_signature_to_4byte_selector("Error(string)")] = ErrorSpec(
        "Error", ("reason",), ("string",), (None,)
    )
    specs[function_signature_to_4byte_selector("Panic(uint256)")] = ErrorSpec(
        "Panic", ("code",), ("uint256",), (None,)
    )
    return specs


#: Error arguments that are times (Unix seconds): shown as UTC date-times in messages (the
#: error's ``args`` keep the numbers).
TIME_ARGUMENTS = frozenset(
    {
        "currentTime",
        "deadline",
        "effectiveFrom",
        "expiresAt",
        "periodEnd",
        "periodStart",
        "revokedAt",
        "validFrom",
        "validUntil",
    }
)


def _moment(seconds: int) -> str:
    """A Unix time as people read it: ``2027-12-01T00:00:00Z`` (UTC), with the seconds kept
    when out of range for a date."""
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return str(seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _display(value: Any, abi_type: str, enum_type: str | None, name: str = "") -> str:
    if name == "codePoint" and isinstance(value, int):
        return f"U+{value:04X}"
    if name in TIME_ARGUMENTS and isinstance(value, int) and not isinstance(value, bool):
        return _moment(value)
    if enum_type is not None and enum_type in SOLIDITY_ENUMS:
        return label_of(SOLIDITY_ENUMS[enum_type], value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if abi_type == "address":
        return to_checksum_address(value)
    return str(value)


def _normalize(value: Any, abi_type: str) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if abi_type == "address":
        return to_checksum_address(value)
    return value


def decode_revert(data: bytes) -> ContractRevertError:
    """Turn revert data into a :class:`ContractRevertError` with a readable message."""
    if len(data) < 4:
        return ContractRevertError(
            "The contract rejected the call without giving a reason.", error_name="Unknown", args={}
        )
    spec = known_errors().get(data[:4])
    if spec is None:
        return ContractRevertError(
            f"The contract rejected the call with an unknown error 0x{data[:4].hex()}.",
            error_name="Unknown",
            args={"data": "0x" + data.hex()},
        )
    try:
        values = decode(list(spec.arg_types), data[4:])
    except DecodingError:
        return ContractRevertError(
            f"The contract rejected the call with a malformed {spec.name} error.",
            error_name=spec.name,
            args={},
        )
    args = {
        name: _normalize(value, abi_type)
        for name, value, abi_type in zip(spec.arg_names, values, spec.arg_types, strict=True)
    }
    if spec.name == "Error":
        message = f"The contract rejected the call: {values[0]}"
    elif spec.name == "Panic":
        message = f"The contract hit {_PANICS.get(values[0], f'panic code {values[0]:#x}')}."
    else:
        template = ERROR_MESSAGES.get(spec.name)
        shown = {
            name: _display(value, abi_type, enum_type, name)
            for name, value, abi_type, enum_type in zip(
                spec.arg_names, values, spec.arg_types, spec.enum_types, strict=True
            )
        }
        if template is None:
            message = (
                f"The contract rejected the call with {spec.name}({', '.join(shown.values())})."
            )
        else:
            message = template.format(**shown)
    return ContractRevertError(message, error_name=spec.name, args=args)
