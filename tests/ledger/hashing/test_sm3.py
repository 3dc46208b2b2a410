"""SM3 (GM/T 0004-2012) datasets: the standard's vectors through hashlib (OpenSSL), files and
records hashed with SM3 as with SHA-256, OpenSSL's own command agreeing, the SM3 leaf shapes
(the tag "sm3" first) and a dataset's metadata recording its digest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from ledger import hashing, merkle
from ledger.metadata import DATASET_FORMAT, digest_of, metadata_text
from ledger.paths import PROJECT_ROOT

VECTORS: dict[str, Any] = json.loads(
    (PROJECT_ROOT / "tests" / "vectors" / "sm3.json").read_text(encoding="utf-8")
)


def message(case: dict[str, Any]) -> bytes:
    body = (
        bytes.fromhex(case["message_hex"])
        if "message_hex" in case
        else case["message"].encode("utf-8")
    )
    return body * case.get("repeat", 1)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["desc"][:40])
def test_the_standard_vectors_in_memory_and_from_a_file(
    case: dict[str, Any], tmp_path: Path
) -> None:
    data = message(case)
    assert hashing.hasher("sm3")(data).hexdigest() == case["expected"]
    path = tmp_path / "message.bin"
    path.write_bytes(data)
    assert hashing.digest_file(path, digest="sm3").hex() == case["expected"]
    assert hashing.digest_file(path).hex() == hashlib.sha256(data).hexdigest()
    both = hashing.file_digests(path)  # one read, both digests
    assert both == {"sha256": hashlib.sha256(data).digest(), "sm3": bytes.fromhex(case["expected"])}


@pytest.mark.parametrize("case", VECTORS["negative"], ids=lambda c: c["desc"].split(":")[0])
def test_the_negative_vectors_do_not_match(case: dict[str, Any]) -> None:
    assert hashing.hasher("sm3")(message(case)).hexdigest() != case["not_expected"]


def test_openssl_dgst_agrees_on_a_multi_chunk_file(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is part of the machine's base (Debian's openssl)"
    path = tmp_path / "big.bin"
    block = hashlib.sha256(b"xietong").digest()
    path.write_bytes(block * (3 * (1 << 20) // 32 + 7))  # three 1 MiB reads and a tail
    shown = subprocess.run(
        [openssl, "dgst", "-sm3", "-r", str(path)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert hashing.digest_file(path, digest="sm3").hex() == shown


def test_a_directory_and_records_hashed_with_sm3(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "办法.txt").write_text("第一条\n", encoding="utf-8")
    [entry] = hashing.walk_directory(tmp_path / "d", digest="sm3")
    expected = hashlib.new("sm3", "第一条\n".encode()).digest()
    assert entry.content_hash == expected and entry.digest == "sm3"
    assert hashing.walk_directory(tmp_path / "d")[0].digest == "sha256"

    row = {"编号": "DB1", "姓名": "王明"}
    canonical = hashing.canonical_json(row)
    assert hashing.record_hash(row, digest="sm3") == hashlib.new("sm3", canonical).digest()
    assert hashing.record_hash(row) == hashlib.sha256(canonical).digest()
    data = tmp_path / "rows.csv"
    data.write_text("编号,姓名\nDB1,王明\n", encoding="utf-8")
    records = hashing.hash_records(data, digest="sm3")
    assert records.entries[0].record_hash == hashlib.new("sm3", canonical).digest()
    again = hashing.record_at(data, 0, salts=records.salts, digest="sm3")
    assert again.record_hash == records.entries[0].record_hash


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_row_by_both_digests_is_read_once(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"编号": f"DB{i}", "姓名": f"王{i}"} for i in range(3)]
    data = tmp_path / f"rows.{suffix}"
    if suffix == "csv":
        text = "编号,姓名\n" + "".join(f"{r['编号']},{r['姓名']}\n" for r in rows)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    data.write_text(text, encoding="utf-8")
    salts = hashing.hash_records(data).salts
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(
        os, "open", lambda path, *a, **k: opened.append(os.fspath(path)) or real_open(path, *a, **k)
    )
    both = hashing.record_at_digests(data, 2, salts=salts)
    reads = opened.count(str(data))
    monkeypatch.undo()
    canonical = hashing.canonical_json(rows[2])
    assert both["sha256"].record_hash == hashlib.sha256(canonical).digest()
    assert both["sm3"].record_hash == hashlib.new("sm3", canonical).digest()
    assert both["sha256"].salt == both["sm3"].salt == salts.values[2]
    for digest in hashing.DIGESTS:
        assert both[digest] == hashing.record_at(data, 2, salts=salts, digest=digest)
    # Its SHA-256 checked against the sidecar first, then one reading for both digests (one
    # per digest would be four).
    assert reads == 2, opened


def test_an_unknown_digest_is_one_sentence() -> None:
    with pytest.raises(hashing.HashingError) as refused:
        hashing.check_digest("md5")
    assert str(refused.value) == "the digest 'md5' is not sha256 or sm3."
    assert hashing.check_digest("sm3") == "sm3"


def _abi_leaf(types: list[str], values: list[Any]) -> bytes:
    return keccak(keccak(encode(types, values)))


@pytest.mark.parametrize("backend", ["c", "python"])
def test_sm3_leaves_are_the_abi_encoding_with_the_tag_first(backend: merkle.Backend) -> None:
    if backend == "c" and not merkle._NATIVE_AVAILABLE:
        pytest.fail("the C extension ledger._keccak is built by the project's install")
    pairs = [(keccak(text=f"r{i}"), keccak(text=f"s{i}")) for i in range(5)]
    with merkle.use_backend(backend):
        blob = merkle.sm3_record_leaf_blob(b"".join(a + b for a, b in pairs))
        files = merkle.sm3_file_leaf_hashes([(a, "数据/" * i) for i, (a, _b) in enumerate(pairs)])
    record_types = list(merkle.SM3_RECORD_LEAF_TYPES)
    file_types = list(merkle.SM3_FILE_LEAF_TYPES)
    for i, (a, b) in enumerate(pairs):
        assert blob[32 * i : 32 * i + 32] == _abi_leaf(record_types, ["sm3", a, b])
        assert files[i] == _abi_leaf(file_types, ["sm3", a, "数据/" * i])
        assert merkle.leaf_hash(record_types, ["sm3", a, b]) == blob[32 * i : 32 * i + 32]
    # An SM3 leaf is never a SHA-256 leaf of the same values.
    a, b = pairs[0]
    assert merkle.leaf_hash(merkle.RECORD_LEAF_TYPES, [a, b]) != blob[:32]


def test_an_sm3_leaf_without_its_tag_is_refused() -> None:
    value = keccak(text="x")
    with pytest.raises(merkle.MerkleInputError) as refused:
        merkle.leaf_hash(merkle.SM3_RECORD_LEAF_TYPES, ["sha256", value, value])
    assert "('sm3', digest, …)" in str(refused.value)
    assert merkle.leaf_shape(merkle.SM3_FILE_LEAF_TYPES, ["SM3", value, "a"]) is None
    assert merkle.leaf_shape(merkle.SM3_FILE_LEAF_TYPES, ["sm3", value, "a"]) == ("file", "sm3")
    assert merkle.leaf_shape(merkle.FILE_LEAF_TYPES, [value, "a"]) == ("file", "sha256")
    with pytest.raises(merkle.MerkleInputError):
        merkle.leaf_types("file", "md5")
    with pytest.raises(merkle.MerkleInputError):
        merkle.sm3_record_leaf_blob(b"\0" * 65)


def test_a_datasets_metadata_records_its_digest() -> None:
    text = metadata_text("低保名单", "sm3")
    assert json.loads(text) == {
        "description": "低保名单",
        "digest": "sm3",
        "format": DATASET_FORMAT,
    }
    assert digest_of(text) == "sm3"
    assert metadata_text("低保名单", "sha256") == "低保名单"  # as it always was
    assert digest_of("低保名单") == "sha256"
    # Only the exact document counts: another key, spaces, another digest.
    for lookalike in (
        json.dumps({"description": "x", "digest": "sm3", "format": DATASET_FORMAT, "extra": 1}),
        json.dumps({"description": "x", "digest": "sm3", "format": DATASET_FORMAT}),
        metadata_text("x", "sm3").replace('"sm3"', '"md5"'),
        "[]",
    ):
        assert digest_of(lookalike) == "sha256", lookalike
