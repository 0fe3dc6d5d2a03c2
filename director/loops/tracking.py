"""What GA4 failed to record, told apart from what happened to the traffic: days on which the whole site,
or one channel or device class, went (almost) unrecorded, and pages whose sessions fell while their
search clicks held. Such days are left out of every comparison, never filled in, and such pages are a
tracking problem to report, not a page to change."""

from datetime import date, timedelta

from ..runner import Director
from ..stats import seasonal_drop
from .pages import daily_rows, search_end

HISTORY, RECENT = 28, 7  # days of a series: the weeks it is judged against, then the days judged
GAP = 0.7  # a day this far below its weekdays went unrecorded
SPLITS = {"sessionDefaultChannelGroup": "channel", "deviceCategory": "device class"}
MIN_SPLIT = 10  # sessions a day: a smaller channel's or device class's quiet day is not an outage
MIN_CLICKS = 3  # search clicks a day a page needs for its clicks to say whether its sessions really fell
MISMATCH = 0.3  # GA4 this much further down than Search Console's clicks: visits went unrecorded
SITE_MISMATCH = 0.15  # the same for the whole site, whose weeks scatter less


def days_of(end: date) -> list[date]:
    """The HISTORY + RECENT days of a series ending on `end`."""
    return [end - timedelta(days=HISTORY + RECENT - 1 - i) for i in range(HISTORY + RECENT)]


def unrecorded(series: list[float], min_level: float = 20) -> frozenset[int]:
    """The recent days (indices into the last RECENT) that went almost unrecorded against their weekdays."""
    return frozenset(
        i
        for i in range(RECENT)
        if seasonal_drop(series[: HISTORY + i], [series[HISTORY + i]], drop=GAP, min_level=min_level)[0]
    )


async def split_sessions(d: Director, end: date, dimension: str) -> dict[str, list[float]]:
    """The site's sessions per day and per value of `dimension` (a channel, a device class)."""
    days = days_of(end)
    at = {day.strftime("%Y%m%d"): i for i, day in enumerate(days)}
    out: dict[str, list[float]] = {}
    offset: int | None = 0
    while offset is not None:
        report = await d.read(
            "ga4.run_report",
            {
                "metrics": ["sessions"],
                "dimensions": ["date", dimension],
                "limit": 100,
                "offset": offset,
                "date_ranges": [{"start": days[0].isoformat(), "end": end.isoformat()}],
            },
        )
        for row in report["rows"]:
            if row["date"] in at:
                out.setdefault(row[dimension], [0.0] * len(days))[at[row["date"]]] = float(row["sessions"] or 0)
        offset = report.get("next_offset")
    return out


async def outage_days(d: Director, loop: str, end: date, site: list[float]) -> frozenset[int]:
    """The recent days to leave out of every check: the whole site went unrecorded, or one channel or device
    class did while the rest was measured (a partial outage: a tag missing on one template, an app release).
    Each is noted once."""
    whole = unrecorded(site)
    if whole:
        d.note(
            f"{loop}: almost no sessions recorded on {_dates(end, whole)}: a tracking outage, not a page problem; "
            "those days are left out of the checks"
        )
    partial: dict[int, list[str]] = {}
    for dimension, what in SPLITS.items():
        for value, series in sorted((await split_sessions(d, end, dimension)).items()):
            for i in unrecorded(series, MIN_SPLIT) - whole:
                partial.setdefault(i, []).append(f"{value} ({what})")
    if partial:
        lost = sorted({v for vs in partial.values() for v in vs})
        d.note(
            f"{loop}: GA4 recorded almost no sessions of {', '.join(lost)} on {_dates(end, frozenset(partial))} "
            "while the rest of the site was measured: a partial tracking outage; those days are left out of "
            "the checks"
        )
    return whole | frozenset(partial)


async def search_clicks_change(d: Director, url: str | None, end: date, skip: frozenset[int]) -> float | None:
    """The change of a page's search clicks (the whole site's for None) over the recent days its sessions are
    judged on, against the same weekdays before; None when there are too few clicks to tell, or the client
    has no Search Console."""
    if not d.pool.has("search-console"):
        return None
    days = days_of(end)
    rows = {r["keys"]["date"]: r["clicks"] for r in await _daily_clicks(d, days[0], end, url)}
    last = search_end(d)
    clicks = [float(rows.get(day.isoformat(), 0)) for day in days]
    unseen = frozenset(i for i in range(RECENT) if days[HISTORY + i] > last)  # not in Search Console yet
    if len(skip | unseen) >= RECENT:
        return None
    _, change, level = seasonal_drop(clicks[:HISTORY], clicks[HISTORY:], min_level=MIN_CLICKS, skip=skip | unseen)
    return change if level >= MIN_CLICKS else None


def unrecorded_visits(ga4_change: float, search: float | None, mismatch: float = MISMATCH) -> bool:
    """Whether GA4's visits fell far more than the search clicks that bring them (the visitors came, GA4 did
    not record them), rather than with them."""
    return search is not None and search - ga4_change >= mismatch


async def _daily_clicks(d: Director, first: date, end: date, url: str | None) -> list[dict]:
    if url is not None:
        return await daily_rows(d, first, end, url)
    key = f"site_clicks:{first}:{end}"
    if key not in d.memory:
        d.memory[key] = (
            await d.read(
                "search-console.search_analytics",
                {"start": first.isoformat(), "end": end.isoformat(), "dimensions": ["date"], "limit": 100},
            )
        )["rows"]
    return d.memory[key]


def _dates(end: date, indices: frozenset[int]) -> str:
    return ", ".join(str(end - timedelta(days=RECENT - 1 - i)) for i in sorted(indices))
