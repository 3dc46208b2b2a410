"""ledger.hashing._canonical: RFC 8785 vectors, canonical JSON of Python values and of JSON
text, ECMAScript number text, property tests, and any text parsed strictly: a value or a
typed ``CanonicalJsonError``, never another exception."""

from __future__ import annotations

import hashlib
import json
import random
import struct
from enum import IntEnum, StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import eth_account  # noqa: F401 - as in the gateway: its py_ecc raises the recursion limit
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ledger.hashing import (
    CanonicalJsonError,
    canonical_json,
    canonicalize_json_text,
    ecmascript_number,
    loads_strict,
    record_hash,
)
from tests.ledger._fuzz import assert_short_one_line, attempt
from tests.ledger.hashing._support import FUZZ

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "canonical_json.json").read_text(encoding="utf-8")
)


def vector_input(case: dict[str, Any]) -> bytes:
    if "input_ieee754" in case:
        value = struct.unpack(">d", bytes.fromhex(case["input_ieee754"]))[0]
        return canonical_json(value)
    return canonicalize_json_text(case["input"])


def utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


# ============================================================================ vectors


@pytest.mark.parametrize("case", VECTORS["valid"], ids=[c["desc"][:60] for c in VECTORS["valid"]])
def test_valid_vector(case: dict[str, Any]) -> None:
    got = vector_input(case)
    assert got == case["expected"].encode("utf-8")
    if "expected_utf8_hex" in case:
        assert got.hex() == case["expected_utf8_hex"]


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=[c["name"] for c in VECTORS["invalid"]])
def test_invalid_vector(case: dict[str, Any]) -> None:
    assert case["error"] == "CanonicalJsonError"
    with pytest.raises(CanonicalJsonError):
        vector_input(case)


def test_vectors_hold_the_rfc_examples() -> None:
    descs = [c["desc"] for c in VECTORS["valid"]]
    assert sum(d.startswith("RFC 8785 Appendix B") for d in descs) == 24
    assert any("§3.2.3" in d and "sorting" in d for d in descs)
    assert any("expected_utf8_hex" in c for c in VECTORS["valid"])
    names = {c["name"] for c in VECTORS["invalid"]}
    assert {"nan", "infinity", "duplicate-member-name", "integer-beyond-2^53"} <= names


# ============================================================================ canonical JSON


def test_rfc_sorting_example_as_python_object() -> None:
    row = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    text = canonical_json(row).decode("utf-8")
    names = list(json.loads(text))
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert names != sorted(row)  # code-point order differs: a plain sort would fail here


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a"}, "member names must be strings"),
        ({"a": b"bytes"}, "bytes has no JSON form"),
        ({"a": {1, 2}}, "set has no JSON form"),
        (object(), "object has no JSON form"),
        (float("nan"), "NaN"),
        ([float("-inf")], "-Infinity"),
        (2**53 + 1, "beyond ±2^53"),
        (-(2**64), "beyond ±2^53"),
        ("\udfff", "lone surrogate U+DFFF"),
        ({"\ud800": 1}, "lone surrogate U+D800"),
    ],
)
def test_values_without_canonical_form_are_refused(value: Any, message: str) -> None:
    with pytest.raises(CanonicalJsonError, match=message.replace("^", r"\^").replace("+", r"\+")):
        canonical_json(value)


def test_nesting_depth_is_bounded() -> None:
    deep: Any = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(CanonicalJsonError, match="nested more than"):
        canonical_json(deep)


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def test_json_like_python_types() -> None:
    assert canonical_json((1, "a", None)) == b'[1,"a",null]'
    assert canonical_json(MappingProxyType({"b": 1, "a": 2})) == b'{"a":2,"b":1}'
    assert canonical_json({"c": Colour.RED, "l": Level.HIGH}) == b'{"c":"red","l":3}'
    assert canonical_json([True, False, 1]) == b"[true,false,1]"  # bool is not 1
    assert canonical_json(2**53) == b"9007199254740992"
    assert canonical_json(-(2**53)) == b"-9007199254740992"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.0001, "0.0001"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.1, "0.1"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (123456789.125, "123456789.125"),
        (2.0**60, "1152921504606847000"),
        (-0.0, "0"),
    ],
)
def test_ecmascript_number(value: float, text: str) -> None:
    assert ecmascript_number(value) == text


def test_strict_text_parsing_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(CanonicalJsonError, match="not valid UTF-8"):
        canonicalize_json_text(b'"\xff"')
    assert canonicalize_json_text(b'{"b":1, "a":"x"}') == b'{"a":"x","b":1}'


# ---------------------------------------------------------------------------- properties

finite_doubles = st.floats(allow_nan=False, allow_infinity=False).filter(
    # Doubles of magnitude in (2^53, 1e21) print as integer digits beyond 2^53, which
    # json.loads returns as a Python int that canonical_json refuses (it cannot be exact).
    lambda x: not (2.0**53 < abs(x) < 1e21)
)
safe_ints = st.integers(min_value=-(2**53), max_value=2**53)
json_text = st.text(st.characters(codec="utf-8"), max_size=12)
json_scalars = st.none() | st.booleans() | safe_ints | finite_doubles | json_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(json_text, children, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values)
def test_canonical_json_is_idempotent_through_json_loads(value: Any) -> None:
    once = canonical_json(value)
    again = canonical_json(json.loads(once))
    assert again == once
    assert json.loads(once) == value  # same value (1.0 == 1, -0.0 == 0)


@given(st.dictionaries(json_text, json_scalars, min_size=1, max_size=8), st.randoms())
def test_canonical_json_ignores_member_order(row: dict[str, Any], rnd: Any) -> None:
    items = list(row.items())
    rnd.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(row)
    assert record_hash(dict(items)) == record_hash(row)


@given(st.dictionaries(json_text, json_text, max_size=8))
def test_canonical_json_of_strings_matches_an_independent_encoder(row: dict[str, str]) -> None:
    ordered = dict(sorted(row.items(), key=lambda item: utf16(item[0])))
    expected = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))
    assert canonical_json(row) == expected.encode("utf-8")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_round_trips_and_follows_the_ecmascript_layout(value: float) -> None:
    text = ecmascript_number(value)
    assert float(text) == value
    magnitude = abs(value)
    assert ("e" in text) == (magnitude != 0 and not (1e-6 <= magnitude < 1e21))
    assert not text.endswith(".0") and "E" not in text and "+" not in text.split("e")[0]


# ---------------------------------------------------------------------------- fuzzed: any value, any text


nested_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same value with every object's members in another order."""
    if isinstance(value, dict):
        items = [(k, shuffled(v, rnd)) for k, v in value.items()]
        rnd.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


@FUZZ
@given(nested_values, st.randoms(use_true_random=False))
def test_canonical_form_ignores_member_order_at_every_depth(value: Any, rnd: random.Random) -> None:
    canonical = canonical_json(value)
    assert canonical_json(shuffled(value, rnd)) == canonical
    # Parsing the text (any layout) gives the same canonical bytes.
    text = json.dumps(
        shuffled(value, rnd), indent=rnd.choice([None, 1, 4]), ensure_ascii=rnd.random() < 0.5
    )
    assert canonical_json(loads_strict(text)) == canonical
    assert hashlib.sha256(canonical).digest() == hashlib.sha256(canonical_json(value)).digest()


@FUZZ
@given(st.text(st.characters(exclude_categories=[]), max_size=300))
@example("1" * 5000)
@example("[" * 300_000)
@example('{"a":' * 201 + "1" + "}" * 201)
def test_loads_strict_gives_a_value_or_canonical_json_error(text: str) -> None:
    _, error = attempt(lambda: loads_strict(text))
    if error is not None:
        assert isinstance(error, CanonicalJsonError)
        assert_short_one_line(error, text)
