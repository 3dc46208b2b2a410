"""Proof bundles (``xietong-proof/1``): checked with nothing but the bundle and any node.

:func:`check_bundle_offline` is pure (form and Merkle path, no I/O); :func:`verify_bundle`
then asks the chain about the root, trusting nothing from the gateway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from web3 import Web3

from .. import merkle
from ..chain.artifacts import load_artifact
from ..chain.client import ChainClient
from ..chain.reads import read_version
from ..db.queries import iso as _iso  # None for None and for "forever" (after 9999)
from ..errors import ContractRevertError, InputError
from ..hashing import loads_strict
from ..refs import parse_hash
from ._errors import (
    BundleFormatError,
    NotConfirmedError,
    RevokedVersionError,
    RootMismatchError,
    UnknownRootError,
)

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_SIZE",
    "BundleCheck",
    "check_bundle_offline",
    "load_bundle",
    "verify_bundle",
]

BUNDLE_FORMAT = "xietong-proof/1"
#: Largest bundle text read (a real one, with a 256-step proof, is about 20 KB).
MAX_BUNDLE_SIZE = 1 << 20
_MAX_DEPTH = 16  # a bundle nests 3 levels


@dataclass(frozen=True)
class BundleCheck:
    """A proof bundle that verified, and what the chain says about it."""

    leaf: str
    root: str
    dataset_id: str
    department_id: str | None
    leaf_count: int
    block_number: int
    anchored_at: str | None
    confirmations: int
    chain_id: int
    contract: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(bundle: dict[str, Any], name: str, kind: type) -> Any:
    if name not in bundle:
        raise BundleFormatError(f"the proof bundle has no `{name}`.")
    value = bundle[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BundleFormatError(f"`{name}` in the proof bundle must be a {kind.__name__}.")
    return value


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


def check_bundle_offline(bundle: Any) -> tuple[bytes, list[bytes], bytes]:
    """Check a bundle's form and Merkle path without any I/O; returns (leaf, proof, root)."""
    if not isinstance(bundle, dict):
        raise BundleFormatError("a proof bundle is a JSON object.")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleFormatError(
            f"this is not a {BUNDLE_FORMAT} proof bundle (format {_shown(bundle.get('format'))})."
        )
    leaf_info = _field(bundle, "leaf", dict)
    types, values = leaf_info.get("types"), leaf_info.get("values")
    if types not in (list(merkle.FILE_LEAF_TYPES), list(merkle.RECORD_LEAF_TYPES)):
        raise BundleFormatError(
            "`leaf.types` must be [bytes32, string] (file) or [bytes32, bytes32] (record)."
        )
    if not isinstance(values, list) or len(values) != 2:
        raise BundleFormatError("`leaf.values` must hold two values.")
    decoded: list[Any] = [_bundle_hash(values[0], "leaf.values[0]")]
    if types[1] == "string":
        if not isinstance(values[1], str):
            raise BundleFormatError("`leaf.values[1]` (the path) must be a string.")
        try:
            values[1].encode("utf-8")
        except UnicodeEncodeError:
            raise BundleFormatError(
                "`leaf.values[1]` (the path) is not valid Unicode (it holds a lone surrogate)."
            ) from None
        decoded.append(values[1])
    else:
        decoded.append(_bundle_hash(values[1], "leaf.values[1]"))
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
    return leaf, proof, root


def verify_bundle(bundle: Any, w3: Web3, *, confirmations: int = 1) -> BundleCheck:
    """Check ``bundle`` offline, then its root on the chain ``w3`` talks to.

    Nothing from the gateway is trusted: the contract address and chain id come from the
    bundle and are checked against the node; the ABI is the committed artifact's.
    """
    leaf, proof, root = check_bundle_offline(bundle)
    contract_address = _field(bundle, "contract", str)
    if not is_hex_address(contract_address):
        raise BundleFormatError("`contract` in the proof bundle must be an address.")
    expected_chain = _field(bundle, "chain_id", int)
    dataset_id = _bundle_hash(bundle.get("dataset_id"), "dataset_id")
    client = ChainClient(w3, {})
    if client.chain_id != expected_chain:
        raise UnknownRootError(
            f"the node serves chain {client.chain_id}, but the bundle was anchored on chain {expected_chain}."
        )
    address = to_checksum_address(contract_address)
    if not w3.eth.get_code(address):
        raise UnknownRootError(f"there is no contract at {address} on chain {client.chain_id}.")
    registry = w3.eth.contract(address=address, abi=load_artifact("DatasetRegistry").abi)
    client.contracts["DatasetRegistry"] = registry
    try:
        version = read_version(client, root)
    except ContractRevertError as exc:
        if exc.error_name == "DatasetRegistryUnknownRoot":
            raise UnknownRootError(
                f"root 0x{root.hex()} is not anchored on chain {client.chain_id}."
            ) from None
        raise
    if version.dataset_id != dataset_id:
        raise UnknownRootError(
            f"root 0x{root.hex()} belongs to dataset 0x{version.dataset_id.hex()}, not 0x{dataset_id.hex()}."
        )
    if version.revoked_at:
        raise RevokedVersionError(
            f"version 0x{root.hex()} was revoked by its owner at {_iso(version.revoked_at)}."
        )
    if not client.call("DatasetRegistry", "verifyLeaf", root, leaf, proof):
        raise RootMismatchError("the contract does not accept the proof for this root.")
    depth = int(w3.eth.block_number) - version.block_number + 1
    if depth < confirmations:
        raise NotConfirmedError(
            f"the anchor has {depth} confirmation(s); {confirmations} are required."
        )
    return BundleCheck(
        leaf="0x" + leaf.hex(),
        root="0x" + root.hex(),
        dataset_id="0x" + dataset_id.hex(),
        department_id=None,
        leaf_count=version.leaf_count,
        block_number=version.block_number,
        anchored_at=_iso(version.anchored_at),
        confirmations=depth,
        chain_id=client.chain_id,
        contract=address,
    )
