"""Fallback load generator of scripts/bench_api.py when `wrk` is missing: async httpx clients
with keep-alive, each sending GET /v1/verify?hash=…&with_proof=true in a closed loop for a
fixed time, rotating among the hashes of a file. Prints one line ``XT-RESULT {json}`` shaped
like the wrk script's. Much slower than wrk per request (it is Python), so on a small machine
it takes CPU from the server under test: prefer wrk.

    python scripts/bench/api/httpx_load.py --url http://127.0.0.1:8000 --key KEY \
        --hashes hashes.txt [--connections 8] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import cast

import httpx


async def _client(
    base: str, key: str, hashes: list[str], start: int, deadline: float, out: dict[str, object]
) -> None:
    latencies: list[float] = out["latencies"]  # type: ignore[assignment]
    errors: dict[str, int] = out["errors"]  # type: ignore[assignment]
    position = start
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": key}, limits=limits, timeout=5.0
    ) as http:
        while time.monotonic() < deadline:
            position = (position + 1) % len(hashes)
            url = f"/v1/verify?hash={hashes[position]}&with_proof=true"
            began = time.perf_counter()
            try:
                response = await http.get(url)
                await response.aread()
            except httpx.TimeoutException:
                errors["timeout"] += 1
                continue
            except httpx.TransportError:
                errors["read"] += 1
                continue
            latencies.append(time.perf_counter() - began)
            out["bytes"] = int(out["bytes"]) + len(response.content)  # type: ignore[call-overload]
            if response.status_code != 200:
                errors["non200"] += 1
                errors["status"] += 1


def _percentile(ordered: list[float], p: float) -> int:
    if not ordered:
        return 0
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return int(ordered[index] * 1e6)


async def _main(args: argparse.Namespace) -> None:
    hashes = [line.strip() for line in Path(args.hashes).read_text().splitlines() if line.strip()]
    out: dict[str, object] = {
        "latencies": [],
        "bytes": 0,
        "errors": dict.fromkeys(("connect", "read", "write", "status", "timeout", "non200"), 0),
    }
    began = time.monotonic()
    deadline = began + args.duration
    await asyncio.gather(
        *(
            _client(args.url, args.key, hashes, i * len(hashes) // 16, deadline, out)
            for i in range(args.connections)
        )
    )
    duration = time.monotonic() - began
    ordered = sorted(cast("list[float]", out["latencies"]))
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    result = {
        "requests": len(ordered),
        "duration_us": int(duration * 1e6),
        "bytes": out["bytes"],
        "errors": out["errors"],
        "non200_statuses": "",
        "latency_us": {
            "mean": mean * 1e6,
            "min": _percentile(ordered, 0),
            "p50": _percentile(ordered, 50),
            "p90": _percentile(ordered, 90),
            "p99": _percentile(ordered, 99),
            "p999": _percentile(ordered, 99.9),
            "max": int(ordered[-1] * 1e6) if ordered else 0,
        },
    }
    print("XT-RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--hashes", required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
