"""The HTTP client's rules, on the edge cases a real vendor cannot produce on demand."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from adapters.errors import AuthError, InvalidRequest, OutcomeUnknown, RateLimited, UpstreamUnavailable
from adapters.http import HttpService, Upstream, retry_after_seconds
from adapters.timing import deadline_after
from credentials.http_auth import BearerAuth

BASE = "https://api.vendor.test/v1/"
TOKEN = "tok_live_supersecret_123"


@pytest.fixture
def http(clock):
    service = HttpService(Upstream("Vendor", "acme.test (client 'acme')", auth_hint="Log in again."),
                          base_url=BASE, auth=BearerAuth(SecretStr(TOKEN)), clock=clock)
    yield service


@respx.mock
async def test_429_with_retry_after_is_waited_out_and_succeeds(http, clock):
    route = respx.get(BASE + "items").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
        httpx.Response(200, json={"items": [1]}),
    ])
    assert await http.get_json("items") == {"items": [1]}
    assert route.call_count == 2
    assert clock.sleeps == [7.0]


@respx.mock
async def test_retry_after_past_the_deadline_fails_at_once_with_retry_after(http, clock):
    respx.get(BASE + "items").mock(return_value=httpx.Response(429, headers={"Retry-After": "90"}))
    with deadline_after(30, clock), pytest.raises(RateLimited) as caught:
        await http.get_json("items")
    assert caught.value.retry_after == 90
    assert clock.sleeps == []


@respx.mock
async def test_repeated_503_ends_in_a_clear_error_within_the_deadline(http, clock):
    route = respx.get(BASE + "items").mock(return_value=httpx.Response(503, json={"message": "maintenance"}))
    start = clock.now
    with deadline_after(10, clock), pytest.raises(UpstreamUnavailable) as caught:
        await http.get_json("items")
    assert route.call_count == 4
    assert clock.now - start < 10
    assert "Vendor at acme.test" in str(caught.value) and "503" in str(caught.value)


@respx.mock
async def test_malformed_json_is_an_upstream_error(http):
    respx.get(BASE + "items").mock(return_value=httpx.Response(200, content=b"{not json",
                                                               headers={"content-type": "application/json"}))
    with pytest.raises(UpstreamUnavailable, match="not valid JSON"):
        await http.get_json("items")


@respx.mock
async def test_rejected_token_names_the_fix_and_never_the_token(http):
    respx.get(BASE + "me").mock(return_value=httpx.Response(401, json={"message": f"bad token {TOKEN}"[:9]}))
    with pytest.raises(AuthError) as caught:
        await http.get_json("me")
    assert caught.value.hint == "Log in again."
    assert TOKEN not in str(caught.value) and TOKEN not in repr(http.client.auth)


@respx.mock
async def test_lost_create_response_is_not_sent_twice_when_the_object_exists(http, clock):
    route = respx.post(BASE + "items").mock(side_effect=httpx.ReadError("connection reset"))

    async def find_existing():
        return {"id": 42}

    assert await http.create("POST", "items", json={"name": "x"}, find_existing=find_existing) == {"id": 42}
    assert route.call_count == 1


@respx.mock
async def test_lost_create_response_is_sent_once_more_when_nothing_was_made(http):
    route = respx.post(BASE + "items").mock(side_effect=[httpx.ReadError("reset"), httpx.Response(201, json={"id": 7})])

    async def find_existing():
        return None

    assert await http.create("POST", "items", json={"name": "x"}, find_existing=find_existing) == {"id": 7}
    assert route.call_count == 2


@respx.mock
async def test_a_write_that_got_a_500_is_reported_as_unknown_not_retried(http):
    route = respx.post(BASE + "items").mock(return_value=httpx.Response(500))
    with pytest.raises(OutcomeUnknown):
        await http.request("POST", "items", json={})
    assert route.call_count == 1


@respx.mock
async def test_connect_errors_are_retried_even_for_writes(http, clock):
    route = respx.post(BASE + "items").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={})])
    await http.request("POST", "items", json={})
    assert route.call_count == 2


@respx.mock
async def test_a_redirect_is_reported_not_followed(http):
    respx.post(BASE + "items").mock(return_value=httpx.Response(301, headers={"location": "https://www.acme.test/"}))
    with pytest.raises(InvalidRequest, match="redirected to https://www.acme.test/"):
        await http.request("POST", "items", json={})


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds(httpx.Headers({"Retry-After": "12"})) == 12
    date = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"})
    assert retry_after_seconds(date, now=1445412480.0) == 30
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None


@respx.mock
async def test_a_5xx_the_vendor_uses_for_a_refusal_is_not_an_unknown_outcome(clock):
    from adapters.cms.wordpress import classify_wp_error, parse_wp_error

    http = HttpService(Upstream("WordPress", "site", auth_hint=""), base_url=BASE, clock=clock,
                       parse_error=parse_wp_error, classify=classify_wp_error)
    route = respx.post(BASE + "wp/v2/media").mock(return_value=httpx.Response(500, json={
        "code": "rest_upload_sideload_error", "message": "Sorry, you are not allowed to upload this file type."}))
    with pytest.raises(InvalidRequest, match="not allowed to upload this file type"):
        await http.request("POST", "wp/v2/media", content=b"x")
    assert route.call_count == 1
