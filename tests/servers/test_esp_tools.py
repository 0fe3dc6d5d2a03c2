"""The ESP tool set as a host sees it: mailchimp and customerio through the SDK's in-memory client, on the sandbox."""

from __future__ import annotations

import uuid

import pytest
from mcp import Client

from suite.config import parse_config
from suite.wiring import create_server

from ..helpers import call_error, call_ok, sandbox_config, text

HTML = (
    '<html><body><h1>Roast day</h1><p>Beans from Guji.</p><a href="http://127.0.0.1:8765/shop/">Shop</a></body></html>'
)


@pytest.fixture(params=["mailchimp", "customerio"])
def server_name(request):
    return request.param


@pytest.fixture
def connect(signed_in, server_name):
    """Tests open the in-memory client themselves: anyio scopes must close in the task that opened them."""
    config = parse_config(sandbox_config(signed_in.url))
    return lambda: Client(create_server(config, "t", server_name))


@pytest.fixture
def account(signed_in, server_name):
    return getattr(signed_in.world.email, server_name)


def email() -> str:
    return f"t.{uuid.uuid4().hex[:10]}@northwind-customers.com"


async def audience_id(c) -> str:
    page = await call_ok(c, "list_audiences")
    return max(page["items"], key=lambda a: a["member_count"])["id"]


async def new_segment(c, audience: str, n: int = 3) -> tuple[str, list[str]]:
    people = [email() for _ in range(n)]
    await call_ok(c, "upsert_contacts", {"audience_id": audience, "contacts": [{"email": e} for e in people]})
    seg = await call_ok(
        c, "create_segment", {"audience_id": audience, "name": f"T {uuid.uuid4().hex[:6]}", "emails": people}
    )
    return seg["segment"]["id"], people


async def draft(c, audience: str, segment: str | None, **extra) -> dict:
    args = {
        "name": "Tool test",
        "subject": "Your roast ships Tuesday",
        "html": HTML,
        "audience_id": audience,
        **({"segment_id": segment} if segment else {}),
        **extra,
    }
    return (await call_ok(c, "create_campaign", args))["campaign"]


async def test_tools_are_annotated_and_every_write_has_a_dry_run(connect):
    async with connect() as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    assert {
        "account_info",
        "list_audiences",
        "get_audience",
        "list_contacts",
        "get_contact",
        "upsert_contacts",
        "list_segments",
        "create_segment",
        "list_campaigns",
        "get_campaign",
        "get_campaign_content",
        "create_campaign",
        "create_subject_test",
        "update_campaign",
        "send_test",
        "schedule_campaign",
        "send_campaign",
        "cancel_campaign",
        "campaign_report",
    } == set(tools)
    for name in ("send_campaign", "schedule_campaign", "cancel_campaign"):
        assert tools[name].annotations.destructive_hint is True and tools[name].annotations.read_only_hint is False
    for tool in tools.values():
        if tool.annotations.read_only_hint:
            assert "dry_run" not in tool.input_schema["properties"]
        else:
            assert "dry_run" in tool.input_schema["properties"], tool.name
        assert tool.output_schema is not None


async def test_account_audiences_and_the_baseline(connect, server_name):
    async with connect() as c:
        info = await call_ok(c, "account_info")
        audience = await call_ok(c, "get_audience", {"audience_id": await audience_id(c)})
    assert info["capabilities"]
    assert audience["member_count"] > 1000 and 0 < audience["avg_click_rate"] < 0.1


async def test_dry_run_upsert_stores_nothing_then_the_real_one_does(connect, account):
    person = email()
    async with connect() as c:
        audience = await audience_id(c)
        preview = await call_ok(
            c, "upsert_contacts", {"audience_id": audience, "contacts": [{"email": person}], "dry_run": True}
        )
        assert preview["dry_run"] and preview["contacts"] == 1 and preview["result"] is None
        error, _ = await call_error(c, "get_contact", {"audience_id": audience, "email": person})
        assert error["type"] == "not_found"
        tags = ["tool-test"] if "tags" in (await call_ok(c, "account_info"))["capabilities"] else []
        done = await call_ok(
            c, "upsert_contacts", {"audience_id": audience, "contacts": [{"email": person, "tags": tags}]}
        )
        assert done["result"]["created"] == 1
        contact = await call_ok(c, "get_contact", {"audience_id": audience, "email": person.upper()})
    assert contact["email"] == person and set(tags) <= set(contact["tags"])


async def test_invalid_and_duplicate_addresses_are_refused_before_anything_is_stored(connect, account):
    good = email()
    async with connect() as c:
        audience = await audience_id(c)
        _, message = await call_error(
            c, "upsert_contacts", {"audience_id": audience, "contacts": [{"email": good}, {"email": "not-an-address"}]}
        )
        assert "not-an-address" in message and "valid email" in message
        _, message = await call_error(
            c, "upsert_contacts", {"audience_id": audience, "contacts": [{"email": good}, {"email": good.upper()}]}
        )
        assert "more than once" in message
        error, _ = await call_error(c, "get_contact", {"audience_id": audience, "email": good})
    assert error["type"] == "not_found"


async def test_an_unknown_audience_says_where_to_look(connect):
    async with connect() as c:
        error, _ = await call_error(c, "get_audience", {"audience_id": "nope000000"})
    assert error["type"] == "not_found" and ("list_audiences" in error["hint"] or "audience_id" in error["hint"])


async def test_dry_run_send_shows_what_goes_to_whom_and_sends_nothing(connect, account):
    async with connect() as c:
        audience = await audience_id(c)
        segment, people = await new_segment(c, audience)
        campaign = await draft(c, audience, segment)
        preview = await call_ok(c, "send_campaign", {"campaign_id": campaign["id"], "dry_run": True})
        assert preview["dry_run"] and preview["issues"] == []
        assert preview["recipients"]["count"] == 3 and set(preview["recipients"]["sample"]) == set(people)
        assert preview["content"]["subjects"] == ["Your roast ships Tuesday"]
        assert "Beans from Guji" in preview["content"]["text"]
        assert preview["content"]["links"] == ["http://127.0.0.1:8765/shop/"]
        assert account.campaigns[campaign["id"]].send_count == 0

        sent = await call_ok(c, "send_campaign", {"campaign_id": campaign["id"]})
        assert not sent["dry_run"] and sent["campaign"]["status"] in ("sending", "sent")
        assert account.campaigns[campaign["id"]].send_count == 1
        error, message = await call_error(c, "send_campaign", {"campaign_id": campaign["id"]})
    assert "already sent" in message and account.campaigns[campaign["id"]].send_count == 1


async def test_a_campaign_without_content_is_refused_with_the_fix(connect, account):
    async with connect() as c:
        audience = await audience_id(c)
        segment, _ = await new_segment(c, audience)
        campaign = await draft(c, audience, segment)
        account.campaigns[campaign["id"]].html = None  # as if made in the ESP's editor and never filled
        preview = await call_ok(c, "send_campaign", {"campaign_id": campaign["id"], "dry_run": True})
        assert "content" in {i["field"] for i in preview["issues"]}
        error, message = await call_error(c, "send_campaign", {"campaign_id": campaign["id"]})
    assert "nothing was sent" in message and "update_campaign" in error["hint"]
    assert account.campaigns[campaign["id"]].send_count == 0


async def test_a_campaign_with_no_recipients_is_refused(connect, account):
    async with connect() as c:
        audience = await audience_id(c)
        segment, people = await new_segment(c, audience, 1)
        await call_ok(
            c,
            "upsert_contacts",
            {"audience_id": audience, "contacts": [{"email": people[0], "status": "unsubscribed"}]},
        )
        campaign = await draft(c, audience, segment)
        error, message = await call_error(c, "send_campaign", {"campaign_id": campaign["id"]})
    assert "recipient" in message.lower() and account.campaigns[campaign["id"]].send_count == 0


async def test_schedule_needs_a_time_zone_and_a_future_time(connect, account, signed_in):
    async with connect() as c:
        audience = await audience_id(c)
        segment, _ = await new_segment(c, audience)
        campaign = await draft(c, audience, segment)
        _, message = await call_error(
            c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": "2026-12-01T09:00:00"}
        )
        assert "time zone" in message
        past = (signed_in.world.now().replace(minute=0, second=0, microsecond=0)).isoformat()
        _, message = await call_error(c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": past})
        assert "past" in message.lower()
        future = signed_in.world.now().replace(minute=0, second=0, microsecond=0).replace(year=2027).isoformat()
        preview = await call_ok(
            c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": future, "dry_run": True}
        )
        assert preview["send_at"].startswith("2027") and account.campaigns[campaign["id"]].status == "draft"
        done = await call_ok(c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": future})
        assert done["campaign"]["status"] == "scheduled"
        if "cancel" in (await call_ok(c, "account_info"))["capabilities"]:
            back = await call_ok(c, "cancel_campaign", {"campaign_id": campaign["id"]})
            assert back["campaign"]["status"] == "draft"
    assert account.campaigns[campaign["id"]].send_count == 0


async def test_update_a_draft_and_send_a_test(connect, account):
    async with connect() as c:
        audience = await audience_id(c)
        segment, _ = await new_segment(c, audience)
        campaign = await draft(c, audience, segment)
        preview = await call_ok(
            c, "update_campaign", {"campaign_id": campaign["id"], "subject": "New subject?", "dry_run": True}
        )
        assert preview["campaign"]["subject"] == "New subject?"
        assert account.campaigns[campaign["id"]].subject == "Your roast ships Tuesday"
        await call_ok(c, "update_campaign", {"campaign_id": campaign["id"], "subject": "New subject?"})
        assert (await call_ok(c, "get_campaign", {"campaign_id": campaign["id"]}))["subject"] == "New subject?"
        content = await call_ok(c, "get_campaign_content", {"campaign_id": campaign["id"]})
        assert content["html"] == HTML and content["links"] == ["http://127.0.0.1:8765/shop/"]
        if "test_send" not in (await call_ok(c, "account_info"))["capabilities"]:
            error, message = await call_error(
                c, "send_test", {"campaign_id": campaign["id"], "emails": ["qa@northwind.coffee"]}
            )
            assert error["type"] == "unsupported" and not account.campaigns[campaign["id"]].tests_sent
            return
        test = await call_ok(c, "send_test", {"campaign_id": campaign["id"], "emails": ["qa@northwind.coffee"]})
    assert test["sent_to"] == ["qa@northwind.coffee"]
    assert account.campaigns[campaign["id"]].tests_sent[-1][1] == ["qa@northwind.coffee"]
    assert account.campaigns[campaign["id"]].send_count == 0


async def test_subject_test_dry_run_and_duplicate_subjects(connect, account):
    async with connect() as c:
        if "ab_subject" not in (await call_ok(c, "account_info"))["capabilities"]:
            pytest.skip("no A/B tests here")
        audience = await audience_id(c)
        before = len(account.campaigns)
        args = {
            "name": "AB",
            "html": HTML,
            "audience_id": audience,
            "subject_lines": ["Coffee update", "3 brew methods you have not tried?"],
        }
        preview = await call_ok(c, "create_subject_test", {**args, "dry_run": True})
        assert preview["content"]["subjects"] == args["subject_lines"] and len(account.campaigns) == before
        _, message = await call_error(c, "create_subject_test", {**args, "subject_lines": ["Same", "same"]})
        assert "same" in message.lower()
        if "ab_winner" not in (await call_ok(c, "account_info"))["capabilities"]:  # a dry run tells the truth
            error, _ = await call_error(c, "create_subject_test", {**args, "test_size": 40, "dry_run": True})
            assert error["type"] == "unsupported" and "test_size" in error["hint"]
        made = await call_ok(c, "create_subject_test", args)
    assert made["campaign"]["ab_test"]["subject_lines"] == args["subject_lines"]


async def test_reports_separate_machine_opens_and_judge_on_clicks(connect, account):
    past = next(c for c in account.campaigns.values() if c.status == "sent" and c.name.startswith("Weekly"))
    async with connect() as c:
        result = await c.call_tool("campaign_report", {"campaign_id": past.id})
    report = result.structured_content
    assert report["emails_sent"] > 1000 and report["unique_clicks"] > 0
    assert report["open_rate"] > 0.4 and report["click_rate"] < 0.1
    assert "clicks" in text(result)
    if report["proxied_opens"] is not None:  # Mailchimp separates them; Customer.io does not
        assert report["proxied_opens"] > 0.3 * report["delivered"]
        assert "privacy proxies" in text(result)


async def test_a_client_without_credentials_gets_the_command_that_fixes_it(signed_in, server_name):
    raw = sandbox_config(signed_in.url, client="nobody")
    async with Client(create_server(parse_config(raw), "nobody", server_name)) as c:
        error, message = await call_error(c, "list_audiences", {})
    assert error["type"] == "auth_error" and "marketing-mcp auth" in message


SEND_PATHS = {
    "mailchimp": "/mailchimp/3.0/campaigns/*/actions/send",
    "customerio": "/customerio/app/v1/newsletters/*/send",
}


async def test_a_garbled_answer_to_a_send_is_reported_as_the_esp_state_says(connect, account, server_name, signed_in):
    faults = signed_in.world.faults
    async with connect() as c:
        audience = await audience_id(c)
        segment, _ = await new_segment(c, audience)
        unsent = await draft(c, audience, segment)
        rule = faults.add("malformed", method="POST", path=SEND_PATHS[server_name], times=1)
        try:
            error, message = await call_error(c, "send_campaign", {"campaign_id": unsent["id"]})
        finally:
            faults.remove(rule.id)
        assert account.campaigns[unsent["id"]].send_count == 0
        assert "was not sent" in message and "Did send" not in message and "safe to call send_campaign" in error["hint"]

        sent = await draft(c, audience, segment)
        rule = faults.add("malformed_after", method="POST", path=SEND_PATHS[server_name], times=1)
        try:
            result = await c.call_tool("send_campaign", {"campaign_id": sent["id"]})
        finally:
            faults.remove(rule.id)
    assert not result.is_error and account.campaigns[sent["id"]].send_count == 1
    assert result.structured_content["campaign"]["status"] in ("sending", "sent")
    assert text(result).startswith(f"Sent campaign {sent['id']}")


async def test_empty_ids_are_validation_errors_and_nothing_is_created(connect, account):
    before = len(account.campaigns)
    async with connect() as c:
        for args in ({"audience_id": ""}, {"segment_id": ""}):
            result = await c.call_tool("create_campaign", {"name": "Empty id", "subject": "Hi", "html": HTML, **args})
            assert result.is_error and next(iter(args)) in text(result), text(result)
            assert "internal" not in text(result).lower()
        for tool, args in (
            ("get_audience", {"audience_id": ""}),
            ("list_contacts", {"cursor": ""}),
            ("get_campaign", {"campaign_id": ""}),
        ):
            result = await c.call_tool(tool, args)
            assert result.is_error and next(iter(args)) in text(result), (tool, text(result))
    assert len(account.campaigns) == before


async def test_a_send_at_out_of_range_is_a_clear_error(connect, account):
    async with connect() as c:
        audience = await audience_id(c)
        segment, _ = await new_segment(c, audience)
        campaign = await draft(c, audience, segment)
        _, message = await call_error(
            c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": "0001-01-01T00:00:00+01:00"}
        )
    assert "out of range" in message and account.campaigns[campaign["id"]].status == "draft"


def test_every_tool_is_module_level_and_summarised_by_its_result_model():
    import inspect

    from servers.esp import TOOLS

    names = [fn.__name__ for fn, _, _ in TOOLS]
    assert len(names) == len(set(names)) == 19
    for fn, _, summary in TOOLS:
        model = inspect.signature(fn, eval_str=True).return_annotation
        assert summary is model.summary, fn.__name__
