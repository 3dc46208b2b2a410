"""Cosigned checkpoints of the chain (docs/CHECKPOINTS.md): pure, no I/O.

A checkpoint names a block of the consortium's chain: the chain (its id and genesis hash, the
``origin``), a block number and that block's hash. A department cosigns it with its operator
key over the C2SP ``tlog-cosignature`` text (``cosignature/v1``, the time, then the
checkpoint's three lines) as an EIP-191 personal message. :func:`signed_text` is that text,
:func:`cosign` makes a :class:`Cosignature`, :func:`signer_of` recovers its key, and
:func:`check_checkpoint` checks the JSON form a proof bundle or a gateway carries against the
trust file's cosigners, raising :class:`~ledger.errors.CheckpointError` with the rule's
``reason`` or returning the :class:`CosignedCheckpoint`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils import is_hex_address, to_checksum_address

from ..errors import CheckpointError
from ..trust import CheckpointTrust, ConsortiumTrust

__all__ = [
    "MAX_COSIGNATURES",
    "NO_COSIGNERS",
    "Cosignature",
    "CosignedCheckpoint",
    "check_bundle_checkpoint",
    "check_checkpoint",
    "check_cosignature",
    "check_signed",
    "cosign",
    "origin",
    "signed_text",
    "signer_of",
]

#: Most cosignatures one checkpoint carries (as many as a trust file names cosigners).
MAX_COSIGNATURES = 64
#: Integers a checkpoint holds: those every JSON reader keeps exact.
_MAX_INT = 2**53 - 1
_HASH = re.compile(r"0x[0-9a-f]{64}")
_SIGNATURE = re.compile(r"0x[0-9a-f]{130}")
#: secp256k1's order, and half of it: a signature's ``s`` is at most the half (EIP-2).
_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = _ORDER // 2
_MEMBERS = {"number", "hash", "cosignatures"}
#: What a verifier says of a bundle's checkpoint when its trust file names no cosigners.
NO_COSIGNERS = (
    "the bundle's cosigned checkpoint: the trust file names no checkpoint cosigners (it was "
    "made before them)."
)
_COSIGNATURE_MEMBERS = {"address", "time", "signature"}


def origin(chain_id: int, genesis_hash: str) -> str:
    """The checkpoint's first line: the chain, as ``xietong/<chain id>/<genesis hash>``."""
    return f"xietong/{chain_id}/{genesis_hash.lower()}"


def signed_text(chain_id: int, genesis_hash: str, number: int, block_hash: str, time: int) -> str:
    """The five lines a cosigner signs (each ended by a line feed)."""
    return (
        f"cosignature/v1\ntime {time}\n{origin(chain_id, genesis_hash)}\n{number}\n"
        f"{block_hash.lower()}\n"
    )


@dataclass(frozen=True)
class Cosignature:
    """One department's signature on a checkpoint: its key's address (EIP-55), when it
    signed (Unix seconds) and the 65-byte signature as 0x-hex."""

    address: str
    time: int
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cosign(
    private_key: bytes | str,
    *,
    chain_id: int,
    genesis_hash: str,
    number: int,
    block_hash: str,
    time: int,
) -> Cosignature:
    """Sign the checkpoint of block ``number`` (hash ``block_hash``) at ``time``."""
    text = signed_text(chain_id, genesis_hash, number, block_hash, time)
    signed = Account.sign_message(encode_defunct(text=text), private_key)
    address = Account.from_key(private_key).address
    return Cosignature(address=address, time=time, signature="0x" + bytes(signed.signature).hex())


def signer_of(text: str, signature: bytes) -> str | None:
    """The address (EIP-55) whose key made ``signature`` over ``text``, or None when it is
    not one signature of this form: 65 bytes, ``v`` 27 or 28, ``s`` in the lower half."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if not (0 < r < _ORDER and 0 < s <= _HALF_ORDER):
        return None
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except (BadSignature, ValueError):
        return None


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint whose cosignatures verified, and who made them (the trust file's names)."""

    number: int
    hash: str
    threshold: int
    #: ``address``, ``department``, ``code`` and ``time`` of each cosignature, by address.
    cosigners: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def departments(self) -> int:
        """How many distinct departments cosigned."""
        return len({c["department"] for c in self.cosigners})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_INT


def _form(checkpoint: Any) -> tuple[int, str, list[Cosignature]]:
    """Rule 1 (``checkpoint-form``): exactly the JSON form's members, of their types."""

    def bad(message: str) -> CheckpointError:
        return CheckpointError("checkpoint-form", message)

    if not isinstance(checkpoint, dict) or set(checkpoint) != _MEMBERS:
        raise bad("A checkpoint is an object of exactly number, hash and cosignatures.")
    number, block_hash = checkpoint["number"], checkpoint["hash"]
    if not _is_int(number):
        raise bad(f"The checkpoint's `number` must be an integer from 0 to {_MAX_INT}.")
    if not isinstance(block_hash, str) or not _HASH.fullmatch(block_hash):
        raise bad("The checkpoint's `hash` must be 0x and 64 lowercase hex digits.")
    items = checkpoint["cosignatures"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_COSIGNATURES:
        raise bad(f"The checkpoint's `cosignatures` must be a list of 1 to {MAX_COSIGNATURES}.")
    cosignatures: list[Cosignature] = []
    for i, item in enumerate(items):
        where = f"`cosignatures[{i}]`"
        if not isinstance(item, dict) or set(item) != _COSIGNATURE_MEMBERS:
            raise bad(f"{where} must be an object of exactly address, time and signature.")
        address, time, signature = item["address"], item["time"], item["signature"]
        if (
            not isinstance(address, str)
            or not is_hex_address(address)
            or address != to_checksum_address(address)
        ):
            raise bad(f"{where}.address must be an account address in its EIP-55 form.")
        if not _is_int(time):
            raise bad(f"{where}.time must be an integer from 0 to {_MAX_INT}.")
        if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
            raise bad(f"{where}.signature must be 0x and 130 lowercase hex digits.")
        if cosignatures and address.lower() <= cosignatures[-1].address.lower():
            raise bad("The cosignatures must be in ascending address order, each address once.")
        cosignatures.append(Cosignature(address, time, signature))
    return number, block_hash, cosignatures


def check_cosignature(
    trust: ConsortiumTrust, number: int, block_hash: str, cosignature: Cosignature
) -> dict[str, Any]:
    """Rules 2 and 3 for one cosignature: its address is a cosigner's and its signature is
    that key's over the checkpoint. Returns the cosigner as a bundle's answer names it.

    Raises:
        CheckpointError: ``cosigner-unknown`` or ``cosignature-invalid``.
    """
    cosigners = _cosigners(trust)
    cosigner = cosigners.cosigner(cosignature.address)
    if cosigner is None:
        raise CheckpointError(
            "cosigner-unknown",
            f"{cosignature.address} is not one of the trust file's checkpoint cosigners.",
        )
    text = signed_text(trust.chain_id, trust.genesis_hash, number, block_hash, cosignature.time)
    signer = signer_of(text, bytes.fromhex(cosignature.signature[2:]))
    if signer != cosignature.address:
        raise CheckpointError(
            "cosignature-invalid",
            f"The cosignature of {cosignature.address} on block {number} does not verify.",
        )
    return {
        "address": cosignature.address,
        "department": cosigner.department,
        "code": cosigner.code,
        "time": cosignature.time,
    }


def check_signed(
    trust: ConsortiumTrust, *, number: Any, block_hash: Any, cosignature: Any
) -> tuple[Cosignature, dict[str, Any]]:
    """Rules 1 to 3 for one department's signature as a gateway hands it on (``number``,
    ``block_hash`` and the cosignature's JSON form, each untrusted): the signature and the
    cosigner the trust file names.

    Raises:
        CheckpointError: ``checkpoint-form``, ``trust-no-cosigners``, ``cosigner-unknown`` or
            ``cosignature-invalid``.
    """
    number, block_hash, (signed,) = _form(
        {"number": number, "hash": block_hash, "cosignatures": [cosignature]}
    )
    _cosigners(trust)
    return signed, check_cosignature(trust, number, block_hash, signed)


def _cosigners(trust: ConsortiumTrust) -> CheckpointTrust:
    if trust.checkpoints is None:
        raise CheckpointError("trust-no-cosigners", "The trust file names no checkpoint cosigners.")
    return trust.checkpoints


def check_checkpoint(checkpoint: Any, trust: ConsortiumTrust) -> CosignedCheckpoint:
    """Rules 1 to 4 of docs/CHECKPOINTS.md: ``checkpoint`` (its JSON form) is well formed, and
    cosigned by at least the trust file's threshold of departments, each by a key the trust
    file names.

    Raises:
        CheckpointError: the first rule broken, as its ``reason`` (``trust-no-cosigners``
            when the trust file names none).
    """
    number, block_hash, cosignatures = _form(checkpoint)
    cosigners = _cosigners(trust)
    named = [check_cosignature(trust, number, block_hash, c) for c in cosignatures]
    departments = len({c["department"] for c in named})
    if departments < cosigners.threshold:
        raise CheckpointError(
            "cosigners-too-few",
            f"{departments} department(s) cosigned block {number}; the trust file asks for "
            f"{cosigners.threshold}.",
        )
    return CosignedCheckpoint(
        number=number, hash=block_hash, threshold=cosigners.threshold, cosigners=named
    )


def check_bundle_checkpoint(
    checkpoint: Any,
    trust: ConsortiumTrust,
    *,
    block_number: int,
    hash_at: Callable[[int], str | None],
    where: str,
) -> CosignedCheckpoint:
    """Rules 1 to 6 of docs/CHECKPOINTS.md for a proof bundle's ``checkpoint``: cosigned as
    :func:`check_checkpoint` says, at or above the anchor's block ``block_number``, and on the
    block ``hash_at(number)`` names (the hash of the bundle's sealed header at that number, or
    the node's block; None when there is none). ``where`` says what ``hash_at`` reads, for
    the message.

    Raises:
        CheckpointError: the first rule broken (``trust-no-cosigners`` when the trust file
            names none: the caller reports the checkpoint as not checked).
    """
    cosigned = check_checkpoint(checkpoint, trust)
    if cosigned.number < block_number:
        raise CheckpointError(
            "checkpoint-below-anchor",
            f"The checkpoint is of block {cosigned.number}, below the anchor's block "
            f"{block_number}: it says nothing about the anchor.",
        )
    seen = hash_at(cosigned.number)
    if seen != cosigned.hash:
        what = f"has no block {cosigned.number}" if seen is None else f"says {seen}"
        raise CheckpointError(
            "checkpoint-unlinked",
            f"The checkpoint is {cosigned.hash} at block {cosigned.number}, but {where} {what}.",
        )
    return cosigned
