"""The world's two seeded ESP accounts, a Mailchimp account and a Customer.io workspace, with their
people and a history of sent campaigns."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import datetime, timedelta
from typing import Any, Callable

from .account import EmailAccount, hidden_traits
from .incidents import DEFAULT_EMAIL_INCIDENTS, WEAK_SUBJECT, Staged, normalize_email_incidents
from .records import SUBSCRIBED, Audience, Person

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

    @property
    def mailchimp(self) -> EmailAccount:
        if self._mailchimp is None:
            self._mailchimp = self._build_mailchimp()
            self._stage(self._now())
        return self._mailchimp

    @property
    def customerio(self) -> EmailAccount:
        if self._customerio is None:
            self._customerio = self._build_customerio()
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

    def staged(self) -> list[Staged]:
        """The incidents that have happened so far: the ground truth detections are scored against."""
        weak = self._incidents["weak_campaign"]
        if weak["enabled"]:  # building the account stages what is due
            _ = self.mailchimp if weak["esp"] == "mailchimp" else self.customerio
        return list(self._staged)

    def _stage(self, now: datetime) -> None:
        weak = self._incidents["weak_campaign"]
        if not weak["enabled"] or any(s.kind == "weak_campaign" for s in self._staged):
            return
        at = self._start + timedelta(days=weak["day"])
        built = self._mailchimp if weak["esp"] == "mailchimp" else self._customerio
        if at > now or built is None:  # an account not built yet stages it when it is
            return
        audience = max(built.audiences.values(), key=lambda a: len(a.members()))
        subject = weak["subject"] or WEAK_SUBJECT
        built.tastes[subject.strip().lower()] = weak["appeal"]
        weekly = sum(1 for c in built.campaigns.values() if c.name.startswith("Weekly "))
        c = built.create_campaign(
            audience.id, name=f"Weekly {weekly + 1}", subject=subject, html=_CONTENT.format(title=subject)
        )
        c.created = c.updated = at - timedelta(hours=20)
        built._deliver(c, at)
        self._staged.append(Staged("weak_campaign", weak["esp"], c.id, subject, weak["day"], at))

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
