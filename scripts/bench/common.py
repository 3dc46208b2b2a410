"""What every benchmark script shares: the machine description, where results go, timing,
the processes' CPU and memory, a PostgreSQL database of their own, and a local node.

Each ``scripts/bench_*.py`` writes its figures as JSON to ``var/bench/<name>.json`` (quick runs:
``<name>.quick.json``) with :func:`write_results`; ``scripts/bench_report.py`` gathers them
into ``docs/BENCHMARKS.md``. Scripts import this as ``from bench.common import ...`` (they
run with ``scripts/`` on ``sys.path``). The chain helpers import ``ledger`` when called, so the
report, which needs none of it, starts quickly.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ledger.chain.deploy import FoundersFile
    from ledger.chain.node import NodeSpec, NodeStatus

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Where figures and quick reports go: var/bench/, or $XIETONG_BENCH_DIR (the test suite's
#: `make bench QUICK=1` writes into its own temporary folder, never into the checkout).
RESULTS_DIR = Path(os.environ.get("XIETONG_BENCH_DIR") or PROJECT_ROOT / "var" / "bench")
#: The development consortium the benchmarks deploy (development accounts allowed).
LOCAL_FOUNDERS = PROJECT_ROOT / "scripts" / "founders.local.yaml"
PG_HOST = "127.0.0.1:5432"
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}/postgres"

T = TypeVar("T")


class BenchError(Exception):
    """A one-sentence reason the benchmark cannot run, or why a run failed its checks."""


# ---------------------------------------------------------------------------- machine


def _first(path: str, prefix: str, sep: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(prefix):
                return line.split(sep, 1)[1].strip().strip('"')
    except OSError:
        return None
    return None


def tool_version(command: list[str]) -> str | None:
    """The first line ``command`` prints (a tool's version), or None when it cannot run or fails."""
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
        "node": tool_version(["node", "--version"]),
        "load_average": load_average(),
    }


# ---------------------------------------------------------------------------- results


def write_json(path: Path, document: dict[str, Any]) -> Path:
    """``document`` as indented UTF-8 JSON in ``path`` (its folder made when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def shown(path: Path) -> str:
    """``path`` as a report names it: from the project's root when inside it, else whole."""
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def results_path(name: str, *, quick: bool) -> Path:
    return RESULTS_DIR / (f"{name}.quick.json" if quick else f"{name}.json")


def write_results(name: str, results: dict[str, Any], *, quick: bool, command: str) -> Path:
    """Write one benchmark's figures (with machine, command and time) for the report."""
    document = {
        "benchmark": name,
        "quick": quick,
        "command": command,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "results": results,
    }
    return write_json(results_path(name, quick=quick), document)


# ---------------------------------------------------------------------------- timing


def timed(repeat: int, action: Callable[[], T]) -> tuple[list[float], T]:
    """Wall times of ``repeat`` runs, and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return times, result


def best_of(repeat: int, action: Callable[[], T]) -> tuple[float, T]:
    """Shortest wall time of ``repeat`` runs, and the last result."""
    times, result = timed(repeat, action)
    return min(times), result


# ---------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pids: Iterable[int]) -> float:
    """Resident memory (VmRSS) of the processes ``pids`` together, in MiB."""
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


# ---------------------------------------------------------------------------- PostgreSQL


def create_pg_database(name: str) -> str:
    """A new, empty PostgreSQL database ``name`` on the local server (one left over from an
    earlier run is dropped first); its URL."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"PostgreSQL at {PG_HOST} cannot be reached ({reason})") from None
    return f"postgresql://postgres@{PG_HOST}/{name}"


def drop_pg_database(name: str) -> None:
    """Drop the PostgreSQL database ``name``; a failure is a warning on stderr."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"warning: could not drop PostgreSQL database {name}: {exc}", file=sys.stderr)


# ---------------------------------------------------------------------------- chain


def local_founders() -> FoundersFile:
    """The consortium of ``scripts/founders.local.yaml``, development accounts allowed."""
    from ledger.chain.deploy import load_founders

    return load_founders(LOCAL_FOUNDERS, allow_dev=True)


@contextlib.contextmanager
def node_running(spec: NodeSpec) -> Iterator[NodeStatus]:
    """The node of ``spec`` started (its status), and stopped afterwards even on failure."""
    from ledger.chain.node import start_node, stop_node

    try:
        yield start_node(spec)
    finally:
        stop_node(spec)
