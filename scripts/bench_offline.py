"""Offline proofs: bundle size, and the time to check a sealed bundle offline in Python and in
Chromium, beside the node-backed check (issue 16; targets: ≤ 10 ms in Python, ≤ 50 ms in the
browser).

On a 4-validator geth Clique network (period 1 s, loopback addresses 127.0.0.141 to .144) it
anchors one file, makes its ``xietong-proof/3`` bundle (and the same with the headers from
block 1), then times, each the median of ``--repeat`` runs:

- ``verify_bundle`` against the first validator (the node-backed check: the node checked
  against the trust file, the version, its event and block read);
- ``verify_bundle_offline`` (Python, the trust file alone);
- ``XietongOffline.verifyBundle`` in Chromium (api/portal/static/offline-proof.js, the portal's
  verifier, loaded into a blank page with the network cut).

    .venv/bin/python scripts/bench_offline.py [--quick] [--repeat N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, RESULTS_DIR, load_average, machine, write_results

sys.path.insert(0, str(PROJECT_ROOT))

from playwright.sync_api import sync_playwright

from ledger.chain.client import connect
from ledger.trust import load_trust
from ledger.verify import verify_bundle
from ledger.verify.offline import verify_bundle_offline
from tests.browser._browser import CHROMIUM, CHROMIUM_ARGS
from tests.support_sealed import sealed_network

DEFAULT_OUT = PROJECT_ROOT / "docs" / "BENCH_OFFLINE.md"
QUICK_OUT = RESULTS_DIR / "BENCH_OFFLINE.quick.md"
HOSTS = [f"127.0.0.{141 + i}" for i in range(4)]
VERIFIER_JS = PROJECT_ROOT / "api" / "portal" / "static" / "offline-proof.js"
TARGET_PYTHON_MS, TARGET_BROWSER_MS = 10.0, 50.0

#: Runs ``n`` checks of ``bundle`` in the page; their times in ms (the first is warm-up).
_BROWSER_LOOP = """async ({bundle, trust, n}) => {
  const times = [];
  for (let i = 0; i <= n; i++) {
    const start = performance.now();
    const result = await globalThis.XietongOffline.verifyBundle(bundle, trust);
    const spent = performance.now() - start;
    if (!result.valid) throw new Error(result.reason + ": " + result.message);
    if (i > 0) times.push(spent);
  }
  return times;
}"""


def median_ms(repeat: int, action: Any) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")).encode("utf-8"))


def browser_ms(
    bundles: dict[str, dict[str, Any]], trust: dict[str, Any], n: int
) -> dict[str, float]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto("about:blank")
            page.add_script_tag(path=str(VERIFIER_JS))
            context.set_offline(True)
            return {
                name: statistics.median(
                    page.evaluate(_BROWSER_LOOP, {"bundle": bundle, "trust": trust, "n": n})
                )
                for name, bundle in bundles.items()
            }
        finally:
            browser.close()


def measure(repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        with sealed_network(home, HOSTS) as net:
            folder = home / "files"
            folder.mkdir()
            plain = net.anchored_bundle(folder, "a benchmarked offline proof\n")
            historic = net.from_genesis(plain)
            w3 = connect(net.network.members[0].rpc_url)
            trust = load_trust(net.trust_path)
            online_ms = median_ms(repeat, lambda: verify_bundle(plain, w3, trust=trust))
    unsealed = {**plain, "format": "xietong-proof/2"}
    unsealed.pop("sealed")
    bundles = {"plain": plain, "from_genesis": historic}
    python = {
        name: median_ms(repeat, lambda b=bundle: verify_bundle_offline(b, trust))
        for name, bundle in bundles.items()
    }
    return {
        "validators": len(HOSTS),
        "period_s": 1,
        "repeat": repeat,
        "block_number": plain["block_number"],
        "headers": len(plain["sealed"]["headers"]),
        "history_headers": len(historic["sealed"]["history"]),
        "bytes": {
            "unsealed": size(unsealed),
            "plain": size(plain),
            "from_genesis": size(historic),
        },
        "online_ms": online_ms,
        "python_ms": python,
        "browser_ms": browser_ms(bundles, trust.as_dict(), repeat),
    }


def report(r: dict[str, Any], command: str, load: str) -> str:
    b, py, js = r["bytes"], r["python_ms"], r["browser_ms"]
    per_header = (b["from_genesis"] - b["plain"]) / r["history_headers"]
    verdict = (
        "met"
        if py["plain"] <= TARGET_PYTHON_MS and js["plain"] <= TARGET_BROWSER_MS
        else "**missed**"
    )
    return "\n".join(
        [
            "# Benchmark: offline proofs",
            "",
            f"Command: `{command}` (machine: {machine()['cpu']}, load before: {load}). "
            f"{r['validators']} geth Clique validators, {r['period_s']} s blocks; one file "
            f"anchored in block {r['block_number']}; each figure the median of {r['repeat']} runs.",
            "",
            "| | Bundle (bytes, compact JSON) | Check (ms) |",
            "| --- | ---: | ---: |",
            f"| `xietong-proof/2` (no seals), `verify_bundle` against a validator | "
            f"{b['unsealed']:,} | {r['online_ms']:.1f} |",
            f"| `xietong-proof/3`, {r['headers']} sealed headers, Python `verify_bundle_offline` | "
            f"{b['plain']:,} | {py['plain']:.2f} |",
            f"| the same, Chromium `XietongOffline.verifyBundle` (network cut) | {b['plain']:,} | "
            f"{js['plain']:.2f} |",
            f"| with the history ({r['history_headers']} headers from block 1), Python | "
            f"{b['from_genesis']:,} | {py['from_genesis']:.2f} |",
            f"| the same, Chromium | {b['from_genesis']:,} | {js['from_genesis']:.2f} |",
            "",
            f"Targets: ≤ {TARGET_PYTHON_MS:.0f} ms in Python, ≤ {TARGET_BROWSER_MS:.0f} ms in the "
            f"browser, for a bundle without history: {verdict}. The history costs about "
            f"{per_header:,.0f} bytes per header (a header's RLP as hex), and a seal recovery "
            "each. The node-backed check asks the node for its chain id, genesis and deployment "
            "blocks, the contracts' code, the version, its event and block: its time is mostly "
            "round trips to the node, which the offline check does not make.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="5 runs, into var/bench/")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else args.repeat
    out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    command = "python scripts/bench_offline.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    load = load_average()
    results = measure(repeat)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(results, command.strip(), load), encoding="utf-8")
    write_results("offline", results, quick=args.quick, command=command.strip())
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
