"""What a run report shows: KPI series, markers on the charts, the changes table and the run's facts."""

from dataclasses import dataclass


@dataclass
class Point:
    day: str  # ISO date, "2026-11-09"
    value: float


@dataclass
class Series:
    kpi: str  # "CTR", "Sessions", "Click rate", ...
    object: str  # what it measures: a page URL, a campaign, "site"
    points: list[Point]
    unit: str = ""  # "%" means the values are fractions (0.031) shown as percents (3.1%)
    role: str = "treated"  # "treated" | "control" | "baseline"


@dataclass
class Marker:
    day: str
    kind: str  # "change" | "rollback" | "decision" | "incident"
    label: str
    object: str  # matches Series.object
    kpi: str | None = None  # None: shown on every chart of that object


@dataclass
class ChangeRow:
    day: str
    loop: str  # "search_ctr" | "traffic_drop" | "email_engagement"
    object: str
    action: str  # "wordpress.update_post"
    before: dict  # field -> old value
    after: dict  # field -> new value
    verdict: str  # "keep" | "rollback" | "inconclusive" | "pending" | "denied"
    evidence: str  # one sentence with the numbers


@dataclass
class RunReport:
    run_id: str
    client: str
    loops: list[str]
    started: str  # ISO datetime
    finished: str | None
    simulated_days: str  # "2026-11-02 to 2026-11-30"
    planner: str  # "offline" | "claude (claude-...)"
    input_tokens: int
    output_tokens: int
    cost_usd: float
    tool_calls: int
    series: list[Series]
    markers: list[Marker]
    changes: list[ChangeRow]
    notes: list[str]  # loop-level findings
