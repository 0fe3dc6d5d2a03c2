"""The GA4 Data API and Search Console searchAnalytics.query as plain JSON over loopback HTTP, for the
incident tests: a report or a query as the vendor's wire format has it, and the admin calls that stage
an incident and move the clock."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from .conftest import GOOGLE_READ_SCOPES, google_token

MAIN_PROPERTY = "420000001"
# The default incidents that would blur what a test stages.
QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}


class Google:
    """A signed-in client of the sandbox's GA4 and Search Console APIs."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.headers = {"Authorization": f"Bearer {google_token(sb, GOOGLE_READ_SCOPES)}"}

    def day(self, offset: int) -> date:
        """The business date ``offset`` days from today (negative: in the past)."""
        return self.sb.world.now().date() + timedelta(days=offset)

    def stage(self, incidents: dict[str, Any]) -> list[dict[str, Any]]:
        """Set incidents (over the quiet defaults) through ``POST /_sandbox/config``; the listed incidents."""
        httpx.post(self.sb.url + "/_sandbox/config", json={"incidents": {**QUIET, **incidents}}).raise_for_status()
        return httpx.get(self.sb.url + "/_sandbox/incidents").json()["incidents"]

    def advance(self, days: int) -> None:
        httpx.post(self.sb.url + "/_sandbox/clock/advance", json={"days": days}).raise_for_status()

    def report(
        self, metrics: list[str], dimensions: list[str], first: int, last: int
    ) -> dict[tuple[str, ...], list[float]]:
        """A GA4 runReport of days ``first`` to ``last`` (offsets from today): dimension values -> metrics."""
        body = {
            "dateRanges": [{"startDate": str(self.day(first)), "endDate": str(self.day(last))}],
            "metrics": [{"name": m} for m in metrics],
            "dimensions": [{"name": d} for d in dimensions],
            "limit": 100000,
        }
        url = f"{self.sb.url}/v1beta/properties/{MAIN_PROPERTY}:runReport"
        response = httpx.post(url, json=body, headers=self.headers, timeout=30)
        response.raise_for_status()
        return {
            tuple(v["value"] for v in row.get("dimensionValues", [])): [float(v["value"]) for v in row["metricValues"]]
            for row in response.json().get("rows", [])
        }

    def search(self, dimensions: list[str], first: int, last: int, **extra: Any) -> list[dict[str, Any]]:
        """Search Console searchAnalytics.query rows of days ``first`` to ``last`` (offsets from today)."""
        body = {
            "startDate": str(self.day(first)),
            "endDate": str(self.day(last)),
            "dimensions": dimensions,
            "rowLimit": 25000,
            **extra,
        }
        url = f"{self.sb.url}/webmasters/v3/sites/{quote(self.sb.url + '/', safe='')}/searchAnalytics/query"
        response = httpx.post(url, json=body, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json().get("rows", [])

    def path(self, page_url: str) -> str:
        return page_url.removeprefix(self.sb.url)


def entry(listed: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in listed if i["name"] == name)
