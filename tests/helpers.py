"""Locating real components for integration tests."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import IO, Iterator

import httpx

from .conftest import need

ROOT = Path(__file__).resolve().parent.parent


def real_wordpress() -> dict:
    """Credentials written by scripts/wordpress-up.sh, once the site answers."""
    path = Path(os.environ.get("WP_CREDENTIALS", ROOT / "build" / "wordpress.json"))
    need(path.is_file(), f"no real WordPress: run scripts/wordpress-up.sh (expected {path})")
    creds = json.loads(path.read_text())
    try:
        up = httpx.get(f"{creds['site_url']}/wp-json/", timeout=5).status_code == 200
    except httpx.HTTPError:
        up = False
    need(up, f"the WordPress at {creds['site_url']} does not answer: run scripts/wordpress-up.sh")
    return creds


def real_wordpress_client(client: str) -> dict:
    """mcp.json for `client` on the real WordPress, its application password stored with `auth set`."""
    import io
    import sys

    from suite.cli import main

    creds = real_wordpress()
    raw = {
        "clients": {
            client: {
                "servers": {"wordpress": {"settings": {"site_url": creds["site_url"], "username": creds["username"]}}}
            }
        }
    }
    config = Path(os.environ["MARKETING_MCP_HOME"]) / f"{client}.mcp.json"
    config.write_text(json.dumps(raw))
    stdin, sys.stdin = sys.stdin, io.StringIO(creds["application_password"] + "\n")
    try:
        assert main(["auth", "set", "wordpress", "--client", client, "--config", str(config)]) == 0
    finally:
        sys.stdin = stdin
    return raw


def sandbox_config(url: str, client: str = "t") -> dict:
    """mcp.json of a client using the sandbox's WordPress, Webflow, Mailchimp and Customer.io
    (signed in by the `signed_in` fixture)."""
    return {
        "clients": {
            client: {
                "sandbox": url,
                "servers": {
                    "wordpress": {"settings": {"site_url": url, "username": "demo"}},
                    "webflow": {
                        "settings": {
                            "collection": "blog-posts",
                            "api_base": f"{url}/webflow/v2/",
                            "live_url": f"{url}/webflow-site",
                            "fields": {"seo_title": "seo-title", "meta_description": "meta-description"},
                        },
                        "rate_limits": {"upstream": "100000/min"},
                    },
                    "mailchimp": {"settings": {"api_base": f"{url}/mailchimp/3.0"}},
                    "customerio": {
                        "settings": {
                            "app_api_base": f"{url}/customerio/app/v1",
                            "track_api_base": f"{url}/customerio/track/api",
                        }
                    },
                },
            }
        }
    }


@contextlib.contextmanager
def served_over_http(config: Path, client: str, server: str) -> Iterator[str]:
    """`marketing-mcp serve SERVER --transport http` on a free loopback port; yields its MCP URL."""
    with served_over_http_at(config, client, server) as url:
        yield url


@contextlib.contextmanager
def served_over_http_at(config: Path, client: str, server: str, host: str = "127.0.0.1") -> Iterator[str]:
    """Like served_over_http, on a free port of the given loopback address (e.g. 127.0.0.2)."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "suite",
            "serve",
            server,
            "--client",
            client,
            "--config",
            str(config),
            "--transport",
            "http",
            "--host",
            host,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection((host, port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://{host}:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


class RawStdio:
    """A server spawned as a host spawns it, spoken to in raw bytes: one line out, one line back."""

    def __init__(self, config: Path | None, client: str, server: str, *, python_args: list[str] | None = None):
        """`marketing-mcp serve SERVER --client CLIENT --config CONFIG`, or `python PYTHON_ARGS` (then no config);
        its stderr is kept in `self.stderr` (a file) for tests to read."""
        import subprocess
        import sys
        import tempfile

        args = python_args or ["-m", "suite", "serve", server, "--client", client, "--config", str(config)]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both were asked for as pipes
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def send(self, line: bytes) -> None:
        self.stdin.write(line + b"\n")
        self.stdin.flush()

    def receive(self, timeout: float = 1.0) -> dict | None:
        """The next message the server writes, or None if none comes within the timeout."""
        import select

        if not select.select([self.stdout], [], [], timeout)[0]:
            return None
        line = self.stdout.readline()
        line.decode("utf-8")  # the reply itself is valid UTF-8, whatever it answers
        return json.loads(line) if line else None

    def request(self, line: bytes, timeout: float = 1.0) -> dict | None:
        self.send(line)
        return self.receive(timeout)

    def initialize(self) -> dict:
        reply = self.request(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 0,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "test", "version": "0"},
                    },
                }
            ).encode(),
            timeout=30,
        )
        assert reply and "result" in reply, reply
        self.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        return reply["result"]

    def close(self) -> int:
        self.stdin.close()
        code = self.proc.wait(10)
        self.stdout.close()
        return code

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")


def text(result) -> str:
    """A tool result's text content."""
    return " ".join(getattr(c, "text", "") for c in result.content)


async def call_ok(client, tool: str, args: dict | None = None) -> dict:
    """Call a tool that must succeed; its structured content."""
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, text(result)
    return result.structured_content


async def call_error(client, tool: str, args: dict) -> tuple[dict, str]:
    """Call a tool that must fail; its structured error (type, message, hint) and its text."""
    result = await client.call_tool(tool, args)
    assert result.is_error, text(result)
    return error_of(result), text(result)


def error_of(result) -> dict:
    """A tool error's type, message, hint (and retry_after), from the result's `_meta`."""
    assert result.is_error and result.structured_content is None, "an error result carries no structured content"
    return (result.meta or {}).get("marketing-mcp/error", {})


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """`marketing-mcp ARGV` in this process, as a user types it: exit code, stdout and stderr."""
    import io
    import sys

    from suite.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()
