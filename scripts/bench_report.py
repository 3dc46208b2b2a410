"""Gather the figures every benchmark wrote to ``var/bench/`` into ``docs/BENCHMARKS.md``.

    .venv/bin/python scripts/bench_report.py [--quick] [--out FILE] [--results DIR]

``make bench`` runs it last. It rewrites the part of ``docs/BENCHMARKS.md`` between the
``bench_report`` markers (the summary, each figure next to its peer from the same run, and
the machine) and keeps the hand-written analysis around it. ``--quick`` reads the
``*.quick.json`` files of ``make bench QUICK=1`` and writes ``var/bench/BENCHMARKS.quick.md``.
Exits 1 when a benchmark's figures are missing, so a run that skipped one cannot pass.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, RESULTS_DIR, results_path

DOC = PROJECT_ROOT / "docs" / "BENCHMARKS.md"
QUICK_DOC = RESULTS_DIR / "BENCHMARKS.quick.md"
BEGIN, END = "<!-- bench_report:begin -->", "<!-- bench_report:end -->"

Section = tuple[list[str], list[str]]  # summary rows, detail lines


def _load(name: str, *, quick: bool, directory: Path) -> dict[str, Any] | None:
    path = directory / results_path(name, quick=quick).name
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _verdict(met: bool, doc: dict[str, Any]) -> str:
    if doc.get("quick") or "quick" in str(doc.get("command", "")):
        return "not judged (quick run)"
    return "met" if met else "**missed**"


def _per_hash(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.4f}"


# ------------------------------------------------------------------------------ sections


def gas(doc: dict[str, Any]) -> Section:
    engines = doc["engines"]
    engine = "anvil" if "anvil" in engines else next(iter(engines))
    rows = [r for r in engines[engine]["rows"] if r["section"] == "anchor" and r["gas"]]

    def pick(system: str, operation: str, *, batched: bool | None = None) -> dict[str, Any]:
        found = [
            r
            for r in rows
            if r["system"] == system
            and r["operation"].startswith(operation)
            and (batched is None or (r["hashes"] > 1) == batched)
        ]
        if not found:
            raise KeyError(f"{system} {operation}")
        return min(found, key=lambda r: r["gas_per_hash"]) if batched else found[0]

    ours = max((r for r in rows if r["system"] == "Xietong"), key=lambda r: r["hashes"])
    ours_one = min((r for r in rows if r["system"] == "Xietong"), key=lambda r: r["hashes"])
    naive, naive_batch = pick("Naive mapping", "anchor(", batched=False), None
    naive_batch = pick("Naive mapping", "anchorBatch", batched=True)
    eas_ts = pick("EAS", "timestamp(")
    eas_multi = pick("EAS", "multiTimestamp", batched=True)
    eas_attest = pick("EAS", "attest(")
    target = doc["target"]["gas_per_hash_below"]
    one_leaf_max = doc["target"]["one_leaf"]["gas_at_most"]
    met = ours["gas_per_hash"] < target and ours_one["gas"] <= one_leaf_max
    summary = [
        f"| Gas per anchored hash ({engine}) | {ours['gas_per_hash']:.4f} at {ours['hashes']:,} "
        f"leaves ({_n(ours['gas'])} gas per root; {_n(ours_one['gas'])} for 1 leaf) "
        f"| naive mapping {_n(naive['gas'])} single, {_n(naive_batch['gas_per_hash'])}/hash "
        f"batched; EAS `timestamp` {_n(eas_ts['gas'])}, `multiTimestamp` "
        f"{_n(eas_multi['gas_per_hash'])}/hash, `attest` {_n(eas_attest['gas'])} "
        f"| < {target}; ≤ {_n(one_leaf_max)} for 1 leaf | {_verdict(met, doc)} |"
    ]
    details = [
        f"Gas ({engine}; `{doc['command']}`; details in [BENCH_GAS.md](BENCH_GAS.md)):",
        "",
        "| system | operation | hashes | gas | gas per hash |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        details.append(
            f"| {r['system']} | {r['operation']} | {r['hashes']:,} | {_n(r['gas'])} "
            f"| {_per_hash(r['gas_per_hash'])} |"
        )
    return summary, details


def merkle(doc: dict[str, Any]) -> Section:
    res = doc["results"]
    ours = {(r["kind"], r["leaves"]): r for r in res["ours"]}
    biggest = max(r["leaves"] for r in res["ours"])
    top = ours[("records", biggest)]
    oz = {(r["kind"], r["leaves"]): r for r in res["openzeppelin"]}
    pym = {r["leaves"]: r for r in res["pymerkle"]}
    peers = []
    if ("records", biggest) in oz:
        peers.append(f"@openzeppelin/merkle-tree {oz[('records', biggest)]['build_s']:.1f} s")
    elif oz:
        size = max(k[1] for k in oz if k[0] == "records")
        rate = size / oz[("records", size)]["build_s"]
        peers.append(f"@openzeppelin/merkle-tree {rate:,.0f} leaves/s (at {size:,})")
    if biggest in pym:
        peers.append(f"pymerkle {pym[biggest]['build_s']:.1f} s (another tree)")
    target = res["target"]
    met = biggest >= target["leaves"] and top["total_s"] <= target["seconds"]
    summary = [
        f"| Merkle tree, {biggest:,} record leaves | {top['total_s']:.2f} s "
        f"({top['ratio_to_floor']:.2f}× the raw Keccak loop); roots identical to OpenZeppelin's "
        f"| {'; '.join(peers) or '–'} | ≤ {target['seconds']:g} s at {target['leaves']:,} "
        f"| {_verdict(met, doc)} |"
    ]
    details = [
        f"Merkle (`{doc['command']}`; details in [BENCH_MERKLE.md](BENCH_MERKLE.md); "
        f"Keccak floor {res['keccak_floor_ns_per_hash']:.0f} ns per hash):",
        "",
        "| leaves | kind | Xietong (s) | × floor | proof (µs) | OpenZeppelin (s) "
        "| same root | pymerkle (s) |",
        "|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    for (kind, leaves), r in sorted(ours.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        z = oz.get((kind, leaves))
        p = pym.get(leaves) if kind == "records" else None
        oz_s = f"{z['build_s']:.2f}" if z else "not run"
        pym_s = f"{p['build_s']:.2f}" if p else "–"
        details.append(
            f"| {leaves:,} | {kind} | {r['total_s']:.3f} | {r['ratio_to_floor']:.2f} "
            f"| {r['proof_us']:.1f} | {oz_s} | {'yes (asserted)' if z else '–'} | {pym_s} |"
        )
    return summary, details


def hashing(doc: dict[str, Any]) -> Section:
    res = doc["results"]
    f = res["file"]
    ratio = f["ratio_to_openssl"]
    peers = [f"`openssl dgst -sha256` {f['openssl_gb_per_s']:.2f} GB/s"] if ratio else []
    if f["sha256sum_gb_per_s"]:
        peers.append(f"`sha256sum` {f['sha256sum_gb_per_s']:.2f} GB/s")
    csv = res["records"].get("CSV")
    summary = [
        f"| File hashing, {f['size_mib']:,} MiB | {f['ours_gb_per_s']:.2f} GB/s "
        f"({ratio:.2f}× openssl) | {', '.join(peers)} | ≥ 0.9× openssl "
        f"| {_verdict(ratio is not None and ratio >= 0.9, doc)} |",
    ]
    if csv:
        summary.append(
            f"| Record hashing (CSV, {csv['rows']:,} rows, canonical JSON + salt) "
            f"| {_n(csv['rows_per_s'])} rows/s | – | – | reported |"
        )
    sm3 = res.get("sm3")  # figures from before SM3 have none
    if sm3:
        sm3_file, sha = sm3["file"], res["records"]
        ratio = sm3_file["ratio_to_openssl"]
        peers = [f"`openssl dgst -sm3` {_n(sm3_file['openssl_mb_per_s'])} MB/s"] if ratio else []
        peers.append(f"SHA-256 here: ours {_n(sm3_file['sha256_ours_mb_per_s'])} MB/s")
        if sm3_file["sha256_openssl_mb_per_s"]:
            peers[-1] += f", `openssl dgst -sha256` {_n(sm3_file['sha256_openssl_mb_per_s'])} MB/s"
        summary.append(
            f"| SM3 file hashing (GM/T 0004-2012), same {sm3_file['size_mib']:,} MiB file "
            f"| {_n(sm3_file['ours_mb_per_s'])} MB/s"
            + (f" ({ratio:.2f}× `openssl dgst -sm3`)" if ratio else "")
            + f" | {'; '.join(peers)} | – | reported |"
        )
        sm3_csv = sm3["records"].get("CSV")
        if sm3_csv:
            summary.append(
                f"| Record hashing, SM3 (CSV, {sm3_csv['rows']:,} rows, canonical JSON + salt) "
                f"| {_n(sm3_csv['rows_per_s'])} rows/s "
                + (
                    f"| SHA-256, same rows: {_n(sha['CSV']['rows_per_s'])} rows/s "
                    if "CSV" in sha
                    else "| – "
                )
                + "| – | reported |"
            )
    details = [
        f"Hashing (`{doc['command']}`; details in [BENCH_HASHING.md](BENCH_HASHING.md)): "
        + ", ".join(f"{label} {_n(r['rows_per_s'])} rows/s" for label, r in res["records"].items())
        + (
            "; with SM3, "
            + ", ".join(
                f"{label} {_n(r['rows_per_s'])} rows/s" for label, r in sm3["records"].items()
            )
            if sm3 and sm3["records"]
            else ""
        )
        + ".",
    ]
    return summary, details


def anchoring(doc: dict[str, Any]) -> Section:
    r = doc["results"]
    summary = []
    for run in r.get("runs") or [r]:  # one row per size (older results: the one size)
        target, met = run.get("target"), run.get("met")
        result = "reported" if met is None else _verdict(bool(met), doc)
        if result == "**missed**":  # by how much, and why
            result += f": {run['verdict'].removeprefix('missed: ')}"
        summary.append(
            f"| End to end: {run['rows']:,} CSV records to a confirmed anchor ({r['engine']}) "
            f"| {run['total_s']:.1f} s, peak {run['peak_rss_mib']:,.0f} MiB | – "
            f"| {target or '–'} | {result} |"
        )
    details = [
        f"Anchoring (`{doc['command']}`; details in [BENCH_ANCHORING.md](BENCH_ANCHORING.md)): "
        f"read + hash + tree {r['prepare_s']:.2f} s, leaf store {r['persist_s']:.2f} s, "
        f"send + confirm {r['confirm_s']:.2f} s.",
    ]
    return summary, details


def _api_why(run: dict[str, Any], met: bool) -> str:
    """By how much a missed target was missed, and why (as measured: ``why``)."""
    if met:
        return ""
    told = ": " + "; ".join(run["missed"])
    return told + (f"; {run['why']}" if run.get("why") else "")


def api(doc: dict[str, Any]) -> Section:
    target = doc["target"]
    runs = doc["runs"]
    summary = []
    for run in runs:
        lat = run["latency_ms"]
        errors = sum(run["errors"].values())
        ceiling = run.get("ceiling")
        if ceiling is None:  # figures of a run before the ceiling was measured
            raise KeyError("ceiling (rerun scripts/bench_api.py)")
        met = bool(run["meets_target"]) and errors == 0
        summary.append(
            f"| Verification API, {run['database']}, {run['workers']} worker(s) "
            f"| {_n(run['rps'])} req/s ({run['share_of_ceiling']:.0%} of the ceiling), "
            f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, {errors} errors "
            f"| bare FastAPI app, same answer: {_n(ceiling['rps'])} req/s, "
            f"p99 {ceiling['latency_ms']['p99']:.1f} ms "
            f"| ≥ {target['share_of_ceiling']:.0%} of the ceiling, p99 ≤ {target['p99_ms']:g} ms "
            f"| {_verdict(met, doc)}{_api_why(run, met)} |"
        )
    details = [
        f"Verification API (`{doc['command']}`; load generator {doc['settings']['loadgen']}, "
        f"{doc['settings']['connections']} connections, {doc['settings']['duration_s']} s per "
        f"run, median of {doc['settings']['repeat']}; details in [BENCH_API.md](BENCH_API.md)).",
    ]
    return summary, details


def indexer(doc: dict[str, Any]) -> Section:
    r = doc["results"]
    summary = []
    for name, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        if name not in r:
            continue
        d = r[name]
        summary.append(
            f"| Indexer, {r['events']:,} events into {label} | {_n(d['events_per_s'])} events/s "
            f"({d['index_s']:.1f} s); reindex {d['reindex_s']:.1f} s "
            f"| fetch + decode alone: {_n(r['floor_events_per_s'])} events/s | – | reported |"
        )
    details = [
        f"Indexer (`{doc['command']}`; {r['events']:,} events in {r['blocks']:,} blocks; "
        f"details in [BENCH_INDEXER.md](BENCH_INDEXER.md)).",
    ]
    return summary, details


def nodes(doc: dict[str, Any]) -> Section:
    r = doc["results"]
    cells = []
    for engine in ("anvil", "hardhat"):
        e = r[engine]
        cells.append(
            f"{engine}: start {e['startup_s']:.1f} s, {e['anchorer_tx_per_s']:.0f} anchors/s "
            f"one at a time (p99 {e['anchorer_p99_ms']:.0f} ms), {e['pipelined_tx_per_s']:,.0f} "
            f"tx/s pipelined, {e['rss_mib']:.0f} MiB"
        )
    summary = [
        f"| Node engines, same anchoring workload | {cells[0]} | {cells[1]} | – | reported |"
    ]
    details = [
        f"Node engines (`{doc['command']}`; {r['n']:,} anchors per engine; details in "
        "[BENCH_NODES.md](BENCH_NODES.md)).",
    ]
    return summary, details


def network(doc: dict[str, Any]) -> Section:
    r = doc["results"]
    net, period = r["network"], r["period"]
    c, seq = net["confirmations"], net["sequential"]
    rss = net["rss_mib"]
    summary = [
        f"| Consortium network, {len(net['members'])} geth Clique validators, {period} s blocks "
        f"| {net['pipelined']['tx_per_s']:,.0f} anchors/s pipelined, one at a time p50 "
        f"{seq['p50_ms'] / 1000:.1f} s (p99 {seq['p99_ms'] / 1000:.1f} s); 1 / 3 / 5 "
        f"confirmations in {c['own_1']['p50_s']:.1f} / {c['own_3']['p50_s']:.1f} / "
        f"{c['own_5']['p50_s']:.1f} s; {sum(rss.values()) / len(rss):.0f} MiB per validator "
        "| Hardhat and Anvil (Node engines row) confirm at once, with one author | – | reported |"
    ]
    details = [
        f"Consortium network (`{doc['command']}`; {r['n']:,} anchors pipelined, "
        f"{r['sequential_n']:,} one at a time, {r['samples']} confirmation samples; details and "
        "the comparison with Hardhat and Anvil in [BENCH_NETWORK.md](BENCH_NETWORK.md)).",
    ]
    return summary, details


def offline(doc: dict[str, Any]) -> Section:
    r = doc["results"]
    py, js, size = r["python_ms"]["plain"], r["browser_ms"]["plain"], r["bytes"]
    summary = [
        f"| Offline proof check ({r['headers']} sealed headers, {size['plain']:,} bytes; "
        f"{size['unsealed']:,} without seals) | Python {py:.2f} ms, Chromium {js:.2f} ms "
        f"| node-backed check {r['online_ms']:.1f} ms | ≤ 10 ms Python, ≤ 50 ms browser "
        f"| {_verdict(py <= 10 and js <= 50, doc)} |"
    ]
    details = [
        f"Offline proofs (`{doc['command']}`; medians of {r['repeat']} runs, with the history "
        f"of {r['history_headers']} headers Python {r['python_ms']['from_genesis']:.2f} ms and "
        f"Chromium {r['browser_ms']['from_genesis']:.2f} ms for {size['from_genesis']:,} bytes; "
        "[BENCH_OFFLINE.md](BENCH_OFFLINE.md)).",
    ]
    return summary, details


BENCHMARKS: dict[str, Callable[[dict[str, Any]], Section]] = {
    "gas": gas,
    "merkle": merkle,
    "hashing": hashing,
    "anchoring": anchoring,
    "api": api,
    "indexer": indexer,
    "nodes": nodes,
    "network": network,
    "offline": offline,
}


# ------------------------------------------------------------------------------- report


def machine_lines(documents: dict[str, dict[str, Any]]) -> list[str]:
    m = next(iter(documents.values())).get("machine", {})
    times = sorted(
        d.get("measured_at") or d.get("when") or d.get("started_at") or ""
        for d in documents.values()
    )
    return [
        f"- Machine: {m.get('cpu')}, {m.get('cores') or m.get('nproc')} cores"
        f"{' (SHA-NI)' if m.get('sha_ni') else ''}, {m.get('memory')} memory; {m.get('os')}; "
        f"Python {m.get('python')}; Node.js {m.get('node')}",
        f"- Measured: {times[0]} to {times[-1]} (UTC), one benchmark after the other, "
        "nothing else running by intent (each script records the load average it saw)",
    ]


def generate(*, quick: bool, directory: Path = RESULTS_DIR) -> tuple[str, list[str]]:
    documents: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for name in BENCHMARKS:
        doc = _load(name, quick=quick, directory=directory)
        if doc is None:
            missing.append(name)
        else:
            documents[name] = doc
    summary: list[str] = []
    details: list[str] = []
    rendered: dict[str, dict[str, Any]] = {}
    for name, doc in documents.items():
        try:
            rows, lines = BENCHMARKS[name](doc)
        except (KeyError, TypeError, ValueError, StopIteration) as exc:
            missing.append(f"{name} (unreadable: {exc!r})")
            continue
        rendered[name] = doc
        summary += rows
        details += [*lines, ""]
    out = [
        BEGIN,
        "",
        "Generated by `scripts/bench_report.py` from the figures of the last "
        + (
            "`make bench QUICK=1` (short runs: not the published figures)."
            if quick
            else "`make bench`."
        ),
        "",
        *(machine_lines(rendered) if rendered else []),
        "",
        "| what | Xietong | the alternative, same run | target | result |",
        "|---|---|---|---|---|",
        *summary,
        "",
        *details,
    ]
    if missing:
        out += [f"Not measured in this run: {', '.join(missing)}.", ""]
    out.append(END)
    return "\n".join(out) + "\n", missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="read the quick runs' figures")
    parser.add_argument("--out", type=Path, help="default docs/BENCHMARKS.md (quick: var/bench/)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="default var/bench/")
    args = parser.parse_args(argv)
    out = args.out or (QUICK_DOC if args.quick else DOC)
    block, missing = generate(quick=args.quick, directory=args.results)
    if out.exists() and BEGIN in (text := out.read_text(encoding="utf-8")) and END in text:
        head, rest = text.split(BEGIN, 1)
        document = head + block.rstrip("\n") + rest.split(END, 1)[1]
    else:
        document = "# Benchmarks\n\n" + block
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    print(block)
    print(f"wrote {out}")
    if missing:
        print(f"bench_report: no figures for {', '.join(missing)}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
