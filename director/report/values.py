"""How a report writes values, days and fields, for the HTML page and the Markdown summary alike."""

import html
import json
from datetime import date
from typing import Any

from .model import ChangeRow, RunReport

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SHORTEN_AT = 80  # characters of a before/after value shown in the changes table


def escape(value: Any) -> str:
    """Escape anything from the data for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def parse_day(day: str) -> date | None:
    """An ISO date (or the date part of an ISO datetime); None when it is not one."""
    try:
        return date.fromisoformat(str(day).strip()[:10])
    except ValueError:
        return None


def short_day(d: date) -> str:
    return f"{_MONTHS[d.month - 1]} {d.day}"


def day_label(day: str) -> str:
    d = parse_day(day)
    return short_day(d) if d else str(day)


def format_value(value: float, unit: str = "") -> str:
    """3.1% for a fraction of 0.031 with unit "%", 12,345 for a count, 1.5 s for other units."""
    if unit == "%":
        pct = value * 100
        return f"{pct:.1f}%" if abs(pct) >= 1 or pct == 0 else f"{pct:.2f}%"
    if value == int(value) or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text


def shorten(text: str, limit: int = SHORTEN_AT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def field_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def field_names(before: dict, after: dict) -> list[str]:
    names = list(before)
    names += [k for k in after if k not in before]
    return names


def _money(cost: float) -> str:
    return f"${cost:.4f}" if 0 < cost < 0.01 else f"${cost:,.2f}"


def _verdict_counts(changes: list[ChangeRow]) -> str:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    if not counts:
        return "no changes"
    total = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    return total + ": " + ", ".join(f"{n} {v}" for v, n in counts.items())


def header_facts(report: RunReport) -> list[tuple[str, str]]:
    """The run's facts, (label, value), at the top of the page and of the summary."""
    return [
        ("Client", report.client),
        ("Run", report.run_id),
        ("Loops", ", ".join(report.loops) or "—"),
        ("Simulated days", report.simulated_days),
        ("Started", report.started),
        ("Finished", report.finished or "not finished"),
        ("Planner", report.planner),
        ("Tokens", f"{report.input_tokens:,} in / {report.output_tokens:,} out"),
        ("Cost", _money(report.cost_usd)),
        ("Tool calls", f"{report.tool_calls:,}"),
        ("Changes", _verdict_counts(report.changes)),
    ]
