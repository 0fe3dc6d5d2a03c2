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
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ...page_defects import live_pages
from ...traffic import COUNTRIES, SEARCH_DEVICES, count, expected_ctr, noise
from ...world import World
from ..google.errors import WEBMASTERS_READ, WEBMASTERS_WRITE, GoogleError, authorize, dumps, json_body
from ..google.state import Sitemap

SERVICE = "searchconsole.googleapis.com"
PERMISSION_HELP = "See also: https://support.google.com/webmasters/answer/2451999."
DIMENSIONS = ("query", "page", "country", "device", "date", "searchAppearance")
SEARCH_TYPES = {
    "web": "web",
    "image": "image",
    "video": "video",
    "news": "news",
    "discover": "discover",
    "googlenews": "googleNews",
    "google_news": "googleNews",
}
AGGREGATIONS = {
    "auto": "auto",
    "bypage": "byPage",
    "by_page": "byPage",
    "byproperty": "byProperty",
    "by_property": "byProperty",
    "bynewsshowcasepanel": "byNewsShowcasePanel",
    "by_news_showcase_panel": "byNewsShowcasePanel",
}
DATA_STATES = {"final": "final", "all": "all", "hourly_all": "hourly_all"}
OPERATORS = {
    "equals": "equals",
    "notequals": "notEquals",
    "not_equals": "notEquals",
    "contains": "contains",
    "notcontains": "notContains",
    "not_contains": "notContains",
    "includingregex": "includingRegex",
    "including_regex": "includingRegex",
    "excludingregex": "excludingRegex",
    "excluding_regex": "excludingRegex",
}
MAX_ROWS = 25_000
FINAL_LAG_DAYS = 3  # final data ends three days before today
FRESH_LAG_DAYS = 1  # dataState "all" reaches yesterday
WP_SITEMAP = "/wp-sitemap.xml"
SITE_SITEMAP = "/sitemap.xml"  # served by pages.site_sitemap


def _method(name: str) -> str:
    return f"google.searchconsole.v1.{name}"


# -- HTTP entry points --------------------------------------------------------------------------


async def handle_webmasters(request: Request, world: World) -> Response:
    try:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        raw_path = raw.decode("latin-1").split("?", 1)[0]
        if not raw_path.startswith("/webmasters/v3/"):
            raise GoogleError(404, "Not Found", legacy=True)
        segments = raw_path[len("/webmasters/v3/") :].split("/")
        if segments[0] != "sites":
            raise GoogleError(404, f"Method not found: {request.method} {request.url.path}", legacy=True)
        rest = segments[1:]
        method = request.method
        if not rest or rest == [""]:
            if method != "GET":
                raise _no_method(request)
            _auth(world, request, WEBMASTERS_READ, "SitesService.List")
            return _json({"siteEntry": [{"siteUrl": url, "permissionLevel": "siteOwner"} for url in _sites(request)]})
        site_url = unquote(rest[0])
        resource = [unquote(s) for s in rest[1:]]
        if not resource:
            if method != "GET":
                raise _no_method(request)
            _auth(world, request, WEBMASTERS_READ, "SitesService.Get")
            _site(request, site_url)
            return _json({"siteUrl": site_url, "permissionLevel": "siteOwner"})
        if resource == ["searchAnalytics", "query"]:
            if method != "POST":
                raise _no_method(request)
            _auth(world, request, WEBMASTERS_READ, "SearchAnalyticsService.Query")
            kind = _site(request, site_url)
            body = await json_body(request)
            with world.lock:
                _spend(
                    world,
                    world.google.gsc_query_windows,
                    f"{kind}",
                    "gsc_queries_per_minute",
                    60.0,
                    "Search Analytics queries",
                    "Queries per minute per site",
                )
                return _json(search_analytics(world, request, site_url, kind, body))
        if resource and resource[0] == "sitemaps" and len(resource) <= 2:
            if len(resource) == 1:
                if method != "GET":
                    raise _no_method(request)
                _auth(world, request, WEBMASTERS_READ, "SitemapsService.List")
                kind = _site(request, site_url)
                with world.lock:
                    maps = [_sitemap_json(world, request, m) for m in _sitemaps(world, kind).values()]
                return _json({"sitemap": maps} if maps else {})
            feed = resource[1]
            if method == "GET":
                _auth(world, request, WEBMASTERS_READ, "SitemapsService.Get")
                kind = _site(request, site_url)
                with world.lock:
                    found = _sitemaps(world, kind).get(_feed_key(request, feed))
                    if found is None:
                        raise GoogleError(404, "Requested entity was not found.", legacy=True)
                    return _json(_sitemap_json(world, request, found))
            if method == "PUT":
                _auth(world, request, WEBMASTERS_WRITE, "SitemapsService.Submit")
                kind = _site(request, site_url)
                _check_feed(request, site_url, kind, feed)
                with world.lock:
                    key = _feed_key(request, feed)
                    _sitemaps(world, kind)[key] = Sitemap(key, world.now())
                return Response(status_code=204)
            if method == "DELETE":
                _auth(world, request, WEBMASTERS_WRITE, "SitemapsService.Delete")
                kind = _site(request, site_url)
                with world.lock:
                    if _sitemaps(world, kind).pop(_feed_key(request, feed), None) is None:
                        raise GoogleError(404, "Requested entity was not found.", legacy=True)
                return Response(status_code=204)
            raise _no_method(request)
        raise GoogleError(404, f"Method not found: {method} {request.url.path}", legacy=True)
    except GoogleError as err:
        return _json(err.body(), err.code, err.headers)


async def handle_inspect(request: Request, world: World) -> Response:
    try:
        if request.method != "POST":
            raise GoogleError(404, f"Method not found: {request.method} {request.url.path}")
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
        kind = _site(request, site_url, legacy=False)
        path = _path_in_property(request, site_url, kind, url)
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
            return _json({"inspectionResult": inspect(world, request, site_url, url, path)})
    except GoogleError as err:
        return _json(err.body(), err.code, err.headers)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, headers=headers, media_type="application/json; charset=UTF-8")


def _no_method(request: Request) -> GoogleError:
    return GoogleError(404, f"Method not found: {request.method} {request.url.path}", legacy=True)


def _auth(world: World, request: Request, scopes: frozenset[str], method: str) -> None:
    authorize(world, request.headers, scopes, service=SERVICE, method=_method(method), legacy=True)


def _spend(
    world: World, table: dict, key: str, setting: str, seconds: float, metric: str, limit: str, legacy: bool = True
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


# -- properties -----------------------------------------------------------------------------------


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _sites(request: Request) -> dict[str, str]:
    """The account's Search Console properties as this request sees the sandbox: siteUrl -> kind."""
    return {_base(request) + "/": "url", f"sc-domain:{request.url.hostname}": "domain"}


def _site(request: Request, site_url: str, legacy: bool = True) -> str:
    kind = _sites(request).get(site_url)
    if kind is None:
        raise GoogleError(
            403,
            f"User does not have sufficient permission for site '{site_url}'. {PERMISSION_HELP}",
            legacy=legacy,
            legacy_reason="forbidden",
        )
    return kind


def _path_in_property(request: Request, site_url: str, kind: str, url: str) -> str | None:
    """The sandbox path of ``url`` when it belongs to the property, else None."""
    if kind == "url":
        if not url.startswith(site_url):
            return None
        return "/" + url[len(site_url) :]
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.hostname != request.url.hostname:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# -- search analytics -------------------------------------------------------------------------------


def _choice(value: Any, table: dict[str, str], field: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.lower() not in table:
        raise GoogleError(400, f"Invalid value for {field}: {value!r}.", legacy=True)
    return table[value.lower()]


def _gsc_date(value: Any, field: str) -> date:
    if value is None or value == "":
        raise GoogleError(400, f"Required field {field} is missing. Use YYYY-MM-DD.", legacy=True)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GoogleError(400, f"Could not parse {field} '{value}'. Dates must be in YYYY-MM-DD format.", legacy=True)


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise GoogleError(400, f"Invalid value for {name}: {value!r}.", legacy=True) from None


def _filters(body: dict[str, Any]) -> tuple[list[tuple[str, str, str]], set[str]]:
    out = []
    groups = body.get("dimensionFilterGroups") or []
    if not isinstance(groups, list):
        raise GoogleError(400, "dimensionFilterGroups must be a list.", legacy=True)
    for group in groups:
        if not isinstance(group, dict):
            raise GoogleError(400, "Each dimensionFilterGroup must be an object.", legacy=True)
        group_type = str(group.get("groupType") or "and").lower()
        if group_type != "and":
            raise GoogleError(
                400, f"Invalid value for groupType: {group.get('groupType')!r}. Only 'and' is supported.", legacy=True
            )
        for spec in group.get("filters") or []:
            if not isinstance(spec, dict):
                raise GoogleError(400, "Each filter must be an object.", legacy=True)
            dimension = _dimension(spec.get("dimension"))
            if dimension == "date":
                raise GoogleError(400, "Filtering on date is not supported; use startDate and endDate.", legacy=True)
            operator = _choice(spec.get("operator"), OPERATORS, "operator", "equals")
            expression = spec.get("expression")
            if not isinstance(expression, str):
                raise GoogleError(400, f"Filter on {dimension} needs an expression.", legacy=True)
            if operator in ("includingRegex", "excludingRegex"):
                try:
                    re.compile(expression)
                except re.error as exc:
                    raise GoogleError(400, f"Invalid regular expression '{expression}': {exc}.", legacy=True) from None
            out.append((dimension, operator, expression))
    return out, {f[0] for f in out}


def _dimension(value: Any) -> str:
    if isinstance(value, str):
        for name in DIMENSIONS:
            if value.lower() in (name.lower(), "search_appearance" if name == "searchAppearance" else name):
                return name
    raise GoogleError(400, f"Invalid dimension: {value!r}. Valid dimensions are {', '.join(DIMENSIONS)}.", legacy=True)


def _matches(filters: list[tuple[str, str, str]], row: dict[str, str]) -> bool:
    for dimension, operator, expression in filters:
        value = row.get(dimension, "")
        if dimension in ("country", "device", "searchAppearance"):
            value, wanted = value.lower(), expression.lower()
        else:
            wanted = expression
        if operator == "equals" and value != wanted:
            return False
        if operator == "notEquals" and value == wanted:
            return False
        if operator == "contains" and wanted.lower() not in value.lower():
            return False
        if operator == "notContains" and wanted.lower() in value.lower():
            return False
        if operator == "includingRegex" and re.search(expression, value) is None:
            return False
        if operator == "excludingRegex" and re.search(expression, value) is not None:
            return False
    return True


def search_analytics(world: World, request: Request, site_url: str, kind: str, body: dict[str, Any]) -> dict:
    start = _gsc_date(body.get("startDate"), "startDate")
    end = _gsc_date(body.get("endDate"), "endDate")
    if start > end:
        raise GoogleError(400, f"startDate ({start}) must be earlier than or equal to endDate ({end}).", legacy=True)
    raw_dims = body.get("dimensions") or []
    if not isinstance(raw_dims, list):
        raise GoogleError(400, "dimensions must be a list.", legacy=True)
    dims = [_dimension(d) for d in raw_dims]
    if len(set(dims)) != len(dims):
        raise GoogleError(400, "Each dimension may appear only once.", legacy=True)
    search_type = _choice(body.get("type") or body.get("searchType"), SEARCH_TYPES, "type", "web")
    aggregation = _choice(body.get("aggregationType"), AGGREGATIONS, "aggregationType", "auto")
    data_state = _choice(body.get("dataState"), DATA_STATES, "dataState", "final")
    row_limit = _int_field(body, "rowLimit", 1000)
    start_row = _int_field(body, "startRow", 0)
    if not 1 <= row_limit <= MAX_ROWS:
        raise GoogleError(400, f"Row limit must be between 1 and {MAX_ROWS}.", legacy=True)
    if start_row < 0:
        raise GoogleError(400, "startRow must be a non-negative number.", legacy=True)
    filters, filtered = _filters(body)
    if aggregation == "byNewsShowcasePanel":
        raise GoogleError(
            400, "byNewsShowcasePanel aggregation is only supported for the googleNews and news types.", legacy=True
        )
    by_page = "page" in dims or "page" in filtered
    if aggregation == "byProperty" and "page" in dims:
        raise GoogleError(400, "Requests grouped by page must use aggregationType byPage or auto.", legacy=True)
    if aggregation == "auto":
        aggregation = "byPage" if by_page else "byProperty"

    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    last = today - timedelta(days=FINAL_LAG_DAYS if data_state == "final" else FRESH_LAG_DAYS)
    base = _base(request)
    needed = set(dims) | filtered
    splits = []
    if "country" in needed:
        splits.append(("country", [(iso3, share) for _n, _i, iso3, share in COUNTRIES]))
    if "device" in needed:
        splits.append(("device", list(SEARCH_DEVICES)))
    # Filters on query and page apply to the model's rows; the rest after the uniform country/device split.
    early = [f for f in filters if f[0] in ("query", "page")]
    late = [f for f in filters if f[0] not in ("query", "page")]
    plain = [d for d in dims if d in ("query", "page", "date")]
    pre: dict[tuple, list[float]] = {}
    day = max(start, traffic.first_day())
    while day <= min(end, last) and search_type in ("web", "image"):
        day_text = day.isoformat()
        facts = traffic.search_day(day)
        if search_type == "image":
            facts = [(q, p, *_image(world.seed, day, q, p, i, pos)) for q, p, i, _c, pos in facts]
        if early:
            facts = [f for f in facts if _matches(early, {"query": f[0], "page": base + f[1]})]
        if aggregation == "byProperty":
            # One result per search for the property: the best-placed page counts once, clicks add up.
            best: dict[str, list] = {}
            for query, path, impressions, clicks, position in facts:
                top = best.get(query)
                if top is None:
                    best[query] = [query, path, impressions, clicks, position]
                    continue
                if position < top[4]:
                    top[1], top[4] = path, position
                top[2] = max(top[2], impressions)
                top[3] = min(top[2], top[3] + clicks)
            facts = [tuple(top) for top in best.values()]
        for query, path, impressions, clicks, position in facts:
            if impressions <= 0:
                continue
            appearance, weight = "", 1.0
            if "searchAppearance" in needed:
                found = traffic.search_appearance(path)
                if found is None:
                    continue
                appearance, weight = found
            values = {"query": query, "page": base + path, "date": day_text}
            _add(pre, (*(values[d] for d in plain), appearance), impressions * weight, clicks * weight, position)
        day += timedelta(days=1)
    combos: list[tuple[dict[str, str], float]] = [({}, 1.0)]
    for name, options in splits:
        combos = [({**values, name: option}, weight * share) for values, weight in combos for option, share in options]
    acc: dict[tuple, list[float]] = {}
    for key, (imp, clk, weighted) in pre.items():
        row = dict(zip(plain, key[:-1]))
        row["searchAppearance"] = key[-1]
        for values, weight in combos:
            full = {**row, **values} if values else row
            if late and not _matches(late, full):
                continue
            out = tuple(full[d] for d in dims)
            target = acc.get(out)
            if target is None:
                acc[out] = [imp * weight, clk * weight, weighted * weight]
            else:
                target[0] += imp * weight
                target[1] += clk * weight
                target[2] += weighted * weight
    rows = []
    for keys, (imp, clk, weighted) in acc.items():
        impressions = round(imp)
        if impressions <= 0:
            continue
        clicks = min(impressions, round(clk))
        rows.append(
            {
                "keys": list(keys),
                "clicks": clicks,
                "impressions": impressions,
                "ctr": clicks / impressions,
                "position": weighted / imp,
            }
        )
    if dims == ["date"]:
        rows.sort(key=lambda r: r["keys"])
    else:
        rows.sort(key=lambda r: (-r["clicks"], -r["impressions"], r["keys"]))
    response: dict[str, Any] = {}
    page = rows[start_row : start_row + row_limit]
    if page:
        response["rows"] = page
    response["responseAggregationType"] = aggregation
    if data_state != "final" and end >= today - timedelta(days=FINAL_LAG_DAYS - 1):
        response["metadata"] = {"firstIncompleteDate": (today - timedelta(days=FINAL_LAG_DAYS - 1)).isoformat()}
    return response


def _add(acc: dict[tuple, list[float]], key: tuple, imp: float, clk: float, position: float) -> None:
    target = acc.get(key)
    if target is None:
        acc[key] = [imp, clk, position * imp]
    else:
        target[0] += imp
        target[1] += clk
        target[2] += position * imp


def _image(seed: int, day: date, query: str, path: str, impressions: int, position: float) -> tuple[int, int, float]:
    """Google Images rows derived from the web row: fewer impressions, lower placement, far fewer clicks."""
    u = noise(seed, "image", query, path, day.toordinal())
    image_impressions = count(impressions * 0.12, u[0])
    image_position = round(position + 6 + 2 * u[1], 2)
    rate = expected_ctr(image_position) * 0.3
    return image_impressions, min(image_impressions, count(image_impressions * rate, u[2])), image_position


# -- sitemaps -----------------------------------------------------------------------------------------


def _sitemaps(world: World, kind: str) -> dict[str, Sitemap]:
    return world.google.sitemaps[kind]


def _feed_key(request: Request, feed: str) -> str:
    base = _base(request)
    return feed[len(base) :] if feed.startswith(base + "/") else feed


def _check_feed(request: Request, site_url: str, kind: str, feed: str) -> None:
    parts = urlsplit(feed)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GoogleError(400, f"Invalid sitemap URL '{feed}': use the sitemap's full URL.", legacy=True)
    if _path_in_property(request, site_url, kind, feed) is None:
        raise GoogleError(400, f"Sitemap URL '{feed}' is not within the property '{site_url}'.", legacy=True)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sitemap_json(world: World, request: Request, sitemap: Sitemap) -> dict[str, Any]:
    full = _base(request) + sitemap.path if sitemap.path.startswith("/") else sitemap.path
    now = world.now()
    downloaded = sitemap.downloaded
    if downloaded is None and now >= sitemap.submitted + timedelta(days=1):
        downloaded = sitemap.submitted + timedelta(days=1)
    out: dict[str, Any] = {
        "path": full,
        "lastSubmitted": _stamp(sitemap.submitted),
        "isPending": downloaded is None,
        "isSitemapsIndex": False,
        "type": "sitemap",
    }
    if downloaded is None:
        out.update(warnings="0", errors="0")
        return out
    out["lastDownloaded"] = _stamp(downloaded)
    if sitemap.path in (WP_SITEMAP, SITE_SITEMAP):
        wp = world.wordpress
        # /sitemap.xml (both sites) also lists the storefront and the Webflow blog's home and live items.
        sources = ("wordpress", "home") if sitemap.path == WP_SITEMAP else ("wordpress", "home", "webflow")
        urls = (
            1 + sum(1 for p in wp.posts.values() if p.status == "publish")
            if sitemap.path == WP_SITEMAP
            else len(live_pages(world))
        )
        traffic = world.traffic
        traffic.observe()
        today = now.date()
        indexed = sum(
            1
            for path in traffic.live_paths()
            if traffic.pages[path].source in sources and (today - traffic.pages[path].live_since).days >= 3
        )
        out.update(
            warnings="0",
            errors="0",
            contents=[{"type": "web", "submitted": str(urls), "indexed": str(min(urls, indexed))}],
        )
    else:
        out.update(warnings="0", errors="1")  # the sandbox serves no such sitemap: Google couldn't fetch it
    return out


# -- URL inspection -----------------------------------------------------------------------------------


def inspect(world: World, request: Request, site_url: str, url: str, path: str) -> dict[str, Any]:
    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    base = _base(request)
    token = int(noise(world.seed, "inspect-id", path)[0] * 10**12)
    link = (
        f"https://search.google.com/search-console/inspect?resource_id={quote(site_url, safe='')}"
        f"&id={token:012d}&utm_medium=link&utm_source=api"
    )
    model = traffic.pages.get(path)
    live = path in set(traffic.live_paths())
    index: dict[str, Any]
    if path.startswith("/wp-admin/") and not path.startswith("/wp-admin/admin-ajax.php"):
        index = {
            "verdict": "NEUTRAL",
            "coverageState": "Blocked by robots.txt",
            "robotsTxtState": "DISALLOWED",
            "indexingState": "INDEXING_ALLOWED",
            "pageFetchState": "BLOCKED_ROBOTS_TXT",
            "crawledAs": "MOBILE",
        }
        return {
            "inspectionResultLink": link,
            "indexStatusResult": index,
            "mobileUsabilityResult": {"verdict": "VERDICT_UNSPECIFIED"},
        }
    if model is None:
        index = {
            "verdict": "NEUTRAL",
            "coverageState": "URL is unknown to Google",
            "robotsTxtState": "ROBOTS_TXT_STATE_UNSPECIFIED",
            "indexingState": "INDEXING_STATE_UNSPECIFIED",
            "pageFetchState": "PAGE_FETCH_STATE_UNSPECIFIED",
        }
        return {
            "inspectionResultLink": link,
            "indexStatusResult": index,
            "mobileUsabilityResult": {"verdict": "VERDICT_UNSPECIFIED"},
        }
    in_sitemap = model.source in ("wordpress", "home")
    u = noise(world.seed, "crawl", path, today.toordinal() // 7)
    crawled = datetime.combine(today - timedelta(days=1 + int(u[0] * 8)), datetime.min.time()).replace(
        hour=int(u[1] * 24), minute=int(u[2] * 60), second=int(u[3] * 60)
    )
    index = {"robotsTxtState": "ALLOWED", "indexingState": "INDEXING_ALLOWED", "crawledAs": "MOBILE"}
    if not live:
        index.update(
            verdict="NEUTRAL",
            coverageState="Not found (404)",
            pageFetchState="NOT_FOUND",
            lastCrawlTime=crawled.isoformat() + "Z",
        )
    elif model.live_since > date.min and (today - model.live_since).days < 3:
        index.update(
            verdict="NEUTRAL",
            coverageState="Discovered - currently not indexed",
            pageFetchState="PAGE_FETCH_STATE_UNSPECIFIED",
        )
    else:
        if model.live_since > date.min:
            earliest = datetime.combine(model.live_since, datetime.min.time())
            crawled = max(crawled, earliest)
        index.update(
            verdict="PASS",
            coverageState="Submitted and indexed" if in_sitemap else "Indexed, not submitted in sitemap",
            pageFetchState="SUCCESSFUL",
            lastCrawlTime=crawled.isoformat() + "Z",
            googleCanonical=url,
            userCanonical=url,
        )
    if in_sitemap:
        index["sitemap"] = [base + WP_SITEMAP]
    referring = [base + "/"] if path != "/" else []
    if referring:
        index["referringUrls"] = referring
    result: dict[str, Any] = {
        "inspectionResultLink": link,
        "indexStatusResult": index,
        "mobileUsabilityResult": {"verdict": "PASS" if live else "VERDICT_UNSPECIFIED"},
    }
    if live and model.source == "wordpress" and index["verdict"] == "PASS":
        result["richResultsResult"] = {
            "verdict": "PASS",
            "detectedItems": [{"richResultType": "Breadcrumbs", "items": [{"name": "Unnamed item"}]}],
        }
    return result
