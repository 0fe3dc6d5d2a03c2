"""Search CTR: pages whose search snippet draws fewer clicks than it should get a better title and meta
description through the CMS; after fresh data, the change is kept only if the page's CTR rose against
untouched pages, and rolled back to the exact previous fields otherwise.

A page is judged query by query: each query's CTR against the CTR the curve expects at that query's own
position, the page's ratio the impressions-weighted mean of its queries' (a page whose queries rank 4th
and 17th says nothing at its average position). Two findings start a change:
- a gap (weekly): the page's ratio below 1 over the last four weeks, ranked by the clicks it misses;
- a regression (daily): the page's ratio over its latest week credibly below its own ratio over the four
  weeks before, net of the change the site's other pages saw (corrected for every page watched that day);
  it is reported, and a change it gets is judged against the days since the regression began.
Every page is screened daily on its page-level numbers in one call (its CTR against its own earlier
weeks); the few that moved are judged query by query, with the days the property recorded almost
nothing on (a Search Console outage) left out of both windows, never filled in. A page this run
changed is judged by its change's test, not watched here."""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist, median

from ..pool import ServerPool
from ..runner import Director
from ..stats import Estimate, credible_fall
from .pages import (
    SEARCH_LAG,
    SLIP,
    PageLoop,
    apply_fields,
    busy,
    daily_rows,
    expected_curve,
    judging_facts,
    live_changes,
    page_context,
    post_for,
    post_status,
    ratios_of,
    search_end,
    snippet_of,
)
from .rankings import watch_rankings
from .search_rows import day_ranges, merged, outage_days, query_rows, slipped

NAME = "search_ctr"
DETECT_EVERY = 7  # days between looks for gaps to the curve; regressions are looked for every day
NEW_PER_DETECTION = 2
WINDOW, RECENT = 28, 7  # a page's earlier weeks, and the latest week judged against them
SCREEN = 0.2  # a page-level fall (at its average position) that gets the page judged query by query
FALL = 0.3  # a regression: the page's ratio this far below its earlier weeks' (net of the site)
CONFIDENCE = 0.99  # that it fell, over all the pages judged that day
MIN_BEFORE_CLICKS = 40  # in the earlier weeks
MIN_RECENT_EXPECTED = 12  # clicks the latest week would have had at the earlier ratio
SPREAD = 0.08  # week-to-week swing of a page's CTR beyond the count noise (log scale)


_normal_cdf = NormalDist().cdf


class SearchCtrLoop(PageLoop):
    name, every = NAME, 1

    def wanted(self, pool: ServerPool) -> bool:
        return pool.has("search-console") and (pool.has("wordpress") or pool.has("webflow"))

    async def _detect(self, d: Director) -> None:
        end = search_end(d)
        curve = await expected_curve(d)
        anchor = d.start - timedelta(days=SEARCH_LAG)  # the earlier weeks move on once a week
        base_end = end - timedelta(days=RECENT + (end - anchor).days % 7)
        windows = (base_end - timedelta(days=WINDOW - 1), base_end, end - timedelta(days=RECENT - 1), end)
        screened = await d.read(
            "search-console.compare_periods",
            {
                "a_start": windows[0].isoformat(),
                "a_end": windows[1].isoformat(),
                "b_start": windows[2].isoformat(),
                "b_end": windows[3].isoformat(),
                "dimension": "page",
                "limit": 100,
            },
        )
        left_out = await outage_days(d, windows[0], windows[3])
        lower = await watch_rankings(d, NAME, screened["changes"], windows, left_out)
        found = await self._regressions(d, screened["changes"], curve, windows, left_out)
        if (d.today - d.start).days % DETECT_EVERY == 0:
            urls = [c["keys"]["page"] for c in screened["changes"] if c["impressions_a"] or c["impressions_b"]]
            rows = await query_rows(d, urls, [(end - timedelta(days=WINDOW - 1), end)])
            found += _gaps(d, rows, curve, WINDOW)
        started = 0
        for url, opp, rows_of_page in found:
            key = f"{NAME}:{url}"
            if started >= NEW_PER_DETECTION or busy(d, url) or url in lower or d.store.step(d.run_id, key):
                continue
            if await self._change(d, url, opp, rows_of_page):
                started += 1

    async def _regressions(
        self,
        d: Director,
        changes: list[dict],
        curve: dict[str, float],
        windows: tuple[date, date, date, date],
        left_out: list[date],
    ) -> list[tuple[str, dict, dict[str, dict]]]:
        """Pages whose CTR against the curve over the latest week fell credibly below their own earlier weeks',
        net of the site's pages; each is reported once. Every page is screened on its page-level numbers (one
        call); the few that moved are judged query by query, outage days left out."""
        changed = {s.object for s in live_changes(d)} | {s.object for s in d.store.steps(d.run_id, kind="change")}
        levels: dict[str, tuple[float, float, float]] = {}  # url -> (log change, its variance, recent clicks expected)
        for c in changes:  # the screen: the page's CTR against its own, net of the site's pages below
            if c["clicks_a"] < MIN_BEFORE_CLICKS or not c["impressions_b"]:
                continue
            then = c["clicks_a"] / c["impressions_a"]
            expected = c["impressions_b"] * then
            if expected >= MIN_RECENT_EXPECTED:
                change = math.log((c["clicks_b"] + 0.5) / expected)
                levels[c["keys"]["page"]] = (change, 1 / (c["clicks_a"] + 0.5) + 1 / expected, expected)
        untouched = [v[0] for u, v in levels.items() if u not in changed]
        shift = median(untouched) if len(untouched) >= 4 else 0.0
        moved = [
            url
            for url, (change, var, _e) in levels.items()
            if url not in changed
            and change - shift <= math.log(1 - SCREEN)
            and _normal_cdf((shift - change) / math.sqrt(var)) >= 0.9
        ]
        reported = {u: d.store.client_step(d.client, f"{NAME}:regressed:{u}") for u in moved}  # in any run
        out = [(u, dict(seen.data), {}) for u, seen in reported.items() if seen is not None]
        moved = [u for u in moved if reported[u] is None]
        if not moved:
            return out
        base_first, base_end, recent_first, end = windows
        before = await query_rows(d, moved, day_ranges(base_first, base_end, left_out))
        after = await query_rows(d, moved, day_ranges(recent_first, end, left_out))
        for url in moved:
            then, now = _Ratio.of(before.get(url, {}), curve), _Ratio.of(after.get(url, {}), curve)
            if then.clicks < MIN_BEFORE_CLICKS or now.expected * then.ratio < MIN_RECENT_EXPECTED:
                continue
            if slipped(before.get(url, {}), after.get(url, {})) >= SLIP:
                continue  # a ranking drop moves the page's clicks: the traffic loop's finding, not its snippet's
            fell, change, probability = credible_fall(
                then.estimate(), now.estimate(), shift=shift, tests=len(levels), confidence=CONFIDENCE, fall=FALL
            )
            if not fell:
                continue
            since = await _onset(d, url, curve, (base_first, end, left_out))
            opp = {
                "keys": {"page": url},
                "regression": {
                    "before": round(then.ratio, 3),
                    "after": round(now.ratio, 3),
                    "change": round(change, 3),
                    "probability": round(probability, 5),
                    "site_change": round(math.exp(shift) - 1, 3),
                    "left_out": [str(x) for x in left_out],
                },
                "incident_start": since.isoformat(),
                "ctr": now.clicks / now.impressions if now.impressions else 0.0,
                "ratio": now.ratio,
                "missed_clicks": round(now.expected * then.ratio - now.clicks),
            }
            d.record(f"{NAME}:regressed:{url}", loop=NAME, object=url, kind="report", data=opp)
            d.note(
                f"{NAME}: {url}: its CTR against the curve at each query's position fell {change:+.0%} against "
                f"its own earlier weeks ({then.ratio:.2f}x the curve, now {now.ratio:.2f}x"
                + (f"; the site's pages {math.exp(shift) - 1:+.0%}" if shift else "")
                + (f"; {len(left_out)} outage day(s) left out" if left_out else "")
                + f"), since about {since}: a snippet regression (a changed title or description, or a richer "
                "result next to it)" + ("; it is cooling down, so it is reported, not changed" if busy(d, url) else "")
            )
            out.append((url, opp, merged(before.get(url, {}), after.get(url, {}))))
        return out

    async def _change(self, d: Director, url: str, opp: dict, rows: dict[str, dict]) -> bool:
        """A new snippet for a page found weak or regressed, through the gated write; False if it is left alone."""
        key = f"{NAME}:{url}"
        post = await post_for(d, url)
        if post is None:
            return False
        status = await post_status(d, post)
        if status != "published":  # its impressions are from before: a missing page, not a weak snippet
            d.note(f"{NAME}: {url} is no longer published (status '{status}' in the CMS); its snippet is left alone")
            return False
        if "regression" not in opp:
            d.say(
                f"   {url}: CTR {opp['ctr']:.1%} where {opp['expected_ctr']:.1%} is expected at its queries' "
                f"positions ({opp['ratio']:.2f}x the curve; {opp['missed_clicks']} clicks missed in {opp['days']} days)"
            )
        before = await snippet_of(d, post)
        d.store.snapshot(d.run_id, key, url, before)
        queries = sorted(rows, key=lambda q: (-rows[q]["clicks"], -rows[q]["impressions"], q))[:5]
        snippet = await d.planner.snippet(page_context(url, post, before, queries))
        facts = await judging_facts(d, url)
        since = {"incident_start": opp["incident_start"]} if opp.get("incident_start") else {}
        done = await apply_fields(
            d,
            key,
            loop=NAME,
            post=post,
            data={"before": before, "opportunity": opp, **since, **facts},
            fields={"seo_title": snippet.seo_title, "meta_description": snippet.meta_description},
        )
        if done is not None:
            d.note(f"{NAME}: rewrote the snippet of {url}: '{snippet.seo_title}'")
        return True


@dataclass(frozen=True)
class _Ratio:
    """A page's clicks against the clicks the curve expects at each of its queries' positions, over a window."""

    clicks: int
    impressions: int
    expected: float  # clicks at the curve
    weighted: float  # sum over queries of clicks / expected CTR: impressions times each query's ratio
    variance: float  # of `weighted`, counting clicks as Poisson

    @property
    def ratio(self) -> float:
        """The impressions-weighted mean of the queries' CTR against the curve at their positions."""
        return self.weighted / self.impressions if self.impressions else 0.0

    def estimate(self) -> Estimate:
        if not self.impressions:
            return Estimate(0.0, 1e6)  # nothing measured: no level to compare
        mean_curve = self.expected / self.impressions
        weighted = self.weighted + 0.5 / mean_curve  # half a click: a window without clicks is not log(0)
        return Estimate(
            math.log(weighted / self.impressions), (self.variance + 0.5 / mean_curve**2) / weighted**2 + SPREAD**2
        )

    @classmethod
    def of(cls, rows: dict[str, dict], curve: dict[str, float]) -> "_Ratio":
        clicks = impressions = 0
        expected = weighted = variance = 0.0
        for row in rows.values():
            if not row["impressions"]:
                continue
            rate = expected_at(curve, row["position"])
            clicks, impressions = clicks + row["clicks"], impressions + row["impressions"]
            expected += row["impressions"] * rate
            weighted += row["clicks"] / rate
            variance += row["clicks"] / rate**2
        return cls(clicks, impressions, expected, weighted, variance)


def expected_at(curve: dict[str, float], position: float) -> float:
    """The curve's CTR at a position: linear between whole positions; beyond its last, falling as 1/position
    (as the search-console server's own curve does past 10)."""
    points = sorted((int(k), v) for k, v in curve.items())
    if position <= points[0][0]:
        return points[0][1]
    last, rate = points[-1]
    if position >= last:
        return max(0.005, rate * last / position)
    low = int(position)
    at = dict(points)
    return at[low] + (at[low + 1] - at[low]) * (position - low)


def _gaps(
    d: Director, rows: dict[str, dict[str, dict]], curve: dict[str, float], days: int
) -> list[tuple[str, dict, dict[str, dict]]]:
    """Pages below the curve, query by query, over the window, by the clicks they miss."""
    found = []
    for url, queries in rows.items():
        total = _Ratio.of(queries, curve)
        if total.impressions < d.policy.min_impressions or total.ratio >= 1:
            continue
        opp = {
            "keys": {"page": url},
            "ctr": total.clicks / total.impressions,
            "expected_ctr": total.expected / total.impressions,
            "ratio": total.ratio,
            "missed_clicks": max(0, round(total.expected - total.clicks)),
            "days": days,
        }
        found.append((url, opp, queries))
    return sorted(found, key=lambda f: (-f[1]["missed_clicks"], f[0]))[:10]


async def _onset(d: Director, url: str, curve: dict[str, float], span: tuple[date, date, list[date]]) -> date:
    """The first of the last two weeks' days from which the page's daily CTR against the curve (at its
    average position: a day's own scale) stays well below its level of the weeks before."""
    first, end, left_out = span
    start = end - timedelta(days=2 * RECENT - 1)
    daily = ratios_of(await daily_rows(d, first, end, url), curve)
    kept = {date.fromisoformat(k): v for k, v in daily.items() if date.fromisoformat(k) not in left_out}
    earlier = [v for k, v in kept.items() if k < start]
    days = sorted(k for k in kept if k >= start)
    if not earlier or not days:
        return end - timedelta(days=RECENT - 1)
    level = median(earlier)
    for i, day in enumerate(days):
        rest = [kept[x] for x in days[i:]]
        if kept[day] < level + math.log(1 - FALL / 2) and sum(rest) / len(rest) < level + math.log(1 - FALL):
            return day
    return end - timedelta(days=RECENT - 1)
