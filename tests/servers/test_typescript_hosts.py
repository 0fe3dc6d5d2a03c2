"""Every server as hosts on the TypeScript SDK meet it: the MCP Inspector CLI, 2.12 (Node 22) and 0.15
(the SDK 1.x that most desktop hosts embed, which validates structured content even on errors).

Each server is spawned by the Inspector from the installed console script with the environment
such hosts pass (HOME, PATH, ... plus the `env` block of a host config), once on a call that
succeeds and once on one that fails; the data and the server's own error message must reach it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client

from adapters.web.browser import find_chromium
from suite.auth import sign_in_at_sandbox
from suite.config import parse_config
from suite.wiring import create_server

from ..conftest import need
from ..helpers import sandbox_config, text
from .test_google_tools import google_config

INSPECTORS = {
    "inspector-2.12": [
        "npx",
        "-y",
        "-p",
        "node@22",
        "-p",
        "@modelcontextprotocol/inspector@2.12.0",
        "--",
        "mcp-inspector",
        "--cli",
    ],
    "inspector-0.15": ["npx", "-y", "@modelcontextprotocol/inspector@0.15.0", "--cli"],
}
COMMAND = str(Path(sys.executable).with_name("marketing-mcp"))  # what a host config names: the installed script


def calls(sandbox_url: str) -> dict[str, tuple[str, dict]]:
    page = f"{sandbox_url}/"
    return {
        "wordpress": ("list_posts", {"limit": 2}),
        "webflow": ("list_posts", {"limit": 2}),
        "mailchimp": ("list_campaigns", {"limit": 2}),
        "customerio": ("list_campaigns", {"limit": 2}),
        "ga4": ("list_properties", {}),
        "search-console": ("list_sites", {}),
        "page-analysis": ("check_links", {"url": page}),
    }


@pytest.fixture(scope="module")
def hosts(signed_in, tmp_path_factory):
    """An mcp.json on disk with a signed-in client `h` and a client `nobody` with no credentials at all."""
    need(shutil.which("npx") is not None, "no npx: install Node.js (the TypeScript-SDK hosts run on it)")
    url = signed_in.url
    raw = sandbox_config(url, client="h")
    servers = raw["clients"]["h"]["servers"]
    servers.update(google_config(url, client="h")["clients"]["h"]["servers"])
    port = httpx.URL(url).port
    servers["page-analysis"] = {"settings": {"allowed_hosts": [f"127.0.0.1:{port}"], "link_timeout": 1.0}}
    raw["clients"]["nobody"] = json.loads(json.dumps(raw["clients"]["h"]))
    sign_in_at_sandbox(parse_config(raw), "h", io.StringIO())
    path = tmp_path_factory.mktemp("hosts") / "mcp.json"
    path.write_text(json.dumps(raw))
    return path, url


def inspect(inspector: str, config: Path, client: str, server: str, tool: str, args: dict) -> tuple[int, str, str]:
    """The Inspector's exit code, what it printed (the result as JSON) and its log."""
    env = {k: os.environ[k] for k in ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER") if k in os.environ}
    command = [*INSPECTORS[inspector]]
    for key in ("MARKETING_MCP_HOME", "MARKETING_MCP_KEYRING"):
        command += ["-e", f"{key}={os.environ[key]}"]
    command += [
        "-e",
        f"MARKETING_MCP_CONFIG={config}",
        COMMAND,
        "serve",
        server,
        "--client",
        client,
        "--method",
        "tools/call",
        "--tool-name",
        tool,
    ]
    for key, value in args.items():
        command += ["--tool-arg", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    done = subprocess.run(command, env=env, cwd=config.parent, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


async def python_answer(config: Path, client: str, server: str, tool: str, args: dict):
    async with Client(create_server(parse_config(json.loads(config.read_text())), client, server)) as c:
        return await c.call_tool(tool, args)


@pytest.mark.parametrize("inspector", list(INSPECTORS))
@pytest.mark.parametrize(
    "server", ["wordpress", "webflow", "mailchimp", "customerio", "ga4", "search-console", "page-analysis"]
)
async def test_the_data_and_the_error_message_reach_a_typescript_host(hosts, inspector, server):
    if server == "page-analysis":
        need(find_chromium() is not None, "no Chromium: run scripts/chromium-up.sh")
    config, url = hosts
    tool, args = calls(url)[server]

    code, out, log = inspect(inspector, config, "h", server, tool, args)
    assert code == 0, (out + log)[-2000:]
    shown = json.loads(out)
    assert shown.get("isError") is not True, out[-2000:]
    assert shown["structuredContent"], out[-2000:]
    assert shown["content"][0]["type"] == "text"
    summary, data = shown["content"][0]["text"].split("\n", 1)
    assert json.loads(data) == shown["structuredContent"]  # hosts that show only content see the data too

    if server == "page-analysis":  # no credential to lose: the error is a refused address
        args = {"url": "http://127.0.0.2:9/"}
        client = "h"
    else:
        client = "nobody"
    expected = await python_answer(config, client, server, tool, args)
    assert expected.is_error
    message = text(expected).split(" Next:")[0]
    code, out, log = inspect(inspector, config, client, server, tool, args)
    assert "Structured content does not match" not in out + log and "must have required property" not in out + log
    shown = json.loads(out)
    assert shown["isError"] is True and message in shown["content"][0]["text"], (out + log)[-2000:]
