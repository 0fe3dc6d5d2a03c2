"""Several challengers against one control, corrected for multiplicity.

Picking the best of m null challengers and testing it at the single-comparison threshold adds up
false wins: each has its own chance of looking better by luck, so the best of them crosses a
99% bar about m times as often. Holm's step-down procedure keeps the chance of any false win at
most 1 - threshold: challengers are ranked by how likely they are to beat the control, and the
one ranked i-th (from 0) must clear 1 - (1 - threshold) / (m - i); the first that fails stops
the procedure. The group-sequential boundary of `compare` applies on top, look by look.
"""

from dataclasses import dataclass

from .stats import Counts, Decision, compare


@dataclass(frozen=True)
class Pick:
    winner: int | None  # index into the challengers of the one adopted, or None
    decision: Decision  # the winner's, or the top-ranked challenger's at its corrected threshold
    challenger: int  # the index the decision is about
    threshold: float  # the probability the decision's challenger had to clear
    challengers: int


def holm_thresholds(threshold: float, m: int) -> list[float]:
    """The probability each rank (best first) must reach: 1 - alpha / m, 1 - alpha / (m - 1), ..."""
    if m < 1:
        raise ValueError(f"There must be at least one challenger, got {m}.")
    alpha = 1 - threshold
    return [1 - alpha / (m - i) for i in range(m)]


def best_of(
    control: Counts,
    challengers: list[Counts],
    *,
    look: int,
    max_looks: int,
    min_trials: float = 1000,
    min_successes: float = 30,
    threshold: float = 0.99,
) -> Pick:
    """Which challenger, if any, beats the control, with Holm's correction over the challengers."""
    thresholds = holm_thresholds(threshold, len(challengers))

    def judged(i: int, needed: float) -> Decision:
        return compare(
            control,
            challengers[i],
            look=look,
            max_looks=max_looks,
            min_trials=min_trials,
            min_successes=min_successes,
            threshold=needed,
        )

    plain = [judged(i, threshold) for i in range(len(challengers))]
    ranked = sorted(range(len(challengers)), key=lambda i: (-plain[i].probability, i))
    passed: list[tuple[int, Decision, float]] = []
    for rank, i in enumerate(ranked):
        decision = judged(i, thresholds[rank])
        if decision.verdict != "keep":
            break
        passed.append((i, decision, thresholds[rank]))
    if passed:  # of those that beat the control, the one with the highest rate
        i, decision, needed = max(passed, key=lambda p: (challengers[p[0]].rate, -p[0]))
        return Pick(i, decision, i, needed, len(challengers))
    top = ranked[0]
    return Pick(None, judged(top, thresholds[0]), top, thresholds[0], len(challengers))
