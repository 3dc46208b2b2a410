"""The catalogue: texts under the hashes the chain holds for them, checked before they are
shown; a catalogue from another department, hostile or not, names only what its texts hash to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger import InputError
from ledger.catalogue import (
    CATALOGUE_FORMAT,
    MAX_TEXT_LENGTH,
    MAX_TEXTS,
    _insert_new,
    export_texts,
    hash_of,
    import_texts,
    names_for,
    parse_catalogue,
    remember,
)
from ledger.db.tables import CatalogueText, DatasetRow, DepartmentRow
from ledger.ids import code_hash, dataset_id, department_id


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def test_the_rules_are_the_chains(engine: Engine) -> None:
    assert hash_of(" HZ-MZ-DIBAO ", "code") == hx(code_hash("HZ-MZ-DIBAO"))
    assert hash_of(" 描述 ", "text") == hx(keccak(" 描述 ".encode()))
    assert hash_of("描述", "text") == hash_of("描述", "code")


def test_a_remembered_text_names_its_hash_and_nothing_else(engine: Engine) -> None:
    with Session(engine) as session:
        [purpose, basis] = remember(
            session=session,
            texts=[("code", "eligibility-check 低保资格核查"), ("code", "《统计法》")],
            source="test",
        )
        unknown = "0x" + "ab" * 32
        named = names_for(
            session=session, hashes=[purpose, basis.upper().replace("0X", "0x"), unknown, "junk"]
        )
    assert named == {
        purpose: {"text": "eligibility-check 低保资格核查", "verified": True},
        basis: {"text": "《统计法》", "verified": True},
    }


def test_a_text_edited_in_the_database_is_not_shown_and_a_new_remember_mends_it(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        [digest] = remember(session=session, texts=[("code", "用途超出约定范围")], source="test")
        row = session.get(CatalogueText, digest)
        assert row is not None
        row.text = "另一个原因"
        session.add(row)
        session.commit()
        assert names_for(session=session, hashes=[digest]) == {
            digest: {"text": None, "verified": False}
        }
        # A text that gives the hash replaces one that no longer does.
        remember(session=session, texts=[("code", "用途超出约定范围")], source="again")
        assert names_for(session=session, hashes=[digest])[digest]["verified"] is True
        # A held text that gives its hash is kept: the first keeper wins.
        remember(session=session, texts=[("code", " 用途超出约定范围 ")], source="third")
        kept = session.get(CatalogueText, digest)
        assert kept is not None and (kept.text, kept.source) == ("用途超出约定范围", "again")


def test_a_dataset_id_is_named_by_its_registered_code(engine: Engine) -> None:
    owner = department_id("11330100MB1A00002K")
    ident = hx(dataset_id(owner, "HZ-MZ-DIBAO"))
    with Session(engine) as session:
        session.add(
            DatasetRow(
                id=ident,
                owner_department=hx(owner),
                code_hash=hx(code_hash("HZ-MZ-DIBAO")),
                metadata_hash="0x" + "00" * 32,
                registered_at=1,
                block_number=1,
                tx_hash="0x" + "11" * 32,
            )
        )
        session.commit()
        assert names_for(session=session, hashes=[ident]) == {}  # its code not catalogued
        remember(session=session, texts=[("code", "HZ-MZ-DIBAO")], source="test")
        named = names_for(session=session, hashes=[ident])
    # With its owner: its id when the index holds no name for it.
    assert named[ident] == {"text": "HZ-MZ-DIBAO", "verified": True, "owner": hx(owner)}


def test_a_code_another_department_registered_too_is_named_with_each_owner(
    engine: Engine,
) -> None:
    """A hostile department registers 民政局's code: its dataset has another id (ids derive
    from owner and code), and the code alone would name both alike; each comes with its owner."""
    civil, hostile = department_id("11330100MB1A00002K"), department_id("11330100MB1A00001P")
    ids = {}
    with Session(engine) as session:
        for owner, name in ((civil, "杭州市民政局"), (hostile, "杭州市公安局")):
            ids[name] = hx(dataset_id(owner, "HZ-MZ-DIBAO"))
            session.add(DepartmentRow(id=hx(owner), name=name, status="active", admitted_at=1,
                                      status_changed_at=1))  # fmt: skip
            session.add(
                DatasetRow(
                    id=ids[name],
                    owner_department=hx(owner),
                    code_hash=hx(code_hash("HZ-MZ-DIBAO")),
                    metadata_hash="0x" + "00" * 32,
                    registered_at=1,
                    block_number=1,
                    tx_hash="0x" + "11" * 32,
                )
            )
        session.commit()
        remember(session=session, texts=[("code", "HZ-MZ-DIBAO")], source="test")
        named = names_for(session=session, hashes=list(ids.values()))
    assert {named[ident]["owner"] for ident in ids.values()} == {"杭州市民政局", "杭州市公安局"}
    assert [named[ids[name]]["owner"] for name in ids] == list(ids)
    assert all(named[ident]["text"] == "HZ-MZ-DIBAO" for ident in ids.values())


def test_export_and_import_carry_the_texts_to_another_gateway(
    engine: Engine, tmp_path: Any
) -> None:
    with Session(engine) as session:
        hashes = remember(
            session=session,
            texts=[("code", "出生一件事-2026-000123"), ("text", " 民政政策文件 ")],
            source="test",
        )
        document = export_texts(session=session)
    assert document["format"] == CATALOGUE_FORMAT
    assert {(t["rule"], t["text"], t["hash"]) for t in document["texts"]} == {
        ("code", "出生一件事-2026-000123", hashes[0]),
        ("text", " 民政政策文件 ", hashes[1]),
    }
    from ledger.db.engine import create_db_engine

    other = create_db_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with Session(other) as session:
            imported = import_texts(session=session, document=json.dumps(document), source="import")
            assert sorted(imported) == sorted(hashes)
            assert all(n["verified"] for n in names_for(session=session, hashes=hashes).values())
    finally:
        other.dispose()


def _document(*texts: Any) -> dict[str, Any]:
    return {"format": CATALOGUE_FORMAT, "texts": list(texts)}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            [],
            'a catalogue is a JSON object with "format": "xietong-catalogue/1".',
            id="not-an-object",
        ),
        pytest.param(
            {"format": "other/1", "texts": []},
            'a catalogue is a JSON object with "format": "xietong-catalogue/1".',
            id="wrong-format",
        ),
        pytest.param(
            {"format": CATALOGUE_FORMAT},
            'a catalogue lists its texts under "texts".',
            id="no-texts",
        ),
        pytest.param(
            _document("HZ"),
            'text 1 of the catalogue is not {"rule", "text"}.',
            id="text-not-an-object",
        ),
        pytest.param(
            _document({"text": 7}),
            'text 1 of the catalogue is not {"rule", "text"}.',
            id="text-not-a-string",
        ),
        pytest.param(
            _document({"text": "a"}, {"text": "  "}),
            "text 2 of the catalogue: a catalogue text must not be empty.",
            id="empty-text",
        ),
        pytest.param(
            _document({"rule": "sha3", "text": "a"}),
            "text 1 of the catalogue: a catalogue rule is code or text, not 'sha3'.",
            id="unknown-rule",
        ),
        pytest.param(
            _document({"text": "x" * (MAX_TEXT_LENGTH + 1)}),
            f"text 1 of the catalogue: a catalogue text holds at most {MAX_TEXT_LENGTH} characters, not {MAX_TEXT_LENGTH + 1}.",
            id="text-too-long",
        ),
        pytest.param(
            _document({"text": "a\ud800b"}),
            "text 1 of the catalogue: a catalogue text is not valid Unicode (it holds a lone surrogate).",
            id="lone-surrogate",
        ),
    ],
)
def test_a_malformed_catalogue_is_one_sentence(data: Any, message: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_catalogue(data)
    assert str(refused.value) == message


def test_a_catalogue_that_lies_about_a_hash_is_refused_whole(engine: Engine) -> None:
    # A hostile department names the chain's hash of one purpose with another text: the hash
    # it claims is not the one its text gives, and nothing of its catalogue is kept.
    real = hx(code_hash("eligibility-check 低保资格核查"))
    lie = _document({"text": "《统计法》"}, {"rule": "code", "text": "发放补贴", "hash": real})
    with Session(engine) as session:
        with pytest.raises(InputError) as refused:
            import_texts(session=session, document=json.dumps(lie), source="hostile")
        assert session.exec(select(CatalogueText)).all() == []
    assert str(refused.value) == (
        f"text 2 of the catalogue does not give the hash it names ({real[:20]}…): its code hash "
        f"is {hx(code_hash('发放补贴'))}."
    )


def test_a_catalogue_without_claimed_hashes_still_names_only_what_its_texts_hash_to(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        import_texts(
            session=session, document=json.dumps(_document({"text": "发放补贴"})), source="x"
        )
        real = hx(code_hash("eligibility-check 低保资格核查"))
        assert names_for(session=session, hashes=[real]) == {}


def test_a_rule_or_hash_of_the_wrong_type_is_one_sentence() -> None:
    with pytest.raises(InputError) as refused:
        parse_catalogue(_document({"rule": [], "text": "a"}))
    assert str(refused.value) == "text 1 of the catalogue: a catalogue rule is code or text."
    with pytest.raises(InputError) as echoed:
        parse_catalogue(_document({"text": "a", "hash": "0x\ud800"}))
    assert "(0x\\ud800…)" in str(echoed.value)  # the lone surrogate said as an escape
    str(echoed.value).encode("utf-8")  # and the sentence can go into any JSON answer


def test_a_text_another_process_kept_meanwhile_is_no_error(engine: Engine) -> None:
    # Two gateways keep the same new text at once: the second insert does nothing.
    digest = hx(code_hash("同时写入"))
    row = {"hash": digest, "text": "同时写入", "rule": "code", "source": "a", "added_at": 1}
    with Session(engine) as first, Session(engine) as second:
        first.execute(_insert_new(first, row))
        first.commit()
        second.execute(_insert_new(second, {**row, "source": "b"}))
        second.commit()
        kept = second.get(CatalogueText, digest)
        assert kept is not None and kept.source == "a"


def test_too_many_texts_or_junk_are_refused() -> None:
    with pytest.raises(InputError) as refused:
        parse_catalogue(_document(*({"text": str(i)} for i in range(MAX_TEXTS + 1))))
    assert (
        str(refused.value) == f"a catalogue holds at most {MAX_TEXTS} texts, not {MAX_TEXTS + 1}."
    )
    with pytest.raises(InputError) as junk:
        import_texts(session=None, document=b"{not json", source="x")  # type: ignore[arg-type]
    assert str(junk.value) == "a catalogue is a JSON document; this one does not parse."
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InputError):
        import_texts(session=None, document=deep, source="x")  # type: ignore[arg-type]
