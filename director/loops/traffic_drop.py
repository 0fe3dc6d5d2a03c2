"""Traffic or conversion drop: a landing page whose sessions or key events fall against the same
weekdays of the weeks before (a seasonality-aware baseline) is audited in a real browser; what the
audit finds that content can fix is fixed through the CMS, and the fix is judged on the page's
search CTR against untouched pages, kept or rolled back. A drop of the whole site is a tracking or
demand problem, not a page problem: it is reported, and no page is changed; tracking-outage days are
left out of every comparison, never filled in. Every page is watched, the ones under change or cooling
down too: their drops are reported (and confound a change under test), only the changing waits. A
page that is no longer published, or that search engines cannot index, is reported as that, never
"fixed" by a new snippet."""

from datetime import date, timedelta

from ..planner import Finding
from ..pool import ServerPool
from ..runner import Director, LoopError
from ..stats import seasonal_drop
from ..store import StepStatus
from .pages import (
    INDEXABILITY,
    SLIP,
    PageLoop,
    PostRef,
    apply_fields,
    audit_of,
    judging_facts,
    landed_at,
    open_changes,
    page_context,
    post_for,
    post_status,
    redirects,
    report_once,
    snippet_of,
    watch_change,
)
from .rankings import page_slip
from .tracking import (
    HISTORY,
    RECENT,
    SITE_MISMATCH,
    days_of,
    outage_days,
    search_clicks_change,
    unrecorded_visits,
)

NAME = "traffic_drop"
DETECT_EVERY = 3
GA4_LAG = 2  # GA4's numbers settle after a day or two
PAGES = 8
METRICS = ("sessions", "keyEvents")
MIN_DAILY = {"sessions": 10, "keyEvents": 1.5}  # below this a day says too little (the drop must also be 3 sigma)
DROP = 0.25  # a page's drop, net of the whole site's
VANISHED = 0.7  # a live page this far down lost its tracking or its URL, not its readers
SITE_UNDER_WAY = 0.2  # the whole site this far down on its latest days: a site-wide drop has begun


class TrafficDropLoop(PageLoop):
    name, every = NAME, DETECT_EVERY

    def wanted(self, pool: ServerPool) -> bool:
        return pool.has("ga4") and (pool.has("wordpress") or pool.has("webflow"))

    async def tick(self, d: Director) -> None:
        for step in d.store.steps(d.run_id, loop=NAME, kind="republish"):
            if step.status is StepStatus.AWAITING:  # approved (or denied) since: carried out (or dropped)
                await self._republish(d, PostRef(**step.data["post"]))
        await super().tick(d)

    async def _republish(self, d: Director, post: PostRef) -> None:
        """Put a page that went back to draft online again. Someone may have taken it down on purpose, so
        this waits for a person's approval: "*" in auto_approve does not cover it, only naming `publish`."""
        done = await d.write(
            f"{NAME}:republish:{post.url}",
            loop=NAME,
            object=post.url,
            tool=f"{post.server}.publish",
            args={"post_id": post.id, "kind": post.kind},
            kind="republish",
            applied=lambda: _published(d, post),
            data={"post": post.__dict__},
            named=True,
        )
        if done is not None:
            d.note(f"{NAME}: republished {post.url} (approved); it was back in draft")

    async def _series(
        self, d: Director, end: date, path: str | None = None, channel: str | None = None
    ) -> dict[str, list[float]]:
        filters = [{"field": "landingPage", "value": path}] if path else []
        filters += [{"field": "sessionDefaultChannelGroup", "value": channel}] if channel else []
        report = await d.read(
            "ga4.run_report",
            {
                "metrics": list(METRICS),
                "dimensions": ["date"],
                "dimension_filters": filters,
                "limit": 100,
                "date_ranges": [
                    {"start": (end - timedelta(days=HISTORY + RECENT - 1)).isoformat(), "end": end.isoformat()}
                ],
            },
        )
        by_day = {row["date"]: row for row in report["rows"]}
        days = [day.strftime("%Y%m%d") for day in days_of(end)]
        return {m: [float(by_day.get(day, {}).get(m, 0) or 0) for day in days] for m in METRICS}

    async def _detect(self, d: Director) -> None:
        end = d.today - timedelta(days=GA4_LAG)
        totals = await self._series(d, end)
        gaps = await outage_days(d, NAME, end, totals["sessions"])
        if await self._site_explains(d, end, totals, gaps):
            return
        checkout = self._site_conversions(d, totals, gaps)
        base = await self._base(d)
        tracked: list[str] = []
        for path in await self._losers(d, end):  # every page is watched, the ones under change or cooling down too
            url = base + path
            series = await self._series(d, end, path)
            hit = _hit(series, totals, gaps)
            if hit is None or (hit[0] == "keyEvents" and checkout):
                continue
            metric, change = hit
            self._chart(d, url, end, series)
            since = end - timedelta(days=RECENT - 1 - _onset(series[metric], gaps))
            if metric == "keyEvents":
                self._conversions_only(d, url, change, series["sessions"], gaps, since)
                continue
            organic = (await self._series(d, end, path, channel="Organic Search"))["sessions"]
            searched, search_change, _ = seasonal_drop(
                organic[:HISTORY], organic[HISTORY:], min_level=MIN_DAILY["sessions"] / 2, skip=gaps, sigmas=2.0
            )
            if (
                searched
                and unrecorded_visits(search_change, await search_clicks_change(d, url, end, gaps))
                and not await redirects(d, url)  # search still sends visitors to a redirect for a few days
            ):
                tracked.append(url)  # its search visitors came, GA4 did not record them
            elif not searched and search_change > -DROP / 2:
                self._elsewhere(d, url, change, search_change, since)
            else:
                await self._found(d, url, metric, change, since)
        if tracked:
            d.note(
                f"{NAME}: tracking: GA4 lost sessions of {', '.join(tracked)} while their search clicks held: "
                "the visitors came but were not recorded (a tag missing on their template, a consent banner, a "
                "filter); fix the tracking; no page changed"
            )

    async def _site_explains(
        self, d: Director, end: date, totals: dict[str, list[float]], gaps: frozenset[int]
    ) -> bool:
        """The whole site first, on the days that were measured: a drop everywhere is no page's problem,
        whether or not an outage falls inside it. Unless the site's search clicks held: then GA4 is losing
        visits it used to record (on some pages), and those pages are told apart one by one."""
        site = totals["sessions"]
        dropped, site_change, _ = seasonal_drop(site[:HISTORY], site[HISTORY:], skip=gaps)
        ratios = _day_ratios(site)
        latest = [ratios[i] for i in range(RECENT - 3, RECENT) if i not in gaps]
        under_way = bool(latest) and sum(latest) / len(latest) <= 1 - SITE_UNDER_WAY
        if not (dropped or under_way):
            return False
        searched = await search_clicks_change(d, None, end, gaps)
        if unrecorded_visits(site_change, searched, SITE_MISMATCH):
            d.note(
                f"{NAME}: tracking: the whole site's GA4 sessions are {site_change:+.0%} against the same weekdays "
                f"before while its search clicks are {searched:+.0%}: GA4 is missing visits; the pages it lost are "
                "checked one by one"
            )
            return False
        if under_way:
            d.note(
                f"{NAME}: the whole site's sessions are {sum(latest) / len(latest) - 1:+.0%} on the latest days "
                "measured against the same weekdays before: a site-wide drop under way; no page is judged "
                "against its own past until it is over, and no page changed"
            )
            return True
        d.note(
            f"{NAME}: the whole site's sessions are {site_change:+.0%} against the same weekdays before"
            + (" (outage days left out)" if gaps else "")
            + ": a demand or measurement problem, not a page problem; no page changed"
        )
        return True

    def _site_conversions(self, d: Director, totals: dict[str, list[float]], gaps: frozenset[int]) -> bool:
        """Key events down across the site while its sessions held: the checkout, a shared form or the
        conversion tag broke, which no page's content causes. Reported; pages are not judged on key events."""
        events = totals["keyEvents"]
        dropped, change, _ = seasonal_drop(
            events[:HISTORY], events[HISTORY:], min_level=MIN_DAILY["keyEvents"], skip=gaps
        )
        if dropped:
            d.note(
                f"{NAME}: the whole site's key events are {change:+.0%} against the same weekdays before while its "
                "sessions held: the checkout, a shared form or the conversion tag is broken; test a purchase and "
                "the form submissions; no page changed"
            )
        return dropped

    async def _losers(self, d: Director, end: date) -> list[str]:
        """The landing pages that lost the most sessions, and the most key events, against the week before."""

        def week(back: int) -> dict[str, str]:
            return {
                "start": (end - timedelta(days=back + 6)).isoformat(),
                "end": (end - timedelta(days=back)).isoformat(),
            }

        movers = await d.read(
            "ga4.compare_periods",
            {
                "period_a": week(7),
                "period_b": week(0),
                "dimensions": ["landingPage"],
                "metrics": list(METRICS),
                "limit": 50,
            },
        )
        paths: list[str] = []
        for metric, count in (("sessions", PAGES), ("keyEvents", PAGES // 2)):
            fell = sorted(
                (c for c in movers["changes"] if c["change"].get(metric, 0) < 0), key=lambda c: c["change"][metric]
            )
            paths += [c["key"]["landingPage"] for c in fell[:count] if c["key"]["landingPage"] not in paths]
        return paths

    def _elsewhere(self, d: Director, url: str, change: float, search_change: float, since: date) -> None:
        """A page whose visits fell while its search visits held: newsletter, social or referral links to it
        ended. No snippet or content change answers that; reported once."""
        data = {"metric": "sessions", "change": change, "search_change": search_change, "since": since.isoformat()}
        if report_once(d, NAME, f"{NAME}:elsewhere:{url}", url, data):
            d.note(
                f"{NAME}: {url} sessions {change:+.0%} since {since} against the same weekdays before, while its "
                f"search visits held ({search_change:+.0%}): the visits it lost came from other channels (a "
                "newsletter, social or referral links that ended); its content was not changed"
            )

    def _conversions_only(
        self, d: Director, url: str, change: float, sessions: list[float], gaps: frozenset[int], since: date
    ) -> None:
        """A page whose key events fell while its sessions held: a broken form or checkout step on it, or its
        conversion tag; reported once, never answered with a new snippet."""
        _, visits, _ = seasonal_drop(sessions[:HISTORY], sessions[HISTORY:], skip=gaps)
        data = {"metric": "keyEvents", "change": change, "sessions_change": visits, "since": since.isoformat()}
        if not report_once(d, NAME, f"{NAME}:conversions:{url}", url, data):
            return
        d.note(
            f"{NAME}: {url} key events {change:+.0%} since {since} against the same weekdays before, while its "
            f"sessions held ({visits:+.0%}): a conversion problem on the page (a broken form, checkout step or "
            "conversion tag), not a traffic one; test its form and purchase path; its content was not changed"
        )

    async def _found(self, d: Director, url: str, metric: str, change: float, since: date) -> None:
        """A page that dropped: changed only if nothing holds it (an open change, a cooldown, this run's
        earlier fix); reported in any case."""
        what = "sessions" if metric == "sessions" else "key events"
        changing = open_changes(d, url)
        if changing or d.cooling(url) or d.store.step(d.run_id, f"{NAME}:{url}"):
            if not report_once(d, NAME, f"{NAME}:reported:{url}", url, {"metric": metric, "change": change}):
                return
            if changing:
                step = changing[0]
                began = step.data.get("incident_start")
                why = await watch_change(d, step.loop, step, date.fromisoformat(began) if began else None)
                d.note(
                    f"{NAME}: {url} {what} {change:+.0%} against the same weekdays before, while a change is "
                    f"under test on it ({step.key}): "
                    + (
                        f"{why}; the test is confounded"
                        if why
                        else "its search impressions and positions held, so the change's own test judges it"
                    )
                )
                return
            await self._diagnose(d, url, metric, change, since, may_change=False)
            return
        await self._diagnose(d, url, metric, change, since)

    def _chart(self, d: Director, url: str, end: date, series: dict[str, list[float]]) -> None:
        for i, value in enumerate(series["sessions"]):
            day = (end - timedelta(days=HISTORY + RECENT - 1 - i)).isoformat()
            d.store.measure(d.run_id, NAME, url, "Sessions", day, value)

    async def _base(self, d: Director) -> str:
        if "site_url" not in d.memory:
            server = "wordpress" if d.pool.has("wordpress") else "webflow"
            d.memory["site_url"] = (await d.read(f"{server}.site_info", {}))["url"].rstrip("/")
        return d.memory["site_url"]

    async def _diagnose(
        self, d: Director, url: str, metric: str, change: float, since: date, *, may_change: bool = True
    ) -> None:
        what = "sessions" if metric == "sessions" else "key events"
        d.say(f"   {url}: {what} {change:+.0%} against the same weekdays before")
        key = f"{NAME}:{url}"
        post = await post_for(d, url)
        status = await post_status(d, post) if post is not None else "missing"
        if post is not None and status != "published":  # read now, not from the run's start
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}) because it is no longer published: its status "
                f"in the CMS is '{status}'. Its content was not changed"
                + ("; republishing it waits for an approval" if status == "draft" else "")
            )
            d.cool(url, 7)
            if status == "draft":
                await self._republish(d, post)
            return
        slip = await page_slip(d, url) if d.pool.has("search-console") else 0.0
        if slip >= SLIP:  # a snippet does not bring rankings back, and a change now could not be told apart
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}) because its queries rank {slip:.1f} places lower "
                "than in the weeks before: a ranking drop (a competitor, lost links, a technical change); it is "
                "reported, and its content was not changed"
            )
            d.cool(url, 7)
            return
        if post is None or not d.pool.has("page-analysis"):
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}); "
                + ("no CMS post behind it" if post is None else "no page-analysis server to audit it")
            )
            d.cool(url, 7)
            return
        try:
            audit = await audit_of(d, url)
        except LoopError as exc:
            d.note(f"{NAME}: {url} dropped ({what} {change:+.0%}) but could not be audited: {exc}")
            d.cool(url, 7)
            return
        landed = landed_at(url, audit)
        if landed:  # a redirect (a mistaken one, or a move search has not caught up with)
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}) because it redirects to {landed}: its visits and "
                "search results go there now. Remove the redirect if it was a mistake; its content was not changed"
            )
            d.cool(url, 7)
            return
        findings = [Finding(f["check"], f["severity"], f["message"], f.get("fix", "")) for f in audit["findings"]]
        blocking = [f for f in findings if f.check in INDEXABILITY]
        if blocking:  # a page search engines cannot show is not fixed by rewriting its snippet
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}) and cannot be indexed: "
                + "; ".join(f"{f.check}: {f.message}" for f in blocking)
                + ". That is the finding to act on; its content was not changed"
            )
            d.cool(url, 7)
            return
        if change <= -VANISHED:  # no snippet loses a live page almost all of its visits
            d.note(
                f"{NAME}: {url} lost almost all its recorded visits ({what} {change:+.0%}) while it is published, "
                "serves and can be indexed: its visits are no longer recorded (its tag) or reach it by another "
                "URL; check its tracking; its content was not changed"
            )
            d.cool(url, 7)
            return
        if not may_change:
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}) since {since}; it was changed recently and is "
                f"cooling down, so it is reported, not changed (the audit found "
                f"{', '.join(f.check for f in findings[:4]) or 'nothing'})"
            )
            return
        before = await snippet_of(d, post)
        fields = await d.planner.fix(
            page_context(url, post, before),
            findings,
        )
        if not fields:
            checks = ", ".join(f.check for f in findings[:4]) or "nothing"
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}); the audit found nothing content can fix "
                f"({checks}): a ranking or demand change"
            )
            d.cool(url, 7)
            return
        d.store.snapshot(d.run_id, key, url, before)
        done = await apply_fields(
            d,
            key,
            loop=NAME,
            post=post,
            fields=fields,
            data={
                "before": before,
                "drop": {"metric": metric, "change": change},
                "incident_start": since.isoformat(),
                "findings": [f.check for f in findings],
                **await judging_facts(d, url),
            },
        )
        if done is not None:
            d.note(
                f"{NAME}: fixed {', '.join(fields)} of {url} after the audit found "
                f"{', '.join(f.check for f in findings[:4])}"
            )


def _hit(
    series: dict[str, list[float]], totals: dict[str, list[float]], gaps: frozenset[int]
) -> tuple[str, float] | None:
    """The first metric on which a page dropped credibly against its own weekdays and by DROP more than the
    rest of the site did over the same days (a page that only moved with everything else has not dropped),
    with that net change."""
    for metric in METRICS:
        values = series[metric]
        hit, change, _ = seasonal_drop(values[:HISTORY], values[HISTORY:], min_level=MIN_DAILY[metric], skip=gaps)
        if not hit:
            continue
        rest = [t - v for t, v in zip(totals[metric], values, strict=True)]
        _, others, _ = seasonal_drop(rest[:HISTORY], rest[HISTORY:], min_level=0, skip=gaps)
        net = (1 + change) / max(1 + others, 0.05) - 1
        if net <= -DROP:
            return metric, net
    return None


async def _published(d: Director, post: PostRef) -> bool:
    return await post_status(d, post) == "published"


def _day_ratios(values: list[float]) -> list[float]:
    """Each recent day of the site against the median of the same weekday before (floored: an outage day
    would otherwise blow a page's numbers up; those days are skipped anyway)."""
    history = values[:HISTORY]
    out = []
    for i in range(RECENT):
        same = sorted(history[(HISTORY + i) % 7 :: 7])
        typical = same[len(same) // 2] if same else 0.0
        out.append(max(values[HISTORY + i] / typical, 0.05) if typical > 0 else 1.0)
    return out


def _onset(values: list[float], gaps: frozenset[int]) -> int:
    """The first day of the recent window from which the page stays below its weekdays (the drop's start)."""
    history = values[:HISTORY]
    expected = [
        sorted(history[(HISTORY + i) % 7 :: 7])[len(history[(HISTORY + i) % 7 :: 7]) // 2] for i in range(RECENT)
    ]
    for i in range(RECENT):
        days = [j for j in range(i, RECENT) if j not in gaps]
        if days and i not in gaps and values[HISTORY + i] < (1 - DROP / 2) * expected[i]:
            if sum(values[HISTORY + j] for j in days) <= (1 - DROP) * sum(expected[j] for j in days):
                return i
    return 0
