"""``TrafficModel``: the search and analytics numbers of one world, day by day, from its pages' history."""

from __future__ import annotations

import copy
import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Iterator

from .catalogue import BRAND_CTR, HOME_PATH, new_page
from .channels import (
    BASE_CONVERSION_RATE,
    CHANNELS,
    CONVERSION,
    ENGAGEMENT,
    MAIN_PROPERTY,
    NEW_USERS,
    PAGES_PER_SESSION,
    QUERY_STRINGS,
    SOURCES,
    STAGING_PROPERTY,
)
from .ctr import CTR_CURVE, expected_ctr, snippet_factor, visibility
from .incidents import MISTAKES, describe_site_incidents, normalize_incidents, regression_candidate
from .noise import count, draw, noise, z
from .records import Cell, PageModel, PageState, Query, SearchFact, normalize_text, quality

if TYPE_CHECKING:
    from ..world import SitePage, World

HISTORY_DAYS = 120  # days of data before the business clock's start date
RAMP_DAYS = 28  # a new page reaches its full search volume over four weeks


class TrafficModel:
    """Search and analytics data of one world. Callers hold ``world.lock``."""

    def __init__(self, world: World, incidents: dict[str, dict[str, Any]] | None = None) -> None:
        self.world = world
        self.seed = world.seed
        self.start = world.now().date()
        self.history_start = self.start - timedelta(days=HISTORY_DAYS)
        self.incident_settings = normalize_incidents(True) if incidents is None else copy.deepcopy(incidents)
        self.pages: dict[str, PageModel] = {}
        self._snapshot: dict[str, PageState] = {}
        self._search_cache: dict[date, list[SearchFact]] = {}
        self._analytics_cache: dict[tuple[str, date], list[Cell]] = {}
        # Pages out of the search index (a noindex found by the crawler): path -> (from, until or None).
        self.deindexed: dict[str, tuple[date, date | None]] = {}
        current, published_on = self._current_states()
        for path in sorted(current):
            state = current[path]
            published = published_on.get(path)
            # Seeded pages have history back to their publication; the home page has always been there.
            live = date.min if published is None else published.date() + timedelta(days=1)
            self.pages[path] = self._new_page(state, live, [(date.min, state)])
        self._snapshot = current
        self._choose_roles()

    # -- pages and their history ---------------------------------------------

    def _current_states(self) -> tuple[dict[str, PageState], dict[str, Any]]:
        """Every live page as it stands now (the WordPress home page included), and when each was published."""
        wp = self.world.wordpress
        states = {
            HOME_PATH: PageState(
                HOME_PATH, "home", wp.name, f"{wp.name} \u2013 {wp.description}", wp.description or None, 120, "home"
            )
        }
        published = {}
        for page in self.world.pages():
            states[page.path] = _state_of(page)
            published[page.path] = page.published
        return states, published

    def observe(self) -> None:
        """Record CMS changes made since the last look; they count from tomorrow (business date + 1)."""
        effective = self.world.now().date() + timedelta(days=1)
        current, _published = self._current_states()
        for path in sorted(current):
            state = current[path]
            if self._snapshot.get(path) == state:
                continue
            model = self.pages.get(path)
            if model is None:
                self.pages[path] = self._new_page(state, effective, [(effective, state)])
            else:
                _append(model, effective, state)
        for path in sorted(self._snapshot.keys() - current.keys()):
            _append(self.pages[path], effective, None)
        self._snapshot = current

    def state_on(self, path: str, day: date) -> PageState | None:
        model = self.pages.get(path)
        return model.state_on(day) if model else None

    def live_paths(self) -> list[str]:
        return sorted(self._snapshot)

    def _new_page(self, state: PageState, live_since: date, history: list[tuple[date, PageState | None]]) -> PageModel:
        return new_page(self.world.rng(f"traffic:page:{state.path}"), state, live_since, history)

    def _choose_roles(self) -> None:
        """Pick the pages that underperform by design and the page the ranking drop hits."""
        rng = self.world.rng("traffic")
        settled = self.start - timedelta(days=45)
        candidates = [
            m
            for m in self.pages.values()
            if m.source != "home"
            and m.live_since <= settled
            and not m.first_state.description
            and any(not q.brand for q in m.queries)
        ]
        candidates.sort(key=lambda m: m.path)
        rng.shuffle(candidates)
        self.opportunities = sorted(m.path for m in candidates[:3])
        for path in self.opportunities:
            model = self.pages[path]
            boost = self.world.rng(f"traffic:opportunity:{path}")
            model.opportunity = True
            queries = []
            boosted = 0
            for query in model.queries:
                if not query.brand and boosted < 3:
                    boosted += 1
                    query = Query(
                        query.text, query.key, round(boost.uniform(3.0, 8.0), 2), round(query.volume * 3.5 + 40, 2)
                    )
                queries.append(query)
            model.queries = queries
        self._cross_link()
        others = [
            m
            for m in self.pages.values()
            if m.source != "home"
            and not m.opportunity
            and m.live_since <= self.start - timedelta(days=60)
            and m.first_state.description
        ]
        others = others or [m for m in self.pages.values() if m.source != "home" and not m.opportunity]
        others.sort(key=lambda m: (-sum(q.volume for q in m.queries if not q.brand), m.path))
        self.drop_page = others[0].path if others else HOME_PATH
        # The busiest WordPress pages other than the ranking drop's: what a mistaken unpublish or noindex hits.
        wordpress = [m for m in self.pages.values() if m.source == "wordpress" and m.path != self.drop_page]
        wordpress.sort(key=lambda m: (-sum(q.volume for q in m.queries if not q.brand), m.path))
        self.mistake_pages = ([m.path for m in wordpress] + [self.drop_page, self.drop_page])[:2]
        busiest = wordpress[0].path if wordpress else self.drop_page
        chosen = regression_candidate(
            self.world.rng("traffic:snippet_regression"),
            list(self.pages.values()),
            {self.drop_page, *self.opportunities},
            self.start - timedelta(days=35),
        )
        self.regression_page = chosen or busiest

    def _cross_link(self) -> None:
        """A page's main query also finds the site's other pages about the same thing, further down.

        Same searches, so the same volume: grouped by property, such a search counts once.
        """
        models = [self.pages[p] for p in sorted(self.pages)]
        for source in models:
            head = next((q for q in source.queries if not q.brand), None)
            if head is None or head.key in ("coffee", "northwind"):
                continue
            for other in models:
                if other is source or other.source == "home" or any(q.text == head.text for q in other.queries):
                    continue
                state = other.first_state
                if f" {head.key} " not in f" {normalize_text(state.title + ' ' + state.document_title)} ":
                    continue
                rng = self.world.rng(f"traffic:cross:{source.path}:{other.path}")
                other.queries.append(
                    Query(head.text, head.key, round(head.position + rng.uniform(5.0, 12.0), 2), head.volume)
                )

    # -- incidents -------------------------------------------------------------------

    def configure_incidents(self, settings: dict[str, dict[str, Any]]) -> None:
        self.incident_settings = copy.deepcopy(settings)
        self._search_cache.clear()
        self._analytics_cache.clear()

    def _window(self, name: str) -> tuple[date, date] | None:
        spec = self.incident_settings[name]
        if not spec["enabled"]:
            return None
        first = self.start + timedelta(days=spec["day"])
        return first, first + timedelta(days=spec.get("days", 100000) - 1)

    def incidents(self) -> list[dict[str, Any]]:
        out = []
        spec = self.incident_settings
        drop = self._window("ranking_drop")
        out.append(
            {
                "name": "ranking_drop",
                "enabled": drop is not None,
                "day": spec["ranking_drop"]["day"],
                "start": str(self.start + timedelta(days=spec["ranking_drop"]["day"])),
                "end": None,
                "page": self.ranking_drop_page(),
                "positions": spec["ranking_drop"]["positions"],
                "affects": ["search_console", "ga4"],
                "effect": f"every query of the page ranks {spec['ranking_drop']['positions']:g} positions lower",
            }
        )
        outage = spec["tracking_outage"]
        first = self.start + timedelta(days=outage["day"])
        out.append(
            {
                "name": "tracking_outage",
                "enabled": outage["enabled"],
                "day": outage["day"],
                "start": str(first),
                "end": str(first + timedelta(days=outage["days"] - 1)),
                "affects": ["ga4"],
                "effect": "GA4 records ~2% of sessions on every page; Search Console is unaffected",
            }
        )
        weekly = spec["weekly_seasonality"]
        out.append(
            {
                "name": "weekly_seasonality",
                "enabled": weekly["enabled"],
                "day": None,
                "start": None,
                "end": None,
                "weekend_factor": weekly["weekend_factor"],
                "affects": ["search_console", "ga4"],
                "effect": "Saturdays and Sundays see fewer searches and visits; the newsletter lands on Tuesdays",
            }
        )
        bump = spec["holiday_bump"]
        first = self.start + timedelta(days=bump["day"])
        out.append(
            {
                "name": "holiday_bump",
                "enabled": bump["enabled"],
                "day": bump["day"],
                "start": str(first),
                "end": str(first + timedelta(days=bump["days"] - 1)),
                "factor": bump["factor"],
                "affects": ["search_console", "ga4"],
                "effect": f"searches, visits and conversions x{bump['factor']:g}",
            }
        )
        pages = {n: self.mistake_page(n) for n in MISTAKES}
        out += describe_site_incidents(
            spec, self.start, {**pages, "snippet_regression": self.snippet_regression_page()}
        )
        return out

    def snippet_regression_page(self) -> str:
        return self.incident_settings["snippet_regression"]["page"] or self.regression_page

    def _regressed(self, path: str, model: PageModel, day: date) -> float:
        """The ``snippet_regression`` factor of a page's snippet on a day: until its title or meta
        description is changed after the incident's day, its clicks are ``factor`` of what they were."""
        window = self._window("snippet_regression")
        if window is None or day < window[0] or path != self.snippet_regression_page():
            return 1.0
        then, now = model.state_on(window[0]), model.state_on(day)
        if (
            then is None
            or now is None
            or (then.document_title, then.description) != (now.document_title, now.description)
        ):
            return 1.0
        return float(self.incident_settings["snippet_regression"]["factor"])

    def ranking_drop_page(self) -> str:
        return self.incident_settings["ranking_drop"]["page"] or self.drop_page

    def mistake_page(self, name: str) -> str:
        """The page ``page_unpublished`` or ``page_noindexed`` hits: as configured, or chosen from the seed."""
        chosen = self.mistake_pages[0 if name == "page_unpublished" else 1]
        return self.incident_settings[name]["page"] or chosen

    def mistake_due(self, name: str, today: date) -> date | None:
        """The day a page incident takes effect, once the clock has reached it (None before, or when off)."""
        spec = self.incident_settings[name]
        first = self.start + timedelta(days=spec["day"])
        return first if spec["enabled"] and today >= first else None

    def remove(self, path: str, effective: date) -> None:
        """The page stops being live on ``effective`` (unpublished): no searches or visits from that day."""
        model = self.pages.get(path)
        if model is None:
            return
        model.history = [h for h in model.history if h[0] < effective]
        model.history.append((effective, None))
        self._snapshot.pop(path, None)
        self._search_cache.clear()
        self._analytics_cache.clear()

    def deindex(self, path: str, first: date | None, until: date | None = None) -> None:
        """Search engines drop the page from ``first`` (None: back in the index) until ``until``."""
        if first is None:
            self.deindexed.pop(path, None)
        else:
            self.deindexed[path] = (first, until)
        self._search_cache.clear()
        self._analytics_cache.clear()

    def _indexed(self, path: str, day: date) -> bool:
        window = self.deindexed.get(path)
        return window is None or day < window[0] or (window[1] is not None and day >= window[1])

    def _in(self, name: str, day: date) -> bool:
        window = self._window(name)
        return window is not None and window[0] <= day <= window[1]

    def _seasonal(self, day: date) -> float:
        """Search demand of a day: weekends lower, the holiday bump higher."""
        factor = 1.0
        spec = self.incident_settings["weekly_seasonality"]
        if spec["enabled"] and day.weekday() >= 5:
            factor *= spec["weekend_factor"]
        if self._in("holiday_bump", day):
            factor *= self.incident_settings["holiday_bump"]["factor"]
        return factor * self._site_factor(day)

    def _site_factor(self, day: date) -> float:
        return self.incident_settings["site_drop"]["factor"] if self._in("site_drop", day) else 1.0

    # -- search ------------------------------------------------------------------------

    def first_day(self) -> date:
        return self.history_start

    def search_day(self, day: date) -> list[SearchFact]:
        """Every (query, page) row of Google web search for one day, final numbers."""
        cached = self._search_cache.get(day)
        if cached is not None:
            return cached
        facts: list[SearchFact] = []
        if day >= self.history_start:
            drop_page = self.ranking_drop_page()
            dropped = self._window("ranking_drop")
            drop = self.incident_settings["ranking_drop"]["positions"]
            seasonal = self._seasonal(day)
            for path in sorted(self.pages):
                model = self.pages[path]
                state = model.state_on(day)
                if state is None or not self._indexed(path, day):
                    continue
                ramp = min(1.0, ((day - model.live_since).days + 1) / RAMP_DAYS) if model.live_since > date.min else 1.0
                scale = seasonal * ramp * math.exp(model.trend * (day - self.start).days)
                shift = drop if dropped is not None and path == drop_page and day >= dropped[0] else 0.0
                regressed = self._regressed(path, model, day)
                for query in model.queries:
                    u = noise(self.seed, "search", path, query.text, day.toordinal())
                    if query.brand:  # navigational: stays on top, only ever a little lower
                        position = max(1.0, query.position + shift + abs(0.12 * z(u[0])))
                    else:
                        position = max(1.0, query.position + shift + 0.35 * z(u[0]))
                    impressions = count(query.volume * visibility(position) * scale, u[1])
                    if impressions <= 0:
                        continue
                    snippet = snippet_factor(state, query.key, brand=query.brand)
                    ctr = expected_ctr(position) * snippet * (regressed**0.3 if query.brand else regressed)
                    ctr *= (BRAND_CTR if query.brand else 1.0) * math.exp(0.12 * z(u[2]))
                    ctr = min(ctr, 0.75)
                    mean = impressions * ctr
                    clicks = min(impressions, max(0, round(mean + math.sqrt(mean * (1 - ctr)) * z(u[3]))))
                    facts.append((query.text, path, impressions, clicks, round(position, 2)))
        self._search_cache[day] = facts
        return facts

    def search_appearance(self, path: str) -> tuple[str, float] | None:
        """The rich-result feature a page's results carry, with its share of impressions (None for most pages)."""
        model = self.pages.get(path)
        if model is None:
            return None
        if model.style == "guide":
            return "FAQ_RICH_RESULT", 0.3
        if model.style == "origin":
            return "REVIEW_SNIPPET", 0.2
        return None

    # -- analytics ----------------------------------------------------------------------

    def analytics_day(self, prop: str, day: date) -> list[Cell]:
        """Full-day analytics cells of a property (before GA4's processing lag)."""
        key = (prop, day)
        cached = self._analytics_cache.get(key)
        if cached is not None:
            return cached
        cells: list[Cell] = []
        if day >= self.history_start:
            if prop == MAIN_PROPERTY:
                cells = self._main_cells(day)
            elif prop == STAGING_PROPERTY:
                cells = self._staging_cells(day)
        self._analytics_cache[key] = cells
        return cells

    def _main_cells(self, day: date) -> list[Cell]:
        clicks: dict[str, int] = {}
        for _query, path, _imp, c, _pos in self.search_day(day):
            clicks[path] = clicks.get(path, 0) + c
        outage = 0.02 if self._in("tracking_outage", day) else 1.0
        holiday = self.incident_settings["holiday_bump"]["factor"] if self._in("holiday_bump", day) else 1.0
        weekend = self.incident_settings["weekly_seasonality"]["enabled"] and day.weekday() >= 5
        site = self._site_factor(day)  # search visits carry it through the clicks already
        cells: list[Cell] = []
        for path in sorted(self.pages):
            model = self.pages[path]
            state = model.state_on(day)
            if state is None:
                continue
            ramp = min(1.0, ((day - model.live_since).days + 1) / RAMP_DAYS) if model.live_since > date.min else 1.0
            for channel in CHANNELS:
                if channel == "Organic Search":
                    expected = clicks.get(path, 0) * 1.1
                elif channel == "Email":
                    expected = model.rates["Email"]
                    age = (day - model.live_since).days
                    if day.weekday() == 1:  # the Tuesday newsletter
                        expected += 25.0 if 0 <= age <= 21 and model.source == "wordpress" else 1.5
                    elif day.weekday() == 2:
                        expected += 9.0 if 0 <= age <= 21 and model.source == "wordpress" else 0.5
                    expected *= holiday * site
                else:
                    expected = model.rates[channel] * ramp * holiday
                    if weekend:
                        expected *= 1.1 if channel == "Organic Social" else 0.8
                    expected *= site
                if expected <= 0:
                    continue
                cells.extend(self._cells(day, model, state, channel, expected * outage, expected >= 0.5, holiday))
        return cells

    def _staging_cells(self, day: date) -> list[Cell]:
        cells: list[Cell] = []
        for index, path in enumerate(sorted(self.pages)[:3]):
            model = self.pages[path]
            state = model.state_on(day)
            if state is None:
                continue
            cells.extend(
                self._cells(day, model, state, "Direct", 0.4 if index == 0 else 0.15, False, 1.0, stream="staging")
            )
        return cells

    def _cells(
        self,
        day: date,
        model: PageModel,
        state: PageState,
        channel: str,
        expected: float,
        keep_empty: bool,
        holiday: float,
        stream: str = "ga",
    ) -> Iterator[Cell]:
        u = noise(self.seed, stream, model.path, channel, day.toordinal())
        sessions = count(expected, u[0])
        sources = SOURCES[channel]
        split = _largest_remainder(sessions, [s[3] for s in sources])
        q = quality(state)
        query_string = QUERY_STRINGS.get(channel, "")
        for index, ((source, medium, campaign, _share), s) in enumerate(zip(sources, split, strict=True)):
            if s == 0 and not (keep_empty and index == 0):
                continue
            v = noise(self.seed, stream, model.path, channel, source, day.toordinal())
            engaged = draw(s, min(0.92, max(0.15, ENGAGEMENT[channel] * q)), v[0])
            users = min(s, max(1 if s else 0, round(s * (0.84 + 0.1 * v[1]))))
            new = draw(users, NEW_USERS[channel], v[2])
            active = min(users, round(users * 0.97 + 0.4))
            views = s + count(s * (PAGES_PER_SESSION[channel] - 1.0) * (0.8 + 0.4 * v[3]), v[4]) if s else 0
            rate = BASE_CONVERSION_RATE * CONVERSION[channel] * model.intent * q * (1.2 if holiday > 1 else 1.0)
            rate = min(0.5, rate)
            conversions = draw(s, rate, v[5])
            engagement = round(engaged * (55 + 110 * v[6]) + (s - engaged) * 4)
            duration = engagement + round(s * (12 + 10 * v[7]))
            events = views * 2 + s * 2 + engaged + conversions
            grams = conversions * (1000 if model.style == "commercial" else 340)
            yield (
                model.path,
                channel,
                source,
                medium,
                campaign,
                query_string,
                (s, engaged, users, new, active, views, conversions, engagement, duration, events, grams),
            )

    def coffee_type(self, path: str) -> str:
        model = self.pages.get(path)
        return model.coffee_type if model else "(not set)"

    # -- realtime -----------------------------------------------------------------------

    def realtime(self, prop: str, minutes_ago: range) -> list[tuple[str, int, int, int, int, int]]:
        """(path, minutes ago, active users, views, events, key events) for each minute with activity."""
        now = self.world.now()
        today = now.date()
        per_page: dict[str, float] = {}
        for cell in self.analytics_day(prop, today):
            per_page[cell[0]] = per_page.get(cell[0], 0.0) + cell[6][0]
        minute_now = int(now.timestamp() // 60)
        out = []
        for path in sorted(per_page):
            daily = per_page[path]
            if daily <= 0:
                continue
            for ago in minutes_ago:
                minute = minute_now - ago
                hour = (minute // 60) % 24
                rate = daily / 1440.0 * (1.0 + 0.6 * math.sin(2 * math.pi * (hour - 9) / 24))
                u = noise(self.seed, "realtime", prop, path, minute)
                users = count(rate * 2.5, u[0])  # visitors stay a few minutes: each minute sees ~2.5 arrivals' worth
                if users <= 0:
                    continue
                views = users + count(users * 0.4, u[1])
                key_events = draw(users, 0.02, u[2])
                out.append((path, ago, users, views, views * 2 + key_events, key_events))
        return out

    # -- design, for tests and the admin API --------------------------------------------

    def design(self) -> dict[str, Any]:
        """What the model was built to contain: pages, their queries, the weak snippets, the incidents."""
        pages = []
        today = self.world.now().date()
        for path in sorted(self.pages):
            model = self.pages[path]
            state = model.state_on(today) or model.history[-1][1] or model.first_state
            pages.append(
                {
                    "page": path,
                    "source": model.source,
                    "live_since": None if model.live_since == date.min else str(model.live_since),
                    "opportunity": model.opportunity,
                    "quality": round(quality(state), 3),
                    "queries": [
                        {
                            "query": q.text,
                            "key": q.key,
                            "position": q.position,
                            "daily_volume": q.volume,
                            "brand": q.brand,
                            "snippet_factor": round(snippet_factor(state, q.key, brand=q.brand), 3),
                        }
                        for q in model.queries
                    ],
                }
            )
        return {
            "history_start": str(self.history_start),
            "start": str(self.start),
            "ctr_curve": {str(i + 1): v for i, v in enumerate(CTR_CURVE)},
            "opportunities": [
                {"page": path, "queries": [q.text for q in self.pages[path].queries if not q.brand][:3]}
                for path in self.opportunities
            ],
            "ranking_drop_page": self.ranking_drop_page(),
            "incidents": self.incidents(),
            "pages": pages,
        }


def _state_of(page: SitePage) -> PageState:
    return PageState(
        page.path,
        page.source,
        page.title,
        page.document_title or page.seo_title or page.title,
        page.description if page.document_title else page.meta_description,
        page.words,
        page.section,
    )


def _append(model: PageModel, effective: date, state: PageState | None) -> None:
    if model.history and model.history[-1][0] == effective:
        model.history[-1] = (effective, state)
    else:
        model.history.append((effective, state))


def _largest_remainder(total: int, shares: list[float]) -> list[int]:
    if total <= 0:
        return [0] * len(shares)
    raw = [total * s for s in shares]
    out = [int(r) for r in raw]
    rest = total - sum(out)
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out
