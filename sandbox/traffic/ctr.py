"""How search treats a page's result: the organic CTR curve, visibility by position, and the snippet
factor of the page's title and meta description."""

from __future__ import annotations

from .records import PageState, normalize_text

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
