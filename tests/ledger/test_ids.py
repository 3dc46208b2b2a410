"""Pure id derivations (their on-chain twins are checked in tests/contracts)."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledger.ids import code_hash, dataset_id, department_id


def test_department_id_is_keccak_of_the_code() -> None:
    assert department_id("91330100MA27XYZ12K") == keccak(b"91330100MA27XYZ12K")


def test_surrounding_whitespace_is_ignored() -> None:
    assert department_id("  X-1\n") == department_id("X-1")


def test_utf8_codes() -> None:
    assert dataset_id("低保名单") == keccak("低保名单".encode())


@pytest.mark.parametrize("code", ["", "   ", "\n"])
def test_empty_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        code_hash(code)


def test_code_with_a_lone_surrogate_is_an_input_error() -> None:
    from ledger.errors import InputError
    from ledger.ids import code_hash

    with pytest.raises(InputError, match="lone surrogate"):
        code_hash("民政\ud800局")
