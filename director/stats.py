"""Did the change work? The Director's statistical decisions, and the detections that start a loop.

Decision rule. Each rate gets a Beta(1 + successes, 1 + failures) posterior; the log of a rate is
summarised by its exact posterior mean and variance (digamma, trigamma) and the log of the effect
(a ratio of rates, or a ratio of ratios) is treated as normal. `probability` is the posterior
probability that the change is better than its counterfactual.

Loops look at the data several times, so a fixed 99% at every look would add up false wins. The
probability needed at look k of K is Phi(z * sqrt(K / k)) with z = Phi^-1(threshold): an
O'Brien-Fleming-shaped boundary. Early looks need overwhelming evidence (99.997% at look 1 of 3
for threshold 0.99), the last look needs exactly `threshold`, so power is barely lower than one
look at the end. On the score scale this boundary is flat, so with looks at roughly even amounts
of data the chance of a false keep stays below 2 * (1 - threshold), 2%, however many looks;
rollbacks get the same boundary, except where a caller sets `harm`: then a change that is credibly
worse (posterior probability of harm at least `harm`) is rolled back at the first look that shows it
(undoing a change costs nothing, leaving a harmful one live costs every day). Nothing is decided
before a minimum sample: every group needs `min_trials` trials and, on average, `min_successes`
successes.

Counts are treated as independent trials; day-to-day swings beyond that (common in click rates)
are what the control groups of `difference_in_differences` absorb.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist, median
from typing import Literal

Verdict = Literal["keep", "rollback", "continue", "inconclusive"]

_NORMAL = NormalDist()
_Z95 = _NORMAL.inv_cdf(0.975)


@dataclass(frozen=True)
class Counts:
    """Successes out of trials: clicks / impressions, or unique clicks / delivered."""

    successes: float
    trials: float

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.trials:
            raise ValueError(f"Counts need 0 <= successes <= trials, got {self.successes} of {self.trials}.")

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials > 0 else 0.0


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    probability: float  # posterior probability that the change is better than its counterfactual
    effect: float  # estimated relative effect, +0.18 = +18%
    low: float  # 95% interval of the relative effect
    high: float
    reason: str  # one sentence a marketer understands, with the numbers


def compare(
    control: Counts,
    treated: Counts,
    *,
    look: int,
    max_looks: int,
    min_trials: float = 1000,
    min_successes: float = 30,
    threshold: float = 0.99,
) -> Decision:
    """Two groups (A/B test arms, or before/after): is the treated rate better than the control's?"""
    mean_t, var_t = _log_rate(treated)
    mean_c, var_c = _log_rate(control)
    return _decide(
        mean_t - mean_c,
        var_t + var_c,
        [control, treated],
        look=look,
        max_looks=max_looks,
        min_trials=min_trials,
        min_successes=min_successes,
        threshold=threshold,
        subject=f"the rate went from {_rate(control.rate)} to {_rate(treated.rate)}",
    )


def difference_in_differences(
    treated_before: Counts,
    treated_after: Counts,
    control_before: Counts,
    control_after: Counts,
    *,
    look: int,
    max_looks: int,
    min_trials: float = 1000,
    min_successes: float = 30,
    threshold: float = 0.99,
) -> Decision:
    """A change on some pages, judged against untouched control pages over the same days.

    The effect is (treated_after / treated_before) / (control_after / control_before) on rates, so a
    change that hits every page alike (season, an algorithm update) cancels out.
    """
    groups = [treated_before, treated_after, control_before, control_after]
    (m_tb, v_tb), (m_ta, v_ta), (m_cb, v_cb), (m_ca, v_ca) = (_log_rate(g) for g in groups)
    return _decide(
        (m_ta - m_tb) - (m_ca - m_cb),
        v_tb + v_ta + v_cb + v_ca,
        groups,
        look=look,
        max_looks=max_looks,
        min_trials=min_trials,
        min_successes=min_successes,
        threshold=threshold,
        subject=(
            f"the changed pages went from {_rate(treated_before.rate)} to "
            f"{_rate(treated_after.rate)} while the untouched ones went from "
            f"{_rate(control_before.rate)} to {_rate(control_after.rate)}"
        ),
    )


def daily_effect(
    before: list[float],
    after: list[float],
    *,
    look: int,
    max_looks: int,
    min_days: int = 5,
    threshold: float = 0.99,
    harm: float | None = 0.95,
    counts: tuple[Counts, Counts] | None = None,
    min_trials: float = 1,
    min_successes: float = 1,
    subject: str = "the change",
) -> Decision:
    """A change judged on daily log values (e.g. log(CTR / expected CTR), minus the same for untouched
    pages): the effect is the mean after minus the mean before, its variance measured from the days.

    Real pages (and the sandbox's) swing from day to day more than independent impressions would
    (positions, queries and competitors move), so counting impressions as independent trials overstates
    certainty; the spread of the daily values does not.

    `counts`: the events behind each window (clicks of impressions, before and after); with them, each
    window needs `min_trials` trials and the two `min_successes` events on average, so pages with a
    click or two a day are not judged on the noise of their ratios. `harm`: see the module's docstring.
    """
    if len(before) < min_days or len(after) < min_days:
        mean, var, groups = 0.0, 1.0, [Counts(0, 0)]  # too few days to measure the spread: not decided yet
    else:
        # Welch's variance, widened for the few days a t distribution would allow for.
        var = sum(_var(x) / len(x) * (len(x) - 1) / max(len(x) - 3, 1) for x in (before, after))
        mean = sum(after) / len(after) - sum(before) / len(before)
        groups = list(counts) if counts is not None else [Counts(1, 1)]
    return _decide(
        mean,
        max(var, 1e-9),
        groups,
        look=look,
        max_looks=max_looks,
        min_trials=min_trials if counts is not None else 1,
        min_successes=min_successes if counts is not None else 1,
        threshold=threshold,
        harm=harm,
        subject=f"{subject} over {len(before)} days before and {len(after)} after",
    )


def _var(values: list[float]) -> float:
    m = sum(values) / len(values)
    return sum((v - m) ** 2 for v in values) / max(len(values) - 1, 1)


def against_expected(
    observed: Counts,
    expected_rate: float,
    *,
    look: int,
    max_looks: int,
    min_trials: float = 1000,
    min_successes: float = 30,
    threshold: float = 0.99,
) -> Decision:
    """Observed rate against a known expectation (e.g. the expected click rate for a position)."""
    if not 0 < expected_rate < 1:
        raise ValueError(f"The expected rate must be between 0 and 1, got {expected_rate}.")
    mean, var = _log_rate(observed)
    expected = Counts(observed.trials * expected_rate, observed.trials)
    return _decide(
        mean - math.log(expected_rate),
        var,
        [observed, expected],
        look=look,
        max_looks=max_looks,
        min_trials=min_trials,
        min_successes=min_successes,
        threshold=threshold,
        subject=f"the rate is {_rate(observed.rate)} against {_rate(expected_rate)} expected",
    )


def below(observed: Counts, baseline_rate: float, *, confidence: float = 0.95, min_trials: float = 500) -> bool:
    """Detection: is this rate credibly below the baseline (a campaign's click rate vs the audience's)?"""
    if observed.trials < min_trials or baseline_rate <= 0:
        return False
    mean, var = _log_rate(observed)
    return _NORMAL.cdf((math.log(baseline_rate) - mean) / math.sqrt(var)) >= confidence


@dataclass(frozen=True)
class Estimate:
    """A level measured on the log scale, with the variance of that measure (e.g. log of a page's CTR against
    the curve over a window)."""

    log: float
    var: float


def credible_fall(
    before: Estimate,
    after: Estimate,
    *,
    shift: float = 0.0,
    tests: int = 1,
    confidence: float = 0.99,
    fall: float = 0.3,
) -> tuple[bool, float, float]:
    """Detection of a level that fell against its own past: (fell, relative change, probability it fell).

    `shift`: the log change everything alike saw over the same days (the median of a site's pages), taken
    out first. `tests`: how many levels are judged together; the confidence needed is Bonferroni-corrected
    over them, so watching every page every day does not add up false alarms. A fall needs both: the
    corrected confidence that the level is lower, and a size of at least `fall` (-30%)."""
    if not 0.5 < confidence < 1:
        raise ValueError(f"The confidence is a probability above 0.5 and below 1, got {confidence}.")
    delta = after.log - before.log - shift
    sd = math.sqrt(max(before.var + after.var, 1e-12))
    probability = _NORMAL.cdf(-delta / sd)
    change = math.exp(delta) - 1
    return probability >= 1 - (1 - confidence) / max(tests, 1) and change <= -fall, change, probability


def seasonal_drop(
    history: list[float],
    recent: list[float],
    *,
    period: int = 7,
    min_level: float = 20,
    drop: float = 0.25,
    skip: frozenset[int] = frozenset(),
    sigmas: float = 3.0,
) -> tuple[bool, float, float]:
    """Detection of a drop against a seasonality-aware baseline.

    `history` is daily values up to the day before `recent` starts (several weeks); each recent day
    is compared with the median of the same weekday in history (days `period` apart). Returns
    (dropped, relative change of the recent total, baseline level per day). A drop is at least `drop`
    and stands `sigmas` standard deviations out of the series' own day-to-day noise (counts scatter at
    least as much as Poisson counts; a small page's -30% week is often just that). Series whose
    baseline is below `min_level` per day, or with less than one period of history, are never
    flagged. `skip`: the indices of recent days not to count (a tracking outage): left out of both
    sides, never filled in.
    """
    kept = [i for i in range(len(recent)) if i not in skip]
    if len(history) < period or not kept:
        return False, 0.0, 0.0
    start = len(history)
    weekday = [median(history[k::period]) for k in range(period)]
    expected = {i: weekday[(start + i) % period] for i in kept}
    level = sum(expected.values()) / len(expected)
    if level <= 0:
        return False, 0.0, level
    total = sum(expected.values())
    change = sum(recent[i] for i in kept) / total - 1
    # The history's scatter around its weekday medians, per unit of Poisson variance (at least 1); the
    # baseline is taken one standard error lower (a median's is about pi/2 times a mean's), so a drop
    # has to be unlikely even from the low end of what the weeks before allow.
    spread = [(v - weekday[j % period]) ** 2 / max(weekday[j % period], 1.0) for j, v in enumerate(history)]
    dispersion = max(1.0, sum(spread) / len(spread))
    weeks = max(1, len(history) // period)
    low = max(total - math.sqrt(dispersion * math.pi / 2 * total / weeks), 1e-9)
    unlikely = _poisson_below(sum(recent[i] for i in kept) / dispersion, low / dispersion) <= _NORMAL.cdf(-sigmas)
    return level >= min_level and change <= -drop and unlikely, change, level


def _poisson_below(observed: float, mean: float) -> float:
    """P(X <= observed) for X ~ Poisson(mean): summed exactly for small means (where a week of zeros is
    far less likely than a normal curve says), by the normal curve with continuity correction above."""
    if mean >= 50:
        return _NORMAL.cdf((math.floor(observed) + 0.5 - mean) / math.sqrt(mean))
    return min(1.0, sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(int(observed) + 1)))


def _decide(
    mean: float,
    var: float,
    groups: list[Counts],
    *,
    look: int,
    max_looks: int,
    min_trials: float,
    min_successes: float,
    threshold: float,
    subject: str,
    harm: float | None = None,
) -> Decision:
    if max_looks < 1 or look < 1:
        raise ValueError(f"Looks count from 1: got look {look} of {max_looks}.")
    if not 0.5 < threshold < 1:
        raise ValueError(f"The threshold is a probability above 0.5 and below 1, got {threshold}.")
    look = min(look, max_looks)
    last = look == max_looks
    sd = math.sqrt(var)
    probability = _NORMAL.cdf(mean / sd)
    effect = math.exp(mean) - 1
    low, high = math.exp(mean - _Z95 * sd) - 1, math.exp(mean + _Z95 * sd) - 1
    needed = _NORMAL.cdf(_NORMAL.inv_cdf(threshold) * math.sqrt(max_looks / look))
    if harm is not None and not 0.5 < harm < 1:
        raise ValueError(f"The harm threshold is a probability above 0.5 and below 1, got {harm}.")
    needed_harm = needed if harm is None else min(needed, harm)

    fewest = min(g.trials for g in groups)
    average = sum(g.successes for g in groups) / len(groups)
    numbers = (
        f"{subject}, {effect:+.1%} (95% range {low:+.1%} to {high:+.1%}), "
        f"a {_prob(probability)} chance the change is better"
    )
    where = f"look {look} of {max_looks}"
    if fewest < min_trials or average < min_successes:
        verdict: Verdict = "inconclusive" if last else "continue"
        reason = (
            f"Too little data to judge at {where}: {numbers}, but each group needs {min_trials:,.0f} "
            f"trials and {min_successes:,.0f} successes on average (smallest {fewest:,.0f}, "
            f"average {average:,.0f})."
        )
    elif probability >= needed:
        verdict = "keep"
        reason = f"Keep it: {numbers}, at least the {_prob(needed)} needed at {where}."
    elif 1 - probability >= needed_harm:
        verdict = "rollback"
        reason = (
            f"Roll it back: {numbers} ({_prob(1 - probability)} that it is worse), at least the "
            f"{_prob(needed_harm)} needed at {where}."
        )
    elif last:
        verdict = "inconclusive"
        reason = f"No measurable effect after {where}: {numbers}, short of the {_prob(needed)} needed either way."
    else:
        verdict = "continue"
        reason = f"Not decided yet: {numbers}; {where} needs {_prob(needed)} either way, so keep collecting."
    return Decision(verdict, probability, effect, low, high, reason[0].upper() + reason[1:])


def _log_rate(counts: Counts) -> tuple[float, float]:
    """Posterior mean and variance of log(rate) under a Beta(1 + successes, 1 + failures) posterior."""
    a, b = counts.successes + 1, counts.trials - counts.successes + 1
    return _digamma(a) - _digamma(a + b), _trigamma(a) - _trigamma(a + b)


def _digamma(x: float) -> float:
    shift = 0.0
    while x < 6:
        shift -= 1 / x
        x += 1
    f = 1 / (x * x)
    return shift + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))


def _trigamma(x: float) -> float:
    shift = 0.0
    while x < 6:
        shift += 1 / (x * x)
        x += 1
    f = 1 / (x * x)
    return shift + 1 / x + f / 2 + f / x * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)))


def _rate(rate: float) -> str:
    return f"{rate:.2%}"


def _prob(p: float) -> str:
    if p >= 0.9999:
        return ">99.99%"
    if p <= 0.0001:
        return "<0.01%"
    return f"{p:.2%}" if p >= 0.99 or p <= 0.01 else f"{p:.1%}"
