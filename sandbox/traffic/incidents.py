"""Incidents the traffic model can stage (ranking drop, tracking outage, seasonality, holiday bump, a
whole-site drop, a page unpublished or noindexed by mistake, a page's snippet regressing) and their
settings, as ``POST /_sandbox/config`` and ``World.configure`` take them."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from ..email_world.incidents import DEFAULT_EMAIL_INCIDENTS
from ..incident_settings import merge_incidents
from .ctr import expected_ctr, snippet_factor, visibility
from .records import PageModel

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
    # From start+day on, one page's snippet draws ``factor`` times the clicks it drew (as if a bad title had
    # shipped), until its title or meta description is changed; its queries span many positions.
    "snippet_regression": {"enabled": False, "day": 10, "factor": 0.4, "page": None},
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
    """``true``/``false`` (all on with defaults / all off) or ``{name: bool | {field: value}}`` over ``current``;
    the email model's incidents (``sandbox.email_world.incidents``) are left to it."""
    return merge_incidents(
        spec, current, DEFAULT_INCIDENTS, _INCIDENT_TYPES, check=_check, elsewhere=DEFAULT_EMAIL_INCIDENTS
    )


def _check(name: str, settings: dict[str, Any]) -> None:
    if settings.get("days", 1) < 1:
        raise ValueError(f"incidents.{name}.days must be at least 1")
    if name == "snippet_regression" and not 0 < settings["factor"] <= 1.5:
        raise ValueError("incidents.snippet_regression.factor must be above 0 and at most 1.5")


def regression_candidate(rng: Random, models: list[PageModel], exclude: set[str], settled: date) -> str | None:
    """The page ``snippet_regression`` hits unless one is given: a settled page whose queries span eight
    positions or more (its CTR at its average position says little), drawn from the seed among those with a
    good snippet (its queries draw more than the curve) and clicks enough to measure (5 a day); where none
    has both, the one of them with the most clicks."""
    eligible: list[tuple[str, float, float]] = []  # (path, snippet factor, clicks a day)
    for model in sorted(models, key=lambda m: m.path):
        queries = [q for q in model.queries if not q.brand]
        if model.source == "home" or model.path in exclude or model.live_since > settled or len(queries) < 5:
            continue
        positions = [q.position for q in queries]
        if max(positions) - min(positions) < 8:
            continue
        factors = [snippet_factor(model.first_state, q.key) for q in queries]
        volume = sum(q.volume for q in queries)
        factor = sum(f * q.volume for f, q in zip(factors, queries, strict=True)) / volume
        clicks = sum(
            q.volume * visibility(q.position) * expected_ctr(q.position) * f
            for f, q in zip(factors, queries, strict=True)
        )
        eligible.append((model.path, factor, clicks))
    fits = [path for path, factor, clicks in eligible if factor >= 1.0 and clicks >= 5]
    if fits:
        return rng.choice(fits)
    return max(eligible, key=lambda e: (e[2], e[0]))[0] if eligible else None


def describe_site_incidents(
    spec: dict[str, dict[str, Any]], start: date, pages: dict[str, str]
) -> list[dict[str, Any]]:
    """``GET /_sandbox/incidents`` entries of the site drop, the page mistakes and the snippet regression
    (``pages``: the page each hits)."""
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
    regression = spec["snippet_regression"]
    out.append(
        {
            "name": "snippet_regression",
            "enabled": regression["enabled"],
            "day": regression["day"],
            "start": str(start + timedelta(days=regression["day"])),
            "end": None,
            "page": pages["snippet_regression"],
            "factor": regression["factor"],
            "affects": ["search_console", "ga4"],
            "effect": (
                f"the page's snippet draws x{regression['factor']:g} of its clicks on every query, until its "
                "title or meta description changes"
            ),
        }
    )
    return out
