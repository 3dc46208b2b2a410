"""Decode contract logs into plain JSON-able event arguments."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from web3.contract import Contract

__all__ = ["canonical_type", "event_topics", "jsonable"]


def jsonable(value: Any) -> Any:
    """bytes → 0x-hex, mappings → dicts, sequences → lists, everything else unchanged."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if hasattr(value, "items"):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def canonical_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an ABI input, tuples spelled out: ``(bytes32,uint64)[]``."""
    kind = str(item["type"])
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(canonical_type(c) for c in item["components"])
    return f"({inner}){kind.removeprefix('tuple')}"


def event_topics(contract: Contract) -> dict[bytes, str]:
    """topic0 → event name for every event in the contract's ABI."""
    names: dict[bytes, str] = {}
    for item in contract.abi:
        entry: dict[str, Any] = dict(item)
        if entry.get("type") == "event":
            types = ",".join(canonical_type(i) for i in entry["inputs"])
            names[keccak(text=f"{entry['name']}({types})")] = str(entry["name"])
    return names
