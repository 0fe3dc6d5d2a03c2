"""The report's facts as Markdown: the header, a KPI summary, the changes, events and notes, with
everything from the data made inert."""

import re
from typing import Any

from .charts import group_series
from .model import RunReport
from .values import field_names, field_text, format_value, header_facts, short_day, shorten

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<|])")


def _md(text: Any) -> str:
    """Prose from the data as inert Markdown: one line, punctuation that could format or embed HTML escaped."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    if re.match(r"[#+-](\s|$)|>", text):  # would start a heading, list or quote
        return "\\" + text
    return re.sub(r"^(\d+)([.)])(?=\s|$)", r"\1\\\2", text)


def _md_code(text: Any) -> str:
    """An identifier or value as a code span (literal in every renderer), safe inside a table cell."""
    body = " ".join(str(text).split()).replace("|", "\\|")
    if not body:
        return "—"
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def render_markdown(report: RunReport) -> str:
    """The header facts, a KPI summary, the changes table, events and notes."""
    lines = [f"# Director run {_md(report.run_id)} — {_md(report.client)}", ""]
    lines += [f"- **{k}:** {_md(v)}" for k, v in header_facts(report)]
    lines.append("")

    groups, unplaced = group_series(report)
    lines += ["## KPIs", ""]
    if any(g.has_data for g in groups):
        lines += ["| KPI | Object | Line | First | Last | Points |", "|---|---|---|---|---|---|"]
        for g in groups:
            for line in g.lines:
                if line.points:
                    (d0, v0, _), (d1, v1, _) = line.points[0], line.points[-1]
                    first = f"{format_value(v0, g.unit)} ({short_day(d0)})"
                    last = f"{format_value(v1, g.unit)} ({short_day(d1)})"
                    count = str(len(line.points))
                else:
                    first, last, count = "no data yet", "", "0"
                lines.append(
                    f"| {_md(g.kpi)} | {_md_code(g.object)} | {_md(line.label)} | {_md(first)} | "
                    f"{_md(last)} | {count} |"
                )
    else:
        lines.append("No data yet.")
    lines.append("")

    lines += ["## Changes", ""]
    if report.changes:
        lines += [
            "| Day | Loop | Object | Action | Before → after | Verdict | Evidence |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in report.changes:
            fields = []
            for name in field_names(c.before, c.after):
                old = shorten(field_text(c.before.get(name))) if name in c.before else "—"
                new = shorten(field_text(c.after.get(name))) if name in c.after else "—"
                fields.append(f"{_md(name)}: {_md_code(old)} → {_md_code(new)}")
            lines.append(
                f"| {_md(c.day)} | {_md_code(c.loop)} | {_md_code(c.object)} | {_md_code(c.action)} | "
                f"{'<br>'.join(fields) or '—'} | **{_md(c.verdict)}** | {_md(c.evidence)} |"
            )
    else:
        lines.append("No changes were made.")
    lines.append("")

    events = sorted([m for g in groups for m in g.markers] + unplaced, key=lambda m: str(m.day))
    unique = list({id(m): m for m in events}.values())  # a kpi-less marker sits on several charts
    if unique:
        lines += ["## Events", ""]
        lines += [
            f"- {_md(m.day)} · **{_md(m.kind)}** · {_md_code(m.object)}"
            + (f" ({_md(m.kpi)})" if m.kpi else "")
            + f": {_md(m.label)}"
            for m in unique
        ]
        lines.append("")

    lines += ["## Notes", ""]
    lines += [f"- {_md(n)}" for n in report.notes] or ["No notes."]
    return "\n".join(lines) + "\n"
