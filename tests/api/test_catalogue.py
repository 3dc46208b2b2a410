"""``/v1/catalogue``: the texts behind the chain's hashes, exported, named and imported; a
hostile catalogue is refused whole or names nothing."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from ledger.ids import code_hash
from tests.api._support import CIVIL, DIBAO, Api, World, assert_problem, dataset_of


def hx(text: str) -> str:
    return "0x" + code_hash(text).hex()


def test_the_demo_catalogue_is_exported_and_names_hashes(api: Api, world: World) -> None:
    exported = api.ok("/v1/catalogue", scope="admin")
    assert exported["format"] == "xietong-catalogue/1"
    texts = {t["text"]: t for t in exported["texts"]}
    assert {"eligibility-check 低保资格核查", "出生一件事-2026-000123", DIBAO} <= set(texts)
    assert texts[DIBAO] == {"rule": "code", "text": DIBAO, "hash": hx(DIBAO)}
    dataset = "0x" + dataset_of(CIVIL, DIBAO).hex()
    unknown = "0x" + "ab" * 32
    named = api.ok(
        "/v1/catalogue/names",
        params=[("hash", hx("办理户口登记")), ("hash", dataset), ("hash", unknown)],
    )
    assert named["names"][hx("办理户口登记")] == {"text": "办理户口登记", "verified": True}
    # A dataset by its code, and its owner: another department may register the same code.
    assert named["names"][dataset] == {"text": DIBAO, "verified": True, "owner": "杭州市民政局"}
    assert unknown not in named["names"]
    bad = api.get("/v1/catalogue/names", params={"hash": "0x12"})
    assert (
        assert_problem(bad, 400, "bad-input")["detail"]
        == "'0x12' is not a 0x hash of 64 hex digits."
    )
    many = api.get("/v1/catalogue/names", params=[("hash", unknown)] * 501)
    assert (
        assert_problem(many, 400, "bad-input")["detail"]
        == "at most 500 hashes per request, not 501."
    )


def test_an_imported_catalogue_names_only_what_its_texts_hash_to(writer: Api) -> None:
    document: dict[str, Any] = {
        "format": "xietong-catalogue/1",
        "texts": [{"rule": "code", "text": "联合执法"}, {"rule": "text", "text": " 说明 "}],
    }
    answer = writer.post("/v1/catalogue", json=document)
    assert answer.status_code == 200, answer.text
    # "text": the exact text, spaces included (a description), not trimmed as a code is.
    exact = "0x" + keccak(" 说明 ".encode()).hex()
    assert answer.json() == {"imported": 2, "hashes": [hx("联合执法"), exact]}
    assert exact != hx("说明")
    names = writer.ok("/v1/catalogue/names", params={"hash": hx("联合执法")})["names"]
    assert names == {hx("联合执法"): {"text": "联合执法", "verified": True}}
    # A hostile department names the chain's hash of a purpose with its own text: refused whole.
    purpose = hx("eligibility-check 低保资格核查")
    lie = {
        "format": "xietong-catalogue/1",
        "texts": [{"text": "新的文本"}, {"rule": "code", "text": "发放补贴", "hash": purpose}],
    }
    refused = writer.post("/v1/catalogue", json=lie)
    assert assert_problem(refused, 400, "bad-input")["detail"] == (
        f"text 2 of the catalogue does not give the hash it names ({purpose[:20]}…): its code "
        f"hash is {hx('发放补贴')}."
    )
    assert writer.ok("/v1/catalogue/names", params={"hash": hx("新的文本")})["names"] == {}
    wrong = writer.post("/v1/catalogue", json={"format": "other/1", "texts": []})
    assert assert_problem(wrong, 400, "bad-input")["detail"] == (
        'a catalogue is a JSON object with "format": "xietong-catalogue/1".'
    )
    assert_problem(writer.post("/v1/catalogue", json=[1]), 422, "invalid-request")
    assert_problem(writer.post("/v1/catalogue", json=document, scope="read"), 403, "forbidden")
