"""Start-up: spawn -> initialize -> tools/list, ours against a bare MCPServer, in one run.

    python benchmarks/startup.py [--runs 10]

Runs are interleaved (bare, then every server, bare, ...) so machine noise hits all alike; the ratio
of medians is what counts (target <= 1.15x).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _common import ROOT, median, report


async def spawn_and_list(args: list[str], command: str = sys.executable) -> float:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    started = time.perf_counter()
    async with Client(StdioServerParameters(command=command, args=args, cwd=str(ROOT))) as client:
        await client.list_tools()
        elapsed = time.perf_counter() - started
    return elapsed


async def main(runs: int) -> int:
    config = str(ROOT / "mcp.json")
    cases = {
        "bare MCPServer": [str(ROOT / "benchmarks" / "_bare_server.py")],
        "serve wordpress": ["-m", "suite", "serve", "wordpress", "--client", "demo", "--config", config],
        "serve webflow": ["-m", "suite", "serve", "webflow", "--client", "demo", "--config", config],
        "serve ga4": ["-m", "suite", "serve", "ga4", "--client", "demo", "--config", config],
        "serve search-console": ["-m", "suite", "serve", "search-console", "--client", "demo", "--config", config],
        "serve page-analysis": ["-m", "suite", "serve", "page-analysis", "--client", "demo", "--config", config],
        "serve mailchimp": ["-m", "suite", "serve", "mailchimp", "--client", "demo", "--config", config],
        "serve customerio": ["-m", "suite", "serve", "customerio", "--client", "demo", "--config", config],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    await spawn_and_list(cases["bare MCPServer"])  # warm the file cache
    for _ in range(runs):
        for name, args in cases.items():
            times[name].append(await spawn_and_list(args))
    base = median(times["bare MCPServer"])
    print(f"bare MCPServer: median {base * 1000:.0f} ms over {runs} runs")
    ok = True
    for name in [n for n in cases if n.startswith("serve ")]:
        m = median(times[name])
        print(f"{name}: median {m * 1000:.0f} ms")
        ok &= report(f"{name} / bare", m / base, "<= 1.15", m / base <= 1.15, "x")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
