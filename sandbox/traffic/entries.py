"""``GET /_sandbox/incidents``: one entry per traffic incident, with its settings, its window (start and
end, None when open-ended), the pages it hits, what it ``affects`` and its ``effect`` in words."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

Settings = dict[str, dict[str, Any]]


def _window(spec: Settings, name: str, start: date) -> dict[str, Any]:
    """The entry's head: name, on or off, day, start and end (None for an incident without ``days``)."""
    settings = spec[name]
    first = start + timedelta(days=settings["day"])
    last = first + timedelta(days=settings["days"] - 1) if "days" in settings else None
    return {
        "name": name,
        "enabled": settings["enabled"],
        "day": settings["day"],
        "start": str(first),
        "end": None if last is None else str(last),
    }


def describe_incidents(
    spec: Settings, start: date, pages: dict[str, list[str]], update: dict[str, float]
) -> list[dict[str, Any]]:
    """Every entry in a fixed order. ``pages``: the pages each page incident hits; ``update``: the
    algorithm update's shift per page (empty while it is off)."""
    drop = spec["ranking_drop"]
    ramp = drop["ramp_days"]
    gradual = f", growing over {ramp} days (full from {start + timedelta(days=drop['day'] + ramp)})" if ramp else ""
    outage = spec["tracking_outage"]
    hidden = "sessions" if outage["scope"] is None else f"{outage['scope']} sessions"
    bump, site = spec["holiday_bump"], spec["site_drop"]
    out: list[dict[str, Any]] = [
        {
            **_window(spec, "ranking_drop", start),
            "page": pages["ranking_drop"][0],
            "pages": pages["ranking_drop"],
            "positions": drop["positions"],
            "ramp_days": ramp,
            "affects": ["search_console", "ga4"],
            "effect": f"every query of the pages ranks {drop['positions']:g} positions lower{gradual}",
        },
        {
            **_window(spec, "tracking_outage", start),
            "scope": outage["scope"],
            "affects": ["ga4"],
            "effect": f"GA4 records ~2% of {hidden} on every page; Search Console is unaffected",
        },
        {
            "name": "weekly_seasonality",
            "enabled": spec["weekly_seasonality"]["enabled"],
            "day": None,
            "start": None,
            "end": None,
            "weekend_factor": spec["weekly_seasonality"]["weekend_factor"],
            "affects": ["search_console", "ga4"],
            "effect": "Saturdays and Sundays see fewer searches and visits; the newsletter lands on Tuesdays",
        },
        {
            **_window(spec, "holiday_bump", start),
            "factor": bump["factor"],
            "affects": ["search_console", "ga4"],
            "effect": f"searches, visits and conversions x{bump['factor']:g}",
        },
        {
            **_window(spec, "site_drop", start),
            "factor": site["factor"],
            "affects": ["search_console", "ga4"],
            "effect": f"searches and visits of every page x{site['factor']:g}",
        },
    ]
    effects = {
        "page_unpublished": "the WordPress post goes back to draft: the page 404s, leaves search and analytics",
        "page_noindexed": "the WordPress post is marked noindex: the page serves noindex and leaves the search results",
    }
    for name, effect in effects.items():
        out.append(
            {
                **_window(spec, name, start),
                "page": pages[name][0],
                "affects": ["wordpress", "search_console", "ga4"],
                "effect": effect,
            }
        )
    regression = spec["snippet_regression"]
    out.append(
        {
            **_window(spec, "snippet_regression", start),
            "page": pages["snippet_regression"][0],
            "factor": regression["factor"],
            "affects": ["search_console", "ga4"],
            "effect": (
                f"the page's snippet draws x{regression['factor']:g} of its clicks on every query, until its "
                "title or meta description changes"
            ),
        }
    )
    redirected = spec["page_redirected"]
    out.append(
        {
            **_window(spec, "page_redirected", start),
            "page": pages["page_redirected"][0],
            "target": redirected["target"],
            "affects": ["wordpress", "search_console", "ga4"],
            "effect": (
                f"the page answers 301 to {redirected['target']}: its visits land there, and it leaves the "
                "search results two days later"
            ),
        }
    )
    return out + _newer(spec, start, pages, update)


def _newer(spec: Settings, start: date, pages: dict[str, list[str]], update: dict[str, float]) -> list[dict[str, Any]]:
    """The entries of the algorithm update, the conversion drop, the Search Console delay and the taste."""
    algorithm, conversion = spec["algorithm_update"], spec["conversion_drop"]
    delay, taste = spec["search_console_delay"], spec["snippet_taste"]
    broken = pages["conversion_drop"][0]
    return [
        {
            **_window(spec, "algorithm_update", start),
            "share": algorithm["share"],
            "pages": [{"page": path, "shift": shift} for path, shift in sorted(update.items())],
            "affects": ["search_console", "ga4"],
            "effect": (
                f"a share of {algorithm['share']:g} of the pages ranks differently for good: each hit page's "
                f"queries move by its shift, from {algorithm['gain']:g} higher to {algorithm['loss']:g} lower"
            ),
        },
        {
            **_window(spec, "conversion_drop", start),
            "page": broken,
            "factor": conversion["factor"],
            "affects": ["ga4"],
            "effect": (
                f"key events and bag weight of {'every page' if broken == '*' else 'the page'} "
                f"x{conversion['factor']:g} (a broken form); sessions, users and search are unchanged"
            ),
        },
        {
            **_window(spec, "search_console_delay", start),
            "extra_days": delay["extra_days"],
            "affects": ["search_console"],
            "effect": (
                f"Search Console's data arrives {delay['extra_days']} days later than usual: the latest "
                "days have no rows until the delay has passed"
            ),
        },
        {
            "name": "snippet_taste",
            "enabled": taste["enabled"],
            "day": None,
            "start": None,
            "end": None,
            "sigma": taste["sigma"],
            "affects": ["search_console", "ga4"],
            "effect": (
                "each snippet text draws x a hidden taste (lognormal, mean 1, sigma "
                f"{taste['sigma']:g}); GET /_sandbox/traffic shows the true snippet factors"
            ),
        },
    ]
