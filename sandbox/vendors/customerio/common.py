"""What the Customer.io handlers share: the request context, the error shapes, paging by
opaque ``start`` tokens, and finding people and segments by the identifiers the API accepts."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ...email_world import Audience, EmailAccount, Person, Segment
from ...world import World

TEST_GROUPS_MAX = 9  # content IDs are newsletter * 10 + group
PERIOD_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 121}
EST = timezone(timedelta(hours=-5))  # metric periods start at 00:00 EST
SENDER_ID = 1


class CioError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status = status
        self.body = body


def meta_error(status: int, message: str) -> CioError:
    return CioError(status, {"meta": {"error": message}})


def detail_error(status: int, *details: str) -> CioError:
    return CioError(status, {"errors": [{"detail": d} for d in details]})


def track_error(status: int, *messages: str) -> CioError:
    return CioError(status, {"meta": {"errors": list(messages)}})


@dataclass
class Ctx:
    world: World
    account: EmailAccount
    aud: Audience
    method: str
    query: dict[str, str]
    body: Any


@dataclass
class Result:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


# -- request helpers --------------------------------------------------------------------------


def ts(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


def body_object(ctx: Ctx, error: Callable[[str], CioError]) -> dict[str, Any]:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise error("The request body must be a JSON object.")
    return ctx.body


def int_query(ctx: Ctx, name: str, default: int, lo: int, hi: int) -> int:
    raw = ctx.query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise meta_error(400, f"{name} must be an integer.") from None
    if not lo <= value <= hi:
        raise meta_error(400, f"{name} must be between {lo} and {hi}.")
    return value


def page_of(ctx: Ctx, items: list, default: int, maximum: int) -> tuple[list, str]:
    """One page by the opaque ``start`` token; returns the items and the ``next`` token ('' at the end)."""
    limit = int_query(ctx, "limit", default, 1, maximum)
    start = ctx.query.get("start") or ""
    offset = 0
    if start:
        try:
            offset = int(base64.urlsafe_b64decode(start.encode()).decode().split(":")[0])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise meta_error(400, "start is not a token this API returned.") from None
    window = items[offset : offset + limit]
    end = offset + len(window)
    token = base64.urlsafe_b64encode(f"{end}:{limit}".encode()).decode() if end < len(items) else ""
    return window, token


def truthy(value: Any) -> bool:
    # Customer.io counts any case of "true", 1 and "1" as unsubscribed; anything else is false.
    return value is True or value == 1 or str(value).strip().lower() in ("true", "1")


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


# -- people and segments ----------------------------------------------------------------------


def cio_id(p: Person) -> str:
    return "03" + p.id.rpartition("-")[2]


def identifiers_json(p: Person) -> dict[str, str]:
    return {"email": p.email, "id": p.id, "cio_id": cio_id(p)}


def id_type_param(ctx: Ctx, allowed: tuple[str, ...] = ("id", "email", "cio_id")) -> str:
    id_type = ctx.query.get("id_type") or "id"
    if id_type not in allowed:
        raise meta_error(400, f"id_type must be one of {', '.join(allowed)}.")
    return id_type


def find_person(aud: Audience, value: str, id_type: str) -> Person | None:
    if id_type == "email":
        return aud.people.get(value.strip().lower())
    key = (lambda p: p.id) if id_type == "id" else cio_id
    return next((p for p in aud.people.values() if key(p) == value), None)


def segment_members(aud: Audience, seg: Segment) -> list[Person]:
    # A data-driven segment without a tag is "everyone who is subscribed"; others count everyone in them.
    status = "subscribed" if seg.kind == "dynamic" and seg.tag is None else None
    return aud.members(seg.id, status=status)


def find_segment(ctx: Ctx, segment_id: Any, error: Callable[[int, str], CioError] = meta_error) -> Segment:
    seg = ctx.aud.segments.get(str(segment_id)) if str(segment_id).isdigit() else None
    if seg is None:
        raise error(404, f"Segment {segment_id} not found.")
    return seg
