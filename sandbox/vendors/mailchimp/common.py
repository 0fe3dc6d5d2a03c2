"""What the Mailchimp handlers share: the request context and result, limits, wire-format helpers and
the lookups that 404 in Mailchimp's words."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...email_world import (
    Audience,
    Campaign,
    CampaignStateError,
    EmailAccount,
    EmailRejected,
    Person,
    Segment,
)
from ...world import World
from .errors import MailchimpError, invalid, not_found

MAX_CONNECTIONS = 10
PAGE_DEFAULT, PAGE_MAX = 10, 1000
BATCH_MAX = 500
SUBJECT_MAX = 150
MEMBER_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
WIRE_STATUS = {"draft": "save", "scheduled": "schedule", "sending": "sending", "sent": "sent", "canceled": "canceled"}
WINNER_CRITERIA = ("opens", "clicks", "manual")
VARIANT_LETTERS = "abcdefgh"
NOT_READY = "Your Campaign is not ready to send."
CAMPAIGN_ACTIONS = ("test", "schedule", "unschedule", "send", "cancel-send")


@dataclass
class Ctx:
    world: World
    account: EmailAccount
    method: str
    query: dict[str, str]
    body: Any
    now: datetime


@dataclass
class Result:
    body: Any
    status: int = 200


# -- helpers -------------------------------------------------------------------


def _time(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else ""


def _web_id(some_id: str) -> int:
    return int(hashlib.md5(some_id.encode()).hexdigest()[:7], 16)


def _tag_id(name: str) -> int:
    return int(hashlib.md5(name.encode()).hexdigest()[:6], 16)


def member_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def _object(ctx: Ctx) -> dict[str, Any]:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise invalid([("", f"Schema describes object, {type(ctx.body).__name__} found instead")])
    return ctx.body


def _page(ctx: Ctx, items: list) -> tuple[list, int]:
    errors = []
    values = {}
    for name, default in (("count", PAGE_DEFAULT), ("offset", 0)):
        raw = ctx.query.get(name, str(default))
        if not raw.isdigit():
            errors.append((name, f"{name} must be a non-negative integer"))
        values[name] = int(raw) if raw.isdigit() else default
    if values["count"] > PAGE_MAX:
        errors.append(("count", f"count must be at most {PAGE_MAX}"))
    if errors:
        raise invalid(errors)
    return items[values["offset"] : values["offset"] + values["count"]], len(items)


def _flag(ctx: Ctx, name: str) -> bool:
    return ctx.query.get(name, "").lower() == "true"


def _audience(ctx: Ctx, list_id: str) -> Audience:
    try:
        return ctx.account.audience(list_id)
    except KeyError:
        raise not_found() from None


def _person(aud: Audience, member: str) -> Person | None:
    """A member by subscriber hash, or by address (Mailchimp accepts either in the path)."""
    if "@" in member:
        return aud.people.get(member.strip().lower())
    wanted = member.lower()
    return next((p for p in aud.people.values() if p.id == wanted), None)


def _segment(aud: Audience, segment_id: str) -> Segment:
    seg = aud.segments.get(segment_id)
    if seg is None:
        raise not_found()
    return seg


def _campaign(ctx: Ctx, campaign_id: str) -> Campaign:
    try:
        return ctx.account.campaign(campaign_id)
    except KeyError:
        raise not_found() from None


def _rejected(err: EmailRejected) -> MailchimpError:
    if err.kind == "compliance":
        return MailchimpError(400, "Member In Compliance State", err.reason)
    return MailchimpError(400, "Invalid Resource", err.reason)


def _state(err: CampaignStateError) -> MailchimpError:
    return MailchimpError(400, "Bad Request", str(err))
