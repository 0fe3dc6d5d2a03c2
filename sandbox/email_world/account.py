"""One ESP account over the email model: its audiences, people, segments and campaigns, how a sent
campaign's recipients respond (drawn at send time, timestamped), and the stats a report counts."""

from __future__ import annotations

import hashlib
import math
import random
import re
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from .records import (
    FAKE_DOMAINS,
    HARD_BOUNCE_SHARE,
    NORMAL_SEND,
    PROXY_SHARE,
    STATUSES,
    SUBSCRIBED,
    UNSUBSCRIBE_RATE,
    ABSpec,
    Audience,
    Campaign,
    CampaignStateError,
    Delivery,
    EmailRejected,
    Person,
    Segment,
    SendConditions,
    Stats,
    VariantStats,
)

_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")

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
        # Hidden tastes of this account's people for particular subjects (lower-cased), set by incidents.
        self.tastes: dict[str, float] = {}
        # What the world's incidents do to a campaign's send (set by the world; normal sends by default).
        self.conditions: Callable[[Campaign], SendConditions] = lambda _c: NORMAL_SEND

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
                **hidden_traits(self._rng(f"person:{email}")),
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
        self._respond(c, rest, variant, at, self._rng(f"winner:{c.id}"), remainder=True)
        c.held_back, c.status, c.updated = [], "sent", at

    def _leader(self, c: Campaign, at: datetime) -> int:
        assert c.ab is not None
        stats = self.stats(c.id, at).variants
        key = (lambda v: v.unique_clicks) if c.ab.criteria == "clicks" else (lambda v: v.unique_opens)
        return max(range(len(stats)), key=lambda i: (key(stats[i]), -i))

    def _subject(self, c: Campaign, variant: int) -> str:
        return c.ab.subjects[variant] if c.ab is not None else (c.subject or "")

    def _respond(
        self, c: Campaign, people: list[Person], variant: int, at: datetime, rng: random.Random, remainder: bool = False
    ) -> None:
        aud = self.audience(c.audience_id)
        subject = self._subject(c, variant)
        appeal = subject_appeal(subject) * self.tastes.get(subject.strip().lower(), 1.0)
        links = c.links() or [""]
        cond = self.conditions(c)
        for p in people:
            d = Delivery(p.email, variant, at, remainder=remainder)
            c.deliveries.append(d)
            if p.bounces:
                d.bounce = "hard"
                p.status = "cleaned"
                continue
            if rng.random() < cond.soft_bounce:
                d.bounce = "soft"
                continue
            if cond.spam_share and rng.random() < cond.spam_share:  # no draw at all on a normal send
                d.spam = True
                continue
            if p.proxied:  # the proxy fetches every message, read or not
                d.proxy_open_at = at + timedelta(minutes=rng.uniform(1, 60))
            p_click = min(0.9, aud.base_click * p.affinity * appeal * cond.engagement)
            p_open = min(
                0.95, max(p_click, aud.base_open * math.sqrt(p.affinity) * (0.5 + appeal / 2) * cond.engagement)
            )
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
                elif rng.random() < UNSUBSCRIBE_RATE * cond.unsubscribe / p_open:
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
        total = 0
        for d in c.deliveries:
            if d.at > now:
                continue
            total += 1
            # An A/B test's variants are its test groups; the winner's send to the rest counts in the totals.
            v = [0, 0, 0, 0] if d.remainder else per[d.variant]
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
        return Stats(
            total,
            total - hard - soft,
            hard,
            soft,
            opens_total,
            unique_opens,
            proxied,
            clicks_total,
            unique_clicks,
            unsubs,
            {u: (t, q) for u, (t, q) in links.items() if u},
            [VariantStats(s, *v) for s, v in zip(subjects, per, strict=True)],
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


def hidden_traits(rng: random.Random) -> dict[str, Any]:
    return {
        "affinity": math.exp(rng.gauss(-0.32, 0.8)),  # mean 1.0
        "proxied": rng.random() < PROXY_SHARE,
        "bounces": rng.random() < HARD_BOUNCE_SHARE,
    }
