"""ledger.hashing._errors: every refusal is a typed input error with a kind of its own."""

from __future__ import annotations

from ledger import hashing
from ledger.errors import InputError, LedgerError


def test_every_refusal_is_an_input_error_with_a_kind() -> None:
    for name in hashing.__all__:
        obj = getattr(hashing, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, InputError) and issubclass(obj, LedgerError), name
            assert obj.kind not in ("bad-input", "ledger-error"), name
