"""The Director: the demo's wall time, and what the Director adds to each tool call.

    python benchmarks/director.py [--calls 300]

1. `marketing-mcp demo` end to end (sandbox, sign-in, 28 simulated days of three loops, the report),
   as a user runs it. Target: under 60 s.
2. A read tool over stdio, called raw through the MCP client against the same call through the
   Director (its pool's owner task, schema check, and the call recorded in SQLite). Interleaved, on one
   server process each; the median difference is the Director's cost per call. Target: <= 2 ms.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SandboxProcess, median, report, sandbox_config, served, signed_in


async def overhead(calls: int) -> tuple[float, float]:
    from mcp import Client

    from director.offline import OfflinePlanner
    from director.pool import ServerPool
    from director.runner import Director, Policy, SandboxClock
    from director.store import Store

    with SandboxProcess() as sandbox, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mcp.json"
        config.write_text(json.dumps(signed_in(sandbox_config(sandbox.url))))
        target = served("wordpress", config)
        store = Store(Path(tmp) / "bench.sqlite")
        async with Client(target) as client, ServerPool({"wordpress": target}) as pool:
            run_id = store.new_run("bench", [], 0, False, "offline")
            d = Director(
                store=store,
                pool=pool,
                planner=OfflinePlanner(),
                policy=Policy(),
                client="bench",
                run_id=run_id,
                clock=SandboxClock(sandbox.url),
                say=lambda _: None,
            )
            post = (await client.call_tool("list_posts", {"limit": 1})).structured_content["items"][0]["id"]
            args = {"post_id": post, "kind": "post"}
            raw_times, director_times = [], []
            for _ in range(20):
                await client.call_tool("get_post", args)
                await d.read("wordpress.get_post", args)
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool("get_post", args)
                raw_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                await d.read("wordpress.get_post", args)
                director_times.append(time.perf_counter() - started)
        return median(raw_times), median(director_times)


def demo_time() -> tuple[float, int]:
    env = {
        **os.environ,
        "MARKETING_MCP_HOME": tempfile.mkdtemp(prefix="marketing-mcp-demo-"),
        "MARKETING_MCP_KEYRING": "none",
    }
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "suite", "demo"], cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def main(calls: int) -> int:
    wall, code = demo_time()
    ok = report("demo wall time", wall, "< 60 s", code == 0 and wall < 60, " s")
    raw, director = asyncio.run(overhead(calls))
    print(f"get_post over stdio: raw MCP median {raw * 1000:.2f} ms, through the Director {director * 1000:.2f} ms")
    ok &= report("Director added time per call", (director - raw) * 1000, "<= 2 ms", director - raw <= 0.002, " ms")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    sys.exit(main(parser.parse_args().calls))
