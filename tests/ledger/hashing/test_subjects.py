"""ledger.hashing._subjects and the xietong-salts/2 sidecar: tags and salts against vectors
computed with OpenSSL (tests/vectors/subject_keys.json, shared with the portal's test), keys
destroyed, every malformed store and sidecar refused in one sentence, nothing secret shown."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from ledger.hashing import (
    RecordFormatError,
    SaltsFileError,
    SubjectKeys,
    SubjectKeysError,
    read_salts,
    stream_records,
)
from ledger.paths import PROJECT_ROOT
from tests.ledger.hashing._support import write

VECTORS = json.loads((PROJECT_ROOT / "tests" / "vectors" / "subject_keys.json").read_text())


def _files(tmp_path: Path, store: dict[str, Any], sidecar: dict[str, Any]) -> tuple[Path, Path]:
    keys = write(tmp_path / "subject-keys.json", json.dumps(store))
    salts = write(tmp_path / "dibao.csv.salts.json", json.dumps(sidecar))
    return keys, salts


def test_tags_and_salts_match_the_vectors(tmp_path: Path) -> None:
    keys, sidecar = _files(tmp_path, VECTORS["store"], VECTORS["sidecar"])
    store = SubjectKeys.open(keys)
    for case in VECTORS["subjects"]:
        assert store.tag(case["subject"]).hex() == case["tag"], case["desc"]
    salts = read_salts(sidecar, subject_keys=keys)
    assert [s.hex() if s else None for s in salts.values] == VECTORS["salts"]
    assert salts.erased_rows == (3,)
    assert salts.subject_keys_id == bytes.fromhex(VECTORS["store"]["id"])
    assert salts.rows_of(store.tag(VECTORS["subjects"][0]["subject"])) == [0, 4]
    # Written back as it was read, and readable with the store object itself.
    assert read_salts(sidecar, subject_keys=store) == salts


def test_a_destroyed_key_reads_as_erased_everywhere(tmp_path: Path) -> None:
    keys, sidecar = _files(tmp_path, VECTORS["store"], VECTORS["sidecar"])
    store = SubjectKeys.open(keys)
    case = VECTORS["destroyed"]
    tag = store.destroy(case["subject"])
    store.save()
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert json.loads(keys.read_text())["subjects"][tag.hex()] is None
    salts = read_salts(sidecar, subject_keys=keys)
    assert [s.hex() if s else None for s in salts.values] == case["salts"], case["desc"]
    with pytest.raises(SubjectKeysError, match="a subject of this file was erased"):
        SubjectKeys.open(keys).draw(case["subject"])
    with pytest.raises(SubjectKeysError, match="holds no such subject"):
        store.destroy("330106200001010000")


@pytest.mark.parametrize("case", VECTORS["bad_stores"], ids=lambda c: c["desc"])
def test_malformed_stores_are_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    keys, sidecar = _files(tmp_path, {**VECTORS["store"], **case["change"]}, VECTORS["sidecar"])
    with pytest.raises(SubjectKeysError, match=case["error"]) as refused:
        read_salts(sidecar, subject_keys=keys)
    assert str(refused.value).startswith(f"the subject key store {keys} is not usable: ")


@pytest.mark.parametrize("case", VECTORS["bad_sidecars"], ids=lambda c: c["desc"])
def test_malformed_subject_sidecars_are_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    sidecar = json.loads(json.dumps(VECTORS["sidecar"]))
    sidecar.update(case.get("change", {}))
    if "row" in case:
        sidecar["salts"][case["row"]] = case["entry"]
    keys, path = _files(tmp_path, VECTORS["store"], sidecar)
    with pytest.raises((SaltsFileError, SubjectKeysError), match=case["error"]):
        read_salts(path, subject_keys=keys)


def test_a_subject_sidecar_needs_its_store(tmp_path: Path) -> None:
    keys, sidecar = _files(tmp_path, VECTORS["store"], VECTORS["sidecar"])
    with pytest.raises(SubjectKeysError) as refused:
        read_salts(sidecar)
    assert str(refused.value) == (
        f"the salts sidecar {sidecar} derives its rows' salts from subject keys: it is read "
        "with the subject key store it was made with (XIETONG_SUBJECT_KEYS)."
    )
    with pytest.raises(SubjectKeysError, match=r"subject-keys-gone.json does not exist"):
        read_salts(sidecar, subject_keys=tmp_path / "subject-keys-gone.json")
    assert keys.exists()


def test_nothing_secret_in_a_repr(tmp_path: Path) -> None:
    keys, _ = _files(tmp_path, VECTORS["store"], VECTORS["sidecar"])
    shown = repr(SubjectKeys.open(keys))
    assert VECTORS["store"]["tag_key"] not in shown and "a5a5" not in shown


def _stream(data: Path, column: str, store: SubjectKeys) -> None:
    stream_records(
        data,
        lambda _: None,
        salts_path=data.with_name(data.name + ".salts.json"),
        subject_column=column,
        subject_keys=store,
    )


def test_subject_columns_of_csv_and_json_lines(tmp_path: Path) -> None:
    store = SubjectKeys.open(tmp_path / "keys.json", create=True)
    jsonl = write(
        tmp_path / "cases.jsonl",
        '{"id": "A1", "person": "330106199001011234"}\n{"id": "A2"}\n'
        '{"id": "A3", "person": "330106199001011234"}\n',
    )
    _stream(jsonl, "person", store)
    salts = read_salts(f"{jsonl}.salts.json", subject_keys=tmp_path / "keys.json")
    assert [s is not None for s in salts.subjects] == [True, False, True]
    assert salts.rows_of(store.tag("330106199001011234")) == [0, 2]
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    numbered = write(tmp_path / "numbered.jsonl", '{"id": "A1", "person": 330106}\n')
    with pytest.raises(RecordFormatError) as refused:
        _stream(numbered, "person", store)
    assert str(refused.value) == (
        f"line 1 of {numbered} is refused: its subject field 'person' is a JSON number, not a "
        "string."
    )
    assert not Path(f"{numbered}.salts.json").exists()
    no_column = write(tmp_path / "no.csv", "编号,姓名\nDB1,王明\n")
    with pytest.raises(RecordFormatError, match="has no column '身份证号'"):
        _stream(no_column, "身份证号", store)
