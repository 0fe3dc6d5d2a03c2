"""The scenario kinds of `director_scenarios.py`: the incident each stages (drawn from the seed), and what
the sandbox's own record says it hit, to score the Director against."""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Kinds scored on detection: the pages they hit must be named, soon after the incident's start.
DETECTION = (
    "ranking_drop",
    "ranking_drops",
    "gradual_decline",
    "page_unpublished",
    "page_noindexed",
    "page_redirected",
    "snippet_regression",
    "conversion_drop",
    "checkout_broken",
    "algorithm_update",
)
# Kinds with no incident on any single page: no page may be flagged as dropped, none changed.
FALSE_ALARM = (
    "aa",
    "holiday",
    "site_drop_with_outage",
    "channel_outage",
    "device_outage",
    "section_outage",
    "search_console_delay",
)
# Kinds scored on the verdicts of the snippet tests against the true effect of each change.
DECISIONS = ("taste",)
KINDS = DETECTION + FALSE_ALARM + DECISIONS

# The incident whose entry in `World.traffic.incidents()` records what a kind staged.
STAGED = {
    "ranking_drops": "ranking_drop",
    "gradual_decline": "ranking_drop",
    "checkout_broken": "conversion_drop",
    "holiday": "holiday_bump",
    "site_drop_with_outage": "site_drop",
    "channel_outage": "tracking_outage",
    "device_outage": "tracking_outage",
    "section_outage": "tracking_outage",
    "taste": "snippet_taste",
}
# The incidents on by default, off unless a kind stages them.
QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}
BUSIEST = 12  # pages a page incident may land on, the most searched first
NOTICEABLE = 3.0  # positions: a shift smaller than this is not a drop to expect the Director to see
SECTION_PAGES = 3  # busy pages a section needs for a section-wide outage to be one


@dataclass(frozen=True)
class Probe:
    """A world before anything is staged in it: what the draws of its scenarios choose from."""

    pages: list[str]  # the most searched first, the home page left out
    wordpress: list[str]  # those of them WordPress serves (the CMS mistakes need a WordPress post)
    channels: list[str]  # GA4 channels with traffic enough to miss
    sections: list[str]  # sections with several of the busiest pages


@dataclass(frozen=True)
class Truth:
    """What the sandbox staged: the pages hit ("*": the whole site), the first day, and the day the delay
    counts from (a gradual decline's is the day its shift reaches NOTICEABLE positions)."""

    hits: list[str]
    start: date | None
    reference: date | None


def probe(seed: int) -> Probe:
    from sandbox import World
    from sandbox.traffic.channels import MAIN_PROPERTY

    world = World(seed=seed, incidents=False)
    today = world.now().date()
    volume: dict[str, int] = {}
    sessions: dict[str, int] = {}
    for back in range(1, 15):
        day = today - timedelta(days=back)
        for fact in world.traffic.search_day(day):
            volume[fact[1]] = volume.get(fact[1], 0) + fact[2]
        for cell in world.traffic.analytics_day(MAIN_PROPERTY, day):
            sessions[cell[1]] = sessions.get(cell[1], 0) + cell[6][0]
    pages = [p for p in sorted(volume, key=lambda p: -volume[p]) if p.strip("/")]
    served = {page.path: page for page in world.pages()}
    busy = [served[p].section for p in pages[:20] if p in served and served[p].section]
    return Probe(
        pages=pages,
        wordpress=[p for p in pages if p in served and served[p].source == "wordpress"],
        channels=sorted(c for c, n in sessions.items() if n >= 14 * 20),  # 20 sessions a day or more
        sections=sorted({s for s in busy if busy.count(s) >= SECTION_PAGES}),
    )


def incidents_for(kind: str, seed: int, world: Probe) -> dict[str, Any]:
    """The incident spec of one scenario: the kind on a page, day and amount drawn from the seed, the
    incidents on by default switched off."""
    rng = random.Random(f"scenario:{kind}:{seed}")
    day = rng.randint(5, 12)
    on = {"enabled": True, "day": day}
    if kind in ("ranking_drop", "ranking_drops", "gradual_decline"):
        drop = {**on, "page": rng.choice(world.pages[:BUSIEST]), "positions": float(rng.choice((4, 5, 6, 8)))}
        if kind == "ranking_drops":
            drop["count"] = 3
        if kind == "gradual_decline":
            drop |= {"positions": float(rng.randint(6, 8)), "ramp_days": rng.randint(7, 10)}
        return {**QUIET, "ranking_drop": drop}
    if kind in ("page_unpublished", "page_noindexed", "page_redirected"):
        return {**QUIET, kind: {**on, "page": rng.choice(world.wordpress[:BUSIEST])}}
    if kind == "snippet_regression":  # on the page the sandbox picks: a settled one whose CTR hides the fall
        return {**QUIET, kind: {**on, "factor": rng.choice((0.3, 0.4, 0.5))}}
    if kind == "conversion_drop":  # on one of the pages converting most, as the sandbox picks it
        return {**QUIET, kind: {**on, "factor": rng.choice((0.05, 0.1, 0.2))}}
    if kind == "checkout_broken":
        return {**QUIET, "conversion_drop": {**on, "page": "*", "factor": rng.choice((0.1, 0.2, 0.4))}}
    if kind == "algorithm_update":
        update = {**on, "share": rng.choice((0.3, 0.5)), "gain": 2.0, "loss": float(rng.choice((4, 5, 6)))}
        return {**QUIET, kind: update}
    if kind == "aa":
        return dict(QUIET)
    if kind == "holiday":
        return {**QUIET, "holiday_bump": {**on, "factor": rng.choice((1.2, 1.3, 1.5))}}
    if kind == "site_drop_with_outage":
        return {
            **QUIET,
            "site_drop": {**on, "factor": rng.choice((0.5, 0.6, 0.7))},
            "tracking_outage": {"enabled": True, "day": day + 3},
        }
    if kind in ("channel_outage", "device_outage", "section_outage"):
        scope = {
            "channel_outage": lambda: f"channel:{rng.choice(world.channels)}",
            "device_outage": lambda: "device:mobile",
            "section_outage": lambda: f"section:{rng.choice(world.sections)}",
        }[kind]()
        return {**QUIET, "tracking_outage": {**on, "days": rng.randint(2, 3), "scope": scope}}
    if kind == "search_console_delay":
        return {**QUIET, kind: {**on, "days": rng.randint(4, 6), "extra_days": rng.randint(2, 4)}}
    if kind == "taste":
        return {**QUIET, "snippet_taste": {"enabled": True, "sigma": rng.choice((0.2, 0.25, 0.3))}}
    raise ValueError(f"unknown scenario kind {kind}; expected one of {', '.join(KINDS)}")


def truth_of(kind: str, entries: list[dict[str, Any]]) -> Truth:
    """What the kind's incident hit, from the sandbox's record (`World.traffic.incidents()`)."""
    entry = next((e for e in entries if e["name"] == STAGED.get(kind, kind) and e["enabled"]), None)
    start = date.fromisoformat(entry["start"]) if entry and entry.get("start") else None
    if entry is None or kind not in DETECTION or start is None:
        return Truth([], start, start)
    if kind == "checkout_broken":
        return Truth(["*"], start, start)
    if kind == "algorithm_update":
        return Truth([p["page"] for p in entry["pages"] if abs(p["shift"]) >= NOTICEABLE], start, start)
    if kind == "gradual_decline":
        reached = math.ceil(NOTICEABLE * entry["ramp_days"] / entry["positions"])
        return Truth(entry["pages"], start, start + timedelta(days=reached))
    return Truth(entry.get("pages") or [entry["page"]], start, start)


def true_effect(traffic: Any, path: str, changed: date) -> float | None:
    """The true relative effect on a page's clicks of the snippet change made on `changed` (it counts from
    a later day), with the snippet factors `World.traffic.design()` shows: the taste included, each query
    weighted by the clicks it draws at its position. None when the page has no such change. Hold the
    world's lock."""
    from sandbox.traffic.catalogue import BRAND_CTR
    from sandbox.traffic.ctr import expected_ctr, snippet_factor, visibility

    model = traffic.pages.get(path)
    before = model.state_on(changed) if model else None
    after = next((state for effective, state in model.history if effective > changed), None) if model else None
    if before is None or after is None:
        return None

    def factor(state: Any) -> float:
        taste = traffic.snippet_taste(state)
        total = weights = 0.0
        for q in model.queries:
            weight = q.volume * visibility(q.position) * expected_ctr(q.position) * (BRAND_CTR if q.brand else 1.0)
            total += weight * snippet_factor(state, q.key, brand=q.brand) * (taste**0.3 if q.brand else taste)
            weights += weight
        return total / weights

    return factor(after) / factor(before) - 1
