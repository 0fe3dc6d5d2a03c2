"""GA4 through google-analytics-data (Data API v1beta, REST transport) and the Admin API.

The SDK is synchronous: every call runs in a worker thread with the call's deadline as its
timeout. Names are checked against the property's metadata before a report is sent, so a
typo costs no quota and gets the closest valid names back. Each property gets at most 10
requests at once (the API's limit), and the token quota the API reports with every report is
remembered so a spent hour is refused here, with the time it resets.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

from adapters.errors import AdapterError, InvalidRequest, NotFound, RateLimited

from .common import blocking, by_status, discovery_error, execute, raise_unknown, to_number, unknown_names
from .dates import check_range
from .ga4_models import (
    Change,
    Comparison,
    DateRange,
    DimensionFilter,
    FieldInfo,
    Metadata,
    MetricFilter,
    NumericOp,
    Order,
    PropertySummary,
    Quota,
    Report,
    StringMatch,
)
from .ga4_wire import DataClient, RawReport, all_of, dimension_filter, metric_filter, ordering, raw_report

if TYPE_CHECKING:
    from google.analytics.data_v1beta.types import RunRealtimeReportResponse, RunReportResponse

__all__ = [
    "GA4",
    "MAX_CONCURRENT",
    "VENDOR",
    "Change",
    "Comparison",
    "DataClient",
    "DateRange",
    "DimensionFilter",
    "FieldInfo",
    "Metadata",
    "MetricFilter",
    "NumericOp",
    "Order",
    "PropertySummary",
    "Quota",
    "Report",
    "StringMatch",
]

VENDOR = "GA4"
MAX_CONCURRENT = 10
T = TypeVar("T")


class GA4:
    """One GA4 account's properties, as one client sees them."""

    def __init__(
        self,
        data_client: DataClient,
        admin: Any,  # an Admin API discovery resource: built at run time, so untyped (see common.execute)
        *,
        properties: dict[str, str],
        auth_hint: str,
        today: Callable[[], date] = date.today,
    ):
        self._data = data_client
        self._admin = admin
        self._names = {name: _property_id(value) for name, value in properties.items()}
        self._auth_hint = auth_hint
        self._today = today
        self._metadata: dict[str, Metadata] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._quota: dict[str, Quota] = {}

    async def aclose(self) -> None:
        pass

    # -- properties ----------------------------------------------------

    def property_id(self, ref: str | None) -> str:
        """'123', 'properties/123' or a name from mcp.json; None = the only configured one."""
        if ref is None or not str(ref).strip():
            if len(self._names) == 1:
                return next(iter(self._names.values()))
            known = ", ".join(f"{n} ({v})" for n, v in self._names.items()) or "none configured"
            raise InvalidRequest(
                f"Which GA4 property? Configured: {known}.",
                hint="Pass property as a name from mcp.json, '123' or 'properties/123' "
                "(list_properties shows what the account can see).",
            )
        ref = str(ref).strip()
        if ref in self._names:
            return self._names[ref]
        if re.fullmatch(r"(properties/)?\d+", ref):
            return _property_id(ref)
        raise NotFound(
            f"There is no GA4 property named '{ref}'. Configured names: {', '.join(self._names) or 'none'}.",
            hint="Use list_properties to see the property IDs.",
        )

    async def list_properties(self) -> list[PropertySummary]:
        out: list[PropertySummary] = []
        token: str | None = None
        while True:
            page = await self._admin_call(
                lambda t, tok=token: execute(
                    self._admin.accountSummaries().list(pageSize=200, **({"pageToken": tok} if tok else {}))
                )
            )
            for account in page.get("accountSummaries", []):
                for prop in account.get("propertySummaries", []):
                    out.append(
                        PropertySummary(
                            property=prop["property"],
                            name=prop.get("displayName", ""),
                            account=account.get("account", ""),
                            account_name=account.get("displayName", ""),
                        )
                    )
            token = page.get("nextPageToken")
            if not token:
                return out

    async def metadata(self, prop: str) -> Metadata:
        if prop not in self._metadata:
            raw = await self._data_call(
                prop, lambda t: self._data.get_metadata(name=f"properties/{prop}/metadata", timeout=t)
            )
            self._metadata[prop] = Metadata(
                property=f"properties/{prop}",
                dimensions=[
                    FieldInfo(name=d.api_name, ui_name=d.ui_name, category=d.category, custom=d.custom_definition)
                    for d in raw.dimensions
                ],
                metrics=[
                    FieldInfo(
                        name=m.api_name,
                        ui_name=m.ui_name,
                        category=m.category,
                        type=_enum_name(m.type_),
                        custom=m.custom_definition,
                    )
                    for m in raw.metrics
                ],
            )
        return self._metadata[prop]

    # -- reports ---------------------------------------------------------

    async def run_report(
        self,
        prop: str,
        *,
        dimensions: list[str],
        metrics: list[str],
        date_ranges: list[DateRange],
        dimension_filters: Sequence[DimensionFilter] = (),
        metric_filters: Sequence[MetricFilter] = (),
        order_by: Sequence[Order] = (),
        limit: int = 100,
        offset: int = 0,
        totals: bool = True,
    ) -> Report:
        from google.analytics.data_v1beta import types as t

        if not 1 <= len(date_ranges) <= 2:
            raise InvalidRequest("Give one or two date ranges.")
        for i, r in enumerate(date_ranges):
            check_range(r.start, r.end, self._today(), label=f"date range {i + 1}")
        await self._check_names(
            prop,
            dimensions + [f.field for f in dimension_filters] + [o.field for o in order_by if o.field not in metrics],
            metrics + [f.field for f in metric_filters],
        )
        request = t.RunReportRequest(
            property=f"properties/{prop}",
            dimensions=[t.Dimension(name=d) for d in dimensions],
            metrics=[t.Metric(name=m) for m in metrics],
            date_ranges=[t.DateRange(start_date=r.start, end_date=r.end) for r in date_ranges],
            dimension_filter=all_of([dimension_filter(f) for f in dimension_filters]),
            metric_filter=all_of([metric_filter(f) for f in metric_filters]),
            order_bys=[ordering(o, metrics) for o in order_by],
            limit=limit,
            offset=offset,
            metric_aggregations=[t.MetricAggregation.TOTAL] if totals else [],
            return_property_quota=True,
        )
        response = await self._data_call(prop, lambda timeout: self._data.run_report(request=request, timeout=timeout))
        return self._report(prop, response, offset)

    async def realtime(
        self, prop: str, *, dimensions: list[str], metrics: list[str], limit: int = 50, minutes_ago: int = 29
    ) -> Report:
        from google.analytics.data_v1beta import types as t

        request = t.RunRealtimeReportRequest(
            property=f"properties/{prop}",
            dimensions=[t.Dimension(name=d) for d in dimensions],
            metrics=[t.Metric(name=m) for m in metrics],
            limit=limit,
            return_property_quota=True,
            minute_ranges=[t.MinuteRange(start_minutes_ago=minutes_ago, end_minutes_ago=0)],
            metric_aggregations=[t.MetricAggregation.TOTAL],
        )
        response = await self._data_call(
            prop, lambda timeout: self._data.run_realtime_report(request=request, timeout=timeout)
        )
        return self._report(prop, response, 0)

    async def compare(
        self,
        prop: str,
        *,
        dimensions: list[str],
        metrics: list[str],
        period_a: DateRange,
        period_b: DateRange,
        sort_metric: str | None = None,
        limit: int = 25,
        dimension_filters: Sequence[DimensionFilter] = (),
    ) -> Comparison:
        """The change of each metric per dimension value from period A to B, biggest first."""
        report = await self.run_report(
            prop,
            dimensions=dimensions,
            metrics=metrics,
            date_ranges=[period_a, period_b],
            dimension_filters=dimension_filters,
            limit=100_000,
            totals=False,
        )
        sort_metric = sort_metric or metrics[0]
        if sort_metric not in metrics:
            raise InvalidRequest(f"sort_metric '{sort_metric}' is not one of the metrics {metrics}.")
        periods: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
        for row in report.rows:
            key = tuple(row[d] for d in dimensions)
            which = "a" if row.get("dateRange") == "date_range_0" else "b"
            periods.setdefault(key, {"a": {}, "b": {}})[which] = {m: row[m] for m in metrics}
        changes: list[Change] = []
        for key, both in periods.items():
            a = {m: both["a"].get(m, 0) for m in metrics}
            b = {m: both["b"].get(m, 0) for m in metrics}
            changes.append(
                Change(
                    key=dict(zip(dimensions, key, strict=True)),
                    before=a,
                    after=b,
                    change={m: _round(b[m] - a[m]) for m in metrics},
                    change_pct={m: (round((b[m] - a[m]) / a[m] * 100, 1) if a[m] else None) for m in metrics},
                )
            )
        changes.sort(key=lambda c: abs(c.change[sort_metric]), reverse=True)
        return Comparison(
            property=f"properties/{prop}",
            dimensions=dimensions,
            metrics=metrics,
            period_a=period_a,
            period_b=period_b,
            sorted_by=f"|change of {sort_metric}|",
            changes=changes[:limit],
            total_keys=len(changes),
            totals_a={m: _round(sum(c.before[m] for c in changes)) for m in metrics},
            totals_b={m: _round(sum(c.after[m] for c in changes)) for m in metrics},
        )

    async def quota(self, prop: str) -> Quota:
        """What the API last said is left; asks with a one-row report when nothing is known yet."""
        if prop not in self._quota:
            await self.run_report(
                prop,
                dimensions=[],
                metrics=["sessions"],
                date_ranges=[DateRange(start="yesterday", end="yesterday")],
                limit=1,
                totals=False,
            )
        return self._quota[prop]

    # -- plumbing ----------------------------------------------------------

    async def _check_names(self, prop: str, dimensions: list[str], metrics: list[str]) -> None:
        meta = await self.metadata(prop)
        raise_unknown(
            unknown_names("dimension", [d for d in dimensions if d != "dateRange"], [d.name for d in meta.dimensions]),
            unknown_names("metric", metrics, [m.name for m in meta.metrics]),
        )

    def _report(self, prop: str, answer: RunReportResponse | RunRealtimeReportResponse, offset: int) -> Report:
        response = raw_report(answer)
        dims = [h.name for h in response.dimension_headers]
        mets = [h.name for h in response.metric_headers]
        rows = [
            {
                **{d: v.value for d, v in zip(dims, r.dimension_values, strict=False)},
                **{m: to_number(v.value) for m, v in zip(mets, r.metric_values, strict=False)},
            }
            for r in response.rows
        ]
        totals: dict[str, Any] | None = None
        if response.totals:
            first = response.totals[0]
            totals = {m: to_number(v.value) for m, v in zip(mets, first.metric_values, strict=False)}
        quota = self._remember_quota(prop, response)
        row_count = int(response.row_count or len(rows))
        end = offset + len(rows)
        return Report(
            property=f"properties/{prop}",
            dimensions=dims,
            metrics=mets,
            rows=rows,
            row_count=row_count,
            totals=totals,
            next_offset=end if end < row_count else None,
            quota=quota,
        )

    def _remember_quota(self, prop: str, response: RawReport) -> Quota | None:
        if not response.HasField("property_quota"):
            return self._quota.get(prop)
        q = response.property_quota
        quota = Quota(
            tokens_per_hour_remaining=q.tokens_per_hour.remaining,
            tokens_per_day_remaining=q.tokens_per_day.remaining,
            tokens_per_project_per_hour_remaining=q.tokens_per_project_per_hour.remaining,
            concurrent_requests_remaining=q.concurrent_requests.remaining,
            server_errors_per_project_per_hour_remaining=q.server_errors_per_project_per_hour.remaining,
            tokens_per_hour_consumed=q.tokens_per_hour.consumed,
            tokens_per_day_consumed=q.tokens_per_day.consumed,
            checked_at=time.time(),
        )
        self._quota[prop] = quota
        return quota

    def _refuse_if_spent(self, prop: str) -> None:
        quota = self._quota.get(prop)
        if quota is None or quota.checked_at is None:
            return
        now = time.time()
        if quota.tokens_per_hour_remaining == 0 or quota.tokens_per_project_per_hour_remaining == 0:
            reset = 3600 - (quota.checked_at % 3600)  # quotas refill on the hour
            if now - quota.checked_at < reset:
                raise RateLimited(
                    f"The hourly token quota of GA4 property {prop} is spent.",
                    retry_after=round(reset - (now - quota.checked_at)),
                    vendor=VENDOR,
                )
        if quota.tokens_per_day_remaining == 0 and now - quota.checked_at < 86400:
            raise RateLimited(
                f"The daily token quota of GA4 property {prop} is spent.",
                retry_after=round(86400 - (now - quota.checked_at) % 86400),
                vendor=VENDOR,
            )

    async def _data_call(self, prop: str, fn: Callable[[float], T]) -> T:
        self._refuse_if_spent(prop)
        slots = self._slots.setdefault(prop, asyncio.Semaphore(MAX_CONCURRENT))
        async with slots:  # the API allows 10 concurrent requests per property
            try:
                return await blocking(fn, translate=self._translate)
            except RateLimited:
                self._quota.pop(prop, None)
                raise

    async def _admin_call(self, fn: Callable[[float], T]) -> T:
        return await blocking(
            fn, translate=lambda e: discovery_error(e, vendor="GA4 Admin API", auth_hint=self._auth_hint)
        )

    def _translate(self, exc: Exception) -> AdapterError:
        from google.api_core import exceptions as gexc

        if isinstance(exc, gexc.GoogleAPICallError):
            status = int(exc.code or 500) if isinstance(exc.code, int) else _http_status(exc)
            said = cast("object", exc.message)  # pyright: ignore[reportUnknownMemberType]  # api_core leaves it unannotated
            message = re.sub(r"\s+", " ", str(said or ""))[:300]
            error = by_status(
                status,
                message,
                vendor=VENDOR,
                auth_hint=self._auth_hint,
                retry_after=3600 - time.time() % 3600 if status == 429 else None,
            )
            if status == 403 and "permission" in message.lower():
                error.hint = "Use list_properties to see the properties this Google account can read."
            return error
        if isinstance(exc, AdapterError):
            return exc
        return by_status(502, f"{type(exc).__name__}", vendor=VENDOR, auth_hint=self._auth_hint)


def _http_status(exc: Any) -> int:
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 500) or 500)


def _property_id(value: str) -> str:
    return str(value).strip().removeprefix("properties/")


def _enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


def _round(x: float) -> float | int:
    return to_number(round(x, 4))
