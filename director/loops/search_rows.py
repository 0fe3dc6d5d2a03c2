"""Search Console rows as the page loops read them: per page and query over date ranges (several pages per
call), the days the property recorded almost nothing on, and how far a page's queries slipped."""

from datetime import date, timedelta
from statistics import median

from ..runner import Director

GROUP_ROWS = 90  # query rows asked for in one call (the server returns 100 at most)
OUTAGE = 0.5  # a day with less than this share of its weekday's impressions is left out


def merged(*windows: dict[str, dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for rows in windows:
        for query, row in rows.items():
            add_row(out, query, row)
    return out


def add_row(into: dict[str, dict], query: str, row: dict) -> None:
    """Sum a query's row into `into`: clicks and impressions add, the position is impressions-weighted."""
    have = into.get(query)
    if have is None:
        into[query] = {k: row[k] for k in ("clicks", "impressions", "position")}
        return
    shown = have["impressions"] + row["impressions"]
    if shown:
        have["position"] = (have["position"] * have["impressions"] + row["position"] * row["impressions"]) / shown
    have["clicks"] += row["clicks"]
    have["impressions"] = shown


def slipped(before: dict[str, dict], after: dict[str, dict]) -> float:
    """How many places lower the page's queries rank now (the same queries, weighted by recent impressions)."""
    common = [q for q in after if q in before and after[q]["impressions"]]
    shown = sum(after[q]["impressions"] for q in common)
    if not shown:
        return 0.0
    return sum((after[q]["position"] - before[q]["position"]) * after[q]["impressions"] for q in common) / shown


async def query_rows(d: Director, urls: list[str], ranges: list[tuple[date, date]]) -> dict[str, dict[str, dict]]:
    """Per page and query: clicks, impressions and position over the date ranges. Pages are asked for a few
    at a time (a regex on the page), as many as fit in one answer; a group that does not fit is split."""
    key = f"search_rows:{ranges}"
    if key in d.memory:
        return d.memory[key]
    sizes: dict[str, int] = d.memory.setdefault("search_rows:query_counts", {})
    out: dict[str, dict[str, dict]] = {}
    groups: list[list[str]] = [[]]
    for url in urls:
        if groups[-1] and sum(sizes.get(u, 20) for u in groups[-1]) + sizes.get(url, 20) > GROUP_ROWS:
            groups.append([])
        groups[-1].append(url)
    while groups:
        group = groups.pop()
        if not group:
            continue
        got: dict[str, dict[str, dict]] = {}
        fits = True
        for first, last in ranges:
            answer = await d.read(
                "search-console.search_analytics",
                {
                    "start": first.isoformat(),
                    "end": last.isoformat(),
                    "dimensions": ["page", "query"],
                    "filters": [{"dimension": "page", "operator": "includingRegex", "expression": page_regex(group)}],
                    "limit": 100,
                },
            )
            if answer["truncated"] and len(group) > 1:
                fits = False
                break
            for row in answer["rows"]:
                add_row(got.setdefault(row["keys"]["page"], {}), row["keys"]["query"], row)
        if not fits:
            half = len(group) // 2
            groups += [group[:half], group[half:]]
            continue
        for url in group:
            sizes[url] = max(sizes.get(url, 0), len(got.get(url, {})))
        out.update(got)
    d.memory[key] = out
    return out


def page_regex(urls: list[str]) -> str:
    return "^(" + "|".join(re_escape(u) for u in urls) + ")$"


def re_escape(text: str) -> str:
    """Escape a URL for an RE2 pattern (Search Console's regex filters)."""
    return "".join("\\" + c if c in r".^$*+?()[]{}|\\" else c for c in text)


async def outage_days(d: Director, first: date, last: date) -> list[date]:
    """Days the whole property has almost no impressions against the same weekday's median: left out."""
    rows = (
        await d.read(
            "search-console.search_analytics",
            {"start": first.isoformat(), "end": last.isoformat(), "dimensions": ["date"], "limit": 100},
        )
    )["rows"]
    shown = {date.fromisoformat(r["keys"]["date"]): r["impressions"] for r in rows}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    out = []
    for day in days:
        same = [shown.get(x, 0) for x in days if x.weekday() == day.weekday()]
        if shown.get(day, 0) < OUTAGE * median(same):
            out.append(day)
    return out


def day_ranges(first: date, last: date, left_out: list[date]) -> list[tuple[date, date]]:
    """The runs of days from `first` to `last` without the days left out."""
    out: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if day in left_out:
            day += timedelta(days=1)
            continue
        start = day
        while day + timedelta(days=1) <= last and day + timedelta(days=1) not in left_out:
            day += timedelta(days=1)
        out.append((start, day))
        day += timedelta(days=1)
    return out
