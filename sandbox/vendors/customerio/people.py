"""The App API's people and segments: customers by email, search with filters, attributes, segment
lists, manual segment creation, membership and counts."""

from __future__ import annotations

from typing import Any, Callable

from ...email_world import Person, Segment
from .common import (
    Ctx,
    Result,
    as_text,
    body_object,
    cio_id,
    find_person,
    find_segment,
    id_type_param,
    identifiers_json,
    meta_error,
    page_of,
    segment_members,
    ts,
)

# -- people -----------------------------------------------------------------------------------


def _attributes(p: Person) -> dict[str, str]:
    """Every attribute as Customer.io returns it: stored as strings."""
    out = {k: as_text(v) for k, v in p.fields.items() if v is not None}
    out.update(id=p.id, email=p.email, cio_id=cio_id(p), created_at=str(ts(p.created)))
    if p.status == "unsubscribed":
        out["unsubscribed"] = "true"
    return out


def _customer(p: Person) -> dict[str, Any]:
    attrs = _attributes(p)
    return {
        "id": p.id,
        "identifiers": identifiers_json(p),
        "attributes": attrs,
        "timestamps": {k: ts(p.updated) for k in attrs},
        "unsubscribed": p.status == "unsubscribed",
        "devices": [],
    }


Match = Callable[[Person, dict[str, str]], bool]  # a person and their attributes


def _matcher(ctx: Ctx, flt: Any) -> Match:
    """A person filter: ``and`` / ``or`` arrays, a ``not`` object, ``segment`` and ``attribute`` conditions."""
    if not isinstance(flt, dict) or len(flt) != 1:
        raise meta_error(400, "filter must be an object with exactly one of and, or, not, segment, attribute.")
    ((kind, value),) = flt.items()
    if kind in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise meta_error(400, f"filter.{kind} must be a non-empty array.")
        same = _one_field_values(value) if kind == "or" else None
        if same is not None:  # "email is any of these": one set lookup instead of a condition each
            name, wanted = same
            return lambda p, attrs: attrs.get(name) in wanted
        parts = [_matcher(ctx, v) for v in value]
        combine = all if kind == "and" else any
        return lambda p, attrs: combine(part(p, attrs) for part in parts)
    if kind == "not":
        inner = _matcher(ctx, value)
        return lambda p, attrs: not inner(p, attrs)
    if kind == "segment":
        seg = find_segment(ctx, (value or {}).get("id") if isinstance(value, dict) else None, error=meta_error)
        emails = {p.email for p in segment_members(ctx.aud, seg)}
        return lambda p, attrs: p.email in emails
    if kind == "attribute":
        name, op, wanted = _condition(value)
        if op == "exists":
            return lambda p, attrs: name in attrs
        return lambda p, attrs: attrs.get(name) == wanted
    raise meta_error(400, f"Unknown filter condition: {kind}.")


def _condition(value: Any) -> tuple[str, str, str | None]:
    if not isinstance(value, dict) or not value.get("field") or value.get("operator") not in ("eq", "exists"):
        raise meta_error(400, "attribute conditions need a field and an operator (eq or exists).")
    if value["operator"] == "eq" and "value" not in value:
        raise meta_error(400, "attribute conditions with operator eq need a value.")
    return str(value["field"]), value["operator"], as_text(value["value"]) if value["operator"] == "eq" else None


def _one_field_values(conditions: list) -> tuple[str, set[str]] | None:
    """(field, values) when every condition is ``attribute eq`` on one field, else None."""
    if not all(isinstance(c, dict) and set(c) == {"attribute"} for c in conditions):
        return None
    parsed = [_condition(c["attribute"]) for c in conditions]
    if any(op != "eq" for _, op, _ in parsed) or len({name for name, _, _ in parsed}) != 1:
        return None
    return parsed[0][0], {v for _, _, v in parsed if v is not None}


def get_customers_by_email(ctx: Ctx) -> Result:
    email = (ctx.query.get("email") or "").strip().lower()
    if not email:
        raise meta_error(400, "email is required.")
    p = ctx.aud.people.get(email)
    return Result({"results": [identifiers_json(p)] if p else []})


def search_customers(ctx: Ctx) -> Result:
    body = body_object(ctx, lambda m: meta_error(400, m))
    if "filter" not in body:
        raise meta_error(400, "filter is required.")
    match = _matcher(ctx, body["filter"])
    found = [p for p in ctx.aud.people.values() if match(p, _attributes(p))]
    window, token = page_of(ctx, found, 50, 1000)
    return Result({"identifiers": [identifiers_json(p) for p in window], "ids": [p.id for p in window], "next": token})


def customer_attributes(ctx: Ctx, customer_id: str) -> Result:
    p = find_person(ctx.aud, customer_id, id_type_param(ctx))
    if p is None:
        raise meta_error(404, "Customer not found.")
    return Result({"customer": _customer(p)})


def customers_attributes(ctx: Ctx) -> Result:
    body = body_object(ctx, lambda m: meta_error(400, m))
    ids = body.get("ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, str) for i in ids):
        raise meta_error(400, "ids must be an array of 1 to 100 strings.")
    id_type = id_type_param(ctx)
    found = [p for p in (find_person(ctx.aud, i, id_type) for i in ids) if p is not None]
    return Result({"customers": [{"customer": _customer(p)} for p in found]})


# -- segments ---------------------------------------------------------------------------------


def _segment_json(seg: Segment) -> dict[str, Any]:
    return {
        "id": int(seg.id),
        "deduplicate_id": f"{seg.id}:{ts(seg.updated)}",
        "name": seg.name,
        "description": "",
        "state": "finished",
        "progress": None,
        "type": "manual" if seg.kind == "static" else "dynamic",
        "tags": None,
        "created_at": ts(seg.created),
        "updated_at": ts(seg.updated),
    }


def list_segments(ctx: Ctx) -> Result:
    return Result({"segments": [_segment_json(s) for s in ctx.aud.segments.values()]})


def create_segment(ctx: Ctx) -> Result:
    spec = body_object(ctx, lambda m: meta_error(400, m)).get("segment")
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise meta_error(400, "segment.name is required.")
    seg = ctx.account.create_segment(ctx.aud.id, name.strip(), kind="static")
    return Result({"segment": _segment_json(seg)})


def get_segment(ctx: Ctx, segment_id: str) -> Result:
    return Result({"segment": _segment_json(find_segment(ctx, segment_id))})


def segment_membership(ctx: Ctx, segment_id: str) -> Result:
    seg = find_segment(ctx, segment_id)
    window, token = page_of(ctx, segment_members(ctx.aud, seg), 1000, 30000)
    return Result(
        {
            "segment_id": int(seg.id),
            "ids": [p.id for p in window],
            "identifiers": [identifiers_json(p) for p in window],
            "next": token,
        }
    )


def segment_count(ctx: Ctx, segment_id: str) -> Result:
    seg = find_segment(ctx, segment_id)
    return Result({"segment_id": int(seg.id), "count": len(segment_members(ctx.aud, seg))})
