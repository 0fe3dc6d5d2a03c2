"""The measuring half of the world: search and analytics numbers for every live page, day by day.

Everything here is a pure function of the seed, the business date and the page
as it stood that day, so the same seed and the same sequence of CMS edits and
clock moves always give the same numbers, whatever order reports are asked in.

Search (what the Search Console emulation serves)
    Each page has 5-15 queries built from its title ("cold brew ratio"), plus
    brand queries ("northwind coffee") on the home, about, contact, wholesale,
    shipping and subscription pages. Per query and page and day: an average
    position (stable, small noise), impressions (query volume x visibility at
    that position x weekly seasonality x slow trend x new-page ramp), and
    clicks = impressions x CTR, where CTR = ``expected_ctr(position)`` x the
    snippet factor of the page's title and meta description *as they stood that
    day* x noise. A CMS change made on day T counts from day T+1 (``observe``
    keeps a per-page history of snapshots).

Analytics (what the GA4 emulation serves)
    Sessions per landing page, channel and source per day: Organic Search is
    about 1.1 x that day's search clicks of the page; Direct, Referral, Email
    (Tuesday newsletter), Paid Search and Organic Social have their own rates.
    Engagement and conversion rates depend on a page-quality score derived from
    the page's fields (meta description, title length, body length).

Incidents (on by default, day offsets from the clock's start date; see
``DEFAULT_INCIDENTS``): a ranking drop on one page, a two-day GA4 tracking
outage (Search Console unaffected), weekly seasonality and a holiday bump.

Noise never comes from a shared random stream: each number hashes the seed with
what it describes (page, query, day, channel), so asking for one report never
shifts another. Construction choices (queries, positions, volumes, which pages
underperform) come from ``world.rng("traffic...")`` streams.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import struct
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from .world import SitePage, World

HISTORY_DAYS = 120  # days of data before the business clock's start date
RAMP_DAYS = 28  # a new page reaches its full search volume over four weeks
HOME_PATH = "/"
MAIN_PROPERTY = "420000001"
STAGING_PROPERTY = "420000002"

_NORMAL = NormalDist()

# -- incidents ---------------------------------------------------------------

DEFAULT_INCIDENTS: dict[str, dict[str, Any]] = {
    # From start+day on, every query of one page ranks ``positions`` lower (page chosen from the seed unless given).
    "ranking_drop": {"enabled": True, "day": 8, "positions": 6.0, "page": None},
    # GA4 records almost nothing on these days; Search Console is unaffected.
    "tracking_outage": {"enabled": True, "day": 14, "days": 2},
    # Weekends: fewer searches and fewer visits; the newsletter goes out on Tuesdays regardless.
    "weekly_seasonality": {"enabled": True, "weekend_factor": 0.72},
    # More searches, visits and conversions (Thanksgiving to Cyber Monday with the default start date).
    "holiday_bump": {"enabled": True, "day": 24, "days": 5, "factor": 1.3},
}
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
        if name not in DEFAULT_INCIDENTS:
            raise ValueError(f"unknown incident {name!r}; expected one of {', '.join(DEFAULT_INCIDENTS)}")
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


# -- the organic CTR curve and the snippet factor ------------------------------

CTR_CURVE = (0.28, 0.15, 0.10, 0.07, 0.05, 0.04, 0.03, 0.025, 0.022, 0.02)  # positions 1..10


def expected_ctr(position: float) -> float:
    """Share of impressions clicked at an average position, for an ordinary snippet."""
    if position <= 1:
        return CTR_CURVE[0]
    if position < 10:
        low = int(position)
        frac = position - low
        return CTR_CURVE[low - 1] + (CTR_CURVE[low] - CTR_CURVE[low - 1]) * frac
    if position < 20:
        return 0.02 - (position - 10) * 0.0014  # 0.006 at position 20
    return max(0.001, 0.006 - (position - 20) * 0.0004)


def visibility(position: float) -> float:
    """Share of a query's searches in which the result is seen at all: page one, page two, beyond."""
    if position <= 8:
        return 1.0
    if position <= 12:
        return 1.0 - (position - 8) * 0.1625  # 0.35 at 12
    if position <= 25:
        return 0.35 - (position - 12) * 0.0208  # ~0.08 at 25
    return 0.08


def normalize_text(text: str) -> str:
    """Lowercase words only: "Pour-Over" -> "pour over", "Do's" -> "dos"."""
    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower().replace("'", "").replace("\u2019", "")))


def snippet_factor(state: PageState, key: str, *, brand: bool = False) -> float:
    """How much better or worse than the curve the page's search snippet does for a query.

    Missing meta description x0.68; title over 65 characters (truncated) x0.82 or under 25 x0.85;
    the query's main word missing from the title x0.82; a 70-160 character description x1.08 and a
    35-60 character title x1.05. Clipped to 0.4-1.25. Brand searches care less (factor ** 0.3).
    """
    factor = 1.0
    length = len(state.document_title)
    if length > 65:
        factor *= 0.82
    elif length < 25:
        factor *= 0.85
    elif 35 <= length <= 60:
        factor *= 1.05
    description = state.description or ""
    if not description.strip():
        factor *= 0.68
    else:
        size = len(description)
        factor *= 0.9 if size < 70 else 0.95 if size > 160 else 1.08
        if key and f" {key} " in f" {normalize_text(description)} ":
            factor *= 1.03
    if key and f" {key} " not in f" {normalize_text(state.document_title)} ":
        factor *= 0.82
    factor = min(1.25, max(0.4, factor))
    return factor**0.3 if brand else factor


# -- deterministic noise -------------------------------------------------------


def noise(*parts: Any) -> tuple[float, ...]:
    """Eight uniforms in (0, 1) fixed by ``parts``."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=32).digest()
    return tuple((v + 0.5) / 4294967296.0 for v in struct.unpack("<8I", digest))


def z(u: float) -> float:
    return _NORMAL.inv_cdf(u)


def draw(n: int, p: float, u: float) -> int:
    """A binomial-ish draw of n trials at rate p from one uniform (normal approximation, clipped)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    mean = n * p
    return min(n, max(0, round(mean + math.sqrt(mean * (1 - p)) * z(u))))


def count(mean: float, u: float) -> int:
    """A Poisson-ish count with this mean from one uniform."""
    if mean <= 0:
        return 0
    return max(0, round(mean + math.sqrt(mean) * z(u)))


# -- query catalogue -------------------------------------------------------------

# Modifier templates and (min, max) daily search volume of a page's head phrases, by page style.
STYLES: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "guide": (
        (
            "{h} recipe",
            "{h} ratio",
            "{h} guide",
            "{h} tips",
            "best {h}",
            "{h} at home",
            "{h} for beginners",
            "{h} mistakes",
        ),
        (60.0, 220.0),
    ),
    "origin": (("{h} tasting notes", "{h} beans", "buy {h}", "{h} flavor", "{h} roast", "{h} review"), (20.0, 90.0)),
    "news": (("{h} news", "northwind {h}", "{h} 2026", "{h} opening"), (5.0, 25.0)),
    "commercial": (
        ("{h} near me", "{h} portland", "{h} prices", "{h} supplier", "{h} service", "{h} tacoma"),
        (30.0, 120.0),
    ),
    "marketing": (
        ("{h} tips", "{h} examples", "{h} ideas", "{h} checklist", "{h} strategy", "{h} template"),
        (10.0, 60.0),
    ),
    "info": (("{h} portland", "{h} near me", "best {h}", "{h} hours"), (3.0, 15.0)),
}

# Head phrases for the seeded catalogue's titles (normalized title -> heads, style). Other pages get
# heads from their own title words.
TOPICS: dict[str, tuple[tuple[str, ...], str]] = {
    "how to brew pour over coffee at home": (("pour over coffee", "pour over", "brew pour over"), "guide"),
    "the beginners guide to espresso dialing in": (("espresso dialing", "dialing in espresso", "espresso"), "guide"),
    "cold brew concentrate a simple overnight recipe": (
        ("cold brew", "cold brew concentrate", "overnight cold brew"),
        "guide",
    ),
    "meet the farmers behind our huila single origin": (
        ("huila coffee", "huila single origin", "single origin coffee"),
        "origin",
    ),
    "why we pay above fair trade prices": (("fair trade coffee", "fair trade prices"), "origin"),
    "ethiopia guji tasting notes from the cupping table": (
        ("ethiopia guji", "guji coffee", "guji tasting notes"),
        "origin",
    ),
    "were opening a second roastery in tacoma": (("tacoma roastery", "coffee roastery tacoma"), "news"),
    "introducing our coffee subscription": (
        ("coffee subscription", "coffee subscription box", "fresh roasted coffee subscription"),
        "commercial",
    ),
    "a decaf worth drinking our swiss water colombian": (
        ("swiss water decaf", "decaf coffee", "swiss water colombian"),
        "origin",
    ),
    "how to choose a burr grinder": (("burr grinder", "best burr grinder", "choose burr grinder"), "guide"),
    "coffee for the office our wholesale program": (
        ("office coffee", "wholesale coffee program", "office coffee service"),
        "commercial",
    ),
    "training baristas for cafe partners": (("barista training", "cafe barista training"), "commercial"),
    "storing coffee beans dos and donts": (
        ("storing coffee beans", "store coffee beans", "coffee bean storage"),
        "guide",
    ),
    "our 2026 sustainability report": (("coffee sustainability report", "sustainable coffee roaster"), "news"),
    "latte art basics pouring your first heart": (("latte art", "latte art heart", "latte art basics"), "guide"),
    "guatemala huehuetenango returns for the holidays": (
        ("huehuetenango coffee", "guatemala huehuetenango", "guatemala coffee"),
        "origin",
    ),
    "about us": (("coffee roaster story", "small batch coffee roasters"), "info"),
    "contact": (("coffee roastery tastings", "coffee tasting"), "info"),
    "wholesale": (("wholesale coffee", "wholesale coffee beans", "coffee wholesale supplier"), "commercial"),
    "shipping returns": (("coffee shipping", "coffee returns policy", "free coffee shipping"), "info"),
    "5 ways small roasters win on local search": (
        ("local search coffee roasters", "small roasters local search", "local seo roasters"),
        "marketing",
    ),
    "writing product pages that sell coffee": (("coffee product pages", "sell coffee online"), "marketing"),
    "email subject lines that get coffee lovers to open": (
        ("coffee email subject lines", "email subject lines"),
        "marketing",
    ),
    "seasonal launches without the stress": (("seasonal coffee launches", "seasonal launches"), "marketing"),
    "measuring what matters in a coffee subscription": (
        ("coffee subscription metrics", "subscription churn coffee"),
        "marketing",
    ),
    "photographing coffee for the web": (("photographing coffee", "coffee photography web"), "marketing"),
    "from cupping notes to ad copy": (("cupping notes", "coffee ad copy"), "marketing"),
    "building a wholesale landing page": (("wholesale landing page", "wholesale page coffee"), "marketing"),
}
HOME_TOPIC = (
    ("small batch coffee portland", "specialty coffee roasters portland", "portland coffee roasters"),
    "commercial",
)
SECTION_STYLES = {
    "Brewing Guides": "guide",
    "Origins": "origin",
    "Company News": "news",
    "Wholesale": "commercial",
    "page": "info",
    "blog-posts": "marketing",
    "home": "commercial",
}

# (query, where it lands: a path or "title:" + normalized title, daily volume, position)
BRAND_QUERIES: tuple[tuple[str, str, float, float], ...] = (
    ("northwind coffee", HOME_PATH, 45.0, 1.05),
    ("northwind coffee", "/about-us/", 45.0, 2.4),  # the same searches: two results of the site
    ("northwind coffee roasters", HOME_PATH, 28.0, 1.0),
    ("northwind roasters", HOME_PATH, 12.0, 1.1),
    ("northwind coffee portland", HOME_PATH, 9.0, 1.2),
    ("about northwind coffee", "/about-us/", 3.0, 1.3),
    ("northwind coffee phone number", "/contact/", 3.0, 1.2),
    ("northwind coffee contact", "/contact/", 2.0, 1.1),
    ("northwind coffee wholesale", "/wholesale/", 4.0, 1.4),
    ("northwind coffee shipping", "/shipping-returns/", 2.0, 1.5),
    ("northwind coffee subscription", "title:introducing our coffee subscription", 6.0, 1.3),
    ("northwind coffee subscription", HOME_PATH, 6.0, 2.3),
    ("northwind coffee wholesale", HOME_PATH, 4.0, 2.2),
)
BRAND_CTR = 2.2

_STOP = frozenset(
    "a an and are at by for from how in into is it its of on or our the their this to we were what "
    "when why with without your you that get do dos donts".split()
)

# -- analytics constants ---------------------------------------------------------

CHANNELS = ("Organic Search", "Direct", "Referral", "Email", "Paid Search", "Organic Social")
# channel -> (source, medium, campaign, share)
SOURCES: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "Organic Search": (
        ("google", "organic", "(organic)", 0.9),
        ("bing", "organic", "(organic)", 0.07),
        ("duckduckgo", "organic", "(organic)", 0.03),
    ),
    "Direct": (("(direct)", "(none)", "(direct)", 1.0),),
    "Referral": (
        ("coffeegeek.com", "referral", "(referral)", 0.5),
        ("sprudge.com", "referral", "(referral)", 0.3),
        ("baristamagazine.com", "referral", "(referral)", 0.2),
    ),
    "Email": (("newsletter", "email", "weekly-roast", 1.0),),
    "Paid Search": (("google", "cpc", "search-brand-and-wholesale", 1.0),),
    "Organic Social": (
        ("instagram.com", "referral", "(referral)", 0.45),
        ("facebook.com", "referral", "(referral)", 0.3),
        ("linkedin.com", "referral", "(referral)", 0.25),
    ),
}
QUERY_STRINGS = {
    "Email": "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly-roast",
    "Paid Search": "?utm_source=google&utm_medium=cpc&utm_campaign=search-brand-and-wholesale",
}
ENGAGEMENT = {
    "Organic Search": 0.62,
    "Direct": 0.55,
    "Referral": 0.6,
    "Email": 0.7,
    "Paid Search": 0.5,
    "Organic Social": 0.45,
}
NEW_USERS = {
    "Organic Search": 0.75,
    "Direct": 0.45,
    "Referral": 0.7,
    "Email": 0.15,
    "Paid Search": 0.8,
    "Organic Social": 0.7,
}
PAGES_PER_SESSION = {
    "Organic Search": 1.5,
    "Direct": 2.1,
    "Referral": 1.6,
    "Email": 1.9,
    "Paid Search": 1.7,
    "Organic Social": 1.3,
}
CONVERSION = {
    "Organic Search": 1.0,
    "Direct": 1.3,
    "Referral": 0.8,
    "Email": 2.2,
    "Paid Search": 1.6,
    "Organic Social": 0.5,
}
BASE_CONVERSION_RATE = 0.018
INTENT = {"commercial": 3.0, "guide": 1.0, "origin": 1.4, "news": 0.6, "marketing": 0.5, "info": 1.0}

# Metrics of one analytics cell, in this order; the GA4 emulation derives rates from them.
CELL_METRICS = (
    "sessions",
    "engagedSessions",
    "totalUsers",
    "newUsers",
    "activeUsers",
    "screenPageViews",
    "keyEvents",
    "userEngagementDuration",
    "sessionDuration",
    "eventCount",
    "customEvent:bag_weight",
)

# Fixed shares splitting analytics cells and search rows (values, then per-channel or flat shares).
DEVICE_SHARES = {
    "Organic Search": (0.42, 0.54, 0.04),
    "Direct": (0.5, 0.46, 0.04),
    "Referral": (0.55, 0.41, 0.04),
    "Email": (0.35, 0.61, 0.04),
    "Paid Search": (0.38, 0.58, 0.04),
    "Organic Social": (0.18, 0.78, 0.04),
}
DEVICES = ("desktop", "mobile", "tablet")
COUNTRIES = (
    ("United States", "US", "usa", 0.70),
    ("Canada", "CA", "can", 0.09),
    ("United Kingdom", "GB", "gbr", 0.07),
    ("Australia", "AU", "aus", 0.04),
    ("Germany", "DE", "deu", 0.04),
    ("India", "IN", "ind", 0.03),
    ("Japan", "JP", "jpn", 0.03),
)
AGE_BRACKETS = (
    ("18-24", 0.1),
    ("25-34", 0.28),
    ("35-44", 0.22),
    ("45-54", 0.14),
    ("55-64", 0.07),
    ("65+", 0.04),
    ("unknown", 0.15),
)
GENDERS = (("female", 0.41), ("male", 0.44), ("unknown", 0.15))
SEARCH_DEVICES = (("DESKTOP", 0.42), ("MOBILE", 0.55), ("TABLET", 0.03))


# -- records -------------------------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    """A page as search engines and visitors saw it on a given day."""

    path: str
    source: str  # "wordpress" | "webflow" | "home"
    title: str
    document_title: str
    description: str | None
    words: int
    section: str


@dataclass(frozen=True)
class Query:
    text: str
    key: str  # the word a snippet should carry for this query
    position: float  # average position before incidents and noise
    volume: float  # daily impressions at full visibility, before seasonality, trend and ramp
    brand: bool = False


@dataclass
class PageModel:
    path: str
    source: str
    style: str
    live_since: date
    history: list[tuple[date, PageState | None]]  # (effective from, state); None = not live
    queries: list[Query]
    trend: float  # per day, multiplicative
    rates: dict[str, float]  # expected daily sessions of the non-search channels
    intent: float
    coffee_type: str
    opportunity: bool = False

    def state_on(self, day: date) -> PageState | None:
        if day < self.live_since:
            return None
        current = None
        for effective, state in self.history:
            if effective > day:
                break
            current = state
        return current


# One search row of the model: (query, page path, impressions, clicks, position).
SearchFact = tuple[str, str, int, int, float]
# One analytics cell: (path, channel, source, medium, campaign, query string, metrics in CELL_METRICS order).
Cell = tuple[str, str, str, str, str, str, tuple[int, ...]]


def quality(state: PageState) -> float:
    """Page quality for engagement and conversion: 0.88 (bare) to 1.05 (described, good title, real body)."""
    score = 0.88
    if state.description:
        score += 0.07
    if 35 <= len(state.document_title) <= 60:
        score += 0.04
    if state.words >= 60:
        score += 0.06
    return min(1.05, score)


def _coffee_type(state: PageState) -> str:
    text = normalize_text(state.title)
    if "decaf" in text:
        return "decaf"
    if "cold brew" in text:
        return "cold brew"
    if "espresso" in text or "latte" in text or "barista" in text:
        return "espresso blend"
    if state.section == "Origins" or "single origin" in text:
        return "single origin"
    if "subscription" in text:
        return "subscription"
    return "(not set)"


# -- the model ------------------------------------------------------------------------


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
        rng = self.world.rng(f"traffic:page:{state.path}")
        normalized = normalize_text(state.title)
        if state.source == "home":
            heads, style = HOME_TOPIC
        elif normalized in TOPICS:
            heads, style = TOPICS[normalized]
        else:
            style = SECTION_STYLES.get(state.section, "marketing")
            heads = _heads_from_title(state.title)
        title_words = set(normalize_text(f"{state.title} {state.document_title}").split())
        modifiers, (low, high) = STYLES[style]
        queries: list[Query] = []
        seen: set[str] = set()

        def add(query: Query) -> None:
            if query.text not in seen:
                seen.add(query.text)
                queries.append(query)

        head_stats = []
        for index, head in enumerate(heads):
            position = rng.uniform(3.5, 13.0) if index == 0 else rng.uniform(4.0, 18.0)
            volume = rng.uniform(low, high) * (1.0 if index == 0 else rng.uniform(0.3, 0.8))
            head_stats.append((head, position, volume))
            add(Query(head, _key(head, title_words), round(position, 2), round(volume, 2)))
        variants = [
            (head, position, volume, template) for head, position, volume in head_stats for template in modifiers
        ]
        rng.shuffle(variants)
        wanted = rng.randint(5, 15)
        for head, position, volume, template in variants:
            if len(queries) >= wanted:
                break
            text = template.format(h=head)
            if len(set(text.split())) != len(text.split()):
                continue  # "portland coffee roasters portland" is nobody's search
            add(
                Query(
                    text,
                    _key(head, title_words),
                    round(position + rng.uniform(-1.0, 8.0), 2),
                    round(volume * rng.uniform(0.06, 0.35), 2),
                )
            )
        for text, target, volume, position in BRAND_QUERIES:
            if target == state.path or target == f"title:{normalized}":
                add(Query(text, "northwind", position, volume, brand=True))

        rates = {
            "Direct": rng.uniform(1.0, 3.0),
            "Referral": 0.0,
            "Email": 0.3,
            "Paid Search": 0.0,
            "Organic Social": rng.uniform(0.3, 1.5),
        }
        if state.source == "home":
            rates.update({"Direct": 38.0, "Paid Search": 6.0, "Email": 1.0, "Organic Social": 3.0})
        if style in ("guide", "origin", "news"):
            rates["Referral"] = rng.uniform(0.5, 3.0)
        if style == "marketing":
            rates["Organic Social"] = rng.uniform(1.0, 4.0)
        if state.path == "/wholesale/":
            rates["Paid Search"] = 12.0
        if "subscription" in normalized and state.source == "wordpress":
            rates["Paid Search"] = 15.0
        if state.section == "page":
            rates["Direct"] = rng.uniform(1.5, 4.0)
            rates["Organic Social"] = 0.0
        return PageModel(
            path=state.path,
            source=state.source,
            style=style,
            live_since=live_since,
            history=history,
            queries=queries,
            trend=rng.uniform(-0.0015, 0.0025),
            rates=rates,
            intent=INTENT[style] * (1.5 if state.path == "/contact/" else 1.0),
            coffee_type=_coffee_type(state),
        )

    def _choose_roles(self) -> None:
        """Pick the pages that underperform by design and the page the ranking drop hits."""
        rng = self.world.rng("traffic")
        settled = self.start - timedelta(days=45)
        candidates = [
            m
            for m in self.pages.values()
            if m.source != "home"
            and m.live_since <= settled
            and not m.history[0][1].description
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
            and m.history[0][1].description
        ]
        others = others or [m for m in self.pages.values() if m.source != "home" and not m.opportunity]
        others.sort(key=lambda m: (-sum(q.volume for q in m.queries if not q.brand), m.path))
        self.drop_page = others[0].path if others else HOME_PATH

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
                state = other.history[0][1]
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
        return out

    def ranking_drop_page(self) -> str:
        return self.incident_settings["ranking_drop"]["page"] or self.drop_page

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
        return factor

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
                if state is None:
                    continue
                ramp = min(1.0, ((day - model.live_since).days + 1) / RAMP_DAYS) if model.live_since > date.min else 1.0
                scale = seasonal * ramp * math.exp(model.trend * (day - self.start).days)
                shift = drop if dropped is not None and path == drop_page and day >= dropped[0] else 0.0
                for query in model.queries:
                    u = noise(self.seed, "search", path, query.text, day.toordinal())
                    if query.brand:  # navigational: stays on top, only ever a little lower
                        position = max(1.0, query.position + shift + abs(0.12 * z(u[0])))
                    else:
                        position = max(1.0, query.position + shift + 0.35 * z(u[0]))
                    impressions = count(query.volume * visibility(position) * scale, u[1])
                    if impressions <= 0:
                        continue
                    ctr = expected_ctr(position) * snippet_factor(state, query.key, brand=query.brand)
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
                    expected *= holiday
                else:
                    expected = model.rates[channel] * ramp * holiday
                    if weekend:
                        expected *= 1.1 if channel == "Organic Social" else 0.8
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
        for index, ((source, medium, campaign, _share), s) in enumerate(zip(sources, split)):
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
            state = model.state_on(today) or model.history[-1][1] or model.history[0][1]
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


def _heads_from_title(title: str) -> tuple[str, ...]:
    words = [w for w in normalize_text(title).split() if w not in _STOP and not w.isdigit() and len(w) > 2]
    words = list(dict.fromkeys(words)) or ["coffee"]
    heads = [" ".join(words[:2]), " ".join(words[:3]), words[0]]
    return tuple(dict.fromkeys(h for h in heads if h))


def _key(head: str, title_words: set[str]) -> str:
    words = head.split()
    for word in words:
        if word in title_words and word not in _STOP and word != "coffee":
            return word
    return next((w for w in words if w not in _STOP and w not in ("best", "buy", "coffee")), words[0])


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
