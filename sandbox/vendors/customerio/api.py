"""Customer.io emulation: the App API and the Track API of one workspace.

Mounted at ``/customerio/app/v1`` (real base https://api.customer.io/v1, EU api-eu) and
``/customerio/track/api`` (real base https://track.customer.io/api, EU track-eu).

- App API: ``Authorization: Bearer <App API key>``; 10 requests per second per key, 429 beyond.
  People (customers), segments, newsletters with their contents (A/B test groups are extra
  contents), metrics as series per period, sender identities, the workspace list.
- Track API: HTTP Basic ``site_id:track_api_key``; 100 requests per second. Identify people
  (v1 PUT and v2 batch, which answers 207 with per-item errors), add people to or remove them
  from manual segments.

Error bodies follow the vendor: ``{"meta": {"error": ...}}`` for the App API's people and segment
endpoints, ``{"errors": [{"detail": ...}]}`` for newsletters, ``{"meta": {"errors": [...]}}`` for
Track v1 and ``{"errors": [{"reason", "field", "message"}]}`` for Track v2.

The workspace identifies people by email (it also gives each an ``id`` and a ``cio_id``).
Customer.io's newsletter objects carry ``sent_at`` but no state: a scheduled newsletter is
indistinguishable from a draft on the wire, as at the vendor.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
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
    EmailWorld,
    Person,
    Segment,
    Stats,
)
from ...headers import bearer
from ...ratelimit import TokenBucket
from ...world import World
from ..router import VendorRoute, VendorRouter

APP_RATE = 10  # App API requests per second per key (the published limit)
TRACK_RATE = 100  # Track API fair-use rate
REQUEST_MAX = 1_000_000  # "All requests must be less than 1 MB"
BATCH_MAX = 500 * 1024
BATCH_ITEM_MAX = 32 * 1024
TEST_GROUPS_MAX = 9  # content IDs are newsletter * 10 + group
PERIOD_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 121}
EST = timezone(timedelta(hours=-5))  # metric periods start at 00:00 EST
SENDER_ID = 1
_RESERVED = frozenset(
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

# Rate buckets per world build: a reset (a new EmailWorld) starts them afresh.
_buckets: weakref.WeakKeyDictionary[EmailWorld, dict[str, TokenBucket]] = weakref.WeakKeyDictionary()


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


# -- entry points ------------------------------------------------------------------------------


async def handle_app(request: Request, world: World, path: str) -> Response:
    """The App API; ``path`` is what follows ``/v1/``."""
    token = bearer(request.headers.get("authorization"))
    return await _handle(
        request,
        world,
        path,
        _APP_ROUTES,
        "app",
        APP_RATE,
        lambda: token is not None and _same(token, world.credentials.customerio_app_key),
        token or "",
    )


async def handle_track(request: Request, world: World, path: str) -> Response:
    """The Track API; ``path`` is what follows ``/api/`` (``v1/customers/...``, ``v2/batch``)."""
    user, password = _basic(request.headers.get("authorization"))
    creds = world.credentials
    return await _handle(
        request,
        world,
        path,
        _TRACK_ROUTES,
        "track",
        TRACK_RATE,
        lambda: _same(user, creds.customerio_site_id) and _same(password, creds.customerio_track_key),
        user,
    )


async def _handle(
    request: Request,
    world: World,
    path: str,
    routes: VendorRouter,
    api: str,
    rate: int,
    authorised: Callable[[], bool],
    key: str,
) -> Response:
    try:
        with world.lock:
            if not authorised():
                raise meta_error(401, "Unauthorized request. Make sure that you provided the right credentials.")
            bucket = _buckets.setdefault(world.email, {}).setdefault(f"{api}:{key}", TokenBucket(rate, rate))
            if not bucket.try_take(world.monotonic())[0]:
                raise meta_error(429, f"Your request is over the {rate}-per-second limit.")
        raw = await request.body()
        limit = BATCH_MAX if path.strip("/") == "v2/batch" else REQUEST_MAX
        if len(raw) >= limit:
            raise meta_error(413, f"Request body must be smaller than {limit // 1024} KB.")
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise meta_error(400, "Request body is not valid JSON.") from None
        with world.lock:
            account = world.email.customerio
            ctx = Ctx(
                world, account, next(iter(account.audiences.values())), request.method, dict(request.query_params), body
            )
            result = _dispatch(routes, ctx, "/" + path.strip("/"))
    except CioError as err:
        return _json(err.body, err.status)
    return _json(result.body, result.status, result.headers)


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        json.dumps(body, ensure_ascii=False), status_code=status, headers=headers, media_type="application/json"
    )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic(header: str | None) -> tuple[str, str]:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _dispatch(router: VendorRouter, ctx: Ctx, path: str) -> Result:
    handler, params = router.resolve(ctx.method, path)
    return handler(ctx, **params)


# -- shared helpers ---------------------------------------------------------------------------


def ts(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


def _object(ctx: Ctx, error: Callable[[str], CioError]) -> dict[str, Any]:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise error("The request body must be a JSON object.")
    return ctx.body


def _int_query(ctx: Ctx, name: str, default: int, lo: int, hi: int) -> int:
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


def _page(ctx: Ctx, items: list, default: int, maximum: int) -> tuple[list, str]:
    """One page by the opaque ``start`` token; returns the items and the ``next`` token ('' at the end)."""
    limit = _int_query(ctx, "limit", default, 1, maximum)
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


def _truthy(value: Any) -> bool:
    # Customer.io counts any case of "true", 1 and "1" as unsubscribed; anything else is false.
    return value is True or value == 1 or str(value).strip().lower() in ("true", "1")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


# -- people -----------------------------------------------------------------------------------


def cio_id(p: Person) -> str:
    return "03" + p.id.rpartition("-")[2]


def _attributes(p: Person) -> dict[str, str]:
    """Every attribute as Customer.io returns it: stored as strings."""
    out = {k: _text(v) for k, v in p.fields.items() if v is not None}
    out.update(id=p.id, email=p.email, cio_id=cio_id(p), created_at=str(ts(p.created)))
    if p.status == "unsubscribed":
        out["unsubscribed"] = "true"
    return out


def _identifiers(p: Person) -> dict[str, str]:
    return {"email": p.email, "id": p.id, "cio_id": cio_id(p)}


def _customer(p: Person) -> dict[str, Any]:
    attrs = _attributes(p)
    return {
        "id": p.id,
        "identifiers": _identifiers(p),
        "attributes": attrs,
        "timestamps": {k: ts(p.updated) for k in attrs},
        "unsubscribed": p.status == "unsubscribed",
        "devices": [],
    }


def _id_type(ctx: Ctx, allowed: tuple[str, ...] = ("id", "email", "cio_id")) -> str:
    id_type = ctx.query.get("id_type") or "id"
    if id_type not in allowed:
        raise meta_error(400, f"id_type must be one of {', '.join(allowed)}.")
    return id_type


def _find(aud: Audience, value: str, id_type: str) -> Person | None:
    if id_type == "email":
        return aud.people.get(value.strip().lower())
    key = (lambda p: p.id) if id_type == "id" else cio_id
    return next((p for p in aud.people.values() if key(p) == value), None)


def _members(aud: Audience, seg: Segment) -> list[Person]:
    # A data-driven segment without a tag is "everyone who is subscribed"; others count everyone in them.
    status = "subscribed" if seg.kind == "dynamic" and seg.tag is None else None
    return aud.members(seg.id, status=status)


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
        seg = _segment(ctx, (value or {}).get("id") if isinstance(value, dict) else None, error=meta_error)
        emails = {p.email for p in _members(ctx.aud, seg)}
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
    return str(value["field"]), value["operator"], _text(value["value"]) if value["operator"] == "eq" else None


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
    return Result({"results": [_identifiers(p)] if p else []})


def search_customers(ctx: Ctx) -> Result:
    body = _object(ctx, lambda m: meta_error(400, m))
    if "filter" not in body:
        raise meta_error(400, "filter is required.")
    match = _matcher(ctx, body["filter"])
    found = [p for p in ctx.aud.people.values() if match(p, _attributes(p))]
    window, token = _page(ctx, found, 50, 1000)
    return Result({"identifiers": [_identifiers(p) for p in window], "ids": [p.id for p in window], "next": token})


def customer_attributes(ctx: Ctx, customer_id: str) -> Result:
    p = _find(ctx.aud, customer_id, _id_type(ctx))
    if p is None:
        raise meta_error(404, "Customer not found.")
    return Result({"customer": _customer(p)})


def customers_attributes(ctx: Ctx) -> Result:
    body = _object(ctx, lambda m: meta_error(400, m))
    ids = body.get("ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, str) for i in ids):
        raise meta_error(400, "ids must be an array of 1 to 100 strings.")
    id_type = _id_type(ctx)
    found = [p for p in (_find(ctx.aud, i, id_type) for i in ids) if p is not None]
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


def _segment(ctx: Ctx, segment_id: Any, error: Callable[[int, str], CioError] = meta_error) -> Segment:
    seg = ctx.aud.segments.get(str(segment_id)) if str(segment_id).isdigit() else None
    if seg is None:
        raise error(404, f"Segment {segment_id} not found.")
    return seg


def list_segments(ctx: Ctx) -> Result:
    return Result({"segments": [_segment_json(s) for s in ctx.aud.segments.values()]})


def create_segment(ctx: Ctx) -> Result:
    spec = _object(ctx, lambda m: meta_error(400, m)).get("segment")
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise meta_error(400, "segment.name is required.")
    seg = ctx.account.create_segment(ctx.aud.id, name.strip(), kind="static")
    return Result({"segment": _segment_json(seg)})


def get_segment(ctx: Ctx, segment_id: str) -> Result:
    return Result({"segment": _segment_json(_segment(ctx, segment_id))})


def segment_membership(ctx: Ctx, segment_id: str) -> Result:
    seg = _segment(ctx, segment_id)
    window, token = _page(ctx, _members(ctx.aud, seg), 1000, 30000)
    return Result(
        {
            "segment_id": int(seg.id),
            "ids": [p.id for p in window],
            "identifiers": [_identifiers(p) for p in window],
            "next": token,
        }
    )


def segment_count(ctx: Ctx, segment_id: str) -> Result:
    seg = _segment(ctx, segment_id)
    return Result({"segment_id": int(seg.id), "count": len(_members(ctx.aud, seg))})


# -- senders and the workspace ------------------------------------------------------------------


def _senders(aud: Audience) -> list[dict[str, Any]]:
    out = [{"id": SENDER_ID, "name": aud.from_name, "email": aud.from_email}]
    if aud.reply_to != aud.from_email:
        out.append({"id": SENDER_ID + 1, "name": aud.from_name, "email": aud.reply_to})
    for s in out:
        s.update(
            deduplicate_id=f"{s['id']}:{ts(aud.created)}",
            address=f"{s['name']} <{s['email']}>",
            template_type="email",
            auto_generated=False,
            hidden=False,
        )
    return out


def _sender(aud: Audience, sender_id: Any) -> dict[str, Any]:
    found = next((s for s in _senders(aud) if s["id"] == sender_id), None)
    if found is None:
        raise detail_error(422, f"Invalid sender identity: {sender_id}.")
    return found


def list_senders(ctx: Ctx) -> Result:
    window, token = _page(ctx, _senders(ctx.aud), 50, 1000)
    return Result({"sender_identities": window, "next": token})


def list_workspaces(ctx: Ctx) -> Result:
    sent = sum(len(c.deliveries) for c in ctx.account.campaigns.values())
    return Result(
        {
            "workspaces": [
                {
                    "id": 1,
                    "name": ctx.account.name,
                    "messages_sent": sent,
                    "billable_messages_sent": sent,
                    "people": len(ctx.aud.people),
                    "object_types": 0,
                    "objects": 0,
                }
            ]
        }
    )


# -- newsletters ------------------------------------------------------------------------------


def _subjects(c: Campaign) -> list[str]:
    return list(c.ab.subjects) if c.ab is not None else [c.subject or ""]


def _content_ids(c: Campaign) -> list[int]:
    return [int(c.id) * 10 + i + 1 for i in range(len(_subjects(c)))]


def _newsletter_json(c: Campaign) -> dict[str, Any]:
    return {
        "id": int(c.id),
        "deduplicate_id": f"{c.id}:{ts(c.updated)}",
        "type": "email",
        "content_ids": _content_ids(c),
        "name": c.name,
        "sent_at": ts(c.sent_at),
        "created": ts(c.created),
        "updated": ts(c.updated),
        "tags": [],
        "recipient_segment_ids": [int(c.segment_id)] if c.segment_id is not None else [],
    }


def _content_json(ctx: Ctx, c: Campaign, index: int) -> dict[str, Any]:
    cid = _content_ids(c)[index]
    reply = next((s for s in _senders(ctx.aud) if s["email"] == c.reply_to), None)
    return {
        "id": cid,
        "newsletter_id": int(c.id),
        "deduplicate_id": f"{cid}:{ts(c.updated)}",
        "name": f"Variant {chr(65 + index)}" if c.ab is not None else "",
        "layout": "",
        "body": c.html or "",
        "body_amp": "",
        "language": "",
        "type": "email",
        "from": f"{c.from_name} <{ctx.aud.from_email}>" if c.from_name else "",
        "from_id": SENDER_ID,
        "reply_to": c.reply_to or "",
        "reply_to_id": reply["id"] if reply else None,
        "preprocessor": "premailer",
        "recipient": "{{customer.email}}",
        "subject": _subjects(c)[index],
        "cc": "",
        "bcc": "",
        "fake_bcc": False,
        "preheader_text": c.preview_text or "",
        "headers": "[]",
    }


def _newsletter(ctx: Ctx, newsletter_id: str) -> Campaign:
    c = ctx.account.campaigns.get(newsletter_id) if newsletter_id.isdigit() else None
    if c is None or c.audience_id != ctx.aud.id:
        raise detail_error(404, f"Newsletter {newsletter_id} not found.")
    return c


def _variant(ctx: Ctx, newsletter_id: str, content_id: str) -> tuple[Campaign, int]:
    c = _newsletter(ctx, newsletter_id)
    ids = _content_ids(c)
    if not content_id.isdigit() or int(content_id) not in ids:
        raise detail_error(404, f"Content {content_id} not found in newsletter {newsletter_id}.")
    return c, ids.index(int(content_id))


def _state_error(err: CampaignStateError) -> CioError:
    return detail_error(400, str(err).replace("campaign", "newsletter"))


def _problems(ctx: Ctx, c: Campaign) -> list[str]:
    messages = {
        "subject": "The newsletter has no subject: subject is required",
        "content": "The newsletter has no content: body is required",
        "from_name": "The newsletter has no sender: from is required",
        "recipients": "No recipients have been configured: the newsletter's recipients match nobody",
    }
    return [messages.get(f, m) for f, m in ctx.account.problems(c)]


def _rate_limits(body: dict[str, Any]) -> None:
    rate, period = body.get("rate_limit_email_rate"), body.get("rate_limit_time_period")
    if (rate is None) != (period is None):
        raise detail_error(422, "Incomplete rate limit: set both rate_limit_email_rate and rate_limit_time_period.")
    if rate is not None and (not isinstance(rate, int) or rate < 1 or period not in (60, 3600, 86400)):
        raise detail_error(422, "rate_limit_email_rate must be >= 1 and rate_limit_time_period 60, 3600 or 86400.")


def _recipients(ctx: Ctx, recipients: Any) -> str | None:
    """The segment a recipient filter names, or None for everyone with an email address."""
    if not isinstance(recipients, dict) or not recipients:
        raise detail_error(400, "No recipients have been configured.")
    if set(recipients) == {"segment"}:
        condition = recipients["segment"]
        return _segment(
            ctx,
            condition.get("id") if isinstance(condition, dict) else None,
            error=lambda _status, message: detail_error(422, message),
        ).id
    if recipients == {"attribute": {"field": "email", "operator": "exists"}}:
        return None
    raise detail_error(
        422,
        "recipients: this workspace accepts one segment condition, or "
        '{"attribute": {"field": "email", "operator": "exists"}} for everyone.',
    )


def _when(ctx: Ctx, value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise detail_error(422, "scheduled_at must be a Unix timestamp.")
    when = datetime.fromtimestamp(value, timezone.utc)
    if when <= ctx.world.now():
        raise detail_error(422, "scheduled_at must be in the future.")
    return when


def _send(ctx: Ctx, c: Campaign) -> None:
    _ready(ctx, c)
    try:
        ctx.account.send(c.id)
    except CampaignStateError as err:
        raise _state_error(err) from None


def _ready(ctx: Ctx, c: Campaign) -> None:
    """Customer.io's refusals before a send or a schedule: already sent, or not ready."""
    if c.status not in ("draft", "scheduled"):
        raise detail_error(400, f"The newsletter has already been sent (it is {c.status}).")
    problems = _problems(ctx, c)
    if problems:
        raise detail_error(400, *problems)


def _schedule(ctx: Ctx, c: Campaign, when: datetime) -> None:
    _ready(ctx, c)
    try:
        ctx.account.schedule(c.id, when)
    except CampaignStateError as err:
        raise _state_error(err) from None
    except ValueError:
        raise detail_error(422, "scheduled_at must be in the future.") from None


def list_newsletters(ctx: Ctx) -> Result:
    sort = ctx.query.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise meta_error(400, "sort must be asc or desc.")
    mine = [c for c in ctx.account.campaigns.values() if c.audience_id == ctx.aud.id]
    mine.sort(key=lambda c: (c.created, int(c.id)), reverse=sort == "desc")
    window, token = _page(ctx, mine, 50, 1000)
    return Result({"newsletters": [_newsletter_json(c) for c in window], "next": token})


def create_newsletter(ctx: Ctx) -> Result:
    body = _object(ctx, lambda m: detail_error(400, m))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 190:
        raise detail_error(422, "name is required and must be 190 characters or less.")
    if body.get("type") != "email":
        raise detail_error(422, "Invalid channel type: this workspace sends email newsletters (type: email).")
    segment_id = _recipients(ctx, body.get("recipients"))
    # Required means present: an empty subject or body makes a draft that cannot be sent yet.
    missing = [f"{key} is required" for key in ("subject", "body") if not isinstance(body.get(key), str)]
    if missing:
        raise detail_error(422, *missing)
    if "from" in body and "from_id" in body:
        raise detail_error(422, "Set from or from_id, not both.")
    from_name = None
    if "from_id" in body:
        from_name = _sender(ctx.aud, body["from_id"])["name"]
    elif "from" in body:
        display, address = parseaddr(str(body["from"]))
        if address.lower() not in {s["email"] for s in _senders(ctx.aud)}:
            raise detail_error(422, f'from must be a verified sender like "Name <{ctx.aud.from_email}>".')
        from_name = display or None
    if body.get("send_now") and body.get("scheduled_at"):
        raise detail_error(422, "You cannot set both send_now and scheduled_at.")
    when = _when(ctx, body["scheduled_at"]) if body.get("scheduled_at") else None
    _rate_limits(body)
    preheader = body.get("preheader_text")
    c = ctx.account.create_campaign(
        ctx.aud.id,
        name=name.strip(),
        segment_id=segment_id,
        subject=body["subject"],
        preview_text=preheader if isinstance(preheader, str) else None,
        from_name=from_name,
        html=body["body"],
    )
    try:
        if body.get("send_now"):
            _send(ctx, c)
        elif when is not None:
            _schedule(ctx, c, when)
    except CioError:
        ctx.account.delete_campaign(c.id)  # the vendor refuses the whole request
        raise
    return Result({"newsletter": _newsletter_json(c)})


def get_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    return Result({"newsletter": _newsletter_json(_newsletter(ctx, newsletter_id))})


def delete_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    try:
        ctx.account.delete_campaign(c.id)
    except CampaignStateError as err:
        raise _state_error(err) from None
    return Result(None, 204)


def list_contents(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    return Result({"contents": [_content_json(ctx, c, i) for i in range(len(_subjects(c)))]})


def get_content(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = _variant(ctx, newsletter_id, content_id)
    return Result({"content": _content_json(ctx, c, index)})


def update_content(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = _variant(ctx, newsletter_id, content_id)
    body = _object(ctx, lambda m: detail_error(400, m))
    changes: dict[str, Any] = {}
    for key, target in (("body", "html"), ("preheader_text", "preview_text"), ("subject", "subject")):
        if key in body:
            if not isinstance(body[key], str):
                raise detail_error(400, f"{key} must be a string.")
            changes[target] = body[key]
    if "from_id" in body:
        changes["from_name"] = _sender(ctx.aud, body["from_id"])["name"]
    if "reply_to_id" in body:
        changes["reply_to"] = None if body["reply_to_id"] is None else _sender(ctx.aud, body["reply_to_id"])["email"]
    if "subject" in changes and c.ab is not None:
        subjects = _subjects(c)
        subjects[index] = changes["subject"]
        changes["ab"] = dataclasses.replace(c.ab, subjects=subjects)
        if index:
            del changes["subject"]  # the newsletter's own subject is its first group's
    if changes:
        try:
            ctx.account.update_campaign(c.id, **changes)
        except CampaignStateError as err:
            raise _state_error(err) from None
    return Result({"content": _content_json(ctx, c, index)})


def _test_group_json(c: Campaign, index: int) -> dict[str, Any]:
    winner = c.ab is not None and c.ab.winner == index
    return {
        "id": index,
        "name": chr(65 + index),
        "label": f"test {index + 1}",
        "winner": winner,
        "content_ids": [_content_ids(c)[index]],
    }


def list_test_groups(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    groups = [_test_group_json(c, i) for i in range(len(_subjects(c)))] if c.ab is not None else []
    return Result({"test_groups": groups})


def create_test_group(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    subjects = _subjects(c)
    if len(subjects) >= TEST_GROUPS_MAX:
        raise detail_error(400, f"A newsletter can have at most {TEST_GROUPS_MAX} test groups.")
    # A new group copies the default content; an even split of every recipient, winner left to the sender.
    first = subjects[0]
    ab = (
        dataclasses.replace(c.ab, subjects=subjects + [first])
        if c.ab is not None
        else ABSpec([first, first], test_size=100, criteria="manual")
    )
    try:
        ctx.account.update_campaign(c.id, ab=ab)
    except CampaignStateError as err:
        raise _state_error(err) from None
    return Result({"newsletter": _newsletter_json(c)})


def send_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    _rate_limits(_object(ctx, lambda m: detail_error(400, m)))
    _send(ctx, c)
    return Result({"newsletter": _newsletter_json(c)})


def schedule_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    body = _object(ctx, lambda m: detail_error(400, m))
    if "scheduled_at" not in body:
        raise detail_error(422, "scheduled_at is required.")
    _rate_limits(body)
    if body["scheduled_at"] == 0:
        if c.status != "scheduled":
            raise detail_error(400, f"The newsletter is not currently scheduled (it is {c.status}).")
        ctx.account.unschedule(c.id)
        return Result({"newsletter": _newsletter_json(c)})
    when = _when(ctx, body["scheduled_at"])
    if not isinstance(body.get("timezone"), str) or not body["timezone"]:
        raise detail_error(422, "timezone is required when scheduled_at is set.")
    _schedule(ctx, c, when)
    return Result({"newsletter": _newsletter_json(c)})


# -- metrics ----------------------------------------------------------------------------------


def _period_starts(ctx: Ctx) -> tuple[list[datetime], datetime]:
    """The start of each requested period, oldest first (EST-aligned), and now."""
    period = ctx.query.get("period") or "days"
    if period not in PERIOD_STEPS:
        raise meta_error(400, "period must be one of hours, days, weeks, months.")
    maximum = PERIOD_STEPS[period]
    steps = _int_query(ctx, "steps", 0, 0, 10**6)
    n = (12 if period == "months" else maximum) if steps == 0 else min(max(steps, 2), maximum)
    now = ctx.world.now()
    local = now.astimezone(EST)
    if period == "hours":
        first = local.replace(minute=0, second=0, microsecond=0)
    elif period == "months":
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == "weeks":
            first -= timedelta(days=(first.weekday() + 1) % 7)  # weeks start on Sunday
    starts = [first]
    for _ in range(n - 1):
        prev = starts[-1]
        if period == "months":
            starts.append(prev.replace(year=prev.year - (prev.month == 1), month=prev.month - 1 or 12))
        else:
            starts.append(
                prev - {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}[period]
            )
    return [s.astimezone(timezone.utc) for s in reversed(starts)], now


def _series(ctx: Ctx, c: Campaign, measure: Callable[[datetime], dict[str, int]]) -> dict[str, list[int]]:
    """Per-period counts: the cumulative measure at each period's end minus at its start."""
    starts, now = _period_starts(ctx)
    zero: dict[str, int] | None = None
    cumulative = []
    for t in starts + [now]:
        if c.sent_at is None or t < c.sent_at:
            zero = zero or {k: 0 for k in measure(now)}
            cumulative.append(zero)
        else:
            cumulative.append(measure(t))
    keys = cumulative[-1].keys()
    return {k: [cumulative[i + 1][k] - cumulative[i][k] for i in range(len(starts))] for k in keys}


def _email_metrics(s: Stats) -> dict[str, int]:
    counts = {
        "attempted": s.emails_sent,
        "created": s.emails_sent,
        "sent": s.emails_sent,
        "delivered": s.delivered,
        "bounced": s.hard_bounces + s.soft_bounces,
        "opened": s.unique_opens,
        "human_opened": s.unique_opens - s.proxied_unique_opens,
        "prefetch_opened": s.proxied_unique_opens,
        "clicked": s.unique_clicks,
        "human_clicked": s.unique_clicks,
        "prefetch_clicked": 0,
        "unsubscribed": s.unsubscribes,
    }
    return counts | dict.fromkeys(
        ("converted", "deferred", "drafted", "failed", "spammed", "suppressed", "undeliverable", "topic_unsubscribed"),
        0,
    )


def _metric_type(ctx: Ctx) -> None:
    kind = ctx.query.get("type")
    if kind not in (None, "", "email", "webhook", "twilio", "push", "in_app", "inbox"):
        raise meta_error(400, "type must be one of email, webhook, twilio, push, in_app, inbox.")


def newsletter_metrics(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    _metric_type(ctx)
    series = _series(ctx, c, lambda t: _email_metrics(ctx.account.stats(c.id, t)))
    return Result({"metric": {"type": "email", "series": series}})


def variant_metrics(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = _variant(ctx, newsletter_id, content_id)
    _metric_type(ctx)

    def measure(t: datetime) -> dict[str, int]:
        v = ctx.account.stats(c.id, t).variants[index]
        mine = [d for d in c.deliveries if d.variant == index and d.at <= t]
        bounced = sum(1 for d in mine if d.bounce)
        return {
            "attempted": v.sent,
            "sent": v.sent,
            "delivered": v.sent - bounced,
            "bounced": bounced,
            "opened": v.unique_opens,
            "human_opened": v.unique_opens - v.proxied_unique_opens,
            "prefetch_opened": v.proxied_unique_opens,
            "clicked": v.unique_clicks,
            "human_clicked": v.unique_clicks,
            "prefetch_clicked": 0,
        }

    return Result({"metric": {"type": "email", "series": _series(ctx, c, measure)}})


def newsletter_links(ctx: Ctx, newsletter_id: str) -> Result:
    c = _newsletter(ctx, newsletter_id)
    unique = (ctx.query.get("unique") or "false").lower() == "true"
    urls = c.links()

    def measure(t: datetime) -> dict[str, int]:
        links = ctx.account.stats(c.id, t).links
        return {url: links.get(url, (0, 0))[1 if unique else 0] for url in urls}

    series = _series(ctx, c, measure) if urls else {}
    return Result(
        {
            "links": [
                {
                    "link": {"id": i + 1, "href": url},
                    "metric": {
                        "series": {
                            "clicked": series[url],
                            "human_clicked": series[url],
                            "machine_clicked": [0] * len(series[url]),
                        }
                    },
                }
                for i, url in enumerate(urls)
            ]
        }
    )


# -- Track API --------------------------------------------------------------------------------


def _identify(ctx: Ctx, person: Person | None, email: str | None, attrs: dict[str, Any]) -> Person | None:
    """Create or update a person; None when ``_update`` asked not to create one. Raises EmailRejected."""
    if person is None:
        if attrs.get("_update") is True:
            return None
        if not email:
            raise EmailRejected("a new person in this workspace needs an email address")
    fields = {k: v for k, v in attrs.items() if k not in _RESERVED and v is not None and v != ""}
    status = None
    if "unsubscribed" in attrs:
        if _truthy(attrs["unsubscribed"]):
            status = "unsubscribed"
        elif person is not None and person.status == "unsubscribed":
            status = "subscribed"
    p, _created = ctx.account.upsert(ctx.aud.id, person.email if person else email, status=status, fields=fields)
    for k in [k for k, v in attrs.items() if k not in _RESERVED and (v is None or v == "")]:
        p.fields.pop(k, None)  # null or an empty string removes the attribute
    return p


def _track_identifier(ctx: Ctx, identifier: str) -> tuple[Person | None, str | None]:
    if identifier.startswith("cio_"):
        return _find(ctx.aud, identifier[4:], "cio_id"), None
    if "@" in identifier:  # the identifier's shape says which kind it is
        return ctx.aud.people.get(identifier.strip().lower()), identifier
    return _find(ctx.aud, identifier, "id"), None


def track_identify(ctx: Ctx, identifier: str) -> Result:
    attrs = _object(ctx, lambda m: track_error(400, m))
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
    seg = _segment(ctx, segment_id, error=lambda status, m: track_error(status, m))
    if seg.kind != "static":
        raise track_error(400, "People can only be added to or removed from manual segments.")
    ids = _object(ctx, lambda m: track_error(400, m)).get("ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
        raise track_error(400, "ids must be an array of 1 to 1000 identifiers.")
    id_type = _id_type(ctx)
    # Values that do not match id_type, or belong to nobody, are ignored.
    emails = [p.email for p in (_find(ctx.aud, str(i), id_type) for i in ids) if p is not None]
    if add:
        ctx.account.segment_update(ctx.aud.id, seg.id, add=emails)
    else:
        ctx.account.segment_update(ctx.aud.id, seg.id, remove=emails)
    return Result({})


def batch(ctx: Ctx) -> Result:
    items = _object(
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
    person = _find(ctx.aud, value, kind)
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


# -- routes -----------------------------------------------------------------------------------

_MISSES = {
    "not_found": lambda method, path: meta_error(404, f"Not found: {method} {path}"),
    "method_not_allowed": lambda method, path, allowed: meta_error(405, f"Method {method} is not allowed on {path}."),
}
_APP_ROUTES = VendorRouter(
    [
        VendorRoute("/workspaces", GET=list_workspaces),
        VendorRoute("/sender_identities", GET=list_senders),
        VendorRoute("/customers", GET=get_customers_by_email, POST=search_customers),
        VendorRoute("/customers/attributes", POST=customers_attributes),
        VendorRoute("/customers/{customer_id}/attributes", GET=customer_attributes),
        VendorRoute("/segments", GET=list_segments, POST=create_segment),
        VendorRoute("/segments/{segment_id}", GET=get_segment),
        VendorRoute("/segments/{segment_id}/membership", GET=segment_membership),
        VendorRoute("/segments/{segment_id}/customer_count", GET=segment_count),
        VendorRoute("/newsletters", GET=list_newsletters, POST=create_newsletter),
        VendorRoute("/newsletters/{newsletter_id}", GET=get_newsletter, DELETE=delete_newsletter),
        VendorRoute("/newsletters/{newsletter_id}/contents", GET=list_contents),
        VendorRoute("/newsletters/{newsletter_id}/contents/{content_id}", GET=get_content, PUT=update_content),
        VendorRoute("/newsletters/{newsletter_id}/contents/{content_id}/metrics", GET=variant_metrics),
        VendorRoute("/newsletters/{newsletter_id}/test_groups", GET=list_test_groups, POST=create_test_group),
        VendorRoute("/newsletters/{newsletter_id}/send", POST=send_newsletter),
        VendorRoute("/newsletters/{newsletter_id}/schedule", POST=schedule_newsletter),
        VendorRoute("/newsletters/{newsletter_id}/metrics", GET=newsletter_metrics),
        VendorRoute("/newsletters/{newsletter_id}/metrics/links", GET=newsletter_links),
    ],
    **_MISSES,
)
_TRACK_ROUTES = VendorRouter(
    [
        VendorRoute("/v1/customers/{identifier}", PUT=track_identify),
        VendorRoute("/v1/segments/{segment_id}/add_customers", POST=segment_add),
        VendorRoute("/v1/segments/{segment_id}/remove_customers", POST=segment_remove),
        VendorRoute("/v2/batch", POST=batch),
    ],
    **_MISSES,
)
