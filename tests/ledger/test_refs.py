"""The parsers of typed references (hashes, ids, codes, roots, dates) under hostile input.

Property tests: whatever text comes in, the answer is the value or a typed ``InputError``
(``BadHashError`` for hashes) whose message is one line and shows at most 80 characters of
the input; valid references round-trip.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import BadHashError, InputError
from ledger.ids import code_hash, dataset_id, version_id
from ledger.refs import (
    agreed_code,
    dataset,
    hex_id,
    id_or_code,
    parse_hash,
    root,
    subject_id,
    timestamp,
    version,
)
from tests.ledger._fuzz import assert_short_one_line, attempt

FUZZ = settings(max_examples=150, deadline=None)

# Any Unicode text, lone surrogates included (they reach us from file names and JSON).
any_text = st.text(st.characters(exclude_categories=[]), max_size=200)
# Text that looks like a hash: hex digits, prefixes, spaces, look-alike digits, wrong lengths.
hexish = st.text(st.sampled_from("0123456789abcdefABCDEF" + "xX \t\n\u3000g٠０"), max_size=140)
hashes = st.binary(min_size=32, max_size=32)
spaces = st.text(st.sampled_from(" \t\r\n\u3000\u00a0"), max_size=3)


def is_hash_text(text: str) -> bool:
    """An independent statement of the rule: 64 ASCII hex digits, one optional 0x or 0X."""
    value = text.strip()
    if value[:2] in ("0x", "0X"):
        value = value[2:]
    return len(value) == 64 and all(c in string.hexdigits for c in value)


def random_case(data: st.DataObject, text: str) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=True))


# ---------------------------------------------------------------------------- hashes


@FUZZ
@given(hashes, st.sampled_from(["", "0x", "0X"]), spaces, spaces, st.data())
def test_valid_hashes_round_trip(
    value: bytes, prefix: str, before: str, after: str, data: st.DataObject
) -> None:
    text = before + prefix + random_case(data, value.hex()) + after
    assert parse_hash(text) == value
    assert root(text) == value
    if prefix:
        assert subject_id(text, what="agreement id") == value
        assert id_or_code(text, what="dataset") == value
        assert hex_id(text, what="dataset") == "0x" + value.hex()


@FUZZ
@given(st.one_of(any_text, hexish, hexish.map(lambda t: "0x" + t)))
@example("0x" + "00" * 30 + "  " + "00")  # bytes.fromhex skipped the spaces: 31 bytes
@example("0x" + "0 " * 32)
@example("0x0X" + "ab" * 32)  # two prefixes
@example("０" * 64)  # full-width digits
@example("0x" + "٠" * 64)  # Arabic-Indic digits
@example("\ud800" * 64)
@example("x" * 100_000)
def test_parse_hash_gives_32_bytes_or_bad_hash_error(text: str) -> None:
    value, error = attempt(lambda: parse_hash(text))
    if error is not None:
        assert isinstance(error, BadHashError) and error.kind == "bad-hash"
        assert not is_hash_text(text)
        assert_short_one_line(error, text)
    else:
        assert is_hash_text(text), text
        assert value is not None and value.hex() == text.strip()[-64:].lower()


def test_spaces_between_digit_pairs_are_refused() -> None:
    with pytest.raises(BadHashError, match="not hexadecimal"):
        parse_hash("0x" + "00" * 30 + "  " + "00")
    with pytest.raises(BadHashError, match="not hexadecimal"):
        parse_hash("0x0X" + "ab" * 31)


@pytest.mark.parametrize(
    "salt",
    [
        "0x" + "5c3e" * 15 + "9a7",  # 63 digits: one typed too few
        "5c3e" * 16 + "1",  # one too many, no 0x
        "0x" + "5c3e" * 15 + "9a7o",  # a typo: the letter o for a zero
        "0x" + "5c3e" * 15 + "9a 7",
    ],
)
def test_a_malformed_secret_is_not_quoted(salt: str) -> None:
    with pytest.raises(BadHashError) as shown:
        parse_hash(salt)
    assert "5c3e5c3e" in str(shown.value)  # ordinary hashes are quoted, to help find the typo
    with pytest.raises(BadHashError, match="salt") as secret:
        parse_hash(salt, what="salt", secret=True)
    message = str(secret.value)
    assert "5c3e" not in message and "9a7" not in message, message
    assert parse_hash("0x" + "5c3e" * 16, what="salt", secret=True) == bytes.fromhex("5c3e" * 16)


@FUZZ
@given(st.one_of(any_text, hexish.map(lambda t: "0x" + t)))
@example("0x" + "ab" * 31 + "a\u0301")
@example("y" * 50_000)
def test_subject_ids_are_0x_hashes_only(text: str) -> None:
    value, error = attempt(lambda: subject_id(text, what="agreement id"))
    if error is not None:
        assert isinstance(error, BadHashError)
        assert not (is_hash_text(text) and text.strip()[:2] in ("0x", "0X"))
        assert_short_one_line(error, text)
    else:
        assert text.strip()[:2] in ("0x", "0X") and is_hash_text(text)
        assert value is not None and len(value) == 32


@FUZZ
@given(st.one_of(any_text, hexish.map(lambda t: "0x" + t)))
@example("\ud800")  # a lone surrogate has no UTF-8 form, so no keccak of it
@example("部门\udcff代码")
@example(" \u3000 ")
def test_id_or_code_gives_an_id_or_an_input_error(text: str) -> None:
    value, error = attempt(lambda: id_or_code(text, what="department"))
    stripped = text.strip()
    if error is not None:
        assert isinstance(error, InputError)
        assert_short_one_line(error, text)
        if stripped[:2] in ("0x", "0X"):
            assert isinstance(error, BadHashError) and not is_hash_text(text)
        else:
            assert error.kind == "bad-input"
            assert not stripped or any("\ud800" <= c <= "\udfff" for c in stripped)
    else:
        assert value is not None and len(value) == 32
        if stripped[:2] in ("0x", "0X"):
            assert value == bytes.fromhex(stripped[2:])
        else:
            assert value == code_hash(stripped)
            assert hex_id(text, what="department") == "0x" + value.hex()


def test_a_code_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InputError, match="not valid Unicode text") as info:
        id_or_code("部门\udcff", what="department")
    assert info.value.kind == "bad-input"


# ---------------------------------------------------------------------------- datasets, versions

OWNER, OTHER = code_hash("11330100MB1A00002K"), code_hash("11330100MB1A00001P")
OF = dataset_id(OWNER, "HZ-DIBAO")  # the dataset a bare root is a version of


def test_a_dataset_code_is_the_owners_dataset_and_an_id_is_kept() -> None:
    assert dataset(" HZ-DIBAO ", owner=OWNER) == OF
    assert dataset("HZ-DIBAO", owner=OTHER) == dataset_id(OTHER, "HZ-DIBAO") != OF
    assert dataset("0X" + "AB" * 32, owner=OWNER) == b"\xab" * 32
    with pytest.raises(InputError, match="the dataset must not be empty"):
        dataset(" \u3000 ", owner=OWNER)
    with pytest.raises(BadHashError, match="dataset id"):
        dataset("0x" + "ab" * 31, owner=OWNER)


def test_a_version_is_a_root_of_the_dataset_or_dataset_colon_root() -> None:
    r = b"\x5c" * 32
    assert version(r.hex(), of_dataset=OF, owner=OWNER) == version_id(OF, r)
    assert version(" 0x" + r.hex(), of_dataset=OF, owner=OWNER) == version_id(OF, r)
    other = dataset_id(OWNER, "HZ-OTHER")
    assert version("HZ-OTHER:0x" + r.hex(), of_dataset=OF, owner=OWNER) == version_id(other, r)
    elsewhere = b"\xee" * 32
    assert version(f"0x{elsewhere.hex()}:{r.hex()}", of_dataset=OF, owner=OWNER) == (
        version_id(elsewhere, r)
    )
    # a code may hold a colon: the root follows the last one
    assert version("HZ:2027:" + r.hex(), of_dataset=OF, owner=OWNER) == version_id(
        dataset_id(OWNER, "HZ:2027"), r
    )
    with pytest.raises(InputError, match="the dataset must not be empty"):
        version(":" + r.hex(), of_dataset=OF, owner=OWNER)
    with pytest.raises(BadHashError, match="root"):
        version("HZ-OTHER:", of_dataset=OF, owner=OWNER)


@FUZZ
@given(st.one_of(any_text, hexish.map(lambda t: "0x" + t)))
@example("\ud800")
@example(" \u3000 ")
@example("z" * 100_000)
def test_dataset_gives_an_id_or_an_input_error(text: str) -> None:
    value, error = attempt(lambda: dataset(text, owner=OWNER))
    stripped = text.strip()
    if error is not None:
        assert isinstance(error, InputError)
        assert_short_one_line(error, text)
    else:
        assert value is not None and len(value) == 32
        if stripped[:2] in ("0x", "0X"):
            assert value == bytes.fromhex(stripped[2:])
        else:
            assert value == dataset_id(OWNER, stripped)


@FUZZ
@given(
    st.one_of(
        any_text,
        st.tuples(any_text, hexish).map(":".join),
        st.tuples(any_text, hashes.map(bytes.hex)).map(":".join),
    )
)
@example("HZ-DIBAO:" + "ab" * 32)
@example("\ud800:" + "ab" * 32)
@example("x" * 100_000 + ":" + "ab" * 32)
@example("ab" * 32 + ":" + "y" * 100_000)
def test_version_gives_an_id_or_an_input_error(text: str) -> None:
    value, error = attempt(lambda: version(text, of_dataset=OF, owner=OWNER))
    if error is not None:
        assert isinstance(error, InputError)
        assert_short_one_line(error, text)
        return
    named, sep, root_text = text.strip().rpartition(":")
    expected_dataset = dataset(named, owner=OWNER) if sep else OF
    assert value == version_id(expected_dataset, root(root_text))


# ---------------------------------------------------------------------------- dates


zones = st.one_of(
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@FUZZ
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), zones)
def test_iso_date_times_round_trip(moment: datetime, zone: Any) -> None:
    whole = moment.replace(microsecond=0)
    aware = whole.replace(tzinfo=zone)
    assert timestamp(aware.isoformat(), what="deadline") == int(aware.timestamp())
    # Without an offset the time is UTC.
    assert timestamp(whole.isoformat(), what="deadline") == int(
        whole.replace(tzinfo=UTC).timestamp()
    )


@FUZZ
@given(st.dates())
def test_iso_dates_are_midnight_utc(day: date) -> None:
    expected = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    assert timestamp(day.isoformat(), what="deadline") == int(expected)


@FUZZ
@given(st.one_of(any_text, st.text(st.sampled_from("0123456789-:TZ+. "), max_size=40)))
@example("2027-02-30")
@example("0001-01-01T00:00:00+23:59")
@example("9999-12-31T23:59:59-23:59")
@example("2027-01-31" + "x" * 100_000)
def test_timestamp_gives_seconds_or_an_input_error(text: str) -> None:
    value, error = attempt(lambda: timestamp(text, what="deadline"))
    if error is not None:
        assert isinstance(error, InputError) and error.kind == "bad-input"
        assert_short_one_line(error, text)
    else:
        assert isinstance(value, int)


def test_a_huge_date_is_not_echoed() -> None:
    with pytest.raises(InputError, match=r"^the deadline '2027-01-31x+\.\.\.' is not an ISO"):
        timestamp("2027-01-31" + "x" * 100_000, what="deadline")


def test_an_agreed_purpose_is_text_never_a_0x_value() -> None:
    """A question names a purpose by its text or its 0x hash, so a proposed purpose that starts
    like a hash would be read as one: refused in one sentence."""
    assert agreed_code(" eligibility-check ", what="purpose") == code_hash("eligibility-check")
    for text in ("0x12", " 0X" + "ab" * 32):
        with pytest.raises(InputError, match=r"^the purpose is the agreed text .* not a 0x value"):
            agreed_code(text, what="purpose")
