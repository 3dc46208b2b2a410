"""End-to-end anchoring benchmark: N CSV records → salted leaves → tree → persisted leaf
store → confirmed anchor on a real node, with time per stage and peak memory.

    .venv/bin/python scripts/bench_anchoring.py [--rows 1000000] [--engine anvil] [--out docs/BENCH_ANCHORING.md]

Starts its own node on a free port and uses a temporary SQLite database; removes both.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shlex
import sys
import tempfile
import time
from pathlib import Path

from bench.common import local_founders, machine, node_running, write_results
from eth_utils import keccak

from ledger import merkle
from ledger.anchoring import Anchorer, prepare_path
from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import deploy
from ledger.chain.node import NodeSpec, free_port
from ledger.db.engine import create_db_engine
from ledger.errors import LedgerError
from ledger.ids import code_hash
from ledger.keys import dev_account

ROOT = Path(__file__).resolve().parents[1]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    streets = ["湖滨街道", "小营街道", "清波街道", "望江街道"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "街道", "家庭人口", "月保障金"])
        for i in range(rows):
            writer.writerow(
                [f"DB{i:07d}", "王" + "明华丽强"[i % 4], streets[i % 4], rng.randint(1, 5), 1250]
            )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("hardhat", "anvil"), default="anvil")
    parser.add_argument("--quick", action="store_true", help="20,000 rows, into var/bench/")
    parser.add_argument("--out", type=Path, help="report (default docs/BENCH_ANCHORING.md)")
    args = parser.parse_args(argv)
    if args.quick and args.rows == 1_000_000:
        args.rows = 20_000
    if args.out is None:
        args.out = (
            ROOT / "var" / "bench" / "BENCH_ANCHORING.quick.md"
            if args.quick
            else ROOT / "docs" / "BENCH_ANCHORING.md"
        )
    command = shlex.join(
        [".venv/bin/python", "scripts/bench_anchoring.py", *(argv or sys.argv[1:])]
    )
    work = Path(tempfile.mkdtemp(prefix="xt-bench-anchor-"))
    spec = NodeSpec(engine=args.engine, port=free_port(), state_dir=work / "node")
    try:
        data = work / "records.csv"
        write_csv(data, args.rows)
        size = data.stat().st_size
        with node_running(spec):
            w3 = connect(spec.rpc_url)
            founders = local_founders()
            deployment = deploy(
                w3, founders, deployer=dev_account(0), manifest_path=work / "m.json"
            )
            client = ChainClient(w3, deployment.addresses)
            registered = client.transact(
                "DatasetRegistry",
                "registerDataset",
                code_hash("BENCH-DIBAO"),
                keccak(text="bench"),
                sender=dev_account(2),
            )
            # The id derives from the owner (dev account 2's department) and the code.
            ds = bytes(registered.event("DatasetRegistered")["datasetId"])
            engine = create_db_engine(f"sqlite:///{work / 'bench.db'}")
            anchorer = Anchorer(client, engine, dev_account(2))
            baseline = peak_rss_mib()
            t0 = time.perf_counter()
            prepared = prepare_path(data, ds)
            t1 = time.perf_counter()
            batch = anchorer.persist(prepared)
            t2 = time.perf_counter()
            batch = anchorer.submit(batch.id)
            t3 = time.perf_counter()
            assert batch.status == "confirmed"
            m = machine()
            lines = [
                "# End-to-end anchoring benchmark",
                "",
                f"- Machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; "
                f"Merkle backend `{merkle.backend()}`; engine {args.engine}; SQLite leaf store",
                f"- Command: `{command}`",
                "",
                f"{args.rows:,} CSV rows ({size / 2**20:.0f} MiB) to a confirmed anchor:",
                "",
                "| stage | seconds |",
                "|---|---:|",
                f"| read + canonical JSON + SHA-256 + salts + leaf hashes + tree | {t1 - t0:.2f} |",
                f"| persist batch, tree and {args.rows:,} leaf rows (SQLite) | {t2 - t1:.2f} |",
                f"| sign, send, mine, confirm (gas {anchorer.client.w3.eth.get_transaction_receipt(batch.tx_hash)['gasUsed']:,}) | {t3 - t2:.2f} |",
                f"| **total** | **{t3 - t0:.2f}** |",
                "",
                f"Peak memory (max RSS of the process): {peak_rss_mib():.0f} MiB (before the run: {baseline:.0f} MiB).",
                "",
            ]
            text = "\n".join(lines)
            print(text)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
            write_results(
                "anchoring",
                {
                    "rows": args.rows,
                    "engine": args.engine,
                    "csv_mib": size / 2**20,
                    "prepare_s": t1 - t0,
                    "persist_s": t2 - t1,
                    "confirm_s": t3 - t2,
                    "total_s": t3 - t0,
                    "peak_rss_mib": peak_rss_mib(),
                },
                quick=args.quick,
                command=command,
            )
            return 0
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
