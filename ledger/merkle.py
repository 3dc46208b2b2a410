"""OpenZeppelin standard Merkle trees: leaves, roots and proofs, bytes in and bytes out.

Roots and proofs are identical to ``StandardMerkleTree.of(values, types)`` of the npm package
``@openzeppelin/merkle-tree`` and verify with Solidity's ``MerkleProof.verify`` (the
DatasetRegistry contract's ``verifyLeaf``):

- **leaf** = ``keccak256(keccak256(abi.encode(values)))`` for the leaf's Solidity ``types``.
  Xietong uses two leaf shapes: a file leaf :data:`FILE_LEAF_TYPES` ``(content SHA-256,
  relative POSIX path)`` and a record leaf :data:`RECORD_LEAF_TYPES` ``(SHA-256 of the
  record's canonical JSON, per-record salt)``. A dataset anchored with SM3 digests
  (GM/T 0004-2012) has the same leaves with the digest's name first, so the leaf itself says
  which digest it holds: :data:`SM3_FILE_LEAF_TYPES` ``("sm3", content SM3, path)`` and
  :data:`SM3_RECORD_LEAF_TYPES` ``("sm3", SM3 of the canonical JSON, salt)``
  (:func:`leaf_types`, :func:`leaf_shape`).
- **tree**: the leaf hashes are sorted ascending (as byte strings) and laid out as in
  ``core.js`` ``makeMerkleTree``: a flat array of ``2n - 1`` nodes, sorted leaf ``i`` at
  ``tree[2n - 2 - i]``, internal node ``t`` = :func:`hash_pair` ``(tree[2t + 1], tree[2t + 2])``
  and the root at ``tree[0]``. One leaf: the root is that leaf and its proof is empty. Equal
  values give equal leaves, kept as separate leaves (as in OpenZeppelin).
- **node hash** (:func:`hash_pair`) = ``keccak256`` of the two 32-byte children in ascending
  order, so a proof is just the list of siblings from the leaf up (``getProof``), folded with
  :func:`process_proof`.

A :class:`MerkleTree` is built from leaf hashes in any order and is immutable. What to
persist is :meth:`MerkleTree.sorted_leaves` (``32 * n`` bytes); :meth:`MerkleTree.
from_sorted_leaves` rebuilds the same tree from it.

Speed: the C extension ``ledger._keccak`` (built by ``pip install``) hashes the leaves, sorts
them and builds every internal node in one call each, with the GIL released, the work split
over the usable CPUs and, where the CPU has AVX2, four Keccak states computed at once
(``docs/BENCH_MERKLE.md`` has the measured times). Without the extension the same functions
run in pure Python (pycryptodome's Keccak), with identical results and error messages, much
more slowly. :func:`backend` tells which one is in use; :func:`use_backend` switches for a block
(tests and benchmarks).

Errors: malformed input (a hash that is not 32 bytes, a path that is not a string, values
that do not fit the types, an unsorted persisted blob) raises :class:`MerkleInputError`; an
empty tree :class:`EmptyTreeError`; asking for a leaf the tree lacks
:class:`LeafNotInTreeError` (also a ``KeyError``) and an index out of range
:class:`LeafIndexError` (also an ``IndexError``). A proof that is merely wrong is not an
error: :func:`verify_proof` returns ``False``.

The module is pure: no I/O, no web3.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Literal

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError, ParseError

from .errors import LedgerError

try:
    from . import _keccak
except ImportError:  # pragma: no cover - depends on how the package was installed
    _NATIVE_AVAILABLE = False
else:
    _NATIVE_AVAILABLE = True

try:
    from Crypto.Hash import keccak as _crypto_keccak
except ImportError:  # pragma: no cover - pycryptodome comes with web3's eth-hash
    from eth_utils import keccak as _eth_keccak

    def _py_keccak256(data: bytes) -> bytes:
        return bytes(_eth_keccak(data))
else:

    def _py_keccak256(data: bytes) -> bytes:
        return _crypto_keccak.new(digest_bits=256, data=data).digest()


__all__ = [
    "ERASED_LEAF_TYPES",
    "FILE_LEAF_TYPES",
    "HASH_SIZE",
    "RECORD_LEAF_TYPES",
    "SM3_FILE_LEAF_TYPES",
    "SM3_RECORD_LEAF_TYPES",
    "Backend",
    "EmptyTreeError",
    "LeafIndexError",
    "LeafNotInTreeError",
    "MerkleError",
    "MerkleInputError",
    "MerkleTree",
    "backend",
    "file_leaf_hashes",
    "hash_pair",
    "keccak256",
    "leaf_hash",
    "leaf_shape",
    "leaf_types",
    "leaf_values",
    "process_proof",
    "record_leaf_blob",
    "record_leaf_hashes",
    "sm3_file_leaf_hashes",
    "sm3_record_leaf_blob",
    "sort_leaves",
    "use_backend",
    "verify_proof",
]

#: Solidity types of a file leaf: (content SHA-256, relative POSIX path).
FILE_LEAF_TYPES: Final = ("bytes32", "string")
#: Solidity types of a record leaf: (SHA-256 of the canonical JSON, per-record salt).
RECORD_LEAF_TYPES: Final = ("bytes32", "bytes32")
#: Solidity types of an SM3 file leaf: ("sm3", content SM3, relative POSIX path).
SM3_FILE_LEAF_TYPES: Final = ("string", "bytes32", "string")
#: Solidity types of an SM3 record leaf: ("sm3", SM3 of the canonical JSON, per-record salt).
SM3_RECORD_LEAF_TYPES: Final = ("string", "bytes32", "bytes32")
#: The tag an SM3 leaf's values start with.
SM3_TAG: Final = "sm3"
#: (kind, digest) of each leaf shape.
_SHAPES: Final = {
    FILE_LEAF_TYPES: ("file", "sha256"),
    RECORD_LEAF_TYPES: ("record", "sha256"),
    SM3_FILE_LEAF_TYPES: ("file", "sm3"),
    SM3_RECORD_LEAF_TYPES: ("record", "sm3"),
}
#: Solidity types of a leaf of an erasure's tree: (the erased leaf's hash) — see
#: ``IDatasetRegistry.eraseRecords``.
ERASED_LEAF_TYPES: Final = ("bytes32",)
#: Size of every hash in a tree (leaves, nodes, proof steps, root).
HASH_SIZE: Final = 32

_FILE_PAIR = "(content hash, path)"
_RECORD_PAIR = "(record hash, salt)"


# ------------------------------------------------------------------ errors


class MerkleError(LedgerError):
    """Building a Merkle tree or answering from it failed."""

    kind = "merkle"


class MerkleInputError(MerkleError, ValueError):
    """Malformed input: a hash that is not 32 bytes, a value that does not fit its type, a
    persisted leaves blob that is cut short or out of order."""

    kind = "bad-merkle-input"


class EmptyTreeError(MerkleError, ValueError):
    """A Merkle tree needs at least one leaf (OpenZeppelin refuses empty trees too)."""

    kind = "empty-tree"


class LeafNotInTreeError(MerkleError, KeyError):
    """The leaf asked for is not in the tree."""

    kind = "leaf-not-in-tree"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LeafIndexError(MerkleError, IndexError):
    """A sorted-leaf index is out of range."""

    kind = "leaf-index-out-of-range"


# ------------------------------------------------------------------ backend selection

#: The two implementations: the C extension and the pure-Python fallback.
Backend = Literal["c", "python"]

_use_native: bool = _NATIVE_AVAILABLE


def backend() -> Backend:
    """The implementation in use: ``"c"`` (the ``ledger._keccak`` extension) or ``"python"``."""
    return "c" if _use_native else "python"


@contextmanager
def use_backend(name: Backend) -> Iterator[None]:
    """Use the given implementation inside the ``with`` block (for tests and benchmarks).

    Process-wide and not thread-safe: do not switch while other threads build trees.

    Raises:
        MerkleError: ``"c"`` was asked for but the extension is not built.
    """
    global _use_native
    if name not in ("c", "python"):
        raise MerkleError(f"unknown Merkle backend {name!r} (expected 'c' or 'python').")
    if name == "c" and not _NATIVE_AVAILABLE:
        raise MerkleError("the C extension ledger._keccak is not built; reinstall the package.")
    previous = _use_native
    _use_native = name == "c"
    try:
        yield
    finally:
        _use_native = previous


# ------------------------------------------------------------------ input checks (fallback)
# The C extension performs the same checks with the same messages; the tests compare them.


def _where(kind: str, index: int, field: str) -> str:
    if kind == "entry":
        return f"entry {index}: the {field}"
    if kind in ("leaf", "proof step"):
        return f"{kind} {index}"
    return f"the {field}"


def _hash32(value: object, kind: str, index: int = 0, field: str = "") -> bytes:
    """``value`` as 32 bytes, or MerkleInputError naming where it was found."""
    if type(value) is bytes and len(value) == HASH_SIZE:
        return value
    if isinstance(value, str):
        view = None
    else:
        try:
            view = memoryview(value)  # type: ignore[arg-type]
        except TypeError:
            view = None
    what = _where(kind, index, field)
    if view is None:
        raise MerkleInputError(f"{what} must be bytes, not {type(value).__name__}")
    if view.nbytes != HASH_SIZE:
        raise MerkleInputError(f"{what} must be {HASH_SIZE} bytes, not {view.nbytes}")
    return view.tobytes()


def _sequence(values: object, message: str) -> Sequence[Any]:
    """``values`` as a list or tuple (any iterable is accepted, as by the C extension)."""
    if isinstance(values, list | tuple):
        return values
    if not isinstance(values, Iterable):
        raise MerkleInputError(message)
    return list(values)


def _pair(entry: object, index: int, shape: str) -> tuple[object, object]:
    if isinstance(entry, list | tuple) and len(entry) == 2:
        return entry[0], entry[1]
    raise MerkleInputError(f"entry {index} is not a pair {shape}")


def _native_call(function: Any, *args: Any) -> Any:
    """Call into the extension, turning its TypeError/ValueError into MerkleInputError."""
    try:
        return function(*args)
    except (TypeError, ValueError) as exc:
        raise MerkleInputError(str(exc)) from exc


# ------------------------------------------------------------------ hashing


def keccak256(data: bytes) -> bytes:
    """Keccak-256 of ``data`` (Ethereum's ``keccak256``: padding 0x01, not SHA3-256's 0x06)."""
    if _use_native:
        return _keccak.keccak256(data)
    return _py_keccak256(bytes(data))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's node hash: ``keccak256`` of the two 32-byte nodes in ascending order.

    Commutative (``hash_pair(a, b) == hash_pair(b, a)``), like ``Hashes.commutativeKeccak256``.
    """
    if _use_native:
        result: bytes = _native_call(_keccak.hash_pair, a, b)
        return result
    a = _hash32(a, "named", field="first node")
    b = _hash32(b, "named", field="second node")
    return _py_keccak256(a + b if a <= b else b + a)


def leaf_types(kind: str, digest: str = "sha256") -> tuple[str, ...]:
    """The Solidity types of a ``kind`` ("file", "record") leaf of a ``digest`` ("sha256",
    "sm3") dataset."""
    for types, shape in _SHAPES.items():
        if shape == (kind, digest):
            return types
    raise MerkleInputError(f"there is no {digest} {kind} leaf")


def leaf_values(kind: str, digest: str, first: bytes, second: object) -> list[object]:
    """A leaf's values: ``(digest of the content, path or salt)``, the SM3 tag first for an
    SM3 leaf (see :func:`leaf_types`)."""
    leaf_types(kind, digest)  # refuses an unknown shape
    return [SM3_TAG, first, second] if digest == "sm3" else [first, second]


def leaf_shape(types: Sequence[str], values: Sequence[object]) -> tuple[str, str] | None:
    """``(kind, digest)`` of a leaf with these types and values: ("file" or "record",
    "sha256" or "sm3"); None when they are no Xietong leaf (an SM3 shape whose first value is
    not the tag "sm3" included)."""
    shape = _SHAPES.get(tuple(types))
    if shape is None:
        return None
    if shape[1] == "sm3" and (len(values) != 3 or values[0] != SM3_TAG):
        return None
    return shape


def _word(number: int) -> bytes:
    return number.to_bytes(32, "big")


#: abi.encode("sm3", …) of the SM3 shapes, around their 32-byte values: the tag's offset
#: (three head words), then after the head the tag ("sm3": its length, then padded bytes).
_SM3_TAIL = _word(3) + SM3_TAG.encode("ascii").ljust(32, b"\0")


def _sm3_record_encoded(record: bytes, salt: bytes) -> bytes:
    return _word(0x60) + record + salt + _SM3_TAIL


def _sm3_file_encoded(content: bytes, path: bytes) -> bytes:
    padding = b"\0" * (-len(path) % HASH_SIZE)
    return _word(0x60) + content + _word(0xA0) + _SM3_TAIL + _word(len(path)) + path + padding


def sm3_file_leaf_hashes(entries: Sequence[tuple[bytes, str]]) -> list[bytes]:
    """Leaf hashes of SM3 file entries ``(content SM3, relative path)``, in input order
    (:data:`SM3_FILE_LEAF_TYPES`, the tag added here).

    Raises:
        MerkleInputError: as :func:`file_leaf_hashes`.
    """
    return [
        keccak256(keccak256(_sm3_file_encoded(*_file_entry(entry, i))))
        for i, entry in enumerate(
            _sequence(entries, f"entries must be a sequence of {_FILE_PAIR} pairs")
        )
    ]


def _file_entry(entry: object, i: int) -> tuple[bytes, bytes]:
    """(content hash, UTF-8 path) of file entry ``i``; MerkleInputError when malformed."""
    content, path = _pair(entry, i, _FILE_PAIR)
    digest = _hash32(content, "entry", i, "content hash")
    if not isinstance(path, str):
        raise MerkleInputError(f"entry {i}: the path must be a str, not {type(path).__name__}")
    try:
        return digest, path.encode("utf-8")
    except UnicodeEncodeError:
        raise MerkleInputError(f"entry {i}: the path is not encodable as UTF-8") from None


def sm3_record_leaf_blob(pairs: bytes | bytearray | memoryview) -> bytes:
    """Leaf hashes of packed SM3 record entries (``hash || salt``, 64 bytes each), the
    twin of :func:`record_leaf_blob` for :data:`SM3_RECORD_LEAF_TYPES`.

    Raises:
        MerkleInputError: ``pairs`` is not a whole number of 64-byte entries.
    """
    data = bytes(pairs)
    step = 2 * HASH_SIZE
    if len(data) % step:
        raise MerkleInputError(
            f"packed record entries must be a multiple of 64 bytes, not {len(data)} bytes"
        )
    head = _word(0x60)
    encoded = b"".join(head + data[k : k + step] + _SM3_TAIL for k in range(0, len(data), step))
    size = 5 * HASH_SIZE
    if _use_native:
        inner = _keccak.keccak_many(encoded, size)
        return bytes(_keccak.keccak_many(inner, HASH_SIZE))
    return b"".join(
        _py_keccak256(_py_keccak256(encoded[k : k + size])) for k in range(0, len(encoded), size)
    )


def leaf_hash(types: Sequence[str], values: Sequence[object]) -> bytes:
    """The standard leaf ``keccak256(keccak256(abi.encode(values)))`` for Solidity ``types``.

    For the two Xietong leaf shapes the hash is computed like the bulk functions (and a
    ``bytes32`` must be exactly 32 bytes); other types go through ``eth_abi.encode``.

    Raises:
        MerkleInputError: the values do not fit the types.
    """
    shape = tuple(types)
    if shape in (SM3_FILE_LEAF_TYPES, SM3_RECORD_LEAF_TYPES):
        triple = tuple(values)
        if len(triple) != 3 or triple[0] != SM3_TAG:
            raise MerkleInputError(f"a {list(shape)} leaf's values are ('sm3', digest, …)")
        if shape == SM3_FILE_LEAF_TYPES:
            return sm3_file_leaf_hashes([triple[1:]])[0]  # type: ignore[list-item]
        record = _hash32(triple[1], "entry", 0, "record hash")
        return sm3_record_leaf_blob(record + _hash32(triple[2], "entry", 0, "salt"))
    if shape in (FILE_LEAF_TYPES, RECORD_LEAF_TYPES):
        pair = tuple(values)
        if len(pair) != 2:
            raise MerkleInputError(f"a {list(shape)} leaf has 2 values, not {len(pair)}")
        bulk = file_leaf_hashes if shape == FILE_LEAF_TYPES else record_leaf_hashes
        return bulk([pair])[0]  # type: ignore[list-item]
    try:
        encoded = abi_encode(list(shape), list(values))
    except (EncodingError, ParseError, TypeError, ValueError) as exc:
        raise MerkleInputError(f"the values do not fit the types {list(shape)}: {exc}") from exc
    return keccak256(keccak256(encoded))


def file_leaf_hashes(entries: Sequence[tuple[bytes, str]]) -> list[bytes]:
    """Leaf hashes of file entries ``(content SHA-256, relative path)``, in input order.

    ``abi.encode(bytes32, string)`` is built directly (hash, offset ``0x40``, UTF-8 length,
    UTF-8 bytes zero-padded to 32), then hashed twice; the C path does a million in a few
    hundred milliseconds.

    Raises:
        MerkleInputError: an entry is not a pair, a hash is not 32 bytes, a path is not a
            ``str`` or cannot be encoded as UTF-8 (lone surrogates).
    """
    if _use_native:
        result: list[bytes] = _native_call(_keccak.file_leaves, entries)
        return result
    out: list[bytes] = []
    items = _sequence(entries, f"entries must be a sequence of {_FILE_PAIR} pairs")
    for i, entry in enumerate(items):
        digest, data = _file_entry(entry, i)
        padding = b"\0" * (-len(data) % HASH_SIZE)
        encoded = b"".join(
            (digest, (0x40).to_bytes(32, "big"), len(data).to_bytes(32, "big"), data, padding)
        )
        out.append(_py_keccak256(_py_keccak256(encoded)))
    return out


def record_leaf_hashes(entries: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
    """Leaf hashes of record entries ``(canonical-JSON SHA-256, salt)``, in input order.

    ``abi.encode(bytes32, bytes32)`` is the 64 bytes ``hash || salt``, hashed twice.

    Raises:
        MerkleInputError: an entry is not a pair, or a hash or salt is not 32 bytes.
    """
    if _use_native:
        result: list[bytes] = _native_call(_keccak.record_leaves, entries)
        return result
    out: list[bytes] = []
    items = _sequence(entries, f"entries must be a sequence of {_RECORD_PAIR} pairs")
    for i, entry in enumerate(items):
        record, salt = _pair(entry, i, _RECORD_PAIR)
        encoded = _hash32(record, "entry", i, "record hash") + _hash32(salt, "entry", i, "salt")
        out.append(_py_keccak256(_py_keccak256(encoded)))
    return out


def record_leaf_blob(pairs: bytes | bytearray | memoryview) -> bytes:
    """Leaf hashes of packed record entries: ``pairs`` is ``hash || salt`` (64 bytes) per
    record, the result the 32-byte leaves in the same order, concatenated.

    The bulk twin of :func:`record_leaf_hashes` for streaming large files: no Python object
    per record.

    Raises:
        MerkleInputError: ``pairs`` is not a whole number of 64-byte entries.
    """
    size = memoryview(pairs).nbytes
    if size % (2 * HASH_SIZE):
        raise MerkleInputError(
            f"packed record entries must be a multiple of 64 bytes, not {size} bytes"
        )
    if _use_native:
        inner = _keccak.keccak_many(pairs, 2 * HASH_SIZE)
        return _keccak.keccak_many(inner, HASH_SIZE)
    data = bytes(pairs)
    step = 2 * HASH_SIZE
    return b"".join(
        _py_keccak256(_py_keccak256(data[k : k + step])) for k in range(0, len(data), step)
    )


def sort_leaves(blob: bytes | bytearray | memoryview) -> tuple[bytes, array[int]]:
    """Sort packed 32-byte leaves: ``(sorted blob, order)`` where ``order[i]`` is the input
    position of sorted leaf ``i`` (equal leaves keep their input order), an ``array("I")``.

    Raises:
        MerkleInputError: ``blob`` is not a whole number of 32-byte leaves.
    """
    size = memoryview(blob).nbytes
    if size % HASH_SIZE:
        raise MerkleInputError(f"leaves must be a multiple of 32 bytes, not {size} bytes")
    order = array("I")
    if _use_native:
        leaves, packed = _native_call(_keccak.sort_order, blob)
        order.frombytes(packed)
        return leaves, order
    data = bytes(blob)
    view = _LeafView(data)
    positions = sorted(range(len(view)), key=lambda i: (view[i], i))
    order.extend(positions)
    return b"".join(view[i] for i in positions), order


# ------------------------------------------------------------------ proofs


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root reached from ``leaf`` by folding ``proof`` with :func:`hash_pair`.

    The twin of ``MerkleProof.processProof`` (and ``core.js`` ``processProof``).

    Raises:
        MerkleInputError: the leaf or a proof step is not 32 bytes.
    """
    if _use_native:
        result: bytes = _native_call(_keccak.process_proof, leaf, proof)
        return result
    computed = _hash32(leaf, "named", field="leaf")
    steps = _sequence(proof, "the proof must be a sequence of bytes")
    for i, step in enumerate(steps):
        sibling = _hash32(step, "proof step", i)
        pair = computed + sibling if computed <= sibling else sibling + computed
        computed = _py_keccak256(pair)
    return computed


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` leads from ``leaf`` to ``root`` (``MerkleProof.verify``).

    A wrong proof, leaf or root gives ``False``; only malformed input raises.

    Raises:
        MerkleInputError: the root, the leaf or a proof step is not 32 bytes.
    """
    expected = _hash32(root, "named", field="root")
    return process_proof(leaf, proof) == expected


# ------------------------------------------------------------------ trees (fallback)


class _LeafView(Sequence[bytes]):
    """The 32-byte leaves of a packed blob as a sequence (for :func:`bisect.bisect_left`)."""

    __slots__ = ("_blob",)

    def __init__(self, blob: bytes) -> None:
        self._blob = blob

    def __len__(self) -> int:
        return len(self._blob) // HASH_SIZE

    def __getitem__(self, index: Any) -> Any:
        return self._blob[HASH_SIZE * index : HASH_SIZE * (index + 1)]


def _py_nodes(leaves: bytes) -> bytes:
    """Internal nodes ``tree[0 .. n-2]`` of the ascending leaves blob, as in ``core.js``."""
    n = len(leaves) // HASH_SIZE
    size = 2 * n - 1
    nodes: list[bytes] = [b""] * (n - 1)

    def at(t: int) -> bytes:
        if t < n - 1:
            return nodes[t]
        i = size - 1 - t
        return leaves[HASH_SIZE * i : HASH_SIZE * (i + 1)]

    for t in range(n - 2, -1, -1):
        a, b = at(2 * t + 1), at(2 * t + 2)
        nodes[t] = _py_keccak256(a + b if a <= b else b + a)
    return b"".join(nodes)


def _py_proof(leaves: bytes, nodes: bytes, index: int) -> list[bytes]:
    n = len(leaves) // HASH_SIZE
    proof: list[bytes] = []
    t = 2 * n - 2 - index
    while t > 0:
        sibling = t - 1 if t % 2 == 0 else t + 1
        if sibling < n - 1:
            proof.append(nodes[HASH_SIZE * sibling : HASH_SIZE * (sibling + 1)])
        else:
            i = 2 * n - 2 - sibling
            proof.append(leaves[HASH_SIZE * i : HASH_SIZE * (i + 1)])
        t = (t - 1) // 2
    return proof


def _py_find(leaves: bytes, leaf: bytes) -> int:
    view = _LeafView(leaves)
    i = bisect_left(view, leaf)
    return i if i < len(view) and view[i] == leaf else -1


# ------------------------------------------------------------------ the tree

_PRIVATE: Final = object()


class MerkleTree:
    """An OpenZeppelin standard Merkle tree over 32-byte leaf hashes; immutable.

    Build it with :meth:`from_leaf_hashes` (leaf hashes in any order), :meth:`of` (values and
    types, like ``StandardMerkleTree.of``) or :meth:`from_sorted_leaves` (a persisted
    :meth:`sorted_leaves` blob). Leaves are addressed by hash (:meth:`proof`,
    :meth:`leaf_index`) or by their position among the sorted leaves (:meth:`proof_at`).

    Storage is two packed byte strings: the ``n`` sorted leaves and the ``n - 1`` internal
    nodes, 64 bytes per leaf in all; proofs and lookups slice them (binary search, then one
    sibling per level), in microseconds.
    """

    __slots__ = ("_count", "_leaves", "_nodes")

    _leaves: bytes
    _nodes: bytes
    _count: int

    def __init__(self, sorted_leaves: bytes, nodes: bytes, *, _token: object = None) -> None:
        """Internal: use :meth:`from_leaf_hashes`, :meth:`of` or :meth:`from_sorted_leaves`."""
        if _token is not _PRIVATE:
            raise TypeError(
                "build a MerkleTree with from_leaf_hashes(), of() or from_sorted_leaves()"
            )
        object.__setattr__(self, "_leaves", sorted_leaves)
        object.__setattr__(self, "_nodes", nodes)
        object.__setattr__(self, "_count", len(sorted_leaves) // HASH_SIZE)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a MerkleTree is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a MerkleTree is immutable")

    # -- construction

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes]) -> MerkleTree:
        """The tree over these 32-byte leaf hashes (any order; duplicates stay separate leaves).

        Raises:
            EmptyTreeError: no leaves.
            MerkleInputError: a leaf is not 32 bytes.
        """
        items = _sequence(hashes, "leaf hashes must be a sequence of bytes")
        if not items:
            raise EmptyTreeError("a Merkle tree needs at least one leaf.")
        if _use_native:
            leaves, nodes = _native_call(_keccak.build, items)
            return cls(leaves, nodes, _token=_PRIVATE)
        checked = [_hash32(h, "leaf", i) for i, h in enumerate(items)]
        leaves = b"".join(sorted(checked))
        return cls(leaves, _py_nodes(leaves), _token=_PRIVATE)

    @classmethod
    def of(cls, values: Sequence[Sequence[object]], types: Sequence[str]) -> MerkleTree:
        """The tree of ``values`` (one sequence per leaf) with Solidity ``types``.

        Same root and proofs as ``StandardMerkleTree.of(values, types)``. Find a value's
        proof with ``tree.proof(leaf_hash(types, value))``.

        Raises:
            EmptyTreeError: no values.
            MerkleInputError: a value does not fit the types.
        """
        shape = tuple(types)
        rows = _sequence(values, "values must be a sequence of leaf values")
        if not rows:
            raise EmptyTreeError("a Merkle tree needs at least one leaf.")
        if shape == FILE_LEAF_TYPES:
            hashes = file_leaf_hashes(rows)
        elif shape == RECORD_LEAF_TYPES:
            hashes = record_leaf_hashes(rows)
        else:
            hashes = [leaf_hash(shape, row) for row in rows]
        return cls.from_leaf_hashes(hashes)

    @classmethod
    def from_sorted_leaves(cls, blob: bytes | bytearray | memoryview) -> MerkleTree:
        """Rebuild a tree from its :meth:`sorted_leaves` blob.

        Raises:
            EmptyTreeError: the blob is empty.
            MerkleInputError: the blob is not a whole number of 32-byte leaves, or its leaves
                are not in ascending order (it was not made by :meth:`sorted_leaves`).
        """
        try:
            data = blob if type(blob) is bytes else memoryview(blob).tobytes()
        except TypeError:
            raise MerkleInputError(
                f"sorted leaves must be bytes, not {type(blob).__name__}"
            ) from None
        if not data:
            raise EmptyTreeError("a Merkle tree needs at least one leaf.")
        if _use_native:
            nodes: bytes = _native_call(_keccak.build_sorted, data)
            return cls(data, nodes, _token=_PRIVATE)
        if len(data) % HASH_SIZE:
            raise MerkleInputError(
                f"sorted leaves must be a non-empty multiple of 32 bytes, not {len(data)} bytes"
            )
        view = _LeafView(data)
        for i in range(1, len(view)):
            if view[i - 1] > view[i]:
                raise MerkleInputError(f"sorted leaves are out of order at leaf {i}")
        return cls(data, _py_nodes(data), _token=_PRIVATE)

    # -- reading

    @property
    def root(self) -> bytes:
        """The 32-byte root (``tree[0]``; the leaf itself for a one-leaf tree)."""
        if self._count == 1:
            return self._leaves
        return self._nodes[:HASH_SIZE]

    @property
    def leaf_count(self) -> int:
        """Number of leaves (duplicates counted)."""
        return self._count

    def __len__(self) -> int:
        return self._count

    def sorted_leaves(self) -> bytes:
        """The leaf hashes in ascending order, concatenated: what to persist."""
        return self._leaves

    def leaf_at(self, sorted_index: int) -> bytes:
        """The leaf at ``sorted_index`` among the sorted leaves.

        Raises:
            LeafIndexError: the index is out of range.
        """
        i = self._check_index(sorted_index)
        return self._leaves[HASH_SIZE * i : HASH_SIZE * (i + 1)]

    def leaf_index(self, leaf: bytes) -> int:
        """Position of ``leaf`` among the sorted leaves (the first, if it occurs twice).

        Raises:
            LeafNotInTreeError: the leaf is not in the tree.
            MerkleInputError: ``leaf`` is not 32 bytes.
        """
        key = _hash32(leaf, "named", field="leaf")
        found = _keccak.find(self._leaves, key) if _use_native else _py_find(self._leaves, key)
        if found < 0:
            raise LeafNotInTreeError(f"leaf 0x{key.hex()} is not in the tree.")
        return found

    def __contains__(self, leaf: object) -> bool:
        if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
            return False
        found = _keccak.find(self._leaves, leaf) if _use_native else _py_find(self._leaves, leaf)
        return found >= 0

    def proof(self, leaf: bytes) -> list[bytes]:
        """The proof of ``leaf`` (siblings from the leaf up, as OpenZeppelin's ``getProof``).

        Raises:
            LeafNotInTreeError: the leaf is not in the tree.
            MerkleInputError: ``leaf`` is not 32 bytes.
        """
        return self.proof_at(self.leaf_index(leaf))

    def proof_at(self, sorted_index: int) -> list[bytes]:
        """The proof of the leaf at ``sorted_index`` among the sorted leaves.

        Raises:
            LeafIndexError: the index is out of range.
        """
        i = self._check_index(sorted_index)
        if _use_native:
            result: list[bytes] = _keccak.proof(self._leaves, self._nodes, i)
            return result
        return _py_proof(self._leaves, self._nodes, i)

    def verify(self, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """Whether ``proof`` leads from ``leaf`` to this tree's root."""
        return verify_proof(self.root, leaf, proof)

    def nodes(self) -> list[bytes]:
        """The whole flat node array of ``core.js`` (``tree[0]`` is the root), i.e.
        ``StandardMerkleTree.dump().tree`` as bytes; ``2n - 1`` entries, for interop and
        inspection (proofs do not need it)."""
        internal = [self._nodes[k : k + HASH_SIZE] for k in range(0, len(self._nodes), HASH_SIZE)]
        leaves = [self._leaves[k : k + HASH_SIZE] for k in range(0, len(self._leaves), HASH_SIZE)]
        return internal + leaves[::-1]

    def _check_index(self, sorted_index: int) -> int:
        if isinstance(sorted_index, bool) or not isinstance(sorted_index, int):
            raise MerkleInputError(
                f"a leaf index must be an int, not {type(sorted_index).__name__}"
            )
        if not 0 <= sorted_index < self._count:
            raise LeafIndexError(
                f"leaf index {sorted_index} is out of range for {self._count} leaves."
            )
        return sorted_index

    # -- identity

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleTree):
            return NotImplemented
        return self._leaves == other._leaves

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"MerkleTree(root=0x{self.root.hex()}, leaf_count={self._count})"
