"""Customer.io's API as the adapter speaks it: its limits, people filters and error bodies, the checks on IDs
made before any request, and the mapping of people, segments and newsletters onto the ESP models."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any

import httpx

from ...errors import AdapterError, InvalidRequest, NotFound, Unsupported, UpstreamUnavailable
from ...http import error_body
from ...json_values import JsonObject, is_list, is_object
from ..base import (
    CAP_AB_SUBJECT,
    CAP_CANCEL,
    CAP_LINK_CLICKS,
    CAP_MERGE_FIELDS,
    CAP_PROXY_OPENS,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    ABTest,
    Campaign,
    Contact,
    ContactUpsert,
    Segment,
    check_email,
)

VENDOR = "Customer.io"
AUDIENCE_ID = "people"
CAPABILITIES = frozenset(
    {CAP_SEGMENTS, CAP_MERGE_FIELDS, CAP_SCHEDULE, CAP_CANCEL, CAP_AB_SUBJECT, CAP_PROXY_OPENS, CAP_LINK_CLICKS}
)
BATCH_BYTES = 450_000  # Track v2 batches must be under 500 KB; room for the envelope
ITEM_BYTES = 32 * 1024  # and each operation in them 32 KB or less
LOOKUP_CHUNK = 500  # addresses looked up per people search
SEGMENT_CHUNK = 1000  # people added to a manual segment per request
CUSTOMERS_CHUNK = 100  # people read with their attributes per request
SEARCH_PAGE = 1000  # the people search's largest page
LIST_PAGE = 20  # newsletters per page of list_campaigns (each costs a read of its contents)
COUNT_PAGES = 50  # pages read to count recipients, so one call stays bounded (50,000 people)
HISTORY = 5  # sent newsletters averaged for an audience's history
# The longest window: the whole newsletter.
METRICS_WINDOW: dict[str, str | int] = {"period": "months", "steps": 121, "type": "email"}
# Attributes that identify a person or belong to Customer.io, not merge fields.
_SYSTEM_ATTRIBUTES = frozenset({"id", "email", "cio_id", "created_at", "unsubscribed", "cio_subscription_preferences"})

HINT_AUDIENCE = f"Customer.io has one audience per workspace: pass audience_id='{AUDIENCE_ID}' or leave it out."
HINT_CAMPAIGNS = "Call list_campaigns to get a valid newsletter ID."
HINT_SEGMENTS = "Call list_segments to get a valid segment ID."
HINT_SENDERS = "Use a sender identity that exists in Customer.io (Settings > Sender identities), or leave it out."

# People search filters.
EVERYONE: JsonObject = {"attribute": {"field": "email", "operator": "exists"}}
SUBSCRIBED: JsonObject = {"not": {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}}
UNSUBSCRIBED: JsonObject = {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}


# -- errors -------------------------------------------------------------------------------------


def parse_customerio_error(response: httpx.Response) -> tuple[str, str]:
    """Customer.io's error bodies: `{"meta": {"error"}}`, `{"meta": {"errors": [...]}}` (App and Track v1),
    `{"errors": [{"detail"}]}` (newsletters) and `{"errors": [{"reason", "field", "message"}]}` (Track v2)."""
    body = error_body(response)
    meta = body.get("meta")
    if is_object(meta):
        if meta.get("error"):
            return "", str(meta["error"])
        meta_errors = meta.get("errors")
        if is_list(meta_errors):
            return "", "; ".join(str(e) for e in meta_errors[:5])
    errors = body.get("errors")
    if not is_list(errors):
        return "", ""
    code = ""
    parts: list[str] = []
    for item in errors[:5]:
        if is_object(item):
            code = code or str(item.get("reason") or "")
            text = item.get("detail") or item.get("message") or item.get("reason") or ""
            parts.append(f"{item['field']}: {text}" if item.get("field") and text else str(text))
        elif item:
            parts.append(str(item))
    return code[:80], "; ".join(p for p in parts if p)


def classify_customerio_error(status: int, code: str) -> type[AdapterError] | None:
    return NotFound if code.lower() in ("not_found", "notfound") else None


def garbage(what: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"Customer.io answered with something that is not {what}.", vendor=VENDOR)


def garbled(response: httpx.Response) -> bool:
    """Whether an answer has a body that is not JSON: a 2xx that proves nothing."""
    if not response.content.strip():
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


@contextmanager
def hinted(hint: str) -> Generator[None]:
    """Give a vendor 404 the hint that says how to find a valid ID."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(exc.message, hint=hint, vendor=exc.vendor, status=exc.status) from None


# -- reading answers ----------------------------------------------------------------------------


def items(raw: object, key: str) -> list[Any]:
    """The list under `key` of an answer; anything else is garbage."""
    value = raw.get(key) if is_object(raw) else None
    if not is_list(value):
        raise garbage(f"a list of {key}")
    return value


def objects(raw: object, key: str) -> list[JsonObject]:
    """The JSON objects in the list under `key` of an answer (other entries are skipped)."""
    return [item for item in items(raw, key) if is_object(item)]


def member(raw: object, key: str, what: str) -> JsonObject:
    """The object under `key` of an answer (`{"newsletter": {...}}`); anything else is garbage."""
    value = raw.get(key) if is_object(raw) else None
    if not is_object(value):
        raise garbage(what)
    return value


def when(value: object) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) and value else None


def truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


# -- checks before a request --------------------------------------------------------------------


def check_audience(audience_id: str) -> None:
    if audience_id != AUDIENCE_ID:
        raise NotFound(f"Customer.io has no audience '{audience_id}'.", hint=HINT_AUDIENCE, vendor=VENDOR)


def check_ab(ab: ABTest | None) -> None:
    if ab is not None and (ab.test_size != 100 or ab.winner_criteria != "manual"):
        raise Unsupported(
            "Customer.io's API splits every recipient evenly between the subject lines and cannot pick "
            "a winner or test on a share of the audience.",
            hint="Pass test_size=100 and winner_criteria='manual', then compare the variants in the report.",
        )


def newsletter_id(campaign_id: str) -> int:
    if not str(campaign_id).isdigit():
        raise NotFound(f"'{campaign_id}' is not a Customer.io newsletter ID.", hint=HINT_CAMPAIGNS, vendor=VENDOR)
    return int(campaign_id)


def checked_address(email: str) -> str:
    try:
        return check_email(email)
    except ValueError as exc:
        raise InvalidRequest(str(exc), hint=f"Fix the address {email.strip()[:80]!r}.", vendor=VENDOR) from None


# -- mapping ------------------------------------------------------------------------------------


def identify(contact: ContactUpsert) -> JsonObject:
    """The Track v2 batch operation that creates or updates one person."""
    attributes: JsonObject = dict(contact.merge_fields)
    if contact.status is not None:
        attributes["unsubscribed"] = contact.status == "unsubscribed"
    return {"type": "person", "identifiers": {"email": contact.email}, "action": "identify", "attributes": attributes}


def to_contact(customer: JsonObject) -> Contact:
    raw_attrs, raw_ids = customer.get("attributes"), customer.get("identifiers")
    attrs: JsonObject = raw_attrs if is_object(raw_attrs) else {}
    ids: JsonObject = raw_ids if is_object(raw_ids) else {}
    unsubscribed = customer.get("unsubscribed") is True or truthy(attrs.get("unsubscribed"))
    merge_fields: dict[str, str | int | float | bool | None] = {
        k: v
        for k, v in attrs.items()
        if k not in _SYSTEM_ATTRIBUTES and not k.startswith("_") and isinstance(v, (str, int, float, bool))
    }
    return Contact(
        email=str(ids.get("email") or attrs.get("email") or "").lower(),
        id=str(ids.get("id") or customer.get("id") or ids.get("cio_id") or ""),
        status="unsubscribed" if unsubscribed else "subscribed",
        merge_fields=merge_fields,
    )


def to_segment(raw: JsonObject) -> Segment:
    return Segment(
        id=str(raw["id"]), name=str(raw.get("name") or ""), kind="static" if raw.get("type") == "manual" else "dynamic"
    )


def _first_contents(contents: list[JsonObject], groups: list[JsonObject]) -> list[JsonObject]:
    """Each A/B group's (first) content, in the groups' order; a group names its contents by ID."""
    by_id = {int(c["id"]): c for c in contents}
    ordered: list[JsonObject] = []
    for group in groups:
        content_ids: list[Any] = group.get("content_ids") or []
        ordered += [by_id[int(cid)] for cid in content_ids[:1] if str(cid).isdigit() and int(cid) in by_id]
    return ordered


def to_campaign(
    newsletter: JsonObject, contents: list[JsonObject] | None = None, groups: list[JsonObject] | None = None
) -> Campaign:
    contents = contents or []
    groups = groups or []
    ordered = _first_contents(contents, groups) or contents
    first: JsonObject = ordered[0] if ordered else {}
    segments: list[Any] = newsletter.get("recipient_segment_ids") or []
    ab = None
    if len(ordered) > 1:
        subjects = [c.get("subject") or "" for c in ordered]
        winner = next((subjects[i] for i, g in enumerate(groups) if g.get("winner") and i < len(subjects)), None)
        # Built unchecked: a group fresh from the copy can still have an empty subject.
        ab = ABTest.model_construct(
            subject_lines=subjects, test_size=100, winner_criteria="manual", wait_hours=4, winner=winner
        )
    sent_at = when(newsletter.get("sent_at"))
    return Campaign(
        id=str(newsletter["id"]),
        name=str(newsletter.get("name") or ""),
        status="sent" if sent_at else "draft",
        audience_id=AUDIENCE_ID,
        segment_id=str(segments[0]) if len(segments) == 1 else None,
        subject=first.get("subject") or None,
        preview_text=first.get("preheader_text") or None,
        from_name=parseaddr(str(first.get("from") or ""))[0] or None,
        reply_to=first.get("reply_to") or None,
        has_content=any((c.get("body") or "").strip() for c in contents),
        sent_at=sent_at,
        ab_test=ab,
    )
