"""The Mailchimp Marketing API emulation on the wire: shapes, errors, auth, batches, the 10-connection limit,
the campaign state machine and reports."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest

from sandbox.vendors.mailchimp.api import connections

from .test_oauth import tokens

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture
def mc_base(creds) -> str:
    return creds["mailchimp"]["api_base"]


@pytest.fixture
def mc(mc_base, creds):
    with httpx.Client(base_url=mc_base, auth=("anystring", creds["mailchimp"]["api_key"]), timeout=10) as client:
        yield client


@pytest.fixture
def latency(sb):
    def set_latency(seconds: float) -> None:
        sb.world.configure(mailchimp_latency=seconds)

    yield set_latency
    sb.world.configure(mailchimp_latency=0)


@pytest.fixture
def lists(mc) -> dict[str, dict]:
    return {lst["name"]: lst for lst in mc.get("/lists").json()["lists"]}


@pytest.fixture
def main_list(lists) -> dict:
    return lists["Northwind Newsletter"]


def problem(response: httpx.Response, status: int, title: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status and body["title"] == title, body
    return body


def member_hash(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


def new_campaign(mc, list_id: str, **settings) -> dict:
    body = {
        "type": "regular",
        "recipients": {"list_id": list_id},
        "settings": {
            "subject_line": "How to brew a better cup",
            "title": "Brew guide",
            "from_name": "Northwind",
            "reply_to": "hello@northwind.coffee",
            **settings,
        },
    }
    response = mc.post("/campaigns", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def ready_campaign(mc, list_id: str, **settings) -> dict:
    campaign = new_campaign(mc, list_id, **settings)
    html = '<p>Hi</p><a href="https://northwind.coffee/shop">Shop</a> <a href="https://northwind.coffee/blog">Blog</a>'
    assert mc.put(f"/campaigns/{campaign['id']}/content", json={"html": html}).status_code == 200
    return campaign


# -- auth and the root ---------------------------------------------------------------------------


def test_requests_without_a_key_or_with_a_wrong_one_are_refused(mc_base, creds):
    assert problem(httpx.get(mc_base + "/ping"), 401, "API Key Missing")["detail"]
    wrong = httpx.get(mc_base + "/ping", auth=("x", "0" * 32 + "-us1"))
    assert "wrong datacenter" in problem(wrong, 401, "API Key Invalid")["detail"]
    bearer = httpx.get(mc_base + "/ping", headers={"Authorization": f"Bearer {creds['mailchimp']['api_key']}"})
    problem(bearer, 401, "API Key Invalid")  # the key is a Basic password, never a bearer token


@pytest.mark.parametrize("scheme", ["Bearer", "OAuth"])
def test_oauth_tokens_are_accepted_as_bearer_or_oauth(mc_base, creds, scheme):
    token = tokens(creds, "mailchimp")["access_token"]
    response = httpx.get(mc_base + "/ping", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200 and response.json() == {"health_status": "Everything's Chimpy!"}


def test_root_names_the_account(mc, sb):
    body = mc.get("/").json()
    account = sb.world.oauth.accounts["mailchimp"]
    assert body["account_id"] == account.id and body["login_id"] == account.extra["login_id"]
    assert body["account_name"] == "Northwind Coffee Roasters" and body["total_subscribers"] > 5000


def test_unknown_route_and_wrong_method(mc):
    problem(mc.get("/nothing-here"), 404, "Resource Not Found")
    wrong = mc.delete("/lists")
    problem(wrong, 405, "Method Not Allowed")
    assert wrong.headers["allow"] == "GET"


def test_malformed_json_is_a_parse_error(mc, main_list):
    response = mc.post(
        f"/lists/{main_list['id']}/members", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert problem(response, 400, "JSON Parse Error")["detail"] == "We encountered an unspecified JSON parsing error."


# -- lists and members -----------------------------------------------------------------------------


def test_lists_page_with_count_and_offset(mc):
    first = mc.get("/lists", params={"count": 1}).json()
    second = mc.get("/lists", params={"count": 1, "offset": 1}).json()
    assert first["total_items"] == 2 and len(first["lists"]) == 1
    assert first["lists"][0]["id"] != second["lists"][0]["id"]
    problem(mc.get("/lists", params={"count": 5000}), 400, "Invalid Resource")


def test_a_list_has_stats_in_percent_and_campaign_defaults(mc, main_list):
    body = mc.get(f"/lists/{main_list['id']}").json()
    stats = body["stats"]
    assert stats["member_count"] > 5000 and stats["unsubscribe_count"] > 0 and stats["campaign_count"] == 10
    assert 5 < stats["open_rate"] < 100 and 0.5 < stats["click_rate"] < 20  # percent, as Mailchimp reports them
    assert body["campaign_defaults"]["from_email"] == "hello@northwind.coffee"
    assert set(body["campaign_defaults"]) == {"from_name", "from_email", "subject", "language"}


def test_an_unknown_list_is_resource_not_found(mc):
    problem(mc.get("/lists/0000000000"), 404, "Resource Not Found")
    problem(mc.get("/lists/0000000000/members"), 404, "Resource Not Found")


def test_merge_fields(mc, main_list):
    body = mc.get(f"/lists/{main_list['id']}/merge-fields").json()
    assert [f["tag"] for f in body["merge_fields"]] == ["FNAME", "LNAME"] and body["total_items"] == 2


def test_members_filter_by_status_and_page(mc, main_list):
    path = f"/lists/{main_list['id']}/members"
    unsubscribed = mc.get(path, params={"status": "unsubscribed", "count": 1000}).json()
    assert unsubscribed["total_items"] == main_list["stats"]["unsubscribe_count"]
    assert {m["status"] for m in unsubscribed["members"]} == {"unsubscribed"}
    page = mc.get(path, params={"count": 3, "offset": 2}).json()
    assert len(page["members"]) == 3 and page["total_items"] == main_list["stats"]["total_contacts"]


def test_put_adds_or_updates_by_subscriber_hash(mc, main_list):
    email = "New.Reader@Proton.me"
    path = f"/lists/{main_list['id']}/members/{member_hash(email)}"
    problem(mc.get(path), 404, "Resource Not Found")
    refused = mc.put(path, json={"email_address": email})
    assert problem(refused, 400, "Invalid Resource")["errors"][0]["field"] == "status_if_new"
    created = mc.put(
        path,
        json={
            "email_address": email,
            "status_if_new": "subscribed",
            "merge_fields": {"FNAME": "Nia", "PLAN": "ignored"},
        },
    ).json()
    assert created["id"] == member_hash(email) and created["email_address"] == email.lower()
    assert created["status"] == "subscribed" and created["merge_fields"] == {"FNAME": "Nia", "LNAME": ""}
    # status_if_new never changes an existing member; status does
    assert mc.put(path, json={"email_address": email, "status_if_new": "pending"}).json()["status"] == "subscribed"
    assert mc.patch(path, json={"status": "unsubscribed"}).json()["status"] == "unsubscribed"
    assert mc.get(f"/lists/{main_list['id']}/members/{email}").json()["id"] == created["id"]


def test_post_refuses_an_existing_member_and_fake_addresses(mc, main_list):
    path = f"/lists/{main_list['id']}/members"
    existing = mc.get(path, params={"count": 1}).json()["members"][0]["email_address"]
    taken = mc.post(path, json={"email_address": existing, "status": "subscribed"})
    assert "Use PUT" in problem(taken, 400, "Member Exists")["detail"]
    fake = mc.post(path, json={"email_address": "someone@example.com", "status": "subscribed"})
    assert problem(fake, 400, "Invalid Resource")["detail"] == (
        "someone@example.com looks fake or invalid, please enter a real email address."
    )
    missing = mc.post(path, json={"status": "subscribed"})
    assert [e["field"] for e in problem(missing, 400, "Invalid Resource")["errors"]] == ["email_address"]


def test_unsubscribed_people_cannot_be_resubscribed(mc, main_list):
    path = f"/lists/{main_list['id']}/members"
    gone = mc.get(path, params={"status": "unsubscribed", "count": 1}).json()["members"][0]
    response = mc.patch(f"{path}/{gone['id']}", json={"status": "subscribed"})
    assert "compliance state" in problem(response, 400, "Member In Compliance State")["detail"]


def test_member_tags_are_added_and_removed(mc, main_list):
    member = mc.get(f"/lists/{main_list['id']}/members", params={"count": 1}).json()["members"][0]
    path = f"/lists/{main_list['id']}/members/{member['id']}"
    response = mc.post(
        f"{path}/tags", json={"tags": [{"name": "vip", "status": "active"}, {"name": "customer", "status": "inactive"}]}
    )
    assert response.status_code == 204 and response.content == b""
    after = mc.get(path).json()
    assert "vip" in {t["name"] for t in after["tags"]} and "customer" not in {t["name"] for t in after["tags"]}
    problem(mc.post(f"{path}/tags", json={"tags": [{"name": "x", "status": "on"}]}), 400, "Invalid Resource")


# -- batch subscribe -------------------------------------------------------------------------------


def test_batch_subscribe_reports_each_member(mc, main_list):
    existing = mc.get(f"/lists/{main_list['id']}/members", params={"count": 1}).json()["members"][0]
    members = [
        {"email_address": f"batch{i}@fastmail.com", "status": "subscribed", "merge_fields": {"FNAME": f"B{i}"}}
        for i in range(3)
    ]
    members += [
        {"email_address": "nobody@example.com", "status": "subscribed"},
        {"email_address": existing["email_address"], "status": "subscribed"},
        {"email_address": "no-status@fastmail.com"},
    ]
    body = mc.post(f"/lists/{main_list['id']}", json={"members": members}).json()
    assert body["total_created"] == 3 and body["total_updated"] == 0 and body["error_count"] == 3
    assert [m["email_address"] for m in body["new_members"]] == [f"batch{i}@fastmail.com" for i in range(3)]
    errors = {e["email_address"]: e for e in body["errors"]}
    assert errors["nobody@example.com"]["error"].endswith("looks fake or invalid, please enter a real email address.")
    assert errors["nobody@example.com"]["error_code"] == "ERROR_GENERIC"
    assert errors[existing["email_address"]]["error_code"] == "ERROR_CONTACT_EXISTS"
    assert errors["no-status@fastmail.com"]["field"] == "status"

    again = mc.post(
        f"/lists/{main_list['id']}",
        json={"members": [{"email_address": "batch0@fastmail.com", "status": "unsubscribed"}], "update_existing": True},
    )
    assert again.json()["total_updated"] == 1 and again.json()["updated_members"][0]["status"] == "unsubscribed"


def test_batch_subscribe_takes_at_most_500(mc, main_list):
    members = [{"email_address": f"m{i}@fastmail.com", "status": "subscribed"} for i in range(501)]
    response = mc.post(f"/lists/{main_list['id']}", json={"members": members})
    assert problem(response, 400, "Invalid Resource")["errors"][0]["field"] == "members"


# -- segments ----------------------------------------------------------------------------------------


def test_segments_static_and_saved(mc, main_list):
    body = mc.get(f"/lists/{main_list['id']}/segments").json()
    by_name = {s["name"]: s for s in body["segments"]}
    assert by_name["VIP tasting panel"]["type"] == "static" and by_name["Customers"]["type"] == "saved"
    assert isinstance(by_name["Customers"]["id"], int) and by_name["Customers"]["options"]["conditions"]
    static = mc.get(f"/lists/{main_list['id']}/segments", params={"type": "static"}).json()
    assert [s["name"] for s in static["segments"]] == ["VIP tasting panel"]


def test_create_a_static_segment_and_edit_its_members(mc, main_list):
    path = f"/lists/{main_list['id']}/members"
    emails = [m["email_address"] for m in mc.get(path, params={"count": 4, "status": "subscribed"}).json()["members"]]
    created = mc.post(
        f"/lists/{main_list['id']}/segments",
        json={"name": "Launch list", "static_segment": emails[:2] + ["stranger@fastmail.com"]},
    ).json()
    assert created["type"] == "static" and created["member_count"] == 2  # addresses not on the list are ignored
    seg_path = f"/lists/{main_list['id']}/segments/{created['id']}"
    change = mc.post(
        seg_path, json={"members_to_add": emails[2:] + ["stranger@fastmail.com"], "members_to_remove": emails[:1]}
    ).json()
    assert change["total_added"] == 2 and change["total_removed"] == 1 and change["error_count"] == 1
    assert change["errors"][0]["email_addresses"] == ["stranger@fastmail.com"]
    members = mc.get(f"{seg_path}/members").json()
    assert members["total_items"] == 3 and {m["email_address"] for m in members["members"]} == set(emails[1:])
    assert mc.get(seg_path).json()["member_count"] == 3
    problem(mc.get(f"/lists/{main_list['id']}/segments/999"), 404, "Resource Not Found")


# -- campaigns ---------------------------------------------------------------------------------------


def test_create_read_update_delete_a_campaign(mc, main_list):
    campaign = new_campaign(mc, main_list["id"], preview_text="Five minutes, better coffee")
    assert campaign["status"] == "save" and campaign["type"] == "regular"
    assert campaign["recipients"]["list_id"] == main_list["id"]
    assert campaign["recipients"]["recipient_count"] == main_list["stats"]["member_count"]
    assert campaign["settings"]["subject_line"] == "How to brew a better cup"
    segments = {s["name"]: s["id"] for s in mc.get(f"/lists/{main_list['id']}/segments").json()["segments"]}
    updated = mc.patch(
        f"/campaigns/{campaign['id']}",
        json={
            "settings": {"title": "Brew guide v2"},
            "recipients": {"list_id": main_list["id"], "segment_opts": {"saved_segment_id": segments["Customers"]}},
        },
    )
    body = updated.json()
    assert body["settings"]["title"] == "Brew guide v2"
    assert body["settings"]["subject_line"] == "How to brew a better cup"
    assert body["recipients"]["segment_opts"]["saved_segment_id"] == segments["Customers"]
    assert body["recipients"]["recipient_count"] < main_list["stats"]["member_count"]
    no_settings = mc.patch(f"/campaigns/{campaign['id']}", json={"recipients": {}})
    assert problem(no_settings, 400, "Invalid Resource")["errors"][0]["field"] == "settings"
    assert mc.delete(f"/campaigns/{campaign['id']}").status_code == 204
    problem(mc.get(f"/campaigns/{campaign['id']}"), 404, "Resource Not Found")


def test_campaign_validation_names_the_fields(mc):
    response = mc.post(
        "/campaigns",
        json={"type": "plaintext", "recipients": {"list_id": "nope"}, "settings": {"reply_to": "not-an-address"}},
    )
    fields = {e["field"] for e in problem(response, 400, "Invalid Resource")["errors"]}
    assert fields == {"type", "recipients.list_id", "settings.reply_to"}


def test_list_campaigns_by_status(mc, main_list):
    new_campaign(mc, main_list["id"])
    sent = mc.get("/campaigns", params={"status": "sent", "count": 100}).json()
    drafts = mc.get("/campaigns", params={"status": "save"}).json()
    assert sent["total_items"] == 10 and {c["status"] for c in sent["campaigns"]} == {"sent"}
    assert drafts["total_items"] == 1 and drafts["campaigns"][0]["emails_sent"] == 0


def test_send_checklist_lists_what_is_missing(mc, main_list):
    campaign = new_campaign(mc, main_list["id"], subject_line="")
    checklist = mc.get(f"/campaigns/{campaign['id']}/send-checklist").json()
    assert checklist["is_ready"] is False
    failing = {i["heading"] for i in checklist["items"] if i["type"] == "error"}
    assert failing == {"Subject Line", "Content"}
    assert all(set(i) == {"type", "id", "heading", "details"} for i in checklist["items"])
    refused = mc.post(f"/campaigns/{campaign['id']}/actions/send")
    body = problem(refused, 400, "Bad Request")
    assert body["detail"] == "Your Campaign is not ready to send."
    assert {e["field"] for e in body["errors"]} == {"Subject Line", "Content"}


def test_send_test_then_send_then_actions_in_the_wrong_state(mc, sb, main_list):
    campaign = ready_campaign(mc, main_list["id"])
    cid = campaign["id"]
    assert (
        mc.post(
            f"/campaigns/{cid}/actions/test", json={"test_emails": ["me@fastmail.com"], "send_type": "html"}
        ).status_code
        == 204
    )
    problem(
        mc.post(f"/campaigns/{cid}/actions/test", json={"test_emails": ["me@@fastmail.com"], "send_type": "html"}),
        400,
        "Invalid Resource",
    )
    assert mc.post(f"/campaigns/{cid}/actions/send").status_code == 204
    assert mc.get(f"/campaigns/{cid}").json()["status"] == "sent"
    assert sb.world.email.mailchimp.campaigns[cid].send_count == 1
    again = problem(mc.post(f"/campaigns/{cid}/actions/send"), 400, "Bad Request")
    assert "sent" in again["detail"]
    assert "sent" in problem(mc.post(f"/campaigns/{cid}/actions/unschedule"), 400, "Bad Request")["detail"]
    assert (
        "sent"
        in problem(mc.patch(f"/campaigns/{cid}", json={"settings": {"title": "x"}}), 400, "Bad Request")["detail"]
    )
    problem(mc.delete(f"/campaigns/{cid}"), 400, "Bad Request")


def test_schedule_on_the_quarter_hour_in_the_future_then_unschedule(mc, sb, main_list):
    cid = ready_campaign(mc, main_list["id"])["id"]
    now = sb.world.now().replace(second=0, microsecond=0)
    future = (now + timedelta(days=1)).replace(minute=30)
    odd = problem(
        mc.post(f"/campaigns/{cid}/actions/schedule", json={"schedule_time": future.replace(minute=20).isoformat()}),
        400,
        "Bad Request",
    )
    assert "quarter-hour" in odd["detail"]
    past = problem(
        mc.post(
            f"/campaigns/{cid}/actions/schedule",
            json={"schedule_time": (now - timedelta(days=1)).replace(minute=0).isoformat()},
        ),
        400,
        "Bad Request",
    )
    assert "past" in past["detail"]
    assert (
        mc.post(
            f"/campaigns/{cid}/actions/schedule", json={"schedule_time": future.isoformat().replace("+00:00", "Z")}
        ).status_code
        == 204
    )
    scheduled = mc.get(f"/campaigns/{cid}").json()
    assert scheduled["status"] == "schedule" and scheduled["send_time"] == future.isoformat()
    assert mc.post(f"/campaigns/{cid}/actions/unschedule").status_code == 204
    assert mc.get(f"/campaigns/{cid}").json()["status"] == "save"
    # scheduled again, it goes out when the world's clock gets there
    mc.post(f"/campaigns/{cid}/actions/schedule", json={"schedule_time": future.isoformat()})
    sb.world.advance(days=2)
    assert mc.get(f"/campaigns/{cid}").json()["status"] == "sent"


def test_a_variate_campaign_tests_subjects_and_can_be_canceled_while_waiting(mc, sb, main_list):
    body = {
        "type": "variate",
        "recipients": {"list_id": main_list["id"]},
        "settings": {"title": "Subject test", "from_name": "Northwind", "reply_to": "hello@northwind.coffee"},
        "variate_settings": {
            "winner_criteria": "clicks",
            "wait_time": 240,
            "test_size": 30,
            "subject_lines": ["Your grinder, dialed in", "Coffee update"],
        },
    }
    campaign = mc.post("/campaigns", json=body).json()
    assert campaign["type"] == "variate" and campaign["variate_settings"]["wait_time"] == 240
    assert len(campaign["variate_settings"]["combinations"]) == 2
    bad = mc.post(
        "/campaigns",
        json={**body, "variate_settings": {"winner_criteria": "luck", "wait_time": 90, "subject_lines": ["only one"]}},
    )
    assert {e["field"] for e in problem(bad, 400, "Invalid Resource")["errors"]} == {
        "variate_settings.winner_criteria",
        "variate_settings.wait_time",
        "variate_settings.subject_lines",
    }
    cid = campaign["id"]
    mc.put(f"/campaigns/{cid}/content", json={"html": '<a href="https://northwind.coffee/shop">Shop</a>'})
    assert mc.post(f"/campaigns/{cid}/actions/send").status_code == 204
    assert mc.get(f"/campaigns/{cid}").json()["status"] == "sending"  # waiting for the winner
    sb.world.advance(hours=2)
    report = mc.get(f"/reports/{cid}").json()
    assert set(report["ab_split"]) == {"a", "b"}
    assert set(report["ab_split"]["a"]) >= {
        "bounces",
        "unsubs",
        "recipient_clicks",
        "opens",
        "unique_opens",
        "last_open",
    }
    assert mc.post(f"/campaigns/{cid}/actions/cancel-send").status_code == 204
    assert mc.get(f"/campaigns/{cid}").json()["status"] == "canceled"


def test_a_variate_campaign_sends_its_winner_after_the_wait(mc, sb, main_list):
    body = {
        "type": "variate",
        "recipients": {"list_id": main_list["id"]},
        "settings": {"title": "Subject test", "from_name": "Northwind", "reply_to": "hello@northwind.coffee"},
        "variate_settings": {
            "winner_criteria": "opens",
            "wait_time": 60,
            "test_size": 20,
            "subject_lines": ["Why we roast on Tuesdays", "FREE SHIPPING!!!"],
        },
    }
    cid = mc.post("/campaigns", json=body).json()["id"]
    mc.put(f"/campaigns/{cid}/content", json={"html": "<p>Hi</p>"})
    mc.post(f"/campaigns/{cid}/actions/send")
    sb.world.advance(hours=3)
    campaign = mc.get(f"/campaigns/{cid}").json()
    assert campaign["status"] == "sent" and campaign["variate_settings"]["winning_combination_id"]
    combinations = campaign["variate_settings"]["combinations"]
    winner = next(c for c in combinations if c["id"] == campaign["variate_settings"]["winning_combination_id"])
    # The combinations are the test groups (20% of the list); the winner went to everyone else.
    tested = sum(c["recipients"] for c in combinations)
    assert tested <= main_list["stats"]["member_count"] * 20 // 100
    rest = [d for d in sb.world.email.mailchimp.campaign(cid).deliveries if d.remainder]
    assert {d.variant for d in rest} == {winner["subject_line"]}
    assert len(rest) == campaign["emails_sent"] - tested
    assert winner["recipients"] + len(rest) > main_list["stats"]["member_count"] // 2
    report = mc.get(f"/reports/{cid}").json()
    assert report["emails_sent"] == campaign["emails_sent"]  # the report covers the test and the rest


def test_reports_count_proxy_opens_apart_and_rates_are_fractions(mc, sb, main_list):
    cid = ready_campaign(mc, main_list["id"])["id"]
    problem(mc.get(f"/reports/{cid}"), 404, "Resource Not Found")  # no report before sending
    mc.post(f"/campaigns/{cid}/actions/send")
    sb.world.advance(days=3)
    report = mc.get(f"/reports/{cid}").json()
    opens, clicks, bounces = report["opens"], report["clicks"], report["bounces"]
    delivered = report["emails_sent"] - bounces["hard_bounces"] - bounces["soft_bounces"]
    assert report["emails_sent"] == main_list["stats"]["member_count"]
    assert 0 < opens["proxy_excluded_unique_opens"] < opens["unique_opens"]
    assert opens["open_rate"] == pytest.approx(opens["unique_opens"] / delivered)
    assert opens["proxy_excluded_open_rate"] < opens["open_rate"] < 1
    assert 0 < clicks["click_rate"] < opens["proxy_excluded_open_rate"]
    assert clicks["unique_subscriber_clicks"] == clicks["unique_clicks"] > 0
    assert "ab_split" not in report and report["list_stats"]["open_rate"] > 1  # list stats stay in percent
    links = mc.get(f"/reports/{cid}/click-details").json()
    assert {u["url"] for u in links["urls_clicked"]} == {
        "https://northwind.coffee/shop",
        "https://northwind.coffee/blog",
    }
    assert sum(u["total_clicks"] for u in links["urls_clicked"]) == clicks["clicks_total"]


# -- the 10-connection limit -----------------------------------------------------------------------


def test_the_eleventh_simultaneous_request_gets_429(sb, mc_base, creds, latency):
    latency(0.3)
    stats = connections(sb.world)
    stats.peak = stats.refused = 0

    async def burst(n: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=mc_base,
            auth=("u", creds["mailchimp"]["api_key"]),
            timeout=10,
            limits=httpx.Limits(max_connections=50),
        ) as client:
            return await asyncio.gather(*(client.get("/ping") for _ in range(n)))

    responses = asyncio.run(burst(12))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 10 + [429] * 2 and stats.peak == 10 and stats.refused == 2
    refused = next(r for r in responses if r.status_code == 429)
    body = problem(refused, 429, "Too Many Requests")
    assert "10 simultaneous connections" in body["detail"]
    assert not any(h.lower().startswith(("x-ratelimit", "retry-after")) for h in refused.headers)
    # another key (an OAuth token) has slots of its own
    token = tokens(creds, "mailchimp")["access_token"]
    assert httpx.get(mc_base + "/ping", headers={"Authorization": f"OAuth {token}"}).status_code == 200


def test_faults_speak_mailchimp(sb, mc):
    sb.world.faults.add("status", path="/mailchimp/3.0/lists*", status=503, times=1)
    response = mc.get("/lists")
    assert response.status_code == 503
    assert set(response.json()) >= PROBLEM_KEYS and response.json()["title"] == "Service Unavailable"
    assert mc.get("/lists").status_code == 200
