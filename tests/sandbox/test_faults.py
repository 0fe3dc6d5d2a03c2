"""Every fault kind as an httpx client experiences it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from sandbox.faults import FaultSet


def test_status_fault_with_retry_after_and_vendor_body(sb, anon, wf, creds):
    sb.world.faults.add("status", path="/wp-json/wp/v2/posts", status=429, retry_after=7, times=1)
    limited = anon.get("/wp-json/wp/v2/posts")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    body = limited.json()
    assert set(body) == {"code", "message", "data"} and body["data"]["status"] == 429
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200  # times=1: spent

    sb.world.faults.add("status", path="/webflow/v2/*", status=503, times=1)
    unavailable = wf.get("/sites")
    assert unavailable.status_code == 503
    assert set(unavailable.json()) == {"code", "message", "externalReference", "details"}


def test_status_fault_matches_method_and_the_rest_route_form(sb, anon, wp):
    sb.world.faults.add("status", method="POST", path="/wp-json/wp/v2/posts*", status=500)
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200
    assert wp.post("/wp/v2/posts", json={"title": "x"}).status_code == 500
    plain = anon.post("/", params={"rest_route": "/wp/v2/posts"}, json={"title": "x"})
    assert plain.status_code == 500 and plain.json()["code"] == "internal_server_error"


def test_latency_fault_delays_then_answers(sb, anon):
    sb.world.faults.add("latency", path="/wp-json/wp/v2/pages", delay=0.05, times=1)
    started = time.perf_counter()
    r = anon.get("/wp-json/wp/v2/pages")
    assert r.status_code == 200 and r.json()
    assert time.perf_counter() - started >= 0.05


def test_malformed_fault_is_200_with_invalid_json(sb, anon):
    sb.world.faults.add("malformed", path="/wp-json/wp/v2/posts", times=1)
    r = anon.get("/wp-json/wp/v2/posts")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_drop_fault_is_a_transport_error(sb, anon):
    sb.world.faults.add("drop", path="/wp-json/wp/v2/posts", times=1)
    with pytest.raises(httpx.TransportError):
        anon.get("/wp-json/wp/v2/posts")
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200


def test_drop_after_applies_the_write_but_loses_the_response(sb, wp):
    sb.world.faults.add("drop_after", method="POST", path="/wp-json/wp/v2/posts", times=1)
    with pytest.raises(httpx.TransportError):
        wp.post("/wp/v2/posts", json={"title": "Lost Response", "status": "publish"})
    found = wp.get("/wp/v2/posts", params={"search": "Lost Response"}).json()
    assert [p["title"]["rendered"] for p in found] == ["Lost Response"]


def test_drop_after_on_a_webflow_create(sb, wf, creds):
    collection = creds["webflow"]["collection_id"]
    sb.world.faults.add("drop_after", method="POST", path=f"/webflow/v2/collections/{collection}/items", times=1)
    with pytest.raises(httpx.TransportError):
        wf.post(f"/collections/{collection}/items", json={"fieldData": {"name": "Ghost", "slug": "ghost"}})
    slugs = [i["fieldData"]["slug"] for i in wf.get(f"/collections/{collection}/items").json()["items"]]
    assert "ghost" in slugs


def test_rate_limit_fault_is_a_token_bucket(sb, anon, mono):
    rule = sb.world.faults.add("rate_limit", path="/wp-json/*", rate=0.5, burst=2)
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200
    limited = anon.get("/wp-json/wp/v2/posts")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    mono.advance(2)
    assert anon.get("/wp-json/wp/v2/posts").status_code == 200
    assert rule.hits == 1 and rule.seen == 4
    assert anon.get("/about-us/").status_code == 200  # outside the glob


def test_faults_never_touch_the_admin_endpoints(sb, anon):
    sb.world.faults.add("status", path="*", status=500)
    assert anon.get("/_sandbox/health").status_code == 200
    assert anon.get("/").status_code == 500


def test_admin_fault_endpoints(anon):
    created = anon.post(
        "/_sandbox/faults", json={"kind": "status", "path": "/wp-json/wp/v2/tags", "status": 503, "times": 2}
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["kind"] == "status" and rule["times"] == 2 and rule["hits"] == 0 and rule["method"] == "*"
    assert anon.get("/wp-json/wp/v2/tags").status_code == 503
    listed = anon.get("/_sandbox/faults").json()["faults"]
    assert listed[0]["hits"] == 1 and listed[0]["active"] is True
    assert anon.post("/_sandbox/faults", json={"kind": "explode"}).status_code == 400
    assert anon.post("/_sandbox/faults", json={"kind": "status", "colour": "red"}).status_code == 400
    assert anon.delete(f"/_sandbox/faults/{rule['id']}").status_code == 204
    anon.post("/_sandbox/faults", json={"kind": "drop", "path": "/x"})
    assert anon.delete("/_sandbox/faults").json() == {"faults": []}
    assert anon.get("/_sandbox/faults").json() == {"faults": []}


def test_rules_are_validated():
    faults = FaultSet(lambda: 0.0)
    with pytest.raises(ValueError):
        faults.add("status", status=999)
    with pytest.raises(ValueError):
        faults.add("rate_limit", rate=0)
    rule = faults.add(kind="latency", delay=0.1, method="get")
    assert rule.method == "GET" and rule.matches("GET", "/anything")


def test_late_applies_the_write_after_the_client_gave_up(sb, wp):
    rule = sb.world.faults.add("late", method="POST", path="/wp-json/wp/v2/posts", delay=0.6, times=1)
    with pytest.raises(httpx.ReadTimeout):
        wp.post("/wp/v2/posts", json={"title": "Landed Late", "status": "draft"}, timeout=0.1)
    assert rule.applied == 0  # the client has gone; the vendor is still working on it
    assert wp.get("/wp/v2/posts", params={"search": "Landed Late", "status": "draft"}).json() == []
    for _ in range(100):
        if rule.applied:
            break
        time.sleep(0.02)
    found = wp.get("/wp/v2/posts", params={"search": "Landed Late", "status": "draft"}).json()
    assert rule.applied == 1 and [p["title"]["rendered"] for p in found] == ["Landed Late"]


def test_late_answers_a_client_that_waits_long_enough(sb, wp):
    sb.world.faults.add("late", method="POST", path="/wp-json/wp/v2/posts", delay=0.05, times=1)
    made = wp.post("/wp/v2/posts", json={"title": "Patient", "status": "draft"})
    assert made.status_code == 201 and made.json()["title"]["raw"] == "Patient"


def test_received_counts_every_request_faulted_or_not(sb, anon, wp):
    sb.world.faults.add("drop", method="POST", path="/wp-json/wp/v2/posts", times=1)
    with pytest.raises(httpx.TransportError):
        wp.post("/wp/v2/posts", json={"title": "x"})
    wp.post("/wp/v2/posts", json={"title": "y"})
    anon.get("/wp-json/wp/v2/posts")
    faults = sb.world.faults
    assert faults.received("POST", "/wp-json/wp/v2/posts") == 2
    assert faults.received(path="/wp-json/wp/v2/posts") == 3
    assert faults.received("GET", "/_sandbox/*") == 0  # admin calls are not vendor requests
    faults.clear()
    assert faults.received() == 0
