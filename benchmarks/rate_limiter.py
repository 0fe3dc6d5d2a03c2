"""The upstream limiter against a vendor that enforces the same rate, in one run.

    python benchmarks/rate_limiter.py [--calls 1000] [--rate 100]

The sandbox answers 429 beyond `rate` requests/s on the posts route (a token bucket with a
small burst tolerance, as vendors do); the WordPress adapter is configured with
`rate_limits.upstream = "<rate>/s"` and fires all calls at once, 50 in flight.
Targets: zero 429s, and throughput >= 95% of the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httpx
from _common import SandboxProcess, report, sandbox_config, signed_in


async def main(calls: int, rate: int) -> int:
    from suite.config import parse_config
    from suite.wiring import ADAPTERS, Wiring

    with SandboxProcess() as sandbox:
        httpx.post(
            f"{sandbox.url}/_sandbox/faults",
            json={"path": "/wp-json/wp/v2/posts*", "kind": "rate_limit", "rate": rate, "burst": 5},
        ).raise_for_status()
        raw = signed_in(
            sandbox_config(
                sandbox.url, rate_limits={"default": "100000/s", "upstream": f"{rate}/s"}, deadline_seconds=600
            )
        )
        adapter = await ADAPTERS["wordpress"](Wiring(parse_config(raw), "bench", "wordpress"))
        semaphore = asyncio.Semaphore(50)

        async def one() -> None:
            async with semaphore:
                await adapter.http.request("GET", "wp/v2/posts", params={"per_page": 1})

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        elapsed = time.perf_counter() - started
        await adapter.aclose()
        rule = httpx.get(f"{sandbox.url}/_sandbox/faults").json()["faults"][0]
    rejected, seen = rule["hits"], rule["seen"]  # a rate_limit rule counts the requests it refused
    throughput = calls / elapsed
    print(f"{calls} calls at a configured {rate}/s took {elapsed:.2f} s; the vendor saw {seen} requests")
    ok = report("429s from the vendor", rejected, "0", rejected == 0)
    ok &= report("throughput / limit", throughput / rate, ">= 0.95", throughput / rate >= 0.95, "x")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.rate)))
