"""Rankings and presence in the results, watched every day. A page whose impressions collapse has left the
search results: reported once with what the CMS and an audit say (unpublished, redirected, noindexed).
A page whose queries rank several places lower than over its earlier weeks (the same queries, weighted
by their latest impressions) has a problem no snippet fixes: a competitor, lost links, a technical
change; reported once, with its positions. Several pages moving at once, some up and some down, is one
finding about the whole site (a search engine update), reported once with the pages that lost. No page
is changed for any of these."""

from datetime import date, timedelta

from ..runner import Director
from .pages import (
    COLLAPSE,
    REARM_DAYS,
    SLIP,
    WATCH_DAYS,
    daily_rows,
    live_changes,
    report_once,
    search_end,
    why_gone,
)
from .search_rows import day_ranges, query_rows, slipped

SCREEN_SLIP = 1.0  # the page's average position this much lower or higher: its queries are compared
MIN_SHOWN = 100  # impressions in the latest week: fewer positions say too little
MIN_DAILY_SHOWN = 20  # impressions a day in the earlier weeks: a page that small says little by leaving
FADING = 0.7  # the latest week's impressions below this share of the earlier weeks': its latest days are read
UPDATE_PAGES = 4  # pages moving half SLIP or more at once, both ways: an update, not a page's problem


async def watch_rankings(
    d: Director, loop: str, changes: list[dict], windows: tuple[date, date, date, date], left_out: list[date]
) -> set[str]:
    """Judge the pages whose average position moved between the earlier weeks and the latest week
    (`changes`: Search Console's comparison of the two, per page) query by query; the pages whose positions
    are moving (half SLIP or more either way: no snippet change could be judged on them now)."""
    # A page under change is watched by its change, and one whose change it confounded was reported there.
    changing = {s.object for s in live_changes(d)} | {
        s.object for s in d.store.client_steps(d.client, kind="incident") if (d.today - s.dated()).days < REARM_DAYS
    }
    gone = await _left_the_results(d, loop, changes, windows, changing)
    screened = [
        c["keys"]["page"]
        for c in changes
        if c.get("position_a")
        and c.get("position_b")
        and c["impressions_b"] >= MIN_SHOWN
        and abs(c["position_b"] - c["position_a"]) >= SCREEN_SLIP
        and c["keys"]["page"] not in changing | gone
    ]
    if not screened:
        return gone
    base_first, base_end, recent_first, end = windows
    before = await query_rows(d, screened, day_ranges(base_first, base_end, left_out))
    after = await query_rows(d, screened, day_ranges(recent_first, end, left_out))
    moved = {u: slipped(before.get(u, {}), after.get(u, {})) for u in screened}
    moving = {u: s for u, s in moved.items() if abs(s) >= SLIP / 2}
    lower = {u: s for u, s in moving.items() if s > 0}
    if len(moving) >= UPDATE_PAGES and lower and len(lower) < len(moving):  # an update moves pages both ways
        if report_once(d, loop, f"{loop}:update", "", {"moved": _rounded(moving)}):
            d.note(
                f"{loop}: {len(moving)} pages moved at once in the week to {end} ({len(moving) - len(lower)} "
                f"higher, {len(lower)} lower: {_listed(lower)}): a shift across the site like a search engine "
                "update, not one page's problem; no page is changed for it. Review what the pages that lost "
                "have in common"
            )
        return set(moving) | gone
    update = d.store.client_step(d.client, f"{loop}:update")
    told = update.data["moved"] if update is not None and (d.today - update.dated()).days < REARM_DAYS else {}
    for url, slip in sorted(lower.items(), key=lambda m: -m[1]):
        if (
            slip >= SLIP
            and url not in told
            and report_once(d, loop, f"{loop}:ranked:{url}", url, {"slip": round(slip, 2)})
        ):
            d.note(
                f"{loop}: {url}: its queries rank {slip:.1f} places lower in the week to {end} than in the weeks "
                "before: a ranking drop (a competitor, lost links, a technical change), not its snippet; its "
                "snippet was not changed"
            )
    return set(moving) | gone


async def _left_the_results(
    d: Director, loop: str, changes: list[dict], windows: tuple[date, date, date, date], changing: set[str]
) -> set[str]:
    """Pages whose impressions collapsed over the latest days: out of the search results (unpublished,
    redirected, noindexed, removed). Reported once with what the CMS and an audit say; never given a
    snippet. Screened on the weeks' totals, confirmed on the latest WATCH_DAYS."""
    base_first, base_end, recent_first, end = windows
    base_days, recent_days = (base_end - base_first).days + 1, (end - recent_first).days + 1
    fading = [
        (c["keys"]["page"], c["impressions_a"] / base_days)
        for c in changes
        if c["impressions_a"] / base_days >= MIN_DAILY_SHOWN
        and c["impressions_b"] / recent_days < FADING * c["impressions_a"] / base_days
        and c["keys"]["page"] not in changing
    ]
    gone: set[str] = set()
    for url, before in fading:
        rows = await daily_rows(d, end - timedelta(days=WATCH_DAYS - 1), end, url)
        now = sum(r["impressions"] for r in rows) / WATCH_DAYS
        if now >= COLLAPSE * before:
            continue
        gone.add(url)
        if report_once(d, loop, f"{loop}:gone:{url}", url, {"before": round(before), "now": round(now)}):
            d.note(
                f"{loop}: {url} left the search results: its impressions fell from {before:,.0f} to {now:,.0f} a "
                f"day over the latest {WATCH_DAYS} days; {await why_gone(d, url)}. That is the finding to act on; "
                "its snippet was not changed"
            )
    return gone


async def page_slip(d: Director, url: str) -> float:
    """How many places lower a page's queries rank over the latest WATCH_DAYS of Search Console data than
    over the three weeks before the latest week (the same queries, weighted by their latest impressions)."""
    end = search_end(d)
    before = await query_rows(d, [url], [(end - timedelta(days=27), end - timedelta(days=7))])
    after = await query_rows(d, [url], [(end - timedelta(days=WATCH_DAYS - 1), end)])
    return slipped(before.get(url, {}), after.get(url, {}))


def _listed(moved: dict[str, float]) -> str:
    return ", ".join(f"{u} ({s:+.1f})" for u, s in sorted(moved.items(), key=lambda m: -m[1]))


def _rounded(moved: dict[str, float]) -> dict[str, float]:
    return {u: round(s, 2) for u, s in moved.items()}
