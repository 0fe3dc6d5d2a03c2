"""Planners: who writes the content and plans the steps. Claude when a key is set, else offline heuristics.

Both do the same jobs, so a loop never knows which one it has:
- `snippet`: a better SEO title and meta description for a page and the queries it ranks for;
- `subject_lines`: subject-line variants for an email that under-performs;
- `fix`: CMS field changes that fix what a page audit found;
- `plan`: a typed plan of tool steps for a free-form goal, from the tool catalog.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from .plan import Catalog, Plan


@dataclass
class Usage:
    """Tokens and cost of a planner's calls, recorded per run."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, other: "Usage") -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd
        self.calls += other.calls


@dataclass
class PageContext:
    url: str
    title: str  # the post's title
    seo_title: str | None
    meta_description: str | None
    queries: list[str] = field(default_factory=list)  # top queries, most impressions first
    body_excerpt: str = ""


@dataclass
class Snippet:
    seo_title: str
    meta_description: str


@dataclass
class Finding:
    check: str
    severity: str
    message: str
    fix: str = ""


class PlannerError(RuntimeError):
    """The planner could not do the job (API error, refusal, unusable answer); the message says why."""


class Planner(Protocol):
    name: str
    usage: Usage

    async def snippet(self, page: PageContext) -> Snippet: ...

    async def subject_lines(self, subject: str, *, audience: str, count: int) -> list[str]: ...

    async def fix(self, page: PageContext, findings: list[Finding]) -> dict[str, Any]:
        """CMS fields to set (any of seo_title, meta_description, title, excerpt) for what can be fixed."""
        ...

    async def plan(self, goal: str, catalog: Catalog, call_read_tool: Any) -> Plan:
        """A plan for `goal`. `call_read_tool(qualified, args) -> dict` runs read-only tools while planning."""
        ...
