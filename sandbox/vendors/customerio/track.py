"""The Track API: identify people (v1 PUT and v2 batch, which answers 207 with per-item errors), and
add people to or remove them from manual segments."""

from __future__ import annotations

import json
from typing import Any

from ...email_world import EmailRejected, Person
from .common import CioError, Ctx, Result, body_object, find_person, find_segment, id_type_param, track_error, truthy

BATCH_ITEM_MAX = 32 * 1024
RESERVED = frozenset(
    {
        "id",
        "email",
        "cio_id",
        "anonymous_id",
        "created_at",
        "_timestamp",
        "_update",
        "cio_relationships",
        "cio_subscription_preferences",
        "unsubscribed",
    }
)


def _identify(ctx: Ctx, person: Person | None, email: str | None, attrs: dict[str, Any]) -> Person | None:
    """Create or update a person; None when ``_update`` asked not to create one. Raises EmailRejected."""
    if person is None:
        if attrs.get("_update") is True:
            return None
        if not email:
            raise EmailRejected("a new person in this workspace needs an email address")
        address = email
    else:
        address = person.email
    fields = {k: v for k, v in attrs.items() if k not in RESERVED and v is not None and v != ""}
    status = None
    if "unsubscribed" in attrs:
        if truthy(attrs["unsubscribed"]):
            status = "unsubscribed"
        elif person is not None and person.status == "unsubscribed":
            status = "subscribed"
    p, _created = ctx.account.upsert(ctx.aud.id, address, status=status, fields=fields)
    for k in [k for k, v in attrs.items() if k not in RESERVED and (v is None or v == "")]:
        p.fields.pop(k, None)  # null or an empty string removes the attribute
    return p


def _track_identifier(ctx: Ctx, identifier: str) -> tuple[Person | None, str | None]:
    if identifier.startswith("cio_"):
        return find_person(ctx.aud, identifier[4:], "cio_id"), None
    if "@" in identifier:  # the identifier's shape says which kind it is
        return ctx.aud.people.get(identifier.strip().lower()), identifier
    return find_person(ctx.aud, identifier, "id"), None


def track_identify(ctx: Ctx, identifier: str) -> Result:
    attrs = body_object(ctx, lambda m: track_error(400, m))
    person, email = _track_identifier(ctx, identifier)
    if email is None and isinstance(attrs.get("email"), str) and person is None:
        email = attrs["email"]
    try:
        _identify(ctx, person, email, attrs)
    except EmailRejected as err:
        raise track_error(400, f"email: {_rejected(email, err)}") from None
    return Result({})


def _rejected(email: str | None, err: EmailRejected) -> str:
    return f"'{email}' is not a valid email address" if email else err.reason


def segment_add(ctx: Ctx, segment_id: str) -> Result:
    return _segment_edit(ctx, segment_id, add=True)


def segment_remove(ctx: Ctx, segment_id: str) -> Result:
    return _segment_edit(ctx, segment_id, add=False)


def _segment_edit(ctx: Ctx, segment_id: str, *, add: bool) -> Result:
    seg = find_segment(ctx, segment_id, error=lambda status, m: track_error(status, m))
    if seg.kind != "static":
        raise track_error(400, "People can only be added to or removed from manual segments.")
    ids = body_object(ctx, lambda m: track_error(400, m)).get("ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
        raise track_error(400, "ids must be an array of 1 to 1000 identifiers.")
    id_type = id_type_param(ctx)
    # Values that do not match id_type, or belong to nobody, are ignored.
    emails = [p.email for p in (find_person(ctx.aud, str(i), id_type) for i in ids) if p is not None]
    if add:
        ctx.account.segment_update(ctx.aud.id, seg.id, add=emails)
    else:
        ctx.account.segment_update(ctx.aud.id, seg.id, remove=emails)
    return Result({})


def batch(ctx: Ctx) -> Result:
    items = body_object(
        ctx, lambda m: CioError(400, {"errors": [{"reason": "invalid", "field": "body", "message": m}]})
    ).get("batch")
    if not isinstance(items, list) or not items:
        raise CioError(
            400, {"errors": [{"reason": "required", "field": "batch", "message": "batch must be a non-empty array"}]}
        )
    errors = []
    for index, item in enumerate(items):
        problem = _batch_item(ctx, item)
        if problem is not None:
            errors.append({"batch_index": index, **problem})
    return Result({"errors": errors}, 207) if errors else Result({})


def _batch_item(ctx: Ctx, item: Any) -> dict[str, str] | None:
    """Apply one entity operation; the error for the 207 answer, or None."""
    if len(json.dumps(item)) > BATCH_ITEM_MAX:
        return {"reason": "too_large", "field": "", "message": "each request in a batch must be 32kb or smaller"}
    if not isinstance(item, dict) or item.get("type") != "person":
        return {"reason": "invalid", "field": "type", "message": "this workspace accepts type person"}
    if item.get("action") != "identify":
        return {"reason": "invalid", "field": "action", "message": "this workspace accepts action identify"}
    ids = item.get("identifiers")
    if not isinstance(ids, dict) or len(ids) != 1 or next(iter(ids)) not in ("id", "email", "cio_id"):
        return {
            "reason": "required",
            "field": "identifiers",
            "message": "identifiers must hold exactly one of id, email, cio_id",
        }
    attrs = item.get("attributes", {})
    if not isinstance(attrs, dict):
        return {"reason": "invalid", "field": "attributes", "message": "attributes must be an object"}
    ((kind, value),) = ids.items()
    value = str(value)
    person = find_person(ctx.aud, value, kind)
    email = value if kind == "email" else attrs.get("email") if isinstance(attrs.get("email"), str) else None
    try:
        _identify(ctx, person, email, attrs)
    except EmailRejected as err:
        return {
            "reason": "invalid",
            "field": "identifiers.email" if kind == "email" else "attributes.email",
            "message": _rejected(email, err),
        }
    return None
