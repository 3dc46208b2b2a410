"""Proof bundles under hostile input, offline (no node): ``load_bundle`` and
``check_bundle_offline``.

Whatever comes in — any JSON value, a truncated or oversized text, a valid bundle with one
field or one byte changed — the answer is ``BundleFormatError`` (malformed) or
``RootMismatchError`` (well formed, does not verify), never another exception; and a changed
bundle verifies only when it still says exactly the same thing (e.g. hex digits in another
case). The claims checked on chain (chain id, contract, dataset, version id, transaction,
block, time, leaf count, publisher) are tested against a node, with the consortium trust file,
in tests/ledger/verify/test_verifier.py and tests/ledger/verify/test_bundle_attacks.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.verify import (
    BUNDLE_FORMAT,
    LEGACY_BUNDLE_FORMAT,
    MAX_BUNDLE_SIZE,
    BundleFormatError,
    RootMismatchError,
    check_bundle_offline,
    load_bundle,
)
from tests.ledger._fuzz import assert_short_one_line, attempt

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hashes = st.binary(min_size=32, max_size=32)
paths = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=[]), max_size=70),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def hx(value: bytes) -> str:
    return "0x" + value.hex()


@st.composite
def bundles(draw: st.DrawFn) -> dict[str, Any]:
    """A valid bundle of a file or record leaf in a tree of 1 to 9 leaves."""
    kind = draw(st.sampled_from(["file", "record"]))
    if kind == "file":
        types = merkle.FILE_LEAF_TYPES
        rows: list[tuple[bytes, Any]] = draw(
            st.lists(st.tuples(hashes, paths), min_size=1, max_size=9)
        )
    else:
        types = merkle.RECORD_LEAF_TYPES
        rows = draw(st.lists(st.tuples(hashes, hashes), min_size=1, max_size=9))
    return bundle_of(rows, types, draw(st.integers(0, len(rows) - 1)))


def bundle_of(rows: list[tuple[bytes, Any]], types: Any, chosen: int) -> dict[str, Any]:
    """The valid bundle of leaf ``rows[chosen]`` in the tree of ``rows`` (claims of fixed
    values: their truth is for the chain, test_bundle_attacks.py)."""
    tree = merkle.MerkleTree.of(rows, types)
    content, second = rows[chosen]
    leaf = merkle.leaf_hash(types, [content, second])
    return {
        "format": BUNDLE_FORMAT,
        "leaf": {
            "kind": "file" if list(types) == list(merkle.FILE_LEAF_TYPES) else "record",
            "types": list(types),
            "values": [hx(content), second if isinstance(second, str) else hx(second)],
            "hash": hx(leaf),
        },
        "proof": [hx(step) for step in tree.proof(leaf)],
        "root": hx(tree.root),
        "dataset_id": hx(b"\x01" * 32),
        "version_id": hx(b"\x02" * 32),
        "contract": "0x" + "ab" * 20,
        "chain_id": 31337,
        "transaction": hx(b"\x04" * 32),
        "block_number": 7,
        "anchored_at": "2026-12-05T08:00:00+00:00",
        "leaf_count": len(rows),
        "publisher": {"id": hx(b"\x03" * 32)},
        "sealed": None,  # no seals: the offline rules are tests/ledger/verify/test_offline.py's
    }


def outcome(value: Any) -> tuple[Any, Exception | None]:
    result, error = attempt(lambda: check_bundle_offline(value))
    if error is not None:
        assert isinstance(error, BundleFormatError | RootMismatchError), repr(error)
        assert error.kind in ("bad-bundle", "root-mismatch")
        assert_short_one_line(error)
    return result, error


# ---------------------------------------------------------------------------- valid


@FUZZ
@given(bundles())
def test_valid_bundles_verify_as_objects_and_as_text(bundle: dict[str, Any]) -> None:
    leaf, proof, root = check_bundle_offline(bundle)
    assert hx(leaf) == bundle["leaf"]["hash"] and hx(root) == bundle["root"]
    assert [hx(step) for step in proof] == bundle["proof"]
    for text in (json.dumps(bundle), json.dumps(bundle, indent=2, ensure_ascii=False)):
        assert check_bundle_offline(load_bundle(text)) == (leaf, proof, root)
        assert check_bundle_offline(load_bundle(text.encode("utf-8"))) == (leaf, proof, root)
    # An old bundle (before the trust file) is read the same offline: its claims are judged on
    # chain.
    legacy = {k: v for k, v in bundle.items() if k not in ("version_id", "publisher")}
    assert check_bundle_offline({**legacy, "format": LEGACY_BUNDLE_FORMAT}) == (leaf, proof, root)


# ---------------------------------------------------------------------------- anything


@FUZZ
@given(json_values)
@example({"format": BUNDLE_FORMAT, "leaf": {"types": ["bytes32", "string"]}})
@example({"format": "x" * 10_000})
@example({"format": 10**400})
@example(
    {
        "format": BUNDLE_FORMAT,
        "leaf": {"types": ["bytes32", "string"], "values": ["0x" + "00" * 32, "\ud800"]},
    }
)
def test_any_json_value_is_refused_with_a_typed_error(value: Any) -> None:
    _, error = outcome(value)
    assert error is not None


def test_a_path_with_a_lone_surrogate_is_a_format_error() -> None:
    # It came out of the Merkle code as MerkleInputError.
    bundle = {
        "format": BUNDLE_FORMAT,
        "leaf": {
            "types": ["bytes32", "string"],
            "values": ["0x" + "00" * 32, "a\udc80"],
            "hash": "0x" + "00" * 32,
        },
    }
    with pytest.raises(BundleFormatError, match="lone surrogate"):
        check_bundle_offline(bundle)


# ---------------------------------------------------------------------------- one field changed

# The places check_bundle_offline reads.
FIELDS = [
    ("format",),
    ("leaf",),
    ("leaf", "kind"),
    ("leaf", "types"),
    ("leaf", "types", 0),
    ("leaf", "types", 1),
    ("leaf", "values"),
    ("leaf", "values", 0),
    ("leaf", "values", 1),
    ("leaf", "hash"),
    ("proof",),
    ("root",),
    # The claims: their form offline, their truth on chain (test_bundle_attacks.py).
    ("dataset_id",),
    ("version_id",),
    ("chain_id",),
    ("contract",),
    ("transaction",),
    ("block_number",),
    ("anchored_at",),
    ("leaf_count",),
    ("publisher",),
    ("publisher", "id"),
]


def replaced(bundle: dict[str, Any], where: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    target: Any = changed
    for key in where[:-1]:
        target = target[key]
    if value is DELETE:
        del target[where[-1]]
    else:
        target[where[-1]] = value
    return changed


DELETE = object()


@FUZZ
@given(
    bundles(),
    st.sampled_from(FIELDS),
    st.one_of(
        json_values,
        st.just(DELETE),
        hashes.map(hx),
        st.sampled_from(["bytes32", "string", "bytes", "uint256"]),
    ),
)
def test_a_changed_field_is_refused_unless_it_says_the_same(
    bundle: dict[str, Any], where: tuple[Any, ...], value: Any
) -> None:
    original = check_bundle_offline(bundle)
    result, error = outcome(replaced(bundle, where, value))
    if error is None:
        # Only a change that says the same thing verifies (e.g. the same hex in another case).
        assert result == original, (where, value)


@FUZZ
@given(bundles(), st.data())
def test_a_changed_proof_step_is_refused(bundle: dict[str, Any], data: st.DataObject) -> None:
    original = check_bundle_offline(bundle)
    proof = bundle["proof"]
    edit = data.draw(st.sampled_from(["drop", "add", "swap", "replace"] if proof else ["add"]))
    changed = list(proof)
    if edit == "drop":
        del changed[data.draw(st.integers(0, len(proof) - 1))]
    elif edit == "add":
        changed.insert(data.draw(st.integers(0, len(proof))), hx(data.draw(hashes)))
    elif edit == "swap":
        changed.reverse()
    else:
        changed[data.draw(st.integers(0, len(proof) - 1))] = hx(data.draw(hashes))
    result, error = outcome({**bundle, "proof": changed})
    if error is None:
        assert result == original and changed == proof  # e.g. reversing one step
    else:
        assert isinstance(error, RootMismatchError)


# ---------------------------------------------------------------------------- bytes changed


@FUZZ
@given(bundles(), st.data())
def test_a_changed_byte_of_the_text_is_refused_unless_it_says_the_same(
    bundle: dict[str, Any], data: st.DataObject
) -> None:
    original = check_bundle_offline(bundle)
    text = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    at = data.draw(st.integers(0, len(text) - 1))
    edit = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    if edit == "replace":
        byte = data.draw(st.integers(0, 255).filter(lambda b: b != text[at]))
        changed = text[:at] + bytes([byte]) + text[at + 1 :]
    elif edit == "delete":
        changed = text[:at] + text[at + 1 :]
    else:
        changed = text[:at] + bytes([data.draw(st.integers(0, 255))]) + text[at:]
    value, error = attempt(lambda: load_bundle(changed))
    if error is not None:
        assert isinstance(error, BundleFormatError)
        assert_short_one_line(error)
        return
    result, error = outcome(value)
    if error is None:
        # A change outside what is checked offline (chain id, contract, …: checked on chain),
        # or the same hex in another case, or insignificant whitespace.
        assert result == original


def test_every_truncation_of_a_bundle_is_refused() -> None:
    rows: list[tuple[bytes, Any]] = [(bytes([i]) * 32, f"目录/文件{i}.txt") for i in range(5)]
    bundle = bundle_of(rows, merkle.FILE_LEAF_TYPES, 2)
    text = json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8")
    root = merkle.MerkleTree.of(rows, merkle.FILE_LEAF_TYPES).root
    assert check_bundle_offline(load_bundle(text))[2] == root
    for end in range(len(text)):
        with pytest.raises(BundleFormatError, match=r"not valid JSON|not UTF-8"):
            load_bundle(text[:end])


# ---------------------------------------------------------------------------- too big


def test_oversized_texts_are_refused_before_parsing() -> None:
    padded = b'{"format": "' + b"x" * MAX_BUNDLE_SIZE + b'"}'
    with pytest.raises(BundleFormatError, match="larger than"):
        load_bundle(padded)
    with pytest.raises(BundleFormatError, match="larger than"):
        load_bundle(padded.decode())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 300_000, "nested more than 16 levels"),  # was a segfault (see load_bundle)
        ('{"leaf": ' * 17 + "{}" + "}" * 17, "nested more than 16 levels"),
        ('{"chain_id": ' + "9" * 5000 + "}", "more than 4300 digits"),
        ('{"root": "0x00", "root": "0x01"}', '"root" appears twice'),
        ('{"chain_id": NaN}', "not finite"),
        ('{"chain_id": 1e400}', "not finite"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("", "not valid JSON"),
        ('{"format": "xietong-proof/1"', "not valid JSON"),
    ],
)
def test_texts_that_are_not_bundles_are_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(BundleFormatError, match=message):
        load_bundle(text)


def test_a_proof_of_more_than_256_steps_is_refused() -> None:
    rows = [(b"\x07" * 32, "a.txt")]
    leaf = merkle.leaf_hash(merkle.FILE_LEAF_TYPES, list(rows[0]))
    bundle = {
        "format": BUNDLE_FORMAT,
        "leaf": {
            "types": ["bytes32", "string"],
            "values": [hx(rows[0][0]), "a.txt"],
            "hash": hx(leaf),
        },
        "proof": [hx(b"\x00" * 32)] * 257,
        "root": hx(leaf),
    }
    with pytest.raises(BundleFormatError, match="more than 256 steps"):
        check_bundle_offline(bundle)


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("chain_id",), "31337", "`chain_id` in the proof bundle must be an integer."),
        (("leaf_count",), True, "`leaf_count` in the proof bundle must be an integer."),
        (("contract",), "0x1234", "`contract` in the proof bundle must be an address."),
        (("transaction",), "0xabc", "`transaction` in the proof bundle is malformed"),
        (("anchored_at",), "2026-12-05T08:00:00", "`anchored_at` in the proof bundle is not"),
        (("publisher",), DELETE, "the proof bundle has no `publisher`."),
        (("publisher", "name"), "杭州市公安局", "the unknown member 'publisher.name'"),
        (("department_id",), "0x" + "03" * 32, "the unknown member 'department_id'"),
        (("leaf", "note"), "x", "the unknown member 'leaf.note'"),
    ],
    ids=[
        "chain-id-a-string",
        "leaf-count-a-boolean",
        "contract-not-an-address",
        "transaction-not-a-hash",
        "anchored-at-without-offset",
        "publisher-missing",
        "publisher-name-claimed",
        "unknown-top-level-member",
        "unknown-leaf-member",
    ],
)
def test_a_claim_of_the_wrong_form_is_refused_before_any_node_is_asked(
    where: tuple[Any, ...], value: Any, message: str
) -> None:
    """A xietong-proof/2 bundle's claims are judged offline for their form (no node is
    needed to refuse them), and a member no check reads is refused: a bundle says nothing
    that goes unchecked (a `publisher.name` would otherwise sit in a VALID bundle)."""
    bundle = _a_bundle()
    with pytest.raises(BundleFormatError) as info:
        check_bundle_offline(replaced(bundle, where, value))
    assert message in str(info.value)


def _a_bundle() -> dict[str, Any]:
    """One valid bundle of a file leaf (a tree of two), built without Hypothesis."""
    rows: list[tuple[bytes, Any]] = [(b"\x0a" * 32, "a.txt"), (b"\x0b" * 32, "b.txt")]
    return bundle_of(rows, merkle.FILE_LEAF_TYPES, 0)
