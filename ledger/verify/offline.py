"""Sealed proof bundles checked with the consortium trust file alone: no node, no gateway.

A ``xietong-proof/3`` bundle made on the consortium network carries, beside the Merkle path
and the claims of a ``/2`` bundle, the anchor block's header and the headers sealed on top of
it until a majority of the signers have sealed, and the Merkle-Patricia proofs of the anchor
transaction and its receipt under that header's roots (docs/OFFLINE_PROOFS.md, which gives
the rules, their order and their reason codes). :func:`verify_bundle_offline` is pure: it
raises :class:`OfflineProofError` (its ``reason`` the rule's code) or returns an
:class:`OfflineCheck` naming the departments that sealed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import rlp
from eth_utils import keccak, to_checksum_address
from trie import HexaryTrie
from trie.exceptions import BadTrieProof, InvalidNode, ValidationError

from ..clique import MAX_HEADERS, MAX_HISTORY, Header, SignerSet, decode_header
from ..errors import CheckpointError, LedgerError, OfflineProofError
from ..ids import version_id
from ..trust import ConsortiumTrust
from ..witness.checkpoint import NO_COSIGNERS, check_bundle_checkpoint
from ._errors import BundleFormatError, RootMismatchError
from .bundles import BUNDLE_FORMAT, check_bundle_offline, check_claims, leaf_kind

__all__ = [
    "MAX_UNHISTORIC_SIZE",
    "OfflineCheck",
    "check_text_size",
    "verify_bundle_offline",
]

#: Largest bundle text without history (a real one is a few KB).
MAX_UNHISTORIC_SIZE = 1 << 20
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_SEALED_MEMBERS = {"headers", "transaction", "receipt", "history"}
#: topic 0 of DatasetRegistry's VersionAnchored event.
_ANCHORED = keccak(text="VersionAnchored(bytes32,bytes32,bytes32,uint64,bytes32,bytes32[])")
_TYPED_RECEIPTS = (1, 2, 3)
_LAST_ISO_SECOND = 253402300799  # 9999-12-31T23:59:59Z
#: Refusals that a signer set changed by votes would explain, and what to say then.
_SET_REASONS = {"signer-outside-set", "signer-repeated", "header-difficulty", "checkpoint-signers"}
_NO_HISTORY = (
    "The bundle carries no history: if the consortium voted on its signers since genesis, "
    "ask for a bundle made since the vote (it carries the headers from block 1)."
)
_REVOCATION = (
    "whether the version was revoked after it was anchored: a revocation is a later "
    "transaction; ask a node (verify-proof without --offline)."
)


@dataclass(frozen=True)
class OfflineCheck:
    """A sealed bundle that verified offline, and who vouched for it."""

    format: str
    leaf: str
    kind: str
    root: str
    dataset_id: str
    version_id: str
    #: ``id``, and ``code`` when the department holds one of the trust file's signer keys.
    publisher: dict[str, Any]
    leaf_count: int
    transaction: str
    block_number: int
    anchored_at: str
    chain_id: int
    contract: str
    consortium: str
    #: The anchor block's signer, then each other signer on top of it (in sealing order):
    #: ``address``, ``department`` and ``code`` (None for a key no founder named).
    sealed_by: dict[str, Any]
    confirmed_by: list[dict[str, Any]]
    #: The signers at the anchor block, and how many distinct ones had to seal.
    signers: int
    required: int
    #: Whether the headers were followed from the genesis block (the bundle's history).
    from_genesis: bool
    unchecked: list[str] = field(default_factory=list)
    #: The bundle's cosigned checkpoint, checked (docs/CHECKPOINTS.md): number, hash,
    #: threshold and cosigners; None when the bundle has none, or the trust file names no
    #: cosigners (``unchecked`` says so).
    checkpoint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hex(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise OfflineProofError("bundle-form", f"{where} must be 0x-hex of whole bytes.")
    return bytes.fromhex(value[2:])


def _hex_list(value: Any, where: str, limit: int | None = None) -> list[bytes]:
    if not isinstance(value, list) or (limit is not None and len(value) > limit):
        at_most = "" if limit is None else f" of at most {limit}"
        raise OfflineProofError("bundle-form", f"`{where}` must be a list{at_most}.")
    return [_hex(item, f"`{where}[{i}]`") for i, item in enumerate(value)]


@dataclass(frozen=True)
class _Sealed:
    headers: list[bytes]
    index: int
    transaction_proof: list[bytes]
    receipt_proof: list[bytes]
    history: list[bytes] | None


def _sealed_form(sealed: Any) -> _Sealed:
    """Rule 1 for the ``sealed`` member: exactly its members, of their types."""
    if not isinstance(sealed, dict) or set(sealed) != _SEALED_MEMBERS:
        raise OfflineProofError(
            "bundle-form",
            "`sealed` must be null or an object of headers, transaction, receipt and history.",
        )
    headers = _hex_list(sealed["headers"], "sealed.headers")
    if not headers:
        raise OfflineProofError("bundle-form", "`sealed.headers` is empty.")
    transaction, receipt = sealed["transaction"], sealed["receipt"]
    if not isinstance(transaction, dict) or set(transaction) != {"index", "proof"}:
        raise OfflineProofError("bundle-form", "`sealed.transaction` must be {index, proof}.")
    index = transaction["index"]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 2**32:
        raise OfflineProofError("bundle-form", "`sealed.transaction.index` must be an index.")
    if not isinstance(receipt, dict) or set(receipt) != {"proof"}:
        raise OfflineProofError("bundle-form", "`sealed.receipt` must be {proof}.")
    history = sealed["history"]
    return _Sealed(
        headers=headers,
        index=index,
        transaction_proof=_hex_list(transaction["proof"], "sealed.transaction.proof", 64),
        receipt_proof=_hex_list(receipt["proof"], "sealed.receipt.proof", 64),
        history=None if history is None else _hex_list(history, "sealed.history"),
    )


#: The hex members of a bundle, as rule 1 writes them: 0x, then exactly so many hex digits.
def _form(bundle: Any) -> tuple[bytes, bytes, _Sealed | None]:
    """Rules 1 and 2 (form, then the Merkle path): (leaf, root, the sealed evidence or None)."""
    sealed = None
    try:
        if isinstance(bundle, dict) and bundle.get("format") == BUNDLE_FORMAT:
            check_claims(bundle)
            if bundle["sealed"] is not None:
                sealed = _sealed_form(bundle["sealed"])
        leaf, _proof, root = check_bundle_offline(bundle)
    except BundleFormatError as exc:
        raise OfflineProofError("bundle-form", str(exc)) from None
    except RootMismatchError as exc:
        raise OfflineProofError("merkle-path", str(exc)) from None
    return leaf, root, sealed


def check_text_size(size: int, bundle: Any) -> None:
    """The size rule of a bundle's text (``size`` bytes): at most
    :data:`~ledger.verify.bundles.MAX_BUNDLE_SIZE`, and 1 MiB without history (``bundle-form``)."""
    sealed = bundle.get("sealed") if isinstance(bundle, dict) else None
    history = sealed.get("history") if isinstance(sealed, dict) else None
    if size > MAX_UNHISTORIC_SIZE and not isinstance(history, list):
        raise OfflineProofError(
            "bundle-form",
            f"the bundle is {size} bytes; without history one is at most {MAX_UNHISTORIC_SIZE}.",
        )


def _link(headers: list[Header], trust: ConsortiumTrust, *, from_genesis: bool) -> None:
    """Rule 7: the history starts on the trust file's genesis block; each header is its
    predecessor's child."""
    first = headers[0]
    if from_genesis and (first.number != 1 or first.parent_hash.hex() != trust.genesis_hash[2:]):
        raise OfflineProofError(
            "wrong-genesis",
            f"the history starts at block {first.number} on parent 0x{first.parent_hash.hex()}, "
            f"not on the consortium's genesis block {trust.genesis_hash}.",
        )
    for before, after in pairwise(headers):
        if after.number != before.number + 1 or after.parent_hash != before.hash:
            raise OfflineProofError(
                "header-link",
                f"block {after.number} is not the child of block {before.number} before it "
                "in the bundle.",
            )


def _proven(root: bytes, index: int, proof: list[bytes], what: str) -> bytes:
    """The value at key RLP(index) of the trie of root ``root``, from ``proof``."""
    reason = f"{what}-proof"
    try:
        nodes = [rlp.decode(node, strict=True) for node in proof]
        value = HexaryTrie.get_from_proof(root, rlp.encode(index), nodes)
    except (
        BadTrieProof,
        InvalidNode,
        ValidationError,
        rlp.exceptions.DecodingError,
        rlp.exceptions.EncodingError,
        LedgerError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
    ):
        raise OfflineProofError(
            reason, f"the {what} proof does not lead to the block's {what}s root."
        ) from None
    if not value:
        raise OfflineProofError(reason, f"the {what} proof shows no {what} at index {index}.")
    return bytes(value)


def _receipt_logs(value: bytes) -> list[Any]:
    """Rule 12: the logs of a successful receipt's consensus encoding."""
    body = value[1:] if value[0] in _TYPED_RECEIPTS else value
    try:
        items = rlp.decode(body, strict=True)
    except rlp.exceptions.DecodingError:
        items = None
    if (
        not isinstance(items, list)
        or len(items) != 4
        or not all(isinstance(x, bytes) for x in items[:3])
        or not isinstance(items[3], list)
    ):
        raise OfflineProofError("receipt-form", "the proven receipt is not a receipt.")
    for log in items[3]:
        if not (
            isinstance(log, list)
            and len(log) == 3
            and isinstance(log[0], bytes)
            and isinstance(log[1], list)
            and all(isinstance(topic, bytes) for topic in log[1])
            and isinstance(log[2], bytes)
        ):
            raise OfflineProofError("receipt-form", "a log of the proven receipt is not a log.")
    if items[0] != b"\x01":
        raise OfflineProofError("receipt-failed", "the anchor transaction failed (status 0).")
    return list(items[3])


def _anchor_log(
    logs: list[Any], registry: bytes, dataset_id: bytes, root: bytes
) -> tuple[bytes, int]:
    """Rule 13: the registry's VersionAnchored log of (dataset, root): (publisher, leaves)."""
    for address, topics, data in logs:  # their form checked by _receipt_logs
        if (
            address == registry
            and len(topics) == 4
            and topics[0] == _ANCHORED
            and topics[1] == dataset_id
            and topics[2] == root
            and isinstance(data, bytes)
            and len(data) >= 32
        ):
            return bytes(topics[3]), int.from_bytes(data[:32], "big")
    raise OfflineProofError(
        "anchor-missing",
        f"the receipt holds no VersionAnchored event of the consortium's registry for root "
        f"0x{root.hex()} of dataset 0x{dataset_id.hex()}.",
    )


def _iso(timestamp: int) -> str:
    if timestamp > _LAST_ISO_SECOND:
        return f"{timestamp} (unix time)"
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def _same_instant(claimed: str, timestamp: int) -> bool:
    when = datetime.fromisoformat(claimed.replace("Z", "+00:00"))  # form checked by rule 1
    return when.timestamp() == timestamp


def _signer(trust: ConsortiumTrust, address: bytes) -> dict[str, Any]:
    assert trust.clique is not None
    shown = to_checksum_address(address)
    known = trust.clique.signer(shown)
    return {
        "address": shown,
        "department": known.department if known else None,
        "code": known.code if known else None,
    }


def verify_bundle_offline(bundle: Any, trust: ConsortiumTrust) -> OfflineCheck:
    """Check a sealed proof bundle with ``trust`` alone, by the rules of
    docs/OFFLINE_PROOFS.md in their order.

    Raises:
        OfflineProofError: the first rule broken; ``reason`` is its code (``no-seals`` for a
            bundle made on a chain without seals, which needs a node).
    """
    leaf, root, sealed = _form(bundle)
    if sealed is None:
        raise OfflineProofError(
            "no-seals",
            "the bundle carries no sealed headers (it was made on a chain without seals, such "
            "as Hardhat or Anvil, or before xietong-proof/3): check it against a node, "
            "without --offline.",
        )
    clique = trust.clique
    if clique is None:
        raise OfflineProofError(
            "trust-no-signers",
            "the consortium trust file names no Clique signers: it is not a consortium "
            "network's, so nothing sealed can be checked against it.",
        )
    if bundle["chain_id"] != trust.chain_id:
        raise OfflineProofError(
            "claim-chain",
            f"the bundle was made on chain {bundle['chain_id']}, not on the consortium's chain "
            f"{trust.chain_id}.",
        )
    registry = trust.contracts["DatasetRegistry"]
    if bundle["contract"].lower() != registry.lower():
        raise OfflineProofError(
            "claim-contract",
            f"the bundle names registry {bundle['contract']}; the consortium's is {registry}.",
        )
    # Rules 6 and 7: decoded and linked.
    if len(sealed.headers) > MAX_HEADERS or len(sealed.history or []) > MAX_HISTORY:
        raise OfflineProofError(
            "header-form",
            f"the bundle carries more than {MAX_HEADERS} headers on the anchor or "
            f"{MAX_HISTORY} of history.",
        )
    history = [
        decode_header(raw, f"history header {i}") for i, raw in enumerate(sealed.history or [])
    ]
    headers = [decode_header(raw, f"header {i}") for i, raw in enumerate(sealed.headers)]
    from_genesis = sealed.history is not None
    _link(history + headers, trust, from_genesis=from_genesis)
    anchor = headers[0]
    # Rule 8: the block and time claimed are the anchor header's.
    if anchor.number != bundle["block_number"]:
        raise OfflineProofError(
            "claim-block",
            f"the bundle says block {bundle['block_number']}; its header is block {anchor.number}.",
        )
    if not _same_instant(bundle["anchored_at"], anchor.timestamp):
        raise OfflineProofError(
            "claim-time",
            f"the bundle says it was anchored at {bundle['anchored_at']}; the block was sealed at "
            f"{_iso(anchor.timestamp)}.",
        )
    # Rule 9: Clique, from the genesis signers.
    snapshot = SignerSet(
        epoch=clique.epoch,
        period=clique.period,
        signers={bytes.fromhex(s.address[2:]) for s in clique.signers},
    )
    parent: Header | None = None
    for header in history:
        snapshot.apply(header, parent)
        parent = header
    size = len(snapshot.signers)
    sealers: list[bytes] = []
    for header in headers:
        try:
            signer = snapshot.apply(header, parent)
        except OfflineProofError as exc:
            if from_genesis or exc.reason not in _SET_REASONS:
                raise
            raise OfflineProofError(exc.reason, f"{exc} {_NO_HISTORY}") from None
        parent = header
        if signer not in sealers:
            sealers.append(signer)
    # Rule 10: a majority of the signers at the anchor sealed it and on top of it.
    required = size // 2 + 1
    if len(sealers) < required:
        raise OfflineProofError(
            "too-few-signers",
            f"{len(sealers)} distinct signer(s) sealed the anchor block and the blocks on top of "
            f"it; a majority of the {size} signers is {required}.",
        )
    # Rules 11-13: the transaction and its receipt, under the anchor header's roots.
    raw_tx = _proven(
        anchor.transactions_root, sealed.index, sealed.transaction_proof, "transaction"
    )
    transaction = "0x" + keccak(raw_tx).hex()
    if transaction != bundle["transaction"].lower():
        raise OfflineProofError(
            "claim-transaction",
            f"the proven transaction is {transaction}, not {bundle['transaction']}.",
        )
    receipt = _proven(anchor.receipts_root, sealed.index, sealed.receipt_proof, "receipt")
    dataset_id = bytes.fromhex(bundle["dataset_id"][2:])
    publisher, leaves = _anchor_log(
        _receipt_logs(receipt), bytes.fromhex(registry[2:]), dataset_id, root
    )
    if publisher.hex() != bundle["publisher"]["id"][2:].lower():
        raise OfflineProofError(
            "claim-publisher",
            f"the bundle says department {bundle['publisher']['id']} anchored it; the event "
            f"says 0x{publisher.hex()}.",
        )
    if leaves != bundle["leaf_count"]:
        raise OfflineProofError(
            "claim-leaf-count",
            f"the bundle says {bundle['leaf_count']} leaves; the event says {leaves}.",
        )
    version = version_id(dataset_id, root)
    if bundle["version_id"][2:].lower() != version.hex():
        raise OfflineProofError(
            "claim-version",
            f"the bundle's version id is {bundle['version_id']}, not 0x{version.hex()}.",
        )
    # Docs/CHECKPOINTS.md's rules: the cosigned checkpoint is one of the sealed headers.
    unchecked = [_REVOCATION]
    checkpoint = None
    if bundle.get("checkpoint") is not None:
        sealed_hashes = {h.number: "0x" + h.hash.hex() for h in headers}
        try:
            checkpoint = check_bundle_checkpoint(
                bundle["checkpoint"],
                trust,
                block_number=anchor.number,
                hash_at=sealed_hashes.get,
                where=f"the bundle's sealed headers (blocks {anchor.number} to "
                f"{headers[-1].number})",
            ).as_dict()
        except CheckpointError as exc:
            if exc.reason != "trust-no-cosigners":
                raise OfflineProofError(exc.reason, str(exc)) from None
            unchecked.append(NO_COSIGNERS)
    publisher_signer = next(
        (s for s in clique.signers if s.department == "0x" + publisher.hex()), None
    )
    return OfflineCheck(
        format=str(bundle["format"]),
        leaf="0x" + leaf.hex(),
        kind=leaf_kind(bundle["leaf"]["types"])[0],
        root="0x" + root.hex(),
        dataset_id="0x" + dataset_id.hex(),
        version_id="0x" + version.hex(),
        publisher={
            "id": "0x" + publisher.hex(),
            "code": publisher_signer.code if publisher_signer else None,
        },
        leaf_count=leaves,
        transaction=transaction,
        block_number=anchor.number,
        anchored_at=_iso(anchor.timestamp),
        chain_id=trust.chain_id,
        contract=registry,
        consortium=trust.fingerprint,
        sealed_by=_signer(trust, sealers[0]),
        confirmed_by=[_signer(trust, s) for s in sealers[1:]],
        signers=size,
        required=required,
        from_genesis=from_genesis,
        unchecked=unchecked,
        checkpoint=checkpoint,
    )
