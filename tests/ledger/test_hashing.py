"""ledger.hashing: RFC 8785 vectors, file and directory hashing with every refusal, CSV and
JSON Lines records, the salts sidecar, and property tests."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import stat
import struct
import tempfile
import unicodedata
from collections.abc import Callable
from enum import IntEnum, StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger import hashing
from ledger.errors import InputError, LedgerError
from ledger.hashing import (
    CHUNK_SIZE,
    CanonicalJsonError,
    DuplicatePathError,
    EmptyDatasetError,
    FileChangedError,
    FileEntry,
    NotARegularFileError,
    PathEscapesRootError,
    PathNameError,
    RecordFormatError,
    RootNotADirectoryError,
    Salts,
    SaltsExistError,
    SaltsFileError,
    SaltsMismatchError,
    SymlinkRefusedError,
    UnreadableFileError,
    canonical_json,
    canonicalize_json_text,
    ecmascript_number,
    file_entry,
    hash_records,
    leaf_path,
    read_salts,
    record_entry,
    record_hash,
    sha256_file,
    walk_directory,
    write_salts,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "canonical_json.json").read_text(encoding="utf-8")
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def vector_input(case: dict[str, Any]) -> bytes:
    if "input_ieee754" in case:
        value = struct.unpack(">d", bytes.fromhex(case["input_ieee754"]))[0]
        return canonical_json(value)
    return canonicalize_json_text(case["input"])


def utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def oz_record_leaf(record_hash_: bytes, salt: bytes) -> bytes:
    """OpenZeppelin StandardMerkleTree leaf of (bytes32, bytes32): keccak(keccak(abi.encode))."""
    return keccak(keccak(record_hash_ + salt))


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


# ============================================================================ files


@pytest.mark.parametrize(
    "size", [0, 1, 4095, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17]
)
def test_sha256_file_equals_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    calls: list[tuple[int, int]] = []
    assert sha256_file(path, on_progress=lambda done, total: calls.append((done, total))) == sha(
        data
    )
    assert sha256_file(str(path)) == sha(data)
    if size:
        assert calls[-1] == (size, size)
        assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    else:
        assert calls == []


def test_sha256_file_follows_a_link_given_by_the_caller(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"content")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert sha256_file(tmp_path / "link") == sha(b"content")


def test_sha256_file_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotARegularFileError, match="FIFO"):
        sha256_file(tmp_path / "fifo")  # refused, never blocks waiting for a writer
    with pytest.raises(NotARegularFileError, match="directory"):
        sha256_file(tmp_path)
    with pytest.raises(UnreadableFileError, match="does not exist"):
        sha256_file(tmp_path / "missing")


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {
    "b.txt": b"b",
    "a/b": b"a/b",
    "a-b": b"a-b",
    "a0": b"a0",
    "B": b"upper",
    ".hidden": b"dot",
    "sub/.env": b"SECRET=1",
    "sub/deeper/empty.bin": b"",
    "é.txt": "é".encode(),
    "z/說明.md": "說明".encode(),
}


def test_walk_order_is_utf8_byte_order_with_hidden_and_empty_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", TREE)
    (root / "empty-dir" / "inner").mkdir(parents=True)  # directories alone are not leaves
    entries = walk_directory(root)
    paths = [e.path for e in entries]
    assert paths == sorted(TREE, key=lambda p: p.encode("utf-8"))
    assert paths[:5] == [".hidden", "B", "a-b", "a/b", "a0"]  # "-" < "/" < "0" bytewise
    for entry in entries:
        assert entry == FileEntry(
            content_sha256=sha(TREE[entry.path]), path=entry.path, size=len(TREE[entry.path])
        )


def test_walk_is_independent_of_creation_order(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", TREE)
    two = make_tree(tmp_path / "two", dict(reversed(list(TREE.items()))))
    assert walk_directory(one) == walk_directory(two)
    assert walk_directory(one) == walk_directory(str(one))


def test_walk_reports_progress_over_all_bytes(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"big": os.urandom(2 * CHUNK_SIZE + 5), "small": b"x"})
    calls: list[tuple[int, int]] = []
    walk_directory(root, on_progress=lambda done, total: calls.append((done, total)))
    total = 2 * CHUNK_SIZE + 6
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_paths_are_nfc_normalized(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert decomposed != "café.txt"
    root = make_tree(tmp_path / "data", {decomposed: b"x"})
    [entry] = walk_directory(root)
    assert entry.path == "café.txt" == unicodedata.normalize("NFC", entry.path)


def test_names_equal_after_nfc_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"café": b"1", unicodedata.normalize("NFD", "café"): b"2"})
    with pytest.raises(DuplicatePathError, match="café"):
        walk_directory(root)


def test_names_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"ok.txt": b"x"})
    fd = os.open(os.fsencode(root) + b"/caf\xe9.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    with pytest.raises(PathNameError, match="not valid UTF-8"):
        walk_directory(root)


def test_symlink_to_a_file_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (root / "link.txt").symlink_to(root / "real.txt")
    with pytest.raises(SymlinkRefusedError, match=r"link\.txt"):
        walk_directory(root)


def test_symlink_to_a_directory_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"sub/real.txt": b"x"})
    outside = make_tree(tmp_path / "outside", {"secret.txt": b"s"})
    (root / "sub" / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SymlinkRefusedError, match="sub/escape"):
        walk_directory(root)


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SymlinkRefusedError):
        walk_directory(root)


def test_root_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    with pytest.raises(SymlinkRefusedError, match="alias"):
        walk_directory(tmp_path / "alias")


def test_fifo_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real.txt": b"x"})
    os.mkfifo(root / "pipe")
    with pytest.raises(NotARegularFileError, match=r"pipe under .* is a FIFO"):
        walk_directory(root)


def test_socket_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"real.txt": b"x"})
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(root / "s"))
        with pytest.raises(NotARegularFileError, match=r"s under .* is a socket"):
            walk_directory(root)
    finally:
        server.close()


def test_root_must_be_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(RootNotADirectoryError, match="does not exist"):
        walk_directory(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(RootNotADirectoryError, match="not a directory"):
        walk_directory(tmp_path / "file")


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyDatasetError, match="nothing to anchor"):
        walk_directory(tmp_path / "empty")
    (tmp_path / "empty" / "only" / "dirs").mkdir(parents=True)
    with pytest.raises(EmptyDatasetError):
        walk_directory(tmp_path / "empty")


def run_as_unprivileged(directory: Path, action: Callable[[], object]) -> str:
    """Run ``action`` in a forked child with ``directory`` as working directory and, when the
    tests run as root, the uid/gid of ``nobody`` — root reads any file, nobody does not.
    Returns ``"<ExceptionClass>: <message>"`` (or ``"ok"``)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        result = "crashed"
        try:
            os.close(read_end)
            os.chdir(directory)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                action()
                result = "ok"
            except BaseException as exc:
                result = f"{type(exc).__name__}: {exc}"
            os.write(write_end, result.encode("utf-8"))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode("utf-8")
    os.waitpid(pid, 0)
    return output


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"public.txt": b"x", "secret.txt": b"y"})
    root.chmod(0o755)
    (root / "public.txt").chmod(0o644)
    (root / "secret.txt").chmod(0o000)
    # Sanity: the child can read what is readable, so the refusal below is about the file.
    assert run_as_unprivileged(root, lambda: sha256_file("public.txt")) == "ok"
    result = run_as_unprivileged(root, lambda: walk_directory("."))
    assert result.startswith("UnreadableFileError: cannot open secret.txt"), result
    result = run_as_unprivileged(root, lambda: sha256_file("secret.txt"))
    assert result.startswith("UnreadableFileError: cannot open secret.txt"), result


def test_unreadable_directory_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"public.txt": b"x", "locked/inner.txt": b"y"})
    root.chmod(0o755)
    (root / "public.txt").chmod(0o644)
    (root / "locked").chmod(0o000)
    result = run_as_unprivileged(root, lambda: walk_directory("."))
    assert result.startswith("UnreadableFileError: cannot list the directory locked"), result


def test_file_replaced_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def swap(done: int, total: int) -> None:
        if done == 0:  # listed, nothing hashed yet
            (root / "new").write_bytes(b"b")
            os.replace(root / "new", root / "b.txt")

    with pytest.raises(FileChangedError, match=r"b\.txt was replaced"):
        walk_directory(root, on_progress=swap)


def test_symlink_swapped_in_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})
    (tmp_path / "elsewhere").write_bytes(b"outside")

    def swap(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()
            (root / "b.txt").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(SymlinkRefusedError, match=r"b\.txt"):
        walk_directory(root, on_progress=swap)


def test_fifo_swapped_in_after_listing_is_refused_without_blocking(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def swap(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()
            os.mkfifo(root / "b.txt")

    with pytest.raises(NotARegularFileError, match="FIFO"):
        walk_directory(root, on_progress=swap)


def test_file_growing_while_hashed_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"log.txt": b"first line\n"})

    def grow(done: int, total: int) -> None:
        if done:
            with open(root / "log.txt", "ab") as log:
                log.write(b"more\n")

    with pytest.raises(FileChangedError, match=r"log\.txt changed while it was being hashed"):
        walk_directory(root, on_progress=grow)


def test_file_deleted_after_listing_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"a.txt": b"a", "b.txt": b"b"})

    def delete(done: int, total: int) -> None:
        if done == 0:
            (root / "b.txt").unlink()

    with pytest.raises(FileChangedError, match="disappeared"):
        walk_directory(root, on_progress=delete)


# ---------------------------------------------------------------------------- one file of a tree


def test_file_entry_equals_the_walks_entry(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", TREE)
    walked = {e.path: e for e in walk_directory(root)}
    for name in TREE:
        assert file_entry(root, name) == walked[name]
    assert file_entry(root, "./sub//.env") == walked["sub/.env"]


@pytest.mark.parametrize(
    "crafted", ["../outside.txt", "sub/../../outside.txt", "/etc/passwd", "..", "", "."]
)
def test_paths_escaping_the_root_are_refused(tmp_path: Path, crafted: str) -> None:
    root = make_tree(tmp_path / "data", {"sub/in.txt": b"in"})
    (tmp_path / "outside.txt").write_bytes(b"out")
    with pytest.raises(PathEscapesRootError):
        file_entry(root, crafted)


@pytest.mark.parametrize("parts", [("..", "x"), ("a", ""), ("a/b",), (".",), ()])
def test_leaf_path_refuses_components_that_are_not_plain_names(parts: tuple[str, ...]) -> None:
    with pytest.raises(PathEscapesRootError):
        leaf_path(parts)


def test_file_entry_refuses_links_on_the_way(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data", {"real/f.txt": b"x"})
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "real" / "g.txt").symlink_to(root / "real" / "f.txt")
    with pytest.raises(SymlinkRefusedError, match="alias"):
        file_entry(root, "alias/f.txt")
    with pytest.raises(SymlinkRefusedError, match=r"real/g\.txt"):
        file_entry(root, "real/g.txt")
    with pytest.raises(UnreadableFileError, match="does not exist"):
        file_entry(root, "real/missing.txt")
    with pytest.raises(NotARegularFileError):
        file_entry(root, "real")


def test_every_refusal_is_an_input_error_with_a_kind() -> None:
    for name in hashing.__all__:
        obj = getattr(hashing, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, InputError) and issubclass(obj, LedgerError), name
            assert obj.kind not in ("bad-input", "ledger-error"), name


# ============================================================================ records


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


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


def test_no_repr_or_message_shows_a_salt(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "id\n1\n2\n")
    records = hash_records(path)
    sidecar = tmp_path / "r.salts.json"
    write_salts(sidecar, records.salts)
    texts = [repr(records), repr(records.salts), repr(records.entries), str(records.entries[0])]
    write(path, "id\n1\n3\n")
    for action in (
        lambda: hash_records(path, salts=records.salts),
        lambda: read_salts(sidecar, data=path),
        lambda: write_salts(sidecar, records.salts),
    ):
        with pytest.raises(InputError) as info:
            action()
        texts.append(str(info.value))
    for salt in records.salts.values:
        for text in texts:
            assert salt.hex() not in text and repr(salt) not in text and salt.hex()[:16] not in text


# ============================================================================ salts sidecar


@pytest.fixture
def csv_with_salts(tmp_path: Path) -> tuple[Path, Path, Salts]:
    data = write(tmp_path / "dibao.csv", "编号,姓名\nDB1,王明\nDB2,李华\nDB3,张伟\n")
    salts = hash_records(data).salts
    sidecar = tmp_path / "dibao.csv.salts.json"
    write_salts(sidecar, salts)
    return data, sidecar, salts


def test_salts_round_trip(csv_with_salts: tuple[Path, Path, Salts]) -> None:
    data, sidecar, salts = csv_with_salts
    again = read_salts(sidecar, data=data)
    assert again == salts
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    document = json.loads(sidecar.read_text(encoding="utf-8"))
    assert document == {
        "format": "xietong-salts/1",
        "source": "dibao.csv",
        "source_sha256": sha256_file(data).hex(),
        "record_format": "csv",
        "rows": 3,
        "salts": [s.hex() for s in salts.values],
    }
    assert len(sidecar.read_text(encoding="utf-8").splitlines()) == 9 + 3  # one salt per line
    assert sorted(p.name for p in sidecar.parent.iterdir()) == [
        "dibao.csv",
        "dibao.csv.salts.json",
    ]  # no temporary file left


def test_same_salts_give_the_same_entries(csv_with_salts: tuple[Path, Path, Salts]) -> None:
    data, sidecar, salts = csv_with_salts
    first = hash_records(data, salts=read_salts(sidecar))
    second = hash_records(data, salts=read_salts(sidecar))
    assert first.entries == second.entries
    assert [e.salt for e in first.entries] == list(salts.values)
    assert first.salts == salts


def test_salts_are_never_overwritten_unless_asked(csv_with_salts: tuple[Path, Path, Salts]) -> None:
    data, sidecar, _ = csv_with_salts
    before = sidecar.read_bytes()
    other = hash_records(data).salts
    with pytest.raises(SaltsExistError, match="already exists"):
        write_salts(sidecar, other)
    assert sidecar.read_bytes() == before
    write_salts(sidecar, other, overwrite=True)
    assert read_salts(sidecar) == other
    assert sorted(p.name for p in sidecar.parent.iterdir()) == ["dibao.csv", "dibao.csv.salts.json"]


def test_salts_of_another_file_are_refused(
    csv_with_salts: tuple[Path, Path, Salts], tmp_path: Path
) -> None:
    data, sidecar, salts = csv_with_salts
    more_rows = write(tmp_path / "more.csv", data.read_text(encoding="utf-8") + "DB4,刘洋\n")
    edited = write(tmp_path / "edited.csv", "编号,姓名\nDB1,王明\nDB2,李华\nDB3,张三\n")
    for other in (more_rows, edited):
        with pytest.raises(SaltsMismatchError, match="use the sidecar made for this exact file"):
            hash_records(other, salts=salts)
        with pytest.raises(SaltsMismatchError):
            read_salts(sidecar, data=other)
    as_jsonl = write(tmp_path / "dibao.jsonl", '{"a": 1}\n')
    with pytest.raises(SaltsMismatchError, match="made for csv records"):
        hash_records(as_jsonl, salts=salts)
    with pytest.raises(SaltsMismatchError, match="3 rows"):
        salts.check_matches(
            source_sha256=salts.source_sha256, record_format="csv", rows=4, name="dibao.csv"
        )


def edit_sidecar(sidecar: Path, change: Callable[[dict[str, Any]], object]) -> None:
    document = json.loads(sidecar.read_text(encoding="utf-8"))
    change(document)
    sidecar.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="xietong-salts/2"), "format is 'xietong-salts/2'"),
        (lambda d: d.pop("rows"), "lacks rows"),
        (lambda d: d.update(extra=1), "unknown keys extra"),
        (lambda d: d.update(rows=4), "declares 4 rows but holds 3 salts"),
        (lambda d: d.update(rows="3"), "rows is not a positive integer"),
        (lambda d: d.update(record_format="xml"), "record_format is 'xml'"),
        (lambda d: d["salts"].__setitem__(1, "zz" * 32), "salt of row 1 .* not 64 hex digits"),
        (lambda d: d["salts"].__setitem__(2, d["salts"][2][:-2]), "salt of row 2"),
        (lambda d: d["salts"].__setitem__(0, d["salts"][0].upper()), "not lower-case hex"),
        (lambda d: d["salts"].__setitem__(2, d["salts"][0]), "a salt appears twice"),
        (lambda d: d.update(source_sha256="00"), "source_sha256 .* not 64 hex digits"),
        (lambda d: d.update(source=7), "source is not a string"),
    ],
)
def test_malformed_sidecars_are_refused(
    csv_with_salts: tuple[Path, Path, Salts],
    change: Callable[[dict[str, Any]], object],
    message: str,
) -> None:
    _, sidecar, _ = csv_with_salts
    edit_sidecar(sidecar, change)
    with pytest.raises(SaltsFileError, match=message):
        read_salts(sidecar)


def test_sidecar_that_is_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SaltsFileError, match="does not exist"):
        read_salts(tmp_path / "missing.json")
    with pytest.raises(SaltsFileError, match="not valid JSON"):
        read_salts(write(tmp_path / "broken.json", '{"format": '))
    with pytest.raises(SaltsFileError, match="appears twice"):
        read_salts(write(tmp_path / "dup.json", '{"format": "xietong-salts/1", "format": 1}'))
    with pytest.raises(SaltsFileError, match="not a JSON object"):
        read_salts(write(tmp_path / "list.json", "[]"))
    with pytest.raises(SaltsFileError, match="not UTF-8"):
        read_salts(write(tmp_path / "bin.json", b"\xff\xfe"))


def test_salts_object_is_validated() -> None:
    digest = sha(b"x")
    with pytest.raises(SaltsFileError, match="not 32 bytes"):
        Salts(source_name="x.csv", source_sha256=digest, record_format="csv", values=(b"1",))
    with pytest.raises(SaltsFileError, match="at least one salt"):
        Salts(source_name="x.csv", source_sha256=digest, record_format="csv", values=())


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
