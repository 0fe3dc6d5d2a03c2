"""The search-console server: search performance, CTR opportunities, URL inspection and sitemaps."""

from typing import Annotated, Callable, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from adapters.errors import InvalidRequest
from adapters.google.search_console import (
    Analytics,
    DataState,
    Dimension,
    Filter,
    Inspection,
    Opportunities,
    SearchConsole,
    SearchType,
    Site,
    Sitemap,
)
from adapters.progress import progress

from ._app import PUBLISH, READ, Deps, ServerContext, adapter_of, new_server, tool

SearchConsoleContext = ServerContext[SearchConsole]  # a tool's context here: `await adapter_of(ctx)` is Search Console

INSTRUCTIONS = """Tools for one client's Google Search Console properties: list sites, query search performance
(queries, pages, countries, devices, dates), compare two periods, find queries or pages whose CTR
is below what their position should earn, inspect URLs in Google's index, list and submit
sitemaps (submit_sitemap changes what Google crawls; preview it with dry_run). A property is
'sc-domain:example.com' (domain) or 'https://www.example.com/' (URL prefix, exact). Final data
lags two to three days; dataState='all' includes fresher, still-changing data."""

MODEL_ROWS = 100
INSPECT_BATCH = 10

# Never "": an empty site is a validation error, not "the default one".
SiteArg = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=2048,
        description="'sc-domain:example.com' or 'https://www.example.com/'; leave it out when the client has one.",
    ),
]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD.")]


class SiteList(BaseModel):
    sites: list[Site]


class PeriodChange(BaseModel):
    keys: dict[str, str]
    clicks_a: int
    clicks_b: int
    impressions_a: int
    impressions_b: int
    ctr_a: float
    ctr_b: float
    position_a: float | None
    position_b: float | None
    clicks_change: int


class PeriodComparison(BaseModel):
    site: str
    dimension: str
    period_a: tuple[str, str]
    period_b: tuple[str, str]
    totals_a: dict[str, float]
    totals_b: dict[str, float]
    changes: list[PeriodChange] = Field(description="Biggest click change first.")
    total_keys: int


class Inspections(BaseModel):
    results: list[Inspection]


class SitemapList(BaseModel):
    site: str
    sitemaps: list[Sitemap]


class SitemapSubmission(BaseModel):
    site: str
    path: str
    dry_run: bool
    already_listed: bool
    submitted: bool


def create_server(build_deps: Callable[[], Deps[SearchConsole]]) -> MCPServer:
    server = new_server("search-console", INSTRUCTIONS, build_deps)

    @tool(server, READ, summary=lambda s: f"{len(s.sites)} propert(ies): " + ", ".join(x.site for x in s.sites[:10]))
    async def list_sites(ctx: SearchConsoleContext) -> SiteList:
        """The Search Console properties this client's Google account can read, with its permission."""
        sc = await adapter_of(ctx)
        return SiteList(sites=await sc.sites())

    @tool(
        server,
        READ,
        summary=lambda a: (
            f"{len(a.rows)} of {a.total_rows} row(s), {a.totals['clicks']:g} clicks, "
            f"{a.totals['impressions']:g} impressions" + ("; capped." if a.truncated else ".")
        ),
    )
    async def search_analytics(
        ctx: SearchConsoleContext,
        start: Day,
        end: Day,
        dimensions: Annotated[list[Dimension], Field(max_length=4)] = ["query"],  # noqa: B006 - pydantic copies defaults per call
        filters: Annotated[list[Filter], Field(max_length=10, description="All must match.")] = [],  # noqa: B006 - pydantic copies defaults per call
        site: SiteArg = None,
        search_type: SearchType = "web",
        data_state: DataState = "final",
        fetch_rows: Annotated[int, Field(ge=1, le=100_000, description="Rows to fetch (25,000 per request).")] = 1000,
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS, description="Rows to return, by clicks.")] = 25,
    ) -> Analytics:
        """Clicks, impressions, CTR and position per query, page, country, device, date or appearance."""
        sc = await adapter_of(ctx)
        return await sc.analytics(
            sc.site_of(site),
            start=start,
            end=end,
            dimensions=dimensions,
            filters=filters,
            search_type=search_type,
            data_state=data_state,
            limit=fetch_rows,
            max_rows=limit,
        )

    @tool(
        server,
        READ,
        summary=lambda c: (
            f"{len(c.changes)} of {c.total_keys} {c.dimension}(s); clicks "
            f"{c.totals_a['clicks']:g} -> {c.totals_b['clicks']:g}."
        ),
    )
    async def compare_periods(
        ctx: SearchConsoleContext,
        a_start: Day,
        a_end: Day,
        b_start: Day,
        b_end: Day,
        dimension: Dimension = "page",
        site: SiteArg = None,
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 25,
    ) -> PeriodComparison:
        """Clicks, impressions, CTR and position per query or page in period A against period B."""
        sc = await adapter_of(ctx)
        target = sc.site_of(site)
        a = await sc.analytics(target, start=a_start, end=a_end, dimensions=[dimension], limit=25_000, max_rows=25_000)
        b = await sc.analytics(target, start=b_start, end=b_end, dimensions=[dimension], limit=25_000, max_rows=25_000)
        rows_a = {r.keys[dimension]: r for r in a.rows}
        rows_b = {r.keys[dimension]: r for r in b.rows}
        changes = []
        for key in rows_a.keys() | rows_b.keys():
            ra, rb = rows_a.get(key), rows_b.get(key)
            changes.append(
                PeriodChange(
                    keys={dimension: key},
                    clicks_a=ra.clicks if ra else 0,
                    clicks_b=rb.clicks if rb else 0,
                    impressions_a=ra.impressions if ra else 0,
                    impressions_b=rb.impressions if rb else 0,
                    ctr_a=ra.ctr if ra else 0.0,
                    ctr_b=rb.ctr if rb else 0.0,
                    position_a=ra.position if ra else None,
                    position_b=rb.position if rb else None,
                    clicks_change=(rb.clicks if rb else 0) - (ra.clicks if ra else 0),
                )
            )
        changes.sort(key=lambda c: abs(c.clicks_change), reverse=True)
        return PeriodComparison(
            site=target,
            dimension=dimension,
            period_a=(a_start, a_end),
            period_b=(b_start, b_end),
            totals_a=a.totals,
            totals_b=b.totals,
            changes=changes[:limit],
            total_keys=len(changes),
        )

    @tool(
        server,
        READ,
        summary=lambda o: (
            f"{len(o.opportunities)} {o.dimension}(s) below the expected CTR for their "
            f"position, of {o.considered} with >= {o.min_impressions} impressions."
        ),
    )
    async def ctr_opportunities(
        ctx: SearchConsoleContext,
        start: Day,
        end: Day,
        dimension: Literal["query", "page"] = "query",
        min_impressions: Annotated[int, Field(ge=1)] = 100,
        site: SiteArg = None,
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 20,
    ) -> Opportunities:
        """Queries or pages whose CTR is below the expected CTR for their average position (the curve is
        in the result), ranked by the clicks they miss."""
        sc = await adapter_of(ctx)
        return await sc.opportunities(
            sc.site_of(site), start=start, end=end, dimension=dimension, min_impressions=min_impressions, limit=limit
        )

    @tool(server, READ, summary=lambda i: f"{i.url}: {i.verdict}, {i.coverage or 'no coverage state'}.")
    async def inspect_url(
        ctx: SearchConsoleContext, url: Annotated[str, Field(pattern=r"^https?://")], site: SiteArg = None
    ) -> Inspection:
        """How Google sees one URL: indexed or not and why, canonical, last crawl, mobile usability."""
        sc = await adapter_of(ctx)
        return await sc.inspect(sc.site_of(site), url)

    @tool(server, READ, summary=lambda r: ", ".join(f"{i.verdict}" for i in r.results) + ".")
    async def inspect_urls(
        ctx: SearchConsoleContext,
        urls: Annotated[
            list[Annotated[str, Field(pattern=r"^https?://")]], Field(min_length=1, max_length=INSPECT_BATCH)
        ],
        site: SiteArg = None,
    ) -> Inspections:
        """inspect_url for up to 10 URLs (URL inspection is limited to 600 a minute, 2,000 a day per site)."""
        sc = await adapter_of(ctx)
        target = sc.site_of(site)
        results = []
        for url in urls:
            results.append(await sc.inspect(target, url))
            await progress(len(results), len(urls), f"{len(results)} of {len(urls)} URLs inspected")
        return Inspections(results=results)

    @tool(server, READ, summary=lambda s: f"{len(s.sitemaps)} sitemap(s) for {s.site}.")
    async def list_sitemaps(ctx: SearchConsoleContext, site: SiteArg = None) -> SitemapList:
        """The sitemaps submitted for a property, with errors, warnings and indexed counts."""
        sc = await adapter_of(ctx)
        target = sc.site_of(site)
        return SitemapList(site=target, sitemaps=await sc.sitemaps(target))

    @tool(
        server,
        PUBLISH,
        summary=lambda s: (
            ("Would submit" if s.dry_run else "Submitted")
            + f" {s.path} for {s.site}"
            + (" (already listed)." if s.already_listed else ".")
        ),
    )
    async def submit_sitemap(
        ctx: SearchConsoleContext,
        path: Annotated[str, Field(pattern=r"^https?://", description="Full sitemap URL inside the property.")],
        site: SiteArg = None,
        dry_run: Annotated[bool, Field(description="Only show what would be submitted.")] = False,
    ) -> SitemapSubmission:
        """Submit (or resubmit) a sitemap so Google crawls it."""
        sc = await adapter_of(ctx)
        target = sc.site_of(site)
        listed = any(s.path == path for s in await sc.sitemaps(target))
        if dry_run:
            return SitemapSubmission(site=target, path=path, dry_run=True, already_listed=listed, submitted=False)
        await sc.submit_sitemap(target, path)
        if not any(s.path == path for s in await sc.sitemaps(target)):
            raise InvalidRequest(
                f"Google accepted {path} but does not list it for {target}.",
                hint="Check that the sitemap URL is inside the property and try again.",
            )
        return SitemapSubmission(site=target, path=path, dry_run=False, already_listed=listed, submitted=True)

    return server
