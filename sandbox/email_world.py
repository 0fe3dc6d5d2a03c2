"""The email half of the world: audiences, campaigns, and how people respond to them.

Two ESP accounts share one model: a Mailchimp account and a Customer.io workspace, each with
its own people. When a campaign is sent, every recipient's response is drawn at once, with
timestamps; a report counts the events that happened before the world clock, so data arrives
over simulated hours the way it does at the vendors.

How people respond (hidden from every vendor API):
- the chance to click is the audience's base rate x the person's affinity x the subject line's
  appeal (length, personalisation, questions, numbers, spam words, plus a hidden taste per
  subject that no heuristic sees), drawn per recipient: noise is real;
- a person reading through a privacy proxy (Apple Mail Privacy Protection) "opens" every
  message within the hour, whether they read it or not: open rates are inflated, clicks are not.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

SUBSCRIBED = "subscribed"
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
PROXY_SHARE = 0.45  # people whose mail app pre-fetches messages (Apple MPP's share of opens)
HARD_BOUNCE_SHARE = 0.012
SOFT_BOUNCE_RATE = 0.008
UNSUBSCRIBE_RATE = 0.003  # per delivered message, at open time
FAKE_DOMAINS = frozenset({"example.com", "example.org", "example.net", "test.com", "mailinator.com", "invalid"})
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
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


# -- how subjects land -------------------------------------------------------------------

_SPAM = re.compile(r"\b(free|act now|urgent|guarantee[d]?|winner|cash|limited time|click here|buy now)\b|!!|\$\$", re.I)
_GENERIC = re.compile(r"\b(newsletter|update|issue\s*#?\d*|digest|bulletin|news)\b", re.I)
_PERSONAL = re.compile(r"\*\|\s*FNAME\s*\|\*|\{\{\s*customer\.first_name\s*\}\}|\{\{\s*first_name\s*\}\}", re.I)


def subject_appeal(subject: str) -> float:
    """How much a subject line moves clicks: about 0.5 (weak) to 1.7 (strong); 1.0 is typical."""
    s = subject.strip()
    n = len(_PERSONAL.sub("Alex", s))
    score = 1.0
    score *= 1.15 if 25 <= n <= 55 else 0.8 if n > 80 or n < 12 else 0.95
    if _PERSONAL.search(s):
        score *= 1.15
    if "?" in s:
        score *= 1.08
    if re.search(r"\d", s):
        score *= 1.08
    if re.search(r"\b(you|your|how|why|new)\b", s, re.I):
        score *= 1.06
    if _SPAM.search(s) or sum(1 for w in re.findall(r"[A-Za-z]{3,}", s) if w.isupper()) >= 2:
        score *= 0.65
    if _GENERIC.search(s):
        score *= 0.75
    # A taste no heuristic sees: the same subject always lands the same way in this world.
    digest = int(hashlib.sha256(s.lower().encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    score *= math.exp(0.12 * _normal_from_uniform(digest))
    return score


def _normal_from_uniform(u: float) -> float:
    u = min(max(u, 1e-6), 1 - 1e-6)
    return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * u * 7.31)  # deterministic, roughly N(0,1)


# -- an ESP account ------------------------------------------------------------------------


class EmailAccount:
    """One vendor account: its audiences and campaigns. Hold the world lock around calls."""

    def __init__(
        self,
        vendor: str,
        name: str,
        rng: Callable[[str], random.Random],
        now: Callable[[], datetime],
        *,
        compliance: bool,
        person_id: Callable[[str, int], str],
        new_id: Callable[[str], str],
    ):
        self.vendor = vendor
        self.name = name
        self.audiences: dict[str, Audience] = {}
        self.campaigns: dict[str, Campaign] = {}
        self._rng = rng
        self._now = now
        self._compliance = compliance  # Mailchimp: refuses "fake" addresses, will not re-subscribe the unsubscribed
        self._person_id = person_id
        self.new_id = new_id
        self._people_seq = 0
        self._stats: dict[str, tuple[tuple[datetime, int], Stats]] = {}

    # -- people ------------------------------------------------------------------------------

    def audience(self, audience_id: str) -> Audience:
        return self.audiences[audience_id]

    def upsert(
        self,
        audience_id: str,
        email: str,
        *,
        status: str | None = None,
        fields: dict | None = None,
        tags: Iterable[str] = (),
    ) -> tuple[Person, bool]:
        aud = self.audience(audience_id)
        email = check_address(email, reject_fake=self._compliance)
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        now = self._now()
        person = aud.people.get(email)
        created = person is None
        if person is None:
            self._people_seq += 1
            person = Person(
                self._person_id(email, self._people_seq),
                email,
                status or SUBSCRIBED,
                {},
                set(),
                now,
                now,
                **_hidden(self._rng(f"person:{email}")),
            )
            aud.people[email] = person
        elif self._compliance and status == SUBSCRIBED and person.status in ("unsubscribed", "cleaned"):
            raise EmailRejected(
                f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
                "review and cannot be subscribed.",
                "compliance",
            )
        elif status is not None:
            person.status = status
        person.fields.update({k: v for k, v in (fields or {}).items()})
        person.tags.update(tags)
        person.updated = now
        return person, created

    def set_tags(self, audience_id: str, email: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Person:
        person = self.audience(audience_id).people[email.lower()]
        person.tags.update(add)
        person.tags.difference_update(remove)
        person.updated = self._now()
        return person

    # -- segments ----------------------------------------------------------------------------

    def create_segment(
        self,
        audience_id: str,
        name: str,
        *,
        emails: Iterable[str] = (),
        tag: str | None = None,
        kind: str | None = None,
    ) -> Segment:
        aud = self.audience(audience_id)
        now = self._now()
        seg = Segment(
            self.new_id("segment"), name, kind or ("dynamic" if tag is not None else "static"), set(), tag, now, now
        )
        aud.segments[seg.id] = seg
        if emails:
            self.segment_update(audience_id, seg.id, add=emails)
        return seg

    def segment_update(
        self, audience_id: str, segment_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Add and remove addresses of a static segment: (added, removed, errors)."""
        aud = self.audience(audience_id)
        seg = aud.segments[segment_id]
        if seg.kind != "static":
            raise CampaignStateError(f"Segment {seg.name} is built from conditions; its members cannot be edited.")
        added, removed, errors = [], [], []
        for email in add:
            e = email.strip().lower()
            if e not in aud.people:
                errors.append((email, "Email address is not subscribed to the list"))
            elif e not in seg.emails:
                seg.emails.add(e)
                added.append(e)
        for email in remove:
            e = email.strip().lower()
            if e in seg.emails:
                seg.emails.discard(e)
                removed.append(e)
        seg.updated = self._now()
        return added, removed, errors

    # -- campaigns ---------------------------------------------------------------------------

    def create_campaign(
        self,
        audience_id: str,
        *,
        name: str,
        segment_id: str | None = None,
        subject: str | None = None,
        preview_text: str | None = None,
        from_name: str | None = None,
        reply_to: str | None = None,
        html: str | None = None,
        ab: ABSpec | None = None,
        campaign_id: str | None = None,
    ) -> Campaign:
        aud = self.audience(audience_id)
        if segment_id is not None and segment_id not in aud.segments:
            raise KeyError(segment_id)
        now = self._now()
        c = Campaign(
            campaign_id or self.new_id("campaign"),
            name,
            audience_id,
            segment_id,
            subject,
            preview_text,
            from_name or aud.from_name,
            reply_to or aud.reply_to,
            html,
            "draft",
            now,
            now,
            ab=ab,
        )
        if ab is not None and c.subject is None:
            c.subject = ab.subjects[0]
        self.campaigns[c.id] = c
        return c

    def campaign(self, campaign_id: str) -> Campaign:
        return self.campaigns[campaign_id]

    def update_campaign(self, campaign_id: str, **fields: Any) -> Campaign:
        c = self.campaign(campaign_id)
        if c.status != "draft":
            raise CampaignStateError(f"The campaign is {c.status}; only a draft can be changed.")
        if (
            fields.get("segment_id") is not None
            and fields["segment_id"] not in self.audience(fields.get("audience_id") or c.audience_id).segments
        ):
            raise KeyError(fields["segment_id"])
        for key, value in fields.items():
            if not hasattr(c, key) or key in ("id", "status", "deliveries"):
                raise AttributeError(key)
            setattr(c, key, value)
        c.updated = self._now()
        return c

    def delete_campaign(self, campaign_id: str) -> None:
        c = self.campaign(campaign_id)
        if c.status in ("sending", "sent"):
            raise CampaignStateError(f"The campaign is {c.status}; a sent campaign cannot be deleted.")
        del self.campaigns[campaign_id]

    def recipients(self, c: Campaign) -> list[Person]:
        return self.audience(c.audience_id).members(c.segment_id)

    def problems(self, c: Campaign) -> list[tuple[str, str]]:
        """What stops the campaign from being sent; empty when it is ready."""
        out = []
        if not (c.subject or (c.ab and c.ab.subjects)):
            out.append(("subject", "The campaign has no subject line."))
        if not (c.html and c.html.strip()):
            out.append(("content", "The campaign has no content."))
        if not c.from_name:
            out.append(("from_name", "The campaign has no sender name."))
        if not self.recipients(c):
            out.append(("recipients", "The audience or segment has no subscribed recipients."))
        return out

    def send_test(self, campaign_id: str, emails: list[str]) -> None:
        c = self.campaign(campaign_id)
        if not (c.html and c.html.strip()):
            raise CampaignStateError("The campaign has no content to test.")
        c.tests_sent.append((self._now(), [check_address(e) for e in emails]))

    def send(self, campaign_id: str) -> Campaign:
        c = self.campaign(campaign_id)
        if c.status not in ("draft", "scheduled"):
            raise CampaignStateError(f"The campaign is already {c.status}.")
        problems = self.problems(c)
        if problems:
            raise CampaignStateError(" ".join(p for _, p in problems))
        self._deliver(c, self._now())
        return c

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        c = self.campaign(campaign_id)
        if c.status not in ("draft", "scheduled"):
            raise CampaignStateError(f"The campaign is {c.status}; only a draft can be scheduled.")
        if when <= self._now():
            raise ValueError("The schedule time is in the past.")
        problems = self.problems(c)
        if problems:
            raise CampaignStateError(" ".join(p for _, p in problems))
        c.status, c.scheduled_for, c.updated = "scheduled", when, self._now()
        return c

    def unschedule(self, campaign_id: str) -> Campaign:
        c = self.campaign(campaign_id)
        if c.status != "scheduled":
            raise CampaignStateError(f"The campaign is {c.status}, not scheduled.")
        c.status, c.scheduled_for, c.updated = "draft", None, self._now()
        return c

    def cancel(self, campaign_id: str) -> Campaign:
        """Stop a campaign that is still sending (an A/B test waiting for its winner)."""
        c = self.campaign(campaign_id)
        if c.status != "sending":
            raise CampaignStateError(f"The campaign is {c.status}; only a sending campaign can be canceled.")
        c.status, c.held_back, c.updated = "canceled", [], self._now()
        return c

    def pick_winner(self, campaign_id: str, variant: int) -> Campaign:
        c = self.campaign(campaign_id)
        if c.ab is None or c.status != "sending" or not 0 <= variant < len(c.ab.subjects):
            raise CampaignStateError(f"The campaign is {c.status}; no winner can be picked now.")
        self._send_winner(c, variant, self._now())
        return c

    def tick(self, now: datetime) -> None:
        """Scheduled campaigns go out and A/B tests pick their winners when their time comes."""
        for c in list(self.campaigns.values()):
            if c.status == "scheduled" and c.scheduled_for is not None and c.scheduled_for <= now:
                if self.problems(c):
                    c.status = "draft"  # the vendor would refuse at send time and unschedule it
                else:
                    self._deliver(c, c.scheduled_for)
            if (
                c.status == "sending"
                and c.ab is not None
                and c.ab.criteria != "manual"
                and c.sent_at is not None
                and c.sent_at + timedelta(hours=c.ab.wait_hours) <= now
            ):
                at = c.sent_at + timedelta(hours=c.ab.wait_hours)
                self._send_winner(c, self._leader(c, at), at)

    # -- delivery and response ---------------------------------------------------------------

    def _deliver(self, c: Campaign, at: datetime) -> None:
        people = self.recipients(c)
        c.send_count += 1
        c.sent_at, c.updated = at, at
        rng = self._rng(f"send:{c.id}:{c.send_count}")
        if c.ab is None:
            self._respond(c, people, 0, at, rng)
            c.status = "sent"
            return
        order = people[:]
        rng.shuffle(order)
        k = len(c.ab.subjects)
        if c.ab.test_size >= 100:  # everyone is in a test group: an even split, no winner to send
            for i in range(k):
                self._respond(c, order[i::k], i, at, rng)
            c.status = "sent"
            return
        per = max(1, len(order) * c.ab.test_size // 100 // k)
        for i in range(k):
            self._respond(c, order[i * per : (i + 1) * per], i, at, rng)
        c.held_back = [p.email for p in order[per * k :]]
        c.status = "sending"

    def _send_winner(self, c: Campaign, variant: int, at: datetime) -> None:
        assert c.ab is not None
        c.ab.winner, c.ab.winner_at = variant, at
        aud = self.audience(c.audience_id)
        rest = [aud.people[e] for e in c.held_back if e in aud.people and aud.people[e].status == SUBSCRIBED]
        self._respond(c, rest, variant, at, self._rng(f"winner:{c.id}"))
        c.held_back, c.status, c.updated = [], "sent", at

    def _leader(self, c: Campaign, at: datetime) -> int:
        stats = self.stats(c.id, at).variants
        key = (lambda v: v.unique_clicks) if c.ab.criteria == "clicks" else (lambda v: v.unique_opens)
        return max(range(len(stats)), key=lambda i: (key(stats[i]), -i))

    def _subject(self, c: Campaign, variant: int) -> str:
        return c.ab.subjects[variant] if c.ab is not None else (c.subject or "")

    def _respond(self, c: Campaign, people: list[Person], variant: int, at: datetime, rng: random.Random) -> None:
        aud = self.audience(c.audience_id)
        appeal = subject_appeal(self._subject(c, variant))
        links = c.links() or [""]
        for p in people:
            d = Delivery(p.email, variant, at)
            c.deliveries.append(d)
            if p.bounces:
                d.bounce = "hard"
                p.status = "cleaned"
                continue
            if rng.random() < SOFT_BOUNCE_RATE:
                d.bounce = "soft"
                continue
            if p.proxied:  # the proxy fetches every message, read or not
                d.proxy_open_at = at + timedelta(minutes=rng.uniform(1, 60))
            p_click = min(0.9, aud.base_click * p.affinity * appeal)
            p_open = min(0.95, max(p_click, aud.base_open * math.sqrt(p.affinity) * (0.5 + appeal / 2)))
            if rng.random() < p_open:
                d.open_at = at + timedelta(hours=min(168.0, rng.expovariate(1 / 6.0)))
                d.opens = 1 + int(rng.expovariate(1.5))
                if rng.random() < p_click / p_open:
                    d.click_at = d.open_at + timedelta(minutes=rng.expovariate(1 / 15.0))
                    first = links[0] if rng.random() < 0.6 else rng.choice(links)
                    d.clicks = [(first, d.click_at)] + [
                        (rng.choice(links), d.click_at + timedelta(minutes=2 * k))
                        for k in range(1, 1 + int(rng.expovariate(2.0)))
                    ]
                elif rng.random() < UNSUBSCRIBE_RATE / p_open:
                    d.unsubscribe_at = d.open_at + timedelta(minutes=2)
                    p.status = "unsubscribed"

    def stats(self, campaign_id: str, now: datetime | None = None) -> Stats:
        """The campaign's numbers as of `now`; the same moment and deliveries give the same numbers, so a
        list read (which averages every sent campaign) does not count them all again."""
        c = self.campaign(campaign_id)
        now = now or self._now()
        key = (now, len(c.deliveries))
        cached = self._stats.get(campaign_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        stats = self._count(c, now)
        self._stats[campaign_id] = (key, stats)
        return stats

    def _count(self, c: Campaign, now: datetime) -> Stats:
        subjects = c.ab.subjects if c.ab is not None else [c.subject or ""]
        per = [[0, 0, 0, 0] for _ in subjects]  # sent, unique opens, proxied unique opens, unique clicks
        hard = soft = opens_total = unique_opens = proxied = clicks_total = unique_clicks = unsubs = 0
        links: dict[str, list[int]] = {}
        last_open = last_click = None
        for d in c.deliveries:
            if d.at > now:
                continue
            v = per[d.variant]
            v[0] += 1
            if d.bounce == "hard":
                hard += 1
                continue
            if d.bounce == "soft":
                soft += 1
                continue
            human = d.open_at is not None and d.open_at <= now
            machine = d.proxy_open_at is not None and d.proxy_open_at <= now
            if human or machine:
                unique_opens += 1
                v[1] += 1
                opens_total += (d.opens if human else 0) + (1 if machine else 0)
                seen = max(t for t in (d.open_at if human else None, d.proxy_open_at if machine else None) if t)
                last_open = seen if last_open is None else max(last_open, seen)
            if machine:
                proxied += 1
                v[2] += 1
            done = [(url, t) for url, t in d.clicks if t <= now]
            if done:
                unique_clicks += 1
                v[3] += 1
                clicks_total += len(done)
                for url in {u for u, _ in done}:
                    links.setdefault(url, [0, 0])[1] += 1
                for url, t in done:
                    links[url][0] += 1
                    last_click = t if last_click is None else max(last_click, t)
            if d.unsubscribe_at is not None and d.unsubscribe_at <= now:
                unsubs += 1
        sent = sum(v[0] for v in per)
        return Stats(
            sent,
            sent - hard - soft,
            hard,
            soft,
            opens_total,
            unique_opens,
            proxied,
            clicks_total,
            unique_clicks,
            unsubs,
            {u: (t, q) for u, (t, q) in links.items() if u},
            [VariantStats(s, *v) for s, v in zip(subjects, per)],
            last_open,
            last_click,
        )

    def history(self, audience_id: str) -> tuple[float, float, int]:
        """(average open rate, average click rate, campaigns sent) over the audience's sent campaigns."""
        sent = [c for c in self.campaigns.values() if c.audience_id == audience_id and c.status == "sent"]
        opens, clicks = [], []
        for c in sent:
            s = self.stats(c.id)
            if s.delivered:
                opens.append(s.unique_opens / s.delivered)
                clicks.append(s.unique_clicks / s.delivered)
        if not sent:
            return 0.0, 0.0, 0
        return sum(opens) / max(1, len(opens)), sum(clicks) / max(1, len(clicks)), len(sent)


def check_address(email: str, reject_fake: bool = False) -> str:
    e = email.strip().lower()
    if not _EMAIL.match(e) or ".." in e or len(e) > 254:
        raise EmailRejected(f"{email.strip()[:80]} looks fake or invalid, please enter a real email address.")
    if reject_fake and e.rpartition("@")[2] in FAKE_DOMAINS:
        raise EmailRejected(f"{email.strip()[:80]} looks fake or invalid, please enter a real email address.", "fake")
    return e


def _hidden(rng: random.Random) -> dict[str, Any]:
    return {
        "affinity": math.exp(rng.gauss(-0.32, 0.8)),  # mean 1.0
        "proxied": rng.random() < PROXY_SHARE,
        "bounces": rng.random() < HARD_BOUNCE_SHARE,
    }


# -- the seeded accounts -----------------------------------------------------------------------

_FIRST = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jo",
    "Kai",
    "Lena",
    "Milo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zoe",
)
_LAST = (
    "Abbott",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ulloa",
    "Vargas",
    "Weber",
)
_DOMAINS = ("gmail.com", "icloud.com", "outlook.com", "yahoo.com", "proton.me", "fastmail.com", "hey.com")
_PAST_SUBJECTS = (
    "Northwind Newsletter #41",
    "This week's roast: Ethiopia Guji, bright and floral",
    "How to dial in your grinder in 5 minutes",
    "Coffee update",
    "FREE SHIPPING!!! Limited time",
    "*|FNAME|*, your next bag ships Tuesday",
    "Why we roast on Tuesdays",
    "Monthly digest: November",
    "3 brew methods you have not tried yet?",
    "New: the holiday blend is back",
)
_CONTENT = (
    "<html><body><h1>{title}</h1><p>Fresh from the roaster this week.</p>"
    '<p><a href="http://127.0.0.1:8765/shop/">Shop the roast</a> · '
    '<a href="http://127.0.0.1:8765/brew-guides/">Brew guides</a></p></body></html>'
)


def _people(
    rng: random.Random,
    n: int,
    start: datetime,
    make_id: Callable[[str, int], str],
    tag_share: dict[str, float],
    field_names: tuple[str, str],
) -> dict[str, Person]:
    out: dict[str, Person] = {}
    i = 0
    while len(out) < n:
        i += 1
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first.lower()}.{last.lower()}{i}@{rng.choice(_DOMAINS)}"
        joined = start - timedelta(days=rng.uniform(14, 900))
        status = "unsubscribed" if rng.random() < 0.04 else SUBSCRIBED
        tags = {t for t, share in tag_share.items() if rng.random() < share}
        out[email] = Person(
            make_id(email, i),
            email,
            status,
            {field_names[0]: first, field_names[1]: last},
            tags,
            joined,
            joined,
            **_hidden(rng),
        )
    return out


class EmailWorld:
    """The Mailchimp account and the Customer.io workspace, built on first use (a reset stays cheap)."""

    def __init__(self, rng: Callable[[str], random.Random], now: Callable[[], datetime]):
        self._rng = rng
        self._now = now
        self._mailchimp: EmailAccount | None = None
        self._customerio: EmailAccount | None = None

    @property
    def mailchimp(self) -> EmailAccount:
        if self._mailchimp is None:
            self._mailchimp = self._build_mailchimp()
        return self._mailchimp

    @property
    def customerio(self) -> EmailAccount:
        if self._customerio is None:
            self._customerio = self._build_customerio()
        return self._customerio

    def tick(self, now: datetime) -> None:
        for account in (self._mailchimp, self._customerio):
            if account is not None:
                account.tick(now)

    def _build_mailchimp(self) -> EmailAccount:
        ids = self._rng("mailchimp-ids")
        hexid = lambda _kind: f"{ids.getrandbits(40):010x}"  # noqa: E731 - Mailchimp's 10-hex IDs
        seq = iter(range(10_001, 10**9))
        account = EmailAccount(
            "mailchimp",
            "Northwind Coffee Roasters",
            self._rng,
            self._now,
            compliance=True,
            person_id=lambda email, _n: hashlib.md5(email.encode()).hexdigest(),
            new_id=lambda kind: str(next(seq)) if kind == "segment" else hexid(kind),
        )
        now = self._now()
        rng = self._rng("mailchimp-people")
        fields = [("FNAME", "First Name", "text"), ("LNAME", "Last Name", "text")]
        main = Audience(
            hexid("list"),
            "Northwind Newsletter",
            "Northwind Coffee",
            "hello@northwind.coffee",
            "hello@northwind.coffee",
            {},
            {},
            fields,
            now - timedelta(days=900),
            0.03,
            0.22,
        )
        main.people = _people(
            rng, 6000, now, account._person_id, {"customer": 0.3, "wholesale": 0.03}, ("FNAME", "LNAME")
        )
        small = Audience(
            hexid("list"),
            "Wholesale partners",
            "Northwind Wholesale",
            "wholesale@northwind.coffee",
            "wholesale@northwind.coffee",
            {},
            {},
            fields,
            now - timedelta(days=400),
            0.06,
            0.35,
        )
        small.people = _people(rng, 240, now, account._person_id, {"cafe": 0.6}, ("FNAME", "LNAME"))
        for aud in (main, small):
            account.audiences[aud.id] = aud
        account.create_segment(main.id, "Customers", tag="customer")
        account.create_segment(main.id, "VIP tasting panel", emails=[p.email for p in list(main.people.values())[:40]])
        self._history(account, main.id, weeks=10)
        return account

    def _build_customerio(self) -> EmailAccount:
        seq = iter(range(1, 10**9))
        account = EmailAccount(
            "customerio",
            "Northwind Coffee (production)",
            self._rng,
            self._now,
            compliance=False,
            person_id=lambda _email, n: f"cust-{n:06d}",
            new_id=lambda _kind: str(next(seq)),
        )
        now = self._now()
        rng = self._rng("customerio-people")
        people = Audience(
            "workspace",
            "Northwind Coffee (production)",
            "Northwind Coffee",
            "hello@northwind.coffee",
            "hello@northwind.coffee",
            {},
            {},
            [("first_name", "First name", "text"), ("last_name", "Last name", "text")],
            now - timedelta(days=700),
            0.025,
            0.2,
        )
        people.people = _people(
            rng, 4000, now, account._person_id, {"subscriber": 0.5, "trial": 0.1}, ("first_name", "last_name")
        )
        account.audiences[people.id] = people
        account._people_seq = len(people.people) + 1
        account.create_segment(people.id, "All subscribed people", kind="dynamic")
        account.create_segment(people.id, "Coffee subscribers", tag="subscriber")
        account.create_segment(people.id, "Beta testers", emails=[p.email for p in list(people.people.values())[:25]])
        self._history(account, people.id, weeks=6)
        return account

    def _history(self, account: EmailAccount, audience_id: str, weeks: int) -> None:
        """Past weekly campaigns, so the audience has a baseline to judge new ones against."""
        now = self._now()
        for week in range(weeks):
            subject = _PAST_SUBJECTS[week % len(_PAST_SUBJECTS)]
            c = account.create_campaign(
                audience_id, name=f"Weekly {week + 1}", subject=subject, html=_CONTENT.format(title=subject)
            )
            sent = now - timedelta(days=7 * (weeks - week))
            c.created = c.updated = sent - timedelta(days=1)
            account._deliver(c, sent)
