"""CSV and JSON Lines files under hostile input: a typed ``HashingError`` or the same hashes
every time, never another exception. (The well-formed cases are in tests/ledger/test_hashing.py.)"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import eth_account  # noqa: F401 - as in the gateway: its py_ecc raises the recursion limit
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.hashing import (
    CanonicalJsonError,
    HashingError,
    RecordFormatError,
    canonical_json,
    hash_records,
    loads_strict,
)
from tests.ledger._fuzz import assert_short_one_line, attempt

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Bytes that stress the parsers: quotes, separators, line ends, BOM, NUL, GBK, bad UTF-8.
PIECES = [
    b",",
    b'"',
    b'""',
    b"\n",
    b"\r\n",
    b"\r",
    b"\xef\xbb\xbf",
    b"\x00",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"a",
    b"1",
    b"1e999",
    b"NaN",
    b"9" * 400,
    "编号".encode(),
    "编号".encode("gbk"),
    b"\xff",
    b"\xc3",
    b" ",
    b"\\u0000",
    b"\\ud800",
    b'"k"',
]
messy = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join) | st.binary(max_size=200)


def hashes_of(path: Path, fmt: str) -> tuple[Any, HashingError | None]:
    entries, error = attempt(lambda: hash_records(path, fmt=fmt, salts=None).entries)  # type: ignore[arg-type]
    if error is not None:
        assert isinstance(error, HashingError), repr(error)
        assert_short_one_line(error)
        return None, error
    return [entry.record_hash for entry in entries or []], None


@FUZZ
@given(messy, st.sampled_from(["csv", "jsonl"]))
@example(b'{"a": ' + b"1" * 5000 + b"}\n", "jsonl")  # int() beyond 4300 digits: was ValueError
@example(b"[" * 300_000 + b"\n", "jsonl")  # was a segfault once py_ecc raised the recursion limit
@example(b'{"a": 1, "a": 2}\n', "jsonl")
@example(b'{"a": NaN}\n', "jsonl")
@example(b'{"a": "\\ud800"}\n', "jsonl")
@example("编号,姓名\nDB1,王明\n".encode("gbk"), "csv")
@example(b'a,b\n"x\ny",2\n', "csv")
@example(b"a,b\n1,\x002\n", "csv")
@example(b'a,b\n1,"2\n', "csv")
@example(b"\xef\xbb\xbfa,a\n1,2\n", "csv")
def test_any_file_gives_typed_errors_or_the_same_hashes(
    tmp_path: Path, content: bytes, fmt: str
) -> None:
    path = tmp_path / f"data.{fmt}"
    path.write_bytes(content)
    first, error = hashes_of(path, fmt)
    again, error_again = hashes_of(path, fmt)
    assert first == again and type(error) is type(error_again)
    if error is not None:
        assert str(error) == str(error_again)


def test_integers_with_too_many_digits_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": ' + b"1" * 5000 + b"}\n")
    with pytest.raises(RecordFormatError, match=r"^line 2 of .* more than 4300 digits") as info:
        hash_records(path)
    assert info.value.line == 2


def test_deeply_nested_lines_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b"[" * 300_000 + b"\n")
    with pytest.raises(RecordFormatError, match="nested more than 200 levels") as info:
        hash_records(path)
    assert info.value.line == 2


def test_a_long_duplicate_header_is_not_echoed_in_full(tmp_path: Path) -> None:
    name = "字段" * 5000
    path = tmp_path / "dup.csv"
    path.write_text(f"{name},{name}\n1,2\n", encoding="utf-8")
    with pytest.raises(RecordFormatError, match="twice") as info:
        hash_records(path)
    assert_short_one_line(info.value, name)


# ---------------------------------------------------------------------------- canonical JSON


json_values = st.recursive(
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
@given(json_values, st.randoms(use_true_random=False))
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
