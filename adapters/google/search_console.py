"""Search Console through google-api-python-client, with the discovery document bundled in the package.

Search analytics is paged 25,000 rows at a time (the API's maximum) and capped for the model;
CTR opportunities compare each row's CTR with the expected CTR for its average position.
Per-site limits follow Google's: search analytics 1,200 queries a minute, URL inspection 600 a
minute and 2,000 a day.
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from adapters.errors import AdapterError, InvalidRequest
from adapters.json_values import JsonObject
from adapters.progress import progress
from adapters.ratelimit import Budget, Rate, WindowBudget

from .common import blocking, discovery_error, execute
from .dates import check_range

VENDOR = "Search Console"
MAX_ROWS_PER_REQUEST = 25_000
SEARCH_ANALYTICS = Rate(1200, 60.0, burst=20)  # per minute: a burst of 20 still keeps any minute to 1,200
INSPECTIONS_PER_MINUTE = Rate(600, 60.0)
INSPECTIONS_PER_DAY = Rate(2000, 86400.0)

Dimension = Literal["query", "page", "country", "device", "date", "searchAppearance"]
Operator = Literal["equals", "notEquals", "contains", "notContains", "includingRegex", "excludingRegex"]
SearchType = Literal["web", "image", "video", "news", "discover", "googleNews"]
DataState = Literal["final", "all"]

# Expected organic CTR by position (rounded averages of published CTR-by-position studies).
EXPECTED_CTR = {1: 0.28, 2: 0.15, 3: 0.10, 4: 0.07, 5: 0.05, 6: 0.04, 7: 0.03, 8: 0.025, 9: 0.022, 10: 0.02}


def expected_ctr(position: float) -> float:
    """Linear between whole positions; beyond 10 the curve keeps falling slowly."""
    if position <= 1:
        return EXPECTED_CTR[1]
    if position >= 10:
        return max(0.005, EXPECTED_CTR[10] * 10 / position)
    low = int(position)
    frac = position - low
    return EXPECTED_CTR[low] + (EXPECTED_CTR[low + 1] - EXPECTED_CTR[low]) * frac


class Filter(BaseModel):
    dimension: Dimension
    operator: Operator = "equals"
    expression: str


class Site(BaseModel):
    site: str
    permission: str
    kind: Literal["domain", "url-prefix"]


class Row(BaseModel):
    keys: dict[str, str]
    clicks: int
    impressions: int
    ctr: float
    position: float


class Analytics(BaseModel):
    site: str
    dimensions: list[str]
    start: str
    end: str
    data_state: str
    rows: list[Row]
    total_rows: int = Field(description="Rows Google returned in all (before the cap for the model).")
    truncated: bool
    totals: dict[str, float]


class Opportunity(BaseModel):
    keys: dict[str, str]
    impressions: int
    clicks: int
    ctr: float
    position: float
    expected_ctr: float
    missed_clicks: int = Field(description="Clicks at the expected CTR minus the clicks received.")


class Opportunities(BaseModel):
    site: str
    dimension: str
    start: str
    end: str
    min_impressions: int
    expected_curve: dict[int, float]
    opportunities: list[Opportunity]
    considered: int


class Inspection(BaseModel):
    url: str
    verdict: str
    coverage: str = ""
    indexing: str = ""
    robots_txt: str = ""
    page_fetch: str = ""
    last_crawl: str | None = None
    google_canonical: str | None = None
    user_canonical: str | None = None
    mobile_verdict: str | None = None
    link: str | None = None


class Sitemap(BaseModel):
    path: str
    last_submitted: str | None = None
    last_downloaded: str | None = None
    pending: bool = False
    errors: int = 0
    warnings: int = 0
    submitted: int | None = None
    indexed: int | None = None


class SearchConsole:
    def __init__(self, service: Any, *, sites: list[str], auth_hint: str, today: Callable[[], date] = date.today):
        self._svc = service  # a discovery resource: built at run time, so untyped (see common.execute)
        self._sites = list(sites)
        self._auth_hint = auth_hint
        self._today = today
        self._budgets: dict[tuple[str, str], Budget | WindowBudget] = {}

    async def aclose(self) -> None:
        pass

    # -- sites ---------------------------------------------------------

    def site_of(self, ref: str | None) -> str:
        """The property to use: `ref`, or the client's only configured one."""
        if ref is None or not ref.strip():
            if len(self._sites) == 1:
                return self._sites[0]
            raise InvalidRequest(
                f"Which Search Console property? Configured: {', '.join(self._sites) or 'none'}.",
                hint="Pass site (list_sites shows them).",
            )
        ref = ref.strip()
        if ref.startswith("sc-domain:"):
            return ref
        if ref.startswith(("http://", "https://")):
            return ref if ref.endswith("/") else ref + "/"  # URL-prefix properties end with a slash
        raise InvalidRequest(
            f"'{ref}' is not a Search Console property.",
            hint="Use 'sc-domain:example.com' (domain) or 'https://www.example.com/' (URL prefix).",
        )

    async def sites(self) -> list[Site]:
        data = await self._call(lambda: self._svc.sites().list())
        return [
            Site(
                site=s["siteUrl"],
                permission=s.get("permissionLevel", ""),
                kind="domain" if s["siteUrl"].startswith("sc-domain:") else "url-prefix",
            )
            for s in data.get("siteEntry", [])
        ]

    # -- search analytics -------------------------------------------------

    async def analytics(
        self,
        site: str,
        *,
        start: str,
        end: str,
        dimensions: Sequence[str],
        filters: Sequence[Filter] = (),
        search_type: str = "web",
        data_state: str = "final",
        limit: int = 1000,
        max_rows: int = 100,
    ) -> Analytics:
        """All rows up to `limit` (paged 25,000 at a time), of which `max_rows` are returned."""
        check_range(start, end, self._today(), relative=False)
        if not 1 <= limit <= 100_000:
            raise InvalidRequest("limit must be between 1 and 100000 rows.")
        rows: list[JsonObject] = []
        while len(rows) < limit:
            size = min(MAX_ROWS_PER_REQUEST, limit - len(rows))
            body: JsonObject = {
                "startDate": start,
                "endDate": end,
                "dimensions": list(dimensions),
                "type": search_type,
                "dataState": data_state,
                "rowLimit": size,
                "startRow": len(rows),
            }
            if filters:
                body["dimensionFilterGroups"] = [{"groupType": "and", "filters": [f.model_dump() for f in filters]}]
            await self._spend(site, "analytics", SEARCH_ANALYTICS)
            page = (
                await self._call(lambda b=body: self._svc.searchanalytics().query(siteUrl=site, body=b), site=site)
            ).get("rows", [])
            rows += page
            await progress(limit if len(page) < size else len(rows), limit, f"{len(rows)} rows fetched")
            if len(page) < size:
                break
        parsed = [
            Row(
                keys=dict(zip(dimensions, r.get("keys", []), strict=False)),
                clicks=int(r.get("clicks", 0)),
                impressions=int(r.get("impressions", 0)),
                ctr=round(float(r.get("ctr", 0)), 4),
                position=round(float(r.get("position", 0)), 2),
            )
            for r in rows
        ]
        clicks = sum(r.clicks for r in parsed)
        impressions = sum(r.impressions for r in parsed)
        return Analytics(
            site=site,
            dimensions=list(dimensions),
            start=start,
            end=end,
            data_state=data_state,
            rows=parsed[:max_rows],
            total_rows=len(parsed),
            truncated=len(parsed) > max_rows,
            totals={
                "clicks": clicks,
                "impressions": impressions,
                "ctr": round(clicks / impressions, 4) if impressions else 0.0,
            },
        )

    async def opportunities(
        self, site: str, *, start: str, end: str, dimension: str = "query", min_impressions: int = 100, limit: int = 20
    ) -> Opportunities:
        """Rows whose CTR is below the expected CTR for their position, by clicks missed."""
        data = await self.analytics(site, start=start, end=end, dimensions=[dimension], limit=25_000, max_rows=25_000)
        found: list[Opportunity] = []
        for row in data.rows:
            if row.impressions < min_impressions:
                continue
            expected = expected_ctr(row.position)
            if row.ctr < expected:
                missed = round(row.impressions * expected) - row.clicks
                found.append(
                    Opportunity(
                        keys=row.keys,
                        impressions=row.impressions,
                        clicks=row.clicks,
                        ctr=row.ctr,
                        position=row.position,
                        expected_ctr=round(expected, 4),
                        missed_clicks=max(0, missed),
                    )
                )
        found.sort(key=lambda o: o.missed_clicks, reverse=True)
        return Opportunities(
            site=site,
            dimension=dimension,
            start=start,
            end=end,
            min_impressions=min_impressions,
            expected_curve=EXPECTED_CTR,
            opportunities=found[:limit],
            considered=sum(1 for r in data.rows if r.impressions >= min_impressions),
        )

    # -- URL inspection, sitemaps -------------------------------------------

    async def inspect(self, site: str, url: str, language: str = "en-US") -> Inspection:
        await self._spend(site, "inspect-day", INSPECTIONS_PER_DAY, window=True)
        await self._spend(site, "inspect-minute", INSPECTIONS_PER_MINUTE)
        body = {"inspectionUrl": url, "siteUrl": site, "languageCode": language}
        result = (await self._call(lambda: self._svc.urlInspection().index().inspect(body=body), site=site)).get(
            "inspectionResult", {}
        )
        index = result.get("indexStatusResult", {})
        mobile: JsonObject = result.get("mobileUsabilityResult") or {}
        return Inspection(
            url=url,
            verdict=index.get("verdict", "VERDICT_UNSPECIFIED"),
            coverage=index.get("coverageState", ""),
            indexing=index.get("indexingState", ""),
            robots_txt=index.get("robotsTxtState", ""),
            page_fetch=index.get("pageFetchState", ""),
            last_crawl=index.get("lastCrawlTime"),
            google_canonical=index.get("googleCanonical"),
            user_canonical=index.get("userCanonical"),
            mobile_verdict=mobile.get("verdict"),
            link=result.get("inspectionResultLink"),
        )

    async def sitemaps(self, site: str) -> list[Sitemap]:
        data = await self._call(lambda: self._svc.sitemaps().list(siteUrl=site), site=site)
        out: list[Sitemap] = []
        for s in data.get("sitemap", []):
            contents: list[JsonObject] = s.get("contents") or [{}]
            out.append(
                Sitemap(
                    path=s["path"],
                    last_submitted=s.get("lastSubmitted"),
                    last_downloaded=s.get("lastDownloaded"),
                    pending=bool(s.get("isPending")),
                    errors=int(s.get("errors", 0)),
                    warnings=int(s.get("warnings", 0)),
                    submitted=_int(contents[0].get("submitted")),
                    indexed=_int(contents[0].get("indexed")),
                )
            )
        return out

    async def submit_sitemap(self, site: str, path: str) -> None:
        await self._call(lambda: self._svc.sitemaps().submit(siteUrl=site, feedpath=path), site=site)

    # -- plumbing ----------------------------------------------------------

    async def _spend(self, site: str, what: str, rate: Rate, *, window: bool = False) -> None:
        key = (site, what)
        if key not in self._budgets:
            name = f"Search Console {what} for {site}"
            self._budgets[key] = WindowBudget(name, rate) if window else Budget(name, rate)
        await self._budgets[key].spend()

    async def _call(self, build: Callable[[], Any], *, site: str | None = None) -> JsonObject:
        def run(timeout: float) -> JsonObject:
            request = build()
            http = getattr(request.http, "http", request.http)  # AuthorizedHttp wraps httplib2.Http
            http.timeout = timeout  # httplib2 applies it to each new connection
            return execute(request)

        return await blocking(
            run, translate=lambda e: translate_http_error(e, vendor=VENDOR, auth_hint=self._auth_hint, site=site)
        )


def translate_http_error(exc: Exception, *, vendor: str, auth_hint: str, site: str | None = None) -> AdapterError:
    """A discovery-client failure as an AdapterError; a refused property explains the two property forms."""
    error = discovery_error(exc, vendor=vendor, auth_hint=auth_hint)
    if site and (error.status == 404 or (error.status == 403 and "permission" in error.message.lower())):
        error.hint = property_form_hint(site)
    return error


def property_form_hint(site: str) -> str:
    """Search Console has two property forms; a 403/404 often means the other one was meant."""
    if site.startswith("sc-domain:"):
        other = f"https://{site.removeprefix('sc-domain:')}/"
        return (
            f"'{site}' is a domain property (all protocols and subdomains). If this account only has a "
            f"URL-prefix property, use its exact URL, e.g. '{other}'. list_sites shows what the account can read."
        )
    host = site.split("//", 1)[-1].split("/", 1)[0]
    return (
        f"'{site}' is a URL-prefix property (this exact protocol, host and path, with the trailing slash). "
        f"If the site is verified as a domain property, use 'sc-domain:{host}'. list_sites shows what the "
        "account can read."
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
