"""Webflow Data API v2 emulation, mounted at ``/webflow/v2`` (the real base is https://api.webflow.com/v2).

Auth is a site API token, or an access token from the sandbox's Webflow OAuth
app, as ``Authorization: Bearer``. Every authorised
request spends one unit of the token's per-minute quota (60 by default,
``World.webflow_rate_limit``) and carries ``X-RateLimit-Limit`` /
``X-RateLimit-Remaining``; past the quota the answer is 429 with
``Retry-After``. Site publishing has its own limit of one per minute.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...headers import bearer
from ...world import World
from ..router import VendorRoute, VendorRouter
from .site import Collection, Item, WebflowError, not_found, validation_error, wf_time

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


@dataclass
class Ctx:
    world: World
    method: str
    query: dict[str, str]
    body: Any
    token: str
    site_id: str  # the site the token reaches


@dataclass
class Result:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


async def handle(request: Request, world: World, path: str) -> Response:
    rate_headers: dict[str, str] = {}
    try:
        token = bearer(request.headers.get("authorization"))
        with world.lock:
            site_id = world.webflow_token_site(token) if token is not None else None
        if token is None or site_id is None:
            raise WebflowError(401, "not_authorized", "Request not authorized")
        with world.lock:
            allowed, remaining, retry_after = world.webflow_acquire(token)
            limit = world.webflow_rate_limit
        rate_headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if not allowed:
            rate_headers["Retry-After"] = str(retry_after)
            raise WebflowError(429, "too_many_requests", "Too many requests")
        body: Any = None
        if request.method in ("POST", "PATCH", "PUT"):
            raw = await request.body()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise WebflowError(
                        400, "bad_request", "Request body was incorrectly formatted. Likely invalid JSON being sent up."
                    ) from None
        ctx = Ctx(
            world=world,
            method=request.method,
            query=dict(request.query_params),
            body=body,
            token=token,
            site_id=site_id,
        )
        with world.lock:
            result = dispatch(ctx, "/" + path.strip("/"))
    except WebflowError as err:
        return _json(err.body(), err.status, {**rate_headers, **err.headers})
    return _json(result.body, result.status, {**rate_headers, **result.headers})


def _json(body: Any, status: int, headers: dict[str, str]) -> Response:
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        json.dumps(body, ensure_ascii=False), status_code=status, headers=headers, media_type="application/json"
    )


# -- routing ---------------------------------------------------------------


def _route_not_found(method: str, path: str) -> WebflowError:
    # Webflow answers a known path with a method it does not serve the same way as an unknown path.
    return WebflowError(404, "route_not_found", f"Route not found: {method} {path}")


def _router() -> VendorRouter:
    site = "/sites/{site_id}"
    collection = "/collections/{collection_id}"
    item = collection + "/items/{item_id}"
    return VendorRouter(
        [
            VendorRoute("/token/introspect", GET=token_introspect),
            VendorRoute("/sites", GET=list_sites),
            VendorRoute(site, GET=get_site),
            VendorRoute(site + "/custom_domains", GET=custom_domains),
            VendorRoute(site + "/publish", POST=publish_site),
            VendorRoute(site + "/collections", GET=list_collections),
            VendorRoute(collection, GET=get_collection),
            VendorRoute(collection + "/items", GET=list_items, POST=create_items),
            VendorRoute(collection + "/items/live", GET=list_live_items, POST=create_live_items),
            VendorRoute(collection + "/items/publish", POST=publish_items),
            VendorRoute(item, GET=get_item, PATCH=update_item, DELETE=delete_item),
            VendorRoute(item + "/live", GET=get_live_item, PATCH=update_live_item, DELETE=unpublish_item),
        ],
        not_found=_route_not_found,
    )


def dispatch(ctx: Ctx, path: str) -> Result:
    handler, kwargs = ROUTER.resolve(ctx.method, path)
    for name, value in kwargs.items():
        if not _OBJECT_ID.fullmatch(value):
            raise validation_error([{"param": name, "description": "Provided ID is invalid"}])
    return handler(ctx, **kwargs)


# -- helpers ---------------------------------------------------------------


def _site(ctx: Ctx, site_id: str):
    site = ctx.world.webflow
    if site_id != site.id or ctx.site_id != site.id:
        raise not_found("Site not found")
    return site


def _collection(ctx: Ctx, collection_id: str) -> Collection:
    collection = ctx.world.webflow.collections.get(collection_id)
    if collection is None:
        raise not_found("Collection not found")
    return collection


def _item(collection: Collection, item_id: str) -> Item:
    item = collection.items.get(item_id)
    if item is None or item.deleted:
        raise not_found("Item not found")
    return item


def _object_body(ctx: Ctx) -> dict[str, Any]:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise validation_error([{"param": "body", "description": "Request body must be an object"}])
    return ctx.body


def _page(ctx: Ctx, items: list[Item], *, live: bool) -> Result:
    details = []
    offset = _int_query(ctx, "offset", 0, details)
    limit = _int_query(ctx, "limit", 100, details)
    if offset is not None and offset < 0:
        details.append({"param": "offset", "description": "offset must be >= 0"})
    if limit is not None and not 1 <= limit <= 100:
        details.append({"param": "limit", "description": "limit must be between 1 and 100"})
    if details:
        raise validation_error(details)
    for name in ("slug", "name"):
        if name in ctx.query:
            items = [i for i in items if (i.live_data if live else i.field_data).get(name) == ctx.query[name]]
    sort_by = ctx.query.get("sortBy")
    if sort_by in ("lastPublished", "name", "slug", "createdOn", "lastUpdated"):

        def key(item: Item) -> Any:
            data = item.live_data if live else item.field_data
            return {
                "lastPublished": wf_time(item.last_published) or "",
                "name": data.get("name", ""),
                "slug": data.get("slug", ""),
                "createdOn": wf_time(item.created_on),
                "lastUpdated": wf_time(item.last_updated),
            }[sort_by]

        items = sorted(items, key=key, reverse=ctx.query.get("sortOrder") == "desc")
    window = items[offset : offset + limit]
    return Result(
        {
            "items": [i.to_json(live=live) for i in window],
            "pagination": {"limit": limit, "offset": offset, "total": len(items)},
        }
    )


def _int_query(ctx: Ctx, name: str, default: int, details: list[dict[str, Any]]) -> int:
    raw = ctx.query.get(name)
    if raw is None:
        return default
    try:
        return int(float(raw))
    except ValueError:
        details.append({"param": name, "description": f"{name} must be a number"})
        return default


# -- token, sites and collections ------------------------------------------


def token_introspect(ctx: Ctx) -> Result:
    site = ctx.world.webflow
    grant = ctx.world.oauth.check("webflow", ctx.token)
    scope = ",".join(grant.scope_list) if grant else "cms:read,cms:write,sites:read,sites:write"
    application = None
    if grant is not None:
        app = ctx.world.oauth.apps["webflow"]
        application = {"id": app.client_id, "description": "", "homepage": "", "displayName": app.name}
    return Result(
        {
            "authorization": {
                "id": grant.id if grant else site.workspace_id,
                "createdOn": wf_time(site.created_on),
                "lastUsed": wf_time(ctx.world.now()),
                "grantType": "authorization_code",
                "rateLimit": ctx.world.webflow_rate_limit,
                "scope": scope,
                "authorizedTo": {
                    "siteIds": [ctx.site_id],
                    "workspaceIds": [],
                    "userIds": [grant.user.id] if grant else [],
                },
            },
            "application": application,
        }
    )


def list_sites(ctx: Ctx) -> Result:
    site = ctx.world.webflow
    return Result({"sites": [site.to_json()] if ctx.site_id == site.id else []})


def get_site(ctx: Ctx, site_id: str) -> Result:
    return Result(_site(ctx, site_id).to_json())


def custom_domains(ctx: Ctx, site_id: str) -> Result:
    return Result({"customDomains": _site(ctx, site_id).to_json()["customDomains"]})


def list_collections(ctx: Ctx, site_id: str) -> Result:
    site = _site(ctx, site_id)
    return Result({"collections": [c.summary_json() for c in site.collections.values()]})


def get_collection(ctx: Ctx, collection_id: str) -> Result:
    return Result(_collection(ctx, collection_id).to_json())


def publish_site(ctx: Ctx, site_id: str) -> Result:
    site = _site(ctx, site_id)
    body = _object_body(ctx)
    domains = body.get("customDomains", [])
    to_subdomain = body.get("publishToWebflowSubdomain", False)
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise validation_error(
            [{"param": "customDomains", "description": "customDomains must be an array of domain IDs"}]
        )
    if not isinstance(to_subdomain, bool):
        raise validation_error(
            [{"param": "publishToWebflowSubdomain", "description": "publishToWebflowSubdomain must be a boolean"}]
        )
    known = {d.id for d in site.custom_domains}
    unknown = [d for d in domains if d not in known]
    if unknown:
        raise WebflowError(400, "invalid_domain", f"Invalid custom domain ID(s): {', '.join(unknown)}")
    if not domains and not to_subdomain:
        raise WebflowError(400, "no_domains", "No domains were provided to publish to")
    wait = ctx.world.webflow_site_publish_wait(site.id)
    if wait:
        raise WebflowError(
            429,
            "too_many_requests",
            "Too many requests: a site can be published once per minute",
            headers={"Retry-After": str(wait)},
        )
    site.publish_site(ctx.world.now(), domains)
    ctx.world.webflow_record_site_publish(site.id)
    published = [
        {"id": d.id, "url": d.url, "lastPublished": wf_time(d.last_published)}
        for d in site.custom_domains
        if d.id in domains
    ]
    return Result({"customDomains": published, "publishToWebflowSubdomain": to_subdomain}, status=202)


# -- items -----------------------------------------------------------------


def list_items(ctx: Ctx, collection_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    return _page(ctx, collection.staged_items(), live=False)


def list_live_items(ctx: Ctx, collection_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    return _page(ctx, collection.live_items(), live=True)


def _create(ctx: Ctx, collection_id: str, *, live: bool) -> Result:
    collection = _collection(ctx, collection_id)
    body = _object_body(ctx)
    site, world = ctx.world.webflow, ctx.world
    if "items" in body and "fieldData" in body:
        raise validation_error([{"param": "body", "description": "Send either fieldData or items, not both"}])
    if "items" in body:
        entries = body["items"]
        if not isinstance(entries, list) or not entries or len(entries) > 100:
            raise validation_error([{"param": "items", "description": "items must be an array of 1 to 100 items"}])
        created = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise validation_error([{"param": "items", "description": "each item must be an object"}])
            created.append(site.create_item(collection, entry, world.now(), world.new_webflow_id, live=live))
        return Result({"items": [i.to_json(live=live) for i in created]}, status=202)
    if "fieldData" not in body:
        raise validation_error([{"param": "fieldData", "description": "Field is required"}])
    item = site.create_item(collection, body, world.now(), world.new_webflow_id, live=live)
    return Result(item.to_json(live=live), status=202)


def create_items(ctx: Ctx, collection_id: str) -> Result:
    return _create(ctx, collection_id, live=False)


def create_live_items(ctx: Ctx, collection_id: str) -> Result:
    return _create(ctx, collection_id, live=True)


def get_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    return Result(_item(_collection(ctx, collection_id), item_id).to_json())


def get_live_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    item = _item(_collection(ctx, collection_id), item_id)
    if item.live_field_data is None:
        raise not_found("Live item not found")
    return Result(item.to_json(live=True))


def update_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    item = _item(collection, item_id)
    body = _object_body(ctx)
    ctx.world.webflow.update_item(collection, item, body, ctx.world.now(), ctx.world.new_webflow_id)
    return Result(item.to_json())


def update_live_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    item = _item(collection, item_id)
    body = _object_body(ctx)
    ctx.world.webflow.update_item(collection, item, body, ctx.world.now(), ctx.world.new_webflow_id, live=True)
    return Result(item.to_json(live=True))


def delete_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    item = _item(collection, item_id)
    if item.live_field_data is None:
        del collection.items[item.id]
    else:
        item.deleted = True  # stays live until the next site publish
    collection.last_updated = ctx.world.now()
    return Result(None, status=204)


def unpublish_item(ctx: Ctx, collection_id: str, item_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    item = _item(collection, item_id)
    if item.live_field_data is None:
        raise not_found("Live item not found")
    ctx.world.webflow.unpublish_item(item, ctx.world.now())
    return Result(None, status=204)


def publish_items(ctx: Ctx, collection_id: str) -> Result:
    collection = _collection(ctx, collection_id)
    body = _object_body(ctx)
    ids = body.get("itemIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise validation_error([{"param": "itemIds", "description": "itemIds must be a non-empty array of item IDs"}])
    published, errors = [], []
    now = ctx.world.now()
    for item_id in ids:
        item = collection.items.get(item_id)
        if item is None or item.deleted:
            errors.append(f"Item not found: {item_id}")
        elif item.is_archived:
            errors.append(f"Archived items cannot be published: {item_id}")
        else:
            ctx.world.webflow.publish_item(item, now)
            published.append(item_id)
    return Result({"publishedItemIds": published, "errors": errors}, status=202)


ROUTER = _router()  # compiled once, after the handlers it names
