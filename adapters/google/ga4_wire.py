"""How GA4's requests and answers look to the Data API client: filters and orderings as its types,
the client calls made, and the raw protobuf fields a report is read from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, cast

from adapters.errors import InvalidRequest

from .ga4_models import DimensionFilter, MetricFilter, Order

if TYPE_CHECKING:
    from google.analytics.data_v1beta.types import (
        FilterExpression,
        OrderBy,
        RunRealtimeReportRequest,
        RunRealtimeReportResponse,
        RunReportRequest,
        RunReportResponse,
    )
    from google.analytics.data_v1beta.types import Metadata as MetadataAnswer


class DataClient(Protocol):
    """The calls made on google-analytics-data's BetaAnalyticsDataClient, typed (its `retry` parameter is not)."""

    def get_metadata(self, *, name: str, timeout: float) -> MetadataAnswer: ...

    def run_report(self, *, request: RunReportRequest, timeout: float) -> RunReportResponse: ...

    def run_realtime_report(
        self, *, request: RunRealtimeReportRequest, timeout: float
    ) -> RunRealtimeReportResponse: ...


def all_of(expressions: list[FilterExpression]) -> FilterExpression | None:
    """The filters joined with AND; None when there are none."""
    from google.analytics.data_v1beta import types as t

    if not expressions:
        return None
    if len(expressions) == 1:
        return expressions[0]
    return t.FilterExpression(and_group=t.FilterExpressionList(expressions=expressions))


_MATCH = {
    "exact": "EXACT",
    "begins_with": "BEGINS_WITH",
    "ends_with": "ENDS_WITH",
    "contains": "CONTAINS",
    "regex": "FULL_REGEXP",
}
_OPS = {
    "eq": "EQUAL",
    "lt": "LESS_THAN",
    "lte": "LESS_THAN_OR_EQUAL",
    "gt": "GREATER_THAN",
    "gte": "GREATER_THAN_OR_EQUAL",
}


def dimension_filter(f: DimensionFilter) -> FilterExpression:
    from google.analytics.data_v1beta import types as t

    if f.match == "in_list":
        if not f.values:
            raise InvalidRequest(f"The in_list filter on {f.field} needs `values`.")
        flt = t.Filter(
            field_name=f.field, in_list_filter=t.Filter.InListFilter(values=f.values, case_sensitive=f.case_sensitive)
        )
    else:
        flt = t.Filter(
            field_name=f.field,
            string_filter=t.Filter.StringFilter(
                match_type=t.Filter.StringFilter.MatchType[_MATCH[f.match]],
                value=f.value,
                case_sensitive=f.case_sensitive,
            ),
        )
    expression = t.FilterExpression(filter=flt)
    return t.FilterExpression(not_expression=expression) if f.exclude else expression


def metric_filter(f: MetricFilter) -> FilterExpression:
    from google.analytics.data_v1beta import types as t

    value = t.NumericValue(double_value=f.value)
    if f.op == "between":
        if f.to is None:
            raise InvalidRequest(f"The between filter on {f.field} needs `to`.")
        flt = t.Filter(
            field_name=f.field,
            between_filter=t.Filter.BetweenFilter(from_value=value, to_value=t.NumericValue(double_value=f.to)),
        )
    else:
        flt = t.Filter(
            field_name=f.field,
            numeric_filter=t.Filter.NumericFilter(operation=t.Filter.NumericFilter.Operation[_OPS[f.op]], value=value),
        )
    return t.FilterExpression(filter=flt)


def ordering(o: Order, metrics: list[str]) -> OrderBy:
    from google.analytics.data_v1beta import types as t

    if o.field in metrics:
        return t.OrderBy(metric=t.OrderBy.MetricOrderBy(metric_name=o.field), desc=o.desc)
    return t.OrderBy(dimension=t.OrderBy.DimensionOrderBy(dimension_name=o.field), desc=o.desc)


# The raw protobuf answers GA4 reads its reports from. google-analytics-data types its proto-plus
# wrappers, not the protobuf messages under them, so these say which fields of a (realtime) report
# response are read.


class _Header(Protocol):
    @property
    def name(self) -> str: ...


class _Value(Protocol):
    @property
    def value(self) -> str: ...


class _Row(Protocol):
    @property
    def dimension_values(self) -> Sequence[_Value]: ...
    @property
    def metric_values(self) -> Sequence[_Value]: ...


class _QuotaStatus(Protocol):
    @property
    def consumed(self) -> int: ...
    @property
    def remaining(self) -> int: ...


class _PropertyQuota(Protocol):
    @property
    def tokens_per_hour(self) -> _QuotaStatus: ...
    @property
    def tokens_per_day(self) -> _QuotaStatus: ...
    @property
    def tokens_per_project_per_hour(self) -> _QuotaStatus: ...
    @property
    def concurrent_requests(self) -> _QuotaStatus: ...
    @property
    def server_errors_per_project_per_hour(self) -> _QuotaStatus: ...


class RawReport(Protocol):
    @property
    def dimension_headers(self) -> Sequence[_Header]: ...
    @property
    def metric_headers(self) -> Sequence[_Header]: ...
    @property
    def rows(self) -> Sequence[_Row]: ...
    @property
    def totals(self) -> Sequence[_Row]: ...
    @property
    def row_count(self) -> int: ...
    @property
    def property_quota(self) -> _PropertyQuota: ...
    def HasField(self, field_name: str) -> bool: ...


def raw_report(answer: RunReportResponse | RunRealtimeReportResponse) -> RawReport:
    """The protobuf under a proto-plus answer: reading it directly saves ~0.5 ms a report."""
    return cast("RawReport", type(answer).pb(answer))  # pyright: ignore[reportUnknownMemberType]  # proto-plus leaves pb() unannotated
