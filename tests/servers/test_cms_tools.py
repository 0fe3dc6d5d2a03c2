"""The CMS tool set as a host sees it: through the SDK's in-memory client, against the sandbox."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from mcp import Client

from suite.config import parse_config
from suite.wiring import create_server

from ..helpers import call_ok, error_of, sandbox_config, text

SERVERS = ["wordpress", "webflow"]


def server_for(sandbox_url: str, server: str, **overrides):
    raw = sandbox_config(sandbox_url)
    raw["clients"]["t"]["servers"][server].update(overrides)
    return create_server(parse_config(raw), "t", server)


@pytest.fixture(params=SERVERS)
def server_name(request):
    return request.param


@pytest.fixture
def connect(signed_in, server_name):
    """Tests open the in-memory client themselves: anyio scopes must close in the task that opened them."""

    def open_client(**overrides):
        return Client(server_for(signed_in.url, server_name, **overrides))

    return open_client


async def fault(sandbox, rule: dict):
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.post("/_sandbox/faults", json=rule)).raise_for_status()


async def clear_faults(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.delete("/_sandbox/faults")).raise_for_status()


async def test_every_tool_declares_annotations_and_an_output_schema(connect, server_name):
    async with connect() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {
            "site_info",
            "list_posts",
            "get_post",
            "create_draft",
            "update_post",
            "publish",
            "schedule",
            "unpublish",
            "list_taxonomies",
            "upload_media",
        }
        for tool in tools.values():
            assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name
            assert tool.description
            assert tool.annotations is not None
        for name in ("site_info", "list_posts", "get_post", "list_taxonomies"):
            assert tools[name].annotations.read_only_hint is True
        for name in ("create_draft", "update_post", "upload_media"):
            assert tools[name].annotations.read_only_hint is False and tools[name].annotations.destructive_hint is False
            assert "dry_run" in tools[name].input_schema["properties"]
        for name in ("publish", "schedule", "unpublish"):
            assert tools[name].annotations.destructive_hint is True
            assert "dry_run" in tools[name].input_schema["properties"]


async def test_draft_seo_publish_through_the_tools(connect, server_name, sandbox):
    async with connect() as client:
        title = f"Tool flow {uuid.uuid4().hex[:8]}"
        preview = await call_ok(client, "create_draft", {"title": title, "body": "<p>b</p>", "dry_run": True})
        assert preview["dry_run"] is True and preview["post"] is None
        assert {c["field"] for c in preview["changes"]} >= {"title", "body", "status"}
        listed = await call_ok(client, "list_posts", {"search": title, "status": "draft"})
        assert listed["items"] == []  # the dry run created nothing

        made = await call_ok(client, "create_draft", {"title": title, "body": "<p>b</p>"})
        post_id = made["post"]["id"]
        dry = await call_ok(client, "update_post", {"post_id": post_id, "seo_title": "New SEO", "dry_run": True})
        assert dry["changes"] == [{"field": "seo_title", "before": None, "after": "New SEO"}]
        assert (await call_ok(client, "get_post", {"post_id": post_id}))["seo_title"] is None

        await call_ok(client, "update_post", {"post_id": post_id, "seo_title": "New SEO", "meta_description": "Desc"})
        published = await call_ok(client, "publish", {"post_id": post_id})
        assert published["post"]["status"] == "published"
        async with httpx.AsyncClient() as http:
            page = await http.get(published["post"]["url"])
        assert page.status_code == 200 and "New SEO" in page.text

        again = await call_ok(client, "update_post", {"post_id": post_id, "seo_title": "New SEO"})
        assert again["changes"] == []  # nothing to change, nothing sent
        result = await client.call_tool("get_post", {"post_id": post_id})
        assert post_id in text(result) and "published" in text(result)  # the short text summary


async def test_schedule_is_refused_where_the_cms_cannot_schedule(connect, server_name):
    async with connect() as client:
        made = await call_ok(client, "create_draft", {"title": f"Later {uuid.uuid4().hex[:6]}", "body": "<p>x</p>"})
        result = await client.call_tool(
            "schedule", {"post_id": made["post"]["id"], "publish_at": "2027-01-05T09:00:00Z"}
        )
        if server_name == "webflow":
            assert result.is_error and "schedule" in text(result)
        else:
            assert not result.is_error, text(result)
            assert result.structured_content["post"]["status"] == "scheduled"


BAD_CALLS = [
    ("get_post", {}, "post_id"),
    ("get_post", {"post_id": 123}, "post_id"),
    ("get_post", {"post_id": "1", "kind": "video"}, "kind"),
    ("list_posts", {"limit": 5000}, "limit"),
    ("list_posts", {"cursor": "not-a-cursor"}, "cursor"),
    ("create_draft", {"title": "x" * 5000, "body": "b"}, "title"),
    ("create_draft", {"body": "b"}, "title"),
    ("update_post", {"post_id": "1"}, "Nothing to change"),
    ("update_post", {"post_id": "1", "slug": "Not A Slug"}, "slug"),
    ("schedule", {"post_id": "1", "publish_at": "tomorrow"}, "publish_at"),
    ("schedule", {"post_id": "1", "publish_at": "2027-01-05T09:00:00"}, "time zone"),
    ("upload_media", {"filename": "a.png"}, "exactly one"),
    ("upload_media", {"filename": "a.png", "content_base64": "!!!"}, "base64"),
    ("upload_media", {"filename": "a.png", "content_base64": "aGVsbG8="}, "not a file this tool can upload"),
]


@pytest.mark.parametrize("tool,args,expected", BAD_CALLS, ids=[f"{t}-{e}" for t, _, e in BAD_CALLS])
async def test_bad_input_gets_an_error_naming_the_problem_and_the_server_keeps_serving(
    connect, server_name, tool, args, expected
):
    async with connect() as client:
        result = await client.call_tool(tool, args)
        assert result.is_error
        assert expected.lower() in text(result).lower()
        assert not (await client.call_tool("site_info", {})).is_error


async def test_unknown_ids_are_a_clear_not_found(connect, server_name):
    async with connect() as client:
        unknown = "999999" if server_name == "wordpress" else "0123456789abcdef01234567"
        result = await client.call_tool("get_post", {"post_id": unknown})
        assert result.is_error
        assert error_of(result)["type"] == "not_found"
        assert "list" in error_of(result)["hint"].lower()


async def test_a_spent_tool_budget_answers_at_once_with_retry_after(connect):
    async with connect(rate_limits={"tools": {"site_info": "1/hour"}}) as c:
        assert not (await c.call_tool("site_info", {})).is_error
        result = await c.call_tool("site_info", {})
    assert result.is_error
    assert 3500 < error_of(result)["retry_after"] <= 3600
    assert "retry_after" in text(result)


async def test_missing_credentials_say_which_command_stores_them(signed_in, server_name):
    raw = sandbox_config(signed_in.url, client="nobody")
    async with Client(create_server(parse_config(raw), "nobody", server_name)) as c:
        result = await c.call_tool("list_posts", {})
    assert result.is_error and error_of(result)["type"] == "auth_error"
    assert "client 'nobody'" in text(result)
    verb = "set" if server_name == "wordpress" else "login"
    assert f"marketing-mcp auth {verb} {server_name} --client nobody" in text(result)


async def test_a_wrong_secret_names_client_and_site_and_is_never_echoed(signed_in, server_name):
    from pydantic import SecretStr

    from credentials.records import BearerToken, Password, Record
    from credentials.vault import Vault

    wrong = "wrongsecretvalue1234"
    secret = (
        Password(username="demo", password=SecretStr(wrong))
        if server_name == "wordpress"
        else BearerToken(token=SecretStr(wrong))
    )
    Vault.open("wrong", create=True).store.put(Record(client="wrong", provider=server_name, account="x", secret=secret))
    raw = sandbox_config(signed_in.url, client="wrong")
    async with Client(create_server(parse_config(raw), "wrong", server_name)) as c:
        result = await c.call_tool("list_posts", {})
    assert result.is_error and error_of(result)["type"] == "auth_error"
    body = text(result) + json.dumps(result.structured_content)
    assert wrong not in body and "client 'wrong'" in body and "marketing-mcp auth" in body


async def test_upstream_faults_become_clear_errors(connect, server_name, sandbox):
    async with connect() as client:
        route = "/wp-json/*" if server_name == "wordpress" else "/webflow/*"
        try:
            await fault(sandbox, {"path": route, "kind": "malformed", "times": 1})
            result = await client.call_tool("list_posts", {"status": "published"})
            assert result.is_error and "not valid JSON" in text(result)
            await fault(sandbox, {"path": route, "kind": "status", "status": 503, "times": 2})
            result = await client.call_tool("list_posts", {"status": "published"})  # retried past two 503s
            assert not result.is_error, text(result)
        finally:
            await clear_faults(sandbox)


def publish_route(server_name: str, post_id: str) -> str:
    if server_name == "wordpress":
        return f"/wp-json/wp/v2/posts/{post_id}"
    return "/webflow/v2/collections/*/items/publish"


async def publish_under(fault_kind: str, connect, server_name, sandbox):
    """Publish a new draft while every answer to the publish request meets `fault_kind`;
    the result, how many publish requests reached the vendor, and the post's id."""
    async with connect() as client:
        made = await call_ok(
            client, "create_draft", {"title": f"{fault_kind} {uuid.uuid4().hex[:6]}", "body": "<p>x</p>"}
        )
        route = publish_route(server_name, made["post"]["id"])
        try:
            await fault(sandbox, {"kind": fault_kind, "method": "POST", "path": route})
            result = await client.call_tool("publish", {"post_id": made["post"]["id"]})
            return result, sandbox.world.faults.received("POST", route), made["post"]["id"]
        finally:
            await clear_faults(sandbox)


async def test_a_publish_whose_answers_are_all_lost_reports_published_and_how_it_knows(connect, server_name, sandbox):
    result, sent, _ = await publish_under("drop_after", connect, server_name, sandbox)
    assert sent == 1
    assert not result.is_error, text(result)
    assert result.structured_content["post"]["status"] == "published"
    assert "answer was lost" in result.structured_content["confirmed"]
    assert "now published" in text(result) and "reading it back shows it done" in text(result)
    assert "could not be reached" not in text(result)


async def test_a_publish_dropped_before_it_was_applied_says_not_done_and_safe_to_retry(connect, server_name, sandbox):
    result, sent, post_id = await publish_under("drop", connect, server_name, sandbox)
    assert sent == 2
    assert error_of(result)["type"] == "not_applied"
    assert "did not happen" in text(result) and "safe to try again" in text(result)
    async with connect() as client:
        assert (await call_ok(client, "get_post", {"post_id": post_id}))["status"] == "draft"
