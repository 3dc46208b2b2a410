"""The portal's two languages: every contract event and every event argument has a label in
Chinese and in English, so the audit trail is never half translated."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.portal.i18n import LANGS, STRINGS, Translator
from ledger.chain.artifacts import CONTRACT_NAMES, load_artifact

HAN = re.compile(r"[\u4e00-\u9fff]")


def _argument_names(inputs: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for item in inputs:
        names.add(item["name"])
        names |= _argument_names(item.get("components", []))  # a struct's fields (terms)
    return names


def _events() -> list[dict[str, Any]]:
    return [
        item
        for contract in CONTRACT_NAMES
        for item in load_artifact(contract).abi
        if item["type"] == "event"
    ]


def test_every_event_and_argument_of_the_contracts_has_both_labels() -> None:
    events = {event["name"] for event in _events()}
    arguments = set().union(*(_argument_names(event["inputs"]) for event in _events()))
    assert len(events) > 20 and len(arguments) > 40
    for key in [f"event.{name}" for name in events] + [f"arg.{name}" for name in arguments]:
        assert key in STRINGS, f"{key} has no label"
        chinese, english = STRINGS[key]
        assert HAN.search(chinese), (key, chinese)
        assert english and not HAN.search(english), (key, english)


@pytest.mark.parametrize("lang", LANGS)
def test_an_argument_is_labelled_and_an_unknown_one_keeps_its_name(lang: str) -> None:
    t = Translator(lang)
    assert t.arg("agreementId") == ("协议 ID" if lang == "zh" else "Agreement id")
    assert t.arg("firstOperator") == ("首个操作账户" if lang == "zh" else "First operator")
    assert t.arg("somethingNew") == "somethingNew"
