"""Indexer benchmark: events/s projected into SQLite and PostgreSQL from a chain of our own
contracts' events, the reindex time, and the floor beside them (merely fetching the same logs
with ``eth_getLogs`` in the indexer's block ranges and decoding them).

    .venv/bin/python scripts/bench_indexer.py [--events 100000] [--per-block 500] [--quick]
        [--databases sqlite,postgresql] [--out docs/BENCH_INDEXER.md]

Starts its own Anvil node on a free port, deploys the contracts, and generates the chain as
fast as the node allows: automine off, the departments' unlocked development accounts send
batches of ``eth_sendTransaction`` (the node signs), one ``evm_mine`` per block. Generation
time is reported, not measured against anything. The SQLite database lives in a temporary
directory; the PostgreSQL one (``xt_bench_indexer_<pid>`` on 127.0.0.1:5432) is created fresh
and dropped at the end, like the node is stopped, even on failure.

``--quick`` (about 5,000 events, under a minute) writes ``var/bench/BENCH_INDEXER.quick.md``
and ``var/bench/indexer.quick.json``; the full run writes ``docs/BENCH_INDEXER.md`` and
``var/bench/indexer.json``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from bench.common import (
    RESULTS_DIR,
    BenchError,
    create_pg_database,
    drop_pg_database,
    local_founders,
    machine,
    node_running,
    write_results,
)
from eth_abi import encode
from eth_utils import keccak
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import Deployment, deploy
from ledger.chain.node import NodeSpec, free_port
from ledger.db.engine import create_db_engine
from ledger.db.tables import ChainEvent, IndexedBlock, VersionRow
from ledger.errors import LedgerError
from ledger.events import LogDecoder, jsonable
from ledger.ids import code_hash, dataset_id, version_id
from ledger.indexer import Indexer
from ledger.keys import dev_account

ROOT = Path(__file__).resolve().parents[1]
DATASETS_PER_DEPARTMENT = 4
#: Block gas limit while generating (room for ``--per-block`` transactions of up to 200k gas).
BLOCK_GAS_LIMIT = 200_000_000
#: Gas limits given with each transaction (no estimation round trip); generous upper bounds.
GAS = {"anchor": 200_000, "revoke": 100_000, "access": 250_000, "propose": 600_000}


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


ANCHOR = selector("anchor(bytes32,bytes32,uint64,bytes32,bytes32[])")
REVOKE = selector("revokeVersion(bytes32,bytes32,bytes32)")
ACCESS = selector("recordAccess(bytes32,bytes32,uint64,uint64,uint64)")
TERMS = "(bytes32,bytes32,bytes32[],bytes32,bytes32,bytes32,uint64,uint64)"
PROPOSE = selector(f"propose({TERMS})")


def h(label: str) -> bytes:
    return keccak(text=label)


# --------------------------------------------------------------------------- chain generation


@dataclass
class Department:
    account: str
    id: bytes
    datasets: list[bytes]
    nonce: int = 0
    # Per dataset: the roots anchored so far (parents and revocations pick from them).
    roots: dict[bytes, list[bytes]] = field(default_factory=dict)


@dataclass
class Generated:
    events: int
    kinds: Counter[str]
    blocks: int
    first_block: int
    last_block: int
    seconds: float


class Rpc:
    """Plain JSON-RPC over one keep-alive HTTP session, with batches."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body: list[Any] = [
            {"jsonrpc": "2.0", "id": next(self._ids), "method": m, "params": p} for m, p in calls
        ]
        answers = self.http.post(self.url, json=body, timeout=120).json()
        by_id = {a["id"]: a for a in answers}
        results = []
        for request in body:
            answer = by_id[request["id"]]
            if "error" in answer:
                raise BenchError(f"{request['method']} failed: {answer['error'].get('message')}")
            results.append(answer.get("result"))
        return results


def generate(
    rpc: Rpc, client: ChainClient, founder_ids: list[bytes], events: int, per_block: int
) -> Generated:
    """Fill the chain with about ``events`` events of our contracts, ``per_block`` per block.

    The mix: 3 departments × 4 datasets; per block mostly version anchors (a quarter of them
    with a parent version), access receipts against three active agreements, one agreement
    proposal and an occasional revocation — every kind the projection inserts or updates.
    """
    began = time.perf_counter()
    founders = [dev_account(i) for i in (1, 2, 3)]
    departments: list[Department] = []
    for index, (account, department_key) in enumerate(zip(founders, founder_ids, strict=True)):
        # A dataset's id derives from its owner and its catalogue code.
        codes = [f"BENCH-IDX-{index}-{n}" for n in range(DATASETS_PER_DEPARTMENT)]
        datasets = [dataset_id(department_key, code) for code in codes]
        for code, ds in zip(codes, datasets, strict=True):
            client.transact(
                "DatasetRegistry",
                "registerDataset",
                code_hash(code),
                h(f"meta-{ds.hex()}"),
                sender=account,
            )
        departments.append(
            Department(account.address, department_key, datasets, roots={ds: [] for ds in datasets})
        )
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    valid_from, valid_until = now - 7200, now + 10 * 365 * 86400
    agreements: list[tuple[bytes, Department]] = []  # (id, consumer)
    # An agreement is in effect from its acceptance: receipts may not start earlier.
    accepted_at: dict[bytes, int] = {}
    for provider, consumer in zip(departments, departments[1:] + departments[:1], strict=True):
        terms = (
            provider.id,
            consumer.id,
            provider.datasets[:2],
            h("purpose"),
            h("law"),
            h(f"terms-{provider.id.hex()}"),
            valid_from,
            valid_until,
        )
        proposed = client.transact(
            "SharingAgreements",
            "propose",
            terms,
            sender=dev_account(1 + departments.index(provider)),
        )
        agreement = bytes(proposed.event("AgreementProposed")["agreementId"])
        accepted = client.transact(
            "SharingAgreements",
            "accept",
            agreement,
            sender=dev_account(1 + departments.index(consumer)),
        )
        accepted_at[agreement] = int(client.w3.eth.get_block(accepted.block_number)["timestamp"])
        agreements.append((agreement, consumer))
    for department in departments:
        department.nonce = int(
            rpc.call("eth_getTransactionCount", [department.account, "pending"]), 16
        )
    start_block = int(rpc.call("eth_blockNumber", []), 16)

    addresses = {name: client.address(name) for name in ("DatasetRegistry", "SharingAgreements")}
    kinds: Counter[str] = Counter()
    serial = itertools.count()

    def tx(sender: Department, to: str, data: bytes, gas: int) -> tuple[str, list[Any]]:
        params = {
            "from": sender.account,
            "to": to,
            "data": "0x" + data.hex(),
            "gas": hex(gas),
            "nonce": hex(sender.nonce),
        }
        sender.nonce += 1
        return "eth_sendTransaction", [params]

    def one_block(block_index: int, count: int) -> list[tuple[str, list[Any]]]:
        calls = []
        pending_roots: list[tuple[Department, bytes, bytes]] = []
        for slot in range(count):
            n = next(serial)
            if slot == 0 and block_index % 4 == 0:
                provider = departments[block_index % 3]
                consumer = departments[(block_index + 1) % 3]
                terms = (
                    provider.id,
                    consumer.id,
                    provider.datasets[:2],
                    h("purpose"),
                    h("law"),
                    h(f"terms-{n}"),
                    valid_from,
                    valid_until,
                )
                data = PROPOSE + encode([TERMS], [terms])
                calls.append(tx(provider, addresses["SharingAgreements"], data, GAS["propose"]))
                kinds["AgreementProposed"] += 1
            elif slot == 1 and block_index % 10 == 5:
                owner = departments[block_index % 3]
                ds = owner.datasets[block_index % DATASETS_PER_DEPARTMENT]
                roots = owner.roots[ds]
                if not roots:
                    continue
                root = roots.pop(0)  # revoke the oldest version still valid
                data = REVOKE + encode(
                    ["bytes32", "bytes32", "bytes32"], [ds, root, h(f"reason-{n}")]
                )
                calls.append(tx(owner, addresses["DatasetRegistry"], data, GAS["revoke"]))
                kinds["VersionRevoked"] += 1
            elif n % 5 == 4:
                agreement, consumer = agreements[n % len(agreements)]
                period = accepted_at[agreement]
                data = ACCESS + encode(
                    ["bytes32", "bytes32", "uint64", "uint64", "uint64"],
                    [agreement, h(f"log-{n}"), 1 + n % 500, period, period],
                )
                calls.append(tx(consumer, addresses["SharingAgreements"], data, GAS["access"]))
                kinds["AccessRecorded"] += 1
            else:
                owner = departments[n % 3]
                ds = owner.datasets[(n // 3) % DATASETS_PER_DEPARTMENT]
                root = h(f"root-{n}")
                # Parents are version ids (dataset and root).
                parents = [version_id(ds, r) for r in owner.roots[ds][-1:]] if n % 4 == 0 else []
                data = ANCHOR + encode(
                    ["bytes32", "bytes32", "uint64", "bytes32", "bytes32[]"],
                    [ds, root, 1 + n % 100_000, h(f"m-{n}"), parents],
                )
                calls.append(tx(owner, addresses["DatasetRegistry"], data, GAS["anchor"]))
                pending_roots.append((owner, ds, root))
                kinds["VersionAnchored"] += 1
        # Roots become parents (or revocation targets) from the next block on.
        for owner, ds, root in pending_roots:
            owner.roots[ds].append(root)
        return calls

    # Anvil recomputes its state for every block, so the cost of a block grows with the chain:
    # fewer, fuller blocks (a gas limit above mainnet's, as consortium chains often set) keep
    # generation short.
    rpc.call("evm_setBlockGasLimit", [hex(BLOCK_GAS_LIMIT)])
    rpc.call("evm_setAutomine", [False])
    try:
        sent = 0
        block_index = 0
        while sent < events:
            calls = one_block(block_index, min(per_block, events - sent))
            rpc.batch(calls)
            rpc.call("evm_mine", [])
            sent += len(calls)
            block_index += 1
    finally:
        rpc.call("evm_setAutomine", [True])
    end_block = int(rpc.call("eth_blockNumber", []), 16)
    pending = int(rpc.call("eth_getBlockTransactionCountByNumber", ["pending"]) or "0x0", 16)
    if pending:
        raise BenchError(f"{pending} generated transactions were left unmined (block gas limit?)")
    kinds["DatasetRegistered"] += len(departments) * DATASETS_PER_DEPARTMENT
    kinds["AgreementProposed"] += len(agreements)
    kinds["AgreementAccepted"] += len(agreements)
    return Generated(
        events=sum(kinds.values()),
        kinds=kinds,
        blocks=end_block - start_block,
        first_block=start_block + 1,
        last_block=end_block,
        seconds=time.perf_counter() - began,
    )


# --------------------------------------------------------------------------- measurements


def block_ranges(first: int, last: int, chunk: int) -> Iterator[tuple[int, int]]:
    start = first
    while start <= last:
        end = min(last, start + chunk - 1)
        yield start, end
        start = end + 1


@dataclass
class Floor:
    fetch_s: float  # eth_getLogs in the indexer's ranges, JSON parsed, nothing else
    decode_s: float  # ABI-decode every log to the indexer's JSON-able arguments (its decoder)
    web3_fetch_s: float  # the same logs through web3's get_logs (its result formatters)
    web3_decode_s: float  # ... decoded by web3's process_log (+ jsonable)
    events: int
    kinds: Counter[str]

    @property
    def total_s(self) -> float:
        return self.fetch_s + self.decode_s

    @property
    def web3_s(self) -> float:
        return self.web3_fetch_s + self.web3_decode_s


def measure_floor(rpc: Rpc, indexer: Indexer, last: int) -> Floor:
    """What any indexer of these events pays: fetch the logs in the indexer's block ranges and
    decode them, with our decoder (the floor) and the usual web3.py way (a reference)."""
    w3 = indexer.client.w3
    addresses = [c.address for c in indexer.client.contracts.values()]
    ranges = list(block_ranges(indexer.deployment.block_number, last, indexer.chunk))
    fetch = decode = 0.0
    kinds: Counter[str] = Counter()
    decoder = LogDecoder(indexer.client.contracts)  # exactly the indexer's decoding
    for start, end in ranges:
        t0 = time.perf_counter()
        logs = rpc.call(
            "eth_getLogs", [{"fromBlock": hex(start), "toBlock": hex(end), "address": addresses}]
        )
        t1 = time.perf_counter()
        for log in logs:
            decoded = decoder.decode(log)
            if decoded is not None:
                kinds[decoded[1]] += 1
        fetch += t1 - t0
        decode += time.perf_counter() - t1
        del logs
    by_address = {c.address.lower(): c for c in indexer.client.contracts.values()}
    web3_fetch = web3_decode = 0.0
    web3_events = 0
    for start, end in ranges:
        t0 = time.perf_counter()
        entries = w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": addresses})
        t1 = time.perf_counter()
        for entry in entries:
            contract = by_address[str(entry["address"]).lower()]
            name = indexer.client.event_name(contract, bytes(entry["topics"][0]))
            if name is not None:
                jsonable(dict(getattr(contract.events, name)().process_log(entry)["args"]))
                web3_events += 1
        web3_fetch += t1 - t0
        web3_decode += time.perf_counter() - t1
        del entries
    events = sum(kinds.values())
    if events != web3_events:
        raise BenchError(f"{events} logs decoded by the indexer's decoder, {web3_events} by web3")
    return Floor(fetch, decode, web3_fetch, web3_decode, events, kinds)


@dataclass
class IndexRun:
    database: str
    index_s: float
    reindex_s: float
    events: int
    rows: int
    blocks: int


def count(engine: Engine, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def measure_index(
    name: str, url: str, client: ChainClient, deployment: Deployment, expected: int, last: int
) -> IndexRun:
    """Index from an empty database, then reindex it; both checked against the floor's count."""
    engine = create_db_engine(url)  # creates the tables: not timed
    try:
        indexer = Indexer(client, deployment, engine)
        t0 = time.perf_counter()
        first = indexer.sync()
        index_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = indexer.reindex()
        reindex_s = time.perf_counter() - t1
        for result in (first, again):
            if result.events != expected or result.to_block < last:
                raise BenchError(
                    f"{name}: indexed {result.events} events up to block {result.to_block}, "
                    f"expected {expected} up to {last}"
                )
        rows = count(engine, ChainEvent)
        if rows != expected:
            raise BenchError(f"{name}: {rows} events in the table, expected {expected}")
        return IndexRun(
            name,
            index_s,
            reindex_s,
            expected,
            count(engine, VersionRow),
            count(engine, IndexedBlock),
        )
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- report


def per_s(events: int, seconds: float) -> float:
    return round(events / seconds, 1) if seconds > 0 else 0.0


def report(
    args: argparse.Namespace,
    command: str,
    gen: Generated,
    floor: Floor,
    runs: list[IndexRun],
    total_events: int,
) -> tuple[str, dict[str, Any]]:
    m = machine()
    results: dict[str, Any] = {
        "events": total_events,
        "generated_events": gen.events,
        "blocks": gen.blocks,
        "events_per_block": args.per_block,
        "event_kinds": dict(sorted(floor.kinds.items())),
        "chunk_blocks": args.chunk,
        "generation_s": round(gen.seconds, 2),
        "floor_fetch_s": round(floor.fetch_s, 3),
        "floor_decode_s": round(floor.decode_s, 3),
        "floor_s": round(floor.total_s, 3),
        "web3_fetch_decode_s": round(floor.web3_s, 3),
        "web3_events_per_s": per_s(floor.events, floor.web3_s),
        "floor_events_per_s": per_s(floor.events, floor.total_s),
    }
    for run in runs:
        results[run.database] = {
            "index_s": round(run.index_s, 3),
            "events_per_s": per_s(run.events, run.index_s),
            "reindex_s": round(run.reindex_s, 3),
            "reindex_events_per_s": per_s(run.events, run.reindex_s),
            "floor_share": round(floor.total_s / run.index_s, 3) if run.index_s else None,
        }
    label = {"sqlite": "SQLite (file, WAL)", "postgresql": "PostgreSQL (127.0.0.1)"}
    lines = [
        "# Indexer benchmark",
        "",
        f"- Machine: {m['cores']} cores, {m['cpu']}, {m['memory']}; {m['os']}; Python {m['python']}; "
        f"load average at the end {m['load_average']}",
        f"- Command: `{command}`",
        f"- Chain: Anvil, {total_events:,} events of our four contracts in {gen.blocks:,} blocks "
        f"({args.per_block} transactions per block) after the deployment; generated in "
        f"{gen.seconds:.1f} s (not a measured figure). Indexer chunk {args.chunk:,} blocks per "
        "`eth_getLogs`, 1 confirmation.",
        "- Events: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(floor.kinds.items(), key=lambda kv: -kv[1])),
        "",
        "| step | seconds | events/s | × floor |",
        "|---|---:|---:|---:|",
        f"| **floor: `eth_getLogs` (raw JSON-RPC) + decode with the indexer's decoder** (fetch "
        f"{floor.fetch_s:.2f} s, decode {floor.decode_s:.2f} s) | **{floor.total_s:.2f}** | "
        f"**{per_s(floor.events, floor.total_s):,.0f}** | 1.0 |",
        f"| reference: web3.py `get_logs` + `process_log` (fetch {floor.web3_fetch_s:.2f} s, decode "
        f"{floor.web3_decode_s:.2f} s) | {floor.web3_s:.2f} | {per_s(floor.events, floor.web3_s):,.0f} | "
        f"{floor.web3_s / floor.total_s:.1f} |",
    ]
    for run in runs:
        lines.append(
            f"| **index from empty → {label[run.database]}** | **{run.index_s:.2f}** | "
            f"**{per_s(run.events, run.index_s):,.0f}** | {run.index_s / floor.total_s:.1f} |"
        )
        lines.append(
            f"| reindex (drop the projection, replay) → {label[run.database]} | {run.reindex_s:.2f} | "
            f"{per_s(run.events, run.reindex_s):,.0f} | {run.reindex_s / floor.total_s:.1f} |"
        )
    lines.append("")
    return "\n".join(lines), results


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=None, help="default 100000 (quick: 5000)")
    parser.add_argument("--per-block", type=int, default=500, help="transactions per block")
    parser.add_argument("--chunk", type=int, default=2_000, help="blocks per eth_getLogs")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="about 5,000 events, under a minute")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    events = args.events or (5_000 if args.quick else 100_000)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not databases or not set(databases) <= {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite and/or postgresql")
    out = args.out or (
        RESULTS_DIR / "BENCH_INDEXER.quick.md" if args.quick else ROOT / "docs" / "BENCH_INDEXER.md"
    )
    command = ".venv/bin/python scripts/bench_indexer.py" + (" --quick" if args.quick else "")
    if args.events or args.per_block != 500 or args.chunk != 2_000:
        command += f" --events {events} --per-block {args.per_block} --chunk {args.chunk}"

    work = Path(tempfile.mkdtemp(prefix="xt-bench-indexer-"))
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=work / "node")
    pg_name = f"xt_bench_indexer_{os.getpid()}"
    pg_created = False
    try:
        with node_running(spec):
            w3 = connect(spec.rpc_url, timeout=120)
            founders = local_founders()
            deployment = deploy(
                w3, founders, deployer=dev_account(0), manifest_path=work / "m.json"
            )
            client = ChainClient(w3, deployment.addresses)
            rpc = Rpc(spec.rpc_url)
            print(f"generating about {events:,} events ({args.per_block} per block)…", flush=True)
            gen = generate(
                rpc, client, [f.department_id for f in founders.departments], events, args.per_block
            )
            print(
                f"generated {gen.events:,} events in {gen.blocks:,} blocks in {gen.seconds:.1f} s",
                flush=True,
            )
            last = gen.last_block
            probe = Indexer(
                client,
                deployment,
                create_db_engine("sqlite://", create_tables=False),
                chunk=args.chunk,
            )
            floor = measure_floor(rpc, probe, last)
            for kind, sent in gen.kinds.items():
                if floor.kinds[kind] != sent:
                    raise BenchError(
                        f"{sent} {kind} transactions sent but {floor.kinds[kind]} events on chain"
                    )
            print(
                f"floor: {floor.events:,} events fetched in {floor.fetch_s:.2f} s, decoded in "
                f"{floor.decode_s:.2f} s (web3: {floor.web3_s:.2f} s)",
                flush=True,
            )
            runs = []
            for name in databases:
                if name == "sqlite":
                    url = f"sqlite:///{work / 'index.db'}"
                else:
                    url = create_pg_database(pg_name)
                    pg_created = True
                run = measure_index(name, url, client, deployment, floor.events, last)
                print(
                    f"{name}: index {run.index_s:.2f} s, reindex {run.reindex_s:.2f} s", flush=True
                )
                runs.append(run)
            text, results = report(args, command, gen, floor, runs, floor.events)
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.exists() and not args.quick:
                text = merge_notes(text, out.read_text(encoding="utf-8"))
            out.write_text(text, encoding="utf-8")
            write_results("indexer", results, quick=args.quick, command=command)
            print(text)
            return 0
    except (LedgerError, BenchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except requests.ConnectionError:
        print(f"error: the Anvil node at {spec.rpc_url} stopped answering.", file=sys.stderr)
        return 1
    finally:
        if pg_created:
            drop_pg_database(pg_name)
        shutil.rmtree(work, ignore_errors=True)


NOTES_MARK = "<!-- notes: kept across runs -->"


def merge_notes(text: str, previous: str) -> str:
    """Keep the hand-written notes (everything from NOTES_MARK on) of the previous report."""
    at = previous.find(NOTES_MARK)
    return text if at < 0 else text + "\n" + previous[at:]


if __name__ == "__main__":
    raise SystemExit(main())
