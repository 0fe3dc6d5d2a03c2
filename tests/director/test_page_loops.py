"""The page loops on sandbox incidents of their own: a page that drops or disappears while a change is
under test on it, a page unpublished by mistake, a whole-site drop with a tracking outage inside it, a
harmful change, a snippet regression hidden at the page's average position, and the windows and samples
a change is judged on."""

import json
from datetime import date, timedelta

import pytest

from director.loops.pages import SEARCH_LAG, before_window
from director.loops.search_ctr import expected_at
from director.store import Store

from . import test_director
from .test_director import SEARCH, HarmfulSecond, direct, post_seo

sandbox_world = test_director.world  # the sandbox fixture, here under this name
QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}
TRAFFIC = ("ga4", "search-console", "page-analysis", "wordpress", "webflow")


async def changed_first(sb, tmp_path) -> list[str]:
    """The pages search_ctr changes on its first day (a dry run of that day)."""
    store = Store(tmp_path / "dry.sqlite")
    run_id = await direct(sb, store, ["search_ctr"], 1, SEARCH, dry_run=True)
    return [s.object for s in store.steps(run_id, kind="change")]


async def test_a_ranking_drop_on_a_page_under_test_is_reported_and_confounds_the_test(sandbox_world, tmp_path):
    world = sandbox_world
    first, _second = await changed_first(world, tmp_path)
    path = first.removeprefix(world.url)
    world.world.configure(incidents={**QUIET, "ranking_drop": {"page": path, "day": 3, "positions": 6.0}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 10, SEARCH)
    incident = store.step(run_id, f"incident:search_ctr:{first}")
    assert incident is not None and "places lower" in incident.data["what"], store.notes(run_id)
    assert any(first in n["text"] and "confounded" in n["text"] for n in store.notes(run_id))
    decisions = [x for x in store.decisions(run_id) if x["object"] == first]
    assert [x["verdict"] for x in decisions] == ["inconclusive"]  # never a win or a loss on that data
    assert decisions[0]["evidence"]["confounded"] == incident.data["what"]
    change = store.step(run_id, f"search_ctr:{first}")
    assert change is not None and change.data["closed"] == "inconclusive"
    assert not store.step(run_id, f"incident:search_ctr:{_second}")  # the other test carries on


async def test_an_unpublished_page_under_test_confounds_it(sandbox_world, tmp_path):
    world = sandbox_world
    first, _ = await changed_first(world, tmp_path)
    world.world.configure(incidents={**QUIET, "page_unpublished": {"page": first.removeprefix(world.url), "day": 2}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 4, SEARCH)
    incident = store.step(run_id, f"incident:search_ctr:{first}")
    assert incident is not None and "no longer published" in incident.data["what"]
    assert "'draft'" in incident.data["what"]


async def test_a_page_unpublished_by_mistake_is_reported_as_such_and_not_rewritten(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "page_unpublished": {"day": 2}})
    url = world.url + world.world.traffic.mistake_page("page_unpublished")
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 13, TRAFFIC)
    notes = [n["text"] for n in store.notes(run_id) if url in n["text"]]
    assert any("no longer published" in n and "'draft'" in n for n in notes), store.notes(run_id)
    assert not [s for s in store.steps(run_id, kind="change") if s.object == url]  # its snippet untouched


async def test_a_site_drop_with_an_outage_inside_changes_no_page(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(
        incidents={
            **QUIET,
            "site_drop": {"day": 2, "days": 20, "factor": 0.55},
            "tracking_outage": {"day": 7, "days": 2},
        }
    )
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 13, TRAFFIC)
    notes = [n["text"] for n in store.notes(run_id)]
    assert not store.steps(run_id, kind="change"), [s.data.get("drop") for s in store.steps(run_id, kind="change")]
    assert any("tracking outage" in n for n in notes)
    assert any("whole site" in n and "no page changed" in n for n in notes), notes


async def test_a_harmful_change_is_rolled_back_at_the_first_look(sandbox_world, tmp_path):
    world = sandbox_world
    store, planner = Store(tmp_path / "d.sqlite"), HarmfulSecond()
    run_id = await direct(world, store, ["search_ctr"], 11, SEARCH, planner=planner)
    bad = planner.pages[1]
    decisions = [x for x in store.decisions(run_id) if x["object"] == bad]
    assert [x["verdict"] for x in decisions] == ["rollback"], decisions
    assert "look 1 of 3" in decisions[0]["evidence"]["reason"]


async def test_the_next_run_follows_the_last_runs_changes_and_makes_none_twice(sandbox_world, tmp_path):
    world = sandbox_world
    store, planner = Store(tmp_path / "d.sqlite"), HarmfulSecond()
    first = await direct(world, store, ["search_ctr"], 2, SEARCH, planner=planner)
    good, bad = planner.pages[:2]
    before = post_seo(world, bad)
    second = await direct(world, store, ["search_ctr"], 10, SEARCH, planner=planner)
    assert second != first
    # The client's changes belong to the client: the second run neither changes those pages again ...
    assert not {good, bad} & {s.object for s in store.steps(second, kind="change")}
    # ... nor forgets them: the harmful one is judged there at its first look and rolled back.
    assert [x["verdict"] for x in store.decisions(second) if x["object"] == bad] == ["rollback"]
    closed = store.step(first, f"search_ctr:{bad}")
    assert closed is not None and closed.data["closed"] == "rollback"
    assert post_seo(world, bad) != before  # the harmful title is gone ...
    snapshot = store.snapshot_of(first, f"search_ctr:{bad}")
    assert snapshot is not None and post_seo(world, bad) == (snapshot["seo_title"] or None)  # ... for the old one
    assert [x["verdict"] for x in store.decisions(second) if x["object"] == good] in ([], ["continue"], ["keep"])


def test_the_before_window_starts_after_the_incident_began():
    changed = date(2026, 11, 20)
    assert before_window(changed, None) == (date(2026, 11, 6), date(2026, 11, 19))
    assert before_window(changed, date(2026, 11, 14)) == (date(2026, 11, 14), date(2026, 11, 19))
    assert before_window(changed, date(2026, 10, 1)) == (date(2026, 11, 6), date(2026, 11, 19))


def fast_search(sb) -> None:
    """Search Console's own quota (1,200 queries a minute) instead of the suite's default tool budget: these
    runs move weeks of business days in seconds."""
    raw = json.loads(sb.config_path.read_text())
    raw["clients"][test_director.CLIENT]["servers"]["search-console"]["rate_limits"] = {
        "tools": {"search_analytics": "1200/min", "compare_periods": "1200/min"}
    }
    sb.config_path.write_text(json.dumps(raw))


def regressions(store: Store, run_id: str) -> list:
    return [s for s in store.steps(run_id, kind="report") if s.key.startswith("search_ctr:regressed:")]


async def test_a_snippet_regression_hidden_at_the_average_position_surfaces_within_a_week(sandbox_world, tmp_path):
    world = sandbox_world
    fast_search(world)
    path = "/coffee-for-the-office-our-wholesale-program/"  # queries from position 4 to 17, a snippet factor ~1.1
    world.world.configure(incidents={**QUIET, "snippet_regression": {"page": path, "day": 4, "factor": 0.4}})
    url = world.url + path
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 14, SEARCH)
    found = [s for s in regressions(store, run_id) if s.object == url]
    assert found, store.notes(run_id)
    shown = world.world.now().date() - timedelta(days=14) + timedelta(days=4 + SEARCH_LAG)  # its first day in the data
    assert (date.fromisoformat(str(found[0].day)) - shown).days <= 7
    assert found[0].data["regression"]["change"] <= -0.3
    assert abs((date.fromisoformat(found[0].data["incident_start"]) - (shown - timedelta(days=SEARCH_LAG))).days) <= 2
    assert [s.object for s in regressions(store, run_id)] == [url]  # no other page flagged
    note = next(n["text"] for n in store.notes(run_id) if url in n["text"] and "snippet regression" in n["text"])
    assert "each query's position" in note
    change = store.step(run_id, f"search_ctr:{url}")  # a CTR opportunity: a snippet test through the gate
    assert change is not None and change.data["incident_start"] == found[0].data["incident_start"]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_page_is_flagged_as_regressed_without_an_incident(seed, tmp_path, monkeypatch):
    import io

    from sandbox import World, running
    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config

    from ..helpers import sandbox_config

    monkeypatch.setenv("MARKETING_MCP_HOME", str(tmp_path / "home"))
    with running(world=World(seed=seed, webflow_rate_limit=100_000, incidents=QUIET)) as sb:
        raw = sandbox_config(sb.url, client=test_director.CLIENT)
        client = raw["clients"][test_director.CLIENT]
        client["servers"]["search-console"] = {"settings": {"sites": [f"{sb.url}/"], "api_base": sb.url}}
        client["director"] = {"auto_approve": ["*"]}
        path = tmp_path / "mcp.json"
        path.write_text(json.dumps(raw))
        sign_in_at_sandbox(parse_config(raw), test_director.CLIENT, io.StringIO())
        configured = test_director.ConfiguredSandbox(
            url=sb.url, world=sb.world, host=sb.host, port=sb.port, config_path=path
        )
        fast_search(configured)
        store = Store(tmp_path / "d.sqlite")
        run_id = await direct(configured, store, ["search_ctr"], 14, SEARCH)
    assert not regressions(store, run_id), [s.data for s in regressions(store, run_id)]


def test_the_curve_is_read_at_each_position_and_beyond_its_last():
    curve = {str(i + 1): v for i, v in enumerate((0.28, 0.15, 0.10, 0.07, 0.05, 0.04, 0.03, 0.025, 0.022, 0.02))}
    assert expected_at(curve, 1) == 0.28 and expected_at(curve, 4.5) == pytest.approx(0.06)
    assert expected_at(curve, 17) == pytest.approx(0.02 * 10 / 17)  # past 10, falling as 1/position
    assert expected_at(curve, 80) == 0.005
