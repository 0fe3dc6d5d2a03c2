"""Incidents the email model can stage, with their settings, and the ground truth of what was staged.

- ``weak_campaign``: on start+day a campaign goes out to an ESP's largest audience with a subject
  that looks ordinary but lands badly with these people (a hidden taste, ``appeal`` times the
  subject's usual pull): its click rate sits well below the audience's baseline, and nothing in
  the subject line says so. The same subject lands the same way whenever it is sent again.
- ``deliverability_drop``: from start+day, for ``days`` days (None: until the end), every campaign the
  ESP sends soft-bounces for a share ``bounce_rate`` of its recipients, and ``spam_share`` of the
  delivered land in the spam folder: they neither open nor click, and no privacy proxy fetches them.
  A campaign goes out on the first day, so there is a send that shows it.
- ``list_fatigue``: from start+day the client mails the ESP's largest audience every ``every_days``
  days. Each campaign sent within ``window_days`` of the one before makes the audience a little more
  tired: every recipient's chance to open and click is ``(1 - decay)`` to the power of the campaigns in
  a row, and the unsubscribe rate is the usual one times one more than that. Engagement falls campaign
  after campaign, whatever the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..incident_settings import merge_incidents
from .records import NORMAL_SEND, SendConditions

ESPS = ("mailchimp", "customerio")
WEAK_SUBJECT = "This week at the roastery: Kenya Nyeri, in small batches"
# What the client sends in the incidents' campaigns: ordinary subjects, none weak or spammy.
CLIENT_SUBJECTS = (
    "This week's roast: Colombia Huila, caramel and plum",
    "How to brew a better pour-over at home",
    "Meet the farmers behind our Guatemala lot",
    "5 ways to keep your beans fresh for longer",
    "Why we switched to compostable bags",
    "Cold brew season: your guide to a smooth batch",
    "Behind the roaster: how we profile a new coffee",
    "A decaf worth drinking, roasted this week",
)

DEFAULT_EMAIL_INCIDENTS: dict[str, dict[str, Any]] = {
    "weak_campaign": {"enabled": False, "day": 5, "esp": "mailchimp", "appeal": 0.45, "subject": None},
    "deliverability_drop": {
        "enabled": False,
        "day": 5,
        "esp": "mailchimp",
        "days": None,
        "bounce_rate": 0.08,
        "spam_share": 0.35,
    },
    "list_fatigue": {
        "enabled": False,
        "day": 3,
        "esp": "mailchimp",
        "every_days": 3,
        "window_days": 14,
        "decay": 0.15,
    },
}
_TYPES: dict[str, Any] = {
    "enabled": bool,
    "day": int,
    "esp": str,
    "appeal": (int, float),
    "subject": (str, type(None)),
    "days": (int, type(None)),
    "bounce_rate": (int, float),
    "spam_share": (int, float),
    "every_days": int,
    "window_days": int,
    "decay": (int, float),
}


def normalize_email_incidents(spec: Any, current: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """``true``/``false`` (the defaults / all off, as the traffic model reads them) or
    ``{name: bool | {field: value}}`` over ``current``; names that are not email incidents are left to
    the other models."""
    return merge_incidents(spec, current, DEFAULT_EMAIL_INCIDENTS, _TYPES, check=_check)


def _check(name: str, incident: dict[str, Any]) -> None:
    if incident["esp"] not in ESPS:
        raise ValueError(f"incidents.{name}.esp must be one of {', '.join(ESPS)}")
    if incident["day"] < 0:
        raise ValueError(f"incidents.{name}.day must be 0 or later")
    problems = {
        "appeal": lambda v: 0 < v <= 1 or "must be above 0 and at most 1",
        "days": lambda v: v is None or v >= 1 or "must be 1 or more, or null (until the end)",
        "bounce_rate": lambda v: 0 <= v < 1 or "must be at least 0 and below 1",
        "spam_share": lambda v: 0 <= v <= 1 or "must be between 0 and 1",
        "every_days": lambda v: v >= 1 or "must be 1 or more",
        "window_days": lambda v: v >= 1 or "must be 1 or more",
        "decay": lambda v: 0 < v < 1 or "must be above 0 and below 1",
    }
    for key, check in problems.items():
        if key in incident and (problem := check(incident[key])) is not True:
            raise ValueError(f"incidents.{name}.{key} {problem}")


@dataclass(frozen=True)
class Staged:
    """What an incident did, for tests and benchmarks to score detection against: one record per campaign
    it touched, with what it did to that send."""

    kind: str
    esp: str
    campaign_id: str
    subject: str
    day: int
    sent_at: datetime
    conditions: SendConditions = NORMAL_SEND
