"""Email health: when a campaign's numbers say something its subject line cannot explain.

- Deliverability: a campaign whose bounces rose credibly above the audience's own history (at least twice
  its usual rate, and over 2% of the sends), or whose opens fell credibly by a quarter or more (mail in
  the spam folder is never opened, not even by privacy proxies, which open everything else: a weak
  subject moves opens a few percent, not a quarter).
- List fatigue: over the audience's latest campaigns, unsubscribes rose credibly (by half or more) against
  the campaigns before while clicks per delivery fell (by 15% or more on average, and most of the latest
  campaigns click below the earlier ones' median, so one weak subject does not make it).

A campaign is compared with what the audience's own campaigns did, not only with its counts' sampling
noise: subjects move single campaigns' rates a lot, so a campaign is outside the history only when it
is outside the spread of the history's campaigns (``usual``). Counts, not rates, set each estimate's
variance, so a small send is never judged on a rate alone.
"""

import math
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any

from ..stats import Estimate, credible_fall

CONFIDENCE = 0.99
BOUNCE_RISE = 2.0  # times the usual bounce rate, at least
BOUNCE_ALARM = 0.02  # of the sends: above this, a sender's reputation suffers
OPEN_FALL = 0.25
CLICK_FALL = 0.15
UNSUBSCRIBE_RISE = 1.5
RECENT = 3  # the latest campaigns fatigue is judged on
MIN_HISTORY = 3  # earlier campaigns needed to know what is usual
HISTORY = 8  # earlier campaigns used, at most
SPREAD = 0.1  # the least campaign-to-campaign spread of a log rate assumed, whatever few campaigns show
RESTED_DAYS = 14  # a campaign sent this long after the one before comes to a rested audience


@dataclass(frozen=True)
class Send:
    """One sent campaign's counts, as its report gives them."""

    id: str
    subject: str
    day: date
    sent: int
    delivered: int
    opens: int
    clicks: int
    unsubscribes: int

    @classmethod
    def of(cls, campaign: dict[str, Any], report: dict[str, Any], day: date) -> "Send":
        return cls(
            campaign["id"],
            report.get("subject") or campaign["name"],
            day,
            report["emails_sent"],
            report["delivered"],
            report["unique_opens"],
            report["unique_clicks"],
            report.get("unsubscribes") or 0,
        )

    @property
    def bounces(self) -> int:
        return self.sent - self.delivered

    def rate(self, part: str) -> float:
        whole = self.sent if part == "bounces" else self.delivered
        return getattr(self, part) / whole if whole else 0.0


def log_rate(successes: int, trials: int) -> Estimate:
    """The log of a rate with its sampling variance (half an event added: a campaign with none is not log 0)."""
    x, n = successes + 0.5, trials + 1.0
    return Estimate(math.log(x / n), max(1 / x - 1 / n, 1e-9))


def log_of(send: Send, part: str) -> Estimate:
    return log_rate(getattr(send, part), send.sent if part == "bounces" else send.delivered)


def usual(history: list[Send], part: str, against: int = 1) -> Estimate:
    """The history's level of a rate, on the log scale, and how far the mean of ``against`` more campaigns
    may fall from it: the spread of the history's campaigns (at least SPREAD), over ``against`` campaigns,
    plus the level's own uncertainty from few campaigns."""
    logs = [log_of(s, part).log for s in history]
    mean = sum(logs) / len(logs)
    spread = max(sum((v - mean) ** 2 for v in logs) / max(len(logs) - 1, 1), SPREAD**2)
    return Estimate(mean, spread * (1 / against + 1 / len(logs)))


def rise(level: Estimate, usual: Estimate, *, times: float, tests: int, confidence: float) -> bool:
    """Whether ``level`` is credibly at least ``times`` the usual: the usual fell that far below it."""
    return credible_fall(level, usual, tests=tests, confidence=confidence, fall=1 - 1 / times)[0]


@dataclass(frozen=True)
class DeliveryProblem:
    """A campaign whose delivery failed: what it did, against the audience's usual."""

    send: Send
    campaigns: int  # earlier campaigns it was compared with
    usual_bounce: float
    usual_open: float
    bounced: bool  # the bounces rose
    unopened: bool  # the opens fell

    def numbers(self) -> str:
        s = self.send
        return (
            f"{s.bounces:,} of {s.sent:,} bounced ({s.rate('bounces'):.1%}, about "
            f"{self.usual_bounce * s.sent:,.0f} usual: {self.usual_bounce:.1%} over the audience's "
            f"{self.campaigns} earlier campaigns), opens {s.rate('opens'):.0%} of the delivered against "
            f"{self.usual_open:.0%}, clicks {s.rate('clicks'):.2%}"
        )


def delivery_problem(send: Send, history: list[Send], tests: int = 1) -> DeliveryProblem | None:
    """``send`` judged against the earlier campaigns of its audience (``history``); ``tests``: how many
    campaigns are judged together (the confidence is corrected for them)."""
    history = history[:HISTORY]
    if len(history) < MIN_HISTORY or not send.delivered:
        return None
    bounces = usual(history, "bounces")
    bounced = send.rate("bounces") >= BOUNCE_ALARM and rise(
        log_of(send, "bounces"), bounces, times=BOUNCE_RISE, tests=tests, confidence=CONFIDENCE
    )
    opens = usual(history, "opens")
    unopened = credible_fall(opens, log_of(send, "opens"), tests=tests, confidence=CONFIDENCE, fall=OPEN_FALL)[0]
    if not (bounced or unopened):
        return None
    return DeliveryProblem(send, len(history), math.exp(bounces.log), math.exp(opens.log), bounced, unopened)


@dataclass(frozen=True)
class Fatigue:
    """An audience tiring of its campaigns: its latest ones against those before."""

    recent: list[Send]  # newest first
    earlier: list[Send]
    usual_click: float
    usual_unsubscribe: float

    def numbers(self) -> str:
        clicks = ", ".join(f"{s.rate('clicks'):.2%}" for s in reversed(self.recent))
        unsubscribes = ", ".join(f"{s.rate('unsubscribes'):.2%}" for s in reversed(self.recent))
        return (
            f"clicks per delivery {clicks} over its last {len(self.recent)} campaigns against "
            f"{self.usual_click:.2%} in the {len(self.earlier)} before; unsubscribes {unsubscribes} against "
            f"{self.usual_unsubscribe:.2%}"
        )


def fatigue(sends: list[Send]) -> Fatigue | None:
    """List fatigue over an audience's campaigns (newest first), or None."""
    recent, earlier = sends[:RECENT], sends[RECENT : RECENT + HISTORY]
    if len(recent) < RECENT or len(earlier) < MIN_HISTORY:
        return None
    unsubscribes, clicks = usual(earlier, "unsubscribes", RECENT), usual(earlier, "clicks", RECENT)
    rising = rise(_mean(recent, "unsubscribes"), unsubscribes, times=UNSUBSCRIBE_RISE, tests=1, confidence=CONFIDENCE)
    # Subjects move single campaigns' clicks too much for three of them to fall credibly on their own; the
    # unsubscribes carry the evidence, the clicks must point the same way, on most of the campaigns.
    falling = math.exp(_mean(recent, "clicks").log - clicks.log) - 1 <= -CLICK_FALL
    typical = median(s.rate("clicks") for s in earlier)
    broad = sum(s.rate("clicks") < typical for s in recent) > len(recent) / 2  # not one weak subject
    if not (rising and falling and broad):
        return None
    return Fatigue(recent, earlier, math.exp(clicks.log), math.exp(unsubscribes.log))


def _mean(sends: list[Send], part: str) -> Estimate:
    """The campaigns' mean log rate; its spread is in the ``usual`` it is compared with."""
    return Estimate(sum(log_of(s, part).log for s in sends) / len(sends), 0.0)


def cadence(days: list[date]) -> float | None:
    """The median number of days between sends (any order), or None with fewer than two."""
    ordered = sorted(days)
    gaps = [(b - a).days for a, b in zip(ordered, ordered[1:], strict=False)]
    return median(gaps) if gaps else None


def in_episode(day: date, since: date, days: list[date]) -> bool:
    """Whether a campaign sent on ``day`` belongs to the episode that began ``since``: the audience's sends
    (``days``) from then to it never rested RESTED_DAYS."""
    if day < since:
        return False
    chain = sorted({d for d in days if since <= d <= day} | {since, day})
    return all((b - a).days < RESTED_DAYS for a, b in zip(chain, chain[1:], strict=False))
