"""Start-up of `serve ga4` against Google's official GA4 MCP server (analytics-mcp), in one run.

    python benchmarks/ga4_vs_official.py [--runs 10]

Both are spawned the same way (stdio, spawn -> initialize -> tools/list), interleaved. The
official server is installed from PyPI into build/analytics-mcp-venv on first use (it pins its
own MCP SDK, so it cannot share our environment). Target: ours <= 0.5x theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

from _common import ROOT, median, report
from startup import spawn_and_list

VENV = ROOT / "build" / "analytics-mcp-venv"


def official_server() -> Path:
    command = VENV / "bin" / "analytics-mcp"
    if not command.exists():
        print(f"installing analytics-mcp into {VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "analytics-mcp"], check=True)
    return command


async def main(runs: int) -> int:
    official = str(official_server())
    ours = ["-m", "suite", "serve", "ga4", "--client", "demo", "--config", str(ROOT / "mcp.json")]
    await spawn_and_list(ours)  # warm the file caches of both
    await spawn_and_list([], command=official)
    times: dict[str, list[float]] = {"ours": [], "official": []}
    for _ in range(runs):
        times["ours"].append(await spawn_and_list(ours))
        times["official"].append(await spawn_and_list([], command=official))
    o, t = median(times["ours"]), median(times["official"])
    print(f"serve ga4: median {o * 1000:.0f} ms; analytics-mcp: median {t * 1000:.0f} ms ({runs} runs each)")
    return 0 if report("serve ga4 / analytics-mcp", o / t, "<= 0.5", o / t <= 0.5, "x") else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
