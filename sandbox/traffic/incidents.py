"""Incidents the traffic model can stage (ranking drop, tracking outage, seasonality, holiday bump, a
whole-site drop, a page unpublished or noindexed by mistake, a page's snippet regressing, an algorithm
update, a broken form, a late Search Console, a hidden taste for snippets) and their settings, as
``POST /_sandbox/config`` and ``World.configure`` take them."""

from __future__ import annotations

from datetime import date
from random import Random
from typing import Any, Collection

from ..email_world.incidents import DEFAULT_EMAIL_INCIDENTS
from ..incident_settings import merge_incidents
from .channels import CHANNELS, DEVICES
from .ctr import expected_ctr, snippet_factor, visibility
from .records import PageModel

DEFAULT_INCIDENTS: dict[str, dict[str, Any]] = {
    # From start+day on, every query of ``count`` pages ranks ``positions`` lower (the first page chosen from
    # the seed unless given, the others drawn from the busiest settled pages); with ``ramp_days`` the shift
    # grows from 0 to ``positions`` over that many days (a gradual decline).
    "ranking_drop": {"enabled": True, "day": 8, "positions": 6.0, "page": None, "count": 1, "ramp_days": 0},
    # GA4 records almost nothing on these days; Search Console is unaffected. ``scope`` narrows it to one
    # channel, device or section ("channel:Email", "device:mobile", "section:Brewing Guides"); None: all.
    "tracking_outage": {"enabled": True, "day": 14, "days": 2, "scope": None},
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
    # Off unless asked for. A WordPress post or page redirected (301) to ``target`` by mistake on that day:
    # its visits land on the target, and search drops it two days later.
    "page_redirected": {"enabled": False, "day": 10, "page": None, "target": "/"},
    # Off unless asked for. From start+day on, a ``share`` of the pages (drawn from the seed) rank differently
    # for good: each hit page's queries move by a seeded amount between ``gain`` higher and ``loss`` lower.
    "algorithm_update": {"enabled": False, "day": 10, "share": 0.5, "gain": 2.0, "loss": 5.0},
    # Off unless asked for. A broken form or checkout: from start+day on, the key events (and bag weight) of
    # ``page`` (drawn from the seed among the pages converting most; "*": the whole site) are x``factor``;
    # sessions, users and search do not change.
    "conversion_drop": {"enabled": False, "day": 10, "factor": 0.1, "page": None},
    # Off unless asked for. From start+day for ``days`` days, Search Console's data lags ``extra_days``
    # more than usual: the latest days have no rows (final or fresh) until the delay has passed.
    "search_console_delay": {"enabled": False, "day": 10, "days": 5, "extra_days": 3},
    # Off unless asked for. Every snippet (page path, title, meta description) draws x a hidden taste
    # (lognormal, mean 1, ``sigma``) no heuristic sees: a rewrite can help or hurt. ``design()`` shows it.
    "snippet_taste": {"enabled": False, "sigma": 0.25},
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
    "count": int,
    "ramp_days": int,
    "scope": (str, type(None)),
    "share": (int, float),
    "gain": (int, float),
    "loss": (int, float),
    "extra_days": int,
    "sigma": (int, float),
    "target": str,
}
# Bounds of the numeric settings: name -> field -> (low, high, low inclusive, high inclusive).
_BOUNDS: dict[str, dict[str, tuple[float, float, bool, bool]]] = {
    "ranking_drop": {"positions": (0, 50, False, True), "count": (1, 20, True, True), "ramp_days": (0, 90, True, True)},
    "weekly_seasonality": {"weekend_factor": (0, 1, False, True)},
    "holiday_bump": {"factor": (1, 3, False, True)},
    "site_drop": {"factor": (0, 1, False, False)},
    "snippet_regression": {"factor": (0, 1.5, False, True)},
    "algorithm_update": {"share": (0, 1, False, True), "gain": (0, 20, True, True), "loss": (0, 20, True, True)},
    "conversion_drop": {"factor": (0, 1, True, False)},
    "search_console_delay": {"extra_days": (1, 30, True, True)},
    "snippet_taste": {"sigma": (0, 1, False, True)},
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
    for key, (low, high, low_in, high_in) in _BOUNDS.get(name, {}).items():
        value = settings[key]
        if not ((low <= value if low_in else low < value) and (value <= high if high_in else value < high)):
            raise ValueError(
                f"incidents.{name}.{key} must be {'at least' if low_in else 'above'} {low:g} and "
                f"{'at most' if high_in else 'below'} {high:g}"
            )
    if name == "algorithm_update" and settings["gain"] + settings["loss"] <= 0:
        raise ValueError("incidents.algorithm_update needs a gain or a loss above 0")
    if name == "page_redirected" and not settings["target"].startswith("/"):
        raise ValueError("incidents.page_redirected.target must be a site path starting with /")
    if name == "tracking_outage" and settings["scope"] is not None:
        check_scope(settings["scope"], None)


def check_scope(scope: str, sections: Collection[str] | None) -> tuple[str, str]:
    """A ``tracking_outage`` scope as (kind, value); ``sections``: the site's sections (None: not known yet)."""
    kind, _sep, value = scope.partition(":")
    choices: dict[str, Collection[str] | None] = {"channel": CHANNELS, "device": DEVICES, "section": sections}
    if kind not in choices or not value:
        raise ValueError(
            f"incidents.tracking_outage.scope must be null or channel:<name>, device:<name> or section:<name>; "
            f"got {scope!r}"
        )
    known = choices[kind]
    if known is not None and value not in known:
        raise ValueError(
            f"incidents.tracking_outage.scope: unknown {kind} {value!r}; expected one of {', '.join(sorted(known))}"
        )
    return kind, value


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
