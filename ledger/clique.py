"""Clique headers, checked without a node: decoding, seals and the signer set's votes.

Pure: no I/O. The rules are go-ethereum v1.13.15's ``consensus/clique`` (``verifyHeader``,
``verifyCascadingFields``, ``verifySeal`` and ``Snapshot.apply``), in the order
docs/OFFLINE_PROOFS.md gives; every refusal is an :class:`OfflineProofError` with the reason
code that document names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, keccak, to_checksum_address

from .errors import OfflineProofError

__all__ = ["MAX_HEADERS", "MAX_HISTORY", "Header", "SignerSet", "decode_header", "recover_signer"]

#: Most headers on top of the anchor a bundle carries (a majority of 64 signers needs 33).
MAX_HEADERS = 64
#: Most headers of history (block 1 to the anchor's parent) a bundle carries.
MAX_HISTORY = 65_536

_VANITY = 32
_SEAL = 65
_ADDRESS = 20
#: keccak256(rlp([])): the only uncle hash a Clique header may have.
_EMPTY_UNCLES = keccak(rlp.encode([]))
_NONCE_ADD = b"\xff" * 8
_NONCE_DROP = b"\x00" * 8
_IN_TURN, _NO_TURN = 2, 1
#: Sizes of the 16 fields of a London header: bytes for fixed-size fields, None for an
#: integer, "extra" for extraData.
_FIELDS: tuple[tuple[str, int | str | None], ...] = (
    ("parentHash", 32),
    ("uncleHash", 32),
    ("coinbase", _ADDRESS),
    ("stateRoot", 32),
    ("transactionsRoot", 32),
    ("receiptsRoot", 32),
    ("logsBloom", 256),
    ("difficulty", None),
    ("number", None),
    ("gasLimit", None),
    ("gasUsed", None),
    ("timestamp", None),
    ("extraData", "extra"),
    ("mixHash", 32),
    ("nonce", 8),
    ("baseFee", None),
)
#: Largest extraData: vanity, a checkpoint's signers (at most 64), seal.
_MAX_EXTRA = _VANITY + 64 * _ADDRESS + _SEAL


@dataclass(frozen=True)
class Header:
    """A decoded block header: its RLP fields, its hash, and the integers read from it."""

    fields: tuple[bytes, ...]
    hash: bytes

    def _int(self, name: str) -> int:
        return int.from_bytes(self.fields[_INDEX[name]], "big")

    def _bytes(self, name: str) -> bytes:
        return self.fields[_INDEX[name]]

    @property
    def number(self) -> int:
        return self._int("number")

    @property
    def timestamp(self) -> int:
        return self._int("timestamp")

    @property
    def parent_hash(self) -> bytes:
        return self._bytes("parentHash")

    @property
    def transactions_root(self) -> bytes:
        return self._bytes("transactionsRoot")

    @property
    def receipts_root(self) -> bytes:
        return self._bytes("receiptsRoot")

    @property
    def coinbase(self) -> bytes:
        return self._bytes("coinbase")

    @property
    def nonce(self) -> bytes:
        return self._bytes("nonce")

    @property
    def difficulty(self) -> int:
        return self._int("difficulty")

    @property
    def extra(self) -> bytes:
        return self._bytes("extraData")

    def seal_hash(self) -> bytes:
        """Keccak-256 of what the signer signed: the fields with the seal cut from extraData."""
        fields = list(self.fields)
        fields[_INDEX["extraData"]] = self.extra[:-_SEAL]
        return keccak(rlp.encode(fields))


_INDEX = {name: i for i, (name, _) in enumerate(_FIELDS)}


def decode_header(raw: bytes, where: str) -> Header:
    """The header whose RLP is ``raw`` (``where`` names it in messages); ``header-form``
    when it is not a London header's 16 fields of their sizes."""
    try:
        items = rlp.decode(raw, strict=True)
    except rlp.exceptions.DecodingError:
        raise OfflineProofError("header-form", f"{where} is not RLP.") from None
    if not isinstance(items, list) or len(items) != len(_FIELDS):
        raise OfflineProofError(
            "header-form", f"{where} is not a list of the {len(_FIELDS)} fields of a header."
        )
    for (name, size), value in zip(_FIELDS, items, strict=True):
        if not isinstance(value, bytes):
            raise OfflineProofError("header-form", f"{where}: `{name}` is a list.")
        if size is None and (len(value) > 32 or value[:1] == b"\x00"):
            raise OfflineProofError(
                "header-form", f"{where}: `{name}` is not an integer (leading zero or too long)."
            )
        if isinstance(size, int) and len(value) != size:
            raise OfflineProofError(
                "header-form", f"{where}: `{name}` is {len(value)} bytes, not {size}."
            )
        if size == "extra" and len(value) > _MAX_EXTRA:
            raise OfflineProofError("header-form", f"{where}: `extraData` is too long.")
    return Header(fields=tuple(items), hash=keccak(raw))


def _check_fields(header: Header, epoch: int) -> None:
    """verifyHeader's rules on the header alone (``header-field``)."""
    number, where = header.number, f"block {header.number}"
    checkpoint = number % epoch == 0
    if checkpoint and header.coinbase != b"\x00" * _ADDRESS:
        raise OfflineProofError("header-field", f"{where} is a checkpoint with a beneficiary.")
    if header.nonce not in (_NONCE_ADD, _NONCE_DROP):
        raise OfflineProofError("header-field", f"{where} has a nonce that is not a vote.")
    if checkpoint and header.nonce != _NONCE_DROP:
        raise OfflineProofError("header-field", f"{where} is a checkpoint with a vote.")
    extra = header.extra
    if len(extra) < _VANITY + _SEAL:
        raise OfflineProofError("header-field", f"{where} has no room for vanity and seal.")
    listed = len(extra) - _VANITY - _SEAL
    if not checkpoint and listed:
        raise OfflineProofError("header-field", f"{where} lists signers but is no checkpoint.")
    if checkpoint and listed % _ADDRESS:
        raise OfflineProofError("header-field", f"{where} lists a part of an address.")
    if header._bytes("mixHash") != b"\x00" * 32:
        raise OfflineProofError("header-field", f"{where} has a mix digest.")
    if header._bytes("uncleHash") != _EMPTY_UNCLES:
        raise OfflineProofError("header-field", f"{where} has uncles.")
    if header.difficulty not in (_IN_TURN, _NO_TURN):
        raise OfflineProofError("header-field", f"{where} has difficulty {header.difficulty}.")
    if header._int("gasUsed") > header._int("gasLimit"):
        raise OfflineProofError("header-field", f"{where} uses more gas than its limit.")


def recover_signer(header: Header) -> bytes:
    """The address whose key sealed ``header`` (``seal-invalid`` when none)."""
    seal = header.extra[-_SEAL:]
    r, s, v = int.from_bytes(seal[:32]), int.from_bytes(seal[32:64]), seal[64]
    try:
        signature = Signature(vrs=(v, r, s))
        public = signature.recover_public_key_from_msg_hash(header.seal_hash())
    except (BadSignature, ValidationError, ValueError):
        raise OfflineProofError(
            "seal-invalid", f"the seal of block {header.number} recovers no key."
        ) from None
    return public.to_canonical_address()


@dataclass
class _Vote:
    signer: bytes
    address: bytes
    authorize: bool


@dataclass
class SignerSet:
    """Clique's snapshot: the signers, who sealed recently, and the votes cast (geth's
    ``Snapshot``), advanced one header at a time by :meth:`apply`."""

    epoch: int
    period: int
    signers: set[bytes]
    recents: dict[int, bytes] = field(default_factory=dict)
    votes: list[_Vote] = field(default_factory=list)
    tally: dict[bytes, tuple[bool, int]] = field(default_factory=dict)

    def sorted_signers(self) -> list[bytes]:
        return sorted(self.signers)

    def apply(self, header: Header, parent: Header | None) -> bytes:
        """Check ``header`` on top of ``parent`` (None: not in the bundle) against this set,
        then count its vote; returns its signer."""
        _check_fields(header, self.epoch)
        number, where = header.number, f"block {header.number}"
        if parent is not None and header.timestamp < parent.timestamp + self.period:
            raise OfflineProofError(
                "header-time",
                f"{where} is sealed {header.timestamp - parent.timestamp} s after its parent; "
                f"the period is {self.period} s.",
            )
        if number % self.epoch == 0:
            self.votes, self.tally = [], {}
        limit = len(self.signers) // 2 + 1
        if number >= limit:
            self.recents.pop(number - limit, None)
        signer = recover_signer(header)
        shown = to_checksum_address(signer)
        if signer not in self.signers:
            raise OfflineProofError(
                "signer-outside-set",
                f"{where} is sealed by {shown}, who is not among the {len(self.signers)} "
                "signers at that height.",
            )
        if signer in self.recents.values():
            raise OfflineProofError(
                "signer-repeated",
                f"{where} is sealed by {shown}, who sealed one of the {limit - 1} blocks "
                "before it.",
            )
        ordered = self.sorted_signers()
        in_turn = number % len(ordered) == ordered.index(signer)
        if header.difficulty != (_IN_TURN if in_turn else _NO_TURN):
            raise OfflineProofError(
                "header-difficulty",
                f"{where} has difficulty {header.difficulty}, but its signer was "
                f"{'in' if in_turn else 'not in'} turn.",
            )
        if number % self.epoch == 0 and header.extra[_VANITY:-_SEAL] != b"".join(ordered):
            raise OfflineProofError(
                "checkpoint-signers", f"checkpoint {where} lists other signers than the set's."
            )
        self.recents[number] = signer
        self._count(header, signer)
        return signer

    def _count(self, header: Header, signer: bytes) -> None:
        """Snapshot.apply's vote handling, step for step."""
        address, authorize = header.coinbase, header.nonce == _NONCE_ADD
        for i, vote in enumerate(self.votes):
            if vote.signer == signer and vote.address == address:
                self._uncast(vote.address, vote.authorize)
                del self.votes[i]
                break
        if self._cast(address, authorize):
            self.votes.append(_Vote(signer, address, authorize))
        passed = self.tally.get(address)
        if passed is None or passed[1] <= len(self.signers) // 2:
            return
        if passed[0]:
            self.signers.add(address)
        else:
            self.signers.discard(address)
            limit = len(self.signers) // 2 + 1
            if header.number >= limit:
                self.recents.pop(header.number - limit, None)
            for vote in [v for v in self.votes if v.signer == address]:
                self._uncast(vote.address, vote.authorize)
                self.votes.remove(vote)
        self.votes = [v for v in self.votes if v.address != address]
        self.tally.pop(address, None)

    def _cast(self, address: bytes, authorize: bool) -> bool:
        if (address in self.signers) == authorize:  # adding a signer, or dropping a stranger
            return False
        held, count = self.tally.get(address, (authorize, 0))
        self.tally[address] = (held, count + 1)
        return True

    def _uncast(self, address: bytes, authorize: bool) -> None:
        held = self.tally.get(address)
        if held is None or held[0] != authorize:
            return
        if held[1] > 1:
            self.tally[address] = (held[0], held[1] - 1)
        else:
            del self.tally[address]
