"""Proof bundles: checked with nothing but the bundle, the consortium's trust file and any node.

A ``xietong-proof/2`` bundle holds a leaf and its values, the Merkle path to a root, and the
claims of its anchoring: the dataset and version id, the consortium (chain id and registry),
the transaction, block, time and leaf count, and the publishing department. Nothing in it is
believed: :func:`check_bundle_offline` is pure (form and Merkle path, no I/O), then
:func:`verify_bundle` checks the node against the consortium trust file (the only source of
addresses), reads the version from the consortium's registry and its anchor event from the
block the registry names, and refuses the bundle when any claim differs from the chain
(:class:`BundleClaimError`). The answer names the dataset's owner and the anchoring department
as the chain names them.

A ``xietong-proof/1`` bundle (before the trust file) is still read: its ``chain_id`` and
``contract`` are ignored (the trust file's are used), the claims it makes are checked as
above, and :attr:`BundleCheck.unchecked` says, one sentence each, what it does not claim.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3

from .. import merkle
from ..chain.client import ChainClient
from ..chain.reads import named_department, read_version
from ..chain.transport import node_errors
from ..db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from ..errors import CheckpointError, ContractRevertError, InputError
from ..events import LogDecoder
from ..hashing import loads_strict
from ..ids import version_id
from ..refs import parse_hash
from ..trust import ConsortiumTrust, check_node
from ..witness.checkpoint import NO_COSIGNERS, check_bundle_checkpoint
from ._errors import (
    BundleClaimError,
    BundleFormatError,
    NotConfirmedError,
    RevokedVersionError,
    RootMismatchError,
    UnknownRootError,
)

__all__ = [
    "BUNDLE_FORMAT",
    "LEGACY_BUNDLE_FORMAT",
    "MAX_BUNDLE_SIZE",
    "UNSEALED_BUNDLE_FORMAT",
    "BundleCheck",
    "check_bundle_offline",
    "check_claims",
    "load_bundle",
    "verify_bundle",
]

BUNDLE_FORMAT = "xietong-proof/3"
#: The format before sealed headers: every claim, checked against a node only.
UNSEALED_BUNDLE_FORMAT = "xietong-proof/2"
#: The format before the consortium trust file and the publisher: read, and said so.
LEGACY_BUNDLE_FORMAT = "xietong-proof/1"
#: Largest bundle text read (a real one, with a 256-step proof, is about 20 KB without sealed
#: headers, 30 KB with them; a history of 65,536 headers makes about 60 MB).
MAX_BUNDLE_SIZE = 64 << 20
_MAX_DEPTH = 16  # a bundle nests 3 levels


@dataclass(frozen=True)
class BundleCheck:
    """A proof bundle that verified, and what the chain says about it."""

    format: str
    leaf: str
    kind: str
    root: str
    dataset_id: str
    version_id: str
    #: The dataset's owner and the department that anchored the version, as the chain names
    #: them: ``id``, ``name`` (text; invalid UTF-8 replaced), ``name_flags``.
    owner: dict[str, Any]
    publisher: dict[str, Any]
    leaf_count: int
    transaction: str
    block_number: int
    anchored_at: str | None
    confirmations: int
    chain_id: int
    contract: str
    #: The fingerprint of the consortium trust file the bundle was checked against.
    consortium: str
    #: What could not be checked, one sentence each: an old bundle's claims, a checkpoint
    #: without cosigners to check it by, whether a record is among its version's erasures.
    unchecked: list[str] = field(default_factory=list)
    #: The bundle's cosigned checkpoint, checked against the node (docs/CHECKPOINTS.md):
    #: number, hash, threshold and cosigners; None when the bundle carries none.
    checkpoint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(bundle: dict[str, Any], name: str, kind: type) -> Any:
    if name not in bundle:
        raise BundleFormatError(f"the proof bundle has no `{name}`.")
    value = bundle[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BundleFormatError(f"`{name}` in the proof bundle must be {_KINDS[kind]}.")
    return value


_KINDS = {int: "an integer", str: "a string", dict: "an object", list: "a list"}
#: The members of a xietong-proof/2 bundle (and of its objects): no other is allowed, so that
#: nothing a bundle says goes unchecked.
_MEMBERS = {
    "": {
        "format",
        "leaf",
        "proof",
        "root",
        "dataset_id",
        "version_id",
        "leaf_count",
        "chain_id",
        "contract",
        "transaction",
        "block_number",
        "anchored_at",
        "publisher",
    },
    "leaf.": {"kind", "types", "values", "hash"},
    "publisher.": {"id"},
}


def check_claims(bundle: dict[str, Any]) -> None:
    """The form of a xietong-proof/2 or /3 bundle's claims (their truth is for the chain to
    say): every member present with its type, and no other member (a /3 bundle has ``sealed``
    too, whose form :mod:`ledger.verify.offline` checks)."""
    sealed = bundle["format"] == BUNDLE_FORMAT
    if sealed and "sealed" not in bundle:
        raise BundleFormatError("the proof bundle has no `sealed` (null when it has none).")
    for prefix, allowed in _MEMBERS.items():
        allowed = allowed | {"sealed", "checkpoint"} if sealed and not prefix else allowed
        members = bundle if not prefix else _field(bundle, prefix[:-1], dict)
        unknown = sorted(set(members) - allowed)
        if unknown:
            raise BundleFormatError(
                f"the proof bundle has the unknown member {_shown(prefix + unknown[0])}: "
                "a bundle says nothing that is not checked."
            )
    for name in ("chain_id", "leaf_count", "block_number"):
        _field(bundle, name, int)
    if not is_hex_address(_field(bundle, "contract", str)):
        raise BundleFormatError("`contract` in the proof bundle must be an address.")
    for name in ("version_id", "transaction"):
        _bundle_hash(_field(bundle, name, str), name)
    _bundle_hash(bundle["publisher"].get("id"), "publisher.id")
    _same_time(_field(bundle, "anchored_at", str), None)
    if sealed:
        _exact_hex(bundle)


def _exact_hex(bundle: dict[str, Any]) -> None:
    """A xietong-proof/3 bundle writes each hash and address as ``0x`` and its hex digits,
    nothing else, as the browser's verifier reads it (older bundles keep the lenient reading
    of :func:`~ledger.refs.parse_hash`: ``0X``, no prefix, spaces)."""

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    leaf, publisher = bundle.get("leaf"), bundle.get("publisher")
    leaf = leaf if isinstance(leaf, dict) else {}
    values, proof = listed(leaf.get("values")), listed(bundle.get("proof"))
    types = leaf.get("types")
    record = isinstance(types, list) and types[-1:] == ["bytes32"]
    start = 1 if isinstance(types, list) and types[:1] == ["string"] else 0  # SM3: the tag
    hashes = [(k, values[k] if k < len(values) else None) for k in range(start, start + 1 + record)]
    shown: list[tuple[str, Any, int]] = [
        *((name, bundle.get(name), 64) for name in ("root", "dataset_id", "version_id")),
        ("transaction", bundle.get("transaction"), 64),
        ("publisher.id", publisher.get("id") if isinstance(publisher, dict) else None, 64),
        ("leaf.hash", leaf.get("hash"), 64),
        *((f"leaf.values[{i}]", v, 64) for i, v in hashes),
        ("contract", bundle.get("contract"), 40),
        *(("proof", step, 64) for step in proof),
    ]
    for name, value, digits in shown:
        if not (isinstance(value, str) and re.fullmatch(rf"0x[0-9a-fA-F]{{{digits}}}", value)):
            raise BundleFormatError(f"`{name}` must be 0x and {digits} hex digits.")


def _bundle_hash(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise BundleFormatError(f"`{name}` in the proof bundle must be a 0x-hex string.")
    try:
        return parse_hash(value, what=name)
    except InputError as exc:
        raise BundleFormatError(f"`{name}` in the proof bundle is malformed: {exc}") from None


def load_bundle(text: str | bytes) -> Any:
    """The JSON value of a bundle's text (UTF-8 when bytes), parsed strictly (I-JSON: no
    duplicate names, NaN or overflow); BundleFormatError when it is not JSON, is larger than
    :data:`MAX_BUNDLE_SIZE`, or nests deeper than a bundle does. The value is then for
    :func:`check_bundle_offline` or :func:`verify_bundle` to judge."""
    if len(text) > MAX_BUNDLE_SIZE:
        raise BundleFormatError(
            f"the proof bundle is larger than {MAX_BUNDLE_SIZE} bytes; a real one is a few KB."
        )
    return loads_strict(
        text,
        max_depth=_MAX_DEPTH,
        error=lambda reason: BundleFormatError(f"the proof bundle is refused: {reason}."),
    )


def _shown(value: Any) -> str:
    """``value`` for a message: its repr, cut to 80 characters."""
    # Never a huge int's digits, nor a whole object.
    text = repr(value) if isinstance(value, str | None) else f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def leaf_kind(types: Any) -> tuple[str, str]:
    """(kind, digest) of a bundle's ``leaf.types``: "file" or "record", "sha256" or "sm3";
    BundleFormatError for any other types."""
    shape = None
    if isinstance(types, list) and all(isinstance(t, str) for t in types):
        for kind in ("file", "record"):
            for digest in ("sha256", "sm3"):
                if tuple(types) == merkle.leaf_types(kind, digest):
                    shape = (kind, digest)
    if shape is None:
        raise BundleFormatError(
            "`leaf.types` must be [bytes32, string] (file) or [bytes32, bytes32] (record), "
            "or for SM3 [string, bytes32, string] or [string, bytes32, bytes32]."
        )
    return shape


def check_bundle_offline(bundle: Any) -> tuple[bytes, list[bytes], bytes]:
    """Check a bundle's form and Merkle path without any I/O; returns (leaf, proof, root)."""
    if not isinstance(bundle, dict):
        raise BundleFormatError("a proof bundle is a JSON object.")
    if bundle.get("format") not in (BUNDLE_FORMAT, UNSEALED_BUNDLE_FORMAT, LEGACY_BUNDLE_FORMAT):
        raise BundleFormatError(
            f"this is not a {BUNDLE_FORMAT} proof bundle (format {_shown(bundle.get('format'))})."
        )
    leaf_info = _field(bundle, "leaf", dict)
    types, values = leaf_info.get("types"), leaf_info.get("values")
    kind, digest = leaf_kind(types)
    if "kind" in leaf_info and leaf_info["kind"] != kind:
        raise BundleFormatError(
            f"`leaf.kind` is {_shown(leaf_info['kind'])}, but the leaf's types are a {kind}'s."
        )
    tagged = digest == "sm3"  # an SM3 leaf: the tag "sm3", then the two values
    if not isinstance(values, list) or len(values) != 2 + tagged:
        raise BundleFormatError(
            '`leaf.values` must hold the tag "sm3" and two values.'
            if tagged
            else "`leaf.values` must hold two values."
        )
    if tagged and values[0] != merkle.SM3_TAG:
        raise BundleFormatError('`leaf.values[0]` of an SM3 leaf must be "sm3".')
    first, second = values[tagged], values[tagged + 1]
    decoded: list[Any] = [merkle.SM3_TAG] if tagged else []
    decoded.append(_bundle_hash(first, f"leaf.values[{tagged}]"))
    if kind == "file":
        if not isinstance(second, str):
            raise BundleFormatError(f"`leaf.values[{tagged + 1}]` (the path) must be a string.")
        try:
            second.encode("utf-8")
        except UnicodeEncodeError:
            raise BundleFormatError(
                f"`leaf.values[{tagged + 1}]` (the path) is not valid Unicode (it holds a lone surrogate)."
            ) from None
        decoded.append(second)
    else:
        decoded.append(_bundle_hash(second, f"leaf.values[{tagged + 1}]"))
    leaf = _bundle_hash(leaf_info.get("hash"), "leaf.hash")
    if merkle.leaf_hash(types, decoded) != leaf:
        raise RootMismatchError("the leaf values in the bundle do not hash to its leaf hash.")
    proof_values = _field(bundle, "proof", list)
    if len(proof_values) > 256:
        raise BundleFormatError("the proof has more than 256 steps.")
    proof = [_bundle_hash(p, "proof") for p in proof_values]
    root = _bundle_hash(bundle.get("root"), "root")
    if not merkle.verify_proof(root, leaf, proof):
        raise RootMismatchError(
            f"the proof does not lead from leaf 0x{leaf.hex()} to root 0x{root.hex()}."
        )
    _bundle_hash(bundle.get("dataset_id"), "dataset_id")
    if bundle["format"] != LEGACY_BUNDLE_FORMAT:
        check_claims(bundle)
    return leaf, proof, root


def _claim(
    bundle: dict[str, Any], name: str, kind: type, *, legacy: bool, unchecked: list[str]
) -> Any:
    """The bundle's claim ``name`` (a ``kind``); a /2 bundle must make it, a /1 bundle that
    does not is noted in ``unchecked`` (None returned)."""
    if legacy and bundle.get(name) in (None, ""):
        unchecked.append(
            f"the bundle does not say its `{name}`: nothing to compare with the chain's."
        )
        return None
    return _field(bundle, name, kind)


def _anchor_event(
    client: ChainClient, dataset_id: bytes, root: bytes, block: int
) -> dict[str, Any]:
    """The registry's ``VersionAnchored`` log of (dataset, root) in ``block``, decoded, with its
    transaction hash; BundleClaimError when the block holds none."""
    registry = client.contract("DatasetRegistry")
    topic = (
        "0x"
        + Web3.keccak(
            text="VersionAnchored(bytes32,bytes32,bytes32,uint64,bytes32,bytes32[])"
        ).hex()
    )
    with node_errors():
        logs = client.w3.eth.get_logs(
            {
                "address": registry.address,
                "fromBlock": block,
                "toBlock": block,
                "topics": [topic, "0x" + dataset_id.hex(), "0x" + root.hex()],
            }
        )
    decoder = LogDecoder({"DatasetRegistry": registry})
    for log in logs:
        raw = {
            "address": log["address"],
            "topics": ["0x" + bytes(t).hex() for t in log["topics"]],
            "data": "0x" + bytes(log["data"]).hex(),
        }
        decoded = decoder.decode(raw)
        if (
            decoded is not None
            and decoded.name == "VersionAnchored"
            # What was asked for, whatever the node answered.
            and decoded.args["datasetId"] == "0x" + dataset_id.hex()
            and decoded.args["root"] == "0x" + root.hex()
            and int(log["blockNumber"]) == block
        ):
            return {**decoded.args, "transaction": "0x" + bytes(log["transactionHash"]).hex()}
    raise BundleClaimError(
        f"the registry records version 0x{root.hex()} of dataset 0x{dataset_id.hex()} in block "
        f"{block}, but that block holds no anchor event for it."
    )


#: How a message names each claim.
_CLAIMS = {
    "transaction": "transaction",
    "block_number": "block number",
    "anchored_at": "anchoring time",
    "leaf_count": "leaf count",
}


def _differs(name: str, claimed: Any, actual: Any) -> BundleClaimError:
    said = _shown(claimed) if isinstance(claimed, str) else claimed
    return BundleClaimError(f"the bundle says its {name} is {said}; the chain says {actual}.")


def verify_bundle(
    bundle: Any, w3: Web3, *, trust: ConsortiumTrust, confirmations: int = 1
) -> BundleCheck:
    """Check ``bundle`` offline, then every claim it makes against the chain ``w3`` talks to.

    The node must be the consortium's (``trust``: chain id, genesis and deployment block,
    code at each address), and the registry asked is the trust file's, never the bundle's.

    Raises:
        BundleFormatError: the bundle is malformed.
        RootMismatchError: the Merkle path does not lead from the leaf to the root.
        TrustMismatchError: the node is not the consortium's chain.
        UnknownRootError: the dataset holds no version of this root on that chain.
        RevokedVersionError: its owner revoked the version.
        BundleClaimError: a claim differs from the chain's facts.
        NotConfirmedError: fewer than ``confirmations`` blocks hold the anchor.
        CheckpointError: the bundle's cosigned checkpoint is refused (its ``reason``).
    """
    leaf, proof, root = check_bundle_offline(bundle)
    fmt = str(bundle["format"])
    legacy = fmt == LEGACY_BUNDLE_FORMAT
    unchecked: list[str] = []
    dataset_id = _bundle_hash(bundle.get("dataset_id"), "dataset_id")
    version = version_id(dataset_id, root)
    # 1) The node is the consortium's; the registry is the trust file's.
    check_node(trust, w3)
    client = ChainClient(w3, dict(trust.contracts))
    registry = client.address("DatasetRegistry")
    if legacy:
        unchecked.append(
            f"a {LEGACY_BUNDLE_FORMAT} bundle: its `chain_id` and `contract` were not believed; "
            "the version was looked up in the registry of the consortium trust file."
        )
        unchecked.append(
            f"a {LEGACY_BUNDLE_FORMAT} bundle names no publisher and no version id: "
            "those shown are the chain's alone."
        )
    else:
        chain_id = _field(bundle, "chain_id", int)
        if chain_id != trust.chain_id:
            raise BundleClaimError(
                f"the bundle was made on chain {chain_id}, not on this consortium's chain "
                f"{trust.chain_id}."
            )
        contract = _field(bundle, "contract", str)
        if not is_hex_address(contract):
            raise BundleFormatError("`contract` in the proof bundle must be an address.")
        if to_checksum_address(contract) != registry:
            raise BundleClaimError(
                f"the bundle names registry {to_checksum_address(contract)}; this consortium's "
                f"DatasetRegistry is {registry}."
            )
        if _bundle_hash(bundle.get("version_id"), "version_id") != version:
            raise _differs("version id", bundle.get("version_id"), "0x" + version.hex())
    # 2) The version, as the registry holds it.
    try:
        record = read_version(client, dataset_id, root)
    except ContractRevertError as exc:
        if exc.error_name == "DatasetRegistryUnknownVersion":
            earlier = (
                f" (a {LEGACY_BUNDLE_FORMAT} bundle was made for the earlier registry, whose "
                "dataset ids were keccak256 of the code alone: ask its publisher for a new one)"
                if legacy
                else ""
            )
            raise UnknownRootError(
                f"dataset 0x{dataset_id.hex()} holds no version of root 0x{root.hex()} on "
                f"chain {client.chain_id}{earlier}."
            ) from None
        raise
    if record.revoked_at:
        raise RevokedVersionError(
            f"version 0x{version.hex()} (root 0x{root.hex()} of dataset 0x{dataset_id.hex()}) "
            f"was revoked by its owner at {_iso(record.revoked_at)}."
        )
    if not client.call("DatasetRegistry", "verifyLeaf", dataset_id, root, leaf, proof):
        raise RootMismatchError("the contract does not accept the proof for this root.")
    leaf_is = leaf_kind(bundle["leaf"]["types"])[0]
    if leaf_is == "record":
        erased = int(client.call("DatasetRegistry", "erasedCount", dataset_id, root))
        if erased:  # the chain holds only the root of the erased leaves (docs/ERASURE.md)
            unchecked.append(
                f"its owner has erased {erased} record(s) of this version "
                "(DatasetRegistry.erasedCount): whether this record is one of them is not "
                "checked here; its owner's gateway answers that (GET /v1/verify)."
            )
    # 3) Its anchor event, in the block the registry names: transaction and publisher.
    event = _anchor_event(client, dataset_id, root, record.block_number)
    block = client.block(record.block_number)
    if block is None or int(block["timestamp"]) != record.anchored_at:
        raise BundleClaimError(
            f"block {record.block_number} does not have the time the registry records for "
            "the version."
        )
    anchored_at = _iso(record.anchored_at)
    # 4) Every claim the bundle makes, against those facts.
    claims: list[tuple[str, type, Any]] = [
        ("transaction", str, event["transaction"]),
        ("block_number", int, record.block_number),
        ("anchored_at", str, anchored_at),
        ("leaf_count", int, record.leaf_count),
    ]
    for name, kind, actual in claims:
        claimed = _claim(bundle, name, kind, legacy=legacy, unchecked=unchecked)
        if claimed is None:
            continue
        if name == "transaction":
            claimed = "0x" + _bundle_hash(claimed, name).hex()
        elif name == "anchored_at":
            claimed = _same_time(claimed, actual)
        if claimed != actual:
            raise _differs(_CLAIMS[name], claimed, actual)
    if int(event["leafCount"]) != record.leaf_count:
        raise BundleClaimError("the anchor event and the registry disagree on the leaf count.")
    anchored_by = bytes(HexBytes(event["departmentId"]))
    if not legacy:
        publisher = _field(bundle, "publisher", dict)
        claimed_id = _bundle_hash(publisher.get("id"), "publisher.id")
        if claimed_id != anchored_by:
            raise _differs("publisher", "0x" + claimed_id.hex(), "0x" + anchored_by.hex())
    owner = bytes(client.call("DatasetRegistry", "ownerOf", dataset_id))
    # 5) Deep enough.
    depth = client.block_number() - record.block_number + 1
    if depth < confirmations:
        raise NotConfirmedError(
            f"the anchor has {depth} confirmation(s); {confirmations} are required."
        )
    # 6) The cosigned checkpoint, on the node's chain.
    checkpoint = None
    if not legacy and bundle.get("checkpoint") is not None:

        def node_hash(number: int) -> str | None:
            found = client.block(number)
            return None if found is None else "0x" + bytes(found["hash"]).hex()

        try:
            checkpoint = check_bundle_checkpoint(
                bundle["checkpoint"],
                trust,
                block_number=record.block_number,
                hash_at=node_hash,
                where="the node",
            ).as_dict()
        except CheckpointError as exc:
            if exc.reason != "trust-no-cosigners":
                raise
            unchecked.append(NO_COSIGNERS)
    return BundleCheck(
        format=fmt,
        leaf="0x" + leaf.hex(),
        kind=leaf_is,
        root="0x" + root.hex(),
        dataset_id="0x" + dataset_id.hex(),
        version_id="0x" + version.hex(),
        owner=named_department(client, owner),
        publisher=named_department(client, anchored_by),
        leaf_count=record.leaf_count,
        transaction=event["transaction"],
        block_number=record.block_number,
        anchored_at=anchored_at,
        confirmations=depth,
        chain_id=client.chain_id,
        contract=registry,
        consortium=trust.fingerprint,
        unchecked=unchecked,
        checkpoint=checkpoint,
    )


def _same_time(claimed: str, actual: str | None) -> str | None:
    """``actual`` when the time ``claimed`` is the same instant, else ``claimed`` as given."""
    try:
        when = datetime.fromisoformat(claimed.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("no UTC offset")
        if actual is not None and when == datetime.fromisoformat(actual):
            return actual
    except ValueError:
        raise BundleFormatError(
            "`anchored_at` in the proof bundle is not an ISO 8601 time."
        ) from None
    return claimed
