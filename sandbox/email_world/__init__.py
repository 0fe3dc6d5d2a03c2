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

Incidents (``incidents``): a weak campaign on a given day, its subject's hidden appeal low; a
deliverability drop (bounces, and mail landing in spam); list fatigue (engagement falling with every
campaign sent soon after the one before).

The model lives in ``records`` (people, audiences, campaigns, stats), ``account`` (one ESP account
and how its people respond) and ``seeded`` (the two seeded accounts); this package re-exports them.
"""

from .account import EmailAccount, check_address, hidden_traits, subject_appeal
from .incidents import DEFAULT_EMAIL_INCIDENTS, Staged, normalize_email_incidents
from .records import (
    FAKE_DOMAINS,
    HARD_BOUNCE_SHARE,
    NORMAL_SEND,
    PROXY_SHARE,
    SOFT_BOUNCE_RATE,
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
from .seeded import EmailWorld

__all__ = [
    "ABSpec",
    "Audience",
    "Campaign",
    "CampaignStateError",
    "DEFAULT_EMAIL_INCIDENTS",
    "Delivery",
    "EmailAccount",
    "EmailRejected",
    "EmailWorld",
    "FAKE_DOMAINS",
    "HARD_BOUNCE_SHARE",
    "NORMAL_SEND",
    "PROXY_SHARE",
    "Person",
    "SOFT_BOUNCE_RATE",
    "STATUSES",
    "Staged",
    "SUBSCRIBED",
    "Segment",
    "SendConditions",
    "Stats",
    "UNSUBSCRIBE_RATE",
    "VariantStats",
    "check_address",
    "hidden_traits",
    "normalize_email_incidents",
    "subject_appeal",
]
