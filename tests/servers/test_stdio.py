"""One stdio smoke test per server: spawned exactly as a host spawns it."""

from __future__ import annotations

import json
import os
import sys

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from ..helpers import sandbox_config, served_over_http

SMOKE = {
    "wordpress": ("list_posts", {"limit": 2}),
    "webflow": ("list_posts", {"limit": 2}),
    "mailchimp": ("list_campaigns", {"limit": 2}),
    "customerio": ("list_campaigns", {"limit": 2}),
}


@pytest.mark.parametrize("server", list(SMOKE))
async def test_serve_over_stdio_lists_tools_and_answers_a_call(signed_in, server, tmp_path):
    config = tmp_path / "mcp.json"
    raw = sandbox_config(signed_in.url)
    config.write_text(json.dumps(raw))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "suite", "serve", server, "--client", "t", "--config", str(config)],
        env=dict(os.environ),
    )  # hosts pass a minimal environment; ours has the test vault
    tool, args = SMOKE[server]
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        assert tool in {t.name for t in tools}
        result = await client.call_tool(tool, args)
    assert not result.is_error
    assert len(result.structured_content["items"]) == 2


async def test_serve_over_streamable_http_binds_loopback_and_answers(signed_in, tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(sandbox_config(signed_in.url)))
    with served_over_http(config, "t", "wordpress") as url:
        async with Client(url) as client:
            result = await client.call_tool("list_posts", {"limit": 1})
    assert not result.is_error and len(result.structured_content["items"]) == 1
