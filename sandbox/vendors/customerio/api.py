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

This module authenticates, meters, reads the body and routes; the handlers live in ``people``,
``newsletters``, ``metrics`` and ``track``, over what they share in ``common``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import weakref
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from ...email_world import EmailWorld
from ...headers import bearer
from ...ratelimit import TokenBucket
from ...world import World
from ..router import VendorRoute, VendorRouter
from .common import CioError, Ctx, Result, meta_error
from .metrics import newsletter_links, newsletter_metrics, variant_metrics
from .newsletters import (
    create_newsletter,
    create_test_group,
    delete_newsletter,
    get_content,
    get_newsletter,
    list_contents,
    list_newsletters,
    list_senders,
    list_test_groups,
    list_workspaces,
    schedule_newsletter,
    send_newsletter,
    update_content,
)
from .people import (
    create_segment,
    customer_attributes,
    customers_attributes,
    get_customers_by_email,
    get_segment,
    list_segments,
    search_customers,
    segment_count,
    segment_membership,
)
from .track import batch, segment_add, segment_remove, track_identify

APP_RATE = 10  # App API requests per second per key (the published limit)
TRACK_RATE = 100  # Track API fair-use rate
REQUEST_MAX = 1_000_000  # "All requests must be less than 1 MB"
BATCH_MAX = 500 * 1024


# Rate buckets per world build: a reset (a new EmailWorld) starts them afresh.
_buckets: weakref.WeakKeyDictionary[EmailWorld, dict[str, TokenBucket]] = weakref.WeakKeyDictionary()


# -- entry points -----------------------------------------------------------------------------


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
