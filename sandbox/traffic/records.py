"""The traffic model's records: a page as it stood on a day, its queries, its model, and the rows the
model yields (search facts and analytics cells)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


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

    @property
    def first_state(self) -> PageState:
        """The page as the model first saw it: a page enters the model live."""
        state = self.history[0][1]
        if state is None:  # a page added and removed again on the same business day
            raise LookupError(f"{self.path} was removed before its first day live")
        return state

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


def normalize_text(text: str) -> str:
    """Lowercase words only: "Pour-Over" -> "pour over", "Do's" -> "dos"."""
    return " ".join(re.findall(r"[a-z0-9]+", (text or "").lower().replace("'", "").replace("\u2019", "")))


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


def page_coffee_type(state: PageState) -> str:
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
