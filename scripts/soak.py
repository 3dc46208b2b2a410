"""Bounded soak: steady verify and anchor traffic against ``xietong serve`` for a while, then
check that nothing went wrong.

    .venv/bin/python scripts/soak.py [--seconds 300] [--database sqlite|postgresql]
        [--verify-rate 100] [--anchor-rate 20] [--workers 1] [--out var/soak/soak.json]

World: a fresh Anvil node, the local founders deployed, the demo played and 1,000 file leaves
anchored and indexed (as for the API benchmark); ``xietong serve`` with its indexer and
anchoring batcher running (batches sealed every 2 s). Traffic, from this process:

- verify: ``GET /v1/verify?hash=…&with_proof=true`` at ``--verify-rate`` per second, rotating
  among the anchored hashes (those of the world and, once confirmed, the soak's own);
- anchor: ``POST /v1/anchors`` of ``--anchor-rate`` fresh hashes per second (in requests of
  up to 10), each batch followed until it is ``confirmed``.

Passes (exit 0) when: no request failed (any status other than the one expected, or a socket
error), the server's memory stayed flat (resident set of its process tree in the last quarter
of the run at most ``--max-growth-mib`` above the second quarter's), and every hash the soak
submitted ends up anchored exactly once: answered ``anchored`` with a proof bundle that
``check_bundle_offline`` accepts and the chain confirms (``verify_bundle``). Figures go to
``--out`` as JSON; one clear sentence on stderr when it fails.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import BenchError, machine, rss_mib, write_json  # noqa: E402
from bench.serving import (  # noqa: E402
    Server,
    World,
    build_world,
    process_tree,
    tear_down,
)

from ledger.chain.client import connect  # noqa: E402
from ledger.chain.node import NodeSpec, free_port, start_node  # noqa: E402
from ledger.demo import DIBAO  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.settings import trust_file_beside  # noqa: E402
from ledger.trust import load_trust  # noqa: E402
from ledger.verify import check_bundle_offline, verify_bundle  # noqa: E402

DEFAULT_OUT = ROOT / "var" / "soak" / "soak.json"
WORLD_LEAVES = 1_000
PER_REQUEST = 10  # hashes per POST /v1/anchors
CONFIRM_TIMEOUT = 120.0  # seconds after the traffic for the last batches to confirm


class Soak:
    def __init__(self, server: Server, world: World, args: argparse.Namespace) -> None:
        self.server, self.world, self.args = server, world, args
        self.verifiable = list(world.hashes)
        self.submitted: dict[str, str] = {}  # content hash -> batch id
        self.batches: dict[str, str] = {}  # batch id -> last status seen
        self.errors: list[str] = []
        self.counts = {"verify": 0, "anchor": 0, "poll": 0}
        self.latencies: list[float] = []
        self.memory: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self._serial = 0

    def error(self, what: str) -> None:
        if len(self.errors) < 50:
            self.errors.append(what)
        else:
            self.errors[-1] = f"... and more ({what})"

    async def paced(self, rate: float, action: Any, until: float) -> None:
        """Call ``action`` ``rate`` times per second (skipping, never piling up, when late)."""
        if rate <= 0:
            return
        interval, next_at = 1.0 / rate, time.monotonic()
        while next_at < until:
            await action()
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()

    async def verify_once(self, http: httpx.AsyncClient) -> None:
        content = self.verifiable[self.counts["verify"] % len(self.verifiable)]
        self.counts["verify"] += 1
        began = time.perf_counter()
        try:
            response = await http.get("/v1/verify", params={"hash": content, "with_proof": "true"})
        except httpx.HTTPError as exc:
            self.error(f"verify {content}: {type(exc).__name__}")
            return
        self.latencies.append(time.perf_counter() - began)
        if response.status_code != 200 or not response.json().get("anchored"):
            self.error(f"verify {content}: HTTP {response.status_code} {response.text[:200]}")

    async def anchor_once(self, http: httpx.AsyncClient) -> None:
        leaves = []
        for _ in range(PER_REQUEST):
            self._serial += 1
            digest = hashlib.sha256(f"soak {time.time_ns()} {self._serial}".encode()).hexdigest()
            leaves.append({"content_hash": "0x" + digest, "name": f"soak/{self._serial:07d}.pdf"})
        self.counts["anchor"] += 1
        try:
            response = await http.post("/v1/anchors", json={"dataset": DIBAO, "leaves": leaves})
        except httpx.HTTPError as exc:
            self.error(f"anchor: {type(exc).__name__}")
            return
        if response.status_code != 202:
            self.error(f"anchor: HTTP {response.status_code} {response.text[:200]}")
            return
        batch = response.json()["batch_id"]
        self.batches.setdefault(batch, "collecting")
        for leaf in leaves:
            self.submitted[leaf["content_hash"]] = batch

    async def poll_batches(self, http: httpx.AsyncClient) -> None:
        """Follow every open batch; confirmed hashes join the verify rotation."""
        for batch, status in list(self.batches.items()):
            if status in ("confirmed", "failed"):
                continue
            self.counts["poll"] += 1
            try:
                response = await http.get(f"/v1/anchors/{batch}")
            except httpx.HTTPError as exc:
                self.error(f"poll {batch}: {type(exc).__name__}")
                continue
            if response.status_code != 200:
                self.error(f"poll {batch}: HTTP {response.status_code} {response.text[:200]}")
                continue
            status = response.json()["status"]
            self.batches[batch] = status
            if status == "failed":
                self.error(f"batch {batch} failed: {response.json().get('error')}")
            if status == "confirmed":
                self.verifiable += [h for h, b in self.submitted.items() if b == batch]

    async def sample_memory(self, began: float, until: float) -> None:
        assert self.server.process is not None
        while time.monotonic() < until:
            self.memory.append(
                (time.monotonic() - began, rss_mib(process_tree(self.server.process.pid)))
            )
            await asyncio.sleep(1.0)

    async def run(self) -> None:
        args = self.args
        headers = {"X-API-Key": self.world.key}
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(
            base_url=self.server.url, headers=headers, timeout=30, limits=limits
        ) as http:
            began = time.monotonic()
            until = began + args.seconds

            async def poller() -> None:
                while time.monotonic() < until:
                    await self.poll_batches(http)
                    await asyncio.sleep(1.0)

            await asyncio.gather(
                self.paced(args.verify_rate, lambda: self.verify_once(http), until),
                self.paced(args.anchor_rate / PER_REQUEST, lambda: self.anchor_once(http), until),
                self.sample_memory(began, until),
                poller(),
            )
            deadline = time.monotonic() + CONFIRM_TIMEOUT
            while time.monotonic() < deadline and any(
                s not in ("confirmed", "failed") for s in self.batches.values()
            ):
                await self.poll_batches(http)
                await asyncio.sleep(1.0)
            open_batches = [b for b, s in self.batches.items() if s not in ("confirmed", "failed")]
            if open_batches:
                self.error(
                    f"{len(open_batches)} batch(es) not confirmed {CONFIRM_TIMEOUT:.0f} s after "
                    f"the traffic stopped: {', '.join(open_batches[:3])}"
                )

    def check_every_submitted_hash(self) -> dict[str, int]:
        """Each hash the soak submitted: anchored once, its bundle good offline and on chain."""
        w3 = connect(self.world.rpc_url)
        # The consortium trust file `deploy` wrote beside the world's manifest.
        trust = load_trust(trust_file_beside(self.world.manifest))
        roots: dict[str, int] = {}
        checked = 0
        with httpx.Client(
            base_url=self.server.url, headers={"X-API-Key": self.world.key}, timeout=30
        ) as http:
            for content, batch in self.submitted.items():
                response = http.get("/v1/verify", params={"hash": content, "with_proof": "true"})
                body = response.json() if response.status_code == 200 else {}
                matches = body.get("matches", [])
                if len(matches) != 1 or not body.get("anchored"):
                    self.error(
                        f"{content} (batch {batch}): {len(matches)} match(es), "
                        f"HTTP {response.status_code}"
                    )
                    continue
                bundle = matches[0].get("proof")
                try:
                    check_bundle_offline(bundle)
                    verify_bundle(bundle, w3, trust=trust)
                except LedgerError as exc:
                    self.error(f"{content}: the proof bundle does not verify ({exc})")
                    continue
                roots[matches[0]["version"]["root"]] = (
                    roots.get(matches[0]["version"]["root"], 0) + 1
                )
                checked += 1
        return {"provable": checked, "roots": len(roots)}


def memory_growth(samples: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(second-quarter median, last-quarter median, growth) of the RSS samples, in MiB."""
    values = [mib for _, mib in samples]
    if len(values) < 8:
        return (values[0], values[-1], values[-1] - values[0]) if values else (0.0, 0.0, 0.0)
    q = len(values) // 4
    early, late = statistics.median(values[q : 2 * q]), statistics.median(values[3 * q :])
    return early, late, late - early


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--verify-rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--anchor-rate", type=float, default=20.0, help="hashes per second")
    parser.add_argument("--max-growth-mib", type=float, default=25.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.workers < 1:
        parser.error("--seconds must be positive and --workers at least 1.")
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="xt-soak-"))
    spec = NodeSpec(engine="anvil", port=free_port(), state_dir=work / "node")
    databases: list[str] = []
    server: Server | None = None
    result: dict[str, Any] = {}
    try:
        start_node(spec)
        world = build_world(args.database, spec, work, WORLD_LEAVES, databases, scope="anchor")
        server = Server(
            world,
            args.workers,
            work,
            env={"XIETONG_ANCHOR_BATCH_SECONDS": "2", "XIETONG_INDEX_INTERVAL": "0.5"},
        )
        server.start()
        soak = Soak(server, world, args)
        print(
            f"soak: {args.seconds:.0f} s of {args.verify_rate:g} verifications/s and "
            f"{args.anchor_rate:g} anchored hashes/s against {server.url} ({args.database})",
            flush=True,
        )
        asyncio.run(soak.run())
        server.check_alive()
        proven = soak.check_every_submitted_hash()
        early, late, growth = memory_growth(soak.memory)
        latencies = sorted(soak.latencies)
        result = {
            "seconds": args.seconds,
            "database": args.database,
            "workers": args.workers,
            "requests": soak.counts,
            "verify_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
            "verify_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2)
            if latencies
            else None,
            "submitted_hashes": len(soak.submitted),
            "batches": len(soak.batches),
            **proven,
            "memory_mib": {
                "second_quarter": round(early, 1),
                "last_quarter": round(late, 1),
                "growth": round(growth, 1),
                "samples": len(soak.memory),
            },
            "errors": soak.errors,
        }
        if growth > args.max_growth_mib:
            soak.error(
                f"the server's memory grew by {growth:.0f} MiB ({early:.0f} → {late:.0f} MiB), "
                f"more than {args.max_growth_mib:g} MiB"
            )
        if not soak.submitted:
            soak.error("no hash was submitted")
        result["errors"] = soak.errors
        result["passed"] = not soak.errors
    except BenchError as exc:
        result = {"passed": False, "errors": [str(exc)]}
    finally:
        tear_down(server, spec, databases, work)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = machine()
    write_json(args.out, result)
    shown = {k: v for k, v in result.items() if k not in ("machine", "errors")}
    print(json.dumps(shown, ensure_ascii=False))
    if not result["passed"]:
        print(
            f"soak failed: {result['errors'][0]}"
            + (
                f" (and {len(result['errors']) - 1} more, see {args.out})"
                if len(result["errors"]) > 1
                else ""
            ),
            file=sys.stderr,
        )
        return 1
    print(f"soak passed; figures in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
