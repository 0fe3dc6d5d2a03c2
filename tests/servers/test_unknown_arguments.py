"""Unknown or misspelled arguments are refused before anything reaches the vendor, on every server."""

from __future__ import annotations

import io

import httpx
import pytest
from mcp import Client
from mcp.types import Tool

from suite.auth import sign_in_at_sandbox
from suite.config import SERVERS, parse_config
from suite.wiring import create_server

from ..helpers import call_ok, sandbox_config, text
from .test_google_tools import google_config


def read_only(t: Tool) -> bool | None:
    """The tool's read-only hint; every tool of ours carries annotations."""
    assert t.annotations is not None, t.name
    return t.annotations.read_only_hint


@pytest.fixture(scope="module")
def config(signed_in):
    raw = sandbox_config(signed_in.url, client="u")
    raw["clients"]["u"]["servers"].update(google_config(signed_in.url, client="u")["clients"]["u"]["servers"])
    raw["clients"]["u"]["servers"]["page-analysis"] = {"settings": {"allowed_hosts": ["127.0.0.1"]}}
    parsed = parse_config(raw)
    sign_in_at_sandbox(parsed, "u", io.StringIO())
    return parsed


def plausible(schema: dict, defs: dict):
    """A value the schema accepts, so that only the unknown argument stands between the call and the vendor."""
    if "$ref" in schema:
        return plausible(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return plausible(next(s for s in schema[key] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2030-01-01T09:00:00+00:00"
        if "pattern" in schema and "https?" in schema["pattern"]:
            return "http://127.0.0.1:9/"
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return [plausible(schema.get("items", {"type": "string"}), defs)] * max(1, schema.get("minItems", 1))
    if kind == "object":
        props = schema.get("properties", {})
        return {k: plausible(props[k], defs) for k in schema.get("required", [])}
    return "x"


async def requests_seen(sandbox) -> int:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        rules = (await http.get("/_sandbox/faults")).json()["faults"]
    return sum(r["seen"] for r in rules)


@pytest.fixture
async def counted(sandbox):
    """A fault rule that does nothing but count every request the sandbox's vendor routes receive."""
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.post("/_sandbox/faults", json={"kind": "latency", "delay": 0})).raise_for_status()
    yield lambda: requests_seen(sandbox)
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.delete("/_sandbox/faults")).raise_for_status()


@pytest.mark.parametrize("server", SERVERS)
async def test_every_tool_schema_refuses_additional_properties(config, server):
    built = create_server(config, "u", server)
    async with Client(built) as c:
        tools = (await c.list_tools()).tools
    assert tools
    for t in tools:
        assert t.input_schema.get("additionalProperties") is False, f"{server}/{t.name}"
        # what is published is exactly what the argument model that validates the call generates
        registered = built._tool_manager.get_tool(t.name)
        assert registered is not None, f"{server}/{t.name}"
        strict = registered.fn_metadata.arg_model
        assert t.input_schema == strict.model_json_schema(by_alias=True), f"{server}/{t.name}"


@pytest.mark.parametrize("server", SERVERS)
async def test_a_misspelled_dry_run_on_any_write_tool_is_refused_and_nothing_is_sent(config, server, counted):
    async with Client(create_server(config, "u", server)) as c:
        writes = [t for t in (await c.list_tools()).tools if not read_only(t)]
        before = await counted()
        for t in writes:
            args = plausible(t.input_schema, t.input_schema.get("$defs", {}))
            misspelling = "dryRun" if "dry_run" in t.input_schema["properties"] else "dryrun"
            result = await c.call_tool(t.name, {**args, misspelling: True})
            assert result.is_error, f"{server}/{t.name} accepted {misspelling}: {text(result)}"
            assert f"Unknown argument '{misspelling}'" in text(result)
            if misspelling == "dryRun":
                assert "did you mean 'dry_run'?" in text(result)
            assert "Nothing was done" in text(result)
        assert await counted() == before, f"{server}: a refused call reached the vendor"
    if server in ("ga4", "page-analysis"):
        assert writes == []  # read-only servers: the schema test above covers them
    else:
        assert writes


async def test_several_unknown_arguments_are_all_named_and_valid_ones_listed(config):
    async with Client(create_server(config, "u", "wordpress")) as c:
        result = await c.call_tool("publish", {"post_id": "39", "dryRun": True, "force": 1})
    assert result.is_error
    message = text(result)
    assert "Unknown argument 'dryRun'; did you mean 'dry_run'?" in message
    assert "Unknown argument 'force'." in message
    assert "publish takes post_id, kind, dry_run" in message


async def test_the_correct_spelling_still_previews(config):
    async with Client(create_server(config, "u", "wordpress")) as c:
        posts = await call_ok(c, "list_posts", {"status": "draft"})
        post_id = posts["items"][0]["id"]
        preview = await call_ok(c, "publish", {"post_id": post_id, "dry_run": True})
        assert preview["dry_run"] is True
        after = await call_ok(c, "get_post", {"post_id": post_id})
    assert after["status"] == "draft"
