"""Call overhead of our server layer over stdio, in one run.

    python benchmarks/call_overhead.py [--calls 300]

overhead = median(get_post over stdio) - median(direct adapter get_post) - median(bare echo over stdio)

i.e. what the tool layer (validation, budget, deadline, error translation, structured result)
adds on top of the vendor call and of the MCP protocol itself. Target <= 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from _common import SandboxProcess, bare_echo, median, report, sandbox_config, served, signed_in, timed


async def main(calls: int) -> int:
    from mcp import Client

    from suite.config import parse_config
    from suite.wiring import ADAPTERS, Wiring

    with SandboxProcess() as sandbox, tempfile.TemporaryDirectory() as tmp:
        raw = signed_in(sandbox_config(sandbox.url))
        config = Path(tmp) / "mcp.json"
        config.write_text(json.dumps(raw))
        adapter = await ADAPTERS["wordpress"](Wiring(parse_config(raw), "bench", "wordpress"))
        post_id = (await adapter.list_posts("post", status="published", search=None, cursor=None, limit=1)).items[0].id

        direct = await timed(calls, lambda: adapter.get_post(post_id, "post"))
        await adapter.aclose()

        async with Client(served("wordpress", config)) as client:
            stdio = await timed(calls, lambda: client.call_tool("get_post", {"post_id": post_id}))

        echo = await bare_echo(calls)

    d, s, e = median(direct) * 1000, median(stdio) * 1000, median(echo) * 1000
    print(
        f"direct adapter get_post: median {d:.2f} ms; get_post over stdio: {s:.2f} ms; "
        f"bare echo over stdio: {e:.2f} ms ({calls} calls each)"
    )
    overhead = s - d - e
    return 0 if report("tool-layer overhead", overhead, "<= 1 ms", overhead <= 1.0, " ms") else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    sys.exit(asyncio.run(main(parser.parse_args().calls)))
