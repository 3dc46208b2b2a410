"""Consortium network benchmark: the anchoring workload on 4 geth Clique validators.

    .venv/bin/python scripts/bench_network.py [--quick] [--n 1000] [--sequential 30]
                                              [--samples 12] [--period 2] [--out FILE]

It plans, starts and stops a network of its own (``ledger.chain.network``): one geth v1.13.15
Clique validator per department, the three of ``scripts/founders.local.yaml`` and a fourth
(杭州市医疗保障局), all four genesis signers, on loopback addresses of its own (127.0.0.91 to
.94), free ports and a temporary home; it deploys the four contracts and measures, against the
first department's validator (the one its gateway would use):

- start-up: from spawning the first validator to all four answering JSON-RPC, to every one
  connected to the three others, and to the first block sealed; the time to deploy;
- pipelined anchoring: ``n`` anchors signed in advance with explicit nonces, all sent without
  waiting, then every receipt awaited: anchors/s the network sustains (bound by the block
  gas limit and the block period);
- sequential anchoring, the gateway's way: ``DatasetRegistry.anchor`` one after the other
  through ``ChainClient.transact``: anchors/s and latency p50/p99;
- time to N confirmations: an anchor sent at a spread of moments within the block period, the
  clock stopped when the gateway's validator holds it at depth N (the block itself counts
  one) and when every validator does, for N = 1, 3 (⌊4/2⌋+1: a majority of the 4 signers
  built on it) and 5 (2⌊4/2⌋+1, what docs/CONSORTIUM.md recommends for 4 signers);
- each geth's resident memory idle after start and after the workload, its CPU time idle
  (Clique seals a block every period, empty or not) and per anchor.

The workload is ``scripts/bench_nodes.py``'s (same contract call, same signer, same
client code), so the figures stand beside Hardhat's and Anvil's from ``var/bench/nodes.json``.

``--quick`` (block period 1 s, n = 20, one sample; about half a minute) writes
``var/bench/BENCH_NETWORK.quick.md`` and ``var/bench/network.quick.json``; a full run writes
``docs/BENCH_NETWORK.md`` and ``var/bench/network.json``. Every validator started here is
stopped, also on failure, and the run is bounded by ``--time-limit``.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import requests
from bench.common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    BenchError,
    local_founders,
    machine,
    shown,
    write_results,
)
from bench_nodes import Fixture, Rpc, node_cpu_seconds, node_rss_mib, percentile, sequential
from web3 import Web3
from web3.exceptions import Web3RPCError

from ledger.chain.client import ChainClient, connect
from ledger.chain.deploy import Founder, FoundersFile, deploy
from ledger.chain.network import (
    DEFAULT_PERIOD,
    Network,
    geth_binary,
    init_network,
    member_status,
    plan_network,
    start_network,
    stop_network,
)
from ledger.chain.node import free_port
from ledger.errors import LedgerError
from ledger.ids import code_hash
from ledger.keys import dev_account

DEFAULT_OUT = PROJECT_ROOT / "docs" / "BENCH_NETWORK.md"
QUICK_OUT = RESULTS_DIR / "BENCH_NETWORK.quick.md"
HOSTS = [f"127.0.0.{91 + i}" for i in range(4)]
#: The fourth founding department (its operator and signer are development accounts no other
#: founder of scripts/founders.local.yaml uses).
FOURTH = Founder(
    code="11330100MB1A00009X",
    name="杭州市医疗保障局",
    operator=dev_account(11).address,
    signer=dev_account(18).address,
)
DEPTHS = (1, 3, 5)  # 1; ⌊4/2⌋+1, a majority of 4 signers; 2⌊4/2⌋+1, the recommended depth
WARMUP = 2  # sequential anchors before any timed run; not counted
POLL = 0.02  # seconds between polls while a clock runs


@dataclass(frozen=True)
class Plan:
    period: int
    n: int  # pipelined anchors
    sequential_n: int
    samples: int  # confirmation samples
    idle_s: float  # idle window for the CPU rate


# --------------------------------------------------------------------------- helpers


def founders() -> FoundersFile:
    """The local consortium and a fourth department: four founders, four signers."""
    local = local_founders()
    return FoundersFile(
        departments=(*local.departments, FOURTH),
        auditors=local.auditors,
        threshold_bps=local.threshold_bps,
        proposal_lifetime=local.proposal_lifetime,
    )


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise BenchError in the main thread once ``seconds`` have passed (SIGALRM)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise BenchError(f"the benchmark did not finish within {seconds:.0f} s (--time-limit).")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_until(check: Callable[[], Any], *, within: float, what: str) -> Any:
    """Poll ``check`` every POLL seconds until truthy; BenchError naming ``what`` after ``within``."""
    deadline = time.monotonic() + within
    while True:
        try:
            found = check()
        except (requests.RequestException, ValueError, LedgerError, BenchError):
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise BenchError(f"not within {within:.0f} s: {what}.")
        time.sleep(POLL)


def geth_version() -> str:
    """``geth 1.13.15-stable (go1.x)`` from ``geth version``."""
    try:
        done = subprocess.run(
            [str(geth_binary()), "version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "geth (version unknown)"
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    version = fields.get("Version", "").strip() or "(version unknown)"
    go = fields.get("Go Version", "").strip()
    return f"geth {version}" + (f" ({go})" if go else "")


def new_block(rpc: Rpc, *, within: float) -> int:
    """Wait until the node at ``rpc`` has a head newer than now; that head."""
    top = _hex(rpc("eth_blockNumber"))

    def newer() -> int | None:
        head = _hex(rpc("eth_blockNumber"))
        return head if head > top else None

    return int(wait_until(newer, within=within, what="a new block"))


def pids(network: Network) -> dict[str, int]:
    found = {}
    for member in network.members:
        pid = member_status(network, member).pid
        if pid is None:
            raise BenchError(f"{member.code}'s validator is not running.")
        found[member.code] = pid
    return found


def cpu(pid_of: dict[str, int]) -> dict[str, float]:
    return {code: node_cpu_seconds(pid) for code, pid in pid_of.items()}


def rss(pid_of: dict[str, int]) -> dict[str, float]:
    return {code: node_rss_mib(pid) for code, pid in pid_of.items()}


def _hex(value: Any) -> int:
    return int(str(value), 16)


@dataclass
class Signing:
    """Pre-signs anchors with explicit nonces: fixed gas and fees, no round trip per anchor."""

    fixture: Fixture
    rpc: Rpc
    gas: int
    max_fee: int
    priority: int = 10**9

    @classmethod
    def prepare(cls, fixture: Fixture, rpc: Rpc) -> Signing:
        registry = fixture.client.contract("DatasetRegistry")
        sample = registry.encode_abi(
            "anchor", args=[fixture.dataset, fixture.next_root(), 1, fixture.metadata, []]
        )
        call = {"from": fixture.signer.address, "to": registry.address, "data": sample}
        estimate = _hex(rpc("eth_estimateGas", call))
        base_fee = _hex(rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
        # Room for the base fee to grow 12.5 % a full block for several blocks.
        return cls(fixture, rpc, estimate + 20_000, 4 * base_fee + 10**9)

    def nonce(self) -> int:
        return _hex(self.rpc("eth_getTransactionCount", self.fixture.signer.address, "pending"))

    def anchor(self, nonce: int) -> tuple[str, str]:
        """(raw transaction, its hash) of a fresh anchor with ``nonce``."""
        f = self.fixture
        registry = f.client.contract("DatasetRegistry")
        data = registry.encode_abi("anchor", args=[f.dataset, f.next_root(), 1, f.metadata, []])
        tx = {
            "to": registry.address,
            "data": data,
            "value": 0,
            "nonce": nonce,
            "gas": self.gas,
            "chainId": f.client.chain_id,
            "type": 2,
            "maxFeePerGas": self.max_fee + self.priority,
            "maxPriorityFeePerGas": self.priority,
        }
        signed = f.signer.sign_transaction(tx)
        return "0x" + bytes(signed.raw_transaction).hex(), signed.hash.to_0x_hex()


# --------------------------------------------------------------------------- workloads


def start(network: Network, result: dict[str, Any]) -> None:
    """Start the validators as ``xietong network up`` does (``start_network``: all spawned,
    each connected with the others and holding their chain, then all begin sealing) and time
    it, then the first block."""
    began = time.perf_counter()
    start_network(network)
    result["startup_sealing_s"] = time.perf_counter() - began
    first = Rpc(network.members[0].rpc_url)
    try:
        wait_until(lambda: _hex(first("eth_blockNumber")) >= 1, within=60, what="a first block")
        result["startup_first_block_s"] = time.perf_counter() - began
    finally:
        first.close()


def pipelined(signing: Signing, n: int, period: int) -> dict[str, Any]:
    """Sign ``n`` anchors, send all to the gateway's validator, await the last receipt."""
    rpc = signing.rpc
    nonce = signing.nonce()
    t_sign = time.perf_counter()
    raws = [signing.anchor(nonce + i) for i in range(n)]
    signing_s = time.perf_counter() - t_sign
    started = time.perf_counter()
    for raw, _ in raws:
        rpc("eth_sendRawTransaction", raw)
    sent_s = time.perf_counter() - started
    last = raws[-1][1]
    limit = 60.0 + n * 0.05 + 20 * period
    while rpc("eth_getTransactionReceipt", last) is None:
        if time.perf_counter() - started > limit:
            raise BenchError(f"the last pipelined anchor was not sealed within {limit:.0f} s.")
        time.sleep(POLL)
    elapsed = time.perf_counter() - started
    blocks: dict[int, int] = {}
    gas = []
    for _, tx_hash in raws:
        receipt = rpc("eth_getTransactionReceipt", tx_hash)
        if receipt is None or _hex(receipt["status"]) != 1:
            raise BenchError(f"pipelined anchor {tx_hash} was not sealed successfully.")
        number = _hex(receipt["blockNumber"])
        blocks[number] = blocks.get(number, 0) + 1
        gas.append(_hex(receipt["gasUsed"]))
    return {
        "n": n,
        "elapsed_s": elapsed,
        "tx_per_s": n / elapsed,
        "send_s": sent_s,
        "sign_ms_per_tx": signing_s / n * 1000,
        "blocks": [min(blocks), max(blocks)],
        "anchors_per_block": [blocks[b] for b in sorted(blocks)],
        "gas_per_anchor": statistics.median(gas),
    }


def confirmations(
    network: Network, signing: Signing, samples: int, period: int
) -> list[dict[str, Any]]:
    """Per sample: seconds from sending an anchor to depth N on the gateway's validator and
    on every validator, for N in DEPTHS. Each is sent a fraction (i + 0.5) / samples of the
    period after the gateway's validator saw a new block, so the moments spread evenly."""
    first, *others = network.members
    rpcs = {m.code: Rpc(m.rpc_url) for m in network.members}
    own = rpcs[first.code]
    deepest = max(DEPTHS)
    limit = 30.0 + (deepest + 3) * period * 3
    out = []
    try:
        for i in range(samples):
            raw, tx_hash = signing.anchor(signing.nonce())
            new_block(own, within=10 * period + 30)
            time.sleep(period * (i + 0.5) / samples)
            sent = time.perf_counter()
            own("eth_sendRawTransaction", raw)
            block = block_hash = None
            seen: dict[str, float] = {}
            while len(seen) < 2 * len(DEPTHS):
                now = time.perf_counter()
                if now - sent > limit:
                    raise BenchError(f"anchor {tx_hash} not {deepest} deep within {limit:.0f} s.")
                if block is None:
                    receipt = own("eth_getTransactionReceipt", tx_hash)
                    if receipt is not None:
                        block, block_hash = _hex(receipt["blockNumber"]), receipt["blockHash"]
                if block is not None:
                    heads = {m.code: _hex(rpcs[m.code]("eth_blockNumber")) for m in network.members}
                    for depth in DEPTHS:
                        if f"own_{depth}" not in seen and heads[first.code] >= block + depth - 1:
                            seen[f"own_{depth}"] = now - sent
                        if f"all_{depth}" not in seen and min(heads.values()) >= block + depth - 1:
                            seen[f"all_{depth}"] = now - sent
                time.sleep(POLL)
            # Still the same block, on every validator: the anchor did not move in a reorg.
            again = own("eth_getTransactionReceipt", tx_hash)
            hashes = {
                rpcs[m.code]("eth_getBlockByNumber", hex(int(block or 0)), False)["hash"]
                for m in (first, *others)
            }
            moved = again is None or again["blockHash"] != block_hash or len(hashes) != 1
            out.append({"block": block, "moved": moved, **seen})
    finally:
        for r in rpcs.values():
            r.close()
    return out


def sealing(network: Network, last: int) -> dict[str, Any]:
    """Which signer sealed each block 1..last, and how many were out of turn (difficulty 1)."""
    rpc = Rpc(network.members[0].rpc_url)
    by_signer = {m.signer: 0 for m in network.members}
    out_of_turn = 0
    try:
        first_ts = _hex(rpc("eth_getBlockByNumber", "0x1", False)["timestamp"])
        last_ts = _hex(rpc("eth_getBlockByNumber", hex(last), False)["timestamp"])
        for number in range(1, last + 1):
            signer = Web3.to_checksum_address(rpc("clique_getSigner", hex(number)))
            by_signer[signer] = by_signer.get(signer, 0) + 1
            header = rpc("eth_getBlockByNumber", hex(number), False)
            out_of_turn += _hex(header["difficulty"]) == 1
    finally:
        rpc.close()
    return {
        "blocks": last,
        "by_signer": by_signer,
        "out_of_turn": out_of_turn,
        "mean_interval_s": (last_ts - first_ts) / (last - 1) if last > 1 else None,
    }


def measure(plan: Plan, home: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"geth": str(geth_binary().relative_to(PROJECT_ROOT))}
    chosen = founders()
    network = plan_network(
        chosen.departments,
        home=home / "network",
        period=plan.period,
        hosts=HOSTS,
        rpc_port=free_port(HOSTS[0]),
        p2p_port=free_port(HOSTS[0]),
        authrpc_port=free_port(HOSTS[0]),
    )
    init_network(network)
    result["members"] = [
        {"code": m.code, "name": m.name, "signer": m.signer, "rpc_url": m.rpc_url}
        for m in network.members
    ]
    try:
        start(network, result)
        pid_of = pids(network)
        gateway = network.members[0]
        w3 = connect(gateway.rpc_url)
        result["client_version"] = str(w3.client_version)
        result["gas_limit"] = int(w3.eth.get_block("latest")["gasLimit"])
        time.sleep(1)  # let start-up settle before the idle figures
        result["rss_idle_mib"] = rss(pid_of)
        cpu0, t0 = cpu(pid_of), time.perf_counter()
        time.sleep(plan.idle_s)
        idle = time.perf_counter() - t0
        result["cpu_idle_ms_per_s"] = {
            code: (spent - cpu0[code]) / idle * 1000 for code, spent in cpu(pid_of).items()
        }
        idle_rate = sum(result["cpu_idle_ms_per_s"].values()) / 1000  # CPU s per s, all four

        t0 = time.perf_counter()
        deployment = deploy(
            w3,
            chosen,
            deployer=dev_account(0),
            manifest_path=home / "deployment.json",
            clique_period=plan.period,
        )
        result["deploy_s"] = time.perf_counter() - t0
        result["deploy_blocks"] = [deployment.block_number, int(w3.eth.block_number)]
        client = ChainClient(w3, deployment.addresses, tx_timeout=30 + 20 * plan.period)
        signer = dev_account(2)  # operator of 杭州市民政局 (as in scripts/bench_nodes.py)
        registered = client.transact(
            "DatasetRegistry",
            "registerDataset",
            code_hash("BENCH-NETWORK"),
            Web3.keccak(text="bench"),
            sender=signer,
        )
        dataset = bytes(registered.event("DatasetRegistered")["datasetId"])
        fixture = Fixture(client, signer, dataset, Web3.keccak(text="bench-network-metadata"))
        sequential(fixture, client, WARMUP)

        def spent(before: dict[str, float], seconds: float, n: int) -> dict[str, Any]:
            """CPU of the four validators over a workload, per anchor; net of the idle rate."""
            now = cpu(pid_of)
            total = sum(now.values()) - sum(before.values())
            return {
                "node_cpu_ms_per_tx": {c: (now[c] - before[c]) / n * 1000 for c in now},
                "all_cpu_ms_per_tx": total / n * 1000,
                "all_cpu_net_ms_per_tx": max(0.0, total - idle_rate * seconds) / n * 1000,
            }

        rpc = Rpc(gateway.rpc_url)
        try:
            signing = Signing.prepare(fixture, rpc)
            before = cpu(pid_of)
            result["pipelined"] = pipelined(signing, plan.n, plan.period)
            result["pipelined"].update(spent(before, result["pipelined"]["elapsed_s"], plan.n))

            before, first_block = cpu(pid_of), int(w3.eth.block_number) + 1
            elapsed, latencies = sequential(fixture, client, plan.sequential_n)
            result["sequential"] = {
                "n": plan.sequential_n,
                "elapsed_s": elapsed,
                "tx_per_s": plan.sequential_n / elapsed,
                "p50_ms": percentile(latencies, 50) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "max_ms": max(latencies) * 1000,
                "blocks": [first_block, int(w3.eth.block_number)],
                **spent(before, elapsed, plan.sequential_n),
            }

            samples = confirmations(network, signing, plan.samples, plan.period)
        finally:
            rpc.close()
        result["confirmation_samples"] = samples
        result["confirmations"] = {
            f"{where}_{depth}": {
                "p50_s": statistics.median(s[f"{where}_{depth}"] for s in samples),
                "max_s": max(s[f"{where}_{depth}"] for s in samples),
                "min_s": min(s[f"{where}_{depth}"] for s in samples),
            }
            for where in ("own", "all")
            for depth in DEPTHS
        }
        result["moved"] = sum(1 for s in samples if s["moved"])
        result["rss_mib"] = rss(pid_of)
        result["sealing"] = sealing(network, int(w3.eth.block_number))
    except BaseException:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for member in network.members:  # what the validators said, before the home goes
            log = network.log_file(member).read_text(errors="replace").splitlines()
            said = [
                line for line in log if "interrupt" in line or "ERROR" in line or "Fatal" in line
            ]
            running = member_status(network, member).running
            print(
                f"{member.code}'s validator {'runs' if running else 'is not running'}; its log:",
                *(said[-3:] + log[-2:]),
                sep="\n  ",
                file=sys.stderr,
            )
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)  # --time-limit never cuts the stop short
        stop_network(network)
    return result


# --------------------------------------------------------------------------- report


def _nodes_figures(quick: bool) -> tuple[Path, dict[str, Any]] | None:
    """The Hardhat/Anvil figures of scripts/bench_nodes.py (quick: its quick run, if any)."""
    names = ["nodes.quick.json", "nodes.json"] if quick else ["nodes.json"]
    for name in names:
        path = RESULTS_DIR / name
        try:
            return path, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def _mean(values: dict[str, float]) -> float:
    return sum(values.values()) / len(values)


def _conf(r: dict[str, Any], key: str) -> str:
    c = r["confirmations"][key]
    return f"{c['p50_s']:.1f} s ({c['min_s']:.1f}–{c['max_s']:.1f})"


def report(results: dict[str, Any], command: str, wall: float, *, quick: bool) -> str:
    m = machine()
    r = results["network"]
    p, s = r["pipelined"], r["sequential"]
    period, n_members = results["period"], len(r["members"])
    ceiling = r["gas_limit"] // p["gas_per_anchor"] / period
    rows = [
        ("Engine (`web3_clientVersion`)", f"`{r['client_version']}`"),
        (
            "Start-up: spawn the 4 validators → each answers JSON-RPC, is connected with the 3 "
            "others and holds their chain; sealing begins",
            f"**{r['startup_sealing_s']:.2f} s**",
        ),
        ("— → first block sealed", f"{r['startup_first_block_s']:.2f} s"),
        (
            "Deploy the four contracts (`ledger.chain.deploy.deploy`, each transaction waited for)",
            f"{r['deploy_s']:.1f} s (blocks {r['deploy_blocks'][0]}–{r['deploy_blocks'][1]})",
        ),
        (
            f"**Pipelined**: pre-signed, send all, await all (n = {p['n']:,})",
            f"**{p['tx_per_s']:,.0f} anchors/s** ({p['elapsed_s']:.1f} s; "
            f"{len(p['anchors_per_block'])} block{'s' if len(p['anchors_per_block']) > 1 else ''} holding "
            f"{' + '.join(str(x) for x in p['anchors_per_block'])})",
        ),
        (
            "— ceiling: ⌊gas limit / gas per anchor⌋ per period",
            f"{r['gas_limit']:,} / {p['gas_per_anchor']:,.0f} per {period} s = {ceiling:,.0f} anchors/s",
        ),
        (
            "— validators' CPU per anchor, all 4 (net of idle sealing)",
            f"{p['all_cpu_ms_per_tx']:.1f} ms ({p['all_cpu_net_ms_per_tx']:.1f} ms)",
        ),
        (
            f"**Sequential**, `ChainClient.transact` per anchor (n = {s['n']:,})",
            f"**{s['tx_per_s']:.2f} anchors/s**",
        ),
        (
            "— latency p50 / p99 / max",
            f"{s['p50_ms'] / 1000:.2f} / {s['p99_ms'] / 1000:.2f} / {s['max_ms'] / 1000:.2f} s",
        ),
        (
            "— validators' CPU per anchor, all 4 (net of idle sealing)",
            f"{s['all_cpu_ms_per_tx']:.0f} ms ({s['all_cpu_net_ms_per_tx']:.1f} ms)",
        ),
    ]
    n_samples = len(r["confirmation_samples"])
    for depth, why in (
        (1, "in a block"),
        (3, "⌊N/2⌋+1: a majority of signers built on it"),
        (5, "2⌊N/2⌋+1: recommended for N = 4"),
    ):
        rows.append(
            (
                f"**{depth} confirmation{'s' if depth > 1 else ''}** ({why}): the gateway's "
                f"validator / every validator, median (min–max) of {n_samples}",
                f"**{_conf(r, f'own_{depth}')}** / {_conf(r, f'all_{depth}')}",
            )
        )
    rows += [
        ("Anchors moved by a reorganisation while measured", f"{r['moved']} of {n_samples}"),
        (
            "Memory (RSS) per validator, idle after start-up: mean (all 4)",
            f"{_mean(r['rss_idle_mib']):.0f} MiB ({sum(r['rss_idle_mib'].values()):.0f} MiB)",
        ),
        (
            "Memory (RSS) per validator after the workload: mean (all 4)",
            f"**{_mean(r['rss_mib']):.0f} MiB** ({sum(r['rss_mib'].values()):.0f} MiB)",
        ),
        (
            "CPU per validator while idle (sealing empty blocks)",
            f"{_mean(r['cpu_idle_ms_per_s']):.1f} ms per s",
        ),
        (
            "Blocks: sealed / out of turn / mean interval",
            f"{r['sealing']['blocks']:,} / {r['sealing']['out_of_turn']:,} / "
            f"{r['sealing']['mean_interval_s']:.2f} s",
        ),
    ]
    per_member = [
        "| department | signer | RSS idle | RSS after | CPU idle | CPU per pipelined anchor "
        "| CPU per sequential anchor | blocks sealed |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for member in r["members"]:
        c = member["code"]
        per_member.append(
            f"| {member['name']} (`{c}`) | `{member['signer']}` | {r['rss_idle_mib'][c]:.0f} MiB "
            f"| {r['rss_mib'][c]:.0f} MiB | {r['cpu_idle_ms_per_s'][c]:.1f} ms/s "
            f"| {p['node_cpu_ms_per_tx'][c]:.2f} ms | {s['node_cpu_ms_per_tx'][c]:.0f} ms "
            f"| {r['sealing']['by_signer'].get(member['signer'], 0)} |"
        )
    lines = [
        "# Consortium network: 4 geth Clique validators under the anchoring workload",
        "",
        "Generated by `scripts/bench_network.py`; do not edit by hand. The network is started by "
        "the script on one machine, measured and stopped.",
        "",
        f"- Command: `{command}` (wall time {wall:.0f} s)",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: {m['cores']} CPUs, {m['cpu']}, {m['memory']} RAM, {m['os']}; "
        f"Python {m['python']}; load average at the end {m['load_average']} (the four "
        "validators, the client and anything else running share these CPUs)",
        f"- Engine: {results['geth_version']} (`{r['geth']}`, built by `make geth`), "
        f"Clique proof of authority, block period {period} s, gas limit {r['gas_limit']:,}",
        f"- Network: {n_members} validators, one per founding department (the three of "
        "`scripts/founders.local.yaml` and 杭州市医疗保障局), all genesis signers, each on its own "
        "loopback address (127.0.0.91–94): no network latency between them, unlike departments "
        "on separate machines. Transactions go to the first department's validator, the one its "
        "gateway uses.",
        "- Workload: `DatasetRegistry.anchor(datasetId, root, 1, metadataHash, [])` with a fresh "
        f"root each time ({p['gas_per_anchor']:,.0f} gas) from one department operator (a "
        f"development key), as in [BENCH_NODES.md](BENCH_NODES.md); {results['warmup']} untimed "
        "warm-up anchors first. Order: pipelined, sequential, confirmations.",
        "",
        "## Result",
        "",
        "| | network |",
        "|---|---:|",
        *(f"| {label} | {cell} |" for label, cell in rows),
        "",
        "Per validator:",
        "",
        *per_member,
        "",
        *comparison(results, quick=quick),
        *findings(results),
        *NOTES,
    ]
    return "\n".join(lines) + "\n"


def comparison(results: dict[str, Any], *, quick: bool) -> list[str]:
    """The network beside Hardhat and Anvil, from the node engines benchmark's figures."""
    r = results["network"]
    p, s = r["pipelined"], r["sequential"]
    found = _nodes_figures(quick)
    head = ["## Beside the development nodes", ""]
    if found is None:
        return [
            *head,
            "No figures of the node engines benchmark in `var/bench/nodes.json`: run "
            "`.venv/bin/python scripts/bench_nodes.py` (or `make bench`), or see "
            "[BENCH_NODES.md](BENCH_NODES.md) for Hardhat's and Anvil's.",
            "",
        ]
    path, doc = found
    nodes = doc.get("results", {})
    engines = [e for e in ("hardhat", "anvil") if e in nodes]
    try:
        cols: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
            ("Start-up to answering", lambda e: f"{e['startup_s']:.2f} s"),
            ("Deploy the four contracts", lambda e: f"{e['deploy_s']:.2f} s"),
            (
                "Pipelined anchors/s (fresh chain)",
                lambda e: f"{e['pipelined_fresh_tx_per_s']:,.0f}",
            ),
            ("Sequential anchors/s", lambda e: f"{e['sequential_tx_per_s']:,.0f}"),
            (
                "Sequential latency p50 / p99",
                lambda e: f"{e['sequential_p50_ms']:.0f} / {e['sequential_p99_ms']:.0f} ms",
            ),
            ("Time to 1 confirmation", lambda e: "the latency above (automine)"),
            (
                "Time to 3 / 5 confirmations",
                lambda e: "– (one author; a block only per transaction)",
            ),
            (
                "Node CPU per pipelined anchor",
                lambda e: f"{e['pipelined_fresh_node_cpu_ms_per_tx']:.1f} ms",
            ),
            (
                "Node memory idle / after the workload",
                lambda e: f"{e['rss_idle_mib']:.0f} / {e['rss_mib']:.0f} MiB",
            ),
        ]
        ours = [
            f"{r['startup_sealing_s']:.2f} s (all 4 connected, sealing)",
            f"{r['deploy_s']:.1f} s",
            f"{p['tx_per_s']:,.0f}",
            f"{s['tx_per_s']:.2f}",
            f"{s['p50_ms']:,.0f} / {s['p99_ms']:,.0f} ms",
            f"{r['confirmations']['own_1']['p50_s']:.1f} s (median)",
            f"{r['confirmations']['own_3']['p50_s']:.1f} / "
            f"{r['confirmations']['own_5']['p50_s']:.1f} s (median)",
            f"{p['all_cpu_ms_per_tx']:.1f} ms (all 4)",
            f"{_mean(r['rss_idle_mib']):.0f} / {_mean(r['rss_mib']):.0f} MiB each, "
            f"{sum(r['rss_mib'].values()):.0f} MiB for 4",
        ]
        table = [
            "| | " + " | ".join([*engines, "geth network (4 validators)"]) + " |",
            "|---|" + "---:|" * (len(engines) + 1),
        ]
        for (label, cell), mine in zip(cols, ours, strict=True):
            table.append(
                f"| {label} | " + " | ".join([*(cell(nodes[e]) for e in engines), mine]) + " |"
            )
    except (KeyError, TypeError, ValueError) as exc:
        return [
            *head,
            f"The figures in `{shown(path)}` cannot be read ({exc!r}): see "
            "[BENCH_NODES.md](BENCH_NODES.md) for Hardhat's and Anvil's.",
            "",
        ]
    return [
        *head,
        f"Hardhat and Anvil from `{shown(path)}` (`{doc.get('command')}`, "
        f"measured {doc.get('measured_at')} on the machine it names; "
        f"{nodes.get('n', '?')} anchors per workload): one process each, automining one block "
        "per transaction. See [BENCH_NODES.md](BENCH_NODES.md).",
        "",
        *table,
        "",
    ]


def findings(results: dict[str, Any]) -> list[str]:
    """The reading of the table, from its own numbers."""
    r = results["network"]
    p, s = r["pipelined"], r["sequential"]
    period = results["period"]
    per_block = r["gas_limit"] // p["gas_per_anchor"]
    ceiling = per_block / period
    c = r["confirmations"]
    samples = r["confirmation_samples"]
    # Seconds to depth 1 in periods: below 1 would mean some anchors joined the block being built.
    to_block = [x["own_1"] / period for x in samples]
    spread = c["all_5"]["p50_s"] - c["own_5"]["p50_s"]
    blocks = len(p["anchors_per_block"])
    return [
        "## What the network costs",
        "",
        f"- **Throughput is the block's, not the node's.** Pipelined, the network sealed "
        f"{p['tx_per_s']:,.0f} anchors/s ({p['n']:,} anchors in {blocks} "
        f"block{'s' if blocks > 1 else ''}). A block holds at most {per_block:,.0f} anchors "
        f"({r['gas_limit']:,} gas) and comes every {period} s: a ceiling of {ceiling:,.0f} "
        "anchors/s, which "
        + (
            f"the run reached {p['tx_per_s'] / ceiling:.0%} of (the first block waits for its "
            "turn, the last is partly filled). "
            if p["tx_per_s"] >= 0.5 * ceiling
            else "a run this short does not approach: its rate is mostly the wait for the "
            "first block. "
        )
        + f"The validators' CPU ({p['all_cpu_ms_per_tx']:.1f} ms per anchor for all four "
        "together) is not the bound. A gateway anchors one Merkle root per dataset version, so "
        f"the ceiling is {ceiling:,.0f} versions per second across the consortium.",
        f"- **One at a time, an anchor waits for a block.** `ChainClient.transact` took "
        f"{s['p50_ms'] / 1000:.2f} s at the median and {s['p99_ms'] / 1000:.2f} s at p99 "
        f"({s['tx_per_s']:.2f} anchors/s; {s['p50_ms'] / 1000 / period:.1f} periods). Sent at "
        "moments spread over the period, the anchor was in a block after "
        f"{min(to_block):.2f} to {max(to_block):.2f} periods (median "
        f"{statistics.median(to_block):.2f}): "
        + (
            "never in the block being prepared when it arrived: the in-turn signer fills a "
            "block when it begins it, right after the previous one, and a later transaction "
            "rides in the block after that, so a gateway that sends right after a receipt "
            "waits about two periods. "
            if min(to_block) >= 0.95
            else "a transaction arriving while a block is prepared may still join it, or "
            "waits for the next; one to two periods. "
        )
        + "The development nodes answer in milliseconds because they seal at once; a gateway "
        "with many versions to anchor should send them without waiting for each.",
        f"- **Finality costs periods.** From sending, the gateway's validator held the anchor "
        f"at depth 1 after {c['own_1']['p50_s']:.1f} s (median), 3 after "
        f"{c['own_3']['p50_s']:.1f} s and 5 after {c['own_5']['p50_s']:.1f} s: "
        f"{(c['own_5']['p50_s'] - c['own_1']['p50_s']) / period:.1f} periods for the 4 further "
        f"blocks, as docs/CONSORTIUM.md computes ({4 * period} s at this period). Every "
        "validator had it "
        + (
            "at the same time (within the 20 ms poll)"
            if abs(spread) < 0.02
            else f"{spread:+.2f} s later at depth 5"
        )
        + ": on one machine blocks spread in milliseconds; between machines add the network's "
        "delay per block.",
        f"- **Memory and CPU**: each validator holds {_mean(r['rss_idle_mib']):.0f} MiB idle and "
        f"{_mean(r['rss_mib']):.0f} MiB after the workload, and spends "
        f"{_mean(r['cpu_idle_ms_per_s']):.1f} ms of CPU per second sealing or importing empty "
        "blocks; a department runs one. All four on one machine need "
        f"{sum(r['rss_mib'].values()):.0f} MiB, which is the demo's cost, not a department's.",
        "",
    ]


NOTES = [
    "## What is measured",
    "",
    "- **Start-up** is `start_network`, as `xietong network up` runs it: the four validators "
    "spawned, each waited for until its JSON-RPC answers, is connected with the three others "
    "and holds a chain as heavy as theirs, then all four told to seal (`miner_start` on each "
    "one's IPC socket); then the first validator's head is polled every 20 ms. The genesis and "
    "`geth init` are done before the clock starts.",
    "- **Deploy** is `ledger.chain.deploy.deploy` with the four founders, each transaction "
    "waited for; so a few block periods.",
    "- **Pipelined** signs all anchors in advance (explicit nonces, fixed gas and fee), sends "
    "them to the first validator over one keep-alive connection without waiting, and stops the "
    "clock when the last receipt exists (polled every 20 ms); every receipt's status is checked "
    "afterwards. Signing time is excluded.",
    "- **Sequential** is `ChainClient.transact` per anchor, as the gateway does: pending nonce, "
    "gas estimate, fees, sign, `eth_sendRawTransaction`, poll the receipt (after 5 ms, doubling "
    "to 100 ms), decode the events.",
    "- **Confirmations**: an anchor is signed, then sent a fraction (i + ½) / samples of the "
    "period after the first validator saw a new block, so the sending moments spread evenly "
    "over the period; every 20 ms the receipt and all four heads are read. Depth N means "
    "head − block + 1 ≥ N, as the gateway's `XIETONG_CONFIRMATIONS` counts. After each sample "
    "the anchor's block is checked to be the same on every validator (*moved* counts those "
    "where it was not).",
    "- **Memory** is each geth's VmRSS from `/proc/<pid>/status` (`--cache 128`, as "
    "`ledger.chain.network` starts it); **CPU** is utime + stime from `/proc/<pid>/stat` in "
    "10 ms clock ticks; *net of idle sealing* subtracts the rate measured while idle before "
    "the deploy.",
    "",
]


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="period 1 s, n = 20, 1 sample")
    parser.add_argument("--n", type=int, help="pipelined anchors (default 1000; quick 20)")
    parser.add_argument("--sequential", type=int, help="sequential anchors (default 30; quick 3)")
    parser.add_argument("--samples", type=int, help="confirmation samples (default 12; quick 1)")
    parser.add_argument(
        "--period", type=int, help=f"block period (default {DEFAULT_PERIOD}; quick 1)"
    )
    parser.add_argument("--time-limit", type=float, help="seconds (default 900; quick 110)")
    parser.add_argument("--out", type=Path, help="markdown report (default docs/BENCH_NETWORK.md)")
    args = parser.parse_args(argv)
    plan = Plan(
        period=args.period or (1 if args.quick else DEFAULT_PERIOD),
        n=args.n or (20 if args.quick else 1000),
        sequential_n=args.sequential or (3 if args.quick else 30),
        samples=args.samples or (1 if args.quick else 12),
        idle_s=1.0 if args.quick else 10.0,
    )
    if min(plan.period, plan.n, plan.sequential_n, plan.samples) < 1:
        parser.error("--n, --sequential, --samples and --period must be at least 1")
    limit = args.time_limit or (110.0 if args.quick else 900.0)
    out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    command = (
        ".venv/bin/python scripts/bench_network.py"
        + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    )
    results: dict[str, Any] = {
        "period": plan.period,
        "n": plan.n,
        "sequential_n": plan.sequential_n,
        "samples": plan.samples,
        "warmup": WARMUP,
        "depths": list(DEPTHS),
    }
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xt-bench-network-") as tmp:
        try:
            results["geth_version"] = geth_version()
            print(
                f"network: 4 validators, period {plan.period} s, n = {plan.n} …",
                file=sys.stderr,
                flush=True,
            )
            with time_limit(limit):
                results["network"] = measure(plan, Path(tmp))
            print(f"network: {json.dumps(results['network'])}", file=sys.stderr, flush=True)
        except (LedgerError, BenchError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            if exc.__cause__ is not None:  # where it failed, for whoever reruns it
                print(traceback.format_exc(limit=-6), file=sys.stderr)
            return 1
        except (requests.RequestException, Web3RPCError, OSError) as exc:
            print(
                f"error: the benchmark failed talking to a validator ({type(exc).__name__}: {exc}).",
                file=sys.stderr,
            )
            return 1
        except KeyboardInterrupt:
            print("error: interrupted; the validators started here were stopped.", file=sys.stderr)
            return 130
    text = report(results, command, time.perf_counter() - began, quick=args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    path = write_results("network", results, quick=args.quick, command=command)
    print(text)
    print(f"wrote {out} and {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
