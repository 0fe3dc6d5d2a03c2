"""Edge cases of the Customer.io adapter: against respx where the vendor misbehaves on demand (5xx, garbage,
429, lost responses), and against the sandbox for the flows that need a real workspace behind them.

`clock` is the fake clock from tests/conftest.py, so retries and backoff never sleep.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from adapters.errors import (
    AuthError,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unsupported,
    UpstreamUnavailable,
)
from adapters.esp.base import (
    CAP_AB_SUBJECT,
    CAP_PROXY_OPENS,
    CAP_TAGS,
    CAP_TEST_SEND,
    ABTest,
    CampaignFields,
    ContactUpsert,
)
from adapters.esp.customerio import BATCH_BYTES, CustomerIO, classify_customerio_error, parse_customerio_error
from adapters.http import HttpService, Upstream
from adapters.ratelimit import WindowBudget
from suite.wiring import CUSTOMERIO_APP_REQUESTS

if TYPE_CHECKING:
    from sandbox import World
    from sandbox.email_world import EmailAccount

APP = "https://api.customer.io/v1/"
TRACK = "https://track.customer.io/api/"
APP_KEY = "cio-app-key-0123456789abcdef"
SITE, TRACK_KEY = "site-0123", "track-key-0123456789abcdef"
AUTH_HINT = "Run `marketing-mcp auth login customerio --client acme`."
HTML = '<p>Fresh beans. <a href="http://127.0.0.1:8765/shop/">Shop</a></p>'


def make_cio(
    clock,
    app_base: str = APP,
    track_base: str = TRACK,
    *,
    app_key: str = APP_KEY,
    site: str = SITE,
    track_key: str = TRACK_KEY,
    pace=None,
) -> CustomerIO:
    def service(api: str, base: str, **auth) -> HttpService:
        http = HttpService(
            Upstream("Customer.io", f"{api}, workspace of client 'acme'", AUTH_HINT),
            base_url=base,
            parse_error=parse_customerio_error,
            classify=classify_customerio_error,
            clock=clock,
            rng=random.Random(7),
            **auth,
        )
        if pace is not None:
            http.client.event_hooks["request"].append(pace)
        return http

    return CustomerIO(
        service("App API", app_base, headers={"Authorization": f"Bearer {app_key}"}),
        service("Track API", track_base, auth=httpx.BasicAuth(site, track_key)),
    )


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def cio(api, clock):
    adapter = make_cio(clock)
    yield adapter
    await adapter.aclose()


def newsletter(nid: int = 42, *, sent_at: int | None = None, name: str = "Roast day", segments=(7,)) -> dict:
    return {
        "id": nid,
        "deduplicate_id": f"{nid}:1",
        "type": "email",
        "content_ids": [nid * 10 + 1],
        "name": name,
        "sent_at": sent_at,
        "created": 1_700_000_000,
        "updated": 1_700_000_000,
        "tags": [],
        "recipient_segment_ids": list(segments),
    }


def content(nid: int = 42, index: int = 1, subject: str = "Your roast ships Tuesday", body: str = HTML) -> dict:
    return {
        "id": nid * 10 + index,
        "newsletter_id": nid,
        "subject": subject,
        "body": body,
        "from": "Northwind Coffee <hello@northwind.coffee>",
        "from_id": 1,
        "reply_to": "hello@northwind.coffee",
        "reply_to_id": 1,
        "preheader_text": "Fresh",
        "type": "email",
    }


def mock_newsletter(api, nid: int = 42, **kwargs) -> respx.Route:
    api.get(f"{APP}newsletters/{nid}/contents").respond(json={"contents": [content(nid)]})
    return api.get(f"{APP}newsletters/{nid}").respond(json={"newsletter": newsletter(nid, **kwargs)})


def series(**counts: list[int]) -> dict:
    return {"metric": {"type": "email", "series": counts}}


# -- error bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"meta": {"error": "Customer not found."}}, ("", "Customer not found.")),
        ({"meta": {"errors": ["email is invalid", "id is missing"]}}, ("", "email is invalid; id is missing")),
        ({"errors": [{"detail": "subscription_topic_id is required"}]}, ("", "subscription_topic_id is required")),
        (
            {"errors": [{"reason": "required", "field": "identifiers", "message": "one identifier"}]},
            ("required", "identifiers: one identifier"),
        ),
        (
            {"errors": [{"detail": "Errors were found", "source": {"pointer": "/data"}, "status": "422"}]},
            ("", "Errors were found"),
        ),
        ("<html>Bad Gateway</html>", ("", "")),
        ([1, 2], ("", "")),
    ],
)
def test_every_error_shape_is_read(body, expected):
    response = httpx.Response(400, json=body) if not isinstance(body, str) else httpx.Response(502, text=body)
    assert parse_customerio_error(response) == expected


def test_classifier_leaves_statuses_to_the_default_map():
    assert classify_customerio_error(400, "not_found") is NotFound
    assert classify_customerio_error(400, "required") is None


async def test_401_is_an_auth_error_with_the_hint_and_no_key(api, cio):
    api.get(f"{APP}segments").respond(401, json={"meta": {"error": "Unauthorized request."}})
    with pytest.raises(AuthError) as caught:
        await cio.list_segments("people")
    assert caught.value.hint == AUTH_HINT and caught.value.status == 401
    assert APP_KEY not in str(caught.value) and APP_KEY not in caught.value.hint
    assert api.calls.last.request.headers["Authorization"] == f"Bearer {APP_KEY}"


async def test_track_calls_use_basic_auth(api, cio):
    api.post(f"{APP}customers").respond(json={"identifiers": [], "ids": [], "next": ""})
    batch = api.post(f"{TRACK}v2/batch").respond(json={})
    await cio.upsert_contacts("people", [ContactUpsert(email="ada@northwind.coffee")])
    sent = batch.calls.last.request
    assert sent.headers["Authorization"] == httpx.BasicAuth(SITE, TRACK_KEY)._auth_header
    assert json.loads(sent.content) == {
        "batch": [
            {"type": "person", "identifiers": {"email": "ada@northwind.coffee"}, "action": "identify", "attributes": {}}
        ]
    }


# -- retries, garbage, lost responses -----------------------------------------------------------


async def test_a_5xx_on_a_read_is_retried(api, cio, clock):
    route = api.get(f"{APP}segments").mock(
        side_effect=[
            httpx.Response(503, json={"meta": {"error": "Service Unavailable"}}),
            httpx.Response(200, json={"segments": [{"id": 7, "name": "VIP", "type": "manual"}]}),
        ]
    )
    assert [s.name for s in await cio.list_segments("people")] == ["VIP"]
    assert route.call_count == 2 and len(clock.sleeps) == 1


async def test_429_with_retry_after_waits_that_long(api, cio, clock):
    route = api.get(f"{APP}segments").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}, json={"meta": {"error": "over the 10-per-second limit"}}),
            httpx.Response(200, json={"segments": []}),
        ]
    )
    assert await cio.list_segments("people") == []
    assert route.call_count == 2 and clock.sleeps == [1.0]


async def test_429_beyond_the_deadline_is_rate_limited(api, cio, clock):
    api.get(f"{APP}segments").respond(429, headers={"Retry-After": "90"}, json={"meta": {"error": "slow down"}})
    with pytest.raises(RateLimited) as caught:
        await cio.list_segments("people")
    assert caught.value.retry_after == 90 and clock.sleeps == []


async def test_a_body_that_is_not_json_is_upstream_unavailable(api, cio):
    api.get(f"{APP}newsletters/42").respond(
        200, content=b'{"newsletter": {"id": 4', headers={"Content-Type": "application/json"}
    )
    with pytest.raises(UpstreamUnavailable):
        await cio.get_campaign("42")


async def test_json_of_the_wrong_shape_is_upstream_unavailable(api, cio):
    api.get(f"{APP}segments").respond(json={"message": "maintenance"})
    with pytest.raises(UpstreamUnavailable):
        await cio.list_segments("people")


async def test_a_send_answered_with_a_5xx_that_went_out_is_not_sent_again(api, cio):
    send = api.post(f"{APP}newsletters/42/send").respond(502, text="<html>Bad Gateway</html>")
    mock_newsletter(api, sent_at=1_700_000_500)
    campaign = await cio.send("42")
    assert send.call_count == 1
    assert campaign.status == "sent" and campaign.sent_at == datetime.fromtimestamp(1_700_000_500, timezone.utc)


async def test_a_lost_send_that_did_not_go_out_is_reported_unsent_not_sent_again(api, cio):
    send = api.post(f"{APP}newsletters/42/send").mock(
        side_effect=[httpx.ReadError("connection reset"), httpx.Response(200, json={"newsletter": newsletter()})]
    )
    state = mock_newsletter(api, sent_at=None)
    with pytest.raises(UpstreamUnavailable) as caught:
        await cio.send("42")
    assert not isinstance(caught.value, OutcomeUnknown) and "was not sent" in caught.value.message
    assert "safe to call send_campaign again" in caught.value.hint
    assert send.call_count == 1 and state.call_count == 1


GARBLED = b'{"newsletter": {"id": 4'


async def test_a_garbled_answer_to_a_send_is_sent_only_if_the_newsletter_reads_sent(api, cio):
    send = api.post(f"{APP}newsletters/42/send").respond(
        200, content=GARBLED, headers={"Content-Type": "application/json"}
    )
    state = mock_newsletter(api, sent_at=None)
    with pytest.raises(UpstreamUnavailable) as caught:
        await cio.send("42")
    assert "was not sent" in caught.value.message and "not JSON" in caught.value.message
    assert "still shows it as draft" in caught.value.message and GARBLED.decode() not in caught.value.message
    state.respond(json={"newsletter": newsletter(sent_at=1_700_000_500)})
    assert (await cio.send("42")).status == "sent" and send.call_count == 2


async def test_a_429_on_a_send_beyond_the_deadline_fails_at_once_with_one_request(api, cio, clock):
    send = api.post(f"{APP}newsletters/42/send").respond(
        429, headers={"Retry-After": "120"}, json={"meta": {"error": "slow down"}}
    )
    with pytest.raises(RateLimited) as caught:
        await cio.send("42")
    assert caught.value.retry_after == 120 and send.call_count == 1 and clock.sleeps == []


async def test_a_garbled_answer_to_a_schedule_is_checked_by_setting_the_time_again(api, cio):
    route = api.post(f"{APP}newsletters/42/schedule").mock(
        side_effect=[
            httpx.Response(200, content=GARBLED, headers={"Content-Type": "application/json"}),
            httpx.Response(200, json={"newsletter": newsletter()}),
        ]
    )
    mock_newsletter(api)
    when = datetime(2030, 5, 1, 9, 30, tzinfo=timezone.utc)
    assert (await cio.schedule("42", when)).scheduled_for == when and route.call_count == 2
    route.mock(side_effect=None).respond(200, content=GARBLED, headers={"Content-Type": "application/json"})
    with pytest.raises(OutcomeUnknown) as caught:
        await cio.schedule("42", when)
    assert "may or may not be scheduled" in caught.value.message and "UI" in caught.value.hint


async def test_a_lost_send_whose_state_cannot_be_read_stays_unknown(api, cio):
    send = api.post(f"{APP}newsletters/42/send").mock(side_effect=httpx.ReadError("connection reset"))
    api.get(f"{APP}newsletters/42").respond(500, json={"meta": {"error": "Internal Server Error"}})
    with pytest.raises(OutcomeUnknown):
        await cio.send("42")
    assert send.call_count == 1


async def test_sending_a_sent_newsletter_is_refused_naming_the_state(api, cio):
    api.post(f"{APP}newsletters/42/send").respond(
        400, json={"errors": [{"detail": "The newsletter has already been sent (it is sent)."}]}
    )
    with pytest.raises(InvalidRequest) as caught:
        await cio.send("42")
    assert "already been sent" in caught.value.message


async def test_a_lost_create_that_happened_is_not_sent_again(api, cio):
    api.get(f"{APP}segments/7").respond(json={"segment": {"id": 7, "name": "VIP", "type": "manual"}})
    api.get(f"{APP}sender_identities").respond(
        json={
            "sender_identities": [
                {"id": 1, "name": "Northwind Coffee", "email": "hello@northwind.coffee", "template_type": "email"}
            ]
        }
    )
    create = api.post(f"{APP}newsletters").mock(side_effect=httpx.ReadError("connection reset"))
    api.get(f"{APP}newsletters", params={"limit": "20"}).respond(
        json={"newsletters": [newsletter(43, name="Other"), newsletter(42)], "next": ""}
    )
    mock_newsletter(api)
    campaign = await cio.create_campaign(
        CampaignFields(name="Roast day", segment_id="7", subject="Your roast ships Tuesday", html=HTML), None
    )
    assert create.call_count == 1 and campaign.id == "42"
    sent = json.loads(create.calls.last.request.content)
    assert sent == {
        "name": "Roast day",
        "type": "email",
        "recipients": {"segment": {"id": 7}},
        "subject": "Your roast ships Tuesday",
        "body": HTML,
    }


async def test_a_lost_cancel_that_happened_is_done(api, cio):
    route = api.post(f"{APP}newsletters/42/schedule").mock(
        side_effect=[
            httpx.ReadError("connection reset"),
            httpx.Response(
                400, json={"errors": [{"detail": "The newsletter is not currently scheduled (it is draft)."}]}
            ),
        ]
    )
    mock_newsletter(api)
    assert (await cio.cancel("42")).status == "draft"
    assert route.call_count == 2 and json.loads(route.calls.last.request.content) == {"scheduled_at": 0}


async def test_canceling_what_is_not_scheduled_says_what_can_be_canceled(api, cio):
    api.post(f"{APP}newsletters/42/schedule").respond(
        400, json={"errors": [{"detail": "The newsletter is not currently scheduled (it is sent)."}]}
    )
    with pytest.raises(InvalidRequest) as caught:
        await cio.cancel("42")
    assert "it is sent" in caught.value.message and "UI" in caught.value.hint


async def test_a_schedule_in_the_past_says_so(api, cio):
    api.post(f"{APP}newsletters/42/schedule").respond(
        422, json={"errors": [{"detail": "scheduled_at must be in the future."}]}
    )
    with pytest.raises(InvalidRequest) as caught:
        await cio.schedule("42", datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert "in the past" in caught.value.message and "future" in caught.value.hint


async def test_schedule_sends_a_unix_time_and_reports_what_it_set(api, cio):
    route = api.post(f"{APP}newsletters/42/schedule").respond(json={"newsletter": newsletter()})
    mock_newsletter(api)
    when = datetime(2030, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    campaign = await cio.schedule("42", when)
    assert json.loads(route.calls.last.request.content) == {"scheduled_at": int(when.timestamp()), "timezone": "UTC"}
    assert campaign.status == "scheduled" and campaign.scheduled_for == when


# -- batches ------------------------------------------------------------------------------------


async def test_upsert_tells_created_from_updated_and_maps_batch_errors_to_addresses(api, cio):
    lookup = api.post(f"{APP}customers").respond(
        json={"identifiers": [{"email": "old@northwind.coffee", "id": "1", "cio_id": "031"}], "ids": ["1"], "next": ""}
    )
    api.post(f"{TRACK}v2/batch").respond(
        207,
        json={
            "errors": [
                {"batch_index": 2, "reason": "invalid", "field": "identifiers.email", "message": "'bad@x' is not valid"}
            ]
        },
    )
    result = await cio.upsert_contacts(
        "people",
        [
            ContactUpsert(email="old@northwind.coffee", status="unsubscribed"),
            ContactUpsert(email="new@northwind.coffee", merge_fields={"plan": "pro"}),
            ContactUpsert(email="bad@northwind.coffee"),
            ContactUpsert(email="new@northwind.coffee", merge_fields={"plan": "team"}),  # the last one wins
        ],
    )
    assert (result.created, result.updated, result.requests) == (1, 1, 2)
    assert [(f.email, f.reason) for f in result.failed] == [("bad@northwind.coffee", "invalid: 'bad@x' is not valid")]
    filter_sent = json.loads(lookup.calls.last.request.content)["filter"]["or"]
    assert [c["attribute"]["value"] for c in filter_sent] == [
        "old@northwind.coffee",
        "new@northwind.coffee",
        "bad@northwind.coffee",
    ]
    batch = json.loads(api.calls.last.request.content)["batch"]
    assert batch[0]["attributes"] == {"unsubscribed": True} and batch[1]["attributes"] == {"plan": "team"}


async def test_upsert_splits_batches_under_500_kb_and_refuses_people_over_32_kb(api, cio):
    api.post(f"{APP}customers").respond(json={"identifiers": [], "ids": [], "next": ""})
    batches = api.post(f"{TRACK}v2/batch").respond(json={})
    contacts = [ContactUpsert(email=f"p{i}@northwind.coffee", merge_fields={"notes": "x" * 3000}) for i in range(400)]
    contacts.append(ContactUpsert(email="huge@northwind.coffee", merge_fields={"notes": "x" * 40_000}))
    result = await cio.upsert_contacts("people", contacts)
    sizes = [len(c.request.content) for c in batches.calls]
    assert len(sizes) == 3 and all(size < BATCH_BYTES + 100 for size in sizes)
    assert sum(len(json.loads(c.request.content)["batch"]) for c in batches.calls) == 400
    assert result.created == 400 and [f.email for f in result.failed] == ["huge@northwind.coffee"]
    assert result.requests == 1 + 3


async def test_tags_are_refused_before_any_request(api, cio):
    with pytest.raises(Unsupported) as caught:
        await cio.upsert_contacts("people", [ContactUpsert(email="a@northwind.coffee", tags=["vip"])])
    assert "attribute" in caught.value.hint and not api.calls


# -- refusals without a request -------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_campaign("../segments"),
        lambda c: c.send("abc"),
        lambda c: c.get_audience("list-1"),
        lambda c: c.list_contacts("list-1", status=None, cursor=None, limit=5),
        lambda c: c.recipients("people", "not-a-segment"),
    ],
)
async def test_ids_that_cannot_exist_are_not_found_without_a_request(api, cio, call):
    with pytest.raises(NotFound) as caught:
        await call(cio)
    assert caught.value.hint and not api.calls


async def test_an_unknown_segment_says_to_list_segments(api, cio):
    api.get(f"{APP}segments/99").respond(404, json={"meta": {"error": "Segment 99 not found."}})
    with pytest.raises(NotFound) as caught:
        await cio.create_campaign(CampaignFields(name="X", segment_id="99", subject="S", html=HTML), None)
    assert "list_segments" in caught.value.hint
    assert not any(c.request.method == "POST" for c in api.calls)


async def test_listing_reads_a_sent_newsletters_contents_once_and_a_drafts_every_time(api, cio):
    sent, draft = newsletter(1, sent_at=1_700_100_000, name="Sent"), newsletter(2, name="Draft")
    api.get(f"{APP}newsletters").respond(json={"newsletters": [sent, draft]})
    sent_contents = api.get(f"{APP}newsletters/1/contents").respond(json={"contents": [content(1)]})
    draft_contents = api.get(f"{APP}newsletters/2/contents").respond(json={"contents": [content(2)]})
    for _ in range(3):
        listed = await cio.list_campaigns(None, None, 10)
        assert [c.subject for c in listed.items] == ["Your roast ships Tuesday"] * 2
    assert sent_contents.call_count == 1 and draft_contents.call_count == 3
    api.get(f"{APP}newsletters").respond(json={"newsletters": [{**sent, "updated": 1_700_200_000}]})
    await cio.list_campaigns("sent", None, 10)
    assert sent_contents.call_count == 2  # edited since: read again


async def test_an_unknown_newsletter_says_to_list_campaigns(api, cio):
    api.get(f"{APP}newsletters/5").respond(404, json={"errors": [{"detail": "Newsletter 5 not found."}]})
    api.get(f"{APP}newsletters/5/contents").respond(404, json={"errors": [{"detail": "Newsletter 5 not found."}]})
    with pytest.raises(NotFound) as caught:
        await cio.get_campaign("5")
    assert "list_campaigns" in caught.value.hint


async def test_an_invalid_address_is_named(api, cio):
    with pytest.raises(InvalidRequest) as caught:
        await cio.get_contact("people", "ada@@northwind")
    assert "ada@@northwind" in caught.value.message + caught.value.hint and not api.calls


async def test_what_the_api_cannot_do_is_refused(api, cio):
    caps = await cio.capabilities()
    assert CAP_TEST_SEND not in caps and CAP_TAGS not in caps and {CAP_AB_SUBJECT, CAP_PROXY_OPENS} <= caps
    with pytest.raises(Unsupported):
        await cio.send_test("42", ["qa@northwind.coffee"])
    with pytest.raises(Unsupported) as caught:
        await cio.create_campaign(
            CampaignFields(name="AB", subject="A", html=HTML),
            ABTest(subject_lines=["A", "B"], test_size=50, winner_criteria="clicks"),
        )
    assert "test_size=100" in caught.value.hint
    assert not api.calls


async def test_a_new_name_or_audience_for_a_newsletter_is_unsupported(api, cio):
    mock_newsletter(api)
    with pytest.raises(Unsupported):
        await cio.update_campaign("42", CampaignFields(name="Renamed"))
    assert not any(c.request.method == "PUT" for c in api.calls)


async def test_a_sender_name_must_be_a_sender_identity(api, cio):
    mock_newsletter(api)
    api.get(f"{APP}sender_identities").respond(
        json={
            "sender_identities": [
                {
                    "id": 1,
                    "name": "Northwind Coffee",
                    "email": "hello@northwind.coffee",
                    "address": "Northwind Coffee <hello@northwind.coffee>",
                    "template_type": "email",
                }
            ]
        }
    )
    with pytest.raises(InvalidRequest) as caught:
        await cio.update_campaign("42", CampaignFields(from_name="Someone Else"))
    assert "Northwind Coffee <hello@northwind.coffee>" in caught.value.message


# -- reports ------------------------------------------------------------------------------------


async def test_report_sums_series_and_merges_link_counts(api, cio):
    mock_newsletter(api, sent_at=1_700_000_500)
    api.get(f"{APP}newsletters/42/metrics").respond(
        json=series(
            sent=[0, 90, 10],
            delivered=[0, 88, 10],
            bounced=[0, 2, 0],
            opened=[0, 50, 10],
            human_opened=[0, 20, 5],
            prefetch_opened=[0, 30, 5],
            clicked=[0, 5, 4],
            unsubscribed=[0, 1, 0],
        )
    )
    api.get(f"{APP}newsletters/42/metrics/links", params={"unique": "false"}).respond(
        json={"links": [{"link": {"id": 1, "href": "https://a.test/"}, "metric": {"series": {"clicked": [0, 7, 3]}}}]}
    )
    api.get(f"{APP}newsletters/42/metrics/links", params={"unique": "true"}).respond(
        json={"links": [{"link": {"id": 1, "href": "https://a.test/"}, "metric": {"series": {"clicked": [0, 5, 3]}}}]}
    )
    report = await cio.report("42")
    assert (report.emails_sent, report.delivered, report.hard_bounces) == (100, 98, 2)
    assert (report.unique_opens, report.proxied_opens, report.unique_clicks) == (60, 35, 9)
    assert report.open_rate == pytest.approx(60 / 98) and report.human_open_rate == pytest.approx(25 / 98)
    assert report.click_rate == pytest.approx(9 / 98)
    assert [(link.url, link.total_clicks, link.unique_clicks) for link in report.links] == [("https://a.test/", 10, 8)]
    assert api.calls.last.request.url.params["period"] == "months"


# -- against the sandbox ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cio_sandbox():
    from sandbox import World, running

    with running(world=World(seed=5)) as sb:
        yield sb


@dataclass
class Live:
    """The adapter on the sandbox, with the world behind it and the workspace it reads and writes."""

    cio: CustomerIO
    world: World
    account: EmailAccount


@pytest.fixture
async def live(cio_sandbox, clock):
    from sandbox.clock import ManualMonotonic

    world = cio_sandbox.world
    world.monotonic = ManualMonotonic()
    world.reset()
    creds = cio_sandbox.provision()["customerio"]

    async def pace(_request):  # keep inside the App API's 10 requests a second on the world's clock
        world.monotonic.advance(0.1)

    adapter = make_cio(
        clock,
        creds["app_api_base"] + "/",
        creds["track_api_base"] + "/",
        app_key=creds["app_api_key"],
        site=creds["site_id"],
        track_key=creds["track_api_key"],
        pace=pace,
    )
    yield Live(adapter, world, world.email.customerio)
    world.faults.clear()
    await adapter.aclose()


def advance(live, **delta) -> None:
    with live.world.lock:
        live.world.advance(**delta)


async def test_live_upsert_of_a_thousand_takes_few_requests_and_a_second_run_updates(live):
    contacts = [
        ContactUpsert(email=f"bulk{i}@northwind-customers.com", merge_fields={"plan": "trial"}) for i in range(1000)
    ]
    first = await live.cio.upsert_contacts("people", contacts)
    assert (first.created, first.updated, first.failed, first.requests) == (1000, 0, [], 3)
    again = await live.cio.upsert_contacts(
        "people", contacts[:10] + [ContactUpsert(email="new@northwind-customers.com")]
    )
    assert (again.created, again.updated, again.failed) == (1, 10, [])
    contact = await live.cio.get_contact("people", "bulk7@northwind-customers.com")
    assert contact.merge_fields["plan"] == "trial" and contact.status == "subscribed"


async def test_live_segment_recipients_readiness_and_a_lost_send(live):
    emails = [f"panel{i}@northwind-customers.com" for i in range(3)]
    await live.cio.upsert_contacts("people", [ContactUpsert(email=e) for e in emails])
    segment = await live.cio.create_segment("people", "Panel", emails + ["nobody@northwind-customers.com"])
    assert segment.member_count == 3 and segment.kind == "static"
    recipients = await live.cio.recipients("people", segment.id)
    assert recipients.count == 3 and sorted(recipients.sample) == emails and recipients.segment_name == "Panel"
    empty = await live.cio.create_campaign(CampaignFields(name="Empty", segment_id=segment.id, subject="Hi"), None)
    assert not empty.has_content and {i.field for i in await live.cio.readiness(empty.id)} == {"content"}
    campaign = await live.cio.create_campaign(
        CampaignFields(
            name="Panel send", segment_id=segment.id, subject="Hi", html=HTML, reply_to="hello@northwind.coffee"
        ),
        None,
    )
    assert await live.cio.readiness(campaign.id) == []
    live.world.faults.add("malformed", path="/customerio/app/v1/newsletters/*/send", method="POST", times=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await live.cio.send(campaign.id)
    assert "was not sent" in caught.value.message and live.account.campaigns[campaign.id].send_count == 0
    live.world.faults.add("drop_after", path="/customerio/app/v1/newsletters/*/send", method="POST", times=1)
    sent = await live.cio.send(campaign.id)
    assert sent.status == "sent" and live.account.campaigns[campaign.id].send_count == 1
    assert {i.field for i in await live.cio.readiness(campaign.id)} == {"status"}


async def test_live_schedule_cancel_and_fire(live):
    campaign = await live.cio.create_campaign(CampaignFields(name="Later", subject="Soon", html=HTML), None)
    when = live.world.now() + timedelta(hours=3)
    assert (await live.cio.schedule(campaign.id, when)).status == "scheduled"
    assert live.account.campaigns[campaign.id].status == "scheduled"
    assert (await live.cio.cancel(campaign.id)).status == "draft"
    with pytest.raises(InvalidRequest):
        await live.cio.cancel(campaign.id)
    await live.cio.schedule(campaign.id, when)
    advance(live, hours=4)
    assert (await live.cio.get_campaign(campaign.id)).status == "sent"


async def test_live_a_garbled_answer_to_a_send_that_happened_is_sent_once(live):
    campaign = await live.cio.create_campaign(CampaignFields(name="Garbled", subject="Hi", html=HTML), None)
    live.world.faults.add("malformed_after", path="/customerio/app/v1/newsletters/*/send", method="POST", times=1)
    assert (await live.cio.send(campaign.id)).status == "sent"
    assert live.account.campaigns[campaign.id].send_count == 1


async def test_live_ab_test_reports_each_subject(live):
    ab = ABTest(
        subject_lines=["Coffee update", "Ada, 3 brew methods you have not tried yet?"],
        test_size=100,
        winner_criteria="manual",
    )
    campaign = await live.cio.create_campaign(CampaignFields(name="AB", subject="ignored", html=HTML), ab)
    assert campaign.ab_test.subject_lines == ab.subject_lines and campaign.subject == "Coffee update"
    await live.cio.send(campaign.id)
    advance(live, days=2)
    report = await live.cio.report(campaign.id)
    assert [v.subject for v in report.variants] == ab.subject_lines
    assert all(v.sent > 1000 for v in report.variants)
    assert report.proxied_opens > 0.3 * report.delivered and report.links
    listed = await live.cio.list_campaigns("sent", None, 5)
    assert listed.items[0].id == campaign.id and listed.items[0].ab_test.subject_lines == ab.subject_lines


async def test_live_audience_history_and_paging(live):
    audience = await live.cio.get_audience("people")
    assert audience.member_count > 1000 and 0.005 < audience.avg_click_rate < 0.1
    assert {"first_name", "last_name"} <= set(audience.merge_fields)
    first = await live.cio.list_contacts("people", status="subscribed", cursor=None, limit=5)
    second = await live.cio.list_contacts("people", status="subscribed", cursor=first.next_cursor, limit=5)
    assert len(first.items) == 5 and not {c.email for c in first.items} & {c.email for c in second.items}
    assert (await live.cio.list_contacts("people", status="cleaned", cursor=None, limit=5)).items == []


async def test_live_update_changes_the_contents_and_refuses_the_rest(live):
    campaign = await live.cio.create_campaign(CampaignFields(name="Draft", subject="Old", html=HTML), None)
    updated = await live.cio.update_campaign(
        campaign.id,
        CampaignFields(
            subject="New subject",
            preview_text="Fresh beans",
            html="<p>New</p>",
            from_name="Northwind Coffee",
            reply_to="hello@northwind.coffee",
        ),
    )
    assert (updated.subject, updated.preview_text, updated.from_name, updated.reply_to) == (
        "New subject",
        "Fresh beans",
        "Northwind Coffee",
        "hello@northwind.coffee",
    )
    world_campaign = live.account.campaigns[campaign.id]
    assert (world_campaign.subject, world_campaign.html) == ("New subject", "<p>New</p>")
    same_name = await live.cio.update_campaign(campaign.id, CampaignFields(name="Draft", subject="Newer"))
    assert same_name.subject == "Newer"  # an unchanged name is no change
    with pytest.raises(Unsupported):
        await live.cio.update_campaign(campaign.id, CampaignFields(segment_id="3"))
    await live.cio.send(campaign.id)
    with pytest.raises(InvalidRequest):
        await live.cio.update_campaign(campaign.id, CampaignFields(subject="Too late"))


async def test_live_the_app_api_budget_keeps_ten_in_every_second_the_vendor_counts(cio_sandbox):
    """The App API's budget as the suite wires it (10 in any second, each request counted until its answer),
    under 25 requests at once: the sandbox records when each arrives; none is refused, no second of
    arrivals holds more than 10, and the limit is used in full (25 requests in about 2 s)."""
    from sandbox.ratelimit import TokenBucket
    from sandbox.vendors.customerio import api as vendor

    world = cio_sandbox.world
    world.monotonic = time.monotonic
    world.reset()
    creds = cio_sandbox.provision()["customerio"]
    arrivals: list[float] = []

    class Counted(TokenBucket):
        def try_take(self, now: float) -> tuple[bool, int]:
            arrivals.append(now)
            return super().try_take(now)

    vendor._buckets.setdefault(world.email, {})[f"app:{creds['app_api_key']}"] = Counted(
        vendor.APP_RATE, vendor.APP_RATE
    )
    http = HttpService(
        Upstream("Customer.io", "App API", AUTH_HINT),
        base_url=creds["app_api_base"] + "/",
        headers={"Authorization": f"Bearer {creds['app_api_key']}"},
        limiter=WindowBudget("Customer.io App API", CUSTOMERIO_APP_REQUESTS, until_answered=True),
        parse_error=parse_customerio_error,
        max_attempts=1,  # a 429 fails the test instead of being retried
    )
    started = time.monotonic()
    try:
        await asyncio.gather(*(http.get_json("sender_identities") for _ in range(25)))
    finally:
        await http.aclose()
    elapsed = time.monotonic() - started
    assert len(arrivals) == 25
    assert max(sum(1 for b in arrivals if a - 1 < b <= a) for a in arrivals) == 10
    assert 2.0 <= elapsed < 2.6
