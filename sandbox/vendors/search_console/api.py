"""Google Search Console API, as googleapiclient's bundled ``searchconsole`` v1 discovery document calls it.

    GET    /webmasters/v3/sites                                     sites.list
    GET    /webmasters/v3/sites/{siteUrl}                           sites.get
    POST   /webmasters/v3/sites/{siteUrl}/searchAnalytics/query     searchanalytics.query
    GET    /webmasters/v3/sites/{siteUrl}/sitemaps                  sitemaps.list
    GET    /webmasters/v3/sites/{siteUrl}/sitemaps/{feedpath}       sitemaps.get
    PUT    /webmasters/v3/sites/{siteUrl}/sitemaps/{feedpath}       sitemaps.submit (204)
    DELETE /webmasters/v3/sites/{siteUrl}/sitemaps/{feedpath}       sitemaps.delete (204)
    POST   /v1/urlInspection/index:inspect                          urlInspection.index.inspect

``siteUrl`` and ``feedpath`` are percent-encoded path segments (``/`` as
``%2F``), so routing reads the raw path. The account owns two properties with
the same data: the URL-prefix property ``{base}/`` (base = the sandbox URL as
the request reached it) and the domain property ``sc-domain:{host}``.

Data: Google web search (and image search) rows from ``world.traffic``; final
data ends three days before the business date, ``dataState: all`` reaches
yesterday. Limits per site, in real elapsed time: 1,200 search analytics
queries a minute; URL inspection 600 a minute and 2,000 a day.

This module holds the request flow (routing, authorization, limits); ``analytics``, ``sitemaps``
and ``inspection`` answer the calls, ``sites`` knows the properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from ...ratelimit import RollingWindow
from ...world import World
from ..google.errors import WEBMASTERS_READ, WEBMASTERS_WRITE, GoogleError, authorize, json_body
from ..google.routing import Unrouted, google_router, json_response
from ..google.state import Sitemap
from ..router import VendorRoute, VendorRouter
from .analytics import search_analytics
from .inspection import inspect
from .sitemaps import check_feed, feed_key, site_sitemaps, sitemap_json
from .sites import path_in_property, site_kind, sites

SERVICE = "searchconsole.googleapis.com"
WEBMASTERS_PREFIX = "/webmasters/v3/"


def _method(name: str) -> str:
    return f"google.searchconsole.v1.{name}"


@dataclass(frozen=True)
class Call:
    """One request to the API and the world it reads."""

    request: Request
    world: World


# -- HTTP entry points --------------------------------------------------------------------------


async def handle_webmasters(request: Request, world: World) -> Response:
    """Everything under ``/webmasters/v3/``, routed on the raw path."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    raw_path = raw.decode("latin-1").split("?", 1)[0]
    if not raw_path.startswith(WEBMASTERS_PREFIX):
        return _error(GoogleError(404, "Not Found", legacy=True))
    # Routing sees the first segment as sent and every later one percent-decoded and encoded again:
    # literal segments match however they were escaped, and a decoded "/" stays inside its segment.
    first, *rest = raw_path[len(WEBMASTERS_PREFIX) :].split("/")
    path = "/" + "/".join([first, *(quote(unquote(segment), safe="") for segment in rest)])
    return await _dispatch(WEBMASTERS_ROUTER, Call(request, world), path, legacy=True)


async def handle_inspect(request: Request, world: World) -> Response:
    return await _dispatch(INSPECT_ROUTER, Call(request, world), request.scope["path"], legacy=False)


async def _dispatch(router: VendorRouter, call: Call, path: str, *, legacy: bool) -> Response:
    request = call.request
    try:
        try:
            handler, params = router.resolve(request.method, path)
        except Unrouted:
            raise GoogleError(404, f"Method not found: {request.method} {request.url.path}", legacy=legacy) from None
        return await handler(call, **params)
    except GoogleError as err:
        return _error(err)


def _error(err: GoogleError) -> Response:
    return json_response(err.body(), err.code, err.headers)


def _auth(call: Call, scopes: frozenset[str], method: str) -> None:
    authorize(call.world, call.request.headers, scopes, service=SERVICE, method=_method(method), legacy=True)


def _spend(
    world: World,
    table: dict[str, RollingWindow],
    key: str,
    setting: str,
    seconds: float,
    metric: str,
    limit: str,
    legacy: bool = True,
) -> None:
    state = world.google
    window = state.window(table, key, state.limit(setting), seconds)
    allowed, _remaining, _retry = window.try_acquire(state.monotonic())
    if not allowed:
        raise GoogleError(
            429,
            f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service '{SERVICE}'.",
            reason="RATE_LIMIT_EXCEEDED",
            service=SERVICE,
            legacy=legacy,
            legacy_reason="rateLimitExceeded",
        )


# -- sites ----------------------------------------------------------------------------------------


async def _list_sites(call: Call) -> Response:
    _auth(call, WEBMASTERS_READ, "SitesService.List")
    entries = [{"siteUrl": url, "permissionLevel": "siteOwner"} for url in sites(call.request)]
    return json_response({"siteEntry": entries})


async def _get_site(call: Call, site: str) -> Response:
    site_url = unquote(site)
    _auth(call, WEBMASTERS_READ, "SitesService.Get")
    site_kind(call.request, site_url)
    return json_response({"siteUrl": site_url, "permissionLevel": "siteOwner"})


# -- search analytics -----------------------------------------------------------------------------


async def _query(call: Call, site: str) -> Response:
    site_url = unquote(site)
    world = call.world
    _auth(call, WEBMASTERS_READ, "SearchAnalyticsService.Query")
    kind = site_kind(call.request, site_url)
    body = await json_body(call.request)
    with world.lock:
        _spend(
            world,
            world.google.gsc_query_windows,
            kind,
            "gsc_queries_per_minute",
            60.0,
            "Search Analytics queries",
            "Queries per minute per site",
        )
        return json_response(search_analytics(world, call.request, site_url, kind, body))


# -- sitemaps -------------------------------------------------------------------------------------


async def _list_sitemaps(call: Call, site: str) -> Response:
    world = call.world
    _auth(call, WEBMASTERS_READ, "SitemapsService.List")
    kind = site_kind(call.request, unquote(site))
    with world.lock:
        maps = [sitemap_json(world, call.request, m) for m in site_sitemaps(world, kind).values()]
    return json_response({"sitemap": maps} if maps else {})


async def _get_sitemap(call: Call, site: str, feed: str) -> Response:
    world = call.world
    _auth(call, WEBMASTERS_READ, "SitemapsService.Get")
    kind = site_kind(call.request, unquote(site))
    with world.lock:
        found = site_sitemaps(world, kind).get(feed_key(call.request, unquote(feed)))
        if found is None:
            raise GoogleError(404, "Requested entity was not found.", legacy=True)
        return json_response(sitemap_json(world, call.request, found))


async def _submit_sitemap(call: Call, site: str, feed: str) -> Response:
    site_url, feed = unquote(site), unquote(feed)
    world = call.world
    _auth(call, WEBMASTERS_WRITE, "SitemapsService.Submit")
    kind = site_kind(call.request, site_url)
    check_feed(call.request, site_url, kind, feed)
    with world.lock:
        key = feed_key(call.request, feed)
        site_sitemaps(world, kind)[key] = Sitemap(key, world.now())
    return Response(status_code=204)


async def _delete_sitemap(call: Call, site: str, feed: str) -> Response:
    world = call.world
    _auth(call, WEBMASTERS_WRITE, "SitemapsService.Delete")
    kind = site_kind(call.request, unquote(site))
    with world.lock:
        if site_sitemaps(world, kind).pop(feed_key(call.request, unquote(feed)), None) is None:
            raise GoogleError(404, "Requested entity was not found.", legacy=True)
    return Response(status_code=204)


# -- URL inspection -------------------------------------------------------------------------------


async def _inspect(call: Call) -> Response:
    request, world = call.request, call.world
    authorize(
        world, request.headers, WEBMASTERS_READ, service=SERVICE, method=_method("UrlInspectionService.InspectUrl")
    )
    body = await json_body(request, legacy=False)
    site_url = body.get("siteUrl") or body.get("site_url")
    url = body.get("inspectionUrl") or body.get("inspection_url")
    if not isinstance(site_url, str) or not site_url:
        raise GoogleError(400, "siteUrl is required.")
    if not isinstance(url, str) or not url:
        raise GoogleError(400, "inspectionUrl is required.")
    kind = site_kind(request, site_url, legacy=False)
    path = path_in_property(request, site_url, kind, url)
    if path is None:
        raise GoogleError(400, f"URL '{url}' does not belong to property '{site_url}'.")
    with world.lock:
        state = world.google
        _spend(
            world,
            state.gsc_inspect_minute,
            kind,
            "gsc_inspections_per_minute",
            60.0,
            "URL Inspection requests",
            "URL Inspection requests per minute per site",
            legacy=False,
        )
        _spend(
            world,
            state.gsc_inspect_day,
            kind,
            "gsc_inspections_per_day",
            86_400.0,
            "URL Inspection requests",
            "URL Inspection requests per day per site",
            legacy=False,
        )
        return json_response({"inspectionResult": inspect(world, request, site_url, url, path)})


_SITE = "/sites/{site:google_segment}"
WEBMASTERS_ROUTER = google_router(
    [
        VendorRoute("/sites", GET=_list_sites),
        VendorRoute("/sites/", GET=_list_sites),
        VendorRoute(_SITE, GET=_get_site),
        VendorRoute(_SITE + "/searchAnalytics/query", POST=_query),
        VendorRoute(_SITE + "/sitemaps", GET=_list_sitemaps),
        VendorRoute(
            _SITE + "/sitemaps/{feed:google_segment}",
            GET=_get_sitemap,
            PUT=_submit_sitemap,
            DELETE=_delete_sitemap,
        ),
    ]
)
INSPECT_ROUTER = google_router([VendorRoute("/v1/urlInspection/index:inspect", POST=_inspect)])
