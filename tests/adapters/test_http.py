"""The HTTP client's rules, on the edge cases a real vendor cannot produce on demand."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from adapters.errors import (
    AuthError,
    InvalidRequest,
    LostAnswer,
    NotApplied,
    OutcomeUnknown,
    RateLimited,
    UpstreamUnavailable,
)
from adapters.http import HttpService, Upstream, retry_after_seconds
from adapters.timing import deadline_after
from credentials.http_auth import BearerAuth

BASE = "https://api.vendor.test/v1/"
TOKEN = "tok_live_supersecret_123"


@pytest.fixture
def http(clock):
    service = HttpService(
        Upstream("Vendor", "acme.test (client 'acme')", auth_hint="Log in again."),
        base_url=BASE,
        auth=BearerAuth(SecretStr(TOKEN)),
        clock=clock,
    )
    yield service


@respx.mock
async def test_429_with_retry_after_is_waited_out_and_succeeds(http, clock):
    route = respx.get(BASE + "items").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
            httpx.Response(200, json={"items": [1]}),
        ]
    )
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
    respx.get(BASE + "items").mock(
        return_value=httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"})
    )
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

    http = HttpService(
        Upstream("WordPress", "site", auth_hint=""),
        base_url=BASE,
        clock=clock,
        parse_error=parse_wp_error,
        classify=classify_wp_error,
    )
    route = respx.post(BASE + "wp/v2/media").mock(
        return_value=httpx.Response(
            500,
            json={
                "code": "rest_upload_sideload_error",
                "message": "Sorry, you are not allowed to upload this file type.",
            },
        )
    )
    with pytest.raises(InvalidRequest, match="not allowed to upload this file type"):
        await http.request("POST", "wp/v2/media", content=b"x")
    assert route.call_count == 1


# -- Retry-After: waited out within the deadline, or the call fails at once ---------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@respx.mock
async def test_retry_after_longer_than_the_deadline_fails_at_once_after_one_send(http, clock, method):
    route = respx.route(method=method, url=BASE + "items").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "120"}, json={"message": "slow down"})
    )
    with deadline_after(30, clock), pytest.raises(RateLimited) as caught:
        await http.request(method, "items", json={} if method == "POST" else None)
    assert caught.value.retry_after == 120
    assert route.call_count == 1
    assert clock.sleeps == []  # no early retry, no short backoff either


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
@respx.mock
async def test_retry_after_within_the_deadline_is_waited_out_in_full_before_the_retry(http, clock, method):
    sent_at: list[float] = []

    def answer(request):
        sent_at.append(clock.now)
        if len(sent_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "2"})
        return httpx.Response(200, json={"ok": True})

    respx.route(method=method, url=BASE + "items").mock(side_effect=answer)
    with deadline_after(30, clock):
        await http.request(method, "items")
    assert len(sent_at) == 2 and sent_at[1] - sent_at[0] >= 2
    assert clock.sleeps == [2.0]


@respx.mock
async def test_a_503_with_retry_after_is_retried_no_sooner_than_it_says(http, clock):
    route = respx.get(BASE + "items").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "5"}), httpx.Response(200, json={})]
    )
    await http.get_json("items")
    assert route.call_count == 2 and clock.sleeps == [5.0]


@respx.mock
async def test_a_503_whose_retry_after_outlasts_the_deadline_fails_at_once_saying_when(http, clock):
    route = respx.get(BASE + "items").mock(return_value=httpx.Response(503, headers={"Retry-After": "300"}))
    with deadline_after(30, clock), pytest.raises(UpstreamUnavailable) as caught:
        await http.get_json("items")
    assert caught.value.retry_after == 300
    assert route.call_count == 1 and clock.sleeps == []


# -- writes whose answer was lost are never "could not be reached" ----------------------------


@respx.mock
async def test_an_idempotent_write_whose_answer_is_always_lost_is_sent_twice_and_reported_unknown(http, clock):
    route = respx.put(BASE + "items/1").mock(side_effect=httpx.ReadError("connection reset"))
    with pytest.raises(OutcomeUnknown) as caught:
        await http.request("PUT", "items/1", json={"name": "x"})
    assert route.call_count == 2
    assert "could not be reached" not in str(caught.value) and "may or may not have been applied" in str(caught.value)


@respx.mock
async def test_a_lost_answer_followed_by_connect_errors_is_still_unknown(http, clock):
    route = respx.delete(BASE + "items/1").mock(
        side_effect=[
            httpx.RemoteProtocolError("peer closed"),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
        ]
    )
    with pytest.raises(OutcomeUnknown):
        await http.request("DELETE", "items/1")
    assert route.call_count == 4


@respx.mock
async def test_a_write_that_timed_out_is_sent_once_and_may_still_apply(http):
    route = respx.post(BASE + "items").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(LostAnswer) as caught:
        await http.request("POST", "items", json={})
    assert route.call_count == 1
    assert caught.value.may_still_apply and caught.value.cause == "ReadTimeout"


@respx.mock
async def test_an_idempotent_write_answered_5xx_every_time_is_unknown_after_two_sends(http, clock):
    route = respx.put(BASE + "items/1").mock(return_value=httpx.Response(502))
    with pytest.raises(OutcomeUnknown):
        await http.request("PUT", "items/1", json={})
    assert route.call_count == 2


@respx.mock
async def test_connect_errors_on_every_attempt_of_a_write_are_unreachable(http, clock):
    route = respx.post(BASE + "items").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(UpstreamUnavailable, match="could not be reached") as caught:
        await http.request("POST", "items", json={})
    assert not isinstance(caught.value, OutcomeUnknown)  # it never left: nothing to reconcile
    assert route.call_count == 4


@respx.mock
async def test_a_timed_out_create_with_nothing_found_is_not_sent_again(http):
    route = respx.post(BASE + "items").mock(side_effect=httpx.ReadTimeout("timed out"))

    async def find_existing():
        return None

    with pytest.raises(OutcomeUnknown, match="may still make it"):
        await http.create("POST", "items", json={"name": "x"}, find_existing=find_existing)
    assert route.call_count == 1


# -- apply(): a lost answer is settled by reading the object back ------------------------------


def state_reader(*states):
    reads = list(states)

    async def read_back():
        value = reads.pop(0)
        if isinstance(value, Exception):
            raise value
        return value

    return read_back


APPLY = dict(done=lambda state: state == "published", what="publishing post 1", check="get_post 1")


@respx.mock
async def test_apply_reads_back_a_lost_write_and_reports_it_done_without_resending(http):
    route = respx.post(BASE + "posts/1").mock(side_effect=httpx.ReadError("reset"))
    applied = await http.apply("POST", "posts/1", json={}, read_back=state_reader("published"), **APPLY)
    assert applied.response is None and applied.state == "published"
    assert "ReadError" in applied.how and "shows it done" in applied.how
    assert route.call_count == 1


@respx.mock
async def test_apply_sends_once_more_when_the_read_shows_it_not_applied(http):
    route = respx.post(BASE + "posts/1").mock(side_effect=[httpx.ReadError("reset"), httpx.Response(200, json={})])
    applied = await http.apply("POST", "posts/1", json={}, read_back=state_reader("draft"), **APPLY)
    assert applied.response is not None and route.call_count == 2


@respx.mock
async def test_apply_reports_not_applied_after_two_lost_sends_that_changed_nothing(http):
    route = respx.post(BASE + "posts/1").mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(NotApplied) as caught:
        await http.apply("POST", "posts/1", json={}, read_back=state_reader("draft", "draft"), **APPLY)
    assert route.call_count == 2
    assert "did not happen" in str(caught.value) and "safe to try again" in caught.value.hint


@respx.mock
async def test_apply_after_timeouts_is_unknown_never_not_applied(http):
    route = respx.post(BASE + "posts/1").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown) as caught:
        await http.apply("POST", "posts/1", json={}, read_back=state_reader("draft", "draft"), **APPLY)
    assert not isinstance(caught.value, NotApplied)
    assert route.call_count == 2
    assert "may still apply" in str(caught.value) and "get_post 1" in caught.value.hint


@respx.mock
async def test_apply_when_the_read_back_fails_is_unknown_and_says_what_to_check(http):
    respx.post(BASE + "posts/1").mock(side_effect=httpx.ReadError("reset"))
    with pytest.raises(OutcomeUnknown) as caught:
        await http.apply("POST", "posts/1", json={}, read_back=state_reader(UpstreamUnavailable("down")), **APPLY)
    assert "reading it back failed" in str(caught.value) and "get_post 1" in caught.value.hint


@respx.mock
async def test_apply_passes_a_refusal_through(http):
    route = respx.post(BASE + "posts/1").mock(return_value=httpx.Response(400, json={"message": "bad status"}))
    with pytest.raises(InvalidRequest):
        await http.apply("POST", "posts/1", json={}, read_back=state_reader(), **APPLY)
    assert route.call_count == 1
