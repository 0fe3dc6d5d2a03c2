"""Google Analytics 4: the Data API v1beta and the Admin API's account summaries.

Paths are the ones the REST transports of the real SDKs call (the real hosts are
analyticsdata.googleapis.com and analyticsadmin.googleapis.com):

    POST /v1beta/properties/{id}:runReport
    POST /v1beta/properties/{id}:runRealtimeReport
    GET  /v1beta/properties/{id}/metadata          (id 0: the metadata common to every property)
    GET  /v1beta/accountSummaries                  (Admin API, pageSize / pageToken)

Requests arrive as proto3 JSON: camelCase names (snake_case accepted too),
int64 values as strings, enums as integers (google-api-core sends
``use_integers_for_enums``) or names. Answers are proto3 JSON with enums as
names, and errors are Google's ``{"error": {"code", "message", "status"}}``.

Auth: a bearer token from the sandbox's Google OAuth server with an analytics
scope. Quotas per property and category (core, realtime): tokens per day and
hour, tokens per project (OAuth client) and hour, concurrent requests, server
errors per project and hour, potentially thresholded requests per hour; see
``google.state`` for the token cost.
"""

from __future__ import annotations

import asyncio
import base64
import math
import re
from datetime import date, timedelta
from itertools import product
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from ...traffic import (
    AGE_BRACKETS,
    CELL_METRICS,
    COUNTRIES,
    DEVICE_SHARES,
    DEVICES,
    GENDERS,
    MAIN_PROPERTY,
    STAGING_PROPERTY,
)
from ...world import World
from ..google.errors import ANALYTICS_READ, GoogleError, authorize, dumps, json_body
from ..google.state import PropertyQuota

DATA_SERVICE = "analyticsdata.googleapis.com"
ADMIN_SERVICE = "analyticsadmin.googleapis.com"
ACCOUNT = {"id": "100", "name": "Northwind Coffee Roasters"}
PROPERTIES = {MAIN_PROPERTY: "Northwind Coffee \u2014 web", STAGING_PROPERTY: "Northwind Coffee \u2014 staging"}
TIME_ZONE = "Etc/UTC"  # the business clock's dates are UTC dates
SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
REALTIME_SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/realtime-api-schema"
PROPERTY_ID_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/property-id"
QUOTAS_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas"
MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000

# -- the schema ----------------------------------------------------------------------------

_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _gweek(d: date) -> str:
    """GA4's week of the year: weeks start on Sunday, week 00 holds the days before the first Sunday."""
    first = date(d.year, 1, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return "00" if d < first_sunday else f"{(d - first_sunday).days // 7 + 1:02d}"


# Date dimensions: api name -> (ui name, description, value of a date)
DATE_DIMENSIONS: dict[str, tuple[str, str, Callable[[date], str]]] = {
    "date": ("Date", "The date of the event, formatted as YYYYMMDD.", lambda d: d.strftime("%Y%m%d")),
    "year": ("Year", "The four-digit year of the event.", lambda d: f"{d.year:04d}"),
    "month": ("Month", "The month of the event, a two digit integer from 01 to 12.", lambda d: f"{d.month:02d}"),
    "day": ("Day", "The day of the month, a two-digit number from 01 to 31.", lambda d: f"{d.day:02d}"),
    "yearMonth": ("Year month", "The combined values of year and month.", lambda d: d.strftime("%Y%m")),
    "week": ("Week", "The week of the event, a two-digit number from 00 to 53. Weeks start on Sunday.", _gweek),
    "yearWeek": ("Year week", "The combined values of year and week.", lambda d: f"{d.year:04d}{_gweek(d)}"),
    "isoWeek": (
        "ISO week of the year",
        "ISO week number; ISO weeks begin with Monday.",
        lambda d: f"{d.isocalendar()[1]:02d}",
    ),
    "isoYear": ("ISO year", "The ISO year of the event.", lambda d: f"{d.isocalendar()[0]:04d}"),
    "isoYearIsoWeek": (
        "ISO week of ISO year",
        "The combined values of isoWeek and isoYear.",
        lambda d: f"{d.isocalendar()[0]:04d}{d.isocalendar()[1]:02d}",
    ),
    "dayOfWeek": ("Day of week", "The integer day of the week; Sunday is 0.", lambda d: str((d.weekday() + 1) % 7)),
    "dayOfWeekName": (
        "Day of week name",
        "The day of the week in English.",
        lambda d: _WEEKDAYS[(d.weekday() + 1) % 7],
    ),
}
# Cell dimensions: api name -> (ui name, description, category)
CELL_DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "landingPage": ("Landing page", "The page path associated with the first pageview in a session.", "Page / screen"),
    "landingPagePlusQueryString": (
        "Landing page + query string",
        "The page path + query string of the first pageview in a session.",
        "Page / screen",
    ),
    "pagePath": ("Page path", "The portion of the URL between the hostname and query string.", "Page / screen"),
    "pagePathPlusQueryString": (
        "Page path + query string",
        "The portion of the URL following the hostname.",
        "Page / screen",
    ),
    "pageTitle": ("Page title", "The web page titles used on your site.", "Page / screen"),
    "sessionDefaultChannelGroup": (
        "Session default channel group",
        "The session's default channel group, based primarily on source and medium.",
        "Traffic source",
    ),
    "sessionSource": ("Session source", "The source that initiated a session on your website.", "Traffic source"),
    "sessionMedium": ("Session medium", "The medium that initiated a session on your website.", "Traffic source"),
    "sessionSourceMedium": (
        "Session source / medium",
        "The combined values of sessionSource and sessionMedium.",
        "Traffic source",
    ),
    "sessionCampaignName": ("Session campaign", "The marketing campaign name for a session.", "Traffic source"),
    "platform": ("Platform", "The platform on which your app or website ran.", "Platform / device"),
}
# Split dimensions: api name -> (ui name, description, category, group)
SPLIT_DIMENSIONS: dict[str, tuple[str, str, str, str]] = {
    "deviceCategory": (
        "Device category",
        "The type of device: Desktop, Tablet, or Mobile.",
        "Platform / device",
        "device",
    ),
    "country": ("Country", "The country from which the user activity originated.", "Geography", "country"),
    "countryId": (
        "Country ID",
        "The geographic ID of the country, formatted according to ISO 3166-1 alpha-2.",
        "Geography",
        "country",
    ),
    "userAgeBracket": ("Age", "User age brackets.", "Demographics", "age"),
    "userGender": ("Gender", "User gender.", "Demographics", "gender"),
}
THRESHOLDED = frozenset({"userAgeBracket", "userGender"})
CUSTOM_DIMENSIONS = {
    "customEvent:coffee_type": (
        "Coffee type",
        "Event-scoped custom dimension: the coffee a page is about (coffee_type parameter).",
        "Custom",
    )
}

# Metrics: api name -> (ui name, description, type, category, value from the sums vector)
_I = {name: i for i, name in enumerate(CELL_METRICS)}


def _ratio(a: str, b: str, complement: bool = False, cap: float | None = None) -> Callable[[list[float]], float]:
    def value(s: list[float]) -> float:
        if not s[_I[b]]:
            return 0.0
        r = s[_I[a]] / s[_I[b]]
        if cap is not None:
            r = min(cap, r)
        return 1.0 - r if complement else r

    return value


def _sum(name: str) -> Callable[[list[float]], float]:
    index = _I[name]
    return lambda s: s[index]


METRICS: dict[str, tuple[str, str, str, str, Callable[[list[float]], float]]] = {
    "sessions": (
        "Sessions",
        "The number of sessions that began on your site.",
        "TYPE_INTEGER",
        "Session",
        _sum("sessions"),
    ),
    "engagedSessions": (
        "Engaged sessions",
        "The number of sessions that lasted longer than 10 seconds, had a key event, or had 2 or more screen views.",
        "TYPE_INTEGER",
        "Session",
        _sum("engagedSessions"),
    ),
    "totalUsers": (
        "Total users",
        "The number of distinct users who have logged at least one event.",
        "TYPE_INTEGER",
        "User",
        _sum("totalUsers"),
    ),
    "newUsers": (
        "New users",
        "The number of users who interacted with your site for the first time.",
        "TYPE_INTEGER",
        "User",
        _sum("newUsers"),
    ),
    "activeUsers": (
        "Active users",
        "The number of distinct users who visited your site.",
        "TYPE_INTEGER",
        "User",
        _sum("activeUsers"),
    ),
    "screenPageViews": (
        "Views",
        "The number of app screens or web pages your users viewed.",
        "TYPE_INTEGER",
        "Page / screen",
        _sum("screenPageViews"),
    ),
    "keyEvents": ("Key events", "The count of key events.", "TYPE_INTEGER", "Event", _sum("keyEvents")),
    "conversions": (
        "Conversions",
        "The count of conversion events (now key events).",
        "TYPE_INTEGER",
        "Event",
        _sum("keyEvents"),
    ),
    "eventCount": ("Event count", "The count of events.", "TYPE_INTEGER", "Event", _sum("eventCount")),
    "userEngagementDuration": (
        "User engagement",
        "The total amount of time (in seconds) your website was in the foreground of users' devices.",
        "TYPE_SECONDS",
        "User",
        _sum("userEngagementDuration"),
    ),
    "averageSessionDuration": (
        "Average session duration",
        "The average duration (in seconds) of users' sessions.",
        "TYPE_SECONDS",
        "Session",
        _ratio("sessionDuration", "sessions"),
    ),
    "bounceRate": (
        "Bounce rate",
        "The percentage of sessions that were not engaged.",
        "TYPE_FLOAT",
        "Session",
        _ratio("engagedSessions", "sessions", complement=True),
    ),
    "engagementRate": (
        "Engagement rate",
        "The percentage of engaged sessions.",
        "TYPE_FLOAT",
        "Session",
        _ratio("engagedSessions", "sessions"),
    ),
    "screenPageViewsPerSession": (
        "Views per session",
        "The number of views per session.",
        "TYPE_FLOAT",
        "Page / screen",
        _ratio("screenPageViews", "sessions"),
    ),
    "sessionsPerUser": (
        "Sessions per user",
        "The average number of sessions per user.",
        "TYPE_FLOAT",
        "Session",
        _ratio("sessions", "totalUsers"),
    ),
    "eventsPerSession": (
        "Events per session",
        "The average number of events per session.",
        "TYPE_FLOAT",
        "Event",
        _ratio("eventCount", "sessions"),
    ),
    "sessionKeyEventRate": (
        "Session key event rate",
        "The percentage of sessions in which any key event was triggered.",
        "TYPE_FLOAT",
        "Session",
        _ratio("keyEvents", "sessions", cap=1.0),
    ),
}
CUSTOM_METRICS = {
    "customEvent:bag_weight": (
        "Bag weight",
        "Event-scoped custom metric: grams of coffee ordered (bag_weight parameter).",
        "TYPE_STANDARD",
        "Custom",
        _sum("customEvent:bag_weight"),
    )
}
INTEGER_TYPES = frozenset({"TYPE_INTEGER", "TYPE_SECONDS", "TYPE_STANDARD"})
_ADDITIVE = frozenset(
    {
        "sessions",
        "engagedSessions",
        "totalUsers",
        "newUsers",
        "activeUsers",
        "screenPageViews",
        "keyEvents",
        "conversions",
        "eventCount",
        "userEngagementDuration",
        "customEvent:bag_weight",
    }
)

REALTIME_DIMENSIONS = {
    "unifiedScreenName": (
        "Page title and screen name",
        "The page title (web) or screen name (app) on which the event was logged.",
        "Page / screen",
    ),
    "minutesAgo": (
        "Realtime minutes ago",
        "The number of minutes ago that an event was collected. 00 is the current minute.",
        "Time",
    ),
    "platform": CELL_DIMENSIONS["platform"],
    "deviceCategory": SPLIT_DIMENSIONS["deviceCategory"][:3],
    "country": SPLIT_DIMENSIONS["country"][:3],
    "countryId": SPLIT_DIMENSIONS["countryId"][:3],
}
REALTIME_METRICS = ("activeUsers", "screenPageViews", "eventCount", "keyEvents", "conversions")

_SPLITS: dict[str, list[tuple[tuple[str, ...], Any]]] = {
    "device": [((name,), i) for i, name in enumerate(DEVICES)],
    "country": [((name, iso2), share) for name, iso2, _iso3, share in COUNTRIES],
    "age": [((name,), share) for name, share in AGE_BRACKETS],
    "gender": [((name,), share) for name, share in GENDERS],
}
_GROUP_DIMS = {
    "device": ("deviceCategory",),
    "country": ("country", "countryId"),
    "age": ("userAgeBracket",),
    "gender": ("userGender",),
}

MATCH_TYPES = {
    0: "EXACT",
    1: "EXACT",
    2: "BEGINS_WITH",
    3: "ENDS_WITH",
    4: "CONTAINS",
    5: "FULL_REGEXP",
    6: "PARTIAL_REGEXP",
}
OPERATIONS = {1: "EQUAL", 2: "LESS_THAN", 3: "LESS_THAN_OR_EQUAL", 4: "GREATER_THAN", 5: "GREATER_THAN_OR_EQUAL"}
ORDER_TYPES = {0: "ALPHANUMERIC", 1: "ALPHANUMERIC", 2: "CASE_INSENSITIVE_ALPHANUMERIC", 3: "NUMERIC"}
AGGREGATIONS = {1: "TOTAL", 4: "COUNT", 5: "MINIMUM", 6: "MAXIMUM"}


# -- HTTP entry points ------------------------------------------------------------------------


async def handle(request: Request, world: World, rest: str) -> Response:
    """Everything under ``/v1beta/``: the Data API and the Admin API's account summaries."""
    try:
        if rest == "accountSummaries":
            if request.method != "GET":
                raise _not_allowed(request)
            authorize(
                world,
                request.headers,
                ANALYTICS_READ,
                service=ADMIN_SERVICE,
                method="google.analytics.admin.v1beta.AnalyticsAdminService.ListAccountSummaries",
            )
            return _json(account_summaries(dict(request.query_params)))
        match = re.fullmatch(r"properties/([^/:]+)(?::(runReport|runRealtimeReport)|/(metadata))", rest)
        if match is None:
            raise GoogleError(404, f"Method not found: {request.method} /v1beta/{rest}")
        prop_id, rpc, metadata = match.groups()
        rpc = rpc or "getMetadata"
        if (request.method != "GET") if metadata else (request.method != "POST"):
            raise _not_allowed(request)
        method = f"google.analytics.data.v1beta.BetaAnalyticsData.{rpc[0].upper()}{rpc[1:]}"
        grant = authorize(world, request.headers, ANALYTICS_READ, service=DATA_SERVICE, method=method)
        prop = _property(prop_id, allow_zero=bool(metadata))
        if metadata:
            return _json(property_metadata(prop))
        body = await json_body(request, legacy=False)
        project = grant.client_id
        if rpc == "runReport":
            return await _metered(world, prop, "core", project, body, run_report)
        return await _metered(world, prop, "realtime", project, body, run_realtime_report)
    except GoogleError as err:
        return _json(err.body(), err.code, err.headers)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, headers=headers, media_type="application/json; charset=UTF-8")


def _not_allowed(request: Request) -> GoogleError:
    return GoogleError(404, f"Method not found: {request.method} {request.url.path}")


def _property(prop_id: str, *, allow_zero: bool = False) -> str:
    if not prop_id.isdigit():
        raise GoogleError(
            400,
            f"Invalid property ID: {prop_id}. A numeric Property ID is required. To learn more "
            f"about Property ID, see {PROPERTY_ID_URL}.",
        )
    prop = str(int(prop_id))
    if prop in PROPERTIES or (allow_zero and prop == "0"):
        return prop
    raise GoogleError(
        403,
        "User does not have sufficient permissions for this property. To learn more about "
        f"Property ID, see {PROPERTY_ID_URL}.",
    )


# -- quotas ------------------------------------------------------------------------------------


def _exhausted(what: str) -> GoogleError:
    return GoogleError(429, f"Exhausted {what} for a property. To learn more about quotas, see {QUOTAS_URL}.")


async def _metered(
    world: World,
    prop: str,
    category: str,
    project: str,
    body: dict[str, Any],
    run: Callable[[World, str, dict[str, Any]], tuple[dict[str, Any], int, bool]],
) -> Response:
    with world.lock:
        plan = run(world, prop, body, plan_only=True)  # validation errors come before quota checks
        state = world.google
        quota = state.quota(prop, category)
        _check(state, quota, project, thresholded=plan[2])
        quota.in_flight += 1
    try:
        while world.google.hold:
            await asyncio.sleep(0.005)
        with world.lock:
            response, cost, thresholded = run(world, prop, body)
            now = state.monotonic()
            quota.day.add(now, cost)
            quota.hour.add(now, cost)
            quota.project(project).add(now, cost)
            if thresholded:
                quota.thresholded.add(now, 1)
            if _flag(body, "returnPropertyQuota"):
                response["propertyQuota"] = _quota_json(state, quota, project)
    finally:
        with world.lock:
            quota.in_flight -= 1
    return _json(response)


def _check(state: Any, quota: PropertyQuota, project: str, *, thresholded: bool) -> None:
    now = state.monotonic()
    if quota.day.used(now) >= state.limit("ga4_tokens_per_day"):
        raise _exhausted("property tokens per day")
    if quota.hour.used(now) >= state.limit("ga4_tokens_per_hour"):
        raise _exhausted("property tokens per hour")
    if quota.project(project).used(now) >= state.limit("ga4_tokens_per_project_per_hour"):
        raise _exhausted("property tokens per project per hour")
    if quota.errors(project).used(now) >= state.limit("ga4_server_errors_per_project_per_hour"):
        raise _exhausted("server errors per project per hour")
    if thresholded and quota.thresholded.used(now) >= state.limit("ga4_thresholded_requests_per_hour"):
        raise _exhausted("potentially thresholded requests per hour")
    if quota.in_flight >= state.limit("ga4_concurrent_requests"):
        raise _exhausted("concurrent requests")


def _quota_json(state: Any, quota: PropertyQuota, project: str) -> dict[str, Any]:
    now = state.monotonic()

    def status(used: int, limit: str) -> dict[str, int]:
        return {"consumed": used, "remaining": max(0, state.limit(limit) - used)}

    return {
        "tokensPerDay": status(quota.day.used(now), "ga4_tokens_per_day"),
        "tokensPerHour": status(quota.hour.used(now), "ga4_tokens_per_hour"),
        "concurrentRequests": status(quota.in_flight, "ga4_concurrent_requests"),
        "serverErrorsPerProjectPerHour": status(
            quota.errors(project).used(now), "ga4_server_errors_per_project_per_hour"
        ),
        "potentiallyThresholdedRequestsPerHour": status(
            quota.thresholded.used(now), "ga4_thresholded_requests_per_hour"
        ),
        "tokensPerProjectPerHour": status(quota.project(project).used(now), "ga4_tokens_per_project_per_hour"),
    }


def note_server_error(world: World, scope: dict[str, Any], status: int) -> None:
    """An injected 5xx on a Data API call counts against serverErrorsPerProjectPerHour, as a real one would."""
    if status < 500:
        return
    match = re.fullmatch(r"/v1beta/properties/(\d+):(runReport|runRealtimeReport)", scope.get("path", ""))
    if match is None:
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    from ..google.errors import bearer

    token = bearer(headers.get("authorization"))
    with world.lock:
        grant = world.oauth.check("google", token) if token else None
        prop = str(int(match.group(1)))
        if grant is None or prop not in PROPERTIES:
            return
        category = "core" if match.group(2) == "runReport" else "realtime"
        state = world.google
        state.quota(prop, category).errors(grant.client_id).add(state.monotonic(), 1)


# -- request parsing ---------------------------------------------------------------------------


def _get(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    if camel in obj:
        return obj[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return obj.get(snake, default)


def _flag(obj: dict[str, Any], camel: str) -> bool:
    value = _get(obj, camel, False)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(obj: dict[str, Any], camel: str, default: int) -> int:
    value = _get(obj, camel)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GoogleError(400, f"Invalid value at '{_snake(camel)}' ({value!r}): expected an integer.") from None


def _snake(camel: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)


def _enum(value: Any, names: dict[int, str], where: str, default: str) -> str:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        value = None
    elif isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        name = names.get(int(value))
        if name is not None:
            return name
    elif isinstance(value, str) and value in names.values():
        return value
    raise GoogleError(
        400, f"Invalid value at '{where}' ({value!r}): not one of {', '.join(sorted(set(names.values())))}."
    )


def _names(body: dict[str, Any], field: str) -> list[str]:
    items = _get(body, field, []) or []
    if not isinstance(items, list):
        raise GoogleError(400, f"Invalid value at '{_snake(field)}': expected a list.")
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise GoogleError(400, f"Field {field[:-1]} must have a name.")
        names.append(name)
    return names


def _parse_date(value: Any, today: date, which: str) -> date:
    if not isinstance(value, str) or not value:
        raise GoogleError(
            400, f"Field {which} is required in every dateRange. Use YYYY-MM-DD, NdaysAgo, yesterday, or today."
        )
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    relative = re.fullmatch(r"(\d+)daysAgo", value)
    if relative:
        return today - timedelta(days=int(relative.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GoogleError(
        400, f"Invalid {which} '{value}' in dateRanges. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, or today."
    )


# -- filters ---------------------------------------------------------------------------------


def _compile(
    expr: Any, valid: Callable[[str], bool], kind: str, used: set[str], depth: int = 0
) -> Callable[[dict], bool]:
    where = "dimensionFilter" if kind == "dimension" else "metricFilter"
    if not isinstance(expr, dict) or depth > 20:
        raise GoogleError(400, f"Invalid {where}: expected a FilterExpression object.")
    for group, combine in (("andGroup", all), ("orGroup", any)):
        value = _get(expr, group)
        if value is not None:
            parts = [_compile(e, valid, kind, used, depth + 1) for e in (_get(value, "expressions", []) or [])]
            return lambda row, parts=parts, combine=combine: combine(p(row) for p in parts)
    inner = _get(expr, "notExpression")
    if inner is not None:
        part = _compile(inner, valid, kind, used, depth + 1)
        return lambda row: not part(row)
    spec = _get(expr, "filter")
    if spec is None:
        return lambda row: True
    name = _get(spec, "fieldName")
    if not isinstance(name, str) or not valid(name):
        raise GoogleError(
            400, f"Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, see {SCHEMA_URL}"
        )
    used.add(name)
    string = _get(spec, "stringFilter")
    if string is not None:
        match = _enum(_get(string, "matchType"), MATCH_TYPES, f"{where}.filter.string_filter.match_type", "EXACT")
        case = _flag(string, "caseSensitive")
        wanted = str(_get(string, "value", ""))
        if match in ("FULL_REGEXP", "PARTIAL_REGEXP"):
            try:
                pattern = re.compile(wanted, 0 if case else re.IGNORECASE)
            except re.error as exc:
                raise GoogleError(400, f"Invalid regular expression '{wanted}' for field {name}: {exc}.") from None
            test = pattern.fullmatch if match == "FULL_REGEXP" else pattern.search
            return lambda row: test(str(row.get(name, ""))) is not None
        folded = wanted if case else wanted.lower()
        ops = {
            "EXACT": lambda v: v == folded,
            "BEGINS_WITH": lambda v: v.startswith(folded),
            "ENDS_WITH": lambda v: v.endswith(folded),
            "CONTAINS": lambda v: folded in v,
        }
        op = ops[match]
        return lambda row: op(str(row.get(name, "")) if case else str(row.get(name, "")).lower())
    in_list = _get(spec, "inListFilter")
    if in_list is not None:
        case = _flag(in_list, "caseSensitive")
        values = {str(v) if case else str(v).lower() for v in (_get(in_list, "values", []) or [])}
        return lambda row: (str(row.get(name, "")) if case else str(row.get(name, "")).lower()) in values
    numeric = _get(spec, "numericFilter")
    if numeric is not None:
        op = _enum(_get(numeric, "operation"), OPERATIONS, f"{where}.filter.numeric_filter.operation", "")
        if not op:
            raise GoogleError(400, f"Field {name}: numericFilter needs an operation.")
        target = _number(_get(numeric, "value"), name)
        compare = {
            "EQUAL": lambda v: v == target,
            "LESS_THAN": lambda v: v < target,
            "LESS_THAN_OR_EQUAL": lambda v: v <= target,
            "GREATER_THAN": lambda v: v > target,
            "GREATER_THAN_OR_EQUAL": lambda v: v >= target,
        }[op]
        return lambda row: _as_number(row.get(name)) is not None and compare(_as_number(row.get(name)))
    between = _get(spec, "betweenFilter")
    if between is not None:
        low, high = _number(_get(between, "fromValue"), name), _number(_get(between, "toValue"), name)
        return lambda row: _as_number(row.get(name)) is not None and low <= _as_number(row.get(name)) <= high
    if _get(spec, "emptyFilter") is not None:
        return lambda row: str(row.get(name, "")) in ("", "(not set)")
    raise GoogleError(
        400, f"Filter on field {name} has no stringFilter, inListFilter, numericFilter, betweenFilter or emptyFilter."
    )


def _number(value: Any, name: str) -> float:
    if value is None:
        return 0.0  # proto3 JSON leaves out an empty NumericValue
    if isinstance(value, dict):
        for key in ("int64Value", "int64_value", "doubleValue", "double_value"):
            if key in value:
                try:
                    return float(value[key])
                except (TypeError, ValueError):
                    break
        else:
            return 0.0  # proto3 JSON leaves out a zero value
    raise GoogleError(400, f"Field {name}: the filter's value must be a NumericValue (int64Value or doubleValue).")


def _as_number(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# -- runReport --------------------------------------------------------------------------------


def _schema(prop: str) -> tuple[set[str], dict[str, tuple]]:
    dims = set(DATE_DIMENSIONS) | set(CELL_DIMENSIONS) | set(SPLIT_DIMENSIONS)
    metrics = dict(METRICS)
    if prop == MAIN_PROPERTY:
        dims |= set(CUSTOM_DIMENSIONS)
        metrics.update(CUSTOM_METRICS)
    return dims, metrics


def _completeness(day: date, today: date) -> float:
    """GA4 processing lag: nothing for today, ~70% of yesterday, ~95% of the day before, final after that."""
    age = (today - day).days
    return 0.0 if age <= 0 else 0.7 if age == 1 else 0.95 if age == 2 else 1.0


def _check_names(dims: list[str], metrics: list[str], valid_dims: Any, valid_metrics: Any, schema_url: str) -> None:
    for kind, names, valid in (("dimension", dims, valid_dims), ("metric", metrics, valid_metrics)):
        for name in names:
            if name not in valid and (kind, name) != ("dimension", "dateRange"):
                raise GoogleError(
                    400,
                    f"Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, see {schema_url}",
                )


def run_report(world: World, prop: str, body: dict[str, Any], plan_only: bool = False) -> tuple[Any, int, bool]:
    valid_dims, metric_specs = _schema(prop)
    dims = _names(body, "dimensions")
    metrics = _names(body, "metrics")
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
    ranges = _get(body, "dateRanges", []) or []
    if not ranges:
        raise GoogleError(400, "Must specify at least one dateRange.")
    if len(ranges) > 4:
        raise GoogleError(400, f"Requests are allowed up to 4 date ranges; this request has {len(ranges)}.")
    spans = []
    for index, spec in enumerate(ranges):
        if not isinstance(spec, dict):
            raise GoogleError(400, "Each dateRange must be an object with startDate and endDate.")
        start = _parse_date(_get(spec, "startDate"), today, "startDate")
        end = _parse_date(_get(spec, "endDate"), today, "endDate")
        if start > end:
            raise GoogleError(
                400,
                f"Invalid dateRange: startDate ({start.isoformat()}) is after endDate "
                f"({end.isoformat()}). startDate cannot be after endDate.",
            )
        name = _get(spec, "name") or f"date_range_{index}"
        if _get(spec, "name") and str(name).startswith(("date_range_", "RESERVED_")):
            raise GoogleError(400, f"Date range name {name} cannot begin with 'date_range_' or 'RESERVED_'.")
        spans.append((start, end, name))
    out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, orders = _shape(
        body, dims, metrics, len(spans), lambda n: n in valid_dims, lambda n: n in metric_specs
    )
    limit = _int(body, "limit", 0)
    offset = _int(body, "offset", 0)
    if limit < 0:
        raise GoogleError(400, f"limit must be positive; got {limit}.")
    if offset < 0:
        raise GoogleError(400, f"offset must be non-negative; got {offset}.")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    aggregations = [
        _enum(a, AGGREGATIONS, "metric_aggregations", "TOTAL") for a in (_get(body, "metricAggregations", []) or [])
    ]
    needed = [d for d in dict.fromkeys([*out_dims, *sorted(filter_dims)]) if d != "dateRange"]
    thresholded = any(d in THRESHOLDED for d in needed)
    if plan_only:
        return None, 0, thresholded

    traffic = world.traffic
    traffic.observe()
    groups = [g for g in _SPLITS if any(d in needed for d in _GROUP_DIMS[g])]
    plain = [d for d in needed if d not in SPLIT_DIMENSIONS]
    fan = 1
    for g in groups:
        fan *= len(_SPLITS[g])
    last = today - timedelta(days=1)
    pre: dict[tuple, list[float]] = {}
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
                    cell[1] if groups else "",
                    tuple(_cell_value(traffic, name, cell, day, date_values) for name in plain),
                )
                acc = pre.get(key)
                if acc is None:
                    pre[key] = list(values)
                else:
                    for i, v in enumerate(values):
                        acc[i] += v
            day += timedelta(days=1)
    rows_acc: dict[tuple, list[float]] = {}
    range_names = [name for _s, _e, name in spans]
    for (index, channel, plain_values), sums in pre.items():
        base = dict(zip(plain, plain_values))
        combos = _combos(groups, channel) if groups else [({}, 1.0)]
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
        _flag(body, "keepEmptyRows"),
    )
    response["metadata"] = {"currencyCode": "USD", "timeZone": TIME_ZONE}
    response["kind"] = "analyticsData#runReport"
    return response, cost, thresholded


def _cell_value(traffic: Any, name: str, cell: tuple, day: date, date_values: dict[str, str]) -> str:
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


def _combos(groups: list[str], channel: str) -> list[tuple[dict[str, str], float]]:
    options = []
    for group in groups:
        names = _GROUP_DIMS[group]
        choices = []
        for values, share in _SPLITS[group]:
            weight = DEVICE_SHARES.get(channel, DEVICE_SHARES["Organic Search"])[share] if group == "device" else share
            choices.append((dict(zip(names, values)), weight))
        options.append(choices)
    out = []
    for combo in product(*options):
        values: dict[str, str] = {}
        weight = 1.0
        for part, w in combo:
            values.update(part)
            weight *= w
        out.append((values, weight))
    return out


def _shape(body: Any, dims: list[str], metrics: list[str], ranges: int, dimension_ok: Any, metric_ok: Any) -> tuple:
    """What a report returns and filters on: output dimensions (dateRange added for several ranges), the
    compiled dimension and metric filters with the names they use, and the orderings."""
    out_dims = list(dims)
    if ranges > 1 and "dateRange" not in out_dims:
        out_dims.append("dateRange")
    filter_dims: set[str] = set()
    filter_metrics: set[str] = set()
    dim_filter = metric_filter = None
    if _get(body, "dimensionFilter"):
        dim_filter = _compile(_get(body, "dimensionFilter"), dimension_ok, "dimension", filter_dims)
    if _get(body, "metricFilter"):
        metric_filter = _compile(_get(body, "metricFilter"), metric_ok, "metric", filter_metrics)
    return out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, _orders(body, out_dims, metrics)


def _orders(body: dict[str, Any], dims: list[str], metrics: list[str]) -> list[tuple[str, str, str, bool]]:
    out = []
    for spec in _get(body, "orderBys", []) or []:
        if not isinstance(spec, dict):
            raise GoogleError(400, "Each orderBy must be an object.")
        desc = _flag(spec, "desc")
        metric = _get(spec, "metric")
        dimension = _get(spec, "dimension")
        if metric is not None:
            name = _get(metric, "metricName")
            if name not in metrics:
                raise GoogleError(400, f"OrderBy metric {name} must be one of the metrics in the request.")
            out.append(("metric", name, "NUMERIC", desc))
        elif dimension is not None:
            name = _get(dimension, "dimensionName")
            if name not in dims:
                raise GoogleError(400, f"OrderBy dimension {name} must be one of the dimensions in the request.")
            order_type = _enum(
                _get(dimension, "orderType"), ORDER_TYPES, "order_bys.dimension.order_type", "ALPHANUMERIC"
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
    specs: dict[str, tuple],
    acc: dict[tuple, list[float]],
    metric_filter: Callable | None,
    filter_metrics: set[str],
    orders: list,
    limit: int,
    offset: int,
    aggregations: list[str],
    range_names: list[str] | None,
    keep_empty: bool,
) -> dict[str, Any]:
    wanted = list(dict.fromkeys([*metrics, *sorted(filter_metrics)]))
    rows = []
    for key, sums in acc.items():
        values = {}
        for name in wanted:
            _ui, _desc, mtype, _cat, fn = specs[name]
            raw = fn(sums)
            values[name] = float(round(raw)) if name in _ADDITIVE else raw
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
                rows.sort(key=lambda r, i=i: (_as_number(r[0][i]) is None, _as_number(r[0][i]) or 0.0), reverse=desc)
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
    buckets: list[tuple[str | None, list]] = (
        [(None, rows)]
        if range_names is None
        else [(name, [r for r in rows if r[0][dims.index("dateRange")] == name]) for name in range_names]
    )
    for aggregation, field in (("TOTAL", "totals"), ("MAXIMUM", "maximums"), ("MINIMUM", "minimums")):
        if aggregation not in aggregations:
            continue
        out = []
        for range_name, members in buckets:
            labels = [range_name if d == "dateRange" else f"RESERVED_{aggregation}" for d in dims]
            values = []
            for m in metrics:
                if aggregation == "TOTAL":
                    if m in _ADDITIVE:
                        value = sum(r[1][m] for r in members)
                    else:
                        sums = [sum(r[2][i] for r in members) for i in range(len(CELL_METRICS))]
                        value = specs[m][4](sums)
                else:
                    pick = max if aggregation == "MAXIMUM" else min
                    value = pick((r[1][m] for r in members), default=0.0)
                values.append({"value": _format(value, types[m])})
            out.append({"dimensionValues": [{"value": v} for v in labels], "metricValues": values})
        response[field] = out
    if rows:
        response["rowCount"] = len(rows)
    return response


# -- runRealtimeReport ------------------------------------------------------------------------


def run_realtime_report(
    world: World, prop: str, body: dict[str, Any], plan_only: bool = False
) -> tuple[Any, int, bool]:
    dims = _names(body, "dimensions")
    metrics = _names(body, "metrics")
    _check_names(dims, metrics, REALTIME_DIMENSIONS, REALTIME_METRICS, REALTIME_SCHEMA_URL)
    if not metrics and not dims:
        raise GoogleError(400, "A report needs at least one dimension or metric.")
    ranges = _get(body, "minuteRanges", []) or [{}]
    if len(ranges) > 2:
        raise GoogleError(400, f"Requests are allowed up to 2 minute ranges; this request has {len(ranges)}.")
    spans = []
    for index, spec in enumerate(ranges):
        start = _int(spec, "startMinutesAgo", 29)
        end = _int(spec, "endMinutesAgo", 0)
        if not (0 <= end <= 29 and 0 <= start <= 29):
            raise GoogleError(
                400,
                f"Invalid minuteRange: startMinutesAgo ({start}) and endMinutesAgo ({end}) must "
                "be between 0 and 29 for a standard property.",
            )
        if end > start:
            raise GoogleError(400, f"Invalid minuteRange: startMinutesAgo ({start}) is before endMinutesAgo ({end}).")
        spans.append((start, end, _get(spec, "name") or f"date_range_{index}"))
    out_dims, dim_filter, metric_filter, filter_dims, filter_metrics, orders = _shape(
        body, dims, metrics, len(spans), lambda n: n in REALTIME_DIMENSIONS, lambda n: n in REALTIME_METRICS
    )
    limit = _int(body, "limit", 0)
    if limit < 0:
        raise GoogleError(400, f"limit must be positive; got {limit}.")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    aggregations = [
        _enum(a, AGGREGATIONS, "metric_aggregations", "TOTAL") for a in (_get(body, "metricAggregations", []) or [])
    ]
    if plan_only:
        return None, 0, False

    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    needed = set(out_dims) | filter_dims
    groups = [g for g in ("device", "country") if any(d in needed for d in _GROUP_DIMS[g])]
    acc: dict[tuple, list[float]] = {}
    oldest = max(s for s, _e, _n in spans)
    minutes = traffic.realtime(prop, range(oldest + 1))
    for index, (start, end, name) in enumerate(spans):
        for path, ago, users, views, events, key_events in minutes:
            if not end <= ago <= start:
                continue
            state = traffic.state_on(path, today)
            base = {
                "unifiedScreenName": state.document_title if state else "(not set)",
                "minutesAgo": f"{ago:02d}",
                "platform": "web",
            }
            for split_values, weight in _combos(groups, "Organic Search") if groups else [({}, 1.0)]:
                row = {**base, **split_values}
                if dim_filter is not None and not dim_filter(row):
                    continue
                key = tuple(name if d == "dateRange" else row[d] for d in out_dims)
                target = acc.setdefault(key, [0.0] * len(CELL_METRICS))
                target[_I["activeUsers"]] += users * weight
                target[_I["screenPageViews"]] += views * weight
                target[_I["eventCount"]] += events * weight
                target[_I["keyEvents"]] += key_events * weight
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


# -- metadata and account summaries -----------------------------------------------------------


def property_metadata(prop: str) -> dict[str, Any]:
    dimensions = []
    for name, (ui, description, _f) in DATE_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": "Time"})
    for name, (ui, description, category) in CELL_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": category})
    for name, (ui, description, category, _g) in SPLIT_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": category})
    metrics = [
        {"apiName": name, "uiName": ui, "description": description, "type": mtype, "category": category}
        for name, (ui, description, mtype, category, _f) in METRICS.items()
    ]
    if prop == MAIN_PROPERTY:
        for name, (ui, description, category) in CUSTOM_DIMENSIONS.items():
            dimensions.append(
                {
                    "apiName": name,
                    "uiName": ui,
                    "description": description,
                    "category": category,
                    "customDefinition": True,
                }
            )
        for name, (ui, description, mtype, category, _f) in CUSTOM_METRICS.items():
            metrics.append(
                {
                    "apiName": name,
                    "uiName": ui,
                    "description": description,
                    "type": mtype,
                    "category": category,
                    "customDefinition": True,
                }
            )
    return {"name": f"properties/{prop}/metadata", "dimensions": dimensions, "metrics": metrics}


def account_summaries(query: dict[str, str]) -> dict[str, Any]:
    try:
        size = int(query.get("pageSize") or 50)
    except ValueError:
        raise GoogleError(
            400, f"Invalid value at 'page_size' ({query.get('pageSize')!r}): expected an integer."
        ) from None
    if size < 0:
        raise GoogleError(400, "page_size must not be negative.")
    size = min(size or 50, 200)
    start = 0
    token = query.get("pageToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError):
            raise GoogleError(400, "The page token is invalid.") from None
    account = f"accounts/{ACCOUNT['id']}"
    summaries = [
        {
            "name": f"accountSummaries/{ACCOUNT['id']}",
            "account": account,
            "displayName": ACCOUNT["name"],
            "propertySummaries": [
                {
                    "property": f"properties/{prop}",
                    "displayName": name,
                    "propertyType": "PROPERTY_TYPE_ORDINARY",
                    "parent": account,
                }
                for prop, name in PROPERTIES.items()
            ],
        }
    ]
    page = summaries[start : start + size]
    body: dict[str, Any] = {"accountSummaries": page} if page else {}
    if start + size < len(summaries):
        body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
    return body
