"""Which pages the newer incidents hit and by how much: the ranking drop's further pages, the algorithm
update's shifts, the page whose form breaks, and the hidden taste of a snippet. Choices come from the
seeded streams the model hands in, so the same seed and settings always hit the same pages."""

from __future__ import annotations

import math
from datetime import date
from random import Random

from .channels import CONVERSION
from .ctr import expected_ctr, snippet_factor, visibility
from .noise import noise, z
from .records import PageModel, PageState, quality


def _search_volume(model: PageModel) -> float:
    return sum(q.volume for q in model.queries if not q.brand)


def busiest_settled(models: list[PageModel], settled: date) -> list[str]:
    """Non-home pages live since ``settled`` or before, the most searched first."""
    eligible = [m for m in models if m.source != "home" and m.live_since <= settled]
    eligible.sort(key=lambda m: (-_search_volume(m), m.path))
    return [m.path for m in eligible]


def ranking_drop_pages(rng: Random, models: list[PageModel], first: str, count: int, settled: date) -> list[str]:
    """``first``, then ``count - 1`` pages drawn from the busiest settled ones (twice as many as needed)."""
    others = [p for p in busiest_settled(models, settled) if p != first]
    pool = others[: max(2 * (count - 1), 4)]
    return [first, *sorted(rng.sample(pool, min(count - 1, len(pool))))]


def update_shifts(
    rng: Random, models: list[PageModel], live_by: date, share: float, gain: float, loss: float
) -> dict[str, float]:
    """The algorithm update: ``share`` of the non-home pages live by ``live_by`` (pages made later are
    not hit, and do not change which are), each moved by a position shift in [-gain, +loss]."""
    paths = sorted(m.path for m in models if m.source != "home" and m.live_since <= live_by)
    hit = sorted(rng.sample(paths, round(share * len(paths))))
    return {path: round(rng.uniform(-gain, loss), 2) for path in hit}


def expected_conversions(model: PageModel) -> float:
    """A page's key events a day as the model draws them before incidents (search clicks at its positions)."""
    state = model.first_state
    clicks = sum(
        q.volume * visibility(q.position) * expected_ctr(q.position) * snippet_factor(state, q.key, brand=q.brand)
        for q in model.queries
    )
    visits = clicks * 1.1 * CONVERSION["Organic Search"]
    visits += sum(rate * CONVERSION[channel] for channel, rate in model.rates.items())
    return visits * model.intent * quality(state)


def conversion_candidate(rng: Random, models: list[PageModel], settled: date) -> str | None:
    """The page ``conversion_drop`` hits unless one is given: drawn among the three settled pages (home
    included: its form counts too) that convert the most."""
    eligible = [m for m in models if m.live_since <= settled]
    eligible.sort(key=lambda m: (-expected_conversions(m), m.path))
    top = [m.path for m in eligible[:3]]
    return rng.choice(top) if top else None


def snippet_taste(seed: int, state: PageState, sigma: float) -> float:
    """The hidden taste searchers have for one snippet text of a page: lognormal with mean 1, fixed by the
    seed, the path, the title and the description, so the same snippet always draws alike."""
    u = noise(seed, "snippet_taste", state.path, state.document_title, state.description or "")
    return math.exp(sigma * z(u[0]) - sigma * sigma / 2)
