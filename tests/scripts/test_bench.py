"""`make bench QUICK=1` runs every benchmark's short version and gathers the figures; the
report refuses to pass when a benchmark's figures are missing. (Benchmarks are never timed
assertions here: only that they run and report.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("gas", "merkle", "hashing", "anchoring", "indexer", "nodes", "network", "offline", "api")
ROWS = {
    "gas": "| Gas per anchored hash",
    "merkle": "| Merkle tree,",
    "hashing": "| File hashing,",
    "anchoring": "| End to end:",
    "indexer": "| Indexer,",
    "nodes": "| Node engines,",
    "network": "| Consortium network,",
    "offline": "| Offline proof check",
    "api": "| Verification API,",
}


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_report.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_make_bench_quick_runs_every_benchmark_and_reports(tmp_path: Path) -> None:
    started = time.time()
    bench = tmp_path / "bench"  # XIETONG_BENCH_DIR: not var/bench/ in the checkout
    done = subprocess.run(
        ["make", "bench", "QUICK=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        env={**os.environ, "MAKEFLAGS": "", "XIETONG_BENCH_DIR": str(bench)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in NAMES:
        path = bench / f"{name}.quick.json"
        assert path.stat().st_mtime >= started, f"{path.name} was not written by this run"
        assert json.loads(path.read_text(encoding="utf-8"))  # well-formed figures
    report = (bench / "BENCHMARKS.quick.md").read_text(encoding="utf-8")
    assert (bench / "BENCHMARKS.quick.md").stat().st_mtime >= started
    for name, row in ROWS.items():
        assert row in report, f"no {name} row in the report"
    assert "| SM3 file hashing (GM/T 0004-2012)," in report  # beside `openssl dgst -sm3`
    assert "| Record hashing, SM3 (CSV," in report
    assert "Not measured in this run" not in report
    assert "- Machine: " in report

    # The hand-written text around the generated block is kept when the report is redone.
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(
        "# Benchmarks\n\nbefore\n<!-- bench_report:begin -->\nold\n<!-- bench_report:end -->\n"
        "\n## Where we lose\n\nafter\n",
        encoding="utf-8",
    )
    again = _report("--quick", "--results", str(bench), "--out", str(out))
    assert again.returncode == 0, again.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nbefore\n<!-- bench_report:begin -->")
    assert text.endswith("<!-- bench_report:end -->\n\n## Where we lose\n\nafter\n")
    assert "\nold\n" not in text and ROWS["gas"] in text


def test_report_without_figures_fails_and_names_what_is_missing(tmp_path: Path) -> None:
    done = _report("--quick", "--results", str(tmp_path), "--out", str(tmp_path / "B.md"))
    assert done.returncode == 1
    assert (
        f"bench_report: no figures for {', '.join(('gas', 'merkle', 'hashing', 'anchoring', 'api', 'indexer', 'nodes', 'network', 'offline'))}."
        in done.stderr
    )
    assert "Not measured in this run: gas, merkle" in (tmp_path / "B.md").read_text()


def test_report_with_unreadable_figures_fails(tmp_path: Path) -> None:
    (tmp_path / "gas.quick.json").write_text(json.dumps({"engines": {}}), encoding="utf-8")
    done = _report("--quick", "--results", str(tmp_path), "--out", str(tmp_path / "B.md"))
    assert done.returncode == 1
    assert "gas (unreadable:" in done.stderr
