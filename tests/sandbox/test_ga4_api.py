"""The GA4 Data API and the Admin API's account summaries, through the real Google SDKs over loopback HTTP.

``BetaAnalyticsDataClient(transport="rest", client_options=ClientOptions(api_endpoint="http://127.0.0.1:PORT"))``
keeps the http scheme of the endpoint, so the stock client talks to the sandbox unchanged; it sends
camelCase JSON with enums as integers, which is what most of these tests exercise.
"""

from __future__ import annotations

import html
import threading
import time
from datetime import date, timedelta

import google.oauth2.credentials
import httpx
import pytest
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    FilterExpressionList,
    Metric,
    MetricAggregation,
    MinuteRange,
    NumericValue,
    OrderBy,
    RunRealtimeReportRequest,
    RunReportRequest,
)
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from sandbox import World
from sandbox.vendors.ga4.api import run_report

from .conftest import google_token

MAIN, STAGING = "420000001", "420000002"
PROPERTY = f"properties/{MAIN}"
WEEK = [DateRange(start_date="7daysAgo", end_date="yesterday")]


@pytest.fixture
def token(sb) -> str:
    return google_token(sb, "https://www.googleapis.com/auth/analytics.readonly")


def client(sb, token: str) -> BetaAnalyticsDataClient:
    """The stock client pointed at the sandbox: an http:// api_endpoint keeps its scheme."""
    return BetaAnalyticsDataClient(
        credentials=google.oauth2.credentials.Credentials(token),
        transport="rest",
        client_options=ClientOptions(api_endpoint=sb.url),
    )


@pytest.fixture
def ga(sb, token) -> BetaAnalyticsDataClient:
    return client(sb, token)


def error_of(exc: exceptions.GoogleAPICallError) -> dict:
    """The ``error`` object of the HTTP answer behind an SDK exception."""
    assert exc.response is not None, "the SDK kept no HTTP response"
    return exc.response.json()["error"]


def signed_in_again(sb) -> BetaAnalyticsDataClient:
    """Access tokens live an hour of the world's monotonic time; tests that skip hours sign in again."""
    return client(sb, google_token(sb, "https://www.googleapis.com/auth/analytics.readonly"))


def report(ga, metrics=("sessions",), dimensions=(), date_ranges=None, prop=PROPERTY, **kwargs):
    return ga.run_report(
        RunReportRequest(
            property=prop,
            metrics=[Metric(name=m) for m in metrics],
            dimensions=[Dimension(name=d) for d in dimensions],
            date_ranges=date_ranges or WEEK,
            **kwargs,
        )
    )


def table(response) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [
        (tuple(v.value for v in r.dimension_values), tuple(v.value for v in r.metric_values)) for r in response.rows
    ]


def by_key(response) -> dict[tuple[str, ...], int]:
    return {dims: int(values[0]) for dims, values in table(response)}


def raw(sb, path: str, token: str | None, body: dict | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None:
        return httpx.get(sb.url + path, headers=headers)
    return httpx.post(sb.url + path, headers=headers, json=body)


def days_ago(sb, n: int) -> date:
    return sb.world.now().date() - timedelta(days=n)


# -- reports ------------------------------------------------------------------------------


def test_run_report_by_landing_page_speaks_the_wire_format(sb, ga):
    response = report(
        ga,
        ("sessions", "engagementRate", "averageSessionDuration", "keyEvents"),
        ("landingPage",),
        metric_aggregations=[MetricAggregation.TOTAL],
    )
    assert [h.name for h in response.dimension_headers] == ["landingPage"]
    assert [(h.name, h.type_.name) for h in response.metric_headers] == [
        ("sessions", "TYPE_INTEGER"),
        ("engagementRate", "TYPE_FLOAT"),
        ("averageSessionDuration", "TYPE_SECONDS"),
        ("keyEvents", "TYPE_INTEGER"),
    ]
    rows = table(response)
    assert response.row_count == len(rows) > 10
    assert response.kind == "analyticsData#runReport"
    assert response.metadata.currency_code == "USD" and response.metadata.time_zone
    live = {p.path for p in sb.world.pages()} | {"/"}
    assert {dims[0] for dims, _ in rows} <= live  # joinable with the CMS: real sandbox paths
    sessions = [int(values[0]) for _, values in rows]
    assert sessions == sorted(sessions, reverse=True)  # no orderBys: first metric, descending
    assert all(0 <= float(values[1]) <= 1 for _, values in rows)
    assert [v.value for v in response.totals[0].dimension_values] == ["RESERVED_TOTAL"]
    assert int(response.totals[0].metric_values[0].value) == sum(sessions)


def test_landing_pages_are_pages_the_sandbox_serves(sb, ga, anon):
    response = report(ga, ("sessions",), ("landingPage", "landingPagePlusQueryString", "pageTitle"), limit=200)
    for (path, with_query, title), _ in table(response)[:5]:
        assert with_query.startswith(path)
        page = anon.get(path)
        assert page.status_code == 200 and f"<title>{title}</title>" in html.unescape(page.text)


def test_channels_sources_and_query_strings(ga):
    rows = table(
        report(
            ga,
            ("sessions",),
            ("sessionDefaultChannelGroup", "sessionSource", "sessionMedium", "landingPagePlusQueryString"),
            limit=1000,
        )
    )
    channels = {dims[0] for dims, _ in rows}
    assert channels == {"Organic Search", "Direct", "Referral", "Email", "Paid Search", "Organic Social"}
    assert ("Organic Search", "google", "organic") in {dims[:3] for dims, _ in rows}
    assert all("utm_medium=email" in dims[3] for dims, _ in rows if dims[0] == "Email")
    assert all("?" not in dims[3] for dims, _ in rows if dims[0] == "Direct")


def test_split_dimensions_add_up_to_the_whole(ga):
    whole = int(table(report(ga))[0][1][0])
    for dimension, values in (
        ("deviceCategory", {"desktop", "mobile", "tablet"}),
        ("country", {"United States", "Canada", "United Kingdom"}),
    ):
        rows = table(report(ga, ("sessions",), (dimension,)))
        assert values <= {dims[0] for dims, _ in rows}
        assert abs(sum(int(v[0]) for _, v in rows) - whole) <= len(rows)  # fractional shares, rounded per row
    ids = table(report(ga, ("sessions",), ("country", "countryId")))
    assert ("United States", "US") in {dims for dims, _ in ids}


def test_two_date_ranges_add_the_dateRange_dimension(ga):
    ranges = [
        DateRange(start_date="14daysAgo", end_date="8daysAgo"),
        DateRange(start_date="7daysAgo", end_date="yesterday"),
    ]
    response = report(ga, ("sessions",), ("landingPage",), ranges, metric_aggregations=[MetricAggregation.TOTAL])
    assert [h.name for h in response.dimension_headers] == ["landingPage", "dateRange"]
    rows = table(response)
    assert {dims[1] for dims, _ in rows} == {"date_range_0", "date_range_1"}
    assert [[v.value for v in t.dimension_values] for t in response.totals] == [
        ["RESERVED_TOTAL", "date_range_0"],
        ["RESERVED_TOTAL", "date_range_1"],
    ]
    alone = int(table(report(ga, ("sessions",), (), [ranges[0]]))[0][1][0])
    assert int(response.totals[0].metric_values[0].value) == alone
    named = report(
        ga,
        ("sessions",),
        ("dateRange",),
        [
            DateRange(start_date="14daysAgo", end_date="8daysAgo", name="before"),
            DateRange(start_date="7daysAgo", end_date="yesterday", name="after"),
        ],
    )
    assert {dims[0] for dims, _ in table(named)} == {"before", "after"}


def test_date_dimensions(sb, ga):
    rows = table(
        report(
            ga,
            ("sessions",),
            ("date", "dayOfWeekName", "yearMonth"),
            order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name="date"))],
        )
    )
    first = days_ago(sb, 7)
    assert rows[0][0] == (first.strftime("%Y%m%d"), first.strftime("%A"), first.strftime("%Y%m"))
    assert [dims[0] for dims, _ in rows] == sorted(dims[0] for dims, _ in rows)
    assert len(rows) == 7


# -- filters, ordering, paging -------------------------------------------------------------


def string_filter(field: str, value: str, match=Filter.StringFilter.MatchType.EXACT, case=False):
    return FilterExpression(
        filter=Filter(
            field_name=field, string_filter=Filter.StringFilter(value=value, match_type=match, case_sensitive=case)
        )
    )


def test_dimension_filters(ga):
    everything = by_key(report(ga, ("sessions",), ("sessionDefaultChannelGroup",)))

    def channels(expression):
        return by_key(report(ga, ("sessions",), ("sessionDefaultChannelGroup",), dimension_filter=expression))

    M = Filter.StringFilter.MatchType
    assert channels(string_filter("sessionDefaultChannelGroup", "organic search")) == {
        ("Organic Search",): everything[("Organic Search",)]
    }  # case-insensitive by default
    assert channels(string_filter("sessionDefaultChannelGroup", "organic search", case=True)) == {}
    assert set(channels(string_filter("sessionDefaultChannelGroup", "Organic", M.BEGINS_WITH))) == {
        ("Organic Search",),
        ("Organic Social",),
    }
    assert set(channels(string_filter("sessionDefaultChannelGroup", "search", M.ENDS_WITH))) == {
        ("Organic Search",),
        ("Paid Search",),
    }
    assert set(channels(string_filter("sessionDefaultChannelGroup", "ai", M.CONTAINS))) == {
        ("Email",),
        ("Paid Search",),
    }
    assert set(channels(string_filter("sessionDefaultChannelGroup", "(Direct|Email)", M.FULL_REGEXP))) == {
        ("Direct",),
        ("Email",),
    }
    assert set(channels(string_filter("sessionDefaultChannelGroup", "ir", M.PARTIAL_REGEXP))) == {("Direct",)}
    in_list = FilterExpression(
        filter=Filter(
            field_name="sessionDefaultChannelGroup", in_list_filter=Filter.InListFilter(values=["Direct", "Referral"])
        )
    )
    assert set(channels(in_list)) == {("Direct",), ("Referral",)}
    assert set(channels(FilterExpression(not_expression=in_list))) == set(everything) - {("Direct",), ("Referral",)}
    both = FilterExpression(
        and_group=FilterExpressionList(
            expressions=[
                string_filter("sessionDefaultChannelGroup", "Organic", M.BEGINS_WITH),
                string_filter("sessionSource", "google"),
            ]
        )
    )
    assert set(channels(both)) == {("Organic Search",)}
    either = FilterExpression(
        or_group=FilterExpressionList(
            expressions=[string_filter("sessionDefaultChannelGroup", "Email"), string_filter("sessionMedium", "cpc")]
        )
    )
    assert set(channels(either)) == {("Email",), ("Paid Search",)}
    # A filter on a dimension the report does not show.
    home = channels(string_filter("landingPage", "/"))
    assert 0 < sum(home.values()) < sum(everything.values())


def test_metric_filters_numeric_and_between(ga):
    pages = by_key(report(ga, ("sessions",), ("landingPage",)))
    busy = FilterExpression(
        filter=Filter(
            field_name="sessions",
            numeric_filter=Filter.NumericFilter(
                operation=Filter.NumericFilter.Operation.GREATER_THAN, value=NumericValue(int64_value=100)
            ),
        )
    )
    assert by_key(report(ga, ("sessions",), ("landingPage",), metric_filter=busy)) == {
        k: v for k, v in pages.items() if v > 100
    }
    between = FilterExpression(
        filter=Filter(
            field_name="sessions",
            between_filter=Filter.BetweenFilter(
                from_value=NumericValue(int64_value=10), to_value=NumericValue(double_value=60.0)
            ),
        )
    )
    assert by_key(report(ga, ("sessions",), ("landingPage",), metric_filter=between)) == {
        k: v for k, v in pages.items() if 10 <= v <= 60
    }


def test_order_bys_and_paging(ga):
    order = [
        OrderBy(metric=OrderBy.MetricOrderBy(metric_name="sessions"), desc=False),
        OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name="landingPage")),
    ]
    whole = report(ga, ("sessions",), ("landingPage",), order_bys=order)
    rows = table(whole)
    assert [int(v[0]) for _, v in rows] == sorted(int(v[0]) for _, v in rows)
    pages = []
    offset = 0
    while True:
        part = report(ga, ("sessions",), ("landingPage",), order_bys=order, limit=4, offset=offset)
        assert part.row_count == whole.row_count
        if not part.rows:
            break
        pages += table(part)
        offset += 4
    assert pages == rows
    by_name = table(
        report(
            ga,
            ("sessions",),
            ("landingPage",),
            order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name="landingPage"), desc=True)],
        )
    )
    assert [d for d, _ in by_name] == sorted((d for d, _ in by_name), reverse=True)
    numeric = table(
        report(
            ga,
            ("sessions",),
            ("date",),
            order_bys=[
                OrderBy(
                    dimension=OrderBy.DimensionOrderBy(
                        dimension_name="date", order_type=OrderBy.DimensionOrderBy.OrderType.NUMERIC
                    ),
                    desc=True,
                )
            ],
        )
    )
    assert [d[0] for d, _ in numeric] == sorted((d[0] for d, _ in numeric), reverse=True)


def test_totals_minimums_and_maximums(ga):
    response = report(
        ga,
        ("sessions", "bounceRate"),
        ("sessionDefaultChannelGroup",),
        metric_aggregations=[MetricAggregation.TOTAL, MetricAggregation.MAXIMUM, MetricAggregation.MINIMUM],
    )
    sessions = [int(v[0]) for _, v in table(response)]
    assert int(response.totals[0].metric_values[0].value) == sum(sessions)
    assert int(response.maximums[0].metric_values[0].value) == max(sessions)
    assert int(response.minimums[0].metric_values[0].value) == min(sessions)
    assert response.maximums[0].dimension_values[0].value == "RESERVED_MAXIMUM"
    assert 0 < float(response.totals[0].metric_values[1].value) < 1


def test_enum_names_are_accepted_as_well_as_integers(sb, token):
    body = {
        "dateRanges": [{"startDate": "7daysAgo", "endDate": "yesterday"}],
        "metrics": [{"name": "sessions"}],
        "dimensions": [{"name": "sessionDefaultChannelGroup"}],
        "metricAggregations": ["TOTAL"],
        "dimensionFilter": {
            "filter": {
                "fieldName": "sessionDefaultChannelGroup",
                "stringFilter": {"matchType": "CONTAINS", "value": "organic"},
            }
        },
        "orderBys": [
            {"dimension": {"dimensionName": "sessionDefaultChannelGroup", "orderType": "CASE_INSENSITIVE_ALPHANUMERIC"}}
        ],
        "limit": "10",
        "offset": "0",
    }
    response = raw(sb, f"/v1beta/{PROPERTY}:runReport", token, body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [r["dimensionValues"][0]["value"] for r in data["rows"]] == ["Organic Search", "Organic Social"]
    assert data["metricHeaders"] == [{"name": "sessions", "type": "TYPE_INTEGER"}]
    assert data["rowCount"] == 2 and data["totals"][0]["dimensionValues"] == [{"value": "RESERVED_TOTAL"}]


# -- freshness, incidents, determinism ---------------------------------------------------------


def test_freshness_today_is_absent_and_yesterday_partial(sb, ga):
    first = days_ago(sb, 3)
    absolute = [DateRange(start_date=str(first), end_date=str(days_ago(sb, 0)))]
    before = by_key(report(ga, ("sessions",), ("date",), absolute))
    assert sorted(before) == [((first + timedelta(days=i)).strftime("%Y%m%d"),) for i in range(3)]
    yesterday = (days_ago(sb, 1).strftime("%Y%m%d"),)
    sb.world.advance(days=3)
    after = by_key(report(ga, ("sessions",), ("date",), absolute))
    assert after[(first.strftime("%Y%m%d"),)] == before[(first.strftime("%Y%m%d"),)]  # final stays put
    assert 0.6 < before[yesterday] / after[yesterday] < 0.8
    assert (days_ago(sb, 3).strftime("%Y%m%d"),) in after  # the old "today" now reported in full


def test_tracking_outage_empties_ga4_days_but_not_search_console(sb, ga, token):
    sb.world.configure(incidents={"tracking_outage": {"day": -10, "days": 2}})
    days = [DateRange(start_date=str(days_ago(sb, 14)), end_date=str(days_ago(sb, 6)))]
    kept = by_key(report(ga, ("sessions",), ("date",), days, keep_empty_rows=True))
    outage = {(days_ago(sb, 10).strftime("%Y%m%d"),), (days_ago(sb, 9).strftime("%Y%m%d"),)}
    normal = [v for k, v in kept.items() if k not in outage]
    assert outage <= set(kept) and all(kept[k] <= 0.05 * min(normal) for k in outage)
    with_empty = table(report(ga, ("sessions",), ("date", "landingPage"), days, keep_empty_rows=True, limit=5000))
    without = table(report(ga, ("sessions",), ("date", "landingPage"), days, limit=5000))
    empty = [dims for dims, values in with_empty if values == ("0",)]
    assert empty and {dims[:1] for dims in empty} <= outage  # only the outage leaves pages at zero...
    assert [r for r in with_empty if r[1] != ("0",)] == without  # ...and those rows are left out by default
    clicks = {}
    for row in sb.world.traffic.search_day(days_ago(sb, 10)) + sb.world.traffic.search_day(days_ago(sb, 12)):
        clicks[row[1]] = clicks.get(row[1], 0) + row[3]
    assert sum(clicks.values()) > 100  # Search Console still sees the clicks
    incidents = httpx.get(sb.url + "/_sandbox/incidents").json()["incidents"]
    outage_spec = next(i for i in incidents if i["name"] == "tracking_outage")
    assert outage_spec["start"] == str(days_ago(sb, 10)) and outage_spec["affects"] == ["ga4"]


def test_weekly_seasonality_and_holiday_bump(sb, ga):
    rows = by_key(report(ga, ("sessions",), ("dayOfWeek",), [DateRange(start_date="84daysAgo", end_date="29daysAgo")]))
    weekend = rows[("0",)] + rows[("6",)]
    weekday = sum(v for k, v in rows.items() if k not in (("0",), ("6",)))
    assert weekend / 2 < 0.9 * weekday / 5
    window = [DateRange(start_date="20daysAgo", end_date="10daysAgo")]
    before = int(table(report(ga, ("sessions",), (), window))[0][1][0])
    sb.world.configure(incidents={"holiday_bump": {"day": -20, "days": 11, "factor": 1.5}})
    during = int(table(report(ga, ("sessions",), (), window))[0][1][0])
    assert during > 1.3 * before
    sb.world.configure(incidents=False)
    flat = by_key(report(ga, ("sessions",), ("dayOfWeek",), [DateRange(start_date="84daysAgo", end_date="29daysAgo")]))
    assert (flat[("0",)] + flat[("6",)]) / 2 > 0.9 * sum(v for k, v in flat.items() if k not in (("0",), ("6",))) / 5


def test_same_seed_same_numbers():
    body = {
        "dateRanges": [{"startDate": "60daysAgo", "endDate": "yesterday"}],
        "metrics": [{"name": "sessions"}, {"name": "keyEvents"}, {"name": "bounceRate"}],
        "dimensions": [{"name": "landingPage"}, {"name": "country"}],
    }
    first = run_report(World(seed=0), MAIN, body)[0]
    assert first == run_report(World(seed=0), MAIN, body)[0]
    assert first != run_report(World(seed=1), MAIN, body)[0]


def test_reports_do_not_depend_on_what_was_asked_before(sb, ga):
    one = table(report(ga, ("sessions",), ("landingPage",)))
    report(ga, ("sessions",), ("country", "date"), [DateRange(start_date="100daysAgo", end_date="yesterday")])
    sb.world.reset()  # same seed; tokens from before a reset are dead, so sign in again
    assert table(report(signed_in_again(sb), ("sessions",), ("landingPage",))) == one


# -- metadata, realtime, properties ---------------------------------------------------------------


def test_metadata_lists_every_field_with_custom_ones_on_the_main_property(ga):
    meta = ga.get_metadata(name=f"{PROPERTY}/metadata")
    dims = {d.api_name: d for d in meta.dimensions}
    metrics = {m.api_name: m for m in meta.metrics}
    assert {
        "date",
        "landingPage",
        "landingPagePlusQueryString",
        "pagePath",
        "sessionDefaultChannelGroup",
        "sessionSource",
        "sessionMedium",
        "deviceCategory",
        "country",
    } <= set(dims)
    assert {
        "sessions",
        "engagedSessions",
        "conversions",
        "keyEvents",
        "totalUsers",
        "newUsers",
        "screenPageViews",
        "bounceRate",
        "averageSessionDuration",
        "engagementRate",
    } <= set(metrics)
    assert dims["customEvent:coffee_type"].custom_definition and not dims["landingPage"].custom_definition
    assert metrics["customEvent:bag_weight"].custom_definition
    assert metrics["bounceRate"].type_.name == "TYPE_FLOAT" and dims["country"].category == "Geography"
    staging = ga.get_metadata(name=f"properties/{STAGING}/metadata")
    assert not any(d.custom_definition for d in staging.dimensions)
    common = ga.get_metadata(name="properties/0/metadata")
    assert len(common.metrics) == len(staging.metrics)
    rows = table(report(ga, ("customEvent:bag_weight", "keyEvents"), ("customEvent:coffee_type",)))
    assert {"single origin", "(not set)"} & {d[0] for d, _ in rows}
    with pytest.raises(exceptions.BadRequest, match="customEvent:coffee_type is not a valid dimension"):
        report(ga, ("sessions",), ("customEvent:coffee_type",), prop=f"properties/{STAGING}")


def test_staging_has_little_data(ga):
    main = int(table(report(ga))[0][1][0])
    staging = table(report(ga, prop=f"properties/{STAGING}"))
    assert staging and int(staging[0][1][0]) < main / 50


def test_realtime_report(sb, ga):
    response = ga.run_realtime_report(
        RunRealtimeReportRequest(
            property=PROPERTY,
            dimensions=[Dimension(name="unifiedScreenName")],
            metrics=[Metric(name="activeUsers")],
            metric_aggregations=[MetricAggregation.TOTAL],
        )
    )
    rows = table(response)
    assert response.kind == "analyticsData#runRealtimeReport" and rows
    titles = {p.document_title for p in sb.world.pages()}
    assert {d[0] for d, _ in rows} - titles <= {sb.world.traffic.state_on("/", sb.world.now().date()).document_title}
    total = int(response.totals[0].metric_values[0].value)
    recent = ga.run_realtime_report(
        RunRealtimeReportRequest(
            property=PROPERTY,
            metrics=[Metric(name="activeUsers")],
            minute_ranges=[MinuteRange(start_minutes_ago=4, end_minutes_ago=0)],
        )
    )
    assert int(recent.rows[0].metric_values[0].value) < total
    by_minute = table(
        ga.run_realtime_report(
            RunRealtimeReportRequest(
                property=PROPERTY,
                dimensions=[Dimension(name="minutesAgo"), Dimension(name="deviceCategory")],
                metrics=[Metric(name="activeUsers")],
            )
        )
    )
    assert {d[0] for d, _ in by_minute} <= {f"{m:02d}" for m in range(30)}
    with pytest.raises(exceptions.BadRequest, match="landingPage is not a valid dimension"):
        ga.run_realtime_report(
            RunRealtimeReportRequest(
                property=PROPERTY, dimensions=[Dimension(name="landingPage")], metrics=[Metric(name="activeUsers")]
            )
        )
    with pytest.raises(exceptions.BadRequest, match="between 0 and 29"):
        ga.run_realtime_report(
            RunRealtimeReportRequest(
                property=PROPERTY,
                metrics=[Metric(name="activeUsers")],
                minute_ranges=[MinuteRange(start_minutes_ago=45)],
            )
        )


def test_unknown_property_is_permission_denied(sb, ga, token):
    with pytest.raises(
        exceptions.Forbidden,
        match="User does not have sufficient permissions for this property. To learn more about Property ID",
    ):
        report(ga, prop="properties/123456")
    body = raw(sb, "/v1beta/properties/123456:runReport", token, {"metrics": [{"name": "sessions"}]}).json()
    assert body["error"]["code"] == 403 and body["error"]["status"] == "PERMISSION_DENIED"
    assert raw(sb, "/v1beta/properties/abc:runReport", token, {}).json()["error"]["code"] == 400


# -- errors -------------------------------------------------------------------------------------


def test_bad_metric_and_dimension_names(ga):
    with pytest.raises(exceptions.BadRequest) as err:
        report(ga, ("bogusMetric",))
    assert error_of(err.value)["message"] == (
        "Field bogusMetric is not a valid metric. For a list of valid dimensions and metrics, see "
        "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
    )
    with pytest.raises(exceptions.BadRequest, match="Field landingPaige is not a valid dimension"):
        report(ga, ("sessions",), ("landingPaige",))
    with pytest.raises(exceptions.BadRequest, match="Field sesions is not a valid metric"):
        report(
            ga,
            metric_filter=FilterExpression(
                filter=Filter(
                    field_name="sesions",
                    numeric_filter=Filter.NumericFilter(
                        operation=Filter.NumericFilter.Operation.GREATER_THAN, value=NumericValue(int64_value=1)
                    ),
                )
            ),
        )


def test_bad_dates(ga):
    with pytest.raises(exceptions.BadRequest, match="2026-13-01"):
        report(ga, date_ranges=[DateRange(start_date="2026-13-01", end_date="today")])
    with pytest.raises(exceptions.BadRequest, match="last week"):
        report(ga, date_ranges=[DateRange(start_date="last week", end_date="today")])
    with pytest.raises(exceptions.BadRequest, match=r"startDate \(2026-10-20\) is after endDate \(2026-10-10\)"):
        report(ga, date_ranges=[DateRange(start_date="2026-10-20", end_date="2026-10-10")])
    with pytest.raises(exceptions.BadRequest, match="at least one dateRange"):
        ga.run_report(RunReportRequest(property=PROPERTY, metrics=[Metric(name="sessions")]))


def test_auth_failures(sb, ga):
    missing = raw(sb, f"/v1beta/{PROPERTY}:runReport", None, {})
    assert missing.status_code == 401
    error = missing.json()["error"]
    assert error["status"] == "UNAUTHENTICATED" and error["message"].startswith(
        "Request is missing required authentication credential. Expected OAuth 2 access token"
    )
    assert missing.headers["www-authenticate"].startswith('Bearer realm="https://accounts.google.com/"')
    bad = raw(sb, f"/v1beta/{PROPERTY}:runReport", "ya29.nope", {})
    assert bad.status_code == 401 and bad.json()["error"]["message"].startswith(
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
        "authentication credential."
    )
    assert bad.json()["error"]["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    webmasters_only = google_token(sb, "https://www.googleapis.com/auth/webmasters.readonly")
    client = BetaAnalyticsDataClient(
        credentials=google.oauth2.credentials.Credentials(webmasters_only),
        transport="rest",
        client_options=ClientOptions(api_endpoint=sb.url),
    )
    with pytest.raises(exceptions.Forbidden, match="Request had insufficient authentication scopes."):
        report(client)
    with pytest.raises(RefreshError):  # google-auth answers a 401 by trying to refresh, which a bare token cannot
        report(
            BetaAnalyticsDataClient(
                credentials=google.oauth2.credentials.Credentials("ya29.nope"),
                transport="rest",
                client_options=ClientOptions(api_endpoint=sb.url),
            )
        )


def test_injected_faults_speak_google_and_count_as_server_errors(sb, ga):
    sb.world.configure(ga4_server_errors_per_project_per_hour=2)
    rule = sb.world.faults.add("status", path=f"/v1beta/{PROPERTY}:runReport", status=503, times=2)
    for _ in range(2):
        with pytest.raises(exceptions.ServiceUnavailable):
            report(ga)
    assert rule.hits == 2
    with pytest.raises(exceptions.TooManyRequests, match="Exhausted server errors per project per hour"):
        report(ga)
    sb.world.monotonic.advance(3600)
    assert table(report(signed_in_again(sb)))


# -- quotas -------------------------------------------------------------------------------------


def quota_of(response) -> dict[str, tuple[int, int]]:
    q = response.property_quota
    return {
        name: (getattr(q, name).consumed, getattr(q, name).remaining)
        for name in (
            "tokens_per_day",
            "tokens_per_hour",
            "concurrent_requests",
            "server_errors_per_project_per_hour",
            "potentially_thresholded_requests_per_hour",
            "tokens_per_project_per_hour",
        )
    }


def test_property_quota_is_charged_and_reported(ga):
    first = quota_of(report(ga, ("sessions",), ("landingPage",), return_property_quota=True))
    # 1 token per report + 1 per 1000 cells read: a week of landing pages is a few hundred cells.
    assert first["tokens_per_day"] == (2, 199_998) and first["tokens_per_hour"] == (2, 39_998)
    assert first["tokens_per_project_per_hour"] == (2, 13_998)
    assert first["concurrent_requests"] == (1, 9)
    assert first["server_errors_per_project_per_hour"] == (0, 10)
    long = quota_of(
        report(
            ga,
            ("sessions",),
            ("country", "deviceCategory"),
            [DateRange(start_date="100daysAgo", end_date="yesterday")],
            return_property_quota=True,
        )
    )
    assert long["tokens_per_hour"][0] - 2 > 20
    demographic = quota_of(report(ga, ("sessions",), ("userAgeBracket",), return_property_quota=True))
    assert demographic["potentially_thresholded_requests_per_hour"] == (1, 119)
    assert not report(ga).property_quota.tokens_per_day.consumed  # only when asked for


def test_exhausted_tokens_per_hour_until_the_hour_passes(sb, ga, mono):
    response = httpx.post(sb.url + "/_sandbox/config", json={"ga4_tokens_per_hour": 5})
    assert response.status_code == 200 and response.json()["google"]["ga4_tokens_per_hour"] == 5
    spent = 0
    while spent < 5:
        spent = report(ga, return_property_quota=True).property_quota.tokens_per_hour.consumed
    with pytest.raises(exceptions.TooManyRequests) as err:
        report(ga)
    message = error_of(err.value)["message"]
    assert message.startswith("Exhausted property tokens per hour for a property.")
    assert error_of(err.value)["status"] == "RESOURCE_EXHAUSTED"
    assert table(report(ga, prop=f"properties/{STAGING}"))  # another property has its own quota
    mono.advance(3601)
    assert table(report(signed_in_again(sb)))


def test_tokens_per_day_and_per_project(sb, ga, mono):
    sb.world.configure(ga4_tokens_per_day=3)
    report(ga)
    report(ga)
    with pytest.raises(exceptions.TooManyRequests, match="tokens per day"):
        report(ga)
    mono.advance(86_401)
    sb.world.configure(ga4_tokens_per_day=200_000, ga4_tokens_per_project_per_hour=2)
    ga = signed_in_again(sb)
    report(ga)
    with pytest.raises(exceptions.TooManyRequests, match="tokens per project per hour"):
        report(ga)
    other_project_token = google_token(sb, "https://www.googleapis.com/auth/analytics")
    assert (
        raw(
            sb,
            f"/v1beta/{PROPERTY}:runReport",
            other_project_token,
            {"metrics": [{"name": "sessions"}], "dateRanges": [{"startDate": "7daysAgo", "endDate": "yesterday"}]},
        ).status_code
        == 429
    )  # the same OAuth client is the same project


def test_the_eleventh_concurrent_request_is_refused(sb, token):
    body = {"metrics": [{"name": "sessions"}], "dateRanges": [{"startDate": "7daysAgo", "endDate": "yesterday"}]}
    assert httpx.post(sb.url + "/_sandbox/config", json={"ga4_hold": True}).status_code == 200
    results: list[int] = []

    def call() -> None:
        results.append(raw(sb, f"/v1beta/{PROPERTY}:runReport", token, body).status_code)

    threads = [threading.Thread(target=call) for _ in range(10)]
    try:
        for thread in threads:
            thread.start()
        quota = sb.world.google.quota(MAIN, "core")
        deadline = time.monotonic() + 10
        while quota.in_flight < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert quota.in_flight == 10
        refused = raw(sb, f"/v1beta/{PROPERTY}:runReport", token, body)
        assert refused.status_code == 429
        assert refused.json()["error"]["message"].startswith("Exhausted concurrent requests for a property.")
    finally:
        sb.world.configure(ga4_hold=False)
        for thread in threads:
            thread.join(10)
    assert results == [200] * 10


# -- the Admin API ---------------------------------------------------------------------------------


def test_account_summaries_through_googleapiclient(sb, token):
    admin = build(
        "analyticsadmin",
        "v1beta",
        credentials=google.oauth2.credentials.Credentials(token),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": sb.url + "/"},
    )
    listed = admin.accountSummaries().list(pageSize=1).execute()
    assert "nextPageToken" not in listed
    [summary] = listed["accountSummaries"]
    assert summary["name"] == "accountSummaries/100" and summary["account"] == "accounts/100"
    assert summary["displayName"] == "Northwind Coffee Roasters"
    assert summary["propertySummaries"] == [
        {
            "property": f"properties/{MAIN}",
            "displayName": "Northwind Coffee \u2014 web",
            "propertyType": "PROPERTY_TYPE_ORDINARY",
            "parent": "accounts/100",
        },
        {
            "property": f"properties/{STAGING}",
            "displayName": "Northwind Coffee \u2014 staging",
            "propertyType": "PROPERTY_TYPE_ORDINARY",
            "parent": "accounts/100",
        },
    ]
    with pytest.raises(HttpError) as err:
        admin.accountSummaries().list(pageToken="garbage!").execute()
    assert err.value.resp.status == 400
    webmasters_only = google_token(sb, "https://www.googleapis.com/auth/webmasters")
    denied = build(
        "analyticsadmin",
        "v1beta",
        credentials=google.oauth2.credentials.Credentials(webmasters_only),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": sb.url + "/"},
    )
    with pytest.raises(HttpError) as err:
        denied.accountSummaries().list().execute()
    assert err.value.resp.status == 403 and "insufficient authentication scopes" in str(err.value)


def test_the_transport_class_with_url_scheme_http_also_works(sb, token):
    transport = BetaAnalyticsDataClient.get_transport_class("rest")(
        credentials=google.oauth2.credentials.Credentials(token), host=sb.url.removeprefix("http://"), url_scheme="http"
    )
    client = BetaAnalyticsDataClient(transport=transport)
    assert table(report(client))
