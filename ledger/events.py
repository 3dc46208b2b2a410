"""Decode contract logs into plain JSON-able event arguments.

Two ways, with the same result: web3's ``process_log`` followed by :func:`jsonable` (the
events of a receipt, :meth:`~ledger.chain.client.ChainClient.decode_events`), and
:class:`LogDecoder`, which decodes raw ``eth_getLogs`` entries at a fraction of web3's cost
(the indexer, which reads every log of the chain).

Logs are untrusted input. :class:`LogDecoder` never fails on what a contract can put in an
event: a ``string`` is read as bytes and given as text that every database can store
(:func:`ledger.display.decode_text`: invalid UTF-8 and NUL become U+FFFD); when that text does
not say the bytes exactly, the bytes come along as 0x-hex in ``<name>_hex`` (e.g. ``name_hex``).
A log that cannot be decoded at all (data of the wrong length or not hex, missing fields: a
node answering garbage, since our contracts cannot emit such a log) raises
:class:`UndecodableLogError`, a :class:`~ledger.errors.ChainError`: the indexer stops before
that log rather than skip it (a skipped revocation would leave an agreement authorized in the
index), and the next pass tries again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from .display import decode_text, raw_hex
from .errors import ChainError

__all__ = [
    "DecodedLog",
    "EventDecoder",
    "LogDecoder",
    "UndecodableLogError",
    "canonical_type",
    "event_topics",
    "jsonable",
]


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


# ---------------------------------------------------------------------- raw logs


class UndecodableLogError(ChainError):
    """A log of one of our events whose topics or data cannot be decoded (the node's answer is
    malformed): the index stops before it."""

    kind = "undecodable-log"


_STRING = re.compile(r"\bstring\b")
_HEX = re.compile(r"0x[0-9a-fA-F]*")


def _as_bytes(kind: str) -> str:
    """``kind`` with every ``string`` read as ``bytes`` (the same ABI encoding), so that eth_abi
    never decodes text, which fails on invalid UTF-8."""
    return _STRING.sub("bytes", kind)


def _converter(item: dict[str, Any]) -> Callable[[Any], Any]:
    """How an ABI-decoded value of ``item`` becomes what ``jsonable(process_log(...))`` gives:
    bytes as 0x-hex, addresses checksummed, structs as dicts by component name, arrays as lists."""
    kind = str(item["type"])
    if kind.endswith("]"):
        element = _converter({**item, "type": kind[: kind.rindex("[")]})
        return lambda values: [element(v) for v in values]
    if kind == "tuple":
        fields = [(str(c["name"]), _converter(c)) for c in item["components"]]
        return lambda values: {name: f(v) for (name, f), v in zip(fields, values, strict=True)}
    if kind == "address":
        return to_checksum_address
    if kind == "string":  # decoded as bytes (_as_bytes): the text of them, never failing
        return lambda value: decode_text(bytes(value))
    if kind.startswith("bytes"):
        return lambda value: "0x" + bytes(value).hex()
    return lambda value: value


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _word_reader(kind: str) -> Callable[[str], Any] | None:
    """Reads a value of a one-word type from its 64 hex digits, as ``_converter`` would give it
    after eth_abi (None for the types left to eth_abi)."""
    if kind == "bytes32":
        return lambda word: "0x" + word.lower()
    if kind.startswith("uint"):
        return lambda word: int(word, 16)
    if kind == "address":
        return lambda word: to_checksum_address("0x" + word[24:])
    if kind == "bool":
        return lambda word: int(word, 16) != 0
    return None


_Reader = tuple[bool, Callable[[str], Any]]  # (dynamic array of it?, word reader)


def _data_readers(types: Sequence[str]) -> tuple[_Reader, ...] | None:
    """Word readers for every data value, when all are one-word types or dynamic arrays of
    them (most of our events); None sends the event to eth_abi."""
    readers: list[_Reader] = []
    for kind in types:
        array = kind.endswith("[]")
        read = _word_reader(kind[:-2] if array else kind)
        if read is None:
            return None
        readers.append((array, read))
    return tuple(readers)


@dataclass(frozen=True)
class EventDecoder:
    """Decodes one event of one contract straight from a raw ``eth_getLogs`` entry, with the
    result of web3's ``process_log`` followed by :func:`jsonable` (asserted by the tests), at a
    fraction of its cost. Strings differ only where web3 fails: see the module's docstring."""

    contract: str
    name: str
    topic_names: tuple[str, ...]
    topic_types: tuple[str, ...]
    topic_converters: tuple[Callable[[Any], Any], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    data_converters: tuple[Callable[[Any], Any], ...]
    topic_readers: tuple[Callable[[str], Any] | None, ...]
    data_readers: tuple[_Reader, ...] | None
    #: ``data_types`` as eth_abi reads them: strings as bytes (:func:`_as_bytes`).
    abi_types: tuple[str, ...]

    @classmethod
    def of(cls, contract: str, abi: dict[str, Any]) -> EventDecoder:
        """The decoder of the event ``abi`` (an ABI entry) of the contract called ``contract``."""
        indexed = [dict(i) for i in abi["inputs"] if i.get("indexed")]
        data = [dict(i) for i in abi["inputs"] if not i.get("indexed")]
        # An indexed dynamic value is only its keccak hash in the topic: kept as bytes32.
        topic_types = tuple(
            "bytes32" if _is_dynamic(canonical_type(i)) else canonical_type(i) for i in indexed
        )
        return cls(
            contract=contract,
            name=str(abi["name"]),
            topic_names=tuple(str(i["name"]) for i in indexed),
            topic_types=topic_types,
            topic_converters=tuple(
                _converter({"type": t}) if t == "bytes32" else _converter(i)
                for t, i in zip(topic_types, indexed, strict=True)
            ),
            data_names=tuple(str(i["name"]) for i in data),
            data_types=tuple(canonical_type(i) for i in data),
            data_converters=tuple(_converter(i) for i in data),
            topic_readers=tuple(_word_reader(t) for t in topic_types),
            data_readers=_data_readers([canonical_type(i) for i in data]),
            abi_types=tuple(_as_bytes(canonical_type(i)) for i in data),
        )

    def decode(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        """The event's arguments by name, from a log's 0x-hex topics and data.

        Raises:
            ValueError: The topics or the data are malformed (not hex, of the wrong length);
                eth_abi's DecodingError for data it cannot decode.
        """
        args: dict[str, Any] = {}
        if len(topics) - 1 != len(self.topic_types):
            raise ValueError(f"{self.name}: {len(topics) - 1} topics, not {len(self.topic_types)}")
        if not isinstance(data, str) or not _HEX.fullmatch(data) or len(data) % 2:
            raise ValueError(f"{self.name}: the data is not 0x-hex")
        for name, kind, read, convert, topic in zip(
            self.topic_names,
            self.topic_types,
            self.topic_readers,
            self.topic_converters,
            topics[1:],
            strict=True,
        ):
            if not isinstance(topic, str) or len(topic) != 66 or not _HEX.fullmatch(topic):
                raise ValueError(f"{self.name}: topic {name} is not 32 bytes of 0x-hex")
            if read is not None:
                args[name] = read(topic[2:])
            else:
                args[name] = convert(abi_decode([kind], bytes.fromhex(topic[2:]))[0])
        if self.data_readers is not None:
            self._read_words(data[2:], args)
            return args
        values = abi_decode(self.abi_types, bytes.fromhex(data[2:])) if self.abi_types else ()
        for name, kind, convert, value in zip(
            self.data_names, self.data_types, self.data_converters, values, strict=True
        ):
            args[name] = convert(value)
            if kind == "string":
                exact = raw_hex(bytes(value), args[name])
                if exact is not None:
                    args[f"{name}_hex"] = exact
        return args

    def _read_words(self, body: str, args: dict[str, Any]) -> None:
        """The data values of an event of one-word types and arrays of them (``data_readers``),
        read from the hex ``body``, every offset and length checked against it."""
        assert self.data_readers is not None
        words = len(body) // 64
        if len(body) % 64 or words < len(self.data_names):
            raise ValueError(f"{self.name}: {len(body) // 2} bytes of data do not fit its types")
        for index, (name, (array, read)) in enumerate(
            zip(self.data_names, self.data_readers, strict=True)
        ):
            word = body[64 * index : 64 * index + 64]
            if array:
                offset = int(word, 16)
                if offset % 32 or offset // 32 >= words:
                    raise ValueError(f"{self.name}: the offset of {name} is out of the data")
                at = 2 * offset
                count = int(body[at : at + 64], 16)
                if count > words - offset // 32 - 1:
                    raise ValueError(f"{self.name}: {name} runs past the data")
                args[name] = [
                    read(body[at + 64 * j : at + 64 * j + 64]) for j in range(1, count + 1)
                ]
            else:
                args[name] = read(word)


class DecodedLog(NamedTuple):
    """One log of our contracts, decoded."""

    contract: str  #: the contract's name, e.g. ``DatasetRegistry``
    name: str  #: the event's name
    args: dict[str, Any]  #: its arguments, JSON-able


class LogDecoder:
    """Decodes raw ``eth_getLogs`` entries of the events of ``contracts`` (name → contract)."""

    def __init__(self, contracts: Mapping[str, Contract]) -> None:
        #: (lower-case address, 0x-hex topic0) → decoder, for every event of every contract.
        self.events: dict[tuple[str, str], EventDecoder] = {}
        for name, contract in contracts.items():
            topics = {event: "0x" + topic.hex() for topic, event in event_topics(contract).items()}
            for item in contract.abi:
                entry: dict[str, Any] = dict(item)
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    key = (contract.address.lower(), topics[entry["name"]])
                    self.events[key] = EventDecoder.of(name, entry)

    def decode(self, log: Mapping[str, Any]) -> DecodedLog | None:
        """A raw ``eth_getLogs`` entry as (contract, event name, JSON-able args); None if it is
        no event of these contracts.

        Raises:
            UndecodableLogError: The entry is of one of these events but cannot be decoded.
        """
        try:
            topics = log["topics"]
            if not topics:
                return None
            decoder = self.events.get((str(log["address"]).lower(), str(topics[0]).lower()))
            if decoder is None:
                return None
            args = decoder.decode(topics, log["data"])
        except (DecodingError, ValueError, TypeError, KeyError, IndexError) as exc:
            where = ", ".join(
                f"{key} {log[key]!s:.80}"
                for key in ("blockNumber", "logIndex", "transactionHash")
                if isinstance(log, Mapping) and key in log
            )
            raise UndecodableLogError(
                f"a log ({where or 'no position'}) of our contracts cannot be decoded: "
                f"{type(exc).__name__}: {exc!s:.200}"
            ) from exc
        return DecodedLog(decoder.contract, decoder.name, args)
