"""The sandbox's page and site incidents: a whole-site drop, and a page unpublished, noindexed or
redirected by mistake.

Each is seeded (the page it hits comes from the seed unless given), off by default, settable through
``World.configure`` / ``POST /_sandbox/config``, and the search and analytics numbers react to it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest

from sandbox import World
from sandbox.traffic import MAIN_PROPERTY, normalize_incidents

from .google_http import Google, entry

QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}


def impressions(world: World, path: str, day: date) -> int:
    return sum(f[2] for f in world.traffic.search_day(day) if f[1] == path)


def sessions(world: World, path: str, day: date, channel: str | None = None) -> int:
    cells = world.traffic.analytics_day(MAIN_PROPERTY, day)
    return sum(c[6][0] for c in cells if c[0] == path and (channel is None or c[1] == channel))


def test_the_new_incidents_are_off_by_default_and_validate():
    settings = normalize_incidents(True)
    assert not any(settings[n]["enabled"] for n in ("site_drop", "page_unpublished", "page_noindexed"))
    assert normalize_incidents({"site_drop": {"factor": 0.5}})["site_drop"] == {
        "enabled": True,
        "day": 10,
        "days": 10,
        "factor": 0.5,
    }
    for bad in ({"page_unpublished": {"page": 3}}, {"site_drop": {"days": 0}}, {"page_noindexed": {"factor": 1}}):
        with pytest.raises(ValueError):
            normalize_incidents(bad)


def test_mistaken_pages_are_seeded_wordpress_pages_other_than_the_ranking_drops():
    for seed in range(4):
        world = World(seed=seed)
        hit = {world.traffic.mistake_page(n) for n in ("page_unpublished", "page_noindexed")}
        assert len(hit) == 2 and world.traffic.ranking_drop_page() not in hit
        assert all(world.wordpress.find_published(p) is not None for p in hit)
        assert World(seed=seed).traffic.mistake_page("page_unpublished") == world.traffic.mistake_page(
            "page_unpublished"
        )


def test_an_unpublished_page_goes_to_draft_and_leaves_search_and_analytics():
    world = World(seed=0, incidents={**QUIET, "page_unpublished": {"day": 3}})
    path = world.traffic.mistake_page("page_unpublished")
    post = world.wordpress.find_published(path)
    start = world.now().date()
    world.advance(days=2)
    assert post is not None and post.status == "publish"  # not before its day
    world.advance(days=4)
    assert post.status == "draft" and world.wordpress.find_published(path) is None
    assert path not in [p.path for p in world.pages()]
    assert impressions(world, path, start + timedelta(days=2)) > 0
    assert all(impressions(world, path, start + timedelta(days=d)) == 0 for d in range(3, 6))
    assert sessions(world, path, start + timedelta(days=2)) > 0
    assert all(sessions(world, path, start + timedelta(days=d)) == 0 for d in range(3, 6))
    incident = next(i for i in world.traffic.incidents() if i["name"] == "page_unpublished")
    assert incident["enabled"] and incident["page"] == path and incident["start"] == str(start + timedelta(days=3))


def test_the_unpublished_page_is_a_draft_over_the_rest_api_and_404s(sb):
    httpx.post(sb.url + "/_sandbox/config", json={"incidents": {**QUIET, "page_unpublished": {"day": 1}}})
    path = sb.world.traffic.mistake_page("page_unpublished")
    slug = path.strip("/").rsplit("/", 1)[-1]
    assert httpx.get(sb.url + path).status_code == 200
    httpx.post(sb.url + "/_sandbox/clock/advance", json={"days": 2}).raise_for_status()
    assert httpx.get(sb.url + path).status_code == 404
    auth = (sb.world.credentials.wordpress_username, sb.world.credentials.wordpress_application_password)
    for kind in ("posts", "pages"):
        found = httpx.get(f"{sb.url}/wp-json/wp/v2/{kind}", params={"slug": slug, "status": "draft"}, auth=auth).json()
        if found:
            assert found[0]["status"] == "draft"
            break
    else:
        raise AssertionError(f"no draft with slug {slug}")


def test_a_noindexed_page_still_serves_but_leaves_the_search_results_until_the_mark_goes():
    world = World(seed=0, incidents={**QUIET, "page_noindexed": {"day": 2}})
    path = world.traffic.mistake_page("page_noindexed")
    start = world.now().date()
    world.advance(days=5)
    post = world.wordpress.find_published(path)
    assert post is not None and world.wordpress.noindexed(post)
    assert world.wordpress.robots(post) == "noindex, follow"
    assert impressions(world, path, start + timedelta(days=2)) > 0  # the crawler sees it the day after
    assert all(impressions(world, path, start + timedelta(days=d)) == 0 for d in (3, 4))
    assert sessions(world, path, start + timedelta(days=4), "Organic Search") == 0
    assert sessions(world, path, start + timedelta(days=4)) > 0  # visitors from elsewhere still come
    world.wordpress.set_noindex(post, False)
    world.advance(days=1)  # day 6: removed; recrawled and back from day 8
    world.advance(days=3)
    assert impressions(world, path, start + timedelta(days=7)) == 0
    assert impressions(world, path, start + timedelta(days=8)) > 0


def test_a_noindexed_page_serves_a_noindex_robots_meta_to_crawlers_and_auditors(sb):
    httpx.post(sb.url + "/_sandbox/config", json={"incidents": {**QUIET, "page_noindexed": {"day": 1}}})
    path = sb.world.traffic.mistake_page("page_noindexed")
    robots = re.compile(r'<meta name="robots" content="([^"]*)"')
    before = robots.search(httpx.get(sb.url + path).text)
    assert before is not None and "noindex" not in before.group(1)
    httpx.post(sb.url + "/_sandbox/clock/advance", json={"days": 2}).raise_for_status()
    page = httpx.get(sb.url + path)
    after = robots.search(page.text)
    assert page.status_code == 200 and after is not None and after.group(1) == "noindex, follow"


def test_a_site_drop_takes_the_same_share_from_every_page_and_channel():
    calm = World(seed=0, incidents=QUIET)
    dropped = World(seed=0, incidents={**QUIET, "site_drop": {"day": 2, "days": 3, "factor": 0.5}})
    start = calm.now().date()
    for world in (calm, dropped):
        world.advance(days=6)
    for d in range(2, 5):
        day = start + timedelta(days=d)
        total = [sum(f[2] for f in w.traffic.search_day(day)) for w in (calm, dropped)]
        visits = [sum(c[6][0] for c in w.traffic.analytics_day(MAIN_PROPERTY, day)) for w in (calm, dropped)]
        assert 0.4 <= total[1] / total[0] <= 0.6, total
        assert 0.4 <= visits[1] / visits[0] <= 0.6, visits
    after = start + timedelta(days=5)
    assert sum(f[2] for f in dropped.traffic.search_day(after)) == sum(f[2] for f in calm.traffic.search_day(after))


def clicks_by_query(world: World, path: str, day: date) -> dict[str, tuple[int, int]]:
    return {f[0]: (f[3], f[2]) for f in world.traffic.search_day(day) if f[1] == path}


def test_a_snippet_regression_is_off_by_default_seeded_and_validates():
    assert not normalize_incidents(True)["snippet_regression"]["enabled"]
    assert normalize_incidents({"snippet_regression": {"day": 4}})["snippet_regression"] == {
        "enabled": True,
        "day": 4,
        "factor": 0.4,
        "page": None,
    }
    for bad in ({"snippet_regression": {"factor": 0}}, {"snippet_regression": {"days": 3}}):
        with pytest.raises(ValueError):
            normalize_incidents(bad)
    for seed in (1, 2, 3, 4):
        traffic = World(seed=seed).traffic
        path = traffic.snippet_regression_page()
        assert path == World(seed=seed).traffic.snippet_regression_page()  # from the seed
        assert path not in {traffic.ranking_drop_page(), *traffic.opportunities}
        positions = [q.position for q in traffic.pages[path].queries if not q.brand]
        assert max(positions) - min(positions) >= 8  # its average position says little about each query
        design = next(p for p in traffic.design()["pages"] if p["page"] == path)
        shown = [q for q in design["queries"] if not q["brand"]]
        volume = sum(q["daily_volume"] for q in shown)
        assert sum(q["snippet_factor"] * q["daily_volume"] for q in shown) / volume >= 1.0  # a good snippet before


def test_a_snippet_regression_cuts_every_query_of_one_page_until_its_snippet_changes():
    calm = World(seed=2, incidents=QUIET)
    hit = World(seed=2, incidents={**QUIET, "snippet_regression": {"day": 3, "factor": 0.4}})
    path = hit.traffic.snippet_regression_page()
    start = calm.now().date()
    for world in (calm, hit):
        world.advance(days=6)

    def clicks(world: World, days: range, page: str = path) -> tuple[int, int]:
        rows = [c for d in days for c in clicks_by_query(world, page, start + timedelta(days=d)).values()]
        return sum(r[0] for r in rows), sum(r[1] for r in rows)

    assert clicks(calm, range(3)) == clicks(hit, range(3))  # nothing before its day
    (calm_clicks, calm_shown), (hit_clicks, hit_shown) = clicks(calm, range(3, 6)), clicks(hit, range(3, 6))
    assert calm_shown == hit_shown  # the same searches and positions: only the snippet draws fewer clicks
    assert 0.3 <= hit_clicks / calm_clicks <= 0.5, (hit_clicks, calm_clicks)
    far = [q.text for q in hit.traffic.pages[path].queries if not q.brand and q.position >= 12]
    near = [q.text for q in hit.traffic.pages[path].queries if not q.brand and q.position <= 7]
    assert far and near  # both ends of the page's positions lose alike
    other = next(p for p in calm.traffic.live_paths() if p not in (path, "/"))
    assert clicks(calm, range(3, 6), other) == clicks(hit, range(3, 6), other)
    incident = next(i for i in hit.traffic.incidents() if i["name"] == "snippet_regression")
    assert incident["enabled"] and incident["page"] == path and incident["start"] == str(start + timedelta(days=3))

    post = hit.wordpress.find_published(path)
    assert post is not None  # seed 2's page is a WordPress post
    keys = hit.wordpress.rendering_seo_keys() or {}
    post.meta[keys["seo_title"]] = "Office Coffee: How Our Wholesale Program Works"
    hit.advance(days=3)  # a new title counts from the next day (day 7) and ends the regression
    state = hit.traffic.state_on(path, start + timedelta(days=7))
    assert state is not None and "Wholesale Program Works" in state.document_title
    shown = [c[0] / max(c[1], 1) for c in clicks_by_query(hit, path, start + timedelta(days=8)).values()]
    before = [c[0] / max(c[1], 1) for c in clicks_by_query(hit, path, start + timedelta(days=1)).values()]
    assert sum(shown) > 1.5 * sum(before) * 0.4


def test_a_snippet_regression_is_set_over_the_admin_api(sb):
    config = {"incidents": {**QUIET, "snippet_regression": {"day": 2, "factor": 0.5}}}
    httpx.post(sb.url + "/_sandbox/config", json=config).raise_for_status()
    listed = httpx.get(sb.url + "/_sandbox/incidents").json()["incidents"]
    entry = next(i for i in listed if i["name"] == "snippet_regression")
    assert entry["enabled"] and entry["factor"] == 0.5 and entry["page"] == sb.world.traffic.snippet_regression_page()


def test_a_redirected_page_answers_301_its_visits_land_on_the_target_and_search_drops_it(sb):
    google = Google(sb)
    listed = google.stage({"page_redirected": {"day": 1}})
    redirected = entry(listed, "page_redirected")
    path = redirected["page"]
    assert redirected["target"] == "/" and sb.world.wordpress.find_published(path) is not None
    assert httpx.get(sb.url + path).status_code == 200  # not before its day
    google.advance(6)  # today is day 6: day 1 is six days ago
    answer = httpx.get(sb.url + path)
    assert answer.status_code == 301 and answer.headers["location"] == sb.url + "/"
    landing = google.report(["sessions"], ["date", "landingPage"], -6, -2)
    days = [google.day(d).strftime("%Y%m%d") for d in (-6, -5, -4, -3, -2)]
    assert landing[(days[0], path)][0] > 0
    assert not [key for key in landing if key[1] == path and key[0] in days[1:]]
    calm = World(seed=0, incidents={**QUIET, "page_redirected": False})
    for offset in (-5, -4):  # the visits land on the target: none are lost before search drops the page
        total = sum(v[0] for (day, _page), v in landing.items() if day == google.day(offset).strftime("%Y%m%d"))
        assert total == sessions_all(calm, google.day(offset))
    shown = {
        r["keys"][0]
        for r in google.search(
            ["date"],
            -6,
            -1,
            dataState="all",
            dimensionFilterGroups=[{"filters": [{"dimension": "page", "expression": sb.url + path}]}],
        )
    }
    assert shown == {str(google.day(d)) for d in (-6, -5, -4)}  # search drops it two days after the redirect


def sessions_all(world: World, day: date) -> int:
    return sum(c[6][0] for c in world.traffic.analytics_day(MAIN_PROPERTY, day))
