"""Google's per-property and per-site bookkeeping: GA4 quotas, Search Console limits, submitted sitemaps.

Windows measure real elapsed seconds through ``world.monotonic`` (tests inject
``ManualMonotonic``), like every vendor rate limit of the sandbox. The limits
themselves are settings (``GOOGLE_DEFAULTS``), changeable through
``POST /_sandbox/config`` so tests can exhaust them cheaply.

GA4 token cost of one request (documented for the servers that budget it):

    runReport          1 + ceil(cells / 1000)
    runRealtimeReport  1
    getMetadata        0 (not charged, like the real API)

where ``cells`` is the number of fact cells the report reads: one per
(landing page, day, channel, source) of the model in every requested date
range, multiplied by the number of values of each device / country / age /
gender dimension the request uses (dimensions or filters). A 7-day report by
landing page costs about 3 tokens; 120 days by country about 30.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from ...ratelimit import RollingWindow

GOOGLE_DEFAULTS: dict[str, Any] = {
    "ga4_tokens_per_day": 200_000,
    "ga4_tokens_per_hour": 40_000,
    "ga4_tokens_per_project_per_hour": 14_000,
    "ga4_concurrent_requests": 10,
    "ga4_server_errors_per_project_per_hour": 10,
    "ga4_thresholded_requests_per_hour": 120,
    "gsc_queries_per_minute": 1200,
    "gsc_inspections_per_minute": 600,
    "gsc_inspections_per_day": 2000,
}
# Transient switches: not kept across reset.
GOOGLE_SWITCHES = ("ga4_hold",)


def check_google_setting(name: str, value: Any) -> Any:
    if name in GOOGLE_SWITCHES:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    least = 1 if name.startswith("gsc_") else 0
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}")
    return value


class WeightedWindow:
    """Amounts recorded over a rolling window of ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._events: deque[tuple[float, int]] = deque()
        self._total = 0

    def used(self, now: float) -> int:
        while self._events and self._events[0][0] <= now - self.seconds:
            self._total -= self._events.popleft()[1]
        return self._total

    def add(self, now: float, amount: int) -> None:
        self.used(now)
        if amount:
            self._events.append((now, amount))
            self._total += amount

    def retry_after(self, now: float) -> int:
        self.used(now)
        if not self._events:
            return 0
        return max(1, int(self._events[0][0] + self.seconds - now + 0.999))


@dataclass
class PropertyQuota:
    """One GA4 property's quota in one category (core reports or realtime)."""

    day: WeightedWindow = field(default_factory=lambda: WeightedWindow(86_400))
    hour: WeightedWindow = field(default_factory=lambda: WeightedWindow(3_600))
    project_hour: dict[str, WeightedWindow] = field(default_factory=dict)
    server_errors: dict[str, WeightedWindow] = field(default_factory=dict)
    thresholded: WeightedWindow = field(default_factory=lambda: WeightedWindow(3_600))
    in_flight: int = 0

    def project(self, project: str) -> WeightedWindow:
        return self.project_hour.setdefault(project, WeightedWindow(3_600))

    def errors(self, project: str) -> WeightedWindow:
        return self.server_errors.setdefault(project, WeightedWindow(3_600))


@dataclass
class Sitemap:
    path: str  # site-relative ("/wp-sitemap.xml") or a full URL outside the request's base
    submitted: datetime
    downloaded: datetime | None = None


class GoogleState:
    """Mutable Google-side state of one world build."""

    def __init__(self, settings: dict[str, Any], monotonic: Callable[[], float], start: datetime) -> None:
        self.settings = settings  # shared with the world's config, so limits survive reset
        self.monotonic = monotonic
        self.hold = False  # GA4 requests wait (holding their concurrency slot) while true
        self.quotas: dict[tuple[str, str], PropertyQuota] = {}
        self.gsc_query_windows: dict[str, RollingWindow] = {}
        self.gsc_inspect_minute: dict[str, RollingWindow] = {}
        self.gsc_inspect_day: dict[str, RollingWindow] = {}
        preloaded = Sitemap("/wp-sitemap.xml", start - timedelta(days=200), start - timedelta(hours=20))
        self.sitemaps: dict[str, dict[str, Sitemap]] = {
            "url": {preloaded.path: preloaded},
            "domain": {preloaded.path: Sitemap(**vars(preloaded))},
        }

    def quota(self, prop: str, category: str) -> PropertyQuota:
        return self.quotas.setdefault((prop, category), PropertyQuota())

    def limit(self, name: str) -> int:
        return int(self.settings[name])

    def window(self, table: dict[str, RollingWindow], key: str, limit: int, seconds: float) -> RollingWindow:
        window = table.get(key)
        if window is None or window.limit != limit:
            window = table[key] = RollingWindow(limit, seconds)
        return window
