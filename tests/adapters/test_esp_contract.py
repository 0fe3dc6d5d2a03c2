"""One contract, every ESP: the same cases against Mailchimp and Customer.io in the sandbox, over real
loopback HTTP, with adapters built by the suite's own wiring from an mcp.json (as a server builds them).

The module runs its own sandbox so it can move the world's clock (schedules firing, A/B winners,
opens and clicks arriving) without disturbing other tests.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest

from adapters.errors import InvalidRequest, NotFound
from adapters.esp.base import (
    CAP_AB_SUBJECT,
    CAP_AB_WINNER,
    CAP_CANCEL,
    CAP_PROXY_OPENS,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    CAP_TAGS,
    CAP_TEST_SEND,
    ABTest,
    CampaignFields,
    ContactUpsert,
)
from suite.auth import sign_in_at_sandbox
from suite.config import parse_config
from suite.wiring import ADAPTERS, Wiring

from ..helpers import sandbox_config

CLIENT = "esp"
BACKENDS = ["mailchimp", "customerio"]
# Where each vendor's send action lives, to lose its response on purpose.
SEND_PATHS = {
    "mailchimp": "/mailchimp/3.0/campaigns/*/actions/send",
    "customerio": "/customerio/app/v1/newsletters/*/send",
}
HTML = '<html><body><h1>Roast day</h1><p>Fresh beans.</p><a href="http://127.0.0.1:8765/shop/">Shop</a></body></html>'


@pytest.fixture(scope="module")
def world_sandbox():
    from sandbox import World, running

    with running(world=World(seed=3)) as sb:
        sign_in_at_sandbox(parse_config(_config(sb.url)), CLIENT, io.StringIO())
        yield sb


def _config(url: str) -> dict:
    raw = sandbox_config(url, client=CLIENT)
    servers = raw["clients"][CLIENT]["servers"]
    return {"clients": {CLIENT: {"sandbox": url, "servers": {k: servers[k] for k in BACKENDS}}}}


@pytest.fixture(params=BACKENDS)
async def esp(request, world_sandbox):
    adapter = await ADAPTERS[request.param](Wiring(parse_config(_config(world_sandbox.url)), CLIENT, request.param))
    adapter.backend = request.param
    adapter.world = world_sandbox.world
    adapter.account = getattr(world_sandbox.world.email, request.param)
    yield adapter
    world_sandbox.world.faults.clear()
    await adapter.aclose()


def unique_email(label: str = "c") -> str:
    return f"{label}.{uuid.uuid4().hex[:10]}@northwind-customers.com"


async def main_audience(esp) -> str:
    page = await esp.list_audiences(None, 10)
    assert page.items
    return max(page.items, key=lambda a: a.member_count).id


async def fresh_segment(esp, audience: str, n: int = 3) -> tuple[str, list[str]]:
    emails = [unique_email() for _ in range(n)]
    result = await esp.upsert_contacts(audience, [ContactUpsert(email=e) for e in emails])
    assert result.created == n and not result.failed
    segment = await esp.create_segment(audience, f"Contract {uuid.uuid4().hex[:6]}", emails)
    return segment.id, emails


def advance(esp, **delta) -> None:
    with esp.world.lock:
        esp.world.advance(**delta)


async def test_account_and_audiences_with_history(esp):
    info = await esp.account_info()
    assert info.vendor.lower().replace(".", "") == esp.backend
    assert set(info.capabilities) == set(await esp.capabilities())
    audience = await esp.get_audience(await main_audience(esp))
    assert audience.member_count > 1000
    assert audience.avg_click_rate is not None and 0.005 < audience.avg_click_rate < 0.1  # the baseline


async def test_unknown_audience_is_not_found(esp):
    with pytest.raises(NotFound) as err:
        await esp.get_audience("nope000000")
    assert "nope000000" in err.value.message or "audience" in err.value.message.lower()


async def test_batched_upsert_creates_updates_and_reports_refusals(esp):
    audience = await main_audience(esp)
    caps = await esp.capabilities()
    first, second = unique_email("ada"), unique_email("ben")
    fields: dict[str, str | int | float | bool | None]  # what ContactUpsert.merge_fields takes
    fields = {"FNAME": "Ada"} if esp.backend == "mailchimp" else {"first_name": "Ada"}
    tags = ["vip"] if CAP_TAGS in caps else []
    result = await esp.upsert_contacts(
        audience, [ContactUpsert(email=first, merge_fields=fields, tags=tags), ContactUpsert(email=second)]
    )
    assert (result.created, result.updated, result.failed) == (2, 0, [])
    contact = await esp.get_contact(audience, first)
    assert contact.status == "subscribed" and set(tags) <= set(contact.tags)
    assert "Ada" in contact.merge_fields.values()

    refused = "someone@example.com"  # Mailchimp refuses addresses that "look fake"; Customer.io takes them
    result = await esp.upsert_contacts(
        audience, [ContactUpsert(email=first, status="unsubscribed"), ContactUpsert(email=refused)]
    )
    assert result.updated == 1
    if esp.backend == "mailchimp":
        assert result.created == 0 and [f.email for f in result.failed] == [refused]
        assert "fake" in result.failed[0].reason.lower() and refused in result.failed[0].reason
    assert (await esp.get_contact(audience, first)).status == "unsubscribed"
    assert (await esp.get_contact(audience, second)).status == "subscribed"  # nothing else lost


async def test_a_thousand_contacts_take_a_few_requests(esp):
    audience = await main_audience(esp)
    contacts = [ContactUpsert(email=unique_email("bulk")) for _ in range(1000)]
    result = await esp.upsert_contacts(audience, contacts)
    assert result.created == 1000 and not result.failed
    assert result.requests <= 10


async def test_contacts_page_without_overlap(esp):
    audience = await main_audience(esp)
    first = await esp.list_contacts(audience, status="subscribed", cursor=None, limit=5)
    assert len(first.items) == 5 and first.next_cursor
    second = await esp.list_contacts(audience, status="subscribed", cursor=first.next_cursor, limit=5)
    assert not {c.email for c in first.items} & {c.email for c in second.items}
    assert all(c.status == "subscribed" for c in first.items + second.items)


async def test_static_segment_is_the_recipient_list(esp):
    if CAP_SEGMENTS not in await esp.capabilities():
        pytest.skip("no segments")
    audience = await main_audience(esp)
    segment_id, emails = await fresh_segment(esp, audience)
    assert segment_id in {s.id for s in await esp.list_segments(audience)}
    recipients = await esp.recipients(audience, segment_id)
    assert recipients.count == 3 and set(recipients.sample) == set(emails)


async def test_draft_test_send_send_and_report(esp):
    audience = await main_audience(esp)
    segment_id, emails = await fresh_segment(esp, audience, 4)
    campaign = await esp.create_campaign(
        CampaignFields(
            name="Contract send",
            audience_id=audience,
            segment_id=segment_id,
            subject="Your roast ships Tuesday",
            preview_text="Fresh beans",
            html=HTML,
        ),
        None,
    )
    assert campaign.status == "draft" and campaign.has_content
    assert await esp.readiness(campaign.id) == []
    if CAP_TEST_SEND in await esp.capabilities():
        await esp.send_test(campaign.id, ["qa@northwind.coffee"])
        assert esp.account.campaigns[campaign.id].tests_sent[-1][1] == ["qa@northwind.coffee"]
    sent = await esp.send(campaign.id)
    assert sent.status in ("sending", "sent")
    assert (await esp.get_campaign(campaign.id)).status == "sent"
    assert esp.account.campaigns[campaign.id].send_count == 1
    with pytest.raises(InvalidRequest):  # a sent campaign is never sent twice
        await esp.send(campaign.id)
    advance(esp, days=2)
    report = await esp.report(campaign.id)
    assert report.emails_sent == 4
    assert report.delivered + report.hard_bounces + report.soft_bounces == 4
    assert 0 <= report.click_rate <= 1 and report.unique_clicks <= report.delivered


async def test_a_campaign_without_content_is_refused_and_nothing_is_sent(esp):
    audience = await main_audience(esp)
    segment_id, _ = await fresh_segment(esp, audience)
    campaign = await esp.create_campaign(
        CampaignFields(name="Empty", audience_id=audience, segment_id=segment_id, subject="Nothing inside"), None
    )
    assert not campaign.has_content
    assert "content" in {i.field for i in await esp.readiness(campaign.id)}
    with pytest.raises(InvalidRequest) as err:
        await esp.send(campaign.id)
    assert "content" in err.value.message.lower()
    assert esp.account.campaigns[campaign.id].send_count == 0


async def test_schedule_in_the_past_is_refused_future_fires_cancel_unschedules(esp):
    if CAP_SCHEDULE not in await esp.capabilities():
        pytest.skip("no scheduling")
    audience = await main_audience(esp)
    segment_id, _ = await fresh_segment(esp, audience)
    fields = CampaignFields(name="Scheduled", audience_id=audience, segment_id=segment_id, subject="Soon", html=HTML)
    now = esp.world.now()
    past = await esp.create_campaign(fields, None)
    with pytest.raises(InvalidRequest) as err:
        await esp.schedule(past.id, now - timedelta(hours=1))
    assert "past" in err.value.message.lower()
    assert esp.account.campaigns[past.id].send_count == 0

    when = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    scheduled = await esp.schedule(past.id, when)
    assert scheduled.status == "scheduled" and scheduled.scheduled_for == when
    if CAP_CANCEL in await esp.capabilities():
        assert (await esp.cancel(past.id)).status == "draft"
        assert (await esp.schedule(past.id, when)).status == "scheduled"
    advance(esp, days=2)
    assert (await esp.get_campaign(past.id)).status == "sent"
    assert esp.account.campaigns[past.id].send_count == 1


async def test_subject_ab_test_reports_each_subject_and_picks_a_winner_where_it_can(esp):
    caps = await esp.capabilities()
    if CAP_AB_SUBJECT not in caps:
        pytest.skip("no A/B tests")
    audience = await main_audience(esp)
    automatic = CAP_AB_WINNER in caps
    ab = ABTest(
        subject_lines=["Coffee update", "Ada, 3 brew methods you have not tried yet?"],
        test_size=50 if automatic else 100,
        winner_criteria="clicks" if automatic else "manual",
        wait_hours=4,
    )
    campaign = await esp.create_campaign(
        CampaignFields(name="AB", audience_id=audience, subject=ab.subject_lines[0], html=HTML), ab
    )
    assert campaign.ab_test is not None and campaign.ab_test.subject_lines == ab.subject_lines
    await esp.send(campaign.id)
    advance(esp, hours=5)
    done = await esp.get_campaign(campaign.id)
    assert done.status == "sent"
    assert done.ab_test.winner in ab.subject_lines if automatic else done.ab_test.winner is None
    report = await esp.report(campaign.id)
    assert [v.subject for v in report.variants] == ab.subject_lines
    assert all(v.sent > 500 for v in report.variants)


async def test_opens_are_inflated_by_privacy_proxies_clicks_are_not(esp):
    audience = await main_audience(esp)
    campaign = await esp.create_campaign(
        CampaignFields(name="Proxies", audience_id=audience, subject="How to dial in your grinder", html=HTML), None
    )
    await esp.send(campaign.id)
    advance(esp, days=3)
    report = await esp.report(campaign.id)
    assert report.emails_sent > 1000
    assert report.open_rate > 0.4 and report.click_rate < 0.1  # machine opens, human clicks
    if CAP_PROXY_OPENS in await esp.capabilities():
        assert report.proxied_opens and report.proxied_opens > 0.3 * report.delivered
        assert report.human_open_rate is not None and report.human_open_rate < report.open_rate - 0.3


async def test_a_send_whose_response_is_lost_is_sent_exactly_once(esp):
    audience = await main_audience(esp)
    segment_id, _ = await fresh_segment(esp, audience)
    campaign = await esp.create_campaign(
        CampaignFields(name="Lost", audience_id=audience, segment_id=segment_id, subject="Once only", html=HTML), None
    )
    esp.world.faults.add("drop_after", path=SEND_PATHS[esp.backend], method="POST", times=1)
    sent = await esp.send(campaign.id)
    assert sent.status in ("sending", "sent")
    assert esp.account.campaigns[campaign.id].send_count == 1
