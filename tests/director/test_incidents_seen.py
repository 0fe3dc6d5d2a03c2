"""The page loops on incidents that are not a page's snippet: pages that rank lower, a search engine
update, a broken form, tracking that fails on one device class or one section, a page redirected by
mistake. Each is reported as what it is, within a week of the data showing it, and no snippet is
changed to answer it."""

from datetime import date, timedelta

from director.store import Store

from . import test_director
from .test_director import CLIENT, direct, in_process, run

sandbox_world = test_director.world  # the sandbox fixture, here under this name
QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}
SEARCH = ("search-console", "wordpress", "webflow")
TRAFFIC = ("ga4", "search-console", "page-analysis", "wordpress", "webflow")
DATA_LAG = 3  # days until Search Console shows a day


def staged(world, name: str) -> dict:
    return next(i for i in world.world.traffic.incidents() if i["name"] == name)


def notes_about(store: Store, run_id: str, text: str) -> list[dict]:
    return [n for n in store.notes(run_id) if text in n["text"]]


def changed(store: Store, run_id: str, loop: str) -> set[str]:
    return {s.object for s in store.steps(run_id, kind="change") if s.loop == loop}


async def test_pages_that_rank_lower_are_reported_within_a_week_and_not_rewritten(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "ranking_drop": {"day": 1, "count": 2, "positions": 5.0}})
    pages = [world.url + p for p in staged(world, "ranking_drop")["pages"]]
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 12, SEARCH)
    start = world.world.now().date() - timedelta(days=11)
    for page in pages:
        seen = [n for n in notes_about(store, run_id, page) if "places lower" in n["text"]]
        assert seen, store.notes(run_id)
        assert (date.fromisoformat(seen[0]["day"]) - (start + timedelta(days=1))).days <= 7 + DATA_LAG
        assert len(seen) == 1, [n["text"] for n in seen]  # reported once, not every day
    # Not answered with a snippet: no change is made on them from the day they rank lower.
    later = {s.object for s in store.steps(run_id, kind="change") if s.day and s.day >= str(start + timedelta(days=1))}
    assert not set(pages) & later


async def test_many_pages_moving_at_once_are_one_finding_about_the_site(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "algorithm_update": {"day": 1, "share": 0.8, "gain": 6.0, "loss": 6.0}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 12, SEARCH)
    update = notes_about(store, run_id, "like a search engine update")
    assert len(update) == 1, store.notes(run_id)
    lost = [world.url + p["page"] for p in staged(world, "algorithm_update")["pages"] if p["shift"] >= 4]
    named = [page for page in lost if page in update[0]["text"]]
    assert len(named) >= len(lost) / 2, (update, staged(world, "algorithm_update"))  # the busier of them
    assert not notes_about(store, run_id, "places lower in the week")  # not one page's problem each


async def test_a_broken_form_is_a_conversion_problem_not_a_snippet_one(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "conversion_drop": {"day": 1, "factor": 0.05}})
    page = world.url + staged(world, "conversion_drop")["page"]
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 10, TRAFFIC)
    found = notes_about(store, run_id, f"{page} key events")
    assert found and "conversion problem" in found[0]["text"], [n["text"] for n in store.notes(run_id)]
    assert not changed(store, run_id, "traffic_drop")


async def test_a_site_wide_checkout_break_is_reported_once_for_the_site(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "conversion_drop": {"day": 1, "factor": 0.05, "page": "*"}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 10, TRAFFIC)
    assert notes_about(store, run_id, "the whole site's key events"), store.notes(run_id)
    assert not notes_about(store, run_id, "a conversion problem on the page")
    assert not changed(store, run_id, "traffic_drop")


async def test_tracking_lost_on_mobile_is_a_partial_outage_and_no_page_dropped(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "tracking_outage": {"day": 3, "days": 3, "scope": "device:mobile"}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 10, TRAFFIC)
    assert notes_about(store, run_id, "mobile (device class)"), store.notes(run_id)
    dropped = [n for n in store.notes(run_id) if "against the same weekdays before" in n["text"]]
    assert not dropped and not changed(store, run_id, "traffic_drop")


async def test_a_section_that_lost_its_tag_is_tracking_not_a_drop(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(
        incidents={**QUIET, "tracking_outage": {"day": 1, "days": 30, "scope": "section:Brewing Guides"}}
    )
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 10, TRAFFIC)
    tracking = notes_about(store, run_id, "traffic_drop: tracking: GA4 lost sessions of")
    assert tracking and "search clicks held" in tracking[0]["text"], store.notes(run_id)
    guides = [p.path for p in world.world.pages() if p.section == "Brewing Guides"]
    assert any(world.url + path in tracking[0]["text"] for path in guides)
    assert not changed(store, run_id, "traffic_drop")


async def test_a_page_redirected_by_mistake_is_reported_as_a_redirect(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "page_redirected": {"day": 1}})
    page = world.url + staged(world, "page_redirected")["page"]
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 10, TRAFFIC)
    found = [n for n in notes_about(store, run_id, page) if "redirects to" in n["text"]]
    assert found and f"redirects to {world.url}/" in found[0]["text"], [n["text"] for n in store.notes(run_id)]
    assert page not in changed(store, run_id, "traffic_drop")


async def test_a_late_search_console_holds_the_looks_until_the_days_are_in(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "search_console_delay": {"day": 8, "days": 5, "extra_days": 3}})
    start = world.world.now().date()
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 15, SEARCH)
    assert notes_about(store, run_id, "Search Console's data ends on"), store.notes(run_id)
    first_changes = {s.object for s in store.steps(run_id, kind="change") if s.day == str(start)}
    looks = [x for x in store.decisions(run_id) if x["object"] in first_changes]
    assert first_changes and looks
    # Due on day 10, when Search Console had nothing after day 4; judged once day 7 was in, on day 13.
    assert min(x["day"] for x in looks) == str(start + timedelta(days=13))


async def test_a_page_put_back_to_draft_is_republished_only_once_a_person_approves(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "page_unpublished": {"day": 1}})
    path = staged(world, "page_unpublished")["page"]
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["traffic_drop"], 8, TRAFFIC)  # auto_approve is "*"
    pending = [a for a in store.approvals() if a.tool.endswith(".publish")]
    assert len(pending) == 1 and store.run(run_id)["status"] == "waiting", store.notes(run_id)
    assert path not in {p.path for p in world.world.pages()}  # "*" does not put a page back online
    store.resolve(pending[0].id, True)
    await run(store, world.config_path, CLIENT, run_id=run_id, targets=in_process(world, *TRAFFIC), say=lambda _: None)
    assert path in {p.path for p in world.world.pages()}
    assert notes_about(store, run_id, "republished")


async def test_a_page_that_leaves_the_search_results_is_reported_with_why(sandbox_world, tmp_path):
    world = sandbox_world
    world.world.configure(incidents={**QUIET, "page_noindexed": {"day": 1, "page": "/wholesale/"}})
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["search_ctr"], 10, (*SEARCH, "page-analysis"))
    gone = notes_about(store, run_id, f"{world.url}/wholesale/ left the search results")
    assert len(gone) == 1 and "noindex" in gone[0]["text"], [n["text"] for n in store.notes(run_id)]
    start = world.world.now().date() - timedelta(days=9)
    assert (date.fromisoformat(gone[0]["day"]) - (start + timedelta(days=1))).days <= 7 + DATA_LAG
    assert f"{world.url}/wholesale/" not in changed(store, run_id, "search_ctr")
