"""ledger.hashing._salts: the salts sidecar (round trip, never overwritten, made for another
file, malformed), the Salts object, and no salt in any repr or message."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from ledger.hashing import (
    Salts,
    SaltsExistError,
    SaltsFileError,
    SaltsMismatchError,
    hash_records,
    read_salts,
    sha256_file,
    write_salts,
)
from tests.ledger.hashing._support import sha, write


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
        (lambda d: d.update(format="xietong-salts/9"), "format is 'xietong-salts/9'"),
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
