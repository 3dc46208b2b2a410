"""EIP-712 messages by which a department consents through another's gateway.

Pure: digests and signatures from bytes, no I/O. The type hashes and domains mirror
``SharingAgreements`` and ``JointCommitments``; tests check them against the contracts'
``acceptDigest``/``signDigest`` and ``domainSeparator`` views.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

__all__ = [
    "ACCEPT_AGREEMENT_TYPE",
    "AGREEMENTS_DOMAIN",
    "COMMITMENTS_DOMAIN",
    "SIGN_COMMITMENT_TYPE",
    "ConsentMessage",
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

#: (name, version) of each contract's EIP-712 domain.
AGREEMENTS_DOMAIN = ("Xietong SharingAgreements", "1")
COMMITMENTS_DOMAIN = ("Xietong JointCommitments", "1")

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
    """An acceptance of an agreement or a signature of a commitment, for ``signer``."""

    kind: str  # "AcceptAgreement" or "SignCommitment"
    subject_id: bytes
    signer: str
    nonce: int
    deadline: int
    chain_id: int
    contract: str

    @property
    def _type(self) -> tuple[str, str, tuple[str, str]]:
        if self.kind == "AcceptAgreement":
            return ACCEPT_AGREEMENT_TYPE, "agreementId", AGREEMENTS_DOMAIN
        if self.kind == "SignCommitment":
            return SIGN_COMMITMENT_TYPE, "commitmentId", COMMITMENTS_DOMAIN
        raise ValueError(f"unknown consent kind {self.kind!r}")

    def struct_hash(self) -> bytes:
        """hashStruct(message)."""
        type_string, _, _ = self._type
        return keccak(
            encode(
                ["bytes32", "bytes32", "address", "uint256", "uint256"],
                [
                    keccak(text=type_string),
                    self.subject_id,
                    to_checksum_address(self.signer),
                    self.nonce,
                    self.deadline,
                ],
            )
        )

    def digest(self) -> bytes:
        """The 32-byte digest the signer signs."""
        _, _, (name, version) = self._type
        separator = domain_separator(name, version, chain_id=self.chain_id, contract=self.contract)
        return keccak(b"\x19\x01" + separator + self.struct_hash())

    def typed_data(self) -> dict[str, object]:
        """The full EIP-712 typed data, as a wallet (``eth_signTypedData_v4``) would sign it."""
        _, id_field, (name, version) = self._type
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                self.kind: [
                    {"name": id_field, "type": "bytes32"},
                    {"name": "signer", "type": "address"},
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
                id_field: self.subject_id,
                "signer": to_checksum_address(self.signer),
                "nonce": self.nonce,
                "deadline": self.deadline,
            },
        }


def sign_consent(message: ConsentMessage, private_key: bytes) -> bytes:
    """Sign ``message`` as typed data; returns the 65-byte signature (r, s, v)."""
    signable = encode_typed_data(full_message=message.typed_data())
    return bytes(Account.sign_message(signable, private_key).signature)
