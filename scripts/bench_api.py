"""Verification API load benchmark: requests/s and p50/p99 latency of
``GET /v1/verify?hash=…&with_proof=true`` answered by ``xietong serve`` on SQLite and on
PostgreSQL with 1 and 2 worker processes, under a load generator running as a separate
process (``wrk`` from Debian; async httpx clients when wrk is missing).

    .venv/bin/python scripts/bench_api.py [--quick] [--duration 20] [--connections 8]
        [--databases sqlite,postgresql] [--workers 1,2] [--leaves 10000]
        [--before var/bench/api-before.json] [--profile var/bench/profiles]

World: a fresh Anvil node on a free port with the local founders deployed (one deployment per
database), the demo scenario played on it (杭州市民政局's 低保 lists with lineage, an active
sharing agreement with access receipts, a revoked one, a joint commitment), then a version of
``--leaves`` file leaves (content SHA-256, path) anchored by 杭州市民政局 (dev account 2) in
the 低保 dataset, derived from the November list, and indexed. The load generator rotates
among all those content hashes; every answer carries a match with its two-version lineage,
the active agreement with its receipts and the proof bundle.

Each combination: ``xietong serve --workers N`` (rate limiting off), a sample answer checked
(correct match, proof bundle accepted by ``check_bundle_offline``), a short warm-up, the
measured run, the sample checked again. Any non-200 answer or socket error fails the run.
Right after it, the ceiling: ``scripts/bench/api/ceiling.py``, a bare FastAPI app under the
same uvicorn settings and workers returning the sample answer just captured (the same bytes),
measured with the same load. Targets: each database ≥ 50% of the ceiling's requests/s, p99
≤ 10 ms, no errors; the report says by how much a target is missed.

Writes ``var/bench/api.json`` and the generated part of ``docs/BENCH_API.md`` (between the
``bench_api`` markers; the hand-written analysis around them is kept). ``--quick`` runs one
combination (SQLite, 1 worker) for 3 seconds without touching the report.

Everything started here (node, server, load generator, PostgreSQL database) is stopped or
dropped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from anywhere: the project imports resolve
    sys.path.insert(0, str(ROOT))

from bench.common import RESULTS_DIR, BenchError, cpu_seconds, write_json  # noqa: E402
from bench.common import machine as common_machine  # noqa: E402
from bench.serving import (  # noqa: E402
    CeilingServer,
    Server,
    World,
    build_world,
    machine_busy,
    postgres_cpu,
    tear_down,
)

from ledger.chain.node import NodeSpec, free_port, start_node  # noqa: E402
from ledger.verify import check_bundle_offline  # noqa: E402

HERE = ROOT / "scripts" / "bench" / "api"
LUA = HERE / "verify.lua"
HTTPX_LOAD = HERE / "httpx_load.py"
REPORT = ROOT / "docs" / "BENCH_API.md"
RESULTS = RESULTS_DIR / "api.json"
BEGIN, END = "<!-- bench_api:begin -->", "<!-- bench_api:end -->"
#: Targets (issue 13): each database at least half the ceiling's requests/s (the bare app
#: with the same answer, measured with the same workers and load right after it), p99 at
#: most 10 ms, no errors.
TARGET_SHARE, TARGET_P99_MS = 0.5, 10.0


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    versions = {}
    for name in ("uvicorn", "fastapi", "starlette", "pydantic", "sqlalchemy", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    extras: dict[str, str | None] = {}
    for name in ("uvloop", "httptools"):
        try:
            from importlib.metadata import version

            extras[name] = version(name)
        except Exception:
            extras[name] = None
    return {**common_machine(), "packages": versions, "uvicorn_extras": extras}


# --------------------------------------------------------------------------- checks


def check_sample(server: Server, world: World, content_hash: str) -> bytes:
    """One verification answered right, its proof bundle accepted offline; its bytes."""
    with httpx.Client(base_url=server.url, headers={"X-API-Key": world.key}, timeout=10) as http:
        response = http.get("/v1/verify", params={"hash": content_hash, "with_proof": "true"})
    if response.status_code != 200:
        raise BenchError(f"sample {content_hash}: HTTP {response.status_code}: {response.text}")
    body = response.json()
    problems = []
    if body.get("status") != "anchored" or body.get("anchored") is not True:
        problems.append(f"status {body.get('status')!r}")
    matches = body.get("matches") or []
    if len(matches) != 1:
        problems.append(f"{len(matches)} matches")
    else:
        match = matches[0]
        if match["path"] != world.paths[content_hash] or match["content_hash"] != content_hash:
            problems.append(f"match {match['path']!r}")
        if match["version"]["root"] != world.root:
            problems.append(f"root {match['version']['root']}")
        if [v["root"] for v in match["lineage"]] != world.lineage:
            problems.append("lineage")
        if len(match["authorizations"]) != 1 or not match["authorizations"][0]["receipts"]:
            problems.append("authorizations")
        try:
            leaf, _proof, root = check_bundle_offline(match.get("proof"))
        except Exception as exc:
            problems.append(f"proof bundle: {exc}")
        else:
            if "0x" + root.hex() != world.root or "0x" + leaf.hex() != match["leaf_hash"]:
                problems.append("proof bundle for another leaf or root")
    if problems:
        raise BenchError(f"sample {content_hash} answered wrong: {', '.join(problems)}")
    return response.content


def check_ceiling(server: Server, answer: bytes) -> None:
    """The ceiling answers with the captured answer's bytes, as JSON."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        response = http.get("/v1/verify", params={"hash": "0x" + "00" * 32, "with_proof": "true"})
    if response.status_code != 200 or response.content != answer:
        raise BenchError(f"the ceiling answered {response.status_code}, not the captured answer")
    if response.headers.get("content-type") != "application/json":
        raise BenchError(f"the ceiling answered {response.headers.get('content-type')}")


# --------------------------------------------------------------------------- load


def ensure_wrk(install: bool) -> str | None:
    """The path of wrk; installed from Debian (apt-get) when missing and ``install``."""
    found = shutil.which("wrk")
    if found or not install or shutil.which("apt-get") is None:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    for command in (
        ["apt-get", "install", "-y", "wrk"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "wrk"],
    ):
        try:
            subprocess.run(command, check=False, timeout=300, capture_output=True)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


@dataclass
class Load:
    wrk: str | None
    connections: int
    threads: int
    hashes_file: Path

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "httpx"

    def command(self, url: str, key: str, seconds: float) -> list[str]:
        if self.wrk:
            return [
                self.wrk,
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                str(LUA),
                "-H",
                f"X-API-Key: {key}",
                url,
                "--",
                str(self.hashes_file),
            ]
        return [
            sys.executable,
            str(HTTPX_LOAD),
            "--url",
            url,
            "--key",
            key,
            "--hashes",
            str(self.hashes_file),
            "--connections",
            str(self.connections),
            "--duration",
            f"{seconds:g}",
        ]

    def run(self, url: str, key: str, seconds: float) -> tuple[dict[str, Any], float]:
        """The generator's XT-RESULT and the CPU seconds it used (its own process)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = subprocess.Popen(
            self.command(url, key, seconds),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=10)
            raise BenchError(f"the load generator did not finish in {seconds + 30:.0f} s") from None
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        lines = [
            line
            for line in out.decode(errors="replace").splitlines()
            if line.startswith("XT-RESULT ")
        ]
        if process.returncode != 0 or not lines:
            raise BenchError(
                f"the load generator failed ({process.returncode}):\n{out.decode(errors='replace')}"
                f"\n{err.decode(errors='replace')}"
            )
        result: dict[str, Any] = json.loads(lines[-1].removeprefix("XT-RESULT "))
        return result, used


def profile_command(py_spy: str, pid: int, seconds: float, out: Path, extra: str = "") -> list[str]:
    return [
        py_spy,
        "record",
        *shlex.split(extra),
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "250",
        "--duration",
        str(max(1, round(seconds))),
        "--format",
        "raw",
        "--output",
        str(out),
    ]


def wait_quiet(limit: float, threshold: float = 0.3, span: float = 3.0) -> float:
    """Wait up to ``limit`` seconds for the machine to be quiet (less than ``threshold``
    cores busy over ``span`` seconds, the idle server included); the cores last seen busy."""
    deadline = time.monotonic() + limit
    told = False
    while True:
        before = machine_busy()
        time.sleep(span)
        busy = (machine_busy() - before) / span
        if busy < threshold or time.monotonic() >= deadline:
            if told or busy >= threshold:
                print(
                    f"  machine {'quiet' if busy < threshold else 'still busy'}: {busy:.2f} cores",
                    flush=True,
                )
            return busy
        if not told:
            print(f"  waiting for a quiet machine ({busy:.2f} cores busy meanwhile)…", flush=True)
            told = True


def measure(
    server: Server,
    world: World,
    load: Load,
    args: argparse.Namespace,
    *,
    ceiling_answer: bytes | None = None,
) -> dict[str, Any]:
    """Warm up, then ``args.repeat`` measured runs; the run of median requests/s, with all
    runs listed under ``repeats``. With ``ceiling_answer`` the server is the ceiling, checked
    to answer those bytes (else the gateway, its samples checked)."""
    if ceiling_answer is None:
        answer = check_sample(server, world, world.hashes[len(world.hashes) // 3])
    else:
        check_ceiling(server, ceiling_answer)
        answer = ceiling_answer
    size = len(answer)
    if args.warmup > 0:
        load.run(server.url, world.key, args.warmup)
    server.check_alive()
    runs: list[dict[str, Any]] = []
    discarded = 0
    while len(runs) < args.repeat:
        before = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
        profile = args.profile if not runs else None
        run = measure_once(
            server, world, load, args.duration, profile, args.py_spy, args.py_spy_args
        )
        run["response_bytes"] = size
        run["busy_before"] = None if before is None else round(before, 2)
        other = run["cpu_cores"]["other"]
        if other > args.max_other and discarded < args.retries:
            discarded += 1
            print(f"    run discarded: other work took {other:.2f} cores meanwhile", flush=True)
            continue
        runs.append(run)
        if args.repeat > 1:
            print(f"    run {len(runs)}: {summary(run)}", flush=True)
    if ceiling_answer is None:
        for sample in (world.hashes[0], world.hashes[-1]):
            check_sample(server, world, sample)
    else:
        check_ceiling(server, ceiling_answer)
    chosen = dict(sorted(runs, key=lambda r: r["rps"])[len(runs) // 2])
    chosen["discarded_runs"] = discarded
    if len(runs) > 1:
        chosen["repeats"] = [
            {k: r[k] for k in ("rps", "latency_ms", "errors", "cpu_cores")} for r in runs
        ]
    # No errors in any run, not just the one shown.
    chosen["errors"] = {k: sum(r["errors"][k] for r in runs) for k in chosen["errors"]}
    chosen["answer"] = answer
    return chosen


def judged(run: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """The gateway's ``run`` with the ceiling's figures, its share of the ceiling and
    whether the targets are met (and by how much missed)."""
    share = round(run["rps"] / ceiling["rps"], 3) if ceiling["rps"] else 0.0
    errors = sum(run["errors"].values())
    p99 = run["latency_ms"]["p99"]
    missed = []
    if share < TARGET_SHARE:
        missed.append(
            f"{run['rps']:,.0f} req/s is {share:.0%} of the ceiling, "
            f"{TARGET_SHARE * ceiling['rps'] - run['rps']:,.0f} req/s short of {TARGET_SHARE:.0%}"
        )
    if p99 > TARGET_P99_MS:
        missed.append(f"p99 {p99:.1f} ms is {p99 - TARGET_P99_MS:.1f} ms over {TARGET_P99_MS:g} ms")
    if errors:
        missed.append(f"{errors} errors")
    why = cost_per_answer(run, ceiling)
    return {
        **run,
        "ceiling": {
            k: ceiling[k]
            for k in ("rps", "latency_ms", "errors", "cpu_cores", "requests", "repeats")
            if k in ceiling
        },
        "share_of_ceiling": share,
        "meets_target": not missed,
        "missed": missed,
        "why": why,
    }


def cost_per_answer(run: dict[str, Any], ceiling: dict[str, Any]) -> str:
    """Where the gateway's answers went, as measured: server CPU per answer beside the bare
    app's, and how the answers were made (kept, on the loop, on a worker thread)."""

    def micros(r: dict[str, Any]) -> float:
        return r["cpu_cores"]["server"] / r["rps"] * 1e6 if r["rps"] else 0.0

    told = (
        f"{micros(run):.0f} µs of server CPU per answer against the bare app's "
        f"{micros(ceiling):.0f} µs"
    )
    made = run.get("answers")
    total = sum(made.values()) if made else 0
    if made and total:
        told += "; answers " + ", ".join(
            f"{name} {made.get(key, 0) / total:.0%}"
            for key, name in (
                ("kept", "kept"),
                ("loop", "made on the event loop"),
                ("thread", "made on a worker thread"),
            )
        )
    return told


def measure_once(
    server: Server,
    world: World,
    load: Load,
    seconds: float,
    profile_dir: Path | None,
    py_spy: str | None,
    profile_args: str,
) -> dict[str, Any]:
    spy = None
    if profile_dir is not None and py_spy is not None and server.process is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        out = (
            profile_dir / f"{Path(server.log_name()).stem}.txt"
        )  # the gateway's and the ceiling's apart
        spy = subprocess.Popen(
            profile_command(py_spy, server.process.pid, seconds, out, profile_args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(0.5)
    per_worker_before = {p: cpu_seconds(p) for p in server.workers_pids()}
    # (Counted per process: with several workers the scrapes may reach different ones.)
    answers_before = answer_counts(server, world.key) if server.workers == 1 else None
    server_before, postgres_before, busy_before = server.cpu(), postgres_cpu(), machine_busy()
    began = time.perf_counter()
    try:
        result, load_cpu = load.run(server.url, world.key, seconds)
    finally:
        if spy is not None:
            try:
                spy.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                os.killpg(spy.pid, signal.SIGKILL)
                spy.wait(timeout=10)
    elapsed = time.perf_counter() - began
    server_cpu = server.cpu() - server_before
    pg_cpu = postgres_cpu() - postgres_before
    busy = machine_busy() - busy_before
    per_worker = [round(cpu_seconds(p) - c, 2) for p, c in per_worker_before.items()]
    server.check_alive()
    answers_after = answer_counts(server, world.key) if server.workers == 1 else None
    duration = result["duration_us"] / 1e6
    errors = result["errors"]
    failures = sum(errors.values())
    latency = result["latency_us"]
    rps = result["requests"] / duration if duration else 0.0
    p99 = latency["p99"] / 1000
    return {
        "database": world.kind,
        "workers": server.workers,
        "loadgen": load.name,
        "connections": load.connections,
        "duration_s": round(duration, 2),
        "requests": result["requests"],
        "rps": round(rps, 1),
        "latency_ms": {k: round(float(v) / 1000, 2) for k, v in latency.items()},
        "errors": errors,
        "non200_statuses": result.get("non200_statuses", ""),
        "cpu_cores": {
            "server": round(server_cpu / elapsed, 2),
            "per_worker": [round(c / elapsed, 2) for c in per_worker],
            "loadgen": round(load_cpu / elapsed, 2),
            "postgres": round(pg_cpu / elapsed, 2),
            "machine": round(busy / elapsed, 2),
            # Everything else busy meanwhile (the node, the profiler, other work on the machine).
            "other": round(max(0.0, busy - server_cpu - load_cpu - pg_cpu) / elapsed, 2),
        },
        # How the gateway made its answers meanwhile (one worker only: each process counts
        # its own); None for the ceiling.
        "answers": None
        if answers_before is None or answers_after is None
        else {k: answers_after.get(k, 0) - answers_before.get(k, 0) for k in answers_after},
        "meets_target": failures == 0 and p99 <= TARGET_P99_MS,  # and the share: judged()
    }


def answer_counts(server: Server, key: str) -> dict[str, int] | None:
    """The gateway's ``xietong_verify_answers`` counters by how answers were made (from
    ``/metrics`` of the worker that answers); None where there are none (the ceiling)."""
    try:
        response = httpx.get(f"{server.url}/metrics", headers={"X-API-Key": key}, timeout=5)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    counts = {}
    for line in response.text.splitlines():
        if line.startswith('xietong_verify_answers_total{made="'):
            labels, _, value = line.rpartition(" ")
            counts[labels.split('"')[1]] = int(float(value))
    return counts or None


def summary(run: dict[str, Any]) -> str:
    cpu = run["cpu_cores"]
    return (
        f"{run['rps']:,.0f} req/s, p50 {run['latency_ms']['p50']:.1f} ms, "
        f"p99 {run['latency_ms']['p99']:.1f} ms, errors {sum(run['errors'].values())}, "
        f"server {cpu['server']:.2f} cores, {run['loadgen']} {cpu['loadgen']:.2f}, "
        f"other {cpu['other']:.2f}"
    )


# --------------------------------------------------------------------------- report


def _label(run: dict[str, Any]) -> str:
    return "SQLite" if run["database"] == "sqlite" else "PostgreSQL"


def table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| database | workers | requests/s | ceiling requests/s | % of ceiling | p50 ms | p90 ms | p99 ms | ceiling p99 ms | max ms | errors | CPU cores: server (per worker) | PostgreSQL | load generator | other | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for run in runs:
        lat, cpu = run["latency_ms"], run["cpu_cores"]
        workers = "+".join(f"{c:.2f}" for c in cpu["per_worker"]) if run["workers"] > 1 else ""
        ceiling = run.get("ceiling")
        ceiling_rps = f"{ceiling['rps']:,.0f}" if ceiling else "–"
        share = f"{run['share_of_ceiling']:.0%}" if ceiling else "–"
        ceiling_p99 = f"{ceiling['latency_ms']['p99']:.1f}" if ceiling else "–"
        lines.append(
            f"| {_label(run)} | {run['workers']} "
            f"| {run['rps']:,.0f} "
            f"| {ceiling_rps} | {share} "
            f"| {lat['p50']:.1f} | {lat['p90']:.1f} | {lat['p99']:.1f} "
            f"| {ceiling_p99} "
            f"| {lat['max']:.0f} | {sum(run['errors'].values())} "
            f"| {cpu['server']:.2f}{f' ({workers})' if workers else ''} "
            f"| {cpu.get('postgres', 0):.2f} | {cpu['loadgen']:.2f} | {cpu.get('other', 0):.2f} "
            f"| {'yes' if run['meets_target'] else 'no'} |"
        )
    return lines


def verdicts(runs: list[dict[str, Any]]) -> list[str]:
    """One line per combination: the targets met, or by how much missed."""
    return [
        f"- {_label(run)}, {run['workers']} worker(s): "
        + ("targets met" if run["meets_target"] else "missed: " + "; ".join(run["missed"]))
        + f" ({run['share_of_ceiling']:.0%} of the ceiling)"
        + (f"; why: {run['why']}." if run.get("why") else ".")
        for run in runs
        if "ceiling" in run
    ]


def generated_section(results: dict[str, Any], before: dict[str, Any] | None) -> str:
    m = results["machine"]
    s = results["settings"]
    extras = ", ".join(f"{k} {v or 'absent'}" for k, v in m["uvicorn_extras"].items())
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    lines = [
        BEGIN,
        "<!-- Written by scripts/bench_api.py; edits between these markers are overwritten. -->",
        "",
        f"- Machine: {m['cores']} cores, {m['cpu']}, {m['memory']}; {m['os']}; "
        f"Python {m['python']}; {packages}; {extras}",
        f"- Command: `{results['command']}` ({results['when']})",
        f"- Load: {s['loadgen']} ({s['threads']} thread, {s['connections']} keep-alive connections) "
        f"on the same machine, {s['duration_s']:g} s per combination after {s['warmup_s']:g} s of "
        f"warm-up, `GET /v1/verify?hash=…&with_proof=true` rotating among {s['leaves']:,} anchored "
        f"content hashes; API key in `X-API-Key`, rate limiting off; answers of {results['runs'][0]['response_bytes']:,} bytes",
        "- Ceiling: a bare FastAPI app (`scripts/bench/api/ceiling.py`) answering the same "
        "requests with the bytes of a real answer captured from the gateway, under the same "
        "uvicorn settings and workers, measured right after each gateway run with the same load",
        f"- Target: each database ≥ {TARGET_SHARE:.0%} of the ceiling's requests/s, "
        f"p99 ≤ {TARGET_P99_MS:g} ms, no errors",
        f"- Load average at the end: {', '.join(f'{v:.2f}' for v in results['load_average'])} "
        "(other work on the machine meanwhile: the `other` column)",
        "",
        *table(results["runs"]),
        "",
        *verdicts(results["runs"]),
        "",
    ]
    if before is not None:
        lines += [
            f"Before (`{before['command']}`{', ' + before['note'] if before.get('note') else ''}, "
            f"{before['when']}):",
            "",
            *table(before["runs"]),
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def write_report(results: dict[str, Any], before: dict[str, Any] | None, path: Path) -> None:
    section = generated_section(results, before)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + section + tail, encoding="utf-8")
            return
    path.write_text(
        "# Verification API benchmark\n\n" + section + "\n", encoding="utf-8"
    )  # pragma: no cover - first run only


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="SQLite, 1 worker, 3 s (< 60 s).")
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds per combination.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of warm-up load.")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--leaves", type=int, default=10_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Measured runs per combination (the median is reported).",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        help="Seconds to wait, before each run, for other work on the machine to calm down (0: never).",
    )
    parser.add_argument(
        "--max-other",
        type=float,
        default=0.3,
        help="A run during which other work took more cores than this is repeated (see --retries).",
    )
    parser.add_argument("--retries", type=int, default=3, help="Runs that may be repeated so.")
    parser.add_argument(
        "--ceiling",
        choices=("dict", "bytes"),
        default="dict",
        help="The bare route returns the answer as a dict FastAPI serialises, as the gateway's "
        "route does (dict), or its bytes as they are (bytes).",
    )
    parser.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--no-install", action="store_true", help="Never apt-get install wrk.")
    parser.add_argument(
        "--out", type=Path, help="Results JSON (default var/bench/api.json; api.quick.json)."
    )
    parser.add_argument("--report", type=Path, default=REPORT, help="Markdown report.")
    parser.add_argument("--before", type=Path, help="Results JSON of an earlier run to compare.")
    parser.add_argument(
        "--profile", type=Path, help="Record py-spy profiles (raw stacks) of each run here."
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy executable.")
    parser.add_argument(
        "--py-spy-args", default="", help="More py-spy record options, e.g. '--gil' or '--idle'."
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.databases, args.workers = 3.0, 1.0, "sqlite", "1"
        args.repeat, args.wait_quiet, args.retries = 1, min(args.wait_quiet, 5.0), 0
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if not set(kinds) <= {"sqlite", "postgresql"} or not worker_counts:
        parser.error("--databases takes sqlite and/or postgresql; --workers numbers")
    if args.profile is not None and not args.py_spy:
        parser.error("--profile needs py-spy (pip install py-spy, or give --py-spy PATH)")
    wrk = None if args.loadgen == "httpx" else ensure_wrk(not args.no_install)
    if args.loadgen == "wrk" and wrk is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")
    command = ".venv/bin/python scripts/bench_api.py" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:])
        if (argv if argv is not None else sys.argv[1:])
        else ""
    )

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="xt-bench-api-"))
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=work / "node")
    databases: list[str] = []
    server: Server | None = None
    runs: list[dict[str, Any]] = []
    try:
        start_node(spec)
        for kind in kinds:
            world = build_world(kind, spec, work, args.leaves, databases)
            print(
                f"{kind}: demo + {args.leaves:,} leaves anchored and indexed in {world.setup_seconds:.1f} s",
                flush=True,
            )
            hashes_file = work / f"hashes-{kind}.txt"
            hashes_file.write_text("\n".join(world.hashes) + "\n")
            load = Load(wrk, args.connections, args.threads, hashes_file)
            for workers in worker_counts:
                server = Server(world, workers, work)
                server.start()
                try:
                    run = measure(server, world, load, args)
                finally:
                    server.stop()
                    server = None
                print(f"  {kind} × {workers} worker(s): {summary(run)}", flush=True)
                if sum(run["errors"].values()):
                    raise BenchError(
                        f"{kind} × {workers}: errors {run['errors']} (statuses: {run['non200_statuses']})"
                    )
                # The ceiling right after, same workers and load: the bare app answering the
                # bytes the gateway just answered.
                answer_file = work / f"answer-{kind}.json"
                answer_file.write_bytes(run.pop("answer"))
                server = CeilingServer(world, workers, work, answer=answer_file, mode=args.ceiling)
                server.start()
                try:
                    ceiling = measure(
                        server, world, load, args, ceiling_answer=answer_file.read_bytes()
                    )
                finally:
                    server.stop()
                    server = None
                ceiling.pop("answer")
                print(f"  ceiling × {workers} worker(s): {summary(ceiling)}", flush=True)
                run = judged(run, ceiling)
                runs.append(run)
                verdict = "targets met" if run["meets_target"] else "; ".join(run["missed"])
                print(f"  {kind}: {run['share_of_ceiling']:.0%} of the ceiling; {verdict}")
                print(f"    {run['why']}")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        tear_down(server, spec, databases, work)

    results = {
        "benchmark": "verify-api",
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": machine(),
        "settings": {
            "loadgen": (wrk and "wrk") or "httpx",
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "leaves": args.leaves,
            "ceiling": args.ceiling,
            "repeat": args.repeat,
            "wait_quiet_s": args.wait_quiet,
            "max_other_cores": args.max_other,
        },
        "target": {"share_of_ceiling": TARGET_SHARE, "p99_ms": TARGET_P99_MS, "errors": 0},
        "load_average": os.getloadavg(),
        "runs": runs,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    if args.out is None:
        args.out = RESULTS.with_name("api.quick.json") if args.quick else RESULTS
    write_json(args.out, results)
    before = json.loads(args.before.read_text()) if args.before else None
    if not args.quick:
        write_report(results, before, args.report)
    print("\n".join(table(runs)))
    print(f"results: {args.out}; total {results['total_seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
