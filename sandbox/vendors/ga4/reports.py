"""runReport and runRealtimeReport: a Data API report computed from the world's traffic model.

A report sums the model's analytics cells of every requested day (less GA4's processing lag for
the last two days), fans them out over the device / country / age / gender splits the request
uses, filters and orders the rows, and computes each metric from the summed cell metrics. Both
functions validate first; with ``plan_only`` they stop there, before any data is read, so quota
checks come after validation errors as at Google.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import product
from typing import TYPE_CHECKING, Any, Callable, Container, NamedTuple

from ...traffic import CELL_METRICS, Cell, TrafficModel
from ..google.errors import GoogleError
from .fields import AGGREGATIONS, ORDER_TYPES, enum_name, field_names, flag, get_field, int_field, parse_date
from .filters import Predicate, Row, as_number, compile_filter
from .metadata import (
    ADDITIVE,
    DATE_DIMENSIONS,
    GROUP_DIMS,
    INTEGER_TYPES,
    METRIC_INDEX,
    METRICS,
    REALTIME_DIMENSIONS,
    REALTIME_METRICS,
    REALTIME_SCHEMA_URL,
    SCHEMA_URL,
    SPLIT_DIMENSIONS,
    SPLITS,
    THRESHOLDED,
    MetricSpec,
    schema,
)

if TYPE_CHECKING:
    from ...world import World

TIME_ZONE = "Etc/UTC"  # the business clock's dates are UTC dates
MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000

# What a report run gives: the response (empty when only planned), its token cost, and whether it is
# potentially thresholded (uses demographic dimensions).
ReportRun = tuple[dict[str, Any], int, bool]
RowKey = tuple[str, ...]  # a row's dimension values, in the order of the response's dimensions
# An ordering: ("metric" | "dimension", api name, order type, descending).
Order = tuple[str, str, str, bool]


class _Shape(NamedTuple):
    """What a report returns and filters on: output dimensions (dateRange added for several ranges), the
    compiled dimension and metric filters with the names they use, and the orderings."""

    out_dims: list[str]
    dim_filter: Predicate | None
    metric_filter: Predicate | None
    filter_dims: set[str]
    filter_metrics: set[str]
    orders: list[Order]


# -- runReport --------------------------------------------------------------------------------


def _completeness(day: date, today: date) -> float:
    """GA4 processing lag: nothing for today, ~70% of yesterday, ~95% of the day before, final after that."""
    age = (today - day).days
    return 0.0 if age <= 0 else 0.7 if age == 1 else 0.95 if age == 2 else 1.0


def _check_names(
    dims: list[str], metrics: list[str], valid_dims: Container[str], valid_metrics: Container[str], schema_url: str
) -> None:
    for kind, names, valid in (("dimension", dims, valid_dims), ("metric", metrics, valid_metrics)):
        for name in names:
            if name not in valid and (kind, name) != ("dimension", "dateRange"):
                raise GoogleError(
                    400,
                    f"Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, see {schema_url}",
                )


def run_report(world: World, prop: str, body: dict[str, Any], plan_only: bool = False) -> ReportRun:
    valid_dims, metric_specs = schema(prop)
    dims = field_names(body, "dimensions")
    metrics = field_names(body, "metrics")
    _check_names(dims, metrics, valid_dims, metric_specs, SCHEMA_URL)
    if len(dims) > 9:
        raise GoogleError(400, f"Requests are limited to 9 dimensions; this request has {len(dims)}.")
    if len(metrics) > 10:
        raise GoogleError(400, f"Requests are limited to 10 metrics; this request has {len(metrics)}.")
    for kind, names in (("dimension", dims), ("metric", metrics)):
        dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if dup:
            raise GoogleError(400, f"Duplicate {kind} name {dup} in the request.")
    if not metrics and not dims:
        raise GoogleError(400, "A report needs at least one dimension or metric.")
    today = world.now().date()
    ranges = get_field(body, "dateRanges", []) or []
    if not ranges:
        raise GoogleError(400, "Must specify at least one dateRange.")
    if len(ranges) > 4:
        raise GoogleError(400, f"Requests are allowed up to 4 date ranges; this request has {len(ranges)}.")
    spans = []
    for index, spec in enumerate(ranges):
        if not isinstance(spec, dict):
            raise GoogleError(400, "Each dateRange must be an object with startDate and endDate.")
        start = parse_date(get_field(spec, "startDate"), today, "startDate")
        end = parse_date(get_field(spec, "endDate"), today, "endDate")
        if start > end:
            raise GoogleError(
                400,
                f"Invalid dateRange: startDate ({start.isoformat()}) is after endDate "
                f"({end.isoformat()}). startDate cannot be after endDate.",
            )
        name = get_field(spec, "name") or f"date_range_{index}"
        if get_field(spec, "name") and str(name).startswith(("date_range_", "RESERVED_")):
            raise GoogleError(400, f"Date range name {name} cannot begin with 'date_range_' or 'RESERVED_'.")
        spans.append((start, end, name))
    out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, orders = _shape(
        body, dims, metrics, len(spans), lambda n: n in valid_dims, lambda n: n in metric_specs
    )
    limit = int_field(body, "limit", 0)
    offset = int_field(body, "offset", 0)
    if limit < 0:
        raise GoogleError(400, f"limit must be positive; got {limit}.")
    if offset < 0:
        raise GoogleError(400, f"offset must be non-negative; got {offset}.")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    aggregations = [
        enum_name(a, AGGREGATIONS, "metric_aggregations", "TOTAL")
        for a in (get_field(body, "metricAggregations", []) or [])
    ]
    needed = [d for d in dict.fromkeys([*out_dims, *sorted(filter_dims)]) if d != "dateRange"]
    thresholded = any(d in THRESHOLDED for d in needed)
    if plan_only:
        return {}, 0, thresholded

    traffic = world.traffic
    traffic.observe()
    groups = [g for g in SPLITS if any(d in needed for d in GROUP_DIMS[g])]
    plain = [d for d in needed if d not in SPLIT_DIMENSIONS]
    fan = 1
    for g in groups:
        fan *= len(SPLITS[g])
    last = today - timedelta(days=1)
    pre: dict[tuple[int, tuple[float, ...], RowKey], list[float]] = {}
    scanned = 0
    for index, (start, end, _name) in enumerate(spans):
        day = max(start, traffic.first_day())
        while day <= min(end, last):
            share = _completeness(day, today)
            date_values = {n: f(day) for n, (_u, _d, f) in DATE_DIMENSIONS.items() if n in plain}
            for cell in traffic.analytics_day(prop, day):
                scanned += 1
                values = cell[6] if share >= 1 else tuple(round(v * share) for v in cell[6])
                key = (
                    index,
                    # The device split of the cell's channel that day (an outage of one device shifts it).
                    traffic.device_shares(cell[1], day) if groups else (),
                    tuple(_cell_value(traffic, name, cell, day, date_values) for name in plain),
                )
                acc = pre.get(key)
                if acc is None:
                    pre[key] = list(values)
                else:
                    for i, v in enumerate(values):
                        acc[i] += v
            day += timedelta(days=1)
    rows_acc: dict[RowKey, list[float]] = {}
    range_names = [name for _s, _e, name in spans]
    for (index, device_shares, plain_values), sums in pre.items():
        base = dict(zip(plain, plain_values, strict=True))
        combos = _combos(groups, device_shares) if groups else [({}, 1.0)]
        for split_values, weight in combos:
            row = {**base, **split_values} if split_values else base
            if dim_filter is not None and not dim_filter(row):
                continue
            key = tuple(range_names[index] if d == "dateRange" else row[d] for d in out_dims)
            target = rows_acc.get(key)
            if target is None:
                target = rows_acc[key] = [0.0] * len(sums)
            for i, v in enumerate(sums):
                target[i] += v * weight
    cost = 1 + math.ceil(scanned * fan / 1000)
    response = _build(
        out_dims,
        metrics,
        metric_specs,
        rows_acc,
        metric_filter,
        filter_metrics,
        orders,
        limit,
        offset,
        aggregations,
        range_names if "dateRange" in out_dims else None,
        flag(body, "keepEmptyRows"),
    )
    response["metadata"] = {"currencyCode": "USD", "timeZone": TIME_ZONE}
    response["kind"] = "analyticsData#runReport"
    return response, cost, thresholded


def _cell_value(traffic: TrafficModel, name: str, cell: Cell, day: date, date_values: dict[str, str]) -> str:
    if name in date_values:
        return date_values[name]
    path, channel, source, medium, campaign, query_string = cell[:6]
    if name in ("landingPage", "pagePath"):
        return path
    if name in ("landingPagePlusQueryString", "pagePathPlusQueryString"):
        return path + query_string
    if name == "sessionDefaultChannelGroup":
        return channel
    if name == "sessionSource":
        return source
    if name == "sessionMedium":
        return medium
    if name == "sessionSourceMedium":
        return f"{source} / {medium}"
    if name == "sessionCampaignName":
        return campaign
    if name == "platform":
        return "web"
    if name == "pageTitle":
        state = traffic.state_on(path, day)
        return state.document_title if state else "(not set)"
    if name == "customEvent:coffee_type":
        return traffic.coffee_type(path)
    raise KeyError(name)


def _combos(groups: list[str], device_shares: tuple[float, ...]) -> list[tuple[dict[str, str], float]]:
    """Every combination of the groups' split values, with its share of a cell split by ``device_shares``."""
    options: list[list[tuple[dict[str, str], float]]] = []
    for group in groups:
        names = GROUP_DIMS[group]
        choices: list[tuple[dict[str, str], float]] = []
        for index, (split_values, share) in enumerate(SPLITS[group]):
            weight = device_shares[index] if group == "device" else share
            choices.append((dict(zip(names, split_values, strict=True)), weight))
        options.append(choices)
    out: list[tuple[dict[str, str], float]] = []
    for combo in product(*options):
        values: dict[str, str] = {}
        weight = 1.0
        for part, w in combo:
            values.update(part)
            weight *= w
        out.append((values, weight))
    return out


def _shape(
    body: dict[str, Any],
    dims: list[str],
    metrics: list[str],
    ranges: int,
    dimension_ok: Callable[[str], bool],
    metric_ok: Callable[[str], bool],
) -> _Shape:
    out_dims = list(dims)
    if ranges > 1 and "dateRange" not in out_dims:
        out_dims.append("dateRange")
    filter_dims: set[str] = set()
    filter_metrics: set[str] = set()
    dim_filter: Predicate | None = None
    metric_filter: Predicate | None = None
    if get_field(body, "dimensionFilter"):
        dim_filter = compile_filter(get_field(body, "dimensionFilter"), dimension_ok, "dimension", filter_dims)
    if get_field(body, "metricFilter"):
        metric_filter = compile_filter(get_field(body, "metricFilter"), metric_ok, "metric", filter_metrics)
    return _Shape(out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, _orders(body, out_dims, metrics))


def _orders(body: dict[str, Any], dims: list[str], metrics: list[str]) -> list[Order]:
    out: list[Order] = []
    for spec in get_field(body, "orderBys", []) or []:
        if not isinstance(spec, dict):
            raise GoogleError(400, "Each orderBy must be an object.")
        desc = flag(spec, "desc")
        metric = get_field(spec, "metric")
        dimension = get_field(spec, "dimension")
        if metric is not None:
            name = get_field(metric, "metricName")
            if name not in metrics:
                raise GoogleError(400, f"OrderBy metric {name} must be one of the metrics in the request.")
            out.append(("metric", name, "NUMERIC", desc))
        elif dimension is not None:
            name = get_field(dimension, "dimensionName")
            if name not in dims:
                raise GoogleError(400, f"OrderBy dimension {name} must be one of the dimensions in the request.")
            order_type = enum_name(
                get_field(dimension, "orderType"), ORDER_TYPES, "order_bys.dimension.order_type", "ALPHANUMERIC"
            )
            out.append(("dimension", name, order_type, desc))
        else:
            raise GoogleError(400, "An orderBy needs a metric or a dimension (pivot ordering is not supported).")
    return out


def _format(value: float, metric_type: str) -> str:
    if metric_type in INTEGER_TYPES:
        return str(int(round(value)))
    if value == 0:
        return "0"
    return repr(float(value))


def _build(
    dims: list[str],
    metrics: list[str],
    specs: dict[str, MetricSpec],
    acc: dict[RowKey, list[float]],
    metric_filter: Predicate | None,
    filter_metrics: set[str],
    orders: list[Order],
    limit: int,
    offset: int,
    aggregations: list[str],
    range_names: list[str] | None,
    keep_empty: bool,
) -> dict[str, Any]:
    wanted = list(dict.fromkeys([*metrics, *sorted(filter_metrics)]))
    rows: list[tuple[RowKey, Row, list[float]]] = []
    for key, sums in acc.items():
        values: Row = {}
        for name in wanted:
            _ui, _desc, mtype, _cat, fn = specs[name]
            raw = fn(sums)
            values[name] = float(round(raw)) if name in ADDITIVE else raw
        if not keep_empty and metrics and all(values[m] == 0 for m in metrics):
            continue
        if metric_filter is not None and not metric_filter(values):
            continue
        rows.append((key, values, sums))
    # Default order: first metric descending, then the dimension values; stable sorts apply orderBys last-to-first.
    rows.sort(key=lambda r: r[0])
    if metrics and not orders:
        rows.sort(key=lambda r: -r[1][metrics[0]])
    for kind, name, order_type, desc in reversed(orders):
        if kind == "metric":
            rows.sort(key=lambda r, n=name: r[1][n], reverse=desc)
        else:
            i = dims.index(name)
            if order_type == "NUMERIC":
                rows.sort(key=lambda r, i=i: (as_number(r[0][i]) is None, as_number(r[0][i]) or 0.0), reverse=desc)
            elif order_type == "CASE_INSENSITIVE_ALPHANUMERIC":
                rows.sort(key=lambda r, i=i: r[0][i].lower(), reverse=desc)
            else:
                rows.sort(key=lambda r, i=i: r[0][i], reverse=desc)
    types = {m: specs[m][2] for m in metrics}
    response: dict[str, Any] = {
        "dimensionHeaders": [{"name": d} for d in dims],
        "metricHeaders": [{"name": m, "type": types[m]} for m in metrics],
    }
    page = rows[offset : offset + limit]
    if page:
        response["rows"] = [
            {
                "dimensionValues": [{"value": v} for v in key],
                "metricValues": [{"value": _format(values[m], types[m])} for m in metrics],
            }
            for key, values, _sums in page
        ]
    buckets: list[tuple[str | None, list[tuple[RowKey, Row, list[float]]]]] = (
        [(None, rows)]
        if range_names is None
        else [(name, [r for r in rows if r[0][dims.index("dateRange")] == name]) for name in range_names]
    )
    for aggregation, field in (("TOTAL", "totals"), ("MAXIMUM", "maximums"), ("MINIMUM", "minimums")):
        if aggregation not in aggregations:
            continue
        out: list[dict[str, Any]] = []
        for range_name, members in buckets:
            labels = [range_name if d == "dateRange" else f"RESERVED_{aggregation}" for d in dims]
            metric_values: list[dict[str, str]] = []
            for m in metrics:
                if aggregation == "TOTAL":
                    if m in ADDITIVE:
                        value = sum(r[1][m] for r in members)
                    else:
                        sums = [sum(r[2][i] for r in members) for i in range(len(CELL_METRICS))]
                        value = specs[m][4](sums)
                else:
                    pick = max if aggregation == "MAXIMUM" else min
                    value = pick((r[1][m] for r in members), default=0.0)
                metric_values.append({"value": _format(value, types[m])})
            out.append({"dimensionValues": [{"value": v} for v in labels], "metricValues": metric_values})
        response[field] = out
    if rows:
        response["rowCount"] = len(rows)
    return response


# -- runRealtimeReport ------------------------------------------------------------------------


def run_realtime_report(world: World, prop: str, body: dict[str, Any], plan_only: bool = False) -> ReportRun:
    dims = field_names(body, "dimensions")
    metrics = field_names(body, "metrics")
    _check_names(dims, metrics, REALTIME_DIMENSIONS, REALTIME_METRICS, REALTIME_SCHEMA_URL)
    if not metrics and not dims:
        raise GoogleError(400, "A report needs at least one dimension or metric.")
    ranges = get_field(body, "minuteRanges", []) or [{}]
    if len(ranges) > 2:
        raise GoogleError(400, f"Requests are allowed up to 2 minute ranges; this request has {len(ranges)}.")
    spans = []
    for index, spec in enumerate(ranges):
        start = int_field(spec, "startMinutesAgo", 29)
        end = int_field(spec, "endMinutesAgo", 0)
        if not (0 <= end <= 29 and 0 <= start <= 29):
            raise GoogleError(
                400,
                f"Invalid minuteRange: startMinutesAgo ({start}) and endMinutesAgo ({end}) must "
                "be between 0 and 29 for a standard property.",
            )
        if end > start:
            raise GoogleError(400, f"Invalid minuteRange: startMinutesAgo ({start}) is before endMinutesAgo ({end}).")
        spans.append((start, end, get_field(spec, "name") or f"date_range_{index}"))
    out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, orders = _shape(
        body, dims, metrics, len(spans), lambda n: n in REALTIME_DIMENSIONS, lambda n: n in REALTIME_METRICS
    )
    limit = int_field(body, "limit", 0)
    if limit < 0:
        raise GoogleError(400, f"limit must be positive; got {limit}.")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    aggregations = [
        enum_name(a, AGGREGATIONS, "metric_aggregations", "TOTAL")
        for a in (get_field(body, "metricAggregations", []) or [])
    ]
    if plan_only:
        return {}, 0, False

    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    needed = set(out_dims) | filter_dims
    groups = [g for g in ("device", "country") if any(d in needed for d in GROUP_DIMS[g])]
    acc: dict[RowKey, list[float]] = {}
    oldest = max(s for s, _e, _n in spans)
    minutes = traffic.realtime(prop, range(oldest + 1))
    combos = _combos(groups, traffic.device_shares("Organic Search", today)) if groups else [({}, 1.0)]
    for start, end, name in spans:
        for path, ago, users, views, events, key_events in minutes:
            if not end <= ago <= start:
                continue
            state = traffic.state_on(path, today)
            base = {
                "unifiedScreenName": state.document_title if state else "(not set)",
                "minutesAgo": f"{ago:02d}",
                "platform": "web",
            }
            for split_values, weight in combos:
                row = {**base, **split_values}
                if dim_filter is not None and not dim_filter(row):
                    continue
                key = tuple(name if d == "dateRange" else row[d] for d in out_dims)
                target = acc.setdefault(key, [0.0] * len(CELL_METRICS))
                target[METRIC_INDEX["activeUsers"]] += users * weight
                target[METRIC_INDEX["screenPageViews"]] += views * weight
                target[METRIC_INDEX["eventCount"]] += events * weight
                target[METRIC_INDEX["keyEvents"]] += key_events * weight
    specs = {m: METRICS[m] for m in REALTIME_METRICS}
    response = _build(
        out_dims,
        metrics,
        specs,
        acc,
        metric_filter,
        filter_metrics,
        orders,
        limit,
        0,
        aggregations,
        [n for _s, _e, n in spans] if "dateRange" in out_dims else None,
        False,
    )
    response["kind"] = "analyticsData#runRealtimeReport"
    return response, 1, False
