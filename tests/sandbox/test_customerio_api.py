"""The Customer.io emulation over the wire: App API (people, segments, newsletters, metrics) and Track API."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

APP = "/customerio/app/v1"
TRACK = "/customerio/track/api"
HTML = '<html><body><p>Fresh beans.</p><a href="http://127.0.0.1:8765/shop/">Shop</a></body></html>'


@pytest.fixture
def cio(sb) -> dict:
    return sb.provision()["customerio"]


def paced(mono) -> dict:
    """Requests spaced 0.1 s apart on the sandbox's clock, inside the App API's 10 per second."""
    return {"request": [lambda _request: mono.advance(0.1)]}


@pytest.fixture
def app(cio, mono):
    with httpx.Client(
        base_url=cio["app_api_base"] + "/",
        headers={"Authorization": f"Bearer {cio['app_api_key']}"},
        timeout=10,
        event_hooks=paced(mono),
    ) as client:
        yield client


@pytest.fixture
def burst(cio):
    """An App API client that does not wait between requests."""
    with httpx.Client(
        base_url=cio["app_api_base"] + "/", headers={"Authorization": f"Bearer {cio['app_api_key']}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def track(cio, mono):
    with httpx.Client(
        base_url=cio["track_api_base"] + "/",
        auth=(cio["site_id"], cio["track_api_key"]),
        timeout=10,
        event_hooks=paced(mono),
    ) as client:
        yield client


@pytest.fixture
def account(sb):
    return sb.world.email.customerio


def new_newsletter(app, **overrides) -> dict:
    body = {
        "name": "Roast day",
        "type": "email",
        "recipients": {"attribute": {"field": "email", "operator": "exists"}},
        "subject": "Your roast ships Tuesday",
        "body": HTML,
        **overrides,
    }
    response = app.post("newsletters", json=body)
    assert response.status_code == 200, response.text
    return response.json()["newsletter"]


def manual_segment(app, track, emails: list[str], name: str = "Test segment") -> int:
    seg = app.post("segments", json={"segment": {"name": name}}).json()["segment"]
    if emails:
        assert (
            track.post(
                f"v1/segments/{seg['id']}/add_customers", params={"id_type": "email"}, json={"ids": emails}
            ).status_code
            == 200
        )
    return seg["id"]


def sums(series: dict) -> dict:
    return {k: sum(v) for k, v in series.items()}


# -- auth, limits, faults -----------------------------------------------------------------------


def test_app_api_needs_the_bearer_key(sb, cio):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {cio['app_api_key']}"}):
        response = httpx.get(f"{cio['app_api_base']}/segments", headers=headers)
        assert response.status_code == 401
        assert "error" in response.json()["meta"]
        assert cio["app_api_key"] not in response.text


def test_track_api_needs_site_id_and_key(sb, cio):
    for auth in ((cio["site_id"], "wrong"), ("wrong", cio["track_api_key"]), None):
        response = httpx.put(f"{cio['track_api_base']}/v1/customers/a@northwind.coffee", json={}, auth=auth)
        assert response.status_code == 401
    assert (
        httpx.put(
            f"{cio['track_api_base']}/v1/customers/a@northwind.coffee", json={}, headers={"Authorization": "Basic !!!"}
        ).status_code
        == 401
    )


def test_app_api_allows_ten_requests_a_second_per_key(burst, mono):
    assert all(burst.get("sender_identities").status_code == 200 for _ in range(10))
    limited = burst.get("sender_identities")
    assert limited.status_code == 429
    assert "10-per-second" in limited.json()["meta"]["error"]
    mono.advance(0.1)
    assert burst.get("sender_identities").status_code == 200
    assert burst.get("sender_identities").status_code == 429
    mono.advance(1)
    assert burst.get("sender_identities").status_code == 200


def test_track_api_allows_a_hundred_requests_a_second(cio):
    with httpx.Client(base_url=cio["track_api_base"] + "/", auth=(cio["site_id"], cio["track_api_key"])) as track:
        codes = [track.put("v1/customers/burst@northwind.coffee", json={}).status_code for _ in range(101)]
    assert codes[:100] == [200] * 100 and codes[100] == 429


def test_injected_faults_answer_in_customerio_shape(sb, app):
    sb.world.faults.add("status", path=APP + "/segments", status=503, times=1)
    response = app.get("segments")
    assert response.status_code == 503 and response.json() == {"meta": {"error": "Service Unavailable"}}
    assert app.get("segments").status_code == 200


def test_malformed_json_is_a_400(app):
    response = app.post("segments", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["meta"]["error"]


def test_unknown_route_is_a_404(app):
    assert app.get("nothing/here").status_code == 404


# -- workspace, senders, people ----------------------------------------------------------------


def test_workspace_and_sender_identities(app, account):
    spaces = app.get("workspaces").json()["workspaces"]
    assert [w["name"] for w in spaces] == [account.name]
    aud = next(iter(account.audiences.values()))
    assert spaces[0]["people"] == len(aud.people)
    senders = app.get("sender_identities").json()
    assert senders["sender_identities"][0]["address"] == f"{aud.from_name} <{aud.from_email}>"
    assert senders["next"] == ""


def test_customer_lookup_by_email_and_attributes_as_strings(app, account):
    person = next(iter(next(iter(account.audiences.values())).people.values()))
    results = app.get("customers", params={"email": person.email.upper()}).json()["results"]
    assert results == [{"email": person.email, "id": person.id, "cio_id": results[0]["cio_id"]}]
    by_id = app.get(f"customers/{person.id}/attributes").json()["customer"]
    by_email = app.get(f"customers/{person.email}/attributes", params={"id_type": "email"}).json()["customer"]
    assert by_id == by_email
    assert by_id["attributes"]["first_name"] == person.fields["first_name"]
    assert all(isinstance(v, str) for v in by_id["attributes"].values())
    assert by_id["unsubscribed"] is (person.status == "unsubscribed")
    assert app.get("customers/nobody@northwind.coffee/attributes", params={"id_type": "email"}).status_code == 404
    assert app.get("customers/x/attributes", params={"id_type": "phone"}).status_code == 400
    assert app.get("customers", params={"email": "nobody@northwind.coffee"}).json() == {"results": []}


def test_people_search_filters_pages_and_bulk_attributes(app, account):
    aud = next(iter(account.audiences.values()))
    flt = {
        "and": [
            {"attribute": {"field": "email", "operator": "exists"}},
            {"not": {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}},
        ]
    }
    first = app.post("customers", params={"limit": 3}, json={"filter": flt}).json()
    second = app.post("customers", params={"limit": 3, "start": first["next"]}, json={"filter": flt}).json()
    assert len(first["identifiers"]) == 3 and first["ids"] == [i["id"] for i in first["identifiers"]]
    assert not {i["email"] for i in first["identifiers"]} & {i["email"] for i in second["identifiers"]}
    subscribed = sum(p.status == "subscribed" for p in aud.people.values())
    total = app.post("customers", params={"limit": 1000}, json={"filter": flt}).json()
    assert total["next"] and len(total["identifiers"]) == 1000 and subscribed > 1000
    emails = [i["email"] for i in first["identifiers"]]
    customers = app.post(
        "customers/attributes", params={"id_type": "email"}, json={"ids": emails + ["nobody@northwind.coffee"]}
    ).json()["customers"]
    assert [c["customer"]["identifiers"]["email"] for c in customers] == emails
    assert app.post("customers", json={"filter": {"maybe": {}}}).status_code == 400
    assert app.post("customers", json={}).status_code == 400
    assert app.post("customers/attributes", json={"ids": [str(i) for i in range(101)]}).status_code == 400


# -- Track: identify and batch ------------------------------------------------------------------


def test_identify_creates_updates_unsubscribes_and_removes_attributes(app, track, account):
    email = "new.person@northwind-customers.com"
    assert track.put(f"v1/customers/{email}", json={"first_name": "Ada", "plan": "pro", "visits": 3}).json() == {}
    attrs = app.get(f"customers/{email}/attributes", params={"id_type": "email"}).json()["customer"]["attributes"]
    assert (attrs["first_name"], attrs["plan"], attrs["visits"]) == ("Ada", "pro", "3")
    assert track.put(f"v1/customers/{email}", json={"unsubscribed": True, "plan": None}).status_code == 200
    customer = app.get(f"customers/{email}/attributes", params={"id_type": "email"}).json()["customer"]
    assert customer["unsubscribed"] is True and "plan" not in customer["attributes"]
    track.put(f"v1/customers/{customer['id']}", json={"unsubscribed": "false"})  # by id this time
    assert account.audience("workspace").people[email].status == "subscribed"


def test_identify_with_update_only_creates_nobody(app, track):
    assert track.put("v1/customers/ghost@northwind-customers.com", json={"_update": True}).status_code == 200
    assert app.get("customers", params={"email": "ghost@northwind-customers.com"}).json()["results"] == []


def test_identify_refuses_an_invalid_address_naming_it(track):
    response = track.put("v1/customers/not-an-email@", json={"email": "not-an-email@"})
    assert response.status_code == 400
    assert "not-an-email@" in response.json()["meta"]["errors"][0]


def test_batch_applies_the_valid_items_and_reports_the_others(app, track):
    good = [
        {
            "type": "person",
            "identifiers": {"email": f"b{i}@northwind-customers.com"},
            "action": "identify",
            "attributes": {"plan": "trial"},
        }
        for i in range(3)
    ]
    bad = [
        {"type": "person", "identifiers": {"email": "broken@"}, "action": "identify", "attributes": {}},
        {"type": "object", "identifiers": {"object_type_id": "1", "object_id": "acme"}, "action": "identify"},
        {"type": "person", "identifiers": {"email": "x@northwind-customers.com", "id": "1"}, "action": "identify"},
    ]
    response = track.post("v2/batch", json={"batch": [good[0], bad[0], good[1], bad[1], good[2], bad[2]]})
    assert response.status_code == 207
    errors = response.json()["errors"]
    assert [e["batch_index"] for e in errors] == [1, 3, 5]
    assert "broken@" in errors[0]["message"] and errors[0]["field"] == "identifiers.email"
    for item in good:
        email = item["identifiers"]["email"]
        attrs = app.get(f"customers/{email}/attributes", params={"id_type": "email"}).json()["customer"]["attributes"]
        assert attrs["plan"] == "trial"
    assert track.post("v2/batch", json={"batch": good}).status_code == 200
    assert track.post("v2/batch", json={"batch": good}).json() == {}


def test_batch_limits(track):
    assert track.post("v2/batch", json={"batch": []}).status_code == 400
    assert "errors" in track.post("v2/batch", json={}).json()
    big = {
        "type": "person",
        "identifiers": {"email": "big@northwind-customers.com"},
        "action": "identify",
        "attributes": {"notes": "x" * 40_000},
    }
    response = track.post("v2/batch", json={"batch": [big]})
    assert response.status_code == 207 and "32kb" in response.json()["errors"][0]["message"]
    huge = {"batch": [{**big, "attributes": {"notes": "x" * 30_000}}] * 20}
    assert track.post("v2/batch", json=huge).status_code == 413


# -- segments -----------------------------------------------------------------------------------


def test_segments_list_get_count_and_membership(app, account):
    aud = next(iter(account.audiences.values()))
    segments = app.get("segments").json()["segments"]
    assert {s["type"] for s in segments} == {"manual", "dynamic"}
    manual = next(s for s in segments if s["type"] == "manual")
    assert app.get(f"segments/{manual['id']}").json()["segment"] == manual
    count = app.get(f"segments/{manual['id']}/customer_count").json()
    assert count == {"segment_id": manual["id"], "count": len(aud.segments[str(manual["id"])].emails)}
    members = app.get(f"segments/{manual['id']}/membership", params={"limit": 10}).json()
    rest = app.get(f"segments/{manual['id']}/membership", params={"start": members["next"]}).json()
    assert len(members["ids"]) + len(rest["ids"]) == count["count"] and rest["next"] == ""
    everyone = next(s for s in segments if s["type"] == "dynamic" and s["name"].startswith("All"))
    subscribed = sum(p.status == "subscribed" for p in aud.people.values())
    assert app.get(f"segments/{everyone['id']}/customer_count").json()["count"] == subscribed
    for bad in ("999999", "abc"):
        response = app.get(f"segments/{bad}")
        assert response.status_code == 404 and "not found" in response.json()["meta"]["error"]


def test_manual_segment_is_created_then_filled_and_emptied_by_track(app, track):
    members = app.post(
        "customers", params={"limit": 4}, json={"filter": {"attribute": {"field": "email", "operator": "exists"}}}
    ).json()["identifiers"]
    seg = app.post("segments", json={"segment": {"name": "Tasting panel", "description": "x"}}).json()["segment"]
    assert (seg["type"], seg["name"], seg["state"]) == ("manual", "Tasting panel", "finished")
    add = track.post(
        f"v1/segments/{seg['id']}/add_customers",
        params={"id_type": "email"},
        json={"ids": [m["email"] for m in members] + ["nobody@northwind.coffee"]},
    )
    assert add.status_code == 200 and add.json() == {}
    assert app.get(f"segments/{seg['id']}/customer_count").json()["count"] == 4
    track.post(f"v1/segments/{seg['id']}/remove_customers", json={"ids": [members[0]["id"]]})
    assert app.get(f"segments/{seg['id']}/customer_count").json()["count"] == 3
    found = app.post("customers", json={"filter": {"segment": {"id": seg["id"]}}}).json()["identifiers"]
    assert {f["email"] for f in found} == {m["email"] for m in members[1:]}
    assert app.post("segments", json={"segment": {}}).status_code == 400


def test_track_segment_errors(app, track):
    dynamic = next(s for s in app.get("segments").json()["segments"] if s["type"] == "dynamic")
    response = track.post(f"v1/segments/{dynamic['id']}/add_customers", json={"ids": ["cust-000001"]})
    assert response.status_code == 400 and "manual" in response.json()["meta"]["errors"][0]
    missing = track.post("v1/segments/999999/add_customers", json={"ids": ["cust-000001"]})
    assert missing.status_code == 404 and missing.json()["meta"]["errors"]
    seg = manual_segment(app, track, [])
    assert track.post(f"v1/segments/{seg}/add_customers", json={"ids": []}).status_code == 400
    assert track.post(f"v1/segments/{seg}/add_customers", json={"ids": ["x"] * 1001}).status_code == 400


# -- newsletters --------------------------------------------------------------------------------


def test_newsletter_create_read_and_contents(app, account):
    n = new_newsletter(app, preheader_text="Fresh beans", **{"from": "Roastmaster <hello@northwind.coffee>"})
    assert set(n) >= {
        "id",
        "deduplicate_id",
        "name",
        "type",
        "content_ids",
        "sent_at",
        "created",
        "updated",
        "recipient_segment_ids",
        "tags",
    }
    assert n["sent_at"] is None and n["recipient_segment_ids"] == [] and len(n["content_ids"]) == 1
    assert app.get(f"newsletters/{n['id']}").json()["newsletter"] == n
    contents = app.get(f"newsletters/{n['id']}/contents").json()["contents"]
    assert [c["id"] for c in contents] == n["content_ids"]
    content = contents[0]
    assert (content["subject"], content["preheader_text"], content["body"]) == (
        "Your roast ships Tuesday",
        "Fresh beans",
        HTML,
    )
    assert content["from"] == "Roastmaster <hello@northwind.coffee>"
    assert app.get(f"newsletters/{n['id']}/contents/{content['id']}").json()["content"] == content
    campaign = account.campaigns[str(n["id"])]
    assert (campaign.status, campaign.from_name, campaign.segment_id) == ("draft", "Roastmaster", None)
    listed = app.get("newsletters", params={"limit": 2}).json()
    assert listed["newsletters"][0]["id"] == n["id"] and listed["next"]
    assert app.get("newsletters", params={"sort": "asc", "limit": 1}).json()["newsletters"][0]["id"] < n["id"]


def test_newsletter_validation_errors(app, track):
    seg = manual_segment(app, track, [])
    cases = [
        ({"subject": None}, 422, "subject"),
        ({"name": ""}, 422, "name"),
        ({"type": "push"}, 422, "channel"),
        ({"recipients": None}, 400, "recipients"),
        ({"recipients": {"segment": {"id": 999999}}}, 422, "999999"),
        ({"recipients": {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}}, 422, "recipients"),
        ({"from": "Someone <someone@elsewhere.com>"}, 422, "verified sender"),
        ({"from": "A <hello@northwind.coffee>", "from_id": 1}, 422, "not both"),
        ({"send_now": True, "scheduled_at": 2_000_000_000}, 422, "both"),
        ({"scheduled_at": 1_000_000_000}, 422, "future"),
        ({"rate_limit_email_rate": 100}, 422, "rate limit"),
    ]
    for change, status, needle in cases:
        body = {
            "name": "Bad",
            "type": "email",
            "recipients": {"segment": {"id": seg}},
            "subject": "S",
            "body": HTML,
            **change,
        }
        body = {k: v for k, v in body.items() if v is not None}
        response = app.post("newsletters", json=body)
        assert response.status_code == status, (change, response.text)
        assert needle in json.dumps(response.json()), (change, response.text)
        assert "detail" in response.json()["errors"][0]
    assert app.get("newsletters/999999").status_code == 404
    assert app.get("newsletters/abc/contents").status_code == 404


def test_send_then_the_state_refuses_a_second_send(app, track, account):
    people = app.post(
        "customers", params={"limit": 3}, json={"filter": {"attribute": {"field": "email", "operator": "exists"}}}
    ).json()["identifiers"]
    seg = manual_segment(app, track, [p["email"] for p in people])
    n = new_newsletter(app, recipients={"segment": {"id": seg}})
    sent = app.post(f"newsletters/{n['id']}/send", json={"rate_limit_email_rate": 500, "rate_limit_time_period": 60})
    assert sent.status_code == 200 and sent.json()["newsletter"]["sent_at"] is not None
    campaign = account.campaigns[str(n["id"])]
    assert campaign.send_count == 1 and len(campaign.deliveries) == 3
    again = app.post(f"newsletters/{n['id']}/send")
    assert again.status_code == 400 and "already been sent (it is sent)" in again.json()["errors"][0]["detail"]
    edit = app.put(f"newsletters/{n['id']}/contents/{n['content_ids'][0]}", json={"subject": "Too late"})
    assert edit.status_code == 400 and "sent" in edit.json()["errors"][0]["detail"]
    assert app.delete(f"newsletters/{n['id']}").status_code == 400


def test_send_is_refused_without_content_or_recipients(app, track, account):
    empty_segment = manual_segment(app, track, [])
    n = new_newsletter(app, body="", recipients={"segment": {"id": empty_segment}})
    response = app.post(f"newsletters/{n['id']}/send")
    assert response.status_code == 400
    details = [e["detail"] for e in response.json()["errors"]]
    assert any("content" in d for d in details) and any("recipients" in d for d in details)
    assert account.campaigns[str(n["id"])].send_count == 0
    assert app.post(f"newsletters/{n['id']}/send", json={"rate_limit_time_period": 60}).status_code == 422


def test_create_and_send_now_or_schedule_in_one_request(app, sb, account):
    now = int(sb.world.now().timestamp())
    sent = new_newsletter(app, name="Now", send_now=True)
    assert sent["sent_at"] == now and account.campaigns[str(sent["id"])].status == "sent"
    later = new_newsletter(app, name="Later", scheduled_at=now + 3600)
    assert account.campaigns[str(later["id"])].status == "scheduled" and later["sent_at"] is None


def test_schedule_reschedule_deschedule_and_fire(app, sb, account):
    n = new_newsletter(app)
    now = int(sb.world.now().timestamp())
    url = f"newsletters/{n['id']}/schedule"
    assert app.post(url, json={"scheduled_at": now - 60, "timezone": "UTC"}).status_code == 422
    missing_tz = app.post(url, json={"scheduled_at": now + 60})
    assert missing_tz.status_code == 422 and "timezone" in missing_tz.json()["errors"][0]["detail"]
    assert app.post(url, json={}).status_code == 422
    not_scheduled = app.post(url, json={"scheduled_at": 0})
    assert not_scheduled.status_code == 400 and "(it is draft)" in not_scheduled.json()["errors"][0]["detail"]
    ok = app.post(url, json={"scheduled_at": now + 3600, "timezone": "America/New_York"})
    assert ok.status_code == 200 and ok.json()["newsletter"]["sent_at"] is None  # no state on the wire
    campaign = account.campaigns[str(n["id"])]
    assert campaign.status == "scheduled" and int(campaign.scheduled_for.timestamp()) == now + 3600
    app.post(url, json={"scheduled_at": now + 7200, "timezone": "UTC"})  # reschedule
    assert int(campaign.scheduled_for.timestamp()) == now + 7200
    assert app.post(url, json={"scheduled_at": 0}).status_code == 200 and campaign.status == "draft"
    app.post(url, json={"scheduled_at": now + 3600, "timezone": "UTC"})
    with sb.world.lock:
        sb.world.advance(hours=2)
    assert app.get(f"newsletters/{n['id']}").json()["newsletter"]["sent_at"] == now + 3600
    refused = app.post(url, json={"scheduled_at": 0})
    assert refused.status_code == 400 and "it is sent" in refused.json()["errors"][0]["detail"]


def test_update_content_changes_the_draft(app, account):
    n = new_newsletter(app)
    cid = n["content_ids"][0]
    response = app.put(
        f"newsletters/{n['id']}/contents/{cid}",
        json={"subject": "New subject", "preheader_text": "Pre", "body": "<p>Hi</p>", "from_id": 1, "reply_to_id": 1},
    )
    assert response.status_code == 200
    content = response.json()["content"]
    assert (content["subject"], content["preheader_text"], content["body"]) == ("New subject", "Pre", "<p>Hi</p>")
    c = account.campaigns[str(n["id"])]
    assert (c.subject, c.preview_text, c.html, c.reply_to) == (
        "New subject",
        "Pre",
        "<p>Hi</p>",
        "hello@northwind.coffee",
    )
    assert app.put(f"newsletters/{n['id']}/contents/{cid}", json={"from_id": 99}).status_code == 422
    assert app.put(f"newsletters/{n['id']}/contents/{cid + 5}", json={}).status_code == 404


def test_ab_test_groups_split_everyone_and_report_per_variant(app, sb, account):
    n = new_newsletter(app, name="AB", subject="Coffee update")
    assert app.get(f"newsletters/{n['id']}/test_groups").json() == {"test_groups": []}
    grown = app.post(f"newsletters/{n['id']}/test_groups").json()["newsletter"]
    assert len(grown["content_ids"]) == 2
    groups = app.get(f"newsletters/{n['id']}/test_groups").json()["test_groups"]
    assert [(g["name"], g["winner"]) for g in groups] == [("A", False), ("B", False)]
    b = groups[1]["content_ids"][0]
    assert app.get(f"newsletters/{n['id']}/contents/{b}").json()["content"]["subject"] == "Coffee update"
    app.put(f"newsletters/{n['id']}/contents/{b}", json={"subject": "3 brew methods you have not tried?"})
    c = account.campaigns[str(n["id"])]
    assert c.ab.subjects == ["Coffee update", "3 brew methods you have not tried?"] and c.ab.test_size == 100
    assert app.post(f"newsletters/{n['id']}/send").status_code == 200
    with sb.world.lock:
        sb.world.advance(days=2)
    per = [
        sums(app.get(f"newsletters/{n['id']}/contents/{cid}/metrics").json()["metric"]["series"])
        for cid in grown["content_ids"]
    ]
    stats = account.stats(c.id)
    assert [p["sent"] for p in per] == [v.sent for v in stats.variants]
    assert [p["clicked"] for p in per] == [v.unique_clicks for v in stats.variants]
    assert min(p["sent"] for p in per) > 1000
    assert app.post(f"newsletters/{n['id']}/test_groups").status_code == 400  # sent: no new groups


def test_metrics_series_sum_to_the_world_and_split_machine_opens(app, sb, account):
    n = new_newsletter(app, name="Metrics")
    app.post(f"newsletters/{n['id']}/send")
    with sb.world.lock:
        sb.world.advance(days=3)
    url = f"newsletters/{n['id']}/metrics"
    days = app.get(url).json()["metric"]
    assert days["type"] == "email" and len(days["series"]["sent"]) == 45
    assert len(app.get(url, params={"period": "hours", "steps": 1}).json()["metric"]["series"]["sent"]) == 2
    assert len(app.get(url, params={"period": "months", "steps": 121}).json()["metric"]["series"]["sent"]) == 121
    assert len(app.get(url, params={"period": "weeks"}).json()["metric"]["series"]["opened"]) == 12
    total = sums(days["series"])
    stats = account.stats(str(n["id"]))
    assert total["sent"] == stats.emails_sent and total["delivered"] == stats.delivered
    assert total["opened"] == stats.unique_opens and total["clicked"] == stats.unique_clicks
    assert total["prefetch_opened"] == stats.proxied_unique_opens > 0.3 * stats.delivered
    assert total["human_opened"] + total["prefetch_opened"] == total["opened"]
    assert sums(app.get(url, params={"period": "months", "steps": 121}).json()["metric"]["series"]) == total
    assert app.get(url, params={"period": "years"}).status_code == 400
    links = app.get(f"{url}/links", params={"unique": "true"}).json()["links"]
    assert links[0]["link"] == {"id": 1, "href": "http://127.0.0.1:8765/shop/"}
    unique = sum(links[0]["metric"]["series"]["clicked"])
    everything = sum(app.get(f"{url}/links").json()["links"][0]["metric"]["series"]["clicked"])
    assert stats.links["http://127.0.0.1:8765/shop/"] == (everything, unique) and everything >= unique > 0


def test_metrics_of_a_draft_are_zero(app):
    n = new_newsletter(app)
    series = app.get(f"newsletters/{n['id']}/metrics", params={"period": "days", "steps": 3}).json()["metric"]["series"]
    assert series["sent"] == [0, 0, 0]


def test_basic_auth_header_decoding(cio):
    token = base64.b64encode(f"{cio['site_id']}:{cio['track_api_key']}".encode()).decode()
    response = httpx.post(
        f"{cio['track_api_base']}/v2/batch", json={"batch": []}, headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 400  # authenticated; the empty batch is the problem


def test_a_reset_starts_the_rate_limit_afresh(sb, burst):
    for _ in range(10):
        burst.get("workspaces")
    assert burst.get("workspaces").status_code == 429
    sb.world.reset()
    assert burst.get("workspaces").status_code == 200
