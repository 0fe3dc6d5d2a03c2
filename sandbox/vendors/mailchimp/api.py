"""Mailchimp Marketing API 3.0 emulation, mounted at ``/mailchimp/3.0`` (the real base is
https://<dc>.api.mailchimp.com/3.0).

Auth is HTTP Basic with any user name and the account's API key as the password, or
``Authorization: Bearer|OAuth <token>`` with a token of the sandbox's Mailchimp OAuth app.
At most 10 requests per key or token may be in flight; the 11th gets 429, with no rate-limit
headers, as Mailchimp answers. ``World.mailchimp_latency`` (seconds) holds every request that
long while it keeps its connection slot, so concurrency can be observed. Errors are
problem+json documents.

On the wire a list is an audience, a member a person (its ID is the MD5 of the lowercase
address), segment IDs are integers, and campaign statuses are save / schedule / sending /
sent / canceled. Rates are fractions in reports and percentages in list stats, as Mailchimp
reports them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from ...email_world import (
    ABSpec,
    Audience,
    Campaign,
    CampaignStateError,
    EmailAccount,
    EmailRejected,
    Person,
    Segment,
    Stats,
    check_address,
)
from .errors import PROBLEM_JSON, MailchimpError, invalid, not_found
from ...world import World

MAX_CONNECTIONS = 10
PAGE_DEFAULT, PAGE_MAX = 10, 1000
BATCH_MAX = 500
SUBJECT_MAX = 150
MEMBER_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
WIRE_STATUS = {"draft": "save", "scheduled": "schedule", "sending": "sending", "sent": "sent", "canceled": "canceled"}
WINNER_CRITERIA = ("opens", "clicks", "manual")
VARIANT_LETTERS = "abcdefgh"
NOT_READY = "Your Campaign is not ready to send."
_ID = r"[^/]+"


# -- connections ---------------------------------------------------------------

class Connections:
    """Requests in flight per API key or token; `peak` and `refused` let tests see the limit at work."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    def enter(self, who: str) -> bool:
        with self._lock:
            if self.active.get(who, 0) >= MAX_CONNECTIONS:
                self.refused += 1
                return False
            self.active[who] = self.active.get(who, 0) + 1
            self.peak = max(self.peak, self.active[who])
            return True

    def leave(self, who: str) -> None:
        with self._lock:
            self.active[who] -= 1


_connections: weakref.WeakKeyDictionary[World, Connections] = weakref.WeakKeyDictionary()


def connections(world: World) -> Connections:
    return _connections.setdefault(world, Connections())


# -- request handling ----------------------------------------------------------

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


async def handle(request: Request, world: World, path: str) -> Response:
    try:
        who = _authenticate(world, request.headers.get("authorization"))
    except MailchimpError as err:
        return _problem(err)
    slots = connections(world)
    if not slots.enter(who):
        return _problem(MailchimpError(429))
    try:
        latency = getattr(world, "mailchimp_latency", 0.0)
        if latency:
            await asyncio.sleep(latency)
        body = await _read_body(request)
        with world.lock:
            ctx = Ctx(world, world.email.mailchimp, request.method, dict(request.query_params), body, world.now())
            result = dispatch(ctx, "/" + path.strip("/"))
    except MailchimpError as err:
        return _problem(err)
    finally:
        slots.leave(who)
    if result.status == 204:
        return Response(status_code=204)
    return Response(json.dumps(result.body, ensure_ascii=False), status_code=result.status,
                    media_type="application/json; charset=utf-8")


def _problem(err: MailchimpError) -> Response:
    return Response(json.dumps(err.body(), ensure_ascii=False), status_code=err.status,
                    headers={"Content-Type": PROBLEM_JSON, **err.headers})


def _authenticate(world: World, header: str | None) -> str:
    """The API key or OAuth token the request carries, once it is known to be good."""
    if not header:
        raise MailchimpError(401, "API Key Missing", "Your request did not include an API key.")
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "basic":
        try:
            key = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[2]
        except ValueError:
            key = ""
        expected = getattr(world.credentials, "mailchimp_api_key", None)
        if key and expected and hmac.compare_digest(key, expected):
            return key
    elif scheme in ("bearer", "oauth") and value:
        with world.lock:
            if world.oauth.check("mailchimp", value) is not None:
                return value
    raise MailchimpError(401)


async def _read_body(request: Request) -> Any:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)  # the SDK sends "null" for actions without a body
    except ValueError:
        raise MailchimpError(400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.") from None


def _routes() -> list[tuple[str, dict[str, Callable[..., Result]]]]:
    lst = rf"/lists/(?P<list_id>{_ID})"
    member = rf"{lst}/members/(?P<member>{_ID})"
    segment = rf"{lst}/segments/(?P<segment_id>{_ID})"
    campaign = rf"/campaigns/(?P<campaign_id>{_ID})"
    return [
        (r"/", {"GET": root}),
        (r"/ping", {"GET": ping}),
        (r"/lists", {"GET": list_lists}),
        (lst, {"GET": get_list, "POST": batch_members}),
        (rf"{lst}/merge-fields", {"GET": merge_fields}),
        (rf"{lst}/members", {"GET": list_members, "POST": add_member}),
        (member, {"GET": get_member, "PUT": put_member, "PATCH": patch_member}),
        (rf"{member}/tags", {"POST": member_tags}),
        (rf"{lst}/segments", {"GET": list_segments, "POST": create_segment}),
        (segment, {"GET": get_segment, "POST": segment_batch}),
        (rf"{segment}/members", {"GET": segment_members}),
        (r"/campaigns", {"GET": list_campaigns, "POST": create_campaign}),
        (campaign, {"GET": get_campaign, "PATCH": update_campaign, "DELETE": delete_campaign}),
        (rf"{campaign}/content", {"GET": get_content, "PUT": set_content}),
        (rf"{campaign}/send-checklist", {"GET": send_checklist}),
        (rf"{campaign}/actions/(?P<action>test|schedule|unschedule|send|cancel-send)", {"POST": campaign_action}),
        (r"/reports/(?P<campaign_id>[^/]+)", {"GET": report}),
        (r"/reports/(?P<campaign_id>[^/]+)/click-details", {"GET": click_details}),
    ]


def dispatch(ctx: Ctx, path: str) -> Result:
    for pattern, handlers in _routes():
        match = re.fullmatch(pattern, path)
        if not match:
            continue
        handler = handlers.get(ctx.method)
        if handler is None:
            raise MailchimpError(405, headers={"Allow": ", ".join(handlers)})
        return handler(ctx, **match.groupdict())
    raise not_found()


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
    return items[values["offset"]:values["offset"] + values["count"]], len(items)


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


# -- root ----------------------------------------------------------------------

def root(ctx: Ctx) -> Result:
    account = ctx.world.oauth.accounts["mailchimp"]
    subscribers = sum(1 for a in ctx.account.audiences.values() for p in a.people.values() if p.status == "subscribed")
    first, _, last = account.name.partition(" ")
    return Result({
        "account_id": account.id, "login_id": account.extra.get("login_id", ""),
        "account_name": ctx.account.name, "email": account.email, "first_name": first, "last_name": last,
        "username": account.username, "avatar_url": "", "role": "owner",
        "member_since": _time(min(a.created for a in ctx.account.audiences.values())),
        "pricing_plan_type": "monthly", "account_timezone": "UTC", "account_industry": "Food & Beverage",
        "contact": {"company": ctx.account.name, "addr1": "", "addr2": "", "city": "", "state": "", "zip": "",
                    "country": "US"},
        "pro_enabled": False, "last_login": _time(ctx.now), "total_subscribers": subscribers,
        "industry_stats": {"open_rate": 0.2, "bounce_rate": 0.005, "click_rate": 0.025}, "_links": [],
    })


def ping(ctx: Ctx) -> Result:
    return Result({"health_status": "Everything's Chimpy!"})


# -- lists ---------------------------------------------------------------------

def _list_json(ctx: Ctx, aud: Audience) -> dict[str, Any]:
    counts = Counter(p.status for p in aud.people.values())
    open_rate, click_rate, sent = ctx.account.history(aud.id)
    last_sent = max((c.sent_at for c in ctx.account.campaigns.values() if c.audience_id == aud.id and c.sent_at),
                    default=None)
    last_sub = max((p.created for p in aud.people.values() if p.status == "subscribed"), default=None)
    return {
        "id": aud.id, "web_id": _web_id(aud.id), "name": aud.name,
        "contact": {"company": ctx.account.name, "address1": "", "address2": "", "city": "", "state": "", "zip": "",
                    "country": "US", "phone": ""},
        "permission_reminder": "You are receiving this email because you opted in via our website.",
        "use_archive_bar": True,
        "campaign_defaults": {"from_name": aud.from_name, "from_email": aud.from_email, "subject": "",
                              "language": "en"},
        "notify_on_subscribe": "", "notify_on_unsubscribe": "", "date_created": _time(aud.created),
        "list_rating": 3, "email_type_option": False,
        "subscribe_url_short": f"http://eepurl.com/{aud.id[:6]}",
        "subscribe_url_long": f"https://northwind.us21.list-manage.com/subscribe?u=0&id={aud.id}",
        "beamer_address": "", "visibility": "prv", "double_optin": False, "has_welcome": False,
        "marketing_permissions": False, "modules": [],
        "stats": {
            "member_count": counts["subscribed"], "total_contacts": len(aud.people),
            "unsubscribe_count": counts["unsubscribed"], "cleaned_count": counts["cleaned"],
            "member_count_since_send": 0, "unsubscribe_count_since_send": 0, "cleaned_count_since_send": 0,
            "campaign_count": sent, "campaign_last_sent": _time(last_sent),
            "merge_field_count": len(aud.merge_fields), "avg_sub_rate": 0, "avg_unsub_rate": 0,
            "target_sub_rate": 0, "open_rate": open_rate * 100, "click_rate": click_rate * 100,
            "last_sub_date": _time(last_sub), "last_unsub_date": "",
        },
        "_links": [],
    }


def list_lists(ctx: Ctx) -> Result:
    window, total = _page(ctx, list(ctx.account.audiences.values()))
    return Result({"lists": [_list_json(ctx, a) for a in window], "total_items": total,
                   "constraints": {"may_create": True, "max_instances": 5, "current_total_instances": total},
                   "_links": []})


def get_list(ctx: Ctx, list_id: str) -> Result:
    return Result(_list_json(ctx, _audience(ctx, list_id)))


def merge_fields(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    fields = [{"merge_id": i + 1, "tag": tag, "name": name, "type": kind, "required": False, "default_value": "",
               "public": True, "display_order": i + 2, "options": {"size": 25}, "help_text": "",
               "list_id": aud.id, "_links": []}
              for i, (tag, name, kind) in enumerate(aud.merge_fields)]
    window, total = _page(ctx, fields)
    return Result({"merge_fields": window, "list_id": aud.id, "total_items": total, "_links": []})


# -- members -------------------------------------------------------------------

def _member_json(aud: Audience, p: Person) -> dict[str, Any]:
    fields = {tag: p.fields.get(tag, "") for tag, _name, _kind in aud.merge_fields}
    return {
        "id": p.id, "email_address": p.email, "unique_email_id": p.id[:10], "contact_id": p.id,
        "full_name": " ".join(str(v) for v in (fields.get("FNAME"), fields.get("LNAME")) if v),
        "web_id": _web_id(p.id), "email_type": "html", "status": p.status,
        "consents_to_one_to_one_messaging": True, "merge_fields": fields,
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0}, "ip_signup": "", "timestamp_signup": "",
        "ip_opt": "", "timestamp_opt": _time(p.created), "member_rating": 2, "last_changed": _time(p.updated),
        "language": "", "vip": False, "email_client": "",
        "location": {"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "country_code": "", "timezone": "",
                     "region": ""},
        "source": "API - Generic", "tags_count": len(p.tags),
        "tags": [{"id": _tag_id(t), "name": t} for t in sorted(p.tags)], "list_id": aud.id, "_links": [],
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
    return Result({"members": [_member_json(aud, p) for p in window], "list_id": aud.id, "total_items": total,
                   "_links": []})


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
    if _person(aud, email) is not None:
        raise MailchimpError(400, "Member Exists", f"{email.strip()} is already a list member. Use PUT to insert or "
                                                   "update list members.")
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
        isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"].strip()
        and t.get("status") in ("active", "inactive") for t in tags)
    if not valid:
        raise invalid([("tags", "Each tag needs a name and a status of active or inactive.")])
    ctx.account.set_tags(aud.id, person.email, add=[t["name"].strip() for t in tags if t["status"] == "active"],
                         remove=[t["name"].strip() for t in tags if t["status"] == "inactive"])
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
        errors.append({"email_address": email, "error": message, "error_code": code, "field": field,
                       "field_message": message if field else ""})

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
            fail(email, f"{email} is already a list member, do you want to update? please provide "
                        "update_existing:true in the request body", "ERROR_CONTACT_EXISTS")
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
    return Result({"new_members": [_member_json(aud, p) for p in created],
                   "updated_members": [_member_json(aud, p) for p in updated], "errors": errors,
                   "total_created": len(created), "total_updated": len(updated), "error_count": len(errors),
                   "_links": []})


# -- segments ------------------------------------------------------------------

def _segment_json(aud: Audience, seg: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {"id": int(seg.id), "name": seg.name, "member_count": len(aud.members(seg.id)),
                           "type": _segment_type(seg),
                           "created_at": _time(seg.created), "updated_at": _time(seg.updated), "list_id": aud.id,
                           "_links": []}
    if seg.kind != "static":
        conditions = [{"condition_type": "StaticSegment", "field": "static_segment", "op": "static_is",
                       "value": _tag_id(seg.tag)}] if seg.tag else []
        out["options"] = {"match": "all", "conditions": conditions}
    return out


def _segment_type(seg: Segment) -> str:
    return "static" if seg.kind == "static" else "saved"


def _segment_people(ctx: Ctx, aud: Audience, seg: Segment) -> list[Person]:
    wanted = {"subscribed"} | {s for s, flag in (("unsubscribed", "include_unsubscribed"),
                                                   ("cleaned", "include_cleaned")) if _flag(ctx, flag)}
    return [p for p in aud.members(seg.id, status=None) if p.status in wanted]


def list_segments(ctx: Ctx, list_id: str) -> Result:
    aud = _audience(ctx, list_id)
    kind = ctx.query.get("type")
    segments = [s for s in aud.segments.values() if kind is None or _segment_type(s) == kind]
    window, total = _page(ctx, segments)
    return Result({"segments": [_segment_json(aud, s) for s in window], "list_id": aud.id, "total_items": total,
                   "_links": []})


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
    return Result({"members_added": [_member_json(aud, aud.people[e]) for e in added],
                   "members_removed": [_member_json(aud, aud.people[e]) for e in removed if e in aud.people],
                   "errors": [{"email_addresses": emails, "error": reason} for reason, emails in by_reason.items()],
                   "total_added": len(added), "total_removed": len(removed), "error_count": len(failed),
                   "_links": []})


def segment_members(ctx: Ctx, list_id: str, segment_id: str) -> Result:
    aud = _audience(ctx, list_id)
    window, total = _page(ctx, _segment_people(ctx, aud, _segment(aud, segment_id)))
    return Result({"members": [_member_json(aud, p) for p in window], "total_items": total, "_links": []})


# -- campaigns -----------------------------------------------------------------

def _combination_id(c: Campaign, index: int) -> str:
    return hashlib.md5(f"{c.id}:{index}".encode()).hexdigest()[:10]


def _variate_json(account: EmailAccount, c: Campaign, stats: Stats | None) -> dict[str, Any]:
    ab = c.ab
    assert ab is not None
    planned = len(account.recipients(c)) * ab.test_size // 100 // len(ab.subjects)
    return {
        "winning_combination_id": _combination_id(c, ab.winner) if ab.winner is not None else "",
        "winning_campaign_id": "", "winner_criteria": ab.criteria, "wait_time": round(ab.wait_hours * 60),
        "test_size": ab.test_size, "subject_lines": list(ab.subjects), "send_times": [], "from_names": [],
        "reply_to_addresses": [], "contents": [],
        "combinations": [{"id": _combination_id(c, i), "subject_line": i, "send_time": 0, "from_name": 0,
                          "reply_to": 0, "content_description": 0,
                          "recipients": stats.variants[i].sent if stats else planned}
                         for i in range(len(ab.subjects))],
    }


def _campaign_json(ctx: Ctx, c: Campaign) -> dict[str, Any]:
    aud = ctx.account.audience(c.audience_id)
    stats = ctx.account.stats(c.id) if c.sent_at is not None else None
    seg = aud.segments.get(c.segment_id) if c.segment_id else None
    recipients: dict[str, Any] = {
        "list_id": aud.id, "list_is_active": True, "list_name": aud.name,
        "segment_text": f"Segment: {seg.name}" if seg else "",
        "recipient_count": stats.emails_sent if stats else len(ctx.account.recipients(c)),
    }
    if seg is not None:
        recipients["segment_opts"] = {"saved_segment_id": int(seg.id), "match": "all"}
    out: dict[str, Any] = {
        "id": c.id, "web_id": _web_id(c.id), "parent_campaign_id": "", "type": "variate" if c.ab else "regular",
        "create_time": _time(c.created), "archive_url": f"http://eepurl.com/{c.id[:6]}",
        "long_archive_url": f"https://us21.campaign-archive.com/?u=0&id={c.id}",
        "status": WIRE_STATUS[c.status], "emails_sent": stats.emails_sent if stats else 0,
        "send_time": _time(c.sent_at if c.status in ("sending", "sent", "canceled") else c.scheduled_for),
        "content_type": "html", "needs_block_refresh": False, "resendable": False, "recipients": recipients,
        "settings": {"subject_line": "" if c.ab else (c.subject or ""), "preview_text": c.preview_text or "",
                     "title": c.name, "from_name": c.from_name or "", "reply_to": c.reply_to or "",
                     "use_conversation": False, "to_name": "", "folder_id": "", "authenticate": True,
                     "auto_footer": False, "inline_css": False, "auto_tweet": False, "fb_comments": True,
                     "timewarp": False, "template_id": 0, "drag_and_drop": False},
        "tracking": {"opens": True, "html_clicks": True, "text_clicks": False, "goal_tracking": False,
                     "ecomm360": False, "google_analytics": "", "clicktale": ""},
        "delivery_status": {"enabled": False}, "_links": [],
    }
    if c.ab is not None:
        out["variate_settings"] = _variate_json(ctx.account, c, stats)
    if stats is not None:
        out["report_summary"] = {
            "opens": stats.opens_total, "unique_opens": stats.unique_opens,
            "open_rate": _rate(stats.unique_opens, stats.delivered), "clicks": stats.clicks_total,
            "subscriber_clicks": stats.unique_clicks, "click_rate": _rate(stats.unique_clicks, stats.delivered),
            "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0}}
    return out


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0


def _campaign_fields(ctx: Ctx, body: dict[str, Any], current: Campaign | None) -> dict[str, Any]:
    """The world's campaign fields from a create or update body; validation errors name Mailchimp's fields."""
    errors: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    recipients, settings = body.get("recipients"), body.get("settings")
    for name, value in (("recipients", recipients), ("settings", settings), ("variate_settings",
                                                                              body.get("variate_settings"))):
        if value is not None and not isinstance(value, dict):
            errors.append((name, "Schema describes object"))
    if errors:
        raise invalid(errors)
    recipients, settings = recipients or {}, settings or {}
    if "list_id" in recipients:
        if recipients["list_id"] not in ctx.account.audiences:
            errors.append(("recipients.list_id", "The list_id does not match any list of this account."))
        fields["audience_id"] = recipients["list_id"]
    elif current is None:
        errors.append(("recipients.list_id", "Choose the list (audience) the campaign goes to."))
    opts = recipients.get("segment_opts")
    if isinstance(opts, dict) and "saved_segment_id" in opts:
        segment_id = opts["saved_segment_id"]
        audience_id = fields.get("audience_id") or (current.audience_id if current else None)
        aud = ctx.account.audiences.get(audience_id or "")
        if segment_id in (None, 0, ""):
            fields["segment_id"] = None
        elif aud is None or str(segment_id) not in aud.segments:
            errors.append(("recipients.segment_opts.saved_segment_id", "The segment does not exist in this list."))
        else:
            fields["segment_id"] = str(segment_id)
    for wire, ours, limit in (("subject_line", "subject", SUBJECT_MAX), ("preview_text", "preview_text", 150),
                              ("title", "name", 190), ("from_name", "from_name", 100), ("reply_to", "reply_to", 254)):
        if wire in settings:
            value = settings[wire]
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                errors.append((f"settings.{wire}", f"Expected a string of at most {limit} characters."))
            elif value or ours != "name":  # a campaign keeps a title
                fields[ours] = value or None
    if fields.get("reply_to"):
        try:
            fields["reply_to"] = check_address(fields["reply_to"])
        except EmailRejected:
            errors.append(("settings.reply_to", "This value should be a valid email address."))
    kind = body.get("type", current and ("variate" if current.ab else "regular"))
    if current is None and kind not in ("regular", "variate"):
        errors.append(("type", "Data presented is not one of the accepted values: regular, variate."))
    if kind == "variate" and (current is None or "variate_settings" in body):
        fields["ab"] = _ab_spec(body.get("variate_settings") or {}, errors)
    if errors:
        raise invalid(errors)
    return fields


def _ab_spec(vs: dict[str, Any], errors: list[tuple[str, str]]) -> ABSpec | None:
    subjects, criteria = vs.get("subject_lines"), vs.get("winner_criteria")
    wait, size = vs.get("wait_time", 60), vs.get("test_size", 50)
    if criteria not in WINNER_CRITERIA:
        errors.append(("variate_settings.winner_criteria", "Data presented is not one of the accepted values: "
                                                           + ", ".join(WINNER_CRITERIA) + "."))
    if (not isinstance(subjects, list) or not 2 <= len(subjects) <= len(VARIANT_LETTERS)
            or not all(isinstance(s, str) and 0 < len(s) <= SUBJECT_MAX for s in subjects)):
        errors.append(("variate_settings.subject_lines", f"Give 2 to {len(VARIANT_LETTERS)} subject lines."))
    if not isinstance(wait, int) or wait <= 0 or wait % 60:
        errors.append(("variate_settings.wait_time", "The wait time must be greater than 0 and in whole hours, "
                                                     "specified in minutes."))
    if not isinstance(size, int) or not 10 <= size <= 100:
        errors.append(("variate_settings.test_size", "The test size must be between 10 and 100 percent."))
    if errors:
        return None
    return ABSpec(list(subjects), size, criteria, wait / 60)


def list_campaigns(ctx: Ctx) -> Result:
    campaigns = list(ctx.account.campaigns.values())
    status, kind, list_id = ctx.query.get("status"), ctx.query.get("type"), ctx.query.get("list_id")
    campaigns = [c for c in campaigns if (status is None or WIRE_STATUS[c.status] == status)
                 and (kind is None or kind == ("variate" if c.ab else "regular"))
                 and (list_id is None or c.audience_id == list_id)]
    sort = ctx.query.get("sort_field")
    if sort in ("create_time", "send_time"):
        far = datetime.min.replace(tzinfo=timezone.utc)
        campaigns.sort(key=lambda c: (c.created if sort == "create_time" else c.sent_at or far),
                       reverse=ctx.query.get("sort_dir", "").upper() == "DESC")
    window, total = _page(ctx, campaigns)
    return Result({"campaigns": [_campaign_json(ctx, c) for c in window], "total_items": total, "_links": []})


def create_campaign(ctx: Ctx) -> Result:
    fields = _campaign_fields(ctx, _object(ctx), None)
    audience_id = fields.pop("audience_id")
    c = ctx.account.create_campaign(audience_id, name=fields.pop("name", None) or "Untitled", **fields)
    return Result(_campaign_json(ctx, c))


def get_campaign(ctx: Ctx, campaign_id: str) -> Result:
    return Result(_campaign_json(ctx, _campaign(ctx, campaign_id)))


def update_campaign(ctx: Ctx, campaign_id: str) -> Result:
    c = _campaign(ctx, campaign_id)
    body = _object(ctx)
    if not isinstance(body.get("settings"), dict):
        raise invalid([("settings", "Required fields were not provided: settings")])
    fields = _campaign_fields(ctx, body, c)
    if "audience_id" in fields and fields["audience_id"] != c.audience_id and "segment_id" not in fields:
        fields["segment_id"] = None  # a segment belongs to its list
    try:
        ctx.account.update_campaign(c.id, **fields)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(_campaign_json(ctx, c))


def delete_campaign(ctx: Ctx, campaign_id: str) -> Result:
    try:
        ctx.account.delete_campaign(_campaign(ctx, campaign_id).id)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(None, 204)


def _content_json(c: Campaign) -> dict[str, Any]:
    html = c.html or ""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return {"plain_text": text, "html": html, "archive_html": html, "_links": []}


def get_content(ctx: Ctx, campaign_id: str) -> Result:
    return Result(_content_json(_campaign(ctx, campaign_id)))


def set_content(ctx: Ctx, campaign_id: str) -> Result:
    c = _campaign(ctx, campaign_id)
    html = _object(ctx).get("html")
    if not isinstance(html, str):
        raise invalid([("html", "Schema describes string, NULL found instead")])
    try:
        ctx.account.update_campaign(c.id, html=html)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(_content_json(c))


_CHECKS = (("subject", 1, "Subject Line"), ("content", 2, "Content"), ("from_name", 3, "From Name"),
           ("recipients", 4, "Recipients"))


def _checklist(ctx: Ctx, c: Campaign) -> list[dict[str, Any]]:
    problems = dict(ctx.account.problems(c))
    passed = {"subject": " / ".join(c.ab.subjects) if c.ab else c.subject,
              "content": "The campaign has HTML content.", "from_name": f"{c.from_name} <{c.reply_to}>",
              "recipients": f"{len(ctx.account.recipients(c))} subscribed recipients."}
    items = [{"type": "error" if key in problems else "success", "id": number, "heading": heading,
              "details": problems.pop(key, None) or passed[key]} for key, number, heading in _CHECKS]
    items += [{"type": "error", "id": 99, "heading": key.replace("_", " ").title(), "details": message}
              for key, message in problems.items()]
    return items


def send_checklist(ctx: Ctx, campaign_id: str) -> Result:
    items = _checklist(ctx, _campaign(ctx, campaign_id))
    return Result({"is_ready": not any(i["type"] == "error" for i in items), "items": items, "_links": []})


def _require_ready(ctx: Ctx, c: Campaign) -> None:
    if c.status in ("draft", "scheduled"):
        failing = [(i["heading"], i["details"]) for i in _checklist(ctx, c) if i["type"] == "error"]
        if failing:
            raise MailchimpError(400, "Bad Request", NOT_READY, failing)


def _schedule_time(body: dict[str, Any], now: datetime) -> datetime:
    raw = body.get("schedule_time")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise invalid([("schedule_time", "Expected an ISO 8601 date and time.")]) from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when.minute % 15 or when.second or when.microsecond:
        raise MailchimpError(400, "Bad Request", "This campaign cannot be scheduled: campaigns may only be scheduled "
                                                 "to send on the quarter-hour (:00, :15, :30, :45).")
    if when <= now:
        raise MailchimpError(400, "Bad Request", "This campaign cannot be scheduled: the schedule time is in the "
                                                 "past.")
    return when


def campaign_action(ctx: Ctx, campaign_id: str, action: str) -> Result:
    c = _campaign(ctx, campaign_id)
    account = ctx.account
    try:
        if action == "test":
            body = _object(ctx)
            emails = body.get("test_emails")
            errors = []
            if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
                errors.append(("test_emails", "Schema describes array, NULL found instead"))
            if body.get("send_type") not in ("html", "plaintext"):
                errors.append(("send_type", "Data presented is not one of the accepted values: html, plaintext."))
            if errors:
                raise invalid(errors)
            account.send_test(c.id, emails)
        elif action == "schedule":
            when = _schedule_time(_object(ctx), ctx.now)
            if c.status not in ("draft", "scheduled"):
                raise CampaignStateError(f"This campaign cannot be scheduled: its status is {WIRE_STATUS[c.status]}.")
            _require_ready(ctx, c)
            account.schedule(c.id, when)
        elif action == "unschedule":
            account.unschedule(c.id)
        elif action == "send":
            _require_ready(ctx, c)
            account.send(c.id)
        else:
            account.cancel(c.id)
    except EmailRejected as err:
        raise _rejected(err) from None
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(None, 204)


# -- reports -------------------------------------------------------------------

def _sent(ctx: Ctx, campaign_id: str) -> Campaign:
    c = _campaign(ctx, campaign_id)
    if c.sent_at is None:
        raise not_found()  # reports exist once a campaign has gone out
    return c


def _ab_split(c: Campaign, stats: Stats, now: datetime) -> dict[str, Any]:
    groups = {}
    for i, variant in enumerate(stats.variants):
        delivered = [d for d in c.deliveries if d.variant == i and d.at <= now]
        opened = [t for d in delivered for t in (d.open_at, d.proxy_open_at) if t is not None and t <= now]
        groups[VARIANT_LETTERS[i]] = {
            "bounces": sum(1 for d in delivered if d.bounce), "abuse_reports": 0,
            "unsubs": sum(1 for d in delivered if d.unsubscribe_at and d.unsubscribe_at <= now),
            "recipient_clicks": variant.unique_clicks, "forwards": 0, "forwards_opens": 0,
            "opens": sum(d.opens for d in delivered if d.open_at and d.open_at <= now)
            + sum(1 for d in delivered if d.proxy_open_at and d.proxy_open_at <= now),
            "last_open": _time(max(opened, default=None)), "unique_opens": variant.unique_opens,
        }
    return groups


def report(ctx: Ctx, campaign_id: str) -> Result:
    c = _sent(ctx, campaign_id)
    s = ctx.account.stats(c.id)
    aud = ctx.account.audience(c.audience_id)
    human_unique = s.unique_opens - s.proxied_unique_opens
    list_open, list_click, _count = ctx.account.history(aud.id)
    out: dict[str, Any] = {
        "id": c.id, "campaign_title": c.name, "type": "variate" if c.ab else "regular", "list_id": aud.id,
        "list_is_active": True, "list_name": aud.name, "subject_line": "" if c.ab else (c.subject or ""),
        "preview_text": c.preview_text or "", "emails_sent": s.emails_sent, "abuse_reports": 0,
        "unsubscribed": s.unsubscribes, "send_time": _time(c.sent_at),
        "bounces": {"hard_bounces": s.hard_bounces, "soft_bounces": s.soft_bounces, "syntax_errors": 0},
        "forwards": {"forwards_count": 0, "forwards_opens": 0},
        "opens": {"opens_total": s.opens_total, "proxy_excluded_opens": s.opens_total - s.proxied_unique_opens,
                  "unique_opens": s.unique_opens, "proxy_excluded_unique_opens": human_unique,
                  "open_rate": _rate(s.unique_opens, s.delivered),
                  "proxy_excluded_open_rate": _rate(human_unique, s.delivered), "last_open": _time(s.last_open)},
        "clicks": {"clicks_total": s.clicks_total, "unique_clicks": s.unique_clicks,
                   "unique_subscriber_clicks": s.unique_clicks, "click_rate": _rate(s.unique_clicks, s.delivered),
                   "last_click": _time(s.last_click)},
        "facebook_likes": {"recipient_likes": 0, "unique_likes": 0, "facebook_likes": 0},
        "list_stats": {"sub_rate": 0, "unsub_rate": 0, "open_rate": list_open * 100, "click_rate": list_click * 100},
        "timewarp": [], "timeseries": [],
        "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0, "currency_code": "USD"},
        "delivery_status": {"enabled": False}, "_links": [],
    }
    if c.ab is not None:
        out["ab_split"] = _ab_split(c, s, ctx.now)
    return Result(out)


def click_details(ctx: Ctx, campaign_id: str) -> Result:
    c = _sent(ctx, campaign_id)
    s = ctx.account.stats(c.id)
    urls = []
    for url in c.links():
        total, unique = s.links.get(url, (0, 0))
        urls.append({"id": hashlib.md5(url.encode()).hexdigest()[:10], "url": url, "total_clicks": total,
                     "click_percentage": _rate(total, s.clicks_total), "unique_clicks": unique,
                     "unique_click_percentage": _rate(unique, s.unique_clicks), "campaign_id": c.id, "_links": []})
    window, total = _page(ctx, urls)
    return Result({"urls_clicked": window, "campaign_id": c.id, "total_items": total, "_links": []})
