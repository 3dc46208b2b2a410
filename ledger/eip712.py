"""EIP-712 messages by which a department, or an account, consents through another's gateway.

Pure: digests and signatures from bytes, no I/O. The type hashes and domains mirror
``SharingAgreements``, ``JointCommitments`` and ``DepartmentRegistry``; tests check them
against the contracts' type hash, digest and ``domainSeparator`` views.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

__all__ = [
    "ACCEPT_AGREEMENT_TYPE",
    "ACCEPT_OPERATOR_TYPE",
    "ACCEPT_ROLE_TYPE",
    "AGREEMENTS_DOMAIN",
    "COMMITMENTS_DOMAIN",
    "CONSENT_TYPES",
    "REGISTRY_DOMAIN",
    "SIGN_COMMITMENT_TYPE",
    "ConsentMessage",
    "ConsentType",
    "domain_separator",
    "sign_consent",
]

#: Preimage of SharingAgreements' AcceptAgreement type hash.
ACCEPT_AGREEMENT_TYPE = (
    "AcceptAgreement(bytes32 agreementId,address signer,uint256 nonce,uint256 deadline)"
)
#: Preimage of JointCommitments' SignCommitment type hash.
SIGN_COMMITMENT_TYPE = (
    "SignCommitment(bytes32 commitmentId,address signer,uint256 nonce,uint256 deadline)"
)
#: Preimage of DepartmentRegistry's AcceptOperator type hash (an account accepts a
#: department's nomination as operator).
ACCEPT_OPERATOR_TYPE = (
    "AcceptOperator(bytes32 departmentId,address account,uint256 nonce,uint256 deadline)"
)
#: Preimage of DepartmentRegistry's AcceptRole type hash (the account a proposal names accepts
#: the role it offers: an admission's first operator, a granted auditor).
ACCEPT_ROLE_TYPE = "AcceptRole(uint256 proposalId,address account,uint256 nonce,uint256 deadline)"

#: (name, version) of each contract's EIP-712 domain.
AGREEMENTS_DOMAIN = ("Xietong SharingAgreements", "1")
COMMITMENTS_DOMAIN = ("Xietong JointCommitments", "1")
REGISTRY_DOMAIN = ("Xietong DepartmentRegistry", "1")


@dataclass(frozen=True)
class ConsentType:
    """One EIP-712 consent type: ``kind(subject_type subject_field,address signer_field,uint256
    nonce,uint256 deadline)`` in the domain of ``contract``."""

    kind: str
    subject_field: str
    subject_type: str  # "bytes32", or "uint256" for a proposal id (same 32 bytes big-endian)
    signer_field: str
    contract: str
    domain: tuple[str, str]

    @property
    def preimage(self) -> str:
        """The type string whose keccak256 is the type hash."""
        return (
            f"{self.kind}({self.subject_type} {self.subject_field},address {self.signer_field},"
            "uint256 nonce,uint256 deadline)"
        )


#: Every consent the contracts accept by signature, by kind.
CONSENT_TYPES: dict[str, ConsentType] = {
    t.kind: t
    for t in (
        ConsentType(
            "AcceptAgreement",
            "agreementId",
            "bytes32",
            "signer",
            "SharingAgreements",
            AGREEMENTS_DOMAIN,
        ),
        ConsentType(
            "SignCommitment",
            "commitmentId",
            "bytes32",
            "signer",
            "JointCommitments",
            COMMITMENTS_DOMAIN,
        ),
        ConsentType(
            "AcceptOperator",
            "departmentId",
            "bytes32",
            "account",
            "DepartmentRegistry",
            REGISTRY_DOMAIN,
        ),
        ConsentType(
            "AcceptRole", "proposalId", "uint256", "account", "DepartmentRegistry", REGISTRY_DOMAIN
        ),
    )
}

_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def domain_separator(name: str, version: str, *, chain_id: int, contract: str) -> bytes:
    """The EIP-712 domain separator of a contract."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=_DOMAIN_TYPE),
                keccak(text=name),
                keccak(text=version),
                chain_id,
                to_checksum_address(contract),
            ],
        )
    )


@dataclass(frozen=True)
class ConsentMessage:
    """A consent of ``signer`` (see :data:`CONSENT_TYPES`): an acceptance of an agreement, a
    signature of a commitment, an acceptance of an operator nomination (``subject_id`` the
    department id) or of the role a proposal offers (``subject_id`` the proposal id as 32
    big-endian bytes)."""

    kind: str  # a key of CONSENT_TYPES
    subject_id: bytes
    signer: str
    nonce: int
    deadline: int
    chain_id: int
    contract: str

    @property
    def _type(self) -> ConsentType:
        try:
            return CONSENT_TYPES[self.kind]
        except KeyError:
            raise ValueError(f"unknown consent kind {self.kind!r}") from None

    def struct_hash(self) -> bytes:
        """hashStruct(message)."""
        return keccak(
            encode(
                ["bytes32", "bytes32", "address", "uint256", "uint256"],
                [
                    keccak(text=self._type.preimage),
                    self.subject_id,
                    to_checksum_address(self.signer),
                    self.nonce,
                    self.deadline,
                ],
            )
        )

    def digest(self) -> bytes:
        """The 32-byte digest the signer signs."""
        name, version = self._type.domain
        separator = domain_separator(name, version, chain_id=self.chain_id, contract=self.contract)
        return keccak(b"\x19\x01" + separator + self.struct_hash())

    def typed_data(self) -> dict[str, object]:
        """The full EIP-712 typed data, as a wallet (``eth_signTypedData_v4``) would sign it."""
        spec = self._type
        name, version = spec.domain
        subject: bytes | int = (
            int.from_bytes(self.subject_id, "big")
            if spec.subject_type == "uint256"
            else self.subject_id
        )
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                self.kind: [
                    {"name": spec.subject_field, "type": spec.subject_type},
                    {"name": spec.signer_field, "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ],
            },
            "primaryType": self.kind,
            "domain": {
                "name": name,
                "version": version,
                "chainId": self.chain_id,
                "verifyingContract": to_checksum_address(self.contract),
            },
            "message": {
                spec.subject_field: subject,
                spec.signer_field: to_checksum_address(self.signer),
                "nonce": self.nonce,
                "deadline": self.deadline,
            },
        }


def sign_consent(message: ConsentMessage, private_key: bytes) -> bytes:
    """Sign ``message`` as typed data; returns the 65-byte signature (r, s, v)."""
    signable = encode_typed_data(full_message=message.typed_data())
    return bytes(Account.sign_message(signable, private_key).signature)
