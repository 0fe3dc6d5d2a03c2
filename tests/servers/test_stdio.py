"""One stdio smoke test per server: spawned exactly as a host spawns it."""

from __future__ import annotations

import json
import sys

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from ..adapters.test_cms_contract import sandbox_config


@pytest.mark.parametrize("server", ["wordpress", "webflow"])
async def test_serve_over_stdio_lists_tools_and_answers_a_call(sandbox, server, tmp_path):
    config = tmp_path / "mcp.json"
    raw = sandbox_config(sandbox.url)
    raw["clients"]["demo"] = raw["clients"].pop("t")
    config.write_text(json.dumps(raw))
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "suite", "serve", server, "--client", "demo", "--config", str(config)])
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        assert "get_post" in {t.name for t in tools}
        result = await client.call_tool("list_posts", {"limit": 2})
    assert not result.is_error
    assert len(result.structured_content["items"]) == 2
