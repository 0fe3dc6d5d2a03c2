"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(name: str, value: float, target: str, ok: bool, unit: str = "") -> bool:
    print(f"{name}: {value:.3f}{unit}  (target {target})  {'PASS' if ok else 'FAIL'}")
    return ok


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """The sandbox in its own process, so it does not share a GIL with what is measured."""

    def __init__(self) -> None:
        import subprocess

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "suite", "sandbox", "--port", str(self.port)],
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import time

        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/_sandbox/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError("the sandbox did not start")

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sandbox_config(url: str, **wordpress_extra) -> dict:
    return {
        "clients": {
            "bench": {
                "sandbox": url,
                "servers": {
                    "wordpress": {
                        "settings": {"site_url": url, "username": "demo"},
                        "rate_limits": {"default": "100000/s"},
                        **wordpress_extra,
                    }
                },
            }
        }
    }


def signed_in(raw: dict, client: str = "bench") -> dict:
    """Sign `client` in at its sandbox, in a vault of the benchmark's own (servers it spawns inherit it)."""
    import io
    import os
    import tempfile

    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config

    os.environ["MARKETING_MCP_HOME"] = tempfile.mkdtemp(prefix="marketing-mcp-bench-")
    os.environ["MARKETING_MCP_KEYRING"] = "none"
    sign_in_at_sandbox(parse_config(raw), client, io.StringIO())
    return raw


def served(server: str, config: Path, client: str = "bench"):
    """`marketing-mcp serve SERVER` over stdio, as a host starts it, with this run's vault."""
    from director.pool import stdio_targets

    return stdio_targets(str(config), client, [server])[server]


async def timed(calls: int, fn, warmup: int = 20) -> list[float]:
    """Seconds per awaited call of `fn`, after a warm-up (connections, caches, first-use imports)."""
    import time

    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return samples


async def bare_echo(calls: int) -> list[float]:
    """The MCP protocol's own cost: an echo tool on a bare MCPServer over stdio."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    bare = StdioServerParameters(command=sys.executable, args=[str(ROOT / "benchmarks" / "_bare_server.py")])
    async with Client(bare) as client:
        return await timed(calls, lambda: client.call_tool("echo", {"text": "x"}))
