"""Mailchimp audiences on the wire: the API root, lists, members (by MD5 of the address), tags, batch
subscribe and segments."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...email_world import Audience, EmailRejected, Person, Segment
from .common import (
    BATCH_MAX,
    MEMBER_STATUSES,
    Ctx,
    Result,
    _audience,
    _flag,
    _object,
    _page,
    _person,
    _rejected,
    _segment,
    _tag_id,
    _time,
    _web_id,
    member_hash,
)
from .errors import MailchimpError, invalid, not_found

# -- root ----------------------------------------------------------------------


def root(ctx: Ctx) -> Result:
    account = ctx.world.oauth.accounts["mailchimp"]
    subscribers = sum(1 for a in ctx.account.audiences.values() for p in a.people.values() if p.status == "subscribed")
    first, _, last = account.name.partition(" ")
    return Result(
        {
            "account_id": account.id,
            "login_id": account.extra.get("login_id", ""),
            "account_name": ctx.account.name,
            "email": account.email,
            "first_name": first,
            "last_name": last,
            "username": account.username,
            "avatar_url": "",
            "role": "owner",
            "member_since": _time(min(a.created for a in ctx.account.audiences.values())),
            "pricing_plan_type": "monthly",
            "account_timezone": "UTC",
            "account_industry": "Food & Beverage",
            "contact": {
                "company": ctx.account.name,
                "addr1": "",
                "addr2": "",
                "city": "",
                "state": "",
                "zip": "",
                "country": "US",
            },
            "pro_enabled": False,
            "last_login": _time(ctx.now),
            "total_subscribers": subscribers,
            "industry_stats": {"open_rate": 0.2, "bounce_rate": 0.005, "click_rate": 0.025},
            "_links": [],
        }
    )


def ping(ctx: Ctx) -> Result:
    return Result({"health_status": "Everything's Chimpy!"})


# -- lists ---------------------------------------------------------------------


def _list_json(ctx: Ctx, aud: Audience) -> dict[str, Any]:
    counts = Counter(p.status for p in aud.people.values())
    open_rate, click_rate, sent = ctx.account.history(aud.id)
    last_sent = max(
        (c.sent_at for c in ctx.account.campaigns.values() if c.audience_id == aud.id and c.sent_at), default=None
    )
    last_sub = max((p.created for p in aud.people.values() if p.status == "subscribed"), default=None)
    return {
        "id": aud.id,
        "web_id": _web_id(aud.id),
        "name": aud.name,
        "contact": {
            "company": ctx.account.name,
            "address1": "",
            "address2": "",
            "city": "",
            "state": "",
            "zip": "",
            "country": "US",
            "phone": "",
        },
        "permission_reminder": "You are receiving this email because you opted in via our website.",
        "use_archive_bar": True,
        "campaign_defaults": {
            "from_name": aud.from_name,
            "from_email": aud.from_email,
            "subject": "",
            "language": "en",
        },
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": _time(aud.created),
        "list_rating": 3,
        "email_type_option": False,
        "subscribe_url_short": f"http://eepurl.com/{aud.id[:6]}",
        "subscribe_url_long": f"https://northwind.us21.list-manage.com/subscribe?u=0&id={aud.id}",
        "beamer_address": "",
        "visibility": "prv",
        "double_optin": False,
        "has_welcome": False,
        "marketing_permissions": False,
        "modules": [],
        "stats": {
            "member_count": counts["subscribed"],
            "total_contacts": len(aud.people),
            "unsubscribe_count": counts["unsubscribed"],
            "cleaned_count": counts["cleaned"],
            "member_count_since_send": 0,
            "unsubscribe_count_since_send": 0,
            "cleaned_count_since_send": 0,
            "campaign_count": sent,
            "campaign_last_sent": _time(last_sent),
            "merge_field_count": len(aud.merge_fields),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": open_rate * 100,
            "click_rate": click_rate * 100,
            "last_sub_date": _time(last_sub),
            "last_unsub_date": "",
        },
        "_links": [],
    }


def list_lists(ctx: Ctx) -> Result:
    window, total = _page(ctx, list(ctx.account.audiences.values()))
    return Result(
        {
            "lists": [_list_json(ctx, a) for a in window],
            "total_items": total,
            "constraints": {"may_create": True, "max_instances": 5, "current_total_instances": total},
            "_links": [],
        }
    )


def get_list(ctx: Ctx, list_id: str) -> Result:
    return Result(_list_json(ctx, _audience(ctx, list_id)))


def merge_fields(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    fields = [
        {
            "merge_id": i + 1,
            "tag": tag,
            "name": name,
            "type": kind,
            "required": False,
            "default_value": "",
            "public": True,
            "display_order": i + 2,
            "options": {"size": 25},
            "help_text": "",
            "list_id": aud.id,
            "_links": [],
        }
        for i, (tag, name, kind) in enumerate(aud.merge_fields)
    ]
    window, total = _page(ctx, fields)
    return Result({"merge_fields": window, "list_id": aud.id, "total_items": total, "_links": []})


# -- members -------------------------------------------------------------------


def _member_json(aud: Audience, p: Person) -> dict[str, Any]:
    fields = {tag: p.fields.get(tag, "") for tag, _name, _kind in aud.merge_fields}
    return {
        "id": p.id,
        "email_address": p.email,
        "unique_email_id": p.id[:10],
        "contact_id": p.id,
        "full_name": " ".join(str(v) for v in (fields.get("FNAME"), fields.get("LNAME")) if v),
        "web_id": _web_id(p.id),
        "email_type": "html",
        "status": p.status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": fields,
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": "",
        "timestamp_opt": _time(p.created),
        "member_rating": 2,
        "last_changed": _time(p.updated),
        "language": "",
        "vip": False,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "",
            "timezone": "",
            "region": "",
        },
        "source": "API - Generic",
        "tags_count": len(p.tags),
        "tags": [{"id": _tag_id(t), "name": t} for t in sorted(p.tags)],
        "list_id": aud.id,
        "_links": [],
    }


def _known_fields(aud: Audience, body: dict[str, Any], errors: list[tuple[str, str]]) -> dict[str, Any]:
    """The merge fields the audience defines; Mailchimp ignores the others."""
    given = body.get("merge_fields") or {}
    if not isinstance(given, dict):
        errors.append(("merge_fields", "Schema describes object, array found instead"))
        return {}
    known = {tag for tag, _name, _kind in aud.merge_fields}
    return {k: v for k, v in given.items() if k in known}


def _status(body: dict[str, Any], key: str, errors: list[tuple[str, str]]) -> str | None:
    value = body.get(key)
    if value is not None and value not in MEMBER_STATUSES:
        errors.append((key, "Data presented is not one of the accepted values: " + ", ".join(MEMBER_STATUSES) + "."))
    return value


def _upsert(ctx: Ctx, aud: Audience, email: str, **kwargs: Any) -> Person:
    try:
        person, _created = ctx.account.upsert(aud.id, email, **kwargs)
    except EmailRejected as err:
        raise _rejected(err) from None
    return person


def list_members(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    status = ctx.query.get("status")
    people = [p for p in aud.people.values() if status is None or p.status == status]
    window, total = _page(ctx, people)
    return Result(
        {"members": [_member_json(aud, p) for p in window], "list_id": aud.id, "total_items": total, "_links": []}
    )


def get_member(ctx: Ctx, list_id: str, member: str) -> Result:
    aud = _audience(ctx, list_id)
    person = _person(aud, member)
    if person is None:
        raise not_found()
    return Result(_member_json(aud, person))


def add_member(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    body = _object(ctx)
    errors: list[tuple[str, str]] = []
    email = body.get("email_address")
    status = _status(body, "status", errors)
    if not isinstance(email, str) or not email.strip():
        errors.append(("email_address", "Schema describes string, NULL found instead"))
    if status is None:
        errors.append(("status", "Schema describes string, NULL found instead"))
    fields = _known_fields(aud, body, errors)
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append(("tags", "Schema describes array of strings"))
    if errors:
        raise invalid(errors)
    assert isinstance(email, str)  # otherwise email_address is among the errors
    if _person(aud, email) is not None:
        raise MailchimpError(
            400, "Member Exists", f"{email.strip()} is already a list member. Use PUT to insert or update list members."
        )
    return Result(_member_json(aud, _upsert(ctx, aud, email, status=status, fields=fields, tags=tags)))


def put_member(ctx: Ctx, list_id: str, member: str) -> Result:
    aud = _audience(ctx, list_id)
    body = _object(ctx)
    errors: list[tuple[str, str]] = []
    email = body.get("email_address")
    status = _status(body, "status", errors)
    if_new = _status(body, "status_if_new", errors)
    fields = _known_fields(aud, body, errors)
    if not isinstance(email, str) or not email.strip():
        errors.append(("email_address", "Schema describes string, NULL found instead"))
    elif "@" not in member and member_hash(email) != member.lower():
        errors.append(("email_address", "The email address does not match the subscriber hash in the URL."))
    existing = _person(aud, member)
    if existing is None and status is None and if_new is None:
        errors.append(("status_if_new", "A status is required for an address new to the list."))
    if errors:
        raise invalid(errors)
    assert isinstance(email, str)  # otherwise email_address is among the errors
    person = _upsert(ctx, aud, email, status=status or (if_new if existing is None else None), fields=fields)
    return Result(_member_json(aud, person))


def patch_member(ctx: Ctx, list_id: str, member: str) -> Result:
    aud = _audience(ctx, list_id)
    person = _person(aud, member)
    if person is None:
        raise not_found()
    body = _object(ctx)
    errors: list[tuple[str, str]] = []
    status = _status(body, "status", errors)
    fields = _known_fields(aud, body, errors)
    if errors:
        raise invalid(errors)
    return Result(_member_json(aud, _upsert(ctx, aud, person.email, status=status, fields=fields)))


def member_tags(ctx: Ctx, list_id: str, member: str) -> Result:
    aud = _audience(ctx, list_id)
    person = _person(aud, member)
    if person is None:
        raise not_found()
    tags = _object(ctx).get("tags")
    valid = isinstance(tags, list) and all(
        isinstance(t, dict)
        and isinstance(t.get("name"), str)
        and t["name"].strip()
        and t.get("status") in ("active", "inactive")
        for t in tags
    )
    if not valid or not isinstance(tags, list):
        raise invalid([("tags", "Each tag needs a name and a status of active or inactive.")])
    ctx.account.set_tags(
        aud.id,
        person.email,
        add=[t["name"].strip() for t in tags if t["status"] == "active"],
        remove=[t["name"].strip() for t in tags if t["status"] == "inactive"],
    )
    return Result(None, 204)


def batch_members(ctx: Ctx, list_id: str) -> Result:
    """Batch subscribe or unsubscribe: each member succeeds or fails on its own, and the answer is 200 either way."""
    aud = _audience(ctx, list_id)
    body = _object(ctx)
    members = body.get("members")
    if not isinstance(members, list) or not members:
        raise invalid([("members", "Schema describes array, NULL found instead")])
    if len(members) > BATCH_MAX:
        raise invalid([("members", f"A batch may add or update at most {BATCH_MAX} members.")])
    update_existing = bool(body.get("update_existing", False))
    created, updated, errors = [], [], []

    def fail(email: str, message: str, code: str = "ERROR_GENERIC", field: str = "") -> None:
        errors.append(
            {
                "email_address": email,
                "error": message,
                "error_code": code,
                "field": field,
                "field_message": message if field else "",
            }
        )

    for entry in members:
        email = entry.get("email_address") if isinstance(entry, dict) else None
        if not isinstance(email, str) or not email.strip():
            fail("", "Required fields were not provided: email_address", field="email_address")
            continue
        problems: list[tuple[str, str]] = []
        status = _status(entry, "status", problems)
        fields = _known_fields(aud, entry, problems)
        if problems:
            fail(email, problems[0][1], field=problems[0][0])
            continue
        existing = _person(aud, email)
        if existing is not None and not update_existing:
            fail(
                email,
                f"{email} is already a list member, do you want to update? please provide "
                "update_existing:true in the request body",
                "ERROR_CONTACT_EXISTS",
            )
            continue
        if existing is None and status is None:
            fail(email, "Required fields were not provided: status", field="status")
            continue
        try:
            person, new = ctx.account.upsert(aud.id, email, status=status, fields=fields)
        except EmailRejected as err:
            fail(email, err.reason)
            continue
        (created if new else updated).append(person)
    return Result(
        {
            "new_members": [_member_json(aud, p) for p in created],
            "updated_members": [_member_json(aud, p) for p in updated],
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
            "_links": [],
        }
    )


# -- segments ------------------------------------------------------------------


def _segment_json(aud: Audience, seg: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": int(seg.id),
        "name": seg.name,
        "member_count": len(aud.members(seg.id)),
        "type": _segment_type(seg),
        "created_at": _time(seg.created),
        "updated_at": _time(seg.updated),
        "list_id": aud.id,
        "_links": [],
    }
    if seg.kind != "static":
        conditions = (
            [
                {
                    "condition_type": "StaticSegment",
                    "field": "static_segment",
                    "op": "static_is",
                    "value": _tag_id(seg.tag),
                }
            ]
            if seg.tag
            else []
        )
        out["options"] = {"match": "all", "conditions": conditions}
    return out


def _segment_type(seg: Segment) -> str:
    return "static" if seg.kind == "static" else "saved"


def _segment_people(ctx: Ctx, aud: Audience, seg: Segment) -> list[Person]:
    wanted = {"subscribed"} | {
        s for s, flag in (("unsubscribed", "include_unsubscribed"), ("cleaned", "include_cleaned")) if _flag(ctx, flag)
    }
    return [p for p in aud.members(seg.id, status=None) if p.status in wanted]


def list_segments(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    kind = ctx.query.get("type")
    segments = [s for s in aud.segments.values() if kind is None or _segment_type(s) == kind]
    window, total = _page(ctx, segments)
    return Result(
        {"segments": [_segment_json(aud, s) for s in window], "list_id": aud.id, "total_items": total, "_links": []}
    )


def get_segment(ctx: Ctx, list_id: str, segment_id: str) -> Result:
    aud = _audience(ctx, list_id)
    return Result(_segment_json(aud, _segment(aud, segment_id)))


def create_segment(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    body = _object(ctx)
    name, emails = body.get("name"), body.get("static_segment")
    errors = []
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", "Schema describes string, NULL found instead"))
    if body.get("options") is not None:
        errors.append(("options", "Only static segments (static_segment) can be created here."))
    elif not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        errors.append(("static_segment", "Schema describes array of email addresses"))
    if errors:
        raise invalid(errors)
    assert isinstance(name, str) and isinstance(emails, list)  # otherwise they are among the errors
    # Addresses that are not on the list are ignored, as Mailchimp documents.
    seg = ctx.account.create_segment(aud.id, name.strip(), emails=[e for e in emails if _person(aud, e)])
    return Result(_segment_json(aud, seg))


def segment_batch(ctx: Ctx, list_id: str, segment_id: str) -> Result:
    aud = _audience(ctx, list_id)
    seg = _segment(aud, segment_id)
    body = _object(ctx)
    add, remove = body.get("members_to_add") or [], body.get("members_to_remove") or []
    for name, value in (("members_to_add", add), ("members_to_remove", remove)):
        if not isinstance(value, list) or len(value) > BATCH_MAX or not all(isinstance(e, str) for e in value):
            raise invalid([(name, f"Expected an array of at most {BATCH_MAX} email addresses.")])
    if seg.kind != "static":
        raise MailchimpError(400, "Bad Request", "Members can be added to or removed from static segments only.")
    added, removed, failed = ctx.account.segment_update(aud.id, seg.id, add=add, remove=remove)
    by_reason: dict[str, list[str]] = {}
    for email, reason in failed:
        by_reason.setdefault(reason, []).append(email)
    return Result(
        {
            "members_added": [_member_json(aud, aud.people[e]) for e in added],
            "members_removed": [_member_json(aud, aud.people[e]) for e in removed if e in aud.people],
            "errors": [{"email_addresses": emails, "error": reason} for reason, emails in by_reason.items()],
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": len(failed),
            "_links": [],
        }
    )


def segment_members(ctx: Ctx, list_id: str, segment_id: str) -> Result:
    aud = _audience(ctx, list_id)
    window, total = _page(ctx, _segment_people(ctx, aud, _segment(aud, segment_id)))
    return Result({"members": [_member_json(aud, p) for p in window], "total_items": total, "_links": []})
