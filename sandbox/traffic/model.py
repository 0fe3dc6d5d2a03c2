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
    DEVICE_SHARES,
    DEVICES,
    ENGAGEMENT,
    MAIN_PROPERTY,
    NEW_USERS,
    PAGES_PER_SESSION,
    QUERY_STRINGS,
    SOURCES,
    STAGING_PROPERTY,
)
from .ctr import CTR_CURVE, expected_ctr, snippet_factor, visibility
from .entries import describe_incidents
from .hits import conversion_candidate, ranking_drop_pages, update_shifts
from .hits import snippet_taste as taste_of
from .incidents import MISTAKES, check_scope, normalize_incidents, regression_candidate
from .noise import count, draw, noise, z
from .records import Cell, PageModel, PageState, Query, SearchFact, normalize_text, quality

if TYPE_CHECKING:
    from ..world import SitePage, World

HISTORY_DAYS = 120  # days of data before the business clock's start date
OUTAGE_RECORDED = 0.02  # the share of sessions GA4 still records where a tracking outage hits
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
        # What the newer incidents hit, drawn on first use: (incident, settings...) -> pages, shifts or tastes.
        self._hits: dict[Any, Any] = {}
        # Pages redirected by mistake: path -> (the target their visits land on, from).
        self.redirects: dict[str, tuple[str, date]] = {}
        current, published_on = self._current_states()
        for path in sorted(current):
            state = current[path]
            published = published_on.get(path)
            # Seeded pages have history back to their publication; the home page has always been there.
            live = date.min if published is None else published.date() + timedelta(days=1)
            self.pages[path] = self._new_page(state, live, [(date.min, state)])
        self._snapshot = current
        self.check_incidents(self.incident_settings)
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
        self.redirect_page = ([m.path for m in wordpress[2:]] + self.mistake_pages)[0]  # the next-busiest
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
        """``GET /_sandbox/incidents``: every incident's settings, window and the pages it hits."""
        update = self._update_shifts() if self.incident_settings["algorithm_update"]["enabled"] else {}
        hits = {
            "ranking_drop": self.ranking_drop_pages(),
            **{name: [self.mistake_page(name)] for name in MISTAKES},
            "snippet_regression": [self.snippet_regression_page()],
            "conversion_drop": [self.conversion_drop_page()],
            "page_redirected": [self.redirected_page()],
        }
        return describe_incidents(self.incident_settings, self.start, hits, update)

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

    def ranking_drop_pages(self) -> list[str]:
        """Every page the ranking drop hits: its first page, then ``count - 1`` drawn from the seed."""
        first, number = self.ranking_drop_page(), self.incident_settings["ranking_drop"]["count"]
        key = ("ranking_drop", first, number)
        if key not in self._hits:
            settled = self.start - timedelta(days=45)
            rng = self.world.rng("traffic:ranking_drop")
            self._hits[key] = ranking_drop_pages(rng, list(self.pages.values()), first, number, settled)
        return list(self._hits[key])

    def _update_shifts(self) -> dict[str, float]:
        """The algorithm update's position shift of each page it hits (negative: higher)."""
        spec = self.incident_settings["algorithm_update"]
        key = ("algorithm_update", spec["share"], spec["gain"], spec["loss"])
        if key not in self._hits:
            rng = self.world.rng("traffic:algorithm_update")
            models = list(self.pages.values())
            self._hits[key] = update_shifts(rng, models, self.start, spec["share"], spec["gain"], spec["loss"])
        return dict(self._hits[key])

    def _shift(self, path: str, day: date) -> float:
        """Positions a page's queries rank lower on a day: the ranking drop (ramping up) and the update."""
        shift = 0.0
        window = self._window("ranking_drop")
        if window is not None and day >= window[0] and path in self.ranking_drop_pages():
            spec = self.incident_settings["ranking_drop"]
            ramp = spec["ramp_days"]
            shift += spec["positions"] * (min(1.0, (day - window[0]).days / ramp) if ramp else 1.0)
        window = self._window("algorithm_update")
        if window is not None and day >= window[0]:
            shift += self._update_shifts().get(path, 0.0)
        return shift

    def conversion_drop_page(self) -> str:
        """The page whose form breaks (``"*"``: every page's checkout): as configured, or from the seed."""
        given = self.incident_settings["conversion_drop"]["page"]
        if given:
            return given
        if "conversion_drop" not in self._hits:
            rng = self.world.rng("traffic:conversion_drop")
            chosen = conversion_candidate(rng, list(self.pages.values()), self.start - timedelta(days=45))
            self._hits["conversion_drop"] = chosen or HOME_PATH
        return self._hits["conversion_drop"]

    def _converting(self, path: str, day: date) -> float:
        """The share of a page's key events still recorded on a day (below 1 once its form broke)."""
        window = self._window("conversion_drop")
        if window is None or day < window[0] or self.conversion_drop_page() not in ("*", path):
            return 1.0
        return float(self.incident_settings["conversion_drop"]["factor"])

    def _outage_scope(self, day: date) -> tuple[str, str] | None:
        """What the tracking outage hides on a day: ("all", "") or its (kind, value) scope; None: no outage."""
        if not self._in("tracking_outage", day):
            return None
        scope = self.incident_settings["tracking_outage"]["scope"]
        return ("all", "") if scope is None else check_scope(scope, None)

    def device_shares(self, channel: str, day: date) -> tuple[float, ...]:
        """How a channel's sessions of a day split by device (``DEVICES`` order): the fixed shares, with the
        device an outage hides down to what it still records, renormalised."""
        shares = DEVICE_SHARES.get(channel, DEVICE_SHARES["Organic Search"])
        scope = self._outage_scope(day)
        if scope is None or scope[0] != "device":
            return shares
        kept = [s * (OUTAGE_RECORDED if d == scope[1] else 1.0) for d, s in zip(DEVICES, shares, strict=True)]
        return tuple(k / sum(kept) for k in kept)

    def _recorded(self, day: date, channel: str, state: PageState) -> float:
        """The share of a cell's sessions GA4 records on a day (the tracking outage and its scope)."""
        scope = self._outage_scope(day)
        if scope is None:
            return 1.0
        kind, value = scope
        if kind == "device":
            shares = DEVICE_SHARES.get(channel, DEVICE_SHARES["Organic Search"])
            return 1.0 - shares[DEVICES.index(value)] * (1.0 - OUTAGE_RECORDED)
        hit = (
            kind == "all" or (kind == "channel" and channel == value) or (kind == "section" and state.section == value)
        )
        return OUTAGE_RECORDED if hit else 1.0

    def sections(self) -> set[str]:
        """The sections of the pages the site serves now (what a ``section:`` outage scope may name)."""
        return {state.section for state in self._snapshot.values()}

    def check_incidents(self, settings: dict[str, dict[str, Any]]) -> None:
        """Checks that need the site: a ``section:`` outage scope must name one of its sections."""
        scope = settings["tracking_outage"]["scope"]
        if scope is not None:
            check_scope(scope, self.sections())

    def search_console_lag(self, today: date) -> int:
        """Days Search Console's data arrives later than usual today (the ``search_console_delay``)."""
        return (
            self.incident_settings["search_console_delay"]["extra_days"]
            if self._in("search_console_delay", today)
            else 0
        )

    def snippet_taste(self, state: PageState) -> float:
        """The hidden taste for a snippet text (1 unless ``snippet_taste`` is on)."""
        spec = self.incident_settings["snippet_taste"]
        if not spec["enabled"]:
            return 1.0
        key = ("taste", state.path, state.document_title, state.description, spec["sigma"])
        if key not in self._hits:
            self._hits[key] = taste_of(self.seed, state, spec["sigma"])
        return self._hits[key]

    def mistake_page(self, name: str) -> str:
        """The page ``page_unpublished`` or ``page_noindexed`` hits: as configured, or chosen from the seed."""
        chosen = self.mistake_pages[0 if name == "page_unpublished" else 1]
        return self.incident_settings[name]["page"] or chosen

    def redirected_page(self) -> str:
        """The page ``page_redirected`` hits: as configured, or the next-busiest WordPress page."""
        return self.incident_settings["page_redirected"]["page"] or self.redirect_page

    def redirect(self, path: str, target: str, first: date) -> None:
        """From ``first`` the page answers a redirect to ``target``: its visits land there, and search
        engines drop it two days later."""
        self.redirects[path] = (target, first)
        self.deindex(path, first + timedelta(days=2))

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
            seasonal = self._seasonal(day)
            for path in sorted(self.pages):
                model = self.pages[path]
                state = model.state_on(day)
                if state is None or not self._indexed(path, day):
                    continue
                ramp = min(1.0, ((day - model.live_since).days + 1) / RAMP_DAYS) if model.live_since > date.min else 1.0
                scale = seasonal * ramp * math.exp(model.trend * (day - self.start).days)
                shift = self._shift(path, day)
                regressed = self._regressed(path, model, day) * self.snippet_taste(state)
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
                recorded = expected * self._recorded(day, channel, state)
                converting = self._converting(path, day)
                made = self._cells(day, model, state, channel, recorded, expected >= 0.5, holiday, converting)
                landing = self._landing(path, day)
                cells.extend(made if landing == path else ((landing, *cell[1:]) for cell in made))
        return cells

    def _landing(self, path: str, day: date) -> str:
        """Where a visit to ``path`` lands on a day: the redirect's target once it is in place."""
        redirect = self.redirects.get(path)
        return redirect[0] if redirect is not None and day >= redirect[1] else path

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
        converting: float = 1.0,
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
            rate = min(0.5, rate) * converting  # a broken form: the visits come, the key events do not
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
            taste = self.snippet_taste(state)
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
                            "snippet_factor": round(
                                snippet_factor(state, q.key, brand=q.brand) * (taste**0.3 if q.brand else taste), 3
                            ),
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
