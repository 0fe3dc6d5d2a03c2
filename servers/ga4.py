"""The ga4 server: reports, comparisons and quota of one client's GA4 properties. All tools read."""

from typing import Annotated, Callable

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from adapters.google.ga4 import (
    GA4,
    Comparison,
    DateRange,
    DimensionFilter,
    Metadata,
    MetricFilter,
    Order,
    PropertySummary,
    Quota,
    Report,
)

from ._app import READ, Deps, ServerContext, adapter_of, new_server, resource, tool

GA4Context = ServerContext[GA4]  # a tool's context here: `await adapter_of(ctx)` is GA4

INSTRUCTIONS = """Tools for one client's Google Analytics 4 properties: list properties, look up dimension and
metric names, run reports (one or two date ranges, filters, ordering, paging), realtime reports,
period comparisons per dimension value, top landing pages, and the property's quota. Name a
property as '123', 'properties/123' or its name in the client's settings. Data for today is
incomplete; the default end date is yesterday."""

MODEL_ROWS = 100  # rows handed to the model per call; the rest by offset

# Never "": an empty property is a validation error, not "the default one".
PropertyArg = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=200,
        description="'123', 'properties/123' or a configured name; leave it out when the client has one property.",
    ),
]
INT64_MAX = 2**63 - 1  # GA4's offset is an int64; beyond it the request cannot even be encoded
Names = Annotated[list[str], Field(max_length=9, description="API names, e.g. sessions (see get_metadata).")]


class PropertyList(BaseModel):
    properties: list[PropertySummary]


def _report_summary(r: Report) -> str:
    more = f"; more with offset={r.next_offset}" if r.next_offset is not None else ""
    return f"{len(r.rows)} of {r.row_count} row(s) from {r.property}{more}."


def create_server(build_deps: Callable[[], Deps[GA4]]) -> MCPServer:
    server = new_server("ga4", INSTRUCTIONS, build_deps)

    @tool(server, READ, summary=lambda p: f"{len(p.properties)} GA4 propert(ies) visible to this account.")
    async def list_properties(ctx: GA4Context) -> PropertyList:
        """The GA4 properties this client's Google account can read, with their accounts."""
        ga4 = await adapter_of(ctx)
        return PropertyList(properties=await ga4.list_properties())

    @tool(
        server,
        READ,
        summary=lambda m: (
            f"{len(m.dimensions)} dimensions and {len(m.metrics)} metrics "
            f"({sum(f.custom for f in m.dimensions + m.metrics)} custom) on {m.property}."
        ),
    )
    async def get_metadata(ctx: GA4Context, property: PropertyArg = None) -> Metadata:
        """The dimensions and metrics a property offers, its custom ones included."""
        ga4 = await adapter_of(ctx)
        return await ga4.metadata(ga4.property_id(property))

    @tool(server, READ, summary=_report_summary)
    async def run_report(
        ctx: GA4Context,
        metrics: Annotated[list[str], Field(min_length=1, max_length=10, description="e.g. sessions, keyEvents.")],
        date_ranges: Annotated[
            list[DateRange], Field(min_length=1, max_length=2, description="One range, or two to compare.")
        ],
        dimensions: Names = [],  # noqa: B006 (pydantic copies defaults)
        property: PropertyArg = None,
        dimension_filters: Annotated[list[DimensionFilter], Field(max_length=10, description="All must match.")] = [],  # noqa: B006 - pydantic copies defaults per call
        metric_filters: Annotated[list[MetricFilter], Field(max_length=10, description="All must match.")] = [],  # noqa: B006 - pydantic copies defaults per call
        order_by: Annotated[list[Order], Field(max_length=3)] = [],  # noqa: B006 - pydantic copies defaults per call
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 50,
        offset: Annotated[int, Field(ge=0, le=INT64_MAX, description="Rows to skip (next_offset).")] = 0,
    ) -> Report:
        """A GA4 report with totals. Rows are capped; page with offset (next_offset says where)."""
        ga4 = await adapter_of(ctx)
        return await ga4.run_report(
            ga4.property_id(property),
            dimensions=dimensions,
            metrics=metrics,
            date_ranges=date_ranges,
            dimension_filters=dimension_filters,
            metric_filters=metric_filters,
            order_by=order_by,
            limit=limit,
            offset=offset,
        )

    @tool(server, READ, summary=_report_summary)
    async def run_realtime_report(
        ctx: GA4Context,
        metrics: Annotated[list[str], Field(min_length=1, max_length=5)] = ["activeUsers"],  # noqa: B006 - pydantic copies defaults per call
        dimensions: Annotated[list[str], Field(max_length=4)] = [],  # noqa: B006 - pydantic copies defaults per call
        property: PropertyArg = None,
        minutes_ago: Annotated[int, Field(ge=0, le=29, description="Window start, minutes back (max 29).")] = 29,
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 20,
    ) -> Report:
        """Activity in the last 30 minutes (e.g. activeUsers by country or unifiedScreenName)."""
        ga4 = await adapter_of(ctx)
        return await ga4.realtime(
            ga4.property_id(property), dimensions=dimensions, metrics=metrics, limit=limit, minutes_ago=minutes_ago
        )

    @tool(
        server,
        READ,
        summary=lambda c: (
            f"{len(c.changes)} of {c.total_keys} value(s) by {c.sorted_by}; totals "
            + ", ".join(f"{m} {c.totals_a[m]} -> {c.totals_b[m]}" for m in c.metrics)
            + "."
        ),
    )
    async def compare_periods(
        ctx: GA4Context,
        period_a: Annotated[DateRange, Field(description="The earlier period (before).")],
        period_b: Annotated[DateRange, Field(description="The later period (after).")],
        dimensions: Annotated[list[str], Field(min_length=1, max_length=3)] = ["landingPage"],  # noqa: B006 - pydantic copies defaults per call
        metrics: Annotated[list[str], Field(min_length=1, max_length=5)] = ["sessions", "keyEvents"],  # noqa: B006 - pydantic copies defaults per call
        sort_metric: Annotated[
            str | None, Field(description="Metric whose absolute change sorts; default the first.")
        ] = None,
        property: PropertyArg = None,
        dimension_filters: Annotated[list[DimensionFilter], Field(max_length=5)] = [],  # noqa: B006 - pydantic copies defaults per call
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 25,
    ) -> Comparison:
        """Change per dimension value between two periods, computed server-side, biggest change first."""
        ga4 = await adapter_of(ctx)
        return await ga4.compare(
            ga4.property_id(property),
            dimensions=dimensions,
            metrics=metrics,
            period_a=period_a,
            period_b=period_b,
            sort_metric=sort_metric,
            limit=limit,
            dimension_filters=dimension_filters,
        )

    @tool(server, READ, summary=_report_summary)
    async def top_landing_pages(
        ctx: GA4Context,
        start: Annotated[str, Field(description="YYYY-MM-DD or NdaysAgo.")] = "28daysAgo",
        end: Annotated[str, Field(description="YYYY-MM-DD, 'yesterday' or NdaysAgo.")] = "yesterday",
        channel: Annotated[
            str | None, Field(description="Only this default channel group, e.g. 'Organic Search'.")
        ] = None,
        property: PropertyArg = None,
        limit: Annotated[int, Field(ge=1, le=MODEL_ROWS)] = 20,
    ) -> Report:
        """Landing pages by sessions, with engagement and conversions."""
        ga4 = await adapter_of(ctx)
        filters = [DimensionFilter(field="sessionDefaultChannelGroup", value=channel)] if channel else []
        return await ga4.run_report(
            ga4.property_id(property),
            dimensions=["landingPage"],
            metrics=["sessions", "engagedSessions", "engagementRate", "keyEvents"],
            date_ranges=[DateRange(start=start, end=end)],
            dimension_filters=filters,
            order_by=[Order(field="sessions")],
            limit=limit,
        )

    @tool(
        server,
        READ,
        summary=lambda q: f"tokens left: {q.tokens_per_hour_remaining} this hour, {q.tokens_per_day_remaining} today.",
    )
    async def quota_status(ctx: GA4Context, property: PropertyArg = None) -> Quota:
        """The property's remaining API quota, as GA4 last reported it."""
        ga4 = await adapter_of(ctx)
        return await ga4.quota(ga4.property_id(property))

    @resource(
        server,
        "ga4://properties/{property}/metadata",
        name="ga4-metadata",
        description="The property's dimension and metric API names with a short label each "
        "(custom ones marked), to write run_report arguments. property: '123' or a "
        "configured name.",
    )
    async def metadata_catalogue(property: str, ctx: GA4Context) -> dict:
        ga4 = await adapter_of(ctx)
        meta = await ga4.metadata(ga4.property_id(property))
        return {
            "property": meta.property,
            **{
                kind: {f.name: f.ui_name + (" (custom)" if f.custom else "") for f in getattr(meta, kind)}
                for kind in ("dimensions", "metrics")
            },
        }

    return server
