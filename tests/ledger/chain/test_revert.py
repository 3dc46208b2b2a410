"""Every custom error decodes to one readable sentence with its arguments."""

from __future__ import annotations

import pytest
from eth_abi import encode

from ledger.chain.revert import ERROR_MESSAGES, TIME_ARGUMENTS, decode_revert, known_errors

SAMPLES = {
    "address": "0x00000000000000000000000000000000000000aa",
    "bytes32": b"\xab" * 32,
    "uint256": 7,
    "uint64": 1_700_000_000,
    "uint32": 3,
    "uint16": 6667,
    "uint8": 1,
    "string": "杭州市公安局",
}

CUSTOM = sorted(
    (
        (selector, spec)
        for selector, spec in known_errors().items()
        if spec.name not in ("Error", "Panic")
    ),
    key=lambda item: item[1].name,
)


def test_every_custom_error_has_a_message() -> None:
    missing = {spec.name for _, spec in CUSTOM} - set(ERROR_MESSAGES)
    assert not missing, f"no message for {sorted(missing)}"


def test_no_message_for_an_error_that_does_not_exist() -> None:
    assert set(ERROR_MESSAGES) <= {spec.name for _, spec in CUSTOM}


@pytest.mark.parametrize(("selector", "spec"), CUSTOM, ids=[spec.name for _, spec in CUSTOM])
def test_custom_error_decodes(selector: bytes, spec: object) -> None:
    types = list(spec.arg_types)  # type: ignore[attr-defined]
    values = [SAMPLES[t] for t in types]
    error = decode_revert(selector + encode(types, values))
    assert error.error_name == spec.name  # type: ignore[attr-defined]
    message = str(error)
    assert "{" not in message and "}" not in message
    assert message.endswith(".")
    for name, abi_type in zip(spec.arg_names, types, strict=True):  # type: ignore[attr-defined]
        if abi_type == "bytes32":
            assert error.error_args[name] == "0x" + "ab" * 32
        elif abi_type == "address":
            assert error.error_args[name].lower() == SAMPLES["address"]


def test_times_are_dates_in_the_sentence_and_seconds_in_the_arguments() -> None:
    """Issue 14: "validity window 1827619200–1798761600" says nothing to a person."""
    selector = next(s for s, spec in CUSTOM if spec.name == "SharingAgreementsInvalidValidity")
    error = decode_revert(selector + encode(["uint64"] * 3, [1827619200, 1798761600, 1796083200]))
    assert str(error) == (
        "The validity window 2027-12-01T00:00:00Z–2027-01-01T00:00:00Z is empty or already "
        "over (now 2026-12-01T00:00:00Z)."
    )
    assert error.error_args == {
        "validFrom": 1827619200,
        "validUntil": 1798761600,
        "currentTime": 1796083200,
    }
    # Every time argument of every error is named so (none left as seconds by mistake).
    times = {
        name
        for _, spec in CUSTOM
        for name in spec.arg_names
        if any(word in name for word in ("Time", "At", "deadline", "valid", "period", "From"))
    }
    assert times <= TIME_ARGUMENTS, times - TIME_ARGUMENTS
    # A number too large for a date stays a number.
    expired = next(s for s, spec in CUSTOM if spec.name == "SharingAgreementsExpired")
    forever = decode_revert(expired + encode(["bytes32", "uint64"], [b"\x01" * 32, 2**64 - 1]))
    assert str(forever).endswith(f"expired at {2**64 - 1}.")


def test_enum_arguments_are_named() -> None:
    selector = next(s for s, spec in CUSTOM if spec.name == "DepartmentRegistryDepartmentNotActive")
    error = decode_revert(selector + encode(["bytes32", "uint8"], [b"\x01" * 32, 2]))
    assert "is suspended, not active" in str(error)
    assert error.error_args["status"] == 2


def test_plain_revert_string() -> None:
    data = bytes.fromhex("08c379a0") + encode(["string"], ["nope"])
    error = decode_revert(data)
    assert error.error_name == "Error"
    assert str(error) == "The contract rejected the call: nope"


def test_panic() -> None:
    data = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert "overflow" in str(decode_revert(data))


def test_unknown_selector() -> None:
    error = decode_revert(bytes.fromhex("deadbeef") + b"\x00" * 32)
    assert error.error_name == "Unknown"
    assert "0xdeadbeef" in str(error)


def test_empty_revert() -> None:
    error = decode_revert(b"")
    assert error.error_name == "Unknown"
    assert "without giving a reason" in str(error)


def test_truncated_arguments() -> None:
    selector = next(s for s, spec in CUSTOM if spec.name == "DatasetRegistryUnknownVersion")
    error = decode_revert(selector + b"\x01" * 5)
    assert error.error_name == "DatasetRegistryUnknownVersion"
    assert "malformed" in str(error)
