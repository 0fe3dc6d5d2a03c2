"""MCP citizenship: serverInfo.version, progress and cancellation of long tools, elicitation before
destructive ones, and resources, as a host sees them through the SDK's in-memory client.

Each behaviour is checked on both protocol generations the SDK speaks: 2026-07-28 (the in-memory
default: a question is an InputRequiredResult and the call is retried) and the 2025-11-25 handshake
that today's hosts use (a question is an elicitation/create request in the middle of the call).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import uuid
from typing import Literal

import anyio
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData, TextResourceContents

from suite.config import parse_config
from suite.wiring import create_server

from ..helpers import call_error, call_ok, sandbox_config
from .test_google_tools import google  # noqa: F401 - the fixture: client `g` signed in to the sandbox's Google

HTML = "<html><body><h1>Spring sale</h1><p>Beans at half price.</p></body></html>"
MODES = ["auto", "legacy"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def config(signed_in):
    return parse_config(sandbox_config(signed_in.url))


class Asker:
    """An elicitation callback that answers every question the same way and remembers what it was asked."""

    def __init__(self, action: Literal["accept", "decline", "cancel"] = "accept", confirm: bool = True):
        self.action: Literal["accept", "decline", "cancel"] = action
        self.confirm = confirm
        self.questions: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        assert isinstance(params, ElicitRequestFormParams)  # the servers ask by form, never by URL
        self.questions.append(params.message)
        assert params.requested_schema["properties"]["confirm"]["type"] == "boolean"
        return ElicitResult(action=self.action, content={"confirm": self.confirm} if self.action == "accept" else None)


def email() -> str:
    return f"c.{uuid.uuid4().hex[:10]}@northwind-customers.com"


async def _audience(c) -> dict:
    page = await call_ok(c, "list_audiences")
    return max(page["items"], key=lambda a: a["member_count"])


async def _campaign(c, n: int = 3) -> tuple[dict, dict]:
    audience = await _audience(c)
    people = [email() for _ in range(n)]
    await call_ok(c, "upsert_contacts", {"audience_id": audience["id"], "contacts": [{"email": e} for e in people]})
    segment = await call_ok(
        c, "create_segment", {"audience_id": audience["id"], "name": f"C {uuid.uuid4().hex[:6]}", "emails": people}
    )
    made = await call_ok(
        c,
        "create_campaign",
        {
            "name": f"Spring sale {uuid.uuid4().hex[:4]}",
            "subject": "Half price",
            "html": HTML,
            "audience_id": audience["id"],
            "segment_id": segment["segment"]["id"],
        },
    )
    return made["campaign"], audience


# -- serverInfo.version ------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", ["ga4", "wordpress", "webflow", "mailchimp", "search-console"])
async def test_server_info_carries_the_package_version(config, google, server_name, mode):  # noqa: F811 - `google` is the fixture imported above
    client, cfg = ("g", google) if server_name in ("ga4", "search-console") else ("t", config)
    async with Client(create_server(cfg, client, server_name), mode=mode) as c:
        info = c.session.server_info
    assert info is not None
    assert info.name == server_name and info.version == importlib.metadata.version("marketing-mcp")


# -- elicitation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", ["mailchimp", "customerio"])
async def test_a_declined_send_sends_nothing_and_an_accepted_one_is_sent(config, signed_in, server_name, mode):
    account = getattr(signed_in.world.email, server_name)
    send_path = {
        "mailchimp": "/mailchimp/3.0/campaigns/*/actions/send",
        "customerio": "/customerio/app/v1/newsletters/*/send",
    }[server_name]
    for answer in (Asker("decline"), Asker("cancel"), Asker("accept", confirm=False)):
        async with Client(create_server(config, "t", server_name), mode=mode, elicitation_callback=answer) as c:
            campaign, audience = await _campaign(c)
            before = signed_in.world.faults.received("POST", send_path)
            error, message = await call_error(c, "send_campaign", {"campaign_id": campaign["id"]})
        assert error["type"] == "declined" and "Nothing was sent" in message
        assert len(answer.questions) == 1 and answer.questions[0].startswith(
            f"Send '{campaign['name']}' to 3 recipient(s) of {audience['name']} (segment "
        )
        assert account.campaigns[campaign["id"]].send_count == 0
        assert signed_in.world.faults.received("POST", send_path) == before

    yes = Asker()
    async with Client(create_server(config, "t", server_name), mode=mode, elicitation_callback=yes) as c:
        campaign, audience = await _campaign(c)
        preview = await call_ok(c, "send_campaign", {"campaign_id": campaign["id"], "dry_run": True})
        assert yes.questions == [] and preview["dry_run"]  # a dry run asks nothing
        sent = await call_ok(c, "send_campaign", {"campaign_id": campaign["id"]})
    assert not sent["dry_run"] and account.campaigns[campaign["id"]].send_count == 1
    assert (
        len(yes.questions) == 1 and f"'{campaign['name']}' to 3 recipient(s) of {audience['name']}" in yes.questions[0]
    )


async def test_a_host_that_cannot_elicit_sends_as_before(config, signed_in, mode):
    account = signed_in.world.email.mailchimp
    async with Client(create_server(config, "t", "mailchimp"), mode=mode) as c:
        campaign, _ = await _campaign(c)
        await call_ok(c, "send_campaign", {"campaign_id": campaign["id"]})
    assert account.campaigns[campaign["id"]].send_count == 1


async def test_schedule_and_cancel_ask_with_the_time(config, signed_in, mode):
    account = signed_in.world.email.mailchimp
    no = Asker("decline")
    async with Client(create_server(config, "t", "mailchimp"), mode=mode, elicitation_callback=no) as c:
        campaign, _ = await _campaign(c)
        error, message = await call_error(
            c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": "2031-12-01T09:00:00+01:00"}
        )
    assert error["type"] == "declined" and "Nothing was scheduled" in message
    assert "for 2031-12-01 08:00 UTC?" in no.questions[0] and account.campaigns[campaign["id"]].status == "draft"
    yes = Asker()
    async with Client(create_server(config, "t", "mailchimp"), mode=mode, elicitation_callback=yes) as c:
        done = await call_ok(
            c, "schedule_campaign", {"campaign_id": campaign["id"], "send_at": "2031-12-01T09:00:00+01:00"}
        )
        assert done["campaign"]["status"] == "scheduled"
        await call_ok(c, "cancel_campaign", {"campaign_id": campaign["id"]})
    assert "Stop campaign" in yes.questions[1] and "scheduled for 2031-12-01 08:00 UTC" in yes.questions[1]


@pytest.mark.parametrize("server_name", ["wordpress", "webflow"])
async def test_publish_asks_with_title_and_a_no_leaves_the_draft(config, server_name, mode):
    title = f"Citizen {uuid.uuid4().hex[:6]}"
    no, yes = Asker("decline"), Asker()
    async with Client(create_server(config, "t", server_name), mode=mode, elicitation_callback=no) as c:
        made = await call_ok(c, "create_draft", {"title": title, "body": "<p>Hello.</p>"})
        post_id = made["post"]["id"]
        error, message = await call_error(c, "publish", {"post_id": post_id})
        assert error["type"] == "declined" and "Nothing was changed" in message
        assert (await call_ok(c, "get_post", {"post_id": post_id}))["status"] == "draft"
    assert no.questions[0].startswith(f"Publish post '{title}'")
    async with Client(create_server(config, "t", server_name), mode=mode, elicitation_callback=yes) as c:
        assert (await call_ok(c, "publish", {"post_id": post_id}))["post"]["status"] == "published"
        again = await call_ok(c, "publish", {"post_id": post_id})  # nothing changes: nothing to ask
    assert again["changes"] == [] and len(yes.questions) == 1 and title in yes.questions[0]


# -- progress and cancellation ---------------------------------------------------------------------------


async def test_upsert_reports_progress_per_batch(config, mode):
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(create_server(config, "t", "mailchimp"), mode=mode) as c:
        audience = await _audience(c)
        contacts = [{"email": email()} for _ in range(1200)]
        result = await c.call_tool(
            "upsert_contacts", {"audience_id": audience["id"], "contacts": contacts}, progress_callback=on_progress
        )
    assert not result.is_error
    assert [d for d, _ in seen] == sorted({d for d, _ in seen}) and len(seen) == 3  # 500 + 500 + 200
    assert seen[-1] == (1200, 1200) and all(t == 1200 for _, t in seen)


async def test_a_cancelled_upsert_stops_and_the_server_keeps_serving(config, signed_in):
    """1,000 tagged contacts: two batch calls, then a tag call per contact (ten at a time). Cancelled
    after the first batch, the tag calls stop: nothing more reaches Mailchimp after the in-flight ones.

    On the 2026-07-28 in-memory connection (cancellation is the caller's cancel scope). Over the
    2025-11-25 handshake (notifications/cancelled) the server stops too, but the in-memory client
    sometimes reports its connection closed afterwards; under investigation, so not asserted here."""
    mode = "auto"
    faults = signed_in.world.faults
    first = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        first.set()

    rule = faults.add("latency", path="/mailchimp/3.0/lists/*/members/*/tags", delay=0.05)
    try:
        async with Client(create_server(config, "t", "mailchimp"), mode=mode) as c:
            audience = await _audience(c)
            contacts = [{"email": email(), "tags": ["spring"]} for _ in range(1000)]
            before = faults.received(path="/mailchimp/3.0/*")
            done: list[bool] = []

            async def upsert():
                await c.call_tool(
                    "upsert_contacts",
                    {"audience_id": audience["id"], "contacts": contacts},
                    progress_callback=on_progress,
                )
                done.append(True)

            async with anyio.create_task_group() as tg:
                tg.start_soon(upsert)
                with anyio.fail_after(20):
                    await first.wait()
                tg.cancel_scope.cancel()
            assert done == []
            await asyncio.sleep(0.5)  # the calls in flight when it was cancelled finish
            settled = faults.received(path="/mailchimp/3.0/*")
            await asyncio.sleep(0.5)
            assert faults.received(path="/mailchimp/3.0/*") == settled
            assert settled - before < 200  # far fewer than the 1,000 tag calls
            assert (await call_ok(c, "list_audiences"))["items"]  # still serving
    finally:
        faults.remove(rule.id)


# -- resources -----------------------------------------------------------------------------------------


async def test_ga4_metadata_catalogue_is_a_resource_template(google, mode):  # noqa: F811 - `google` is the fixture imported above
    import json

    async with Client(create_server(google, "g", "ga4"), mode=mode) as c:
        templates = (await c.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["ga4://properties/{property}/metadata"]
        read = await c.read_resource("ga4://properties/web/metadata")
        content = read.contents[0]
        assert isinstance(content, TextResourceContents)  # JSON is served as text, not as a blob
        catalogue = json.loads(content.text)
        assert content.mime_type == "application/json" and len(content.text) < 60_000
        assert catalogue["property"] == "properties/420000001"
        assert "sessions" in catalogue["metrics"] and "landingPage" in catalogue["dimensions"]
        with pytest.raises(Exception, match="nowhere|not|unknown|configured"):
            await c.read_resource("ga4://properties/nowhere/metadata")
        assert (await call_ok(c, "list_properties"))["properties"]  # still serving


async def test_esp_audience_is_a_resource_template(config, mode):
    import json

    async with Client(create_server(config, "t", "mailchimp"), mode=mode) as c:
        templates = (await c.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["esp://audiences/{audience_id}"]
        audience = await _audience(c)
        read = await c.read_resource(f"esp://audiences/{audience['id']}")
        content = read.contents[0]
        assert isinstance(content, TextResourceContents)  # JSON is served as text, not as a blob
        assert json.loads(content.text)["member_count"] == audience["member_count"]
