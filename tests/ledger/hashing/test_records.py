"""ledger.hashing._records: CSV and JSON Lines records, their properties, and hostile input:
a typed ``HashingError`` or the same hashes every time, never another exception."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import eth_account  # noqa: F401 - as in the gateway: its py_ecc raises the recursion limit
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ledger import hashing
from ledger.hashing import (
    EmptyDatasetError,
    FileChangedError,
    HashingError,
    NotARegularFileError,
    RecordFormatError,
    SaltsExistError,
    SaltsMismatchError,
    UnreadableFileError,
    hash_records,
    read_salts,
    record_entry,
    record_hash,
    sha256_file,
    write_salts,
)
from ledger.hashing._records import stream_records
from tests.ledger._fuzz import assert_short_one_line, attempt
from tests.ledger.hashing._support import FUZZ, sha, write


def oz_record_leaf(record_hash_: bytes, salt: bytes) -> bytes:
    """OpenZeppelin StandardMerkleTree leaf of (bytes32, bytes32): keccak(keccak(abi.encode))."""
    return keccak(keccak(record_hash_ + salt))


def hashes(path: Path, **kwargs: Any) -> list[bytes]:
    return [e.record_hash for e in hash_records(path, **kwargs).entries]


def test_csv_rows_are_objects_of_strings(tmp_path: Path) -> None:
    path = write(tmp_path / "dibao.csv", "编号,姓名,金额\nDB007,王明,0120.50\nDB008,李华,\n")
    records = hash_records(path)
    assert records.record_format == "csv"
    assert records.source_name == "dibao.csv"
    assert records.source_sha256 == sha256_file(path)
    assert [e.index for e in records.entries] == [0, 1]
    assert [e.record_hash for e in records.entries] == [
        record_hash({"编号": "DB007", "姓名": "王明", "金额": "0120.50"}),
        record_hash({"编号": "DB008", "姓名": "李华", "金额": ""}),
    ]
    assert records.entries[0].record_hash == sha(
        '{"姓名":"王明","编号":"DB007","金额":"0120.50"}'.encode()
    )


def test_csv_bom_crlf_and_lf_give_the_same_records(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.csv", "id,name\n1,Ann\n2,Bob\n")
    bom_crlf = write(tmp_path / "b.csv", b"\xef\xbb\xbfid,name\r\n1,Ann\r\n2,Bob\r\n")
    no_final_newline = write(tmp_path / "c.csv", "id,name\n1,Ann\n2,Bob")
    assert hashes(plain) == hashes(bom_crlf) == hashes(no_final_newline)
    assert hash_records(plain).source_sha256 != hash_records(bom_crlf).source_sha256


def test_csv_quoting(tmp_path: Path) -> None:
    path = write(
        tmp_path / "q.csv",
        'id,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\nlines"\r\n4,"crlf\r\ninside"\r\n5,ab"c\r\n6,""\r\n',
    )
    texts = ["a, b", 'say "hi"', "two\nlines", "crlf\r\ninside", 'ab"c', ""]
    assert hashes(path) == [
        record_hash({"id": str(i), "text": t}) for i, t in enumerate(texts, start=1)
    ]


def test_csv_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", "\nid,name\n\n1,Ann\n\n\n2,Bob\n\n")
    assert hashes(path) == hashes(write(tmp_path / "p.csv", "id,name\n1,Ann\n2,Bob\n"))


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("id,name\n1,Ann\n2,Bob,extra\n", 3, "has 3 fields but the header has 2"),
        ("id,name\n1\n", 2, "has 1 fields but the header has 2"),
        ('id,name\n1,"multi\nline"\n2\n', 4, "has 1 fields"),
        ('id,name\n1,"bad"quote\n', 2, "not valid CSV"),
        ('id,name\n1,"never closed\n2,x\n', 3, "not valid CSV"),
        ("id,id\n1,2\n", 1, "header on line 1 of .* names the field 'id' twice"),
    ],
)
def test_malformed_csv_is_refused_with_its_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    with pytest.raises(RecordFormatError, match=message) as info:
        hash_records(write(tmp_path / "bad.csv", content))
    assert info.value.line == line
    assert f"line {line} " in str(info.value)


def test_csv_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.csv", "id,name\n1,Ann\n2,José\n".encode("latin-1"))
    with pytest.raises(RecordFormatError, match=r"line 3 of .* is not valid UTF-8") as info:
        hash_records(path)
    assert info.value.line == 3


@pytest.mark.parametrize("content", ["", "\n\n", "id,name\n", "id,name\n\n"])
def test_csv_without_records_is_refused(tmp_path: Path, content: str) -> None:
    with pytest.raises(EmptyDatasetError):
        hash_records(write(tmp_path / "e.csv", content))


def test_jsonl_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.jsonl",
        b'\xef\xbb\xbf{"id": 1, "name": "\\u738b\\u660e", "amount": 12.50}\r\n'
        b"\n   \n"
        b'{"name":"Bob","id":2,"tags":["a"],"x":null}\n',
    )
    records = hash_records(path)
    assert records.record_format == "jsonl"
    assert [e.record_hash for e in records.entries] == [
        sha(b'{"amount":12.5,"id":1,"name":"\xe7\x8e\x8b\xe6\x98\x8e"}'),
        record_hash({"x": None, "tags": ["a"], "id": 2, "name": "Bob"}),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "a JSON array, not an object"),
        ('"text"', "a JSON string, not an object"),
        ("42", "a JSON number, not an object"),
        ("null", "a JSON literal, not an object"),
        ('{"a": 1, "a": 2}', 'member name "a" appears twice'),
        ('{"a": NaN}', "NaN is not finite"),
        ('{"a": Infinity}', "Infinity is not finite"),
        ('{"a": -Infinity}', "-Infinity is not finite"),
        ('{"a": 1e999}', "1e999 is not finite"),
        ('{"a": 9007199254740993}', r"beyond ±2\^53"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('{"a": 1', "not valid JSON"),
        ('{"a": 1} {"b": 2}', "not valid JSON"),
    ],
)
def test_malformed_jsonl_is_refused_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path / "bad.jsonl", '{"ok": 1}\n\n' + line + "\n")
    with pytest.raises(RecordFormatError, match=message) as info:
        hash_records(path)
    assert info.value.line == 3
    assert str(info.value).startswith("line 3 of ")


def test_jsonl_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", b'{"a": "ok"}\n{"a": "\xff"}\n')
    with pytest.raises(RecordFormatError, match=r"line 2 .* not valid UTF-8"):
        hash_records(path)


def test_jsonl_without_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmptyDatasetError):
        hash_records(write(tmp_path / "e.jsonl", "\n \n"))


def test_format_from_suffix_or_explicit(tmp_path: Path) -> None:
    data = "id\n1\n"
    assert hash_records(write(tmp_path / "a.CSV", data)).record_format == "csv"
    nd = hash_records(write(tmp_path / "b.ndjson", '{"id": "1"}\n'))
    assert nd.record_format == "jsonl"
    with pytest.raises(RecordFormatError, match="cannot tell the record format"):
        hash_records(write(tmp_path / "c.txt", data))
    assert hashes(tmp_path / "c.txt", fmt="csv") == hashes(tmp_path / "a.CSV")
    assert hashes(tmp_path / "a.CSV") == [e.record_hash for e in nd.entries]  # same object


def test_records_file_must_be_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(NotARegularFileError):
        hash_records(tmp_path / "pipe.csv")
    with pytest.raises(UnreadableFileError):
        hash_records(tmp_path / "missing.csv")


def test_records_file_growing_while_hashed_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "grow.csv", "id\n" + "".join(f"{i}\n" for i in range(300_000)))

    def grow(done: int, total: int) -> None:
        with open(path, "a", encoding="utf-8") as out:
            out.write("999\n")

    with pytest.raises(FileChangedError, match="changed while it was being hashed"):
        hash_records(path, on_progress=grow)


def test_record_entry_finds_a_row(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "id,name\n1,Ann\n2,Bob\n")
    records = hash_records(path)
    entry = records.entries[1]
    assert record_entry({"name": "Bob", "id": "2"}, entry.salt) == (entry.record_hash, entry.salt)
    with pytest.raises(hashing.HashingError, match="32 bytes, not 5"):
        record_entry({"id": "2"}, b"short")


def test_fresh_salts_are_random_per_row_and_per_run(tmp_path: Path) -> None:
    path = write(tmp_path / "same.csv", "v\nx\nx\nx\n")  # identical rows
    first, second = hash_records(path), hash_records(path)
    assert len({e.record_hash for e in first.entries}) == 1
    salts = [e.salt for e in first.entries + second.entries]
    assert all(len(s) == 32 for s in salts) and len(set(salts)) == 6
    assert first.salts.values == tuple(e.salt for e in first.entries)


def test_records_progress_reaches_the_file_size(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "id\n" + "".join(f"{i}\n" for i in range(300_000)))
    calls: list[tuple[int, int]] = []
    hash_records(path, on_progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert len(calls) > 1 and calls[-1] == (size, size)


# ---------------------------------------------------------------------------- record properties

field_names = st.text(st.characters(codec="utf-8", exclude_characters="\x00\ufeff"), max_size=6)
field_values = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(field_names, min_size=1, max_size=5, unique=True))
    rows = draw(
        st.lists(
            st.lists(field_values, min_size=len(header), max_size=len(header)),
            min_size=1,
            max_size=8,
        )
    )
    return header, rows


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@given(tables())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_csv_records_are_the_canonical_json_of_their_row(
    table: tuple[list[str], list[list[str]]],
) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as directory:
        path = write(Path(directory) / "t.csv", csv_bytes(header, rows))
        assume(not (len(header) == 1 and header[0] == ""))  # a blank header line is skipped
        got = hashes(path)
    expected = [record_hash(dict(zip(header, row, strict=True))) for row in rows]
    assert got == expected


@given(tables(), st.booleans())
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
def test_same_input_and_salts_give_the_same_leaves_and_new_salts_new_leaves(
    table: tuple[list[str], list[list[str]]], as_jsonl: bool
) -> None:
    header, rows = table
    assume(not (len(header) == 1 and header[0] == ""))
    with tempfile.TemporaryDirectory() as directory:
        if as_jsonl:
            text = "".join(json.dumps(dict(zip(header, row, strict=True))) + "\n" for row in rows)
            path = write(Path(directory) / "t.jsonl", text)
        else:
            path = write(Path(directory) / "t.csv", csv_bytes(header, rows))
        first = hash_records(path)
        sidecar = Path(directory) / "t.salts.json"
        write_salts(sidecar, first.salts)
        again = hash_records(path, salts=read_salts(sidecar, data=path))
        fresh = hash_records(path)
    assert again.entries == first.entries
    assert again.source_sha256 == first.source_sha256
    assert [e.record_hash for e in fresh.entries] == [e.record_hash for e in first.entries]
    leaves = {oz_record_leaf(e.record_hash, e.salt) for e in first.entries}
    fresh_leaves = {oz_record_leaf(e.record_hash, e.salt) for e in fresh.entries}
    assert len(leaves) == len(rows)  # even identical rows get distinct leaves
    assert leaves.isdisjoint(fresh_leaves)


# ---------------------------------------------------------------------------- hostile input

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


# ---------------------------------------------------------------------------- streaming


def _streamed(path: Path, **options: Any) -> tuple[Any, list[tuple[bytes, bytes]]]:
    """``stream_records`` of ``path``, with the (record hash, salt) pairs it handed out."""
    packed = bytearray()
    sizes: list[int] = []

    def collect(chunk: bytes) -> None:
        sizes.append(len(chunk))
        packed.extend(chunk)

    result = stream_records(path, collect, **options)
    assert all(size % 64 == 0 for size in sizes)
    pairs = [
        (bytes(packed[k : k + 32]), bytes(packed[k + 32 : k + 64]))
        for k in range(0, len(packed), 64)
    ]
    return result, pairs


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_stream_records_equals_hash_records_and_writes_the_same_sidecar(
    tmp_path: Path, chunk_rows: int, suffix: str
) -> None:
    """Streamed in chunks of any size: the same record hashes, row by row, as
    ``hash_records``; fresh salts, one per row, all different; the sidecar byte for byte what
    ``write_salts`` writes for them, owner-only, and no temporary file left behind."""
    data = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        data.write_text(
            "编号,姓名\n" + "".join(f"DB{i},王{i % 3}\n" for i in range(10)), encoding="utf-8"
        )
    else:
        data.write_text(
            "".join(json.dumps({"n": i, "名": "王"}) + "\n" for i in range(10)), encoding="utf-8"
        )
    sidecar = tmp_path / "rows.salts.json"
    result, pairs = _streamed(data, salts_path=sidecar, chunk_rows=chunk_rows)
    assert result.rows == len(pairs) == 10
    salts = hashing.read_salts(sidecar, data=data)
    assert [salt for _, salt in pairs] == list(salts.values)
    assert len(set(salts.values)) == 10
    records = hashing.hash_records(data, salts=salts)
    assert pairs == [(e.record_hash, e.salt) for e in records.entries]
    assert (result.source_sha256, result.record_format) == (
        records.source_sha256,
        records.record_format,
    )
    again = tmp_path / "again.salts.json"
    hashing.write_salts(again, salts)
    assert sidecar.read_bytes() == again.read_bytes()
    assert os.stat(sidecar).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [data.name, sidecar.name, again.name]
    )
    # With the sidecar's salts: the very same pairs, and nothing written.
    _, reused = _streamed(data, salts=salts, chunk_rows=chunk_rows)
    assert reused == pairs


def test_stream_records_leaves_no_sidecar_when_a_row_is_bad(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("a,b\n" + "1,2\n" * 5 + "1,2,3\n", encoding="utf-8")
    sidecar = tmp_path / "bad.csv.salts.json"
    with pytest.raises(RecordFormatError, match=r"line 7 of .* has 3 fields but the header has 2"):
        _streamed(data, salts_path=sidecar, chunk_rows=2)
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_stream_records_refuses_an_existing_sidecar(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    sidecar = tmp_path / "a.csv.salts.json"
    sidecar.write_text("kept", encoding="utf-8")
    with pytest.raises(SaltsExistError, match="already exists"):
        _streamed(data, salts_path=sidecar)
    assert sidecar.read_text(encoding="utf-8") == "kept"


def test_stream_records_refuses_salts_for_another_row_count(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("a\n1\n2\n", encoding="utf-8")
    _streamed(data, salts_path=tmp_path / "s.json")
    salts = hashing.read_salts(tmp_path / "s.json")
    data.write_text("a\n1\n2\n3\n", encoding="utf-8")
    with pytest.raises(SaltsMismatchError):
        _streamed(data, salts=salts)
