"""Traffic or conversion drop: a landing page whose sessions or key events fall against the same
weekdays of the weeks before (a seasonality-aware baseline) is audited in a real browser; what the
audit finds that content can fix is fixed through the CMS, and the fix is judged on the page's
search CTR against untouched pages, kept or rolled back. A drop of the whole site is a tracking or
demand problem, not a page problem: it is reported, and no page is changed."""

from datetime import date, timedelta

from ..planner import Finding, PageContext
from ..pool import ServerPool
from ..runner import Director, LoopError
from ..stats import seasonal_drop
from .pages import PageLoop, apply_fields, busy, judging_facts, post_for, snippet_of

NAME = "traffic_drop"
DETECT_EVERY = 3
GA4_LAG = 2  # GA4's numbers settle after a day or two
HISTORY, RECENT = 28, 7
PAGES = 8
METRICS = ("sessions", "keyEvents")
MIN_DAILY = {"sessions": 10, "keyEvents": 3}  # smaller pages are too noisy to judge by the day


class TrafficDropLoop(PageLoop):
    name, every = NAME, DETECT_EVERY

    def wanted(self, pool: ServerPool) -> bool:
        return pool.has("ga4") and (pool.has("wordpress") or pool.has("webflow"))

    async def _series(self, d: Director, end: date, path: str | None = None) -> dict[str, list[float]]:
        filters = [{"field": "landingPage", "value": path}] if path else []
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
        days = [(end - timedelta(days=HISTORY + RECENT - 1 - i)).strftime("%Y%m%d") for i in range(HISTORY + RECENT)]
        return {m: [float(by_day.get(day, {}).get(m, 0) or 0) for day in days] for m in METRICS}

    async def _detect(self, d: Director) -> None:
        end = d.today - timedelta(days=GA4_LAG)
        site = (await self._series(d, end))["sessions"]
        gaps = [i for i in range(RECENT) if seasonal_drop(site[: HISTORY + i], [site[HISTORY + i]], drop=0.7)[0]]
        if gaps:
            days = ", ".join(str(end - timedelta(days=RECENT - 1 - i)) for i in gaps)
            d.note(
                f"{NAME}: almost no sessions recorded on {days}: a tracking outage, not a page problem; "
                "those days are left out of the page checks"
            )
        else:
            dropped, change, _ = seasonal_drop(site[:HISTORY], site[HISTORY:])
            if dropped:
                d.note(
                    f"{NAME}: the whole site's sessions are {change:+.0%} against the same weekdays before: "
                    "a demand or measurement problem, not a page problem; no page changed"
                )
                return

        # The landing pages that lost the most against the week before, then each against its own weekdays.
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
        losers = sorted(
            (c for c in movers["changes"] if c["change"].get("sessions", 0) < 0), key=lambda c: c["change"]["sessions"]
        )[:PAGES]
        base = await self._base(d)
        for row in losers:
            url = base + row["key"]["landingPage"]
            if busy(d, url) or d.store.step(d.run_id, f"{NAME}:{url}"):
                continue
            series = await self._series(d, end, row["key"]["landingPage"])
            for metric in METRICS:
                values = _without(series[metric], gaps)
                hit, change, level = seasonal_drop(values[:HISTORY], values[HISTORY:], min_level=MIN_DAILY[metric])
                if hit:
                    self._chart(d, url, end, series)
                    await self._diagnose(d, url, metric, change)
                    break

    def _chart(self, d: Director, url: str, end: date, series: dict[str, list[float]]) -> None:
        for i, value in enumerate(series["sessions"]):
            day = (end - timedelta(days=HISTORY + RECENT - 1 - i)).isoformat()
            d.store.measure(d.run_id, NAME, url, "Sessions", day, value)

    async def _base(self, d: Director) -> str:
        if "site_url" not in d.memory:
            server = "wordpress" if d.pool.has("wordpress") else "webflow"
            d.memory["site_url"] = (await d.read(f"{server}.site_info", {}))["url"].rstrip("/")
        return d.memory["site_url"]

    async def _diagnose(self, d: Director, url: str, metric: str, change: float) -> None:
        what = "sessions" if metric == "sessions" else "key events"
        d.say(f"   {url}: {what} {change:+.0%} against the same weekdays before")
        key = f"{NAME}:{url}"
        post = await post_for(d, url)
        if post is None or not d.pool.has("page-analysis"):
            d.note(
                f"{NAME}: {url} dropped ({what} {change:+.0%}); "
                + ("no CMS post behind it" if post is None else "no page-analysis server to audit it")
            )
            d.cool(url, 7)
            return
        try:
            audit = await d.read("page-analysis.analyze_page", {"url": url})
        except LoopError as exc:
            d.note(f"{NAME}: {url} dropped ({what} {change:+.0%}) but could not be audited: {exc}")
            d.cool(url, 7)
            return
        findings = [Finding(f["check"], f["severity"], f["message"], f.get("fix", "")) for f in audit["findings"]]
        before = await snippet_of(d, post)
        fields = await d.planner.fix(
            PageContext(
                url=url,
                title=before["title"] or post.title,
                seo_title=before["seo_title"],
                meta_description=before["meta_description"],
            ),
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
                "findings": [f.check for f in findings],
                **await judging_facts(d, url),
            },
        )
        if done is not None:
            d.note(
                f"{NAME}: fixed {', '.join(fields)} of {url} after the audit found "
                f"{', '.join(f.check for f in findings[:4])}"
            )


def _without(values: list[float], gaps: list[int]) -> list[float]:
    """The series with the outage days of the recent window replaced by what those weekdays usually are."""
    out = list(values)
    for i in gaps:
        same_weekday = sorted(values[(HISTORY + i) % 7 : HISTORY : 7])
        out[HISTORY + i] = same_weekday[len(same_weekday) // 2] if same_weekday else out[HISTORY + i]
    return out
