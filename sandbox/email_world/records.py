"""The email model's records: people, segments, audiences, campaigns with their A/B specs and
deliveries, and the stats a report counts; the errors an ESP answers with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

SUBSCRIBED = "subscribed"
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
PROXY_SHARE = 0.45  # people whose mail app pre-fetches messages (Apple MPP's share of opens)
HARD_BOUNCE_SHARE = 0.012
SOFT_BOUNCE_RATE = 0.008
UNSUBSCRIBE_RATE = 0.003  # per delivered message, at open time
FAKE_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com", "mailinator.com", "invalid"})
_LINK = re.compile(r"""href=["'](https?://[^"']+)["']""", re.I)


class EmailRejected(ValueError):
    """The ESP refuses this address. `kind`: invalid | fake | compliance."""

    def __init__(self, reason: str, kind: str = "invalid"):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class CampaignStateError(ValueError):
    """The campaign's status does not allow this action."""


@dataclass
class Person:
    id: str
    email: str
    status: str
    fields: dict[str, Any]
    tags: set[str]
    created: datetime
    updated: datetime
    # The model's hidden state.
    affinity: float = 1.0
    proxied: bool = False
    bounces: bool = False


@dataclass
class Segment:
    id: str
    name: str
    kind: str  # "static" (a fixed set of addresses) | "dynamic" (by tag, or everyone when tag is None)
    emails: set[str]
    tag: str | None
    created: datetime
    updated: datetime


@dataclass
class Audience:
    id: str
    name: str
    from_name: str
    from_email: str
    reply_to: str
    people: dict[str, Person]
    segments: dict[str, Segment]
    merge_fields: list[tuple[str, str, str]]  # (tag, name, type)
    created: datetime
    base_click: float  # the audience's underlying click propensity
    base_open: float

    def members(self, segment_id: str | None = None, status: str | None = SUBSCRIBED) -> list[Person]:
        people: Iterable[Person] = self.people.values()
        if segment_id is not None:
            seg = self.segments[segment_id]
            if seg.kind == "static":
                people = (self.people[e] for e in sorted(seg.emails) if e in self.people)
            elif seg.tag is not None:
                people = (p for p in people if seg.tag in p.tags)
        return [p for p in people if status is None or p.status == status]


@dataclass
class ABSpec:
    subjects: list[str]
    test_size: int = 50  # percent of recipients in the test groups
    criteria: str = "clicks"  # clicks | opens | manual
    wait_hours: float = 4.0
    winner: int | None = None
    winner_at: datetime | None = None


@dataclass
class Delivery:
    email: str
    variant: int
    at: datetime
    bounce: str | None = None  # "hard" | "soft"
    open_at: datetime | None = None  # a human open
    proxy_open_at: datetime | None = None  # a privacy proxy fetched it
    opens: int = 0
    click_at: datetime | None = None
    clicks: list[tuple[str, datetime]] = field(default_factory=list)
    unsubscribe_at: datetime | None = None
    spam: bool = False  # delivered to the spam folder: never opened, never fetched by a proxy
    remainder: bool = False  # A/B: sent the winner after the test, outside every test group


@dataclass(frozen=True)
class SendConditions:
    """What the world's incidents do to one campaign's send (the same for every part of it)."""

    soft_bounce: float = SOFT_BOUNCE_RATE  # the chance a delivery soft-bounces
    spam_share: float = 0.0  # of the delivered, the share that lands in the spam folder
    engagement: float = 1.0  # times every recipient's chance to open and to click
    unsubscribe: float = 1.0  # times the usual unsubscribe rate
    streak: int = 0  # campaigns in a row, each sent soon after the one before (list fatigue)


NORMAL_SEND = SendConditions()


@dataclass
class Campaign:
    id: str
    name: str
    audience_id: str
    segment_id: str | None
    subject: str | None
    preview_text: str | None
    from_name: str | None
    reply_to: str | None
    html: str | None
    status: str  # draft | scheduled | sending | sent | canceled
    created: datetime
    updated: datetime
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    ab: ABSpec | None = None
    send_count: int = 0
    tests_sent: list[tuple[datetime, list[str]]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)  # A/B: recipients waiting for the winner

    def links(self) -> list[str]:
        return list(dict.fromkeys(_LINK.findall(self.html or "")))


@dataclass
class VariantStats:
    subject: str
    sent: int
    unique_opens: int
    proxied_unique_opens: int
    unique_clicks: int


@dataclass
class Stats:
    emails_sent: int
    delivered: int
    hard_bounces: int
    soft_bounces: int
    opens_total: int
    unique_opens: int
    proxied_unique_opens: int
    clicks_total: int
    unique_clicks: int
    unsubscribes: int
    links: dict[str, tuple[int, int]]
    variants: list[VariantStats]
    last_open: datetime | None
    last_click: datetime | None
