"""Every custom error decodes to one readable sentence with its arguments."""

from __future__ import annotations

import pytest
from eth_abi import encode

from ledger.chain.revert import ERROR_MESSAGES, decode_revert, known_errors

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
