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
outage (Search Console unaffected), weekly seasonality and a holiday bump; off by default, a
whole-site drop, a page unpublished or noindexed by mistake, a page's snippet regressing, an algorithm
update, a broken form (key events only), a late Search Console and a hidden taste for snippets.

Noise never comes from a shared random stream: each number hashes the seed with
what it describes (page, query, day, channel), so asking for one report never
shifts another. Construction choices (queries, positions, volumes, which pages
underperform) come from ``world.rng("traffic...")`` streams.
Modules: ``model`` (``TrafficModel``, the day-by-day numbers), ``catalogue`` (each page's queries
and visit rates), ``channels`` (the analytics constants and split shares), ``ctr`` (the CTR curve
and the snippet factor), ``noise`` (deterministic noise), ``incidents`` (settings and checks), ``hits``
(which pages the newer incidents hit), ``entries`` (``GET /_sandbox/incidents``) and ``records``. The names
other packages use are re-exported here.
"""

from __future__ import annotations

from .catalogue import HOME_PATH
from .channels import (
    AGE_BRACKETS,
    CELL_METRICS,
    CHANNELS,
    COUNTRIES,
    DEVICE_SHARES,
    DEVICES,
    GENDERS,
    MAIN_PROPERTY,
    SEARCH_DEVICES,
    STAGING_PROPERTY,
)
from .ctr import CTR_CURVE, expected_ctr, snippet_factor, visibility
from .incidents import DEFAULT_INCIDENTS, MISTAKES, normalize_incidents
from .model import HISTORY_DAYS, RAMP_DAYS, TrafficModel
from .noise import count, draw, noise
from .records import Cell, PageModel, PageState, Query, SearchFact, normalize_text, quality

__all__ = [
    "AGE_BRACKETS",
    "CELL_METRICS",
    "CHANNELS",
    "COUNTRIES",
    "CTR_CURVE",
    "DEFAULT_INCIDENTS",
    "DEVICES",
    "DEVICE_SHARES",
    "GENDERS",
    "HISTORY_DAYS",
    "HOME_PATH",
    "MAIN_PROPERTY",
    "MISTAKES",
    "RAMP_DAYS",
    "SEARCH_DEVICES",
    "STAGING_PROPERTY",
    "Cell",
    "PageModel",
    "PageState",
    "Query",
    "SearchFact",
    "TrafficModel",
    "count",
    "draw",
    "expected_ctr",
    "noise",
    "normalize_incidents",
    "normalize_text",
    "quality",
    "snippet_factor",
    "visibility",
]
