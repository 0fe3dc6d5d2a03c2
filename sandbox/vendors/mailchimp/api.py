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

The handlers live in ``audiences`` and ``campaigns``; this module authenticates, holds the
connection slots and routes.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hmac
import json
import threading
import weakref
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...world import World
from ..router import VendorRoute, VendorRouter
from .audiences import (
    add_member,
    batch_members,
    create_segment,
    get_list,
    get_member,
    get_segment,
    list_lists,
    list_members,
    list_segments,
    member_tags,
    merge_fields,
    patch_member,
    ping,
    put_member,
    root,
    segment_batch,
    segment_members,
)
from .campaigns import (
    campaign_action,
    click_details,
    create_campaign,
    delete_campaign,
    get_campaign,
    get_content,
    list_campaigns,
    report,
    send_checklist,
    set_content,
    update_campaign,
)
from .common import CAMPAIGN_ACTIONS, MAX_CONNECTIONS, Ctx, Result
from .errors import PROBLEM_JSON, MailchimpError, not_found

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
    return Response(
        json.dumps(result.body, ensure_ascii=False),
        status_code=result.status,
        media_type="application/json; charset=utf-8",
    )


def _problem(err: MailchimpError) -> Response:
    return Response(
        json.dumps(err.body(), ensure_ascii=False),
        status_code=err.status,
        headers={"Content-Type": PROBLEM_JSON, **err.headers},
    )


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


def _method_not_allowed(method: str, path: str, allowed: list[str]) -> MailchimpError:
    return MailchimpError(405, headers={"Allow": ", ".join(allowed)})


def _router() -> VendorRouter:
    lst = "/lists/{list_id}"
    member = lst + "/members/{member}"
    segment = lst + "/segments/{segment_id}"
    campaign = "/campaigns/{campaign_id}"
    return VendorRouter(
        [
            VendorRoute("/", GET=root),
            VendorRoute("/ping", GET=ping),
            VendorRoute("/lists", GET=list_lists),
            VendorRoute(lst, GET=get_list, POST=batch_members),
            VendorRoute(lst + "/merge-fields", GET=merge_fields),
            VendorRoute(lst + "/members", GET=list_members, POST=add_member),
            VendorRoute(member, GET=get_member, PUT=put_member, PATCH=patch_member),
            VendorRoute(member + "/tags", POST=member_tags),
            VendorRoute(lst + "/segments", GET=list_segments, POST=create_segment),
            VendorRoute(segment, GET=get_segment, POST=segment_batch),
            VendorRoute(segment + "/members", GET=segment_members),
            VendorRoute("/campaigns", GET=list_campaigns, POST=create_campaign),
            VendorRoute(campaign, GET=get_campaign, PATCH=update_campaign, DELETE=delete_campaign),
            VendorRoute(campaign + "/content", GET=get_content, PUT=set_content),
            VendorRoute(campaign + "/send-checklist", GET=send_checklist),
            *(
                VendorRoute(f"{campaign}/actions/{action}", POST=functools.partial(campaign_action, action=action))
                for action in CAMPAIGN_ACTIONS
            ),
            VendorRoute("/reports/{campaign_id}", GET=report),
            VendorRoute("/reports/{campaign_id}/click-details", GET=click_details),
        ],
        not_found=lambda method, path: not_found(),
        method_not_allowed=_method_not_allowed,
    )


def dispatch(ctx: Ctx, path: str) -> Result:
    handler, params = ROUTER.resolve(ctx.method, path)
    return handler(ctx, **params)


ROUTER = _router()  # compiled once, after the handlers it names
