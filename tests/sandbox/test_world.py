"""The world model: determinism, credentials, the clock, reset, and the admin endpoints."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re

import httpx

from sandbox import World, running
from sandbox.clock import ManualMonotonic, SimClock


def snapshot(world: World) -> bytes:
    """Every piece of initial state, serialised deterministically."""
    wp, wf = world.wordpress, world.webflow
    data = {
        "credentials": dataclasses.asdict(world.credentials),
        "posts": [dataclasses.asdict(p) for p in sorted(wp.posts.values(), key=lambda p: p.id)],
        "terms": [dataclasses.asdict(t) for t in sorted(wp.terms.values(), key=lambda t: t.id)],
        "webflow": wf.to_json(),
        "collections": [c.to_json() for c in wf.collections.values()],
        "items": [i.to_json() for c in wf.collections.values() for i in c.items.values()],
        "live": [i.to_json(live=True) for c in wf.collections.values() for i in c.live_items()],
    }
    return json.dumps(data, default=str, sort_keys=True).encode()


def test_same_seed_same_world_byte_for_byte():
    assert snapshot(World(seed=7)) == snapshot(World(seed=7))
    assert pickle.dumps(World(seed=7).provision("http://x")) == pickle.dumps(World(seed=7).provision("http://x"))


def test_different_seeds_differ():
    a, b = World(seed=1), World(seed=2)
    assert snapshot(a) != snapshot(b)
    assert a.credentials.webflow_site_id != b.credentials.webflow_site_id


def test_demo_credentials_look_like_the_vendors():
    creds = World(seed=0).credentials
    assert creds.wordpress_username == "demo"
    assert re.fullmatch(r"([A-Za-z0-9]{4} ){5}[A-Za-z0-9]{4}", creds.wordpress_application_password)
    assert re.fullmatch(r"[0-9a-f]{64}", creds.webflow_token)
    assert re.fullmatch(r"[0-9a-f]{24}", creds.webflow_site_id)
    assert re.fullmatch(r"[0-9a-f]{24}", creds.webflow_collection_id)


def test_initial_content():
    state = World(seed=3).state()
    assert state["clock"] == "2026-11-02T09:00:00Z"
    assert state["wordpress"]["posts"] == 12 and state["wordpress"]["pages"] == 4
    assert state["wordpress"]["by_status"]["posts"] == {"publish": 10, "draft": 1, "future": 1}
    assert state["webflow"]["collections"]["blog-posts"] == {"items": 8, "live": 5, "drafts": 2}


def test_reset_restores_the_seed_state():
    world = World(seed=5)
    before = snapshot(world)
    world.advance(days=10)
    world.wordpress.posts.clear()
    world.faults.add("drop")
    world.reset()
    assert snapshot(world) == before
    assert world.faults.rules() == []


def test_http_ids_are_deterministic_across_runs():
    def run() -> list[str]:
        with running(seed=11) as sb:
            api = sb.provision()["webflow"]
            headers = {"Authorization": f"Bearer {api['token']}"}
            url = f"{api['api_base']}/collections/{api['collection_id']}/items"
            return [
                httpx.post(url, headers=headers, json={"fieldData": {"name": f"N{i}", "slug": f"n{i}"}}).json()["id"]
                for i in range(3)
            ]

    assert run() == run()


def test_clock_advances_and_notifies():
    clock = SimClock()
    seen = []
    clock.on_advance(seen.append)
    clock.advance(days=1, hours=2)
    assert clock.now().isoformat() == "2026-11-03T11:00:00+00:00" and seen == [clock.now()]
    mono = ManualMonotonic(5)
    mono.advance(2.5)
    assert mono() == 7.5


def test_pages_view_lists_every_live_page():
    pages = World(seed=0).pages()
    sources = {p.source for p in pages}
    assert sources == {"wordpress", "webflow"}
    assert sum(1 for p in pages if p.source == "wordpress") == 14
    assert sum(1 for p in pages if p.source == "webflow") == 5
    assert all(p.path.startswith("/") for p in pages)


def test_admin_endpoints(anon, sb):
    assert anon.get("/_sandbox/health").json() == {"status": "ok", "seed": 0}
    provisioned = anon.post("/_sandbox/provision").json()
    base = str(anon.base_url).rstrip("/")
    assert provisioned["wordpress"] == {
        "site_url": base,
        "username": "demo",
        "application_password": sb.world.credentials.wordpress_application_password,
    }
    assert provisioned["webflow"]["api_base"] == base + "/webflow/v2"
    assert set(provisioned["webflow"]) == {"api_base", "site_id", "collection_id", "token", "live_site_url"}
    assert anon.post("/_sandbox/clock/advance", json={"days": 1.5}).json() == {"clock": "2026-11-03T21:00:00Z"}
    assert anon.post("/_sandbox/clock/advance", json={"days": -1}).status_code == 400
    assert anon.get("/_sandbox/state").json()["clock"] == "2026-11-03T21:00:00Z"
    assert anon.post("/_sandbox/reset").json()["clock"] == "2026-11-02T09:00:00Z"


def test_configure_survives_reset_and_attribute_edits_do_not():
    world = World(seed=0)
    world.wordpress.seo_plugin = "rank_math"
    world.reset()
    assert world.wordpress.seo_plugin == "yoast"
    world.configure(companion_plugin=False, seo_plugin="none", webflow_rate_limit=120)
    world.reset()
    assert (world.wordpress.companion_plugin, world.wordpress.seo_plugin, world.webflow_rate_limit) == (
        False,
        "none",
        120,
    )


def test_config_endpoint(anon, wp):
    assert (
        anon.post("/_sandbox/config", json={"companion_plugin": False}).json()["wordpress"]["companion_plugin"] is False
    )
    assert wp.get("/marketing-mcp/v1/seo").status_code == 404
    assert anon.post("/_sandbox/config", json={"seo_plugin": "wix"}).status_code == 400
    assert anon.post("/_sandbox/config", json={"colour": "red"}).status_code == 400
    state = anon.post(
        "/_sandbox/config", json={"companion_plugin": True, "seo_plugin": "rank_math", "webflow_rate_limit": 500}
    ).json()
    assert state["wordpress"]["seo_plugin"] == "rank_math" and state["webflow"]["rate_limit_per_minute"] == 500
