"""searchanalytics.query: Google web (and image) search rows of the world's traffic model.

Final data ends three days before the business date; ``dataState: all`` reaches yesterday (both
later while the ``search_console_delay`` incident holds the data back). Rows
grouped by property count a search once (its best-placed page); grouped by page, every page that
showed counts. Country and device split the model's rows by fixed shares.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request

from ...traffic import COUNTRIES, SEARCH_DEVICES, SearchFact, count, expected_ctr, noise
from ...world import World
from ..google.errors import GoogleError
from .sites import base_url

DIMENSIONS = ("query", "page", "country", "device", "date", "searchAppearance")
SEARCH_TYPES = {
    "web": "web",
    "image": "image",
    "video": "video",
    "news": "news",
    "discover": "discover",
    "googlenews": "googleNews",
    "google_news": "googleNews",
}
AGGREGATIONS = {
    "auto": "auto",
    "bypage": "byPage",
    "by_page": "byPage",
    "byproperty": "byProperty",
    "by_property": "byProperty",
    "bynewsshowcasepanel": "byNewsShowcasePanel",
    "by_news_showcase_panel": "byNewsShowcasePanel",
}
DATA_STATES = {"final": "final", "all": "all", "hourly_all": "hourly_all"}
OPERATORS = {
    "equals": "equals",
    "notequals": "notEquals",
    "not_equals": "notEquals",
    "contains": "contains",
    "notcontains": "notContains",
    "not_contains": "notContains",
    "includingregex": "includingRegex",
    "including_regex": "includingRegex",
    "excludingregex": "excludingRegex",
    "excluding_regex": "excludingRegex",
}
MAX_ROWS = 25_000
FINAL_LAG_DAYS = 3  # final data ends three days before today
FRESH_LAG_DAYS = 1  # dataState "all" reaches yesterday


def _choice(value: Any, table: dict[str, str], field: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.lower() not in table:
        raise GoogleError(400, f"Invalid value for {field}: {value!r}.", legacy=True)
    return table[value.lower()]


def _gsc_date(value: Any, field: str) -> date:
    if value is None or value == "":
        raise GoogleError(400, f"Required field {field} is missing. Use YYYY-MM-DD.", legacy=True)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GoogleError(400, f"Could not parse {field} '{value}'. Dates must be in YYYY-MM-DD format.", legacy=True)


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise GoogleError(400, f"Invalid value for {name}: {value!r}.", legacy=True) from None


def _filters(body: dict[str, Any]) -> tuple[list[tuple[str, str, str]], set[str]]:
    out: list[tuple[str, str, str]] = []
    groups = body.get("dimensionFilterGroups") or []
    if not isinstance(groups, list):
        raise GoogleError(400, "dimensionFilterGroups must be a list.", legacy=True)
    for group in groups:
        if not isinstance(group, dict):
            raise GoogleError(400, "Each dimensionFilterGroup must be an object.", legacy=True)
        group_type = str(group.get("groupType") or "and").lower()
        if group_type != "and":
            raise GoogleError(
                400, f"Invalid value for groupType: {group.get('groupType')!r}. Only 'and' is supported.", legacy=True
            )
        for spec in group.get("filters") or []:
            if not isinstance(spec, dict):
                raise GoogleError(400, "Each filter must be an object.", legacy=True)
            dimension = _dimension(spec.get("dimension"))
            if dimension == "date":
                raise GoogleError(400, "Filtering on date is not supported; use startDate and endDate.", legacy=True)
            operator = _choice(spec.get("operator"), OPERATORS, "operator", "equals")
            expression = spec.get("expression")
            if not isinstance(expression, str):
                raise GoogleError(400, f"Filter on {dimension} needs an expression.", legacy=True)
            if operator in ("includingRegex", "excludingRegex"):
                try:
                    re.compile(expression)
                except re.error as exc:
                    raise GoogleError(400, f"Invalid regular expression '{expression}': {exc}.", legacy=True) from None
            out.append((dimension, operator, expression))
    return out, {f[0] for f in out}


def _dimension(value: Any) -> str:
    if isinstance(value, str):
        for name in DIMENSIONS:
            if value.lower() in (name.lower(), "search_appearance" if name == "searchAppearance" else name):
                return name
    raise GoogleError(400, f"Invalid dimension: {value!r}. Valid dimensions are {', '.join(DIMENSIONS)}.", legacy=True)


def _matches(filters: list[tuple[str, str, str]], row: dict[str, str]) -> bool:
    for dimension, operator, expression in filters:
        value = row.get(dimension, "")
        if dimension in ("country", "device", "searchAppearance"):
            value, wanted = value.lower(), expression.lower()
        else:
            wanted = expression
        if operator == "equals" and value != wanted:
            return False
        if operator == "notEquals" and value == wanted:
            return False
        if operator == "contains" and wanted.lower() not in value.lower():
            return False
        if operator == "notContains" and wanted.lower() in value.lower():
            return False
        if operator == "includingRegex" and re.search(expression, value) is None:
            return False
        if operator == "excludingRegex" and re.search(expression, value) is not None:
            return False
    return True


def search_analytics(world: World, request: Request, site_url: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    start = _gsc_date(body.get("startDate"), "startDate")
    end = _gsc_date(body.get("endDate"), "endDate")
    if start > end:
        raise GoogleError(400, f"startDate ({start}) must be earlier than or equal to endDate ({end}).", legacy=True)
    raw_dims = body.get("dimensions") or []
    if not isinstance(raw_dims, list):
        raise GoogleError(400, "dimensions must be a list.", legacy=True)
    dims = [_dimension(d) for d in raw_dims]
    if len(set(dims)) != len(dims):
        raise GoogleError(400, "Each dimension may appear only once.", legacy=True)
    search_type = _choice(body.get("type") or body.get("searchType"), SEARCH_TYPES, "type", "web")
    aggregation = _choice(body.get("aggregationType"), AGGREGATIONS, "aggregationType", "auto")
    data_state = _choice(body.get("dataState"), DATA_STATES, "dataState", "final")
    row_limit = _int_field(body, "rowLimit", 1000)
    start_row = _int_field(body, "startRow", 0)
    if not 1 <= row_limit <= MAX_ROWS:
        raise GoogleError(400, f"Row limit must be between 1 and {MAX_ROWS}.", legacy=True)
    if start_row < 0:
        raise GoogleError(400, "startRow must be a non-negative number.", legacy=True)
    filters, filtered = _filters(body)
    if aggregation == "byNewsShowcasePanel":
        raise GoogleError(
            400, "byNewsShowcasePanel aggregation is only supported for the googleNews and news types.", legacy=True
        )
    by_page = "page" in dims or "page" in filtered
    if aggregation == "byProperty" and "page" in dims:
        raise GoogleError(400, "Requests grouped by page must use aggregationType byPage or auto.", legacy=True)
    if aggregation == "auto":
        aggregation = "byPage" if by_page else "byProperty"

    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    lag = (FINAL_LAG_DAYS if data_state == "final" else FRESH_LAG_DAYS) + traffic.search_console_lag(today)
    last = today - timedelta(days=lag)
    base = base_url(request)
    needed = set(dims) | filtered
    splits: list[tuple[str, list[tuple[str, float]]]] = []
    if "country" in needed:
        splits.append(("country", [(iso3, share) for _n, _i, iso3, share in COUNTRIES]))
    if "device" in needed:
        splits.append(("device", list(SEARCH_DEVICES)))
    # Filters on query and page apply to the model's rows; the rest after the uniform country/device split.
    early = [f for f in filters if f[0] in ("query", "page")]
    late = [f for f in filters if f[0] not in ("query", "page")]
    plain = [d for d in dims if d in ("query", "page", "date")]
    pre: dict[tuple[str, ...], list[float]] = {}
    day = max(start, traffic.first_day())
    while day <= min(end, last) and search_type in ("web", "image"):
        day_text = day.isoformat()
        facts = traffic.search_day(day)
        if search_type == "image":
            facts = [(q, p, *_image(world.seed, day, q, p, i, pos)) for q, p, i, _c, pos in facts]
        if early:
            facts = [f for f in facts if _matches(early, {"query": f[0], "page": base + f[1]})]
        if aggregation == "byProperty":
            # One result per search for the property: the best-placed page counts once, clicks add up.
            best: dict[str, SearchFact] = {}
            for query, path, impressions, clicks, position in facts:
                top = best.get(query)
                if top is None:
                    best[query] = (query, path, impressions, clicks, position)
                    continue
                _query, top_path, top_impressions, top_clicks, top_position = top
                if position < top_position:
                    top_path, top_position = path, position
                top_impressions = max(top_impressions, impressions)
                best[query] = (
                    query,
                    top_path,
                    top_impressions,
                    min(top_impressions, top_clicks + clicks),
                    top_position,
                )
            facts = list(best.values())
        for query, path, impressions, clicks, position in facts:
            if impressions <= 0:
                continue
            appearance, weight = "", 1.0
            if "searchAppearance" in needed:
                found = traffic.search_appearance(path)
                if found is None:
                    continue
                appearance, weight = found
            values = {"query": query, "page": base + path, "date": day_text}
            _add(pre, (*(values[d] for d in plain), appearance), impressions * weight, clicks * weight, position)
        day += timedelta(days=1)
    combos: list[tuple[dict[str, str], float]] = [({}, 1.0)]
    for name, options in splits:
        combos = [({**values, name: option}, weight * share) for values, weight in combos for option, share in options]
    acc: dict[tuple[str, ...], list[float]] = {}
    for key, (imp, clk, weighted) in pre.items():
        row = dict(zip(plain, key[:-1], strict=True))
        row["searchAppearance"] = key[-1]
        for values, weight in combos:
            full = {**row, **values} if values else row
            if late and not _matches(late, full):
                continue
            out = tuple(full[d] for d in dims)
            target = acc.get(out)
            if target is None:
                acc[out] = [imp * weight, clk * weight, weighted * weight]
            else:
                target[0] += imp * weight
                target[1] += clk * weight
                target[2] += weighted * weight
    rows: list[dict[str, Any]] = []
    for keys, (imp, clk, weighted) in acc.items():
        impressions = round(imp)
        if impressions <= 0:
            continue
        clicks = min(impressions, round(clk))
        rows.append(
            {
                "keys": list(keys),
                "clicks": clicks,
                "impressions": impressions,
                "ctr": clicks / impressions,
                "position": weighted / imp,
            }
        )
    if dims == ["date"]:
        rows.sort(key=lambda r: r["keys"])
    else:
        rows.sort(key=lambda r: (-r["clicks"], -r["impressions"], r["keys"]))
    response: dict[str, Any] = {}
    page = rows[start_row : start_row + row_limit]
    if page:
        response["rows"] = page
    response["responseAggregationType"] = aggregation
    if data_state != "final" and end >= today - timedelta(days=FINAL_LAG_DAYS - 1):
        response["metadata"] = {"firstIncompleteDate": (today - timedelta(days=FINAL_LAG_DAYS - 1)).isoformat()}
    return response


def _add(
    acc: dict[tuple[str, ...], list[float]], key: tuple[str, ...], imp: float, clk: float, position: float
) -> None:
    target = acc.get(key)
    if target is None:
        acc[key] = [imp, clk, position * imp]
    else:
        target[0] += imp
        target[1] += clk
        target[2] += position * imp


def _image(seed: int, day: date, query: str, path: str, impressions: int, position: float) -> tuple[int, int, float]:
    """Google Images rows derived from the web row: fewer impressions, lower placement, far fewer clicks."""
    u = noise(seed, "image", query, path, day.toordinal())
    image_impressions = count(impressions * 0.12, u[0])
    image_position = round(position + 6 + 2 * u[1], 2)
    rate = expected_ctr(image_position) * 0.3
    return image_impressions, min(image_impressions, count(image_impressions * rate, u[2])), image_position
