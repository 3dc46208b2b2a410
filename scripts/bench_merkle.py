"""Benchmark ``ledger.merkle`` and write ``docs/BENCH_MERKLE.md``.

For 10k, 100k and 1M leaves of both leaf shapes (records: two bytes32; files: bytes32 and a
relative path) it measures, best of ``--repeat`` runs:

- leaf hashing (``record_leaf_hashes`` / ``file_leaf_hashes``) and tree building
  (``MerkleTree.from_leaf_hashes``): seconds and leaves per second, from entries to root;
- proof lookup by leaf hash (``tree.proof(leaf)``) and proof verification, in microseconds;
- rebuilding from the persisted blob (``MerkleTree.from_sorted_leaves``);
- the ratio to the raw Keccak floor: the C extension hashing 3,000,000 independent 64-byte
  inputs (a tree of n leaves needs about 3n Keccak permutations: two per leaf, one per node).

It also runs the pure-Python fallback at 10k leaves, the JavaScript reference
``@openzeppelin/merkle-tree`` at every size for records and up to 100k for files (a run
expected to exceed ``--js-budget`` seconds is skipped), checking that the roots are IDENTICAL,
and PyPI's ``pymerkle`` (a dev dependency; a different tree — RFC 9162 style over SHA-256 —
so only its speed is comparable).

Usage::

    .venv/bin/python scripts/bench_merkle.py [--quick] [--sizes 10000,100000,1000000]
        [--repeat 3] [--no-js] [--js-budget 300] [--out docs/BENCH_MERKLE.md]

Figures also go to ``var/bench/merkle.json`` (quick: ``merkle.quick.json``) for
``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, best_of, load_average, machine, timed, write_results

from ledger import merkle
from ledger.paths import HARDHAT_DIR, PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "docs" / "BENCH_MERKLE.md"
FLOOR_INPUTS = 3_000_000
PROOF_SAMPLES = 10_000

Entries = list[tuple[bytes, Any]]


@dataclass
class Row:
    """One measured configuration."""

    kind: str
    leaves: int
    hash_s: float
    tree_s: float
    total_s: float  # entries to root in one go, best run
    worst_s: float  # ... slowest run
    proof_us: float
    verify_us: float
    reload_s: float
    root: bytes


def make_entries(kind: str, count: int, seed: int) -> Entries:
    """Deterministic random entries: records (hash, salt) or files (hash, realistic path)."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    if kind == "records":
        return [(rng.randbytes(32), rng.randbytes(32)) for _ in range(count)]
    depts = ["公安局", "民政局", "卫生健康委员会", "public-security", "civil-affairs"]
    return [
        (rng.randbytes(32), f"data/{depts[i % 5]}/{2020 + i % 6}/batch-{i // 1000:04d}/{i:07d}.csv")
        for i in range(count)
    ]


def leaf_function(kind: str) -> Callable[[Entries], list[bytes]]:
    return merkle.record_leaf_hashes if kind == "records" else merkle.file_leaf_hashes


def measure(kind: str, count: int, repeat: int) -> Row:
    entries = make_entries(kind, count, seed=count)
    hash_leaves = leaf_function(kind)

    def entries_to_tree() -> tuple[list[bytes], merkle.MerkleTree]:
        leaves = hash_leaves(entries)
        return leaves, merkle.MerkleTree.from_leaf_hashes(leaves)

    totals, _ = timed(repeat, entries_to_tree)  # end to end, each run
    hash_s, leaves = best_of(repeat, lambda: hash_leaves(entries))
    tree_s, tree = best_of(repeat, lambda: merkle.MerkleTree.from_leaf_hashes(leaves))
    reload_s, _ = best_of(
        repeat, lambda: merkle.MerkleTree.from_sorted_leaves(tree.sorted_leaves())
    )
    sample = random.Random(1).sample(leaves, min(PROOF_SAMPLES, count))  # noqa: S311
    start = time.perf_counter()
    proofs = [tree.proof(leaf) for leaf in sample]
    proof_us = (time.perf_counter() - start) / len(sample) * 1e6
    root = tree.root
    start = time.perf_counter()
    ok = all(merkle.verify_proof(root, leaf, p) for leaf, p in zip(sample, proofs, strict=True))
    verify_us = (time.perf_counter() - start) / len(sample) * 1e6
    if not ok:
        raise SystemExit(f"a proof did not verify ({kind}, {count} leaves)")
    return Row(
        kind, count, hash_s, tree_s, min(totals), max(totals), proof_us, verify_us, reload_s, root
    )


def keccak_floor(repeat: int) -> tuple[float, float]:
    """Seconds for the C extension to hash FLOOR_INPUTS 64-byte inputs: all threads, one."""
    from ledger import _keccak

    blob = random.Random(7).randbytes(64 * FLOOR_INPUTS)  # noqa: S311
    threaded, _ = best_of(repeat, lambda: _keccak.keccak_many(blob, 64))
    single, _ = best_of(1, lambda: _keccak.keccak_many(blob, 64, threads=1))
    return threaded, single


JS_SCRIPT = r"""
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const [types, values] = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const start = performance.now();
const tree = StandardMerkleTree.of(values, types);
const buildMs = performance.now() - start;
const n = Math.min(values.length, 1000);
const pStart = performance.now();
for (let i = 0; i < n; i++) tree.getProof(i);
const proofUs = (performance.now() - pStart) / n * 1000;
console.log(JSON.stringify({ root: tree.root, buildMs, proofUs }));
"""


def run_js(kind: str, count: int) -> dict[str, Any]:
    """StandardMerkleTree.of on the same entries in Node; wall time includes Node start-up."""
    entries = make_entries(kind, count, seed=count)
    types = list(merkle.RECORD_LEAF_TYPES if kind == "records" else merkle.FILE_LEAF_TYPES)
    values = [["0x" + a.hex(), "0x" + b.hex() if isinstance(b, bytes) else b] for a, b in entries]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump([types, values], f)
        data_path = f.name
    try:
        start = time.perf_counter()
        result = subprocess.run(
            ["node", "-e", JS_SCRIPT, data_path],
            cwd=HARDHAT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        wall = time.perf_counter() - start
    finally:
        os.unlink(data_path)
    answer: dict[str, Any] = json.loads(result.stdout)
    answer["wall_s"] = wall
    return answer


def run_pymerkle(count: int) -> tuple[float, float] | None:
    """pymerkle's in-memory tree (SHA-256): build seconds and inclusion-proof microseconds."""
    try:
        import pymerkle  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    entries = [e[0] + e[1] for e in make_entries("records", count, seed=count)]
    start = time.perf_counter()
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    tree.get_root()
    build = time.perf_counter() - start
    samples = min(200, count)
    start = time.perf_counter()
    for i in range(1, samples + 1):
        tree.prove_inclusion(i * count // samples)
    proof_us = (time.perf_counter() - start) / samples * 1e6
    return build, proof_us


def fmt_count(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-js", action="store_true", help="skip @openzeppelin/merkle-tree")
    parser.add_argument(
        "--js-budget",
        type=float,
        default=300.0,
        help="skip an OpenZeppelin run expected longer (s)",
    )
    parser.add_argument("--quick", action="store_true", help="10k leaves once, into var/bench/")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "10000", 1
    if args.out is None:
        args.out = RESULTS_DIR / "BENCH_MERKLE.quick.md" if args.quick else DEFAULT_OUT
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if merkle.backend() != "c":
        raise SystemExit("the C extension ledger._keccak is not built: pip install -e . first")
    from ledger import _keccak

    command = "python scripts/bench_merkle.py " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:])
    )
    load_before = load_average()
    print(f"Keccak floor: {FLOOR_INPUTS:,} x 64-byte inputs ...", flush=True)
    floor_s, floor_single_s = keccak_floor(args.repeat)
    per_hash = floor_s / FLOOR_INPUTS

    rows: list[Row] = []
    for count in sizes:
        for kind in ("records", "files"):
            row = measure(kind, count, args.repeat)
            rows.append(row)
            print(
                f"{kind:7} {count:>9,}: hash {row.hash_s:.3f}s  tree {row.tree_s:.3f}s  "
                f"total {row.total_s:.3f}s  proof {row.proof_us:.2f}us",
                flush=True,
            )

    fallback: list[tuple[str, float, bytes]] = []
    with merkle.use_backend("python"):
        for kind in ("records", "files"):
            entries = make_entries(kind, 10_000, seed=10_000)
            start = time.perf_counter()
            tree = merkle.MerkleTree.from_leaf_hashes(leaf_function(kind)(entries))
            fallback.append((kind, time.perf_counter() - start, tree.root))
    by_key = {(r.kind, r.leaves): r for r in rows}
    for kind, _, root in fallback:
        c_row = by_key.get((kind, 10_000))
        if c_row is not None and c_row.root != root:
            raise SystemExit(f"fallback and C roots differ ({kind}, 10k)")

    js: list[tuple[str, int, dict[str, Any]]] = []
    js_note = ""
    if args.no_js:
        js_note = "skipped (--no-js)."
    else:
        # Every size for records (the roots must be identical); files, which only add a
        # string to each leaf, up to 100k: OpenZeppelin needs minutes per million leaves.
        for kind in ("records", "files"):
            previous: tuple[int, float] | None = None
            for count in sizes:
                if kind == "files" and count > 100_000:
                    js_note += f" {fmt_count(count)} {kind} not run (records show the scale)."
                    continue
                if previous is not None:
                    expected = previous[1] * count / previous[0] * 1.2
                    if expected > args.js_budget:
                        js_note += (
                            f" {fmt_count(count)} {kind} skipped (expected ~{expected:.0f} s)."
                        )
                        continue
                print(f"@openzeppelin/merkle-tree {kind} {count:,} ...", flush=True)
                answer = run_js(kind, count)
                previous = (count, answer["wall_s"])
                ours = by_key.get((kind, count))
                if ours is None:
                    ours = measure(kind, count, 1)
                if answer["root"] != "0x" + ours.root.hex():
                    raise SystemExit(
                        f"ROOT MISMATCH with @openzeppelin/merkle-tree ({kind}, {count})"
                    )
                js.append((kind, count, answer))

    pym: list[tuple[int, float, float]] = []
    for count in sizes:
        print(f"pymerkle {count:,} ...", flush=True)
        result = run_pymerkle(count)
        if result is None:
            break
        pym.append((count, *result))

    write_results(
        "merkle",
        {
            "keccak_floor_ns_per_hash": per_hash * 1e9,
            "ours": [
                {
                    "kind": r.kind,
                    "leaves": r.leaves,
                    "total_s": r.total_s,
                    "tree_s": r.tree_s,
                    "proof_us": r.proof_us,
                    "ratio_to_floor": r.total_s / (3 * r.leaves * per_hash),
                }
                for r in rows
            ],
            "openzeppelin": [
                {
                    "kind": k,
                    "leaves": c,
                    "build_s": a["buildMs"] / 1000,
                    "proof_us": a["proofUs"],
                    "root_identical": True,
                }
                for k, c, a in js
            ],
            "pymerkle": [{"leaves": c, "build_s": b, "proof_us": pr} for c, b, pr in pym],
            "target": {"leaves": 1_000_000, "seconds": 2.0},
        },
        quick=args.quick,
        command=command,
    )
    load = f"{load_before} before, {load_average()} after"
    write_report(
        args.out,
        command,
        rows,
        floor_s,
        floor_single_s,
        per_hash,
        fallback,
        js,
        js_note,
        pym,
        _keccak.default_threads(),
        load,
        _keccak.simd(),
    )
    print(f"wrote {args.out}")
    return 0


def write_report(
    out: Path,
    command: str,
    rows: list[Row],
    floor_s: float,
    floor_single_s: float,
    per_hash: float,
    fallback: list[tuple[str, float, bytes]],
    js: list[tuple[str, int, dict[str, Any]]],
    js_note: str,
    pym: list[tuple[int, float, float]],
    threads: int,
    load: str,
    simd: bool,
) -> None:
    m = machine()
    lines = [
        "# Merkle tree benchmark",
        "",
        "Generated by `scripts/bench_merkle.py`; do not edit by hand. Re-run with:",
        "",
        "```sh",
        f".venv/bin/{command.strip()}",
        "```",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}; usable CPUs (nproc): {m['cores']}; worker threads used: {threads}",
        f"- Python {m['python']} on {platform.system()} {platform.release()}; "
        f"ledger.merkle backend: `{merkle.backend()}` (C extension `ledger._keccak`, four "
        f"Keccak states at once with AVX2: {'on' if simd else 'off'})",
        f"- 1-minute load average: {load} (other work on the machine skews the numbers)",
        f"- Keccak floor: {FLOOR_INPUTS:,} independent 64-byte Keccak-256 hashes in "
        f"{floor_s:.3f} s on all threads ({FLOOR_INPUTS / floor_s / 1e6:.2f} M/s), "
        f"{floor_single_s:.3f} s on one ({FLOOR_INPUTS / floor_single_s / 1e6:.2f} M/s)",
        "",
        "## ledger.merkle (C extension)",
        "",
        "From entries to root: `hash` = `record_leaf_hashes`/`file_leaf_hashes` (two Keccaks per "
        "leaf; file paths here are 30–60 bytes, so the first Keccak takes two blocks), `tree` = "
        "`MerkleTree.from_leaf_hashes` (sort + one Keccak per internal node); `total` = both "
        "in one go, fastest run, and `slowest run` the slowest. `floor ×` = total "
        "÷ (3 × leaves × the floor's time per hash). `proof` = `tree.proof(leaf)` by leaf hash "
        "(binary search + siblings); `verify` = `verify_proof`; `reload` = "
        "`MerkleTree.from_sorted_leaves` of the persisted blob. Best of the runs unless said otherwise.",
        "",
        "| leaves | kind | hash (s) | tree (s) | total (s) | slowest run (s) | leaves/s | floor × "
        "| proof (µs) | verify (µs) | reload (s) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        floor = 3 * r.leaves * per_hash
        lines.append(
            f"| {r.leaves:,} | {r.kind} | {r.hash_s:.3f} | {r.tree_s:.3f} | **{r.total_s:.3f}** "
            f"| {r.worst_s:.3f} | {r.leaves / r.total_s:,.0f} | {r.total_s / floor:.2f} | {r.proof_us:.2f} "
            f"| {r.verify_us:.2f} | {r.reload_s:.3f} |"
        )
    lines += [
        "",
        "## Other implementations (same machine)",
        "",
        "| implementation | leaves | kind | build (s) | leaves/s | proof (µs) | same root |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for kind, seconds, _ in fallback:
        lines.append(
            f"| ledger.merkle pure-Python fallback | 10,000 | {kind} | {seconds:.3f} "
            f"| {10_000 / seconds:,.0f} | – | yes |"
        )
    for kind, count, answer in js:
        build = answer["buildMs"] / 1000
        lines.append(
            f"| @openzeppelin/merkle-tree `StandardMerkleTree.of` (Node {m['node'] or '?'}) "
            f"| {count:,} | {kind} | {build:.3f} | {count / build:,.0f} "
            f"| {answer['proofUs']:.1f} | **yes** (asserted) |"
        )
    for count, build, proof_us in pym:
        lines.append(
            f"| pymerkle {pymerkle_version()} `InmemoryTree` (SHA-256, RFC 9162 shape) "
            f"| {count:,} | records | {build:.3f} | {count / build:,.0f} | {proof_us:.1f} "
            f"| n/a (different tree) |"
        )
    lines.append("")
    if js_note:
        lines.append(f"- @openzeppelin/merkle-tree: {js_note.strip()}")
    if js:
        lines.append(
            "- JS build time is `StandardMerkleTree.of` alone, timed inside Node (no start-up, "
            "no JSON parsing); the script stops if a root differs from ledger.merkle's."
        )
    if not pym:
        lines.append(
            "- pymerkle: skipped, not importable here (a dev dependency: `make setup` installs it)."
        )
    else:
        lines.append(
            "- pymerkle builds a different tree (RFC 9162 over SHA-256, append-only), so only "
            "its speed is comparable."
        )
    lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")


def pymerkle_version() -> str:
    try:
        import pymerkle  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return "?"
    return str(getattr(pymerkle, "__version__", "?"))


if __name__ == "__main__":
    sys.exit(main())
