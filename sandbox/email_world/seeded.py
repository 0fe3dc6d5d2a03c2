"""The world's two seeded ESP accounts, a Mailchimp account and a Customer.io workspace, with their
people and a history of sent campaigns."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import datetime, timedelta
from typing import Any, Callable

from .account import EmailAccount, hidden_traits
from .incidents import CLIENT_SUBJECTS, DEFAULT_EMAIL_INCIDENTS, WEAK_SUBJECT, Staged, normalize_email_incidents
from .records import NORMAL_SEND, SUBSCRIBED, Audience, Campaign, Person, SendConditions

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
            **hidden_traits(rng),
        )
    return out


def _largest(account: EmailAccount) -> Audience:
    return max(account.audiences.values(), key=lambda a: len(a.members()))


def _every(first: datetime, step: timedelta, now: datetime) -> list[datetime]:
    """``first`` and every ``step`` after it, up to ``now``."""
    out = [first]
    while out[-1] + step <= now:
        out.append(out[-1] + step)
    return out


class EmailWorld:
    """The Mailchimp account and the Customer.io workspace, built on first use (a reset stays cheap)."""

    def __init__(
        self,
        rng: Callable[[str], random.Random],
        now: Callable[[], datetime],
        incidents: dict[str, Any] | None = None,
    ):
        self._rng = rng
        self._now = now
        self._start = now()
        self._mailchimp: EmailAccount | None = None
        self._customerio: EmailAccount | None = None
        self._incidents = normalize_email_incidents(incidents or {}, DEFAULT_EMAIL_INCIDENTS)
        self._staged: list[Staged] = []
        self._sent: set[tuple[str, int]] = set()  # the incidents' campaigns sent: (incident, its n-th send)
        self._send_conditions: dict[tuple[str, str], SendConditions] = {}  # (vendor, campaign id)

    @property
    def mailchimp(self) -> EmailAccount:
        if self._mailchimp is None:
            self._mailchimp = self._attach(self._build_mailchimp())
            self._stage(self._now())
        return self._mailchimp

    @property
    def customerio(self) -> EmailAccount:
        if self._customerio is None:
            self._customerio = self._attach(self._build_customerio())
            self._stage(self._now())
        return self._customerio

    def tick(self, now: datetime) -> None:
        self._stage(now)
        for account in (self._mailchimp, self._customerio):
            if account is not None:
                account.tick(now)

    # -- incidents ---------------------------------------------------------------------------

    def configure_incidents(self, spec: Any) -> None:
        """Email incidents by name (``incidents.DEFAULT_EMAIL_INCIDENTS``); other names are ignored."""
        self._incidents = normalize_email_incidents(spec, self._incidents)
        self._stage(self._now())

    def incident_settings(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._incidents)

    def staged(self, kind: str | None = None) -> list[Staged]:
        """The incidents that have happened so far (of one kind, or all): the ground truth detections are
        scored against."""
        for incident in self._incidents.values():
            if incident["enabled"]:  # building the account stages what is due
                _ = self.mailchimp if incident["esp"] == "mailchimp" else self.customerio
        return [s for s in self._staged if kind is None or s.kind == kind]

    def _built(self, esp: str) -> EmailAccount | None:
        return self._mailchimp if esp == "mailchimp" else self._customerio

    def _stage(self, now: datetime) -> None:
        """The incidents' campaigns that are due by ``now`` go out, oldest first, at their own times (an
        account built late sends them backdated)."""
        due = []
        for kind, incident in self._incidents.items():
            built = self._built(incident["esp"])
            if not incident["enabled"] or built is None:  # an account not built yet stages them when it is
                continue
            first = self._start + timedelta(days=incident["day"])
            every = incident.get("every_days")
            times = [first] if every is None else _every(first, timedelta(days=every), now)
            due += [(at, kind, n) for n, at in enumerate(times) if at <= now and (kind, n) not in self._sent]
        for at, kind, n in sorted(due):
            self._sent.add((kind, n))
            self._send_client_campaign(kind, at, n)

    def _send_client_campaign(self, kind: str, at: datetime, n: int) -> None:
        """One "Weekly N" campaign of the client's to the ESP's largest audience, as a staged incident sends it."""
        incident = self._incidents[kind]
        built = self._built(incident["esp"])
        assert built is not None
        audience = _largest(built)
        weekly = sum(1 for c in built.campaigns.values() if c.name.startswith("Weekly "))
        subject = CLIENT_SUBJECTS[(weekly + n) % len(CLIENT_SUBJECTS)]
        if kind == "weak_campaign":
            subject = incident["subject"] or WEAK_SUBJECT
            built.tastes[subject.strip().lower()] = incident["appeal"]
        c = built.create_campaign(
            audience.id, name=f"Weekly {weekly + 1}", subject=subject, html=_CONTENT.format(title=subject)
        )
        c.created = c.updated = at - timedelta(hours=20)
        built._deliver(c, at)
        if kind == "weak_campaign":
            self._staged.append(Staged(kind, incident["esp"], c.id, subject, incident["day"], at))

    def _attach(self, account: EmailAccount) -> EmailAccount:
        """The account's sends from now on go through the incidents (its seeded history went out before)."""
        account.conditions = lambda c: self._conditions(account, c)
        return account

    def _conditions(self, account: EmailAccount, c: Campaign) -> SendConditions:
        """What the incidents do to this campaign's send, decided once per campaign at its first send and
        recorded as staged when it is not a normal send."""
        key = (account.vendor, c.id)
        if key in self._send_conditions:
            return self._send_conditions[key]
        assert c.sent_at is not None  # set by the send that asks
        fields: dict[str, Any] = {}
        drop = self._incidents["deliverability_drop"]
        if drop["enabled"] and drop["esp"] == account.vendor:
            begin = self._start + timedelta(days=drop["day"])
            if begin <= c.sent_at and (drop["days"] is None or c.sent_at < begin + timedelta(days=drop["days"])):
                fields.update(soft_bounce=drop["bounce_rate"], spam_share=drop["spam_share"])
        fatigue = self._incidents["list_fatigue"]
        if fatigue["enabled"] and fatigue["esp"] == account.vendor:
            streak = self._streak(account, c, fatigue)
            if streak:
                fields.update(engagement=(1 - fatigue["decay"]) ** streak, unsubscribe=1.0 + streak, streak=streak)
        conditions = SendConditions(**fields) if fields else NORMAL_SEND
        self._send_conditions[key] = conditions
        touched = {"deliverability_drop": "spam_share" in fields, "list_fatigue": "streak" in fields}
        for kind in (k for k, hit in touched.items() if hit):
            day = self._incidents[kind]["day"]
            self._staged.append(Staged(kind, account.vendor, c.id, c.subject or "", day, c.sent_at, conditions))
        return conditions

    def _streak(self, account: EmailAccount, c: Campaign, fatigue: dict[str, Any]) -> int:
        """How many campaigns in a row, from the incident's day, went to the largest audience each within
        ``window_days`` of the one before: 0 for a campaign after a long enough break."""
        assert c.sent_at is not None
        if c.audience_id != _largest(account).id or c.sent_at < self._start + timedelta(days=fatigue["day"]):
            return 0
        sends = [
            (o.sent_at, o.id)
            for o in account.campaigns.values()
            if o.id != c.id and o.audience_id == c.audience_id and o.deliveries and o.sent_at is not None
        ]
        previous = max((s for s in sends if s[0] <= c.sent_at), default=None)
        if previous is None or c.sent_at - previous[0] > timedelta(days=fatigue["window_days"]):
            return 0
        return self._send_conditions.get((account.vendor, previous[1]), NORMAL_SEND).streak + 1

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
        """Past weekly campaigns, so the audience has a baseline to judge new ones against: the weeks before
        the world's start, however late the account is first used (the incidents' campaigns come after)."""
        now = self._start
        for week in range(weeks):
            subject = _PAST_SUBJECTS[week % len(_PAST_SUBJECTS)]
            c = account.create_campaign(
                audience_id, name=f"Weekly {week + 1}", subject=subject, html=_CONTENT.format(title=subject)
            )
            sent = now - timedelta(days=7 * (weeks - week))
            c.created = c.updated = sent - timedelta(days=1)
            account._deliver(c, sent)
