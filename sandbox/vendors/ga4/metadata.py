"""GA4's schema as this property has it: the dimensions and metrics of the Data API and their metadata.

Dimensions come in three kinds, by where their value comes from: date dimensions (from the day),
cell dimensions (from the traffic model's analytics cell: landing page, channel, source) and split
dimensions (device, country, age, gender: fixed shares that fan each cell out). A metric is computed
from the summed ``CELL_METRICS`` vector of its rows, so rates stay right at every grouping. The
main property also has one custom dimension and one custom metric.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable

from ...traffic import AGE_BRACKETS, CELL_METRICS, COUNTRIES, DEVICES, GENDERS, MAIN_PROPERTY

SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
REALTIME_SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/realtime-api-schema"

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
CUSTOM_DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "customEvent:coffee_type": (
        "Coffee type",
        "Event-scoped custom dimension: the coffee a page is about (coffee_type parameter).",
        "Custom",
    )
}

# Metrics: api name -> (ui name, description, type, category, value from the sums vector)
MetricValue = Callable[[list[float]], float]
MetricSpec = tuple[str, str, str, str, MetricValue]
METRIC_INDEX = {name: i for i, name in enumerate(CELL_METRICS)}


def _ratio(a: str, b: str, complement: bool = False, cap: float | None = None) -> MetricValue:
    def value(s: list[float]) -> float:
        if not s[METRIC_INDEX[b]]:
            return 0.0
        r = s[METRIC_INDEX[a]] / s[METRIC_INDEX[b]]
        if cap is not None:
            r = min(cap, r)
        return 1.0 - r if complement else r

    return value


def _sum(name: str) -> MetricValue:
    index = METRIC_INDEX[name]
    return lambda s: s[index]


METRICS: dict[str, MetricSpec] = {
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
CUSTOM_METRICS: dict[str, MetricSpec] = {
    "customEvent:bag_weight": (
        "Bag weight",
        "Event-scoped custom metric: grams of coffee ordered (bag_weight parameter).",
        "TYPE_STANDARD",
        "Custom",
        _sum("customEvent:bag_weight"),
    )
}
INTEGER_TYPES = frozenset({"TYPE_INTEGER", "TYPE_SECONDS", "TYPE_STANDARD"})
ADDITIVE = frozenset(
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

REALTIME_DIMENSIONS: dict[str, tuple[str, str, str]] = {
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

# Split dimension values by group, with each value's share of a cell. A device's share depends on the
# cell's channel (``DEVICE_SHARES``), so its slot holds the device's index there instead.
SPLITS: dict[str, list[tuple[tuple[str, ...], float]]] = {
    "device": [((name,), i) for i, name in enumerate(DEVICES)],
    "country": [((name, iso2), share) for name, iso2, _iso3, share in COUNTRIES],
    "age": [((name,), share) for name, share in AGE_BRACKETS],
    "gender": [((name,), share) for name, share in GENDERS],
}
GROUP_DIMS = {
    "device": ("deviceCategory",),
    "country": ("country", "countryId"),
    "age": ("userAgeBracket",),
    "gender": ("userGender",),
}


def schema(prop: str) -> tuple[set[str], dict[str, MetricSpec]]:
    """The dimension names and metric specs of a property: the custom ones exist on the main property only."""
    dims = set(DATE_DIMENSIONS) | set(CELL_DIMENSIONS) | set(SPLIT_DIMENSIONS)
    metrics = dict(METRICS)
    if prop == MAIN_PROPERTY:
        dims |= set(CUSTOM_DIMENSIONS)
        metrics.update(CUSTOM_METRICS)
    return dims, metrics


def property_metadata(prop: str) -> dict[str, Any]:
    dimensions: list[dict[str, Any]] = []
    for name, (ui, description, _f) in DATE_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": "Time"})
    for name, (ui, description, category) in CELL_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": category})
    for name, (ui, description, category, _g) in SPLIT_DIMENSIONS.items():
        dimensions.append({"apiName": name, "uiName": ui, "description": description, "category": category})
    metrics: list[dict[str, Any]] = [
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
