"""The audit trail's filters, the same for the CLI, the API and the portal."""

from __future__ import annotations

import pytest

from ledger.audit import event_filters, subject_filter
from ledger.errors import InputError
from ledger.ids import code_hash
from ledger.refs import timestamp

ACCOUNT = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def test_nothing_given_filters_nothing() -> None:
    nothing = {
        "department": None,
        "event_type": None,
        "since": None,
        "until": None,
        "subject": None,
    }
    assert event_filters() == nothing
    assert event_filters(department="", event_type="", since="", until="", subject="") == nothing


def test_values_as_the_index_stores_them() -> None:
    assert event_filters(
        department="11330100MB1A00002K",
        event_type="AgreementRevoked",
        since="2026-11-01",
        until="2026-12-01T00:00:00+08:00",
        subject="HZ-DIBAO",
    ) == {
        "department": "0x" + code_hash("11330100MB1A00002K").hex(),
        "event_type": "AgreementRevoked",
        "since": timestamp("2026-11-01", what="start"),
        "until": timestamp("2026-12-01T00:00:00+08:00", what="end"),
        "subject": "0x" + code_hash("HZ-DIBAO").hex(),
    }


def test_a_subject_is_an_account_a_proposal_number_or_an_id() -> None:
    assert subject_filter(ACCOUNT) == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert subject_filter(" 12 ") == "12"
    assert subject_filter("0x" + "AB" * 32) == "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"department": "0x12"}, "department"),
        ({"since": "yesterday"}, "start"),
        ({"until": "2026-02-30"}, "end"),
        ({"subject": "0xzz"}, "subject"),
    ],
)
def test_a_bad_value_is_named(given: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        event_filters(**given)
