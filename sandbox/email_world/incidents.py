"""Incidents the email model can stage, with their settings, and the ground truth of what was staged.

- ``weak_campaign``: on start+day a campaign goes out to an ESP's largest audience with a subject
  that looks ordinary but lands badly with these people (a hidden taste, ``appeal`` times the
  subject's usual pull): its click rate sits well below the audience's baseline, and nothing in
  the subject line says so. The same subject lands the same way whenever it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..incident_settings import merge_incidents

ESPS = ("mailchimp", "customerio")
WEAK_SUBJECT = "This week at the roastery: Kenya Nyeri, in small batches"

DEFAULT_EMAIL_INCIDENTS: dict[str, dict[str, Any]] = {
    "weak_campaign": {"enabled": False, "day": 5, "esp": "mailchimp", "appeal": 0.45, "subject": None},
}
_TYPES: dict[str, Any] = {
    "enabled": bool,
    "day": int,
    "esp": str,
    "appeal": (int, float),
    "subject": (str, type(None)),
}


def normalize_email_incidents(spec: Any, current: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """``true``/``false`` (the defaults / all off, as the traffic model reads them) or
    ``{name: bool | {field: value}}`` over ``current``; names that are not email incidents are left to
    the other models."""
    return merge_incidents(spec, current, DEFAULT_EMAIL_INCIDENTS, _TYPES, check=_check)


def _check(name: str, weak: dict[str, Any]) -> None:
    if weak["esp"] not in ESPS:
        raise ValueError(f"incidents.{name}.esp must be one of {', '.join(ESPS)}")
    if weak["day"] < 0:
        raise ValueError(f"incidents.{name}.day must be 0 or later")
    if not 0 < weak["appeal"] <= 1:
        raise ValueError(f"incidents.{name}.appeal must be above 0 and at most 1")


@dataclass(frozen=True)
class Staged:
    """What an incident did, for tests and benchmarks to score detection against."""

    kind: str
    esp: str
    campaign_id: str
    subject: str
    day: int
    sent_at: datetime
