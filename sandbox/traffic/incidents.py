"""Incidents the traffic model can stage (ranking drop, tracking outage, seasonality, holiday bump, a
whole-site drop, a page unpublished or noindexed by mistake) and their settings, as
``POST /_sandbox/config`` and ``World.configure`` take them."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from ..email_world.incidents import DEFAULT_EMAIL_INCIDENTS

DEFAULT_INCIDENTS: dict[str, dict[str, Any]] = {
    # From start+day on, every query of one page ranks ``positions`` lower (page chosen from the seed unless given).
    "ranking_drop": {"enabled": True, "day": 8, "positions": 6.0, "page": None},
    # GA4 records almost nothing on these days; Search Console is unaffected.
    "tracking_outage": {"enabled": True, "day": 14, "days": 2},
    # Weekends: fewer searches and fewer visits; the newsletter goes out on Tuesdays regardless.
    "weekly_seasonality": {"enabled": True, "weekend_factor": 0.72},
    # More searches, visits and conversions (Thanksgiving to Cyber Monday with the default start date).
    "holiday_bump": {"enabled": True, "day": 24, "days": 5, "factor": 1.3},
    # Off unless asked for. Every page loses searches and visits alike (demand, or an algorithm update).
    "site_drop": {"enabled": False, "day": 10, "days": 10, "factor": 0.6},
    # A WordPress post or page set back to draft on that day: it 404s and leaves search and analytics.
    "page_unpublished": {"enabled": False, "day": 10, "page": None},
    # A WordPress post or page marked noindex on that day: it still serves, but leaves the search results.
    "page_noindexed": {"enabled": False, "day": 10, "page": None},
}
MISTAKES = ("page_unpublished", "page_noindexed")  # incidents that change a page's state in the CMS
_INCIDENT_TYPES = {
    "enabled": bool,
    "day": int,
    "days": int,
    "positions": (int, float),
    "page": (str, type(None)),
    "weekend_factor": (int, float),
    "factor": (int, float),
}


def normalize_incidents(spec: Any, current: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """``true``/``false`` (all on with defaults / all off) or ``{name: bool | {field: value}}`` over ``current``."""
    base = copy.deepcopy(current if current is not None else DEFAULT_INCIDENTS)
    if spec is True:
        return copy.deepcopy(DEFAULT_INCIDENTS)
    if spec is False:
        for incident in base.values():
            incident["enabled"] = False
        return base
    if not isinstance(spec, dict):
        raise ValueError("incidents must be true, false or an object keyed by incident name")
    for name, value in spec.items():
        if name in DEFAULT_EMAIL_INCIDENTS:
            continue  # the email model's (sandbox.email_world.incidents)
        if name not in DEFAULT_INCIDENTS:
            known = ", ".join([*DEFAULT_INCIDENTS, *DEFAULT_EMAIL_INCIDENTS])
            raise ValueError(f"unknown incident {name!r}; expected one of {known}")
        if isinstance(value, bool):
            base[name]["enabled"] = value
            continue
        if not isinstance(value, dict):
            raise ValueError(f"incident {name} must be true, false or an object")
        for key, item in value.items():
            if key not in DEFAULT_INCIDENTS[name]:
                raise ValueError(
                    f"incident {name} has no setting {key!r}; expected {', '.join(DEFAULT_INCIDENTS[name])}"
                )
            if isinstance(item, bool) and key != "enabled" or not isinstance(item, _INCIDENT_TYPES[key]):
                raise ValueError(f"incidents.{name}.{key} has the wrong type")
            if key == "days" and item < 1:
                raise ValueError(f"incidents.{name}.days must be at least 1")
            base[name][key] = item
        if "enabled" not in value:
            base[name]["enabled"] = True
    return base


def describe_site_incidents(
    spec: dict[str, dict[str, Any]], start: date, pages: dict[str, str]
) -> list[dict[str, Any]]:
    """``GET /_sandbox/incidents`` entries of the site drop and the page mistakes (``pages``: the page each hits)."""
    drop = spec["site_drop"]
    first = start + timedelta(days=drop["day"])
    out: list[dict[str, Any]] = [
        {
            "name": "site_drop",
            "enabled": drop["enabled"],
            "day": drop["day"],
            "start": str(first),
            "end": str(first + timedelta(days=drop["days"] - 1)),
            "factor": drop["factor"],
            "affects": ["search_console", "ga4"],
            "effect": f"searches and visits of every page x{drop['factor']:g}",
        }
    ]
    effects = {
        "page_unpublished": "the WordPress post goes back to draft: the page 404s, leaves search and analytics",
        "page_noindexed": "the WordPress post is marked noindex: the page serves noindex and leaves the search results",
    }
    for name in MISTAKES:
        out.append(
            {
                "name": name,
                "enabled": spec[name]["enabled"],
                "day": spec[name]["day"],
                "start": str(start + timedelta(days=spec[name]["day"])),
                "end": None,
                "page": pages[name],
                "affects": ["wordpress", "search_console", "ga4"],
                "effect": effects[name],
            }
        )
    return out
