"""ledger.merkle: OpenZeppelin standard Merkle trees, checked against the reference.

- the committed vectors of ``@openzeppelin/merkle-tree`` (tests/vectors/merkle.json, made by
  hardhat-node/scripts/merkle-vectors.js), positive and negative, on both backends;
- the JavaScript library live, for a random set;
- the C extension against the pure-Python fallback (same roots, proofs and error messages),
  with hypothesis;
- proofs against ``DatasetRegistry.verifyLeaf`` on chain (Hardhat and Anvil).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from Crypto.Hash import keccak as crypto_keccak
from eth_abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import LedgerError
from ledger.merkle import (
    FILE_LEAF_TYPES,
    RECORD_LEAF_TYPES,
    EmptyTreeError,
    LeafIndexError,
    LeafNotInTreeError,
    MerkleError,
    MerkleInputError,
    MerkleTree,
)
from ledger.paths import HARDHAT_DIR, PROJECT_ROOT
from tests.support import Consortium, dataset_of, reverts

VECTORS_PATH = PROJECT_ROOT / "tests" / "vectors" / "merkle.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

NATIVE = merkle._NATIVE_AVAILABLE
AVAILABLE: tuple[merkle.Backend, ...] = ("c", "python") if NATIVE else ("python",)
needs_native = pytest.mark.skipif(
    not NATIVE, reason="the C extension ledger._keccak is not built (no C compiler at install)"
)
BACKENDS = [pytest.param("c", marks=needs_native), "python"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[merkle.Backend]:
    """Run the test once with the C extension and once with the pure-Python fallback."""
    with merkle.use_backend(request.param):
        yield request.param


@pytest.fixture(params=[True, False], ids=["simd", "scalar"])
def simd(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run a C test with four-at-once (AVX2) hashing and with one state at a time."""
    if not NATIVE:
        pytest.skip("the C extension ledger._keccak is not built")
    from ledger import _keccak

    before = _keccak.simd()
    active = _keccak.set_simd(request.param)
    try:
        if request.param and not active:
            pytest.skip("this CPU has no AVX2: only the one-state path exists")
        yield active
    finally:
        _keccak.set_simd(before)


def reference_keccak(data: bytes) -> bytes:
    return crypto_keccak.new(digest_bits=256, data=data).digest()


def unhex(value: str) -> bytes:
    assert value.startswith("0x")
    return bytes.fromhex(value[2:])


def hexes(values: Sequence[bytes]) -> list[str]:
    return ["0x" + v.hex() for v in values]


def decode_values(types: Sequence[str], value: Sequence[str]) -> list[Any]:
    """JSON leaf values of the vectors as Python values for eth_abi."""
    out: list[Any] = []
    for solidity_type, item in zip(types, value, strict=True):
        if solidity_type == "bytes32":
            out.append(unhex(item))
        elif solidity_type.startswith("uint"):
            out.append(int(item))
        else:
            out.append(item)
    return out


def stable_positions(leaves: Sequence[bytes]) -> list[int]:
    """Sorted position of each value's leaf, equal leaves kept in input order (as JS sorts)."""
    order = sorted(range(len(leaves)), key=lambda i: leaves[i])
    positions = [0] * len(leaves)
    for position, index in enumerate(order):
        positions[index] = position
    return positions


def run_node(script: str, *args: str) -> Any:
    result = subprocess.run(
        ["node", "-e", script, *args],
        cwd=HARDHAT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


# ------------------------------------------------------------------ vectors


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["desc"] for c in VECTORS["cases"]])
def test_vector(case: dict[str, Any], backend: str) -> None:
    """Root, node array, leaves and every value's proof equal StandardMerkleTree.of's."""
    types = case["types"]
    values = [decode_values(types, v) for v in case["values"]]
    tree = MerkleTree.of(values, types)
    assert "0x" + tree.root.hex() == case["root"]
    assert hexes(tree.nodes()) == case["tree"]
    assert tree.leaf_count == len(values)

    leaves = [merkle.leaf_hash(types, v) for v in values]
    assert hexes(leaves) == case["leaves"]
    for value_index, position in enumerate(stable_positions(leaves)):
        proof = tree.proof_at(position)
        assert hexes(proof) == case["proofs"][value_index]
        assert merkle.verify_proof(tree.root, leaves[value_index], proof)
        assert tree.leaf_at(position) == leaves[value_index]

    rebuilt = MerkleTree.from_leaf_hashes(leaves[::-1])
    assert rebuilt.root == tree.root
    assert MerkleTree.from_sorted_leaves(tree.sorted_leaves()).root == tree.root


@pytest.mark.parametrize("case", VECTORS["negative"], ids=[n["desc"] for n in VECTORS["negative"]])
def test_negative_vector(case: dict[str, Any], backend: str) -> None:
    """Each broken proof of the vectors is refused (False, not an exception)."""
    types = case["types"]
    leaf = merkle.leaf_hash(types, decode_values(types, case["value"]))
    assert "0x" + leaf.hex() == case["leaf"]
    root = unhex(case["root"])
    proof = [unhex(p) for p in case["proof"]]
    assert merkle.verify_proof(root, leaf, proof) is False
    assert merkle.process_proof(leaf, proof) != root


def test_vectors_cover_the_required_shapes() -> None:
    """The committed vectors hold the edge cases they are meant to (and the desc says so)."""
    descs = {c["desc"] for c in VECTORS["cases"]}
    counts = {len(c["values"]) for c in VECTORS["cases"]}
    assert {1, 2, 3, 5, 7} <= counts
    assert {"file-duplicate-values", "record-duplicate-values", "file-unicode-paths"} <= descs
    assert {tuple(c["types"]) for c in VECTORS["cases"]} >= {FILE_LEAF_TYPES, RECORD_LEAF_TYPES}
    negative = {n["desc"] for n in VECTORS["negative"]}
    assert {"tampered-proof-sibling", "wrong-leaf", "proof-for-other-root", "truncated-proof"} <= (
        negative
    )


def test_committed_vectors_are_current() -> None:
    """Re-running the generator against the installed npm library gives the committed file."""
    result = subprocess.run(
        ["node", "scripts/merkle-vectors.js", "--stdout"],
        cwd=HARDHAT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout == VECTORS_PATH.read_text(encoding="utf-8"), (
        "tests/vectors/merkle.json is stale: run `node scripts/merkle-vectors.js` in hardhat-node/"
    )


# ------------------------------------------------------------------ the JS library, live


def test_random_sets_match_openzeppelin_js_live(backend: str) -> None:
    """A random file set and a random record set: roots and all proofs equal the JS library's."""
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    files = [
        (rng.randbytes(32), f"部门{rng.randrange(9)}/{i}-{rng.randrange(10**6)}.csv")
        for i in range(rng.randrange(1, 60))
    ]
    records = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(rng.randrange(1, 60))]
    sets = [
        (list(FILE_LEAF_TYPES), [["0x" + h.hex(), p] for h, p in files]),
        (list(RECORD_LEAF_TYPES), [["0x" + h.hex(), "0x" + s.hex()] for h, s in records]),
    ]
    script = (
        "const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');"
        "const sets = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(sets.map(([types, values]) => {"
        "  const tree = StandardMerkleTree.of(values, types);"
        "  return {root: tree.root, proofs: values.map((_, i) => tree.getProof(i))};"
        "})));"
    )
    expected = run_node(script, json.dumps(sets))
    for (types, js_values), answer in zip(sets, expected, strict=True):
        values = [decode_values(types, v) for v in js_values]
        tree = MerkleTree.of(values, types)
        assert "0x" + tree.root.hex() == answer["root"]
        leaves = [merkle.leaf_hash(types, v) for v in values]
        positions = stable_positions(leaves)
        assert [hexes(tree.proof_at(p)) for p in positions] == answer["proofs"]


# ------------------------------------------------------------------ Keccak


KECCAK_EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_keccak_known_answers(backend: str) -> None:
    """Ethereum's Keccak-256 (padding 0x01), not SHA3-256 (padding 0x06)."""
    assert merkle.keccak256(b"").hex() == KECCAK_EMPTY
    assert merkle.keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    assert merkle.keccak256(b"") != hashlib.sha3_256(b"").digest()


@needs_native
def test_c_keccak_matches_reference_for_every_length_around_the_block() -> None:
    """Every message length from 0 to 700 bytes (five 136-byte blocks) and a large one."""
    from ledger import _keccak

    for length in range(701):
        data = os.urandom(length)
        assert _keccak.keccak256(data) == reference_keccak(data), length
    big = os.urandom(200_000)  # hashed without the GIL
    assert _keccak.keccak256(big) == reference_keccak(big)
    assert _keccak.keccak256(bytearray(b"abc")) == reference_keccak(b"abc")


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_c_keccak_many(threads: int, simd: bool) -> None:
    """Bulk hashing of equal-size items (the benchmark's floor), around block boundaries."""
    from ledger import _keccak

    for size in (64, 1, 135, 136, 137, 272, 300):
        items = [os.urandom(size) for _ in range(9001 if size == 64 else 7)]
        out = _keccak.keccak_many(b"".join(items), size, threads=threads)
        digests = [out[i : i + 32] for i in range(0, len(out), 32)]
        assert digests == [reference_keccak(i) for i in items], size
    with pytest.raises(ValueError, match="whole number"):
        _keccak.keccak_many(b"abc", 2)
    assert _keccak.default_threads() >= 1


# ------------------------------------------------------------------ leaves


paths = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=180
)  # no lone surrogates: those are not UTF-8
hashes32 = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(hashes32, paths), min_size=1, max_size=20))
def test_file_leaves_equal_eth_abi_on_both_backends(entries: list[tuple[bytes, str]]) -> None:
    """The hand-built ABI encoding of (bytes32, string) equals eth_abi.encode's."""
    expected = [
        reference_keccak(reference_keccak(encode(list(FILE_LEAF_TYPES), [h, p])))
        for h, p in entries
    ]
    with merkle.use_backend("python"):
        assert merkle.file_leaf_hashes(entries) == expected
        assert [merkle.leaf_hash(FILE_LEAF_TYPES, e) for e in entries] == expected
    if NATIVE:
        with merkle.use_backend("c"):
            assert merkle.file_leaf_hashes(entries) == expected
            assert [merkle.leaf_hash(list(FILE_LEAF_TYPES), list(e)) for e in entries] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(hashes32, hashes32), min_size=1, max_size=20))
def test_record_leaves_equal_eth_abi_on_both_backends(entries: list[tuple[bytes, bytes]]) -> None:
    expected = [
        reference_keccak(reference_keccak(encode(list(RECORD_LEAF_TYPES), list(e))))
        for e in entries
    ]
    with merkle.use_backend("python"):
        assert merkle.record_leaf_hashes(entries) == expected
    if NATIVE:
        with merkle.use_backend("c"):
            assert merkle.record_leaf_hashes(entries) == expected
            assert merkle.record_leaf_hashes([list(e) for e in entries]) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(hashes32, hashes32), min_size=0, max_size=20))
def test_record_leaf_blob_equals_the_reference_on_both_backends(
    entries: list[tuple[bytes, bytes]],
) -> None:
    """The packed bulk form (``hash || salt`` per record in, 32-byte leaves out) gives the
    same leaves as eth_abi and keccak, in the same order."""
    expected = b"".join(
        reference_keccak(reference_keccak(encode(list(RECORD_LEAF_TYPES), list(e))))
        for e in entries
    )
    packed = b"".join(h + s for h, s in entries)
    for name in AVAILABLE:
        with merkle.use_backend(name):
            assert merkle.record_leaf_blob(packed) == expected
            assert merkle.record_leaf_blob(bytearray(packed)) == expected


def test_record_leaf_blob_refuses_a_partial_entry(backend: str) -> None:
    with pytest.raises(MerkleInputError, match="multiple of 64 bytes, not 96 bytes"):
        merkle.record_leaf_blob(bytes(96))


# Few distinct first bytes: many equal leaves and crowded buckets (the C sort's qsort path).
crowded_leaves = st.lists(
    st.tuples(st.integers(0, 3), st.binary(min_size=31, max_size=31)).map(
        lambda pair: bytes([0, pair[0]]) + pair[1][:30]
    ),
    min_size=0,
    max_size=120,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(hashes32, max_size=70), crowded_leaves), st.data())
def test_sort_leaves_equals_a_stable_python_sort_on_both_backends(
    leaves: list[bytes], data: Any
) -> None:
    """``sort_leaves`` sorts like ``sorted`` and its order gives each sorted leaf's input
    position, ties in input order; the sorted blob builds the same tree as the leaves."""
    leaves = leaves + data.draw(st.lists(st.sampled_from(leaves), max_size=10)) if leaves else []
    positions = sorted(range(len(leaves)), key=lambda i: (leaves[i], i))
    for name in AVAILABLE:
        with merkle.use_backend(name):
            ordered, order = merkle.sort_leaves(b"".join(leaves))
            assert ordered == b"".join(leaves[i] for i in positions)
            assert list(order) == positions
            if leaves:
                built = MerkleTree.from_sorted_leaves(ordered)
                assert built.root == MerkleTree.from_leaf_hashes(leaves).root


@needs_native
def test_c_sort_leaves_with_large_buckets_equals_python() -> None:
    """Buckets above 32 leaves go through the C sort's qsort path; ties stay in input order."""
    rng = random.Random(13)
    leaves = [bytes([7, 7]) + rng.randbytes(1) + bytes(29) for _ in range(3000)]
    leaves += [rng.randbytes(32) for _ in range(3000)]
    blob = b"".join(leaves)
    with merkle.use_backend("c"):
        native = merkle.sort_leaves(blob)
    with merkle.use_backend("python"):
        assert merkle.sort_leaves(blob) == native


def test_sort_leaves_refuses_a_partial_leaf(backend: str) -> None:
    with pytest.raises(MerkleInputError, match="multiple of 32 bytes, not 33 bytes"):
        merkle.sort_leaves(bytes(33))


def test_generic_leaf_types_use_eth_abi(backend: str) -> None:
    value = ["0x1111111111111111111111111111111111111111", 5 * 10**18]
    expected = reference_keccak(reference_keccak(encode(["address", "uint256"], value)))
    assert merkle.leaf_hash(["address", "uint256"], value) == expected


def test_leaf_inputs_are_bytes_like(backend: str) -> None:
    """bytearray and memoryview hashes give the same leaf as bytes."""
    digest, salt = os.urandom(32), os.urandom(32)
    expected = merkle.record_leaf_hashes([(digest, salt)])
    assert merkle.record_leaf_hashes([(bytearray(digest), memoryview(salt))]) == expected
    assert merkle.file_leaf_hashes([(bytearray(digest), "a")]) == merkle.file_leaf_hashes(
        [(digest, "a")]
    )
    assert merkle.file_leaf_hashes([]) == [] and merkle.record_leaf_hashes(()) == []


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_c_bulk_leaves_are_the_same_on_any_thread_count(threads: int, simd: bool) -> None:
    """Enough entries to be split over threads (the split starts at 4096); file paths of
    0 to 1,300 bytes mix messages of one to ten Keccak blocks (grouped by block count for the
    four-at-once path, with messages over 1,024 bytes hashed one by one)."""
    from ledger import _keccak

    files = [(os.urandom(32), f"d/{i}/" + "x" * ((i * 7919) % 1300)) for i in range(10_000)]
    records = [(os.urandom(32), os.urandom(32)) for _ in range(10_000)]
    with merkle.use_backend("python"):
        assert _keccak.file_leaves(files, threads=threads) == merkle.file_leaf_hashes(files)
        assert _keccak.record_leaves(records, threads=threads) == merkle.record_leaf_hashes(records)


# ------------------------------------------------------------------ trees and proofs

leaf_sets = st.lists(hashes32, min_size=1, max_size=70)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaf_sets, st.data())
def test_every_proof_verifies_and_a_flipped_bit_fails(leaves: list[bytes], data: Any) -> None:
    """For random leaf sets (duplicates included): every leaf's proof verifies; one flipped
    bit in the leaf, in a proof step or in the root makes it fail; C and Python agree."""
    if data.draw(st.booleans()) and len(leaves) > 1:
        leaves = [*leaves, leaves[0]]  # a duplicate
    trees: dict[merkle.Backend, MerkleTree] = {}
    for name in AVAILABLE:
        with merkle.use_backend(name):
            trees[name] = MerkleTree.from_leaf_hashes(leaves)
    tree = trees["python"]
    if NATIVE:
        assert trees["c"].sorted_leaves() == tree.sorted_leaves()
        assert trees["c"].nodes() == tree.nodes()
    assert tree.sorted_leaves() == b"".join(sorted(leaves))
    assert tree.leaf_count == len(leaves)

    for name, t in trees.items():
        with merkle.use_backend(name):
            for i in range(t.leaf_count):
                leaf = t.leaf_at(i)
                proof = t.proof_at(i)
                assert proof == tree.proof_at(i)
                assert merkle.verify_proof(t.root, leaf, proof)
                assert t.leaf_index(leaf) <= i  # the first copy of a duplicate

            i = data.draw(st.integers(0, t.leaf_count - 1))
            leaf, proof = t.leaf_at(i), t.proof_at(i)
            bit = data.draw(st.integers(0, 255))

            def flipped(value: bytes, bit: int = bit) -> bytes:
                out = bytearray(value)
                out[bit // 8] ^= 1 << (bit % 8)
                return bytes(out)

            assert not merkle.verify_proof(t.root, flipped(leaf), proof)
            assert not merkle.verify_proof(flipped(t.root), leaf, proof)
            if proof:
                step = data.draw(st.integers(0, len(proof) - 1))
                broken = [*proof]
                broken[step] = flipped(broken[step])
                assert not merkle.verify_proof(t.root, leaf, broken)
                assert not merkle.verify_proof(t.root, leaf, proof[:-1])


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 8191, 8192, 8193, 20_000])
def test_c_tree_equals_python_tree_at_level_split_sizes(count: int, simd: bool) -> None:
    """Sizes around the point where levels are split over threads (and levels that are not
    a multiple of four nodes) build the same tree."""
    from ledger import _keccak

    leaves = [os.urandom(32) for _ in range(count)]
    with merkle.use_backend("python"):
        expected = MerkleTree.from_leaf_hashes(leaves)
    for threads in (1, 2, 3):
        sorted_blob, nodes = _keccak.build(leaves, threads=threads)
        assert sorted_blob == expected.sorted_leaves()
        assert _keccak.build_sorted(sorted_blob, threads=threads) == nodes
        assert nodes == b"".join(expected.nodes()[: count - 1])
    for i in (0, count // 2, count - 1):
        assert _keccak.proof(sorted_blob, nodes, i) == expected.proof_at(i)


def test_single_leaf_tree(backend: str) -> None:
    leaf = os.urandom(32)
    tree = MerkleTree.from_leaf_hashes([leaf])
    assert tree.root == leaf
    assert tree.proof(leaf) == []
    assert merkle.verify_proof(leaf, leaf, [])
    assert tree.nodes() == [leaf]


def test_two_leaves_root_is_the_sorted_pair_hash(backend: str) -> None:
    a, b = sorted([os.urandom(32), os.urandom(32)])
    tree = MerkleTree.from_leaf_hashes([b, a])
    assert tree.root == reference_keccak(a + b) == merkle.hash_pair(b, a) == merkle.hash_pair(a, b)
    assert tree.proof(a) == [b] and tree.proof(b) == [a]


def test_duplicates_stay_separate_leaves(backend: str) -> None:
    a, b = os.urandom(32), os.urandom(32)
    tree = MerkleTree.from_leaf_hashes([a, b, a])
    assert tree.leaf_count == 3
    first = tree.leaf_index(a)
    assert tree.leaf_at(first) == tree.leaf_at(first + 1) == a
    assert tree.proof(a) == tree.proof_at(first)
    assert merkle.verify_proof(tree.root, a, tree.proof_at(first + 1))


def test_tree_lookup_and_round_trip(backend: str) -> None:
    leaves = [os.urandom(32) for _ in range(37)]
    tree = MerkleTree.from_leaf_hashes(leaves)
    for leaf in leaves:
        assert leaf in tree
        assert tree.leaf_at(tree.leaf_index(leaf)) == leaf
        assert tree.verify(leaf, tree.proof(leaf))
    assert os.urandom(32) not in tree and b"short" not in tree
    blob = tree.sorted_leaves()
    assert len(blob) == 32 * 37
    again = MerkleTree.from_sorted_leaves(blob)
    assert again == tree and hash(again) == hash(tree) and again.root == tree.root
    assert MerkleTree.from_sorted_leaves(bytearray(blob)).root == tree.root
    assert MerkleTree.from_sorted_leaves(memoryview(blob)).root == tree.root
    assert repr(tree) == f"MerkleTree(root=0x{tree.root.hex()}, leaf_count=37)"
    assert len(tree) == 37
    assert tree != MerkleTree.from_leaf_hashes(leaves[1:])


def test_tree_is_immutable() -> None:
    tree = MerkleTree.from_leaf_hashes([os.urandom(32)])
    with pytest.raises(AttributeError, match="immutable"):
        tree._leaves = b""
    with pytest.raises(AttributeError, match="immutable"):
        tree.extra = 1
    with pytest.raises(AttributeError, match="immutable"):
        del tree._nodes
    with pytest.raises(TypeError, match="from_leaf_hashes"):
        MerkleTree(b"", b"")


def test_persisted_blob_rebuilt_by_the_other_backend() -> None:
    """A blob written by one backend rebuilds the same tree with the other."""
    leaves = [os.urandom(32) for _ in range(100)]
    with merkle.use_backend("python"):
        blob = MerkleTree.from_leaf_hashes(leaves).sorted_leaves()
        root = MerkleTree.from_leaf_hashes(leaves).root
    if NATIVE:
        with merkle.use_backend("c"):
            assert MerkleTree.from_sorted_leaves(blob).root == root


def test_fallback_is_used_when_the_extension_cannot_be_imported() -> None:
    """With ``ledger._keccak`` unimportable, ledger.merkle still works, in pure Python."""
    leaves = [os.urandom(32) for _ in range(9)]
    script = (
        "import sys; sys.modules['ledger._keccak'] = None\n"
        "from ledger import merkle\n"
        "leaves = [bytes.fromhex(h) for h in sys.argv[1].split(',')]\n"
        "tree = merkle.MerkleTree.from_leaf_hashes(leaves)\n"
        "print(merkle.backend(), tree.root.hex())\n"
        "try:\n"
        "    with merkle.use_backend('c'):\n"
        "        pass\n"
        "except merkle.MerkleError as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, ",".join(leaf.hex() for leaf in leaves)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == f"python {MerkleTree.from_leaf_hashes(leaves).root.hex()}"
    assert lines[1].startswith("refused: the C extension ledger._keccak is not built")


@needs_native
def test_the_extension_is_in_use_by_default() -> None:
    assert merkle.backend() == "c"


# ------------------------------------------------------------------ errors


def error_of(action: Any) -> tuple[type[BaseException], str]:
    with pytest.raises(LedgerError) as info:
        action()
    return type(info.value), str(info.value)


H = b"\x11" * 32
BAD_INPUTS: list[tuple[str, Any, str]] = [
    (
        "short content hash",
        lambda: merkle.file_leaf_hashes([(b"\x01" * 31, "a")]),
        "entry 0: the content hash must be 32 bytes, not 31",
    ),
    (
        "hex content hash",
        lambda: merkle.file_leaf_hashes([(H, "a"), ("0x" + "11" * 32, "b")]),
        "entry 1: the content hash must be bytes, not str",
    ),
    (
        "path not str",
        lambda: merkle.file_leaf_hashes([(H, b"a")]),
        "entry 0: the path must be a str, not bytes",
    ),
    (
        "surrogate path",
        lambda: merkle.file_leaf_hashes([(H, "a"), (H, "\udc80")]),
        "entry 1: the path is not encodable as UTF-8",
    ),
    (
        "not a pair",
        lambda: merkle.file_leaf_hashes([(H, "a", "b")]),
        "entry 0 is not a pair (content hash, path)",
    ),
    (
        "not a sequence",
        lambda: merkle.file_leaf_hashes(5),  # type: ignore[arg-type]
        "entries must be a sequence of (content hash, path) pairs",
    ),
    (
        "long salt",
        lambda: merkle.record_leaf_hashes([(H, H), (H, H + b"\x00")]),
        "entry 1: the salt must be 32 bytes, not 33",
    ),
    (
        "int record hash",
        lambda: merkle.record_leaf_hashes([(7, H)]),
        "entry 0: the record hash must be bytes, not int",
    ),
    (
        "record not a pair",
        lambda: merkle.record_leaf_hashes([H]),
        "entry 0 is not a pair (record hash, salt)",
    ),
    (
        "leaf values count",
        lambda: merkle.leaf_hash(FILE_LEAF_TYPES, [H]),
        "a ['bytes32', 'string'] leaf has 2 values, not 1",
    ),
    (
        "short leaf",
        lambda: MerkleTree.from_leaf_hashes([H, b"\x00" * 20]),
        "leaf 1 must be 32 bytes, not 20",
    ),
    (
        "str leaf",
        lambda: MerkleTree.from_leaf_hashes(["ab"]),  # type: ignore[list-item]
        "leaf 0 must be bytes, not str",
    ),
    (
        "short proof step",
        lambda: merkle.process_proof(H, [H, b"\x00"]),
        "proof step 1 must be 32 bytes, not 1",
    ),
    (
        "short leaf to prove",
        lambda: merkle.verify_proof(H, b"", [H]),
        "the leaf must be 32 bytes, not 0",
    ),
    (
        "short root",
        lambda: merkle.verify_proof(b"\x00", H, [H]),
        "the root must be 32 bytes, not 1",
    ),
    (
        "short pair",
        lambda: merkle.hash_pair(H, b"\x00" * 31),
        "the second node must be 32 bytes, not 31",
    ),
    (
        "blob length",
        lambda: MerkleTree.from_sorted_leaves(b"\x00" * 33),
        "sorted leaves must be a non-empty multiple of 32 bytes, not 33 bytes",
    ),
    (
        "unsorted blob",
        lambda: MerkleTree.from_sorted_leaves(b"\x00" * 32 + b"\x02" * 32 + b"\x01" * 32),
        "sorted leaves are out of order at leaf 2",
    ),
    (
        "blob not bytes",
        lambda: MerkleTree.from_sorted_leaves("00" * 32),  # type: ignore[arg-type]
        "sorted leaves must be bytes, not str",
    ),
]


@pytest.mark.parametrize(
    ("action", "message"),
    [(a, m) for _, a, m in BAD_INPUTS],
    ids=[name for name, _, _ in BAD_INPUTS],
)
def test_malformed_input_is_refused_with_the_same_message_on_both_backends(
    action: Any, message: str
) -> None:
    answers = set()
    for name in AVAILABLE:
        with merkle.use_backend(name):
            answers.add(error_of(action))
    assert answers == {(MerkleInputError, message)}


def test_error_kinds_and_bases() -> None:
    assert issubclass(MerkleError, LedgerError)
    assert issubclass(MerkleInputError, ValueError)
    assert issubclass(EmptyTreeError, ValueError)
    assert issubclass(LeafNotInTreeError, KeyError)
    assert issubclass(LeafIndexError, IndexError)
    kinds = {
        MerkleError.kind,
        MerkleInputError.kind,
        EmptyTreeError.kind,
        LeafNotInTreeError.kind,
        LeafIndexError.kind,
    }
    assert len(kinds) == 5 and LedgerError.kind not in kinds


def test_empty_tree_is_refused(backend: str) -> None:
    for action in (
        lambda: MerkleTree.from_leaf_hashes([]),
        lambda: MerkleTree.of([], FILE_LEAF_TYPES),
        lambda: MerkleTree.from_sorted_leaves(b""),
    ):
        with pytest.raises(EmptyTreeError, match="at least one leaf"):
            action()


def test_missing_leaf_and_bad_index(backend: str) -> None:
    tree = MerkleTree.from_leaf_hashes([os.urandom(32) for _ in range(5)])
    missing = os.urandom(32)
    with pytest.raises(LeafNotInTreeError) as info:
        tree.proof(missing)
    assert str(info.value) == f"leaf 0x{missing.hex()} is not in the tree."  # not quoted
    with pytest.raises(KeyError):
        tree.leaf_index(missing)
    with pytest.raises(MerkleInputError, match="the leaf must be 32 bytes, not 3"):
        tree.proof(b"abc")
    for index in (-1, 5):
        with pytest.raises(LeafIndexError, match=f"leaf index {index} is out of range for 5"):
            tree.proof_at(index)
    with pytest.raises(MerkleInputError, match="must be an int, not bool"):
        tree.proof_at(True)


def test_wrong_proof_is_false_not_an_error(backend: str) -> None:
    tree = MerkleTree.from_leaf_hashes([os.urandom(32) for _ in range(6)])
    leaf = tree.leaf_at(2)
    assert merkle.verify_proof(tree.root, leaf, tree.proof_at(3)) is False
    assert merkle.verify_proof(tree.root, leaf, []) is False


def test_values_that_do_not_fit_generic_types(backend: str) -> None:
    with pytest.raises(MerkleInputError, match=r"do not fit the types \['uint8'\]"):
        merkle.leaf_hash(["uint8"], [300])
    with pytest.raises(MerkleInputError, match="do not fit"):
        merkle.leaf_hash(["no-such-type"], [1])


def test_unknown_backend_is_refused() -> None:
    backend_name: Any = "rust"
    with (
        pytest.raises(MerkleError, match="unknown Merkle backend"),
        merkle.use_backend(backend_name),
    ):
        pass


# ------------------------------------------------------------------ on chain


def test_proofs_verify_on_chain_with_verify_leaf(consortium: Consortium) -> None:
    """DatasetRegistry.verifyLeaf (OpenZeppelin MerkleProof) accepts our proofs, refuses a
    tampered one; for a file tree with unicode paths and a record tree, on both engines."""
    c = consortium
    files = [(os.urandom(32), f"杭州市/公安局/{i:03d}-户籍.csv") for i in range(7)]
    records = [(os.urandom(32), os.urandom(32)) for _ in range(5)]
    trees = [
        ("TEST-MERKLE-FILES", merkle.file_leaf_hashes(files)),
        ("TEST-MERKLE-RECORDS", merkle.record_leaf_hashes(records)),
    ]
    for code, leaves in trees:
        tree = MerkleTree.from_leaf_hashes(leaves)
        meta = merkle.keccak256(b"meta:" + tree.root)
        dataset = c.register_dataset("A", code, meta)
        c.transact(
            "DatasetRegistry",
            "anchor",
            dataset,
            tree.root,
            tree.leaf_count,
            meta,
            [],
            sender=c.ops["A"],
        )
        for leaf in (leaves[0], leaves[-1], leaves[len(leaves) // 2]):
            proof = tree.proof(leaf)
            assert c.call("DatasetRegistry", "verifyLeaf", dataset, tree.root, leaf, proof) is True
            tampered = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert merkle.verify_proof(tree.root, leaf, tampered) is False
            assert (
                c.call("DatasetRegistry", "verifyLeaf", dataset, tree.root, leaf, tampered) is False
            )
        other = MerkleTree.from_leaf_hashes(leaves[1:])
        assert (
            c.call(
                "DatasetRegistry",
                "verifyLeaf",
                dataset,
                tree.root,
                leaves[1],
                other.proof(leaves[1]),
            )
            is False
        )
        # A proof is checked against a version: a dataset that holds no such root refuses it.
        elsewhere = dataset_of("A", "TEST-MERKLE-NOWHERE")
        with reverts("DatasetRegistryUnknownVersion", datasetId=elsewhere, root=tree.root):
            c.call("DatasetRegistry", "verifyLeaf", elsewhere, tree.root, leaf, tree.proof(leaf))
