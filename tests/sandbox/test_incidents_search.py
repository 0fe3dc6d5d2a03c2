"""The sandbox's search incidents, measured through Search Console over loopback HTTP: a ranking drop on
several pages that can set in gradually, an algorithm update, a Search Console that runs late, and a
hidden taste for snippets."""

from __future__ import annotations

import dataclasses
from statistics import median

import httpx
import pytest

from sandbox import World
from sandbox.traffic import normalize_incidents

from .google_http import QUIET, Google, entry

Positions = dict[tuple[str, str], float]


@pytest.fixture
def google(sb) -> Google:
    return Google(sb)


def positions(google: Google, first: int, last: int) -> Positions:
    """The average position of every (page path, query) over days ``first`` to ``last``."""
    rows = google.search(["page", "query"], first, last, dataState="all")
    return {(google.path(r["keys"][0]), r["keys"][1]): r["position"] for r in rows}


def shift_of(page: str, before: Positions, after: Positions, floor: float = 0.0) -> float | None:
    """The median move of a page's queries between two windows (queries placed above ``floor`` before)."""
    moves = [after[k] - before[k] for k in before.keys() & after.keys() if k[0] == page and before[k] > floor]
    return median(moves) if moves else None


def test_new_settings_validate_and_are_off_by_default():
    settings = normalize_incidents(True)
    assert settings["ranking_drop"]["count"] == 1 and settings["ranking_drop"]["ramp_days"] == 0
    for name in ("algorithm_update", "search_console_delay", "snippet_taste"):
        assert not settings[name]["enabled"]
    for bad in (
        {"ranking_drop": {"count": 0}},
        {"ranking_drop": {"ramp_days": -1}},
        {"algorithm_update": {"share": 1.5}},
        {"algorithm_update": {"gain": 0, "loss": 0}},
        {"search_console_delay": {"extra_days": 0}},
        {"snippet_taste": {"sigma": 0}},
    ):
        with pytest.raises(ValueError, match="incidents"):
            normalize_incidents(bad)


def test_a_ranking_drop_hits_several_pages_and_sets_in_over_its_ramp(sb, google):
    listed = google.stage({"ranking_drop": {"day": -20, "count": 3, "ramp_days": 10}})
    drop = entry(listed, "ranking_drop")
    pages = drop["pages"]
    assert len(set(pages)) == 3 and drop["page"] == pages[0] == sb.world.traffic.ranking_drop_page()
    again = World(seed=0, incidents={**QUIET, "ranking_drop": {"day": -20, "count": 3}})
    assert again.traffic.ranking_drop_pages() == pages  # drawn from the seed
    assert drop["start"] == str(google.day(-20)) and drop["ramp_days"] == 10
    before, ramping, full = positions(google, -34, -21), positions(google, -19, -16), positions(google, -9, -4)
    for page in pages:
        ramped, dropped = shift_of(page, before, ramping), shift_of(page, before, full)
        assert ramped is not None and dropped is not None
        assert 1.0 <= ramped <= 2.0, (page, ramped)  # a quarter of the way on average (days 1-4 of 10)
        assert 5.5 <= dropped <= 6.5, (page, dropped)
    spared = next(p for p in sb.world.traffic.live_paths() if p not in pages and p != "/")
    assert abs(shift_of(spared, before, full) or 0.0) < 0.3
    given = entry(google.stage({"ranking_drop": {"page": "/wholesale/", "count": 2}}), "ranking_drop")
    assert given["pages"][0] == given["page"] == "/wholesale/" and len(given["pages"]) == 2


def test_an_algorithm_update_moves_each_listed_page_by_its_shift(sb, google):
    update = entry(google.stage({"algorithm_update": {"day": -14}}), "algorithm_update")
    shifts = {p["page"]: p["shift"] for p in update["pages"]}
    others = [p for p in sb.world.traffic.live_paths() if p != "/" and p not in shifts]
    assert update["enabled"] and update["start"] == str(google.day(-14)) and shifts and others
    assert all(-2.0 <= s <= 5.0 for s in shifts.values()) and min(shifts.values()) < 0 < max(shifts.values())
    before, after = positions(google, -28, -15), positions(google, -13, -4)
    measured = 0
    for page, shift in shifts.items():
        moved = shift_of(page, before, after, floor=3.5)  # above 3.5: a gain of 2 is not cut off at position 1
        if moved is not None:
            measured += 1
            assert abs(moved - shift) < 0.4, (page, moved, shift)
    assert measured >= len(shifts) - 2
    for page in others:
        assert abs(shift_of(page, before, after) or 0.0) < 0.3, page


def test_a_search_console_delay_holds_the_latest_days_back_until_it_has_passed(google):
    delay = entry(
        google.stage({"search_console_delay": {"day": 0, "days": 4, "extra_days": 3}}), "search_console_delay"
    )
    assert delay["affects"] == ["search_console"] and delay["end"] == str(google.day(3))

    def latest(state: str) -> str:
        return max(r["keys"][0] for r in google.search(["date"], -12, 0, dataState=state))

    assert latest("all") == str(google.day(-4)) and latest("final") == str(google.day(-6))
    google.advance(2)
    assert latest("all") == str(google.day(-4))  # still late: the last three days have no rows yet
    lagging = {str(google.day(d)) for d in (-3, -2, -1)}
    assert not google.search(["date"], -3, -1, dataState="all")
    google.advance(2)  # the delay is over: the days held back arrive
    assert latest("all") == str(google.day(-1)) and latest("final") == str(google.day(-3))
    assert lagging <= {r["keys"][0] for r in google.search(["date"], -8, -1, dataState="all")}


def test_a_snippet_taste_moves_clicks_by_a_hidden_factor_the_design_shows(sb, google):
    plain = httpx.get(sb.url + "/_sandbox/traffic").json()["pages"]
    clicks_before = {google.path(r["keys"][0]): r for r in google.search(["page"], -30, -4)}
    google.stage({"snippet_taste": {"sigma": 0.25}})
    tasted = httpx.get(sb.url + "/_sandbox/traffic").json()["pages"]
    clicks_after = {google.path(r["keys"][0]): r for r in google.search(["page"], -30, -4)}
    tastes: dict[str, float] = {}
    for old, new in zip(plain, tasted, strict=True):
        ratios = [
            b["snippet_factor"] / a["snippet_factor"]
            for a, b in zip(old["queries"], new["queries"], strict=True)
            if not a["brand"]
        ]
        if ratios and not any(q["brand"] for q in old["queries"]):
            assert max(ratios) - min(ratios) < 0.02  # one taste per snippet: every query of the page alike
            tastes[old["page"]] = median(ratios)
    assert min(tastes.values()) < 0.95 and max(tastes.values()) > 1.05  # it helps some snippets, hurts others
    checked = 0
    for page, taste in tastes.items():
        before, after = clicks_before[page], clicks_after[page]
        assert before["impressions"] == after["impressions"]  # searches and positions stay put
        if before["clicks"] >= 300:
            checked += 1
            assert abs(after["clicks"] / before["clicks"] / taste - 1) < 0.12, (page, taste)
    assert checked >= 3
    traffic = sb.world.traffic
    state = traffic.state_on("/wholesale/", google.day(0))
    assert state is not None and traffic.snippet_taste(state) == traffic.snippet_taste(dataclasses.replace(state))
    rewrites = [
        traffic.snippet_taste(dataclasses.replace(state, document_title=f"Wholesale coffee {i}")) for i in range(5)
    ]
    assert len(set(rewrites)) == 5  # a rewrite draws a new taste
