"""Edge cases of the Mailchimp adapter against the sandbox, through the real SDK: refused credentials, the
10-connection limit, server errors, garbage, timeouts, a lost send, and batches with bad addresses.

The module runs its own sandbox and resets its world before each test. `clock` (tests/conftest.py) makes
retries instant where no real concurrency is involved.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import cast

import httpx
import pytest
from pydantic import SecretStr

from adapters.errors import AuthError, InvalidRequest, NotFound, OutcomeUnknown, RateLimited, UpstreamUnavailable
from adapters.esp.base import ABTest, CampaignFields, ContactUpsert
from adapters.esp.mailchimp import Mailchimp, sdk_seam, subscriber_hash
from adapters.timing import deadline_after
from credentials.records import ApiKey, OAuthToken, Record, SecretValue
from credentials.vault import Vault
from sandbox.vendors.mailchimp.api import connections

AUTH_HINT = "Run `marketing-mcp auth set mailchimp --client acme`."
HTML = '<p>Fresh beans.</p><a href="https://northwind.coffee/shop">Shop</a>'


@pytest.fixture(scope="module")
def mc_sandbox():
    from sandbox import World, running

    with running(world=World(seed=5)) as sb:
        yield sb


@pytest.fixture
def world(mc_sandbox):
    w = mc_sandbox.world
    w.reset()
    w.configure(mailchimp_latency=0)
    yield w
    w.faults.clear()
    w.configure(mailchimp_latency=0)


@pytest.fixture
def api_base(mc_sandbox) -> str:
    return mc_sandbox.provision()["mailchimp"]["api_base"]


def sdk(api_base: str, key: str):
    import mailchimp_marketing

    client = mailchimp_marketing.Client()
    client.set_config({"api_key": key, "server": key.rpartition("-")[2]})
    client.api_client.host = api_base
    return client


def adapter(api_base: str, key: str, clock=None, **kwargs) -> Mailchimp:
    options = {"clock": clock} if clock is not None else {}
    return Mailchimp(
        sdk(api_base, key), account=kwargs.pop("account", "edge"), auth_hint=AUTH_HINT, **options, **kwargs
    )


@pytest.fixture
def mc(world, api_base, clock) -> Mailchimp:
    return adapter(api_base, world.credentials.mailchimp_api_key, clock)


@pytest.fixture
def main_list(world) -> str:
    with world.lock:
        return next(a.id for a in world.email.mailchimp.audiences.values() if a.name == "Northwind Newsletter")


API = "/mailchimp/3.0"


async def ready_campaign(mc: Mailchimp, audience: str, **fields) -> str:
    campaign = await mc.create_campaign(
        CampaignFields(
            audience_id=audience, name="Roast day", subject="Roast day", from_name="Northwind", html=HTML, **fields
        ),
        None,
    )
    return campaign.id


# -- credentials -------------------------------------------------------------------------------------


class FakeVault:
    client = "acme"

    def __init__(self, secret: SecretValue):
        self._secret = secret

    def record(self, provider: str, account: str | None = None) -> Record:
        assert provider == "mailchimp"
        return Record(client="acme", provider="mailchimp", account=account or "us1", secret=self._secret)


def vault(secret: SecretValue) -> Vault:
    return cast(Vault, FakeVault(secret))  # sdk_client reads only `client` and `record()`


async def test_sdk_client_from_an_api_key_or_an_oauth_token(world, api_base, mc_sandbox):
    from credentials.mailchimp import sdk_client

    key = world.credentials.mailchimp_api_key
    client = sdk_client(vault(ApiKey(key=key, extra={"dc": "us1"})), None, api_base)
    assert client.api_client.server == "us1" and client.api_client.host == api_base
    info = await Mailchimp(client, account="us1", auth_hint=AUTH_HINT).account_info()
    assert info.account == "Northwind Coffee Roasters" and "proxy_opens" in info.capabilities

    token = OAuthToken(
        access_token=SecretStr("0123abcd"),
        token_url="https://login.mailchimp.com/oauth2/token",
        client_id="app",
        extra={"dc": "us21", "api_endpoint": mc_sandbox.url + "/mailchimp"},
    )
    oauth = sdk_client(vault(token), "northwind", None)
    assert oauth.api_client.host == api_base and oauth.api_client.is_oauth and not oauth.api_client.is_basic_auth
    with pytest.raises(AuthError) as err:
        sdk_client(vault(ApiKey(key=SecretStr("nodatacenter"))), None, api_base)
    assert "data center" in err.value.message


async def test_a_factory_builds_the_client_on_first_use(world, api_base):
    built = []

    def factory():
        built.append(1)
        return sdk(api_base, world.credentials.mailchimp_api_key)

    mc = Mailchimp(factory, account="lazy", auth_hint=AUTH_HINT)
    assert built == []
    await asyncio.gather(mc.account_info(), mc.list_audiences(None, 5))
    assert built == [1]


async def test_401_is_an_auth_error_with_the_hint_and_without_the_key(world, api_base):
    key = "f" * 32 + "-us1"
    with pytest.raises(AuthError) as err:
        await adapter(api_base, key).list_audiences(None, 10)
    assert err.value.hint == AUTH_HINT and err.value.status == 401
    assert "API Key Invalid" in err.value.message
    assert key[:32] not in f"{err.value.message} {err.value.hint}"


# -- the 10-connection limit -------------------------------------------------------------------------


async def test_no_more_than_10_calls_are_in_flight(world, api_base, main_list):
    world.configure(mailchimp_latency=0.3)
    stats = connections(world)
    stats.peak = stats.refused = 0
    mc = adapter(api_base, world.credentials.mailchimp_api_key, account="busy")
    pages = await asyncio.gather(*(mc.list_contacts(main_list, status=None, cursor=str(i), limit=1) for i in range(25)))
    assert all(len(p.items) == 1 for p in pages)
    assert stats.peak == 10 and stats.refused == 0


async def test_429_beyond_10_connections_is_retried_until_one_is_free(world, api_base):
    """Another program holds all 10 connections; the adapter's call is refused, backs off, then succeeds."""
    world.configure(mailchimp_latency=0.4)
    key = world.credentials.mailchimp_api_key
    stats = connections(world)
    stats.peak = stats.refused = 0
    mc = adapter(api_base, key, account="shared", backoff_base=0.1)
    async with httpx.AsyncClient(
        base_url=api_base, auth=("other", key), timeout=10, limits=httpx.Limits(max_connections=20)
    ) as other:
        hogs = [asyncio.create_task(other.get("/ping")) for _ in range(10)]
        while stats.active.get(key, 0) < 10:
            await asyncio.sleep(0.01)
        page = await mc.list_audiences(None, 10)
        assert all(r.status_code == 200 for r in await asyncio.gather(*hogs))
    assert len(page.items) == 2 and stats.refused >= 1


async def test_a_429_that_never_clears_becomes_rate_limited(world, mc, clock):
    world.faults.add("status", path=f"{API}/lists", status=429)
    with pytest.raises(RateLimited) as err:
        await mc.list_audiences(None, 10)
    assert "10 simultaneous connections" in err.value.message and len(clock.sleeps) == 5


async def test_a_429_is_retried_even_for_a_write(world, mc, clock, main_list):
    world.faults.add("status", path=f"{API}/campaigns", method="POST", status=429, times=2)
    campaign = await mc.create_campaign(CampaignFields(audience_id=main_list, name="Retry me"), None)
    assert campaign.status == "draft" and len(clock.sleeps) == 2
    with world.lock:
        assert sum(c.name == "Retry me" for c in world.email.mailchimp.campaigns.values()) == 1


# -- server errors, garbage, timeouts --------------------------------------------------------------


async def test_a_503_on_a_read_is_retried_and_a_lasting_one_is_upstream_unavailable(world, mc, clock):
    world.faults.add("status", path=f"{API}/lists", status=503, times=1)
    assert len((await mc.list_audiences(None, 10)).items) == 2 and len(clock.sleeps) == 1
    world.faults.add("status", path=f"{API}/lists", status=503)
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.list_audiences(None, 10)
    assert err.value.status == 503 and "HTTP 503" in err.value.message


async def test_an_error_without_a_body_is_still_an_error(world, mc):
    world.faults.add("status", path=f"{API}/lists", status=500, body="")  # the SDK returns it instead of raising
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.list_audiences(None, 10)
    assert err.value.status == 500


async def test_a_5xx_on_a_create_is_an_outcome_unknown_never_a_second_create(world, mc, clock, main_list):
    world.faults.add("status", path=f"{API}/campaigns", method="POST", status=500)
    with pytest.raises(OutcomeUnknown) as err:
        await mc.create_campaign(CampaignFields(audience_id=main_list, name="Once"), None)
    assert "creating campaign 'Once'" in err.value.message and clock.sleeps == []


async def test_malformed_json_is_retried_on_a_read_then_reported(world, mc):
    world.faults.add("malformed", path=f"{API}/lists", times=1)
    assert len((await mc.list_audiences(None, 10)).items) == 2
    world.faults.add("malformed", path=f"{API}/lists")
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.list_audiences(None, 10)
    assert "not JSON" in err.value.message


async def test_the_deadline_reaches_the_sdk_so_a_slow_answer_times_out_on_time(world, api_base):
    world.faults.add("latency", path=f"{API}/lists", delay=3)
    mc = adapter(api_base, world.credentials.mailchimp_api_key)
    started = time.monotonic()
    with deadline_after(0.5), pytest.raises(UpstreamUnavailable) as err:
        await mc.list_audiences(None, 10)
    # requests itself gave up at the deadline (the SDK would have waited 120 s and the thread with it)
    assert time.monotonic() - started < 1.3 and "did not answer in time" in err.value.message


# -- sending ---------------------------------------------------------------------------------------


async def test_a_send_whose_answer_is_lost_is_sent_exactly_once(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    world.faults.add("drop_after", path=f"{API}/campaigns/*/actions/send", method="POST")
    campaign = await mc.send(cid)
    assert campaign.status == "sent" and campaign.sent_at is not None
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 1


async def test_a_send_lost_before_mailchimp_saw_it_is_reported_unsent_and_not_sent_again(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    rule = world.faults.add("drop", path=f"{API}/campaigns/*/actions/send", method="POST", times=1)
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.send(cid)
    assert not isinstance(err.value, OutcomeUnknown) and "was not sent" in err.value.message
    assert "still shows it as draft" in err.value.message and "safe to call send_campaign again" in err.value.hint
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 0 and rule.seen == 1
    assert (await mc.send(cid)).status == "sent"  # as the hint says
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 1


async def test_a_garbled_answer_to_a_send_that_did_not_happen_is_not_reported_sent(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    world.faults.add("malformed", path=f"{API}/campaigns/*/actions/send", method="POST", times=1)
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.send(cid)
    assert "was not sent" in err.value.message and "not JSON" in err.value.message
    assert "Nothing went out" in err.value.message and "Unterminated" not in err.value.message  # no raw body
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 0


async def test_a_garbled_answer_to_a_send_that_happened_is_reported_sent_once(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    world.faults.add("malformed_after", path=f"{API}/campaigns/*/actions/send", method="POST", times=1)
    assert (await mc.send(cid)).status == "sent"
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 1


async def test_a_garbled_send_that_cannot_be_read_back_is_an_unknown_outcome(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    world.faults.add("malformed", path=f"{API}/campaigns/*/actions/send", method="POST", times=1)
    world.faults.add("status", path=f"{API}/campaigns/{cid}", method="GET", status=503)
    with pytest.raises(OutcomeUnknown) as err:
        await mc.send(cid)
    assert "could not be read back" in err.value.message and "may or may not have been sent" in err.value.message
    assert f"get_campaign for {cid}" in err.value.hint
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 0


async def test_a_429_whose_wait_outlasts_the_deadline_fails_at_once_with_retry_after(world, mc, clock, main_list):
    cid = await ready_campaign(mc, main_list)
    rule = world.faults.add(
        "status", path=f"{API}/campaigns/*/actions/send", method="POST", status=429, retry_after=120
    )
    with deadline_after(60, clock), pytest.raises(RateLimited) as err:
        await mc.send(cid)
    assert err.value.retry_after == 120 and "120 s" in err.value.message and clock.sleeps == []
    with world.lock:
        assert rule.hits == 1 and world.email.mailchimp.campaigns[cid].send_count == 0  # one request, no send


async def test_a_429_whose_wait_fits_the_deadline_waits_as_long_as_told(world, mc, clock, main_list):
    cid = await ready_campaign(mc, main_list)
    rule = world.faults.add(
        "status", path=f"{API}/campaigns/*/actions/send", method="POST", status=429, retry_after=20, times=1
    )
    with deadline_after(60, clock):
        assert (await mc.send(cid)).status == "sent"
    assert clock.sleeps == [20] and rule.hits == 1
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 1


async def test_a_campaign_that_is_not_ready_is_refused_with_its_checklist(world, mc, main_list):
    campaign = await mc.create_campaign(CampaignFields(audience_id=main_list, name="Empty"), None)
    issues = await mc.readiness(campaign.id)
    assert {i.field for i in issues} == {"subject", "content"}
    with pytest.raises(InvalidRequest) as err:
        await mc.send(campaign.id)
    assert "not ready to send" in err.value.message and "Subject Line" in err.value.message
    assert "readiness" in err.value.hint


async def test_schedule_on_the_quarter_hour_reschedule_and_cancel(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    with world.lock:
        base = world.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    with pytest.raises(InvalidRequest) as err:
        await mc.schedule(cid, base + timedelta(minutes=7))
    assert "quarter-hour" in err.value.message and f"{base:%H}:00 or {base:%H}:15" in err.value.hint
    first = await mc.schedule(cid, base + timedelta(minutes=15))
    assert first.status == "scheduled" and first.scheduled_for == base + timedelta(minutes=15)
    moved = await mc.schedule(cid, base + timedelta(hours=2))
    assert moved.scheduled_for == base + timedelta(hours=2)
    with pytest.raises(InvalidRequest) as err:
        await mc.schedule(cid, base - timedelta(days=3))  # Mailchimp's clock says it is past
    assert "past" in err.value.message and "stays scheduled" in err.value.message
    assert (await mc.get_campaign(cid)).scheduled_for == base + timedelta(hours=2)
    stopped = await mc.cancel(cid)
    assert stopped.status == "draft" and stopped.scheduled_for is None
    with pytest.raises(InvalidRequest):
        await mc.cancel(cid)


async def test_schedule_and_cancel_are_reported_done_only_when_the_campaign_reads_back_so(world, mc, main_list):
    cid = await ready_campaign(mc, main_list)
    with world.lock:
        when = world.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    world.faults.add("malformed", path=f"{API}/campaigns/*/actions/schedule", method="POST", times=1)
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.schedule(cid, when)
    assert "was not scheduled" in err.value.message and "schedule_campaign" in err.value.hint
    assert (await mc.get_campaign(cid)).status == "draft"
    world.faults.add("malformed_after", path=f"{API}/campaigns/*/actions/schedule", method="POST", times=1)
    assert (await mc.schedule(cid, when)).scheduled_for == when
    world.faults.add("malformed", path=f"{API}/campaigns/*/actions/unschedule", method="POST", times=1)
    with pytest.raises(UpstreamUnavailable) as err:
        await mc.cancel(cid)
    assert "was not stopped" in err.value.message and "still shows it as scheduled" in err.value.message
    world.faults.add("malformed_after", path=f"{API}/campaigns/*/actions/unschedule", method="POST", times=1)
    assert (await mc.cancel(cid)).status == "draft"
    with world.lock:
        assert world.email.mailchimp.campaigns[cid].send_count == 0


async def test_an_ab_test_reports_each_subject_and_proxy_opens_apart(world, mc, main_list):
    ab = ABTest(subject_lines=["Your grinder, dialed in", "Coffee update"], test_size=40, wait_hours=2)
    campaign = await mc.create_campaign(CampaignFields(audience_id=main_list, from_name="Northwind", html=HTML), ab)
    assert campaign.ab_test is not None and campaign.ab_test.wait_hours == 2 and campaign.has_content
    assert campaign.name == "Your grinder, dialed in"
    assert (await mc.send(campaign.id)).status == "sending"
    with world.lock:
        world.advance(hours=6)
    after = await mc.get_campaign(campaign.id)
    assert after.status == "sent" and after.ab_test.winner in ab.subject_lines
    report = await mc.report(campaign.id)
    assert [v.subject for v in report.variants] == ab.subject_lines
    assert all(v.sent > 0 and 0 <= v.click_rate < 1 for v in report.variants)
    assert report.proxied_opens is not None and 0 < report.proxied_opens < report.unique_opens
    assert report.human_open_rate < report.open_rate < 1 and 0 < report.click_rate < 1
    assert report.links[0].url == "https://northwind.coffee/shop" and report.links[0].total_clicks > 0
    with pytest.raises(NotFound) as err:
        await mc.report((await mc.create_campaign(CampaignFields(audience_id=main_list, name="x"), None)).id)
    assert "sent" in err.value.hint


# -- contacts --------------------------------------------------------------------------------------


async def test_a_batch_with_bad_addresses_reports_them_and_loses_nothing_else(world, mc, main_list):
    with world.lock:
        aud = world.email.mailchimp.audience(main_list)
        unsubscribed = next(p.email for p in aud.people.values() if p.status == "unsubscribed")
        regular = next(p.email for p in aud.people.values() if p.status == "subscribed")
    fresh = [f"reader{i}@fastmail.com" for i in range(1100)]
    fake = ["first@example.com", "second@test.com"]
    contacts = [ContactUpsert(email=e, merge_fields={"FNAME": f"R{i}"}) for i, e in enumerate(fresh)]
    contacts += [ContactUpsert(email=e) for e in fake]
    contacts += [
        ContactUpsert(email=fresh[0], merge_fields={"FNAME": "Again"}, tags=["launch"]),  # a later one wins
        ContactUpsert(email=unsubscribed, merge_fields={"LNAME": "Kept"}),  # keeps its status
        ContactUpsert(email=regular, status="unsubscribed", tags=["churned"]),
    ]
    result = await mc.upsert_contacts(main_list, contacts)
    assert result.created == 1100 and result.updated == 2
    assert sorted(f.email for f in result.failed) == sorted(fake)
    assert all("looks fake or invalid" in f.reason for f in result.failed)
    # the merge fields, one batch with a status and three without (1,103 contacts), one PATCH, two tag calls
    assert result.requests == 1 + 1 + 3 + 1 + 2
    with world.lock:
        assert aud.people[fresh[0]].fields["FNAME"] == "Again" and aud.people[fresh[0]].tags == {"launch"}
        assert aud.people[unsubscribed].status == "unsubscribed" and aud.people[unsubscribed].fields["LNAME"] == "Kept"
        assert aud.people[regular].status == "unsubscribed" and "churned" in aud.people[regular].tags
        assert not any(e in aud.people for e in fake)


async def test_unknown_merge_fields_are_refused_before_anything_is_written(world, mc, main_list):
    with pytest.raises(InvalidRequest) as err:
        await mc.upsert_contacts(main_list, [ContactUpsert(email="a@fastmail.com", merge_fields={"PLAN": "pro"})])
    assert "PLAN" in err.value.message and "FNAME" in err.value.message
    with world.lock:
        assert "a@fastmail.com" not in world.email.mailchimp.audience(main_list).people


async def test_a_batch_mailchimp_keeps_failing_fails_its_contacts_only(world, mc, main_list):
    world.faults.add("status", path=f"{API}/lists/{main_list}", method="POST", status=503)
    result = await mc.upsert_contacts(main_list, [ContactUpsert(email="x@fastmail.com", status="subscribed")])
    assert result.created == 0 and [f.email for f in result.failed] == ["x@fastmail.com"]
    assert "HTTP 503" in result.failed[0].reason


async def test_unknown_audience_and_contact_say_what_to_call(world, mc, main_list):
    with pytest.raises(NotFound) as err:
        await mc.get_audience("0000000000")
    assert "list_audiences" in err.value.hint and "0000000000" in err.value.message
    with pytest.raises(InvalidRequest) as err:
        await mc.create_campaign(CampaignFields(audience_id="0000000000", name="Lost"), None)
    assert err.value.message == (
        "Mailchimp rejected the request: Invalid Resource (recipients.list_id: The list_id "
        "does not match any list of this account.)"
    )
    with pytest.raises(NotFound) as err:
        await mc.get_contact(main_list, "nobody@fastmail.com")
    assert "nobody@fastmail.com" in err.value.message
    contact = await mc.get_contact(
        main_list, (await mc.list_contacts(main_list, status="subscribed", cursor=None, limit=1)).items[0].email
    )
    assert contact.id == subscriber_hash(contact.email)


async def test_pages_follow_the_offset_cursor(world, mc, main_list):
    first = await mc.list_contacts(main_list, status="unsubscribed", cursor=None, limit=100)
    second = await mc.list_contacts(main_list, status="unsubscribed", cursor=first.next_cursor, limit=100)
    assert first.next_cursor == "100" and first.total == second.total > 100
    assert not {c.email for c in first.items} & {c.email for c in second.items}
    with pytest.raises(InvalidRequest):
        await mc.list_contacts(main_list, status=None, cursor="abc", limit=10)


# -- the SDK seam (adapters.esp.mailchimp.sdk_seam) -------------------------------------------------

SEAM = "mailchimp-marketing changed under adapters/esp/mailchimp/seam.py::sdk_seam: {detail} Update the seam first."


def test_the_sdk_still_has_no_public_hook_and_the_seam_still_fits_it():
    import inspect

    import mailchimp_marketing
    from mailchimp_marketing.api_client import ApiClient, ApiClientError

    call_api, request = inspect.getsource(ApiClient.call_api), inspect.getsource(ApiClient.request)
    assert "self.request(" in call_api, SEAM.format(detail="ApiClient.call_api no longer sends through self.request.")
    assert "timeout=self.timeout" in request, SEAM.format(detail="ApiClient.request no longer reads self.timeout.")
    assert "_request_timeout" not in call_api, SEAM.format(
        detail="call_api now reads _request_timeout itself: the seam's timeout part may be dropped."
    )
    error = ApiClientError("text", 429)
    assert (error.text, error.status_code) == ("text", 429) and not hasattr(error, "headers"), SEAM.format(
        detail="ApiClientError's fields changed (does it carry the response headers now?)."
    )
    client = mailchimp_marketing.Client({"api_key": "k-us1", "timeout": 7})
    seamed = sdk_seam(client).api_client
    assert isinstance(seamed, ApiClient) and seamed.timeout == 7 and seamed.host.endswith("/3.0")
    assert sdk_seam(client).api_client is seamed  # once is enough


async def test_the_seam_keeps_the_headers_of_a_refusal_for_retry_after(world, api_base, clock, main_list):
    world.faults.add("status", path=f"{API}/lists", method="GET", status=429, retry_after=3, times=1)
    mc = adapter(api_base, world.credentials.mailchimp_api_key, clock)
    assert len((await mc.list_audiences(None, 10)).items) == 2
    assert clock.sleeps == [3], SEAM.format(detail="Retry-After no longer reaches the adapter.")
