"""Consent documents (``xietong-consent/1``) under hostile input, without a chain.

``parse_consent`` and ``read_consent`` answer a ``Consent`` or an ``InputError``, never
another exception; a valid document round-trips through ``as_dict``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.chain.client import ChainClient
from ledger.consent import Consent, ConsentKind, consent_or_relay, parse_consent, read_consent
from ledger.errors import InputError
from tests.ledger._fuzz import assert_short_one_line, attempt

FUZZ = settings(max_examples=150, deadline=None)

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint256 = st.integers(0, 2**256 - 1)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**300), 2**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(exclude_categories=[]), max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    return Consent(
        kind=draw(
            st.sampled_from(["AcceptAgreement", "SignCommitment", "AcceptOperator", "AcceptRole"])
        ),
        subject_id=draw(st.binary(min_size=32, max_size=32)),
        signer=draw(addresses).lower(),
        nonce=draw(uint256),
        deadline=draw(uint256),
        chain_id=draw(uint256),
        contract=draw(addresses).lower(),
        signature=draw(st.binary(max_size=65)),
    )


@FUZZ
@given(consents())
def test_valid_documents_round_trip(consent: Consent) -> None:
    parsed = parse_consent(json.loads(json.dumps(consent.as_dict())))
    assert parsed.as_dict()["subject_id"] == "0x" + consent.subject_id.hex()
    assert (parsed.nonce, parsed.deadline, parsed.chain_id) == (
        consent.nonce,
        consent.deadline,
        consent.chain_id,
    )
    assert parsed.signer.lower() == consent.signer and parsed.signature == consent.signature
    assert parse_consent(parsed.as_dict()) == parsed


FIELDS = [
    "format",
    "kind",
    "subject_id",
    "signer",
    "nonce",
    "deadline",
    "chain_id",
    "contract",
    "signature",
]


@FUZZ
@given(consents(), st.sampled_from(FIELDS), st.one_of(json_values, st.just(KeyError)))
@example(
    Consent("AcceptAgreement", b"\x01" * 32, "0x" + "11" * 20, 1, 2, 3, "0x" + "22" * 20, b""),
    "nonce",
    float("inf"),  # int(Infinity) raised OverflowError
)
@example(
    Consent("AcceptAgreement", b"\x01" * 32, "0x" + "11" * 20, 1, 2, 3, "0x" + "22" * 20, b""),
    "nonce",
    1.5,
)
@example(
    Consent("AcceptAgreement", b"\x01" * 32, "0x" + "11" * 20, 1, 2, 3, "0x" + "22" * 20, b""),
    "kind",
    "x" * 10**5,
)
def test_a_changed_field_gives_a_consent_or_an_input_error(
    consent: Consent, field: str, value: Any
) -> None:
    document = consent.as_dict()
    if value is KeyError:
        del document[field]
    else:
        document[field] = value
    parsed, error = attempt(lambda: parse_consent(document))
    if error is not None:
        assert isinstance(error, InputError) and error.kind in ("bad-input", "bad-hash")
        assert_short_one_line(error)
    else:
        assert isinstance(parsed, Consent)
        for number in (parsed.nonce, parsed.deadline, parsed.chain_id):
            assert type(number) is int and 0 <= number < 2**256  # never 1.5 → 1, True → 1


@FUZZ
@given(json_values)
def test_any_json_value_is_refused_with_an_input_error(value: Any) -> None:
    _, error = attempt(lambda: parse_consent(value))
    assert isinstance(error, InputError)


@pytest.mark.parametrize("value", [1.5, True, -1, 2**256, "7", None])
def test_numbers_must_be_uint256_integers(value: Any) -> None:
    document = Consent(
        "SignCommitment", b"\x01" * 32, "0x" + "11" * 20, 1, 2, 3, "0x" + "22" * 20, b""
    ).as_dict()
    document["deadline"] = value
    with pytest.raises(InputError, match="missing a field or has a malformed one"):
        parse_consent(document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 300_000, "nested more than 8 levels"),  # was a segfault under py_ecc's limit
        (b'{"nonce": ' + b"9" * 5000 + b"}", "more than 4300 digits"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"format": "xietong-consent/1"', "not valid JSON"),
        (b'{"kind": "a", "kind": "b"}', "appears twice"),
        (b"[]", "not a xietong-consent/1 document"),
    ],
)
def test_consent_files_that_are_not_consents(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "consent.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_consent(path)
    assert info.value.kind == "bad-input"
    assert_short_one_line(info.value)


class _NoChain:
    """A client that must not be used: the consent is refused before any transaction."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the chain was used ({name})")


@pytest.mark.parametrize(
    ("kind", "subject_id"),
    [("SignCommitment", b"\x01" * 32), ("AcceptAgreement", b"\x02" * 32)],
)
def test_a_consent_for_another_subject_or_kind_is_not_relayed(
    kind: ConsentKind, subject_id: bytes
) -> None:
    consent = Consent(
        kind="AcceptAgreement",
        subject_id=b"\x01" * 32,
        signer="0x" + "11" * 20,
        nonce=0,
        deadline=2**40,
        chain_id=31337,
        contract="0x" + "22" * 20,
        signature=b"\x33" * 65,
    )
    no_chain = cast(ChainClient, _NoChain())
    with pytest.raises(InputError, match=f"consent.json is not a {kind} consent"):
        consent_or_relay(
            no_chain,
            cast(LocalAccount, None),
            kind,
            subject_id,
            consent=consent,
            source="consent.json",
        )
