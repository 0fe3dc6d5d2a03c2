"""Mailchimp's wire format as the adapter reads it: shared constants and readers of its JSON answers."""

from __future__ import annotations

from datetime import datetime

from ...errors import InvalidRequest, UpstreamUnavailable
from ...json_values import JsonObject, is_list, is_object
from ..base import check_email

VENDOR = "Mailchimp"
MAX_CONNECTIONS = 10  # simultaneous connections Mailchimp allows per account
PAGE_MAX = 1000  # the largest `count`


def items(body: object, key: str) -> list[JsonObject]:
    """The objects listed under `key` in a paged answer; an answer without that list is garbage."""
    listed = body.get(key) if is_object(body) else None
    if not is_list(listed):
        raise UpstreamUnavailable(f"Mailchimp answered without the expected '{key}' list.", vendor=VENDOR)
    return [i for i in listed if is_object(i)]


def page_size(limit: int) -> int:
    return max(1, min(int(limit), PAGE_MAX))


def next_cursor(offset: int, got: int, body: JsonObject) -> str | None:
    total = body.get("total_items")
    end = offset + got
    return str(end) if got and isinstance(total, int) and end < total else None


def checked_email(value: str) -> str:
    try:
        return check_email(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), hint="Fix or remove the address.") from None


def timestamp(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def fraction(percent: object) -> float | None:
    """Mailchimp's list stats give rates in percent; the models take fractions."""
    return float(percent) / 100 if isinstance(percent, (int, float)) else None
