"""What every benchmark script shares: the machine description and where results go.

Each ``scripts/bench_*.py`` writes its figures as JSON to ``var/bench/<name>.json`` (quick runs:
``<name>.quick.json``) with :func:`write_results`; ``scripts/bench_report.py`` gathers them
into ``docs/BENCHMARKS.md``. Scripts import this as ``from bench.common import ...`` (they
run with ``scripts/`` on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = PROJECT_ROOT / "var" / "bench"


def _first(path: str, prefix: str, sep: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(prefix):
                return line.split(sep, 1)[1].strip().strip('"')
    except OSError:
        return None
    return None


def _version(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_model() -> str:
    return _first("/proc/cpuinfo", "model name", ":") or platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        return "unknown"


def machine() -> dict[str, Any]:
    """The machine a figure was measured on, as the reports print it."""
    memory_kb = _first("/proc/meminfo", "MemTotal", ":")
    flags = _first("/proc/cpuinfo", "flags", ":") or ""
    return {
        "cpu": cpu_model(),
        "cores": usable_cpus(),
        "sha_ni": "sha_ni" in flags.split(),
        "memory": f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GiB" if memory_kb else None,
        "os": f"{_first('/etc/os-release', 'PRETTY_NAME=', '=') or platform.system()}, "
        f"kernel {platform.release()}",
        "python": platform.python_version(),
        "node": _version(["node", "--version"]),
        "load_average": load_average(),
    }


def results_path(name: str, *, quick: bool) -> Path:
    return RESULTS_DIR / (f"{name}.quick.json" if quick else f"{name}.json")


def write_results(name: str, results: dict[str, Any], *, quick: bool, command: str) -> Path:
    """Write one benchmark's figures (with machine, command and time) for the report."""
    path = results_path(name, quick=quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "quick": quick,
        "command": command,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
