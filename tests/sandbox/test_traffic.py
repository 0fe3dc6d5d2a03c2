"""The traffic model behind GA4 and Search Console: curve, snippets, page history, incidents, settings."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sandbox import World
from sandbox.traffic import PageState, expected_ctr, normalize_incidents, snippet_factor


def state(title: str, description: str | None) -> PageState:
    return PageState("/x/", "wordpress", title, title, description, 100, "Brewing Guides")


def test_the_ctr_curve_falls_with_position():
    assert expected_ctr(1) == 0.28 and expected_ctr(2) == 0.15 and expected_ctr(3) == 0.10
    assert expected_ctr(5) == 0.05 and expected_ctr(10) == 0.02
    points = [expected_ctr(p / 4) for p in range(4, 120)]
    assert points == sorted(points, reverse=True)


def test_snippet_factor_rewards_a_described_fitting_title():
    good = state(
        "Cold Brew Concentrate Recipe (1:5 Ratio)",
        "Make cold brew concentrate overnight: a 1:5 ratio, a coarse grind and 16 hours in the fridge.",
    )
    bare = state("Cold Brew Concentrate Recipe (1:5 Ratio)", None)
    long = state("Cold Brew Concentrate: A Simple Overnight Recipe \u2013 Northwind Coffee Roasters", None)
    off_topic = state("A Simple Overnight Recipe for Your Fridge", None)
    assert 1.0 <= snippet_factor(good, "cold") <= 1.25
    assert 0.5 <= snippet_factor(bare, "cold") <= 0.75
    assert snippet_factor(long, "cold") < snippet_factor(bare, "cold")
    assert snippet_factor(off_topic, "cold") < snippet_factor(bare, "cold")
    assert snippet_factor(bare, "northwind", brand=True) > snippet_factor(bare, "northwind")


def test_a_cms_change_counts_from_the_next_day():
    world = World(seed=0)
    traffic = world.traffic
    post = next(p for p in world.wordpress.posts.values() if p.status == "publish" and p.type == "post")
    path = world.wordpress.path_of(post)
    today = world.now().date()
    before = traffic.state_on(path, today)
    post.title = "Completely New Title"
    traffic.observe()
    assert traffic.state_on(path, today) == before
    tomorrow = traffic.state_on(path, today + timedelta(days=1))
    assert tomorrow is not None and tomorrow.title == "Completely New Title"
    post.status = "draft"
    world.advance(days=3)  # observed before the clock moves: gone from tomorrow (of the change), not later
    assert traffic.state_on(path, today + timedelta(days=1)) is None
    assert not [f for f in traffic.search_day(today + timedelta(days=2)) if f[1] == path]


def test_new_pages_get_queries_from_their_title_and_ramp_up():
    world = World(seed=0)
    wp = world.wordpress
    post = wp.new_post("post", world.now())
    post = wp.save_post(
        post,
        {
            "title": "French Press Brewing Basics",
            "content": "Steep four minutes.",
            "status": "publish",
            "slug": "french-press-brewing-basics",
        },
        world.now(),
        creating=True,
    )
    world.advance(days=40)
    model = world.traffic.pages[wp.path_of(post)]
    assert model.live_since == (world.now() - timedelta(days=40)).date() + timedelta(days=1)
    assert 5 <= len(model.queries) <= 15 and any("french press" in q.text for q in model.queries)
    first = sum(f[2] for f in world.traffic.search_day(model.live_since) if f[1] == model.path)
    later = sum(f[2] for f in world.traffic.search_day(model.live_since + timedelta(days=35)) if f[1] == model.path)
    assert later > first


def test_every_seed_has_three_weak_snippets_and_a_ranking_drop_page():
    for seed in range(5):
        traffic = World(seed=seed).traffic
        assert len(traffic.opportunities) == 3
        for path in traffic.opportunities:
            model = traffic.pages[path]
            first = model.history[0][1]
            assert model.opportunity and first is not None and not first.description
            assert all(3.0 <= q.position <= 8.0 for q in model.queries[:3])
        assert traffic.ranking_drop_page() not in traffic.opportunities
    assert World(seed=0).traffic.design() == World(seed=0).traffic.design()


def test_incident_settings_validate():
    assert normalize_incidents(False)["ranking_drop"]["enabled"] is False
    assert normalize_incidents({"tracking_outage": {"day": 3}})["tracking_outage"] == {
        "enabled": True,
        "day": 3,
        "days": 2,
        "scope": None,
    }
    for bad in (
        {"nope": True},
        {"ranking_drop": {"colour": 1}},
        {"ranking_drop": {"day": "soon"}},
        "yes",
        {"holiday_bump": {"days": 0}},
    ):
        with pytest.raises(ValueError):
            normalize_incidents(bad)
    assert not any(i["enabled"] for i in World(seed=0, incidents=False).traffic.incidents())


def test_admin_config_and_incident_endpoints(sb):
    incidents = httpx.get(sb.url + "/_sandbox/incidents").json()
    assert [i["name"] for i in incidents["incidents"]] == [
        "ranking_drop",
        "tracking_outage",
        "weekly_seasonality",
        "holiday_bump",
        "site_drop",
        "page_unpublished",
        "page_noindexed",
        "snippet_regression",
        "page_redirected",
        "algorithm_update",
        "conversion_drop",
        "search_console_delay",
        "snippet_taste",
    ]
    assert incidents["start"] == str(sb.world.now().date())
    for body in (
        {"ga4_tokens_per_hour": -1},
        {"ga4_tokens_per_hour": "many"},
        {"gsc_queries_per_minute": 0},
        {"ga4_hold": 1},
        {"incidents": {"ranking_drop": {"day": "x"}}},
        {"gsc_nope": 1},
    ):
        response = httpx.post(sb.url + "/_sandbox/config", json=body)
        assert response.status_code == 400, body
    state = httpx.post(
        sb.url + "/_sandbox/config", json={"ga4_tokens_per_day": 10, "incidents": {"holiday_bump": False}}
    ).json()
    assert state["google"]["ga4_tokens_per_day"] == 10
    assert not next(i for i in state["incidents"] if i["name"] == "holiday_bump")["enabled"]
    sb.world.reset()  # settings outlive a reset, like the other settings of the world
    assert sb.world.state()["google"]["ga4_tokens_per_day"] == 10
    design = httpx.get(sb.url + "/_sandbox/traffic").json()
    assert design["history_start"] == str(sb.world.now().date() - timedelta(days=120))
    assert {p["page"] for p in design["pages"]} >= {"/", "/wholesale/"}
