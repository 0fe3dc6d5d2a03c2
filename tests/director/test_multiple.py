"""Several subject lines against the original: the best of them is adopted only past a bar corrected
for how many there are, so null challengers do not win more often the more of them there are."""

import random

import pytest

from director.multiple import best_of, holm_thresholds
from director.stats import Counts, compare

from .test_stats import binomial

SEEDS = 3000


def test_holm_thresholds():
    assert holm_thresholds(0.99, 1) == pytest.approx([0.99])
    assert holm_thresholds(0.99, 2) == pytest.approx([0.995, 0.99])
    assert holm_thresholds(0.95, 4) == pytest.approx([0.9875, 1 - 0.05 / 3, 0.975, 0.95])
    with pytest.raises(ValueError):
        holm_thresholds(0.99, 0)


def arms(rng: random.Random, rate: float, lifts: list[float], n: int = 3000) -> tuple[Counts, list[Counts]]:
    control = Counts(binomial(rng, n, rate), n)
    return control, [Counts(binomial(rng, n, rate * (1 + lift)), n) for lift in lifts]


def false_wins(challengers: int, corrected: bool) -> float:
    wins = 0
    for seed in range(SEEDS):
        control, others = arms(random.Random(seed), 0.03, [0.0] * challengers)
        if corrected:
            wins += best_of(control, others, look=1, max_looks=1, min_trials=300, min_successes=10).winner is not None
        else:  # the best of them, judged as if it were the only one
            best = max(others, key=lambda c: c.rate)
            wins += compare(control, best, look=1, max_looks=1, min_trials=300, min_successes=10).verdict == "keep"
    return wins / SEEDS


def test_null_challengers_win_at_most_the_single_test_rate():
    single = false_wins(1, corrected=True)
    naive = false_wins(3, corrected=False)
    corrected = false_wins(3, corrected=True)
    assert naive > 1.8 * max(single, 1 / SEEDS)  # uncorrected, three nulls win about three times as often
    assert corrected <= 0.013  # the family's false wins stay near 1 - threshold (1%)
    assert corrected < naive / 2


def test_a_real_winner_among_nulls_is_found_and_is_the_one_adopted():
    found = plain = 0
    for seed in range(300):
        control, others = arms(random.Random(seed), 0.03, [0.0, 0.6])
        pick = best_of(control, others, look=1, max_looks=1, min_trials=300, min_successes=10)
        assert pick.winner in (None, 1)  # the null one never
        found += pick.winner == 1
        plain += compare(control, others[1], look=1, max_looks=1, min_trials=300, min_successes=10).verdict == "keep"
    assert found >= 0.85 * plain and found >= 200  # the correction costs little power


def test_the_highest_rate_of_those_that_pass_is_adopted_and_the_threshold_is_said():
    control = Counts(60, 3000)
    pick = best_of(control, [Counts(150, 3000), Counts(170, 3000)], look=1, max_looks=1)
    assert pick.winner == 1 and pick.decision.verdict == "keep" and pick.challengers == 2
    assert pick.threshold in holm_thresholds(0.99, 2)
    none = best_of(control, [Counts(62, 3000), Counts(58, 3000)], look=2, max_looks=2)
    assert none.winner is None and none.threshold == pytest.approx(0.995) and none.challenger == 0
    assert none.decision.verdict == "inconclusive"
