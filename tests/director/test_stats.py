"""The Director's decisions on simulated data: no wins on noise, real effects found, detections that hold."""

import math
import random

import pytest

from director.stats import (
    Counts,
    Estimate,
    against_expected,
    below,
    compare,
    credible_fall,
    daily_effect,
    difference_in_differences,
    seasonal_drop,
)

SEEDS = 300


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact binomial draw: count the successes by jumping over geometric runs of failures."""
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    log_q = math.log1p(-p)
    successes, position = 0, 0
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return successes
        successes += 1


def run_compare(seed: int, rate: float, lift: float, per_look: tuple[int, int], looks: int) -> str:
    """One A/B test looked at `looks` times on cumulative data; the first decision, or the last verdict."""
    rng = random.Random(seed)
    control, treated = Counts(0, 0), Counts(0, 0)
    verdict = "continue"
    for look in range(1, looks + 1):
        n_c, n_t = rng.randint(*per_look), rng.randint(*per_look)
        control = Counts(control.successes + binomial(rng, n_c, rate), control.trials + n_c)
        treated = Counts(treated.successes + binomial(rng, n_t, rate * (1 + lift)), treated.trials + n_t)
        verdict = compare(control, treated, look=look, max_looks=looks).verdict
        if verdict != "continue":
            return verdict
    return verdict


def run_did(seed: int, lift: float, impressions: tuple[int, int] = (2_000, 20_000), looks: int = 3) -> str:
    """Pages with their own click rates, before and after; everyone's rate moves with the season."""
    rng = random.Random(seed)
    rate_t, rate_c = rng.uniform(0.02, 0.08), rng.uniform(0.02, 0.08)
    season = rng.uniform(0.8, 1.25)

    def draw(rate: float) -> Counts:
        n = rng.randint(*impressions)
        return Counts(binomial(rng, n, rate), n)

    t_before, c_before = draw(rate_t), draw(rate_c)
    t_after, c_after = Counts(0, 0), Counts(0, 0)
    verdict = "continue"
    for look in range(1, looks + 1):
        t, c = draw(min(rate_t * season * (1 + lift), 1)), draw(rate_c * season)
        t_after = Counts(t_after.successes + t.successes, t_after.trials + t.trials)
        c_after = Counts(c_after.successes + c.successes, c_after.trials + c.trials)
        verdict = difference_in_differences(t_before, t_after, c_before, c_after, look=look, max_looks=looks).verdict
        if verdict != "continue":
            return verdict
    return verdict


def run_expected(seed: int, lift: float, per_look: tuple[int, int] = (2_000, 8_000), looks: int = 3) -> str:
    """A page's click rate against the expected rate for its position."""
    rng = random.Random(seed)
    expected = rng.uniform(0.01, 0.10)
    observed = Counts(0, 0)
    verdict = "continue"
    for look in range(1, looks + 1):
        n = rng.randint(*per_look)
        observed = Counts(observed.successes + binomial(rng, n, expected * (1 + lift)), observed.trials + n)
        verdict = against_expected(observed, expected, look=look, max_looks=looks).verdict
        if verdict != "continue":
            return verdict
    return verdict


def share(verdicts: list[str], verdict: str) -> float:
    return verdicts.count(verdict) / len(verdicts)


def test_a_b_test_without_effect_rarely_declares_a_winner_across_three_looks():
    verdicts = [run_compare(seed, 0.03, 0.0, (2_000, 8_000), 3) for seed in range(SEEDS)]
    assert share(verdicts, "keep") <= 0.05
    assert share(verdicts, "rollback") <= 0.05


def test_many_looks_do_not_add_up_to_false_wins():
    verdicts = [run_compare(seed, 0.03, 0.0, (1_000, 3_000), 10) for seed in range(SEEDS)]
    assert share(verdicts, "keep") <= 0.05
    assert share(verdicts, "rollback") <= 0.05


def test_difference_in_differences_without_effect_rarely_declares_a_winner():
    verdicts = [run_did(seed, 0.0) for seed in range(SEEDS)]
    assert share(verdicts, "keep") <= 0.05
    assert share(verdicts, "rollback") <= 0.05


def test_against_expected_without_effect_rarely_declares_a_winner():
    verdicts = [run_expected(seed, 0.0) for seed in range(SEEDS)]
    assert share(verdicts, "keep") <= 0.05
    assert share(verdicts, "rollback") <= 0.05


def test_a_real_lift_is_kept():
    # +25% on a 3% rate, 10,000 trials per arm at each of three looks.
    verdicts = [run_compare(seed, 0.03, 0.25, (10_000, 10_000), 3) for seed in range(SEEDS)]
    assert share(verdicts, "keep") >= 0.80
    assert share(verdicts, "rollback") == 0


def test_a_real_loss_is_rolled_back():
    verdicts = [run_compare(seed, 0.03, -0.25, (10_000, 10_000), 3) for seed in range(SEEDS)]
    assert share(verdicts, "rollback") >= 0.80
    assert share(verdicts, "keep") == 0


def test_difference_in_differences_finds_a_real_lift_despite_the_season():
    verdicts = [run_did(seed, 0.25, impressions=(20_000, 30_000)) for seed in range(SEEDS)]
    assert share(verdicts, "keep") >= 0.80
    assert share(verdicts, "rollback") == 0


def test_against_expected_finds_a_real_lift():
    verdicts = [run_expected(seed, 0.25, per_look=(10_000, 10_000)) for seed in range(SEEDS)]
    assert share(verdicts, "keep") >= 0.80


def test_tiny_samples_never_decide():
    tiny_pairs = [
        (Counts(3, 100), Counts(30, 100)),  # a huge lift, on 100 trials
        (Counts(5, 5_000), Counts(25, 5_000)),  # enough trials, too few successes
        (Counts(30, 100), Counts(0, 100)),
    ]
    for control, treated in tiny_pairs:
        assert compare(control, treated, look=1, max_looks=3).verdict == "continue"
        assert compare(control, treated, look=3, max_looks=3).verdict == "inconclusive"
    small, big = Counts(3, 100), Counts(30, 100)
    assert difference_in_differences(small, big, small, small, look=1, max_looks=2).verdict == "continue"
    assert difference_in_differences(small, big, small, small, look=2, max_looks=2).verdict == "inconclusive"
    assert against_expected(Counts(20, 200), 0.03, look=1, max_looks=3).verdict == "continue"
    assert against_expected(Counts(20, 200), 0.03, look=3, max_looks=3).verdict == "inconclusive"
    assert "too little data" in compare(small, big, look=1, max_looks=3).reason.lower()


def test_early_looks_need_more_evidence_than_the_last():
    control, treated = Counts(300, 10_000), Counts(380, 10_000)  # about 99.9% probability of better
    assert compare(control, treated, look=1, max_looks=3).verdict == "continue"
    assert compare(control, treated, look=3, max_looks=3).verdict == "keep"
    worse = compare(treated, control, look=3, max_looks=3)
    assert worse.verdict == "rollback" and worse.probability < 0.01


def test_no_effect_at_the_last_look_is_inconclusive():
    decision = compare(Counts(300, 10_000), Counts(305, 10_000), look=3, max_looks=3)
    assert decision.verdict == "inconclusive"
    assert decision.low < 0 < decision.high


def test_the_effect_and_its_interval():
    decision = compare(Counts(600, 20_000), Counts(750, 20_000), look=1, max_looks=1)
    assert decision.effect == pytest.approx(0.25, abs=0.01)
    assert decision.low < decision.effect < decision.high
    assert decision.low == pytest.approx(0.12, abs=0.02) and decision.high == pytest.approx(0.39, abs=0.02)
    assert decision.probability > 0.9999
    did = difference_in_differences(
        Counts(300, 10_000), Counts(330, 10_000), Counts(500, 10_000), Counts(440, 10_000), look=1, max_looks=1
    )
    assert did.effect == pytest.approx(1.1 / 0.88 - 1, abs=0.01)


def test_the_reason_gives_the_effect_in_percent_and_the_probability():
    decision = compare(Counts(300, 10_000), Counts(330, 10_000), look=1, max_looks=3)
    assert decision.verdict == "continue" and 0.5 < decision.probability < 0.99
    assert f"{decision.effect:+.1%}" in decision.reason
    assert f"{decision.probability:.1%}" in decision.reason
    kept = compare(Counts(300, 10_000), Counts(400, 10_000), look=3, max_looks=3)
    assert kept.verdict == "keep"
    assert f"{kept.effect:+.1%}" in kept.reason and "99.99%" in kept.reason
    expected = against_expected(Counts(280, 10_000), 0.03, look=2, max_looks=3)
    assert f"{expected.effect:+.1%}" in expected.reason and f"{expected.probability:.1%}" in expected.reason


def test_counts_are_checked():
    assert Counts(30, 1_000).rate == 0.03
    assert Counts(0, 0).rate == 0.0
    with pytest.raises(ValueError):
        Counts(10, 5)
    with pytest.raises(ValueError):
        compare(Counts(1, 10), Counts(1, 10), look=0, max_looks=3)


def test_below_a_baseline():
    assert below(Counts(70, 5_000), 0.031)  # a campaign at 1.4% against the audience's 3.1%
    assert not below(Counts(150, 5_000), 0.031)  # 3.0%: within noise of 3.1%
    assert not below(Counts(1, 100), 0.031)  # 100 delivered: too few to judge


def weekly(days: int, level: float, seed: int, start_weekday: int = 0) -> list[float]:
    """Daily counts with weekends at 70% of weekdays, and Poisson-like noise."""
    rng = random.Random(seed)
    values = []
    for day in range(days):
        mean = level * (0.7 if (start_weekday + day) % 7 >= 5 else 1.0)
        values.append(max(0.0, round(rng.gauss(mean, math.sqrt(mean)))))
    return values


def test_a_drop_against_the_weekly_pattern_is_detected():
    series = weekly(35, 200, seed=1)
    history, recent = series[:28], [v * 0.6 for v in series[28:]]
    dropped, change, level = seasonal_drop(history, recent)
    assert dropped
    assert change == pytest.approx(-0.4, abs=0.05)
    assert level == pytest.approx(200 * (5 + 2 * 0.7) / 7, rel=0.05)


def test_the_weekly_pattern_alone_is_not_a_drop():
    series = weekly(35, 200, seed=2)
    assert not seasonal_drop(series[:28], series[28:])[0]
    # A window of only the weekend dip (days 33, 34: Saturday and Sunday) is still not a drop.
    dropped, change, _ = seasonal_drop(series[:33], series[33:35])
    assert not dropped and abs(change) < 0.1
    # The same, with history that does not start on a Monday.
    series = weekly(30, 200, seed=3, start_weekday=3)
    weekend = [i for i in range(23, 30) if (3 + i) % 7 >= 5]
    dropped, change, _ = seasonal_drop(series[: weekend[0]], series[weekend[0] : weekend[-1] + 1])
    assert not dropped and abs(change) < 0.1


def test_a_small_pages_noisy_week_is_not_a_drop_but_a_real_one_is():
    # 12 sessions a day: a week 27% down is within the page's own noise; a week 60% down is not.
    series = weekly(35, 12, seed=5)
    history = series[:28]
    expected = [sorted(history[i % 7 :: 7])[2] for i in range(28, 35)]
    assert not seasonal_drop(history, [e * 0.73 for e in expected], min_level=10)[0]
    assert seasonal_drop(history, [e * 0.4 for e in expected], min_level=10)[0]
    # The more a series scatters around its weekdays, the more a drop must stand out of it.
    rng = random.Random(6)
    wild = [max(0.0, v * rng.choice((0.5, 1.0, 1.5))) for v in weekly(35, 200, seed=7)]
    assert not seasonal_drop(wild[:28], [v * 0.7 for v in wild[28:]])[0]
    assert seasonal_drop(weekly(35, 200, seed=7)[:28], [v * 0.7 for v in weekly(35, 200, seed=7)[28:]])[0]


def test_tiny_series_are_not_judged():
    series = weekly(35, 3, seed=4)
    dropped, _, level = seasonal_drop(series[:28], [0.0] * 7)
    assert not dropped and level < 20
    assert seasonal_drop([100.0] * 3, [10.0]) == (False, 0.0, 0.0)  # less than a week of history


def run_daily(seed: int, effect: float, harm: float | None, looks: int = 3) -> tuple[str, int]:
    """A page change judged as the page loops judge it: 14 daily log-ratios before, 7 more after per look."""
    rng = random.Random(seed)
    before = [rng.gauss(0, 0.15) for _ in range(14)]
    after: list[float] = []
    verdict = "continue"
    for look in range(1, looks + 1):
        after += [rng.gauss(math.log(1 + effect), 0.15) for _ in range(7)]
        verdict = daily_effect(before, after, look=look, max_looks=looks, harm=harm).verdict
        if verdict != "continue":
            return verdict, look
    return verdict, looks


def test_a_credibly_harmful_change_is_rolled_back_at_the_first_look_that_shows_it():
    early = [run_daily(seed, -0.2, 0.95) for seed in range(SEEDS)]
    assert sum(v == "rollback" and look == 1 for v, look in early) / SEEDS >= 0.85
    assert share([v for v, _ in early], "rollback") >= 0.99
    # Without the harm boundary the same changes wait for later looks (the symmetric boundary at look 1).
    late = [run_daily(seed, -0.2, None) for seed in range(SEEDS)]
    assert sum(v == "rollback" and look == 1 for v, look in late) / SEEDS <= 0.25
    # Mild harm: rolled back more than twice as often as with the symmetric boundary, never kept.
    mild = [v for v, _ in (run_daily(seed, -0.08, 0.95) for seed in range(SEEDS))]
    symmetric = [v for v, _ in (run_daily(seed, -0.08, None) for seed in range(SEEDS))]
    assert share(mild, "rollback") >= 2 * share(symmetric, "rollback") and share(mild, "keep") == 0


def test_the_harm_boundary_adds_no_false_wins():
    verdicts = [run_daily(seed, 0.0, 0.95)[0] for seed in range(SEEDS)]
    assert share(verdicts, "keep") <= 0.02
    assert share(verdicts, "rollback") <= 0.15  # undoing a change that did nothing costs nothing


def test_a_daily_effect_needs_events_not_only_days():
    rng = random.Random(1)
    before = [rng.gauss(0, 0.1) for _ in range(14)]
    after = [rng.gauss(math.log(1.8), 0.1) for _ in range(14)]
    strong = daily_effect(before, after, look=3, max_looks=3)
    assert strong.verdict == "keep"
    few = (Counts(20, 1_400), Counts(25, 1_400))  # a click or two a day
    starved = daily_effect(before, after, look=3, max_looks=3, counts=few, min_trials=300, min_successes=30)
    assert starved.verdict == "inconclusive" and "Too little data" in starved.reason
    enough = (Counts(300, 6_000), Counts(500, 6_000))
    assert daily_effect(before, after, look=3, max_looks=3, counts=enough, min_successes=30).verdict == "keep"


def test_credible_fall_needs_both_credibility_and_size_and_corrects_for_pages_watched():
    before = Estimate(math.log(1.1), 0.01)
    fell, change, probability = credible_fall(before, Estimate(math.log(0.45), 0.02))
    assert fell and change == pytest.approx(0.45 / 1.1 - 1) and probability > 0.999
    assert not credible_fall(before, Estimate(math.log(0.95), 0.0001))[0]  # credible, but only -14%
    assert not credible_fall(before, Estimate(math.log(0.6), 0.2))[0]  # large, but too noisy to tell
    # The same fall where the whole site fell alike is no page's regression.
    assert not credible_fall(before, Estimate(math.log(0.45), 0.02), shift=math.log(0.45 / 1.1))[0]
    # Watching many pages at once asks more of each.
    edge = Estimate(math.log(1.1) - 2.5 * math.sqrt(0.02), 0.01)
    assert credible_fall(before, edge, fall=0.1)[0]
    assert not credible_fall(before, edge, fall=0.1, tests=20)[0]
