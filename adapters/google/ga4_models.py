"""What the GA4 tools send and get back: filters, date ranges, and the reports built from the Data API's answers."""

from typing import Any, Literal

from pydantic import BaseModel, Field

StringMatch = Literal["exact", "begins_with", "ends_with", "contains", "regex", "in_list"]
NumericOp = Literal["eq", "lt", "lte", "gt", "gte", "between"]


class DimensionFilter(BaseModel):
    field: str = Field(description="Dimension name, e.g. landingPage.")
    match: StringMatch = "exact"
    value: str = Field("", description="The string to match (for in_list, use `values`).")
    values: list[str] = Field(default_factory=list, description="For in_list.")
    case_sensitive: bool = False
    exclude: bool = Field(default=False, description="Keep the rows that do NOT match.")


class MetricFilter(BaseModel):
    field: str = Field(description="Metric name, e.g. sessions.")
    op: NumericOp
    value: float
    to: float | None = Field(None, description="Upper bound, for between.")


class DateRange(BaseModel):
    start: str = Field(description="YYYY-MM-DD, 'today', 'yesterday' or 'NdaysAgo'.")
    end: str = Field("yesterday", description="As start; default yesterday (today's data is incomplete).")


class Order(BaseModel):
    field: str
    desc: bool = True


class PropertySummary(BaseModel):
    property: str
    name: str
    account: str
    account_name: str


class FieldInfo(BaseModel):
    name: str
    ui_name: str
    category: str = ""
    type: str = ""
    custom: bool = False


class Metadata(BaseModel):
    property: str
    dimensions: list[FieldInfo]
    metrics: list[FieldInfo]


class Quota(BaseModel):
    tokens_per_hour_remaining: int | None = None
    tokens_per_day_remaining: int | None = None
    tokens_per_project_per_hour_remaining: int | None = None
    concurrent_requests_remaining: int | None = None
    server_errors_per_project_per_hour_remaining: int | None = None
    tokens_per_hour_consumed: int | None = None
    tokens_per_day_consumed: int | None = None
    checked_at: float | None = Field(None, description="Unix time of the report that told us.")


class Report(BaseModel):
    property: str
    dimensions: list[str]
    metrics: list[str]
    rows: list[dict[str, Any]]
    row_count: int = Field(description="Rows the report has in all, before limit and offset.")
    totals: dict[str, Any] | None = None
    next_offset: int | None = Field(None, description="Pass as offset to get the next rows.")
    quota: Quota | None = None


class Change(BaseModel):
    key: dict[str, str]
    before: dict[str, float | int]
    after: dict[str, float | int]
    change: dict[str, float | int]
    change_pct: dict[str, float | None]


class Comparison(BaseModel):
    property: str
    dimensions: list[str]
    metrics: list[str]
    period_a: DateRange
    period_b: DateRange
    sorted_by: str
    changes: list[Change]
    total_keys: int
    totals_a: dict[str, float | int]
    totals_b: dict[str, float | int]
