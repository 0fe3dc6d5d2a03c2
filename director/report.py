"""Run reports: what a Director run measured, what it changed and what it decided, as HTML and Markdown.

The Director fills a `RunReport` from its store; `render_html` draws one self-contained page (inline
CSS and SVG charts, no scripts, nothing fetched) and `render_markdown` the same facts as text.
Titles, subjects and URLs come from vendors, so every string from the data is escaped; the page also
carries a Content-Security-Policy that forbids scripts, in case one ever slips through.
"""

import html
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


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


# --- formatting -------------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ROLE_STYLE = {  # colour, SVG dash pattern, CSS border style for the legend
    "treated": ("#2563eb", "", "solid"),
    "control": ("#64748b", "6 4", "dashed"),
    "baseline": ("#a3a3a3", "2 4", "dotted"),
}
_EXTRA_COLOURS = ("#0d9488", "#9333ea", "#ca8a04", "#db2777")

MARKER_COLOURS = {
    "change": "#7c3aed",
    "rollback": "#dc2626",
    "decision": "#059669",
    "incident": "#d97706",
}
_OTHER_MARKER_COLOUR = "#6b7280"

_VERDICT_CLASS = {
    "keep": "keep",
    "rollback": "rollback",
    "inconclusive": "inconclusive",
    "pending": "pending",
    "denied": "denied",
}

SHORTEN_AT = 80  # characters of a before/after value shown in the changes table


def _e(value: Any) -> str:
    """Escape anything from the data for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _parse_day(day: str) -> date | None:
    """An ISO date (or the date part of an ISO datetime); None when it is not one."""
    try:
        return date.fromisoformat(str(day).strip()[:10])
    except ValueError:
        return None


def _short_day(d: date) -> str:
    return f"{_MONTHS[d.month - 1]} {d.day}"


def _day_label(day: str) -> str:
    d = _parse_day(day)
    return _short_day(d) if d else str(day)


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


def _decimals(step: float) -> int:
    """How many decimals show a tick step (and so its multiples) exactly."""
    for d in range(10):
        if abs(round(step, d) - step) <= 1e-9 * max(1.0, abs(step)):
            return d
    return 10


def _tick_label(value: float, step: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.{_decimals(step * 100)}f}%"
    text = f"{value:,.{_decimals(step)}f}"
    return f"{text} {unit}" if unit else text


def _nice_ticks(lo: float, hi: float, unit: str = "") -> tuple[list[float], float]:
    """Three to five evenly spaced round ticks covering lo..hi, and their step."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:  # all values equal: a band around them (from zero up when they are all zero)
        if lo == 0:
            hi = 0.01 if unit == "%" else 1.0
        else:
            pad = abs(lo) * 0.1
            lo, hi = lo - pad, hi + pad
    span = hi - lo
    exponent = math.floor(math.log10(span / 4))
    for e in range(exponent - 1, exponent + 3):
        for mult in (1, 2, 2.5, 5):
            step = mult * 10.0**e
            first = math.floor(lo / step + 1e-9) * step
            last = math.ceil(hi / step - 1e-9) * step
            count = int(round((last - first) / step)) + 1
            if 3 <= count <= 5:
                return [round(first + i * step, 12) for i in range(count)], step
    step = span / 3  # unreachable with finite inputs, kept as a safe fallback
    return [lo + i * step for i in range(4)], step


def _shorten(text: str, limit: int = SHORTEN_AT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _field_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _field_names(before: dict, after: dict) -> list[str]:
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


# --- grouping --------------------------------------------------------------------------------------------


@dataclass
class _Line:
    series: Series
    points: list[tuple[date, float, str]]  # parsed, finite, sorted by day
    label: str


@dataclass
class _Group:
    kpi: str
    object: str
    lines: list[_Line]
    markers: list[Marker]

    @property
    def unit(self) -> str:
        for line in self.lines:
            if line.points:
                return line.series.unit
        return self.lines[0].series.unit if self.lines else ""

    @property
    def has_data(self) -> bool:
        return any(line.points for line in self.lines)


def _clean_points(points: list[Point]) -> list[tuple[date, float, str]]:
    out = []
    for p in points:
        d = _parse_day(p.day)
        try:
            v = float(p.value)
        except (TypeError, ValueError):
            continue
        if d is not None and math.isfinite(v):
            out.append((d, v, p.day))
    out.sort(key=lambda t: t[0])
    return out


def _groups(report: RunReport) -> tuple[list[_Group], list[Marker]]:
    """Series grouped by (kpi, object) in order of appearance, each group with its markers; and the markers
    that belong to no group."""
    groups: dict[tuple[str, str], _Group] = {}
    for s in report.series:
        key = (s.kpi, s.object)
        group = groups.setdefault(key, _Group(s.kpi, s.object, [], []))
        group.lines.append(_Line(s, _clean_points(s.points), s.role))
    for group in groups.values():  # two lines with the same role get numbered labels
        seen: dict[str, int] = {}
        for line in group.lines:
            seen[line.label] = seen.get(line.label, 0) + 1
            if seen[line.label] > 1:
                line.label = f"{line.label} {seen[line.label]}"
    unplaced = []
    for m in report.markers:
        placed = False
        for group in groups.values():
            if m.object == group.object and (m.kpi is None or m.kpi == group.kpi):
                group.markers.append(m)
                placed = True
        if not placed:
            unplaced.append(m)
    for group in groups.values():
        group.markers.sort(key=lambda m: str(m.day))
    unplaced.sort(key=lambda m: str(m.day))
    return list(groups.values()), unplaced


# --- SVG charts ------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 26, 30


def _line_style(index: int, role: str) -> tuple[str, str, str]:
    if role in ROLE_STYLE:
        return ROLE_STYLE[role]
    return _EXTRA_COLOURS[index % len(_EXTRA_COLOURS)], "4 2", "dashed"


def _marker_colour(kind: str) -> str:
    return MARKER_COLOURS.get(kind, _OTHER_MARKER_COLOUR)


def _chart_domain(group: _Group) -> tuple[date, date, list[tuple[int, Marker, date | None]]]:
    """The days the chart spans, and each marker numbered with its day when it is drawn (None when not).

    Markers just outside the data's days widen the chart; markers far outside (more than the data's span,
    at least a week) would squash it, so they are only listed.
    """
    days = [d for line in group.lines for d, _, _ in line.points]
    first, last = min(days), max(days)
    reach = max(7, (last - first).days)
    placed = []
    for i, m in enumerate(group.markers, start=1):
        d = _parse_day(m.day)
        if d is not None and (first - d).days <= reach and (d - last).days <= reach:
            placed.append((i, m, d))
        else:
            placed.append((i, m, None))
    drawn = [d for _, _, d in placed if d is not None]
    return min([first] + drawn), max([last] + drawn), placed


def _svg_chart(group: _Group) -> tuple[str, list[tuple[int, Marker, date | None]]]:
    unit = group.unit
    start, end, numbered = _chart_domain(group)
    lo_day, hi_day = start, end
    if lo_day == hi_day:  # one day: centre it
        lo_day, hi_day = date.fromordinal(lo_day.toordinal() - 1), date.fromordinal(hi_day.toordinal() + 1)
    values = [v for line in group.lines for _, v, _ in line.points]
    ticks, step = _nice_ticks(min(values), max(values), unit)
    y_lo, y_hi = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span_days = (hi_day - lo_day).days

    def x(d: date) -> float:
        return LEFT + (d - lo_day).days / span_days * plot_w

    def y(v: float) -> float:
        return TOP + (y_hi - v) / (y_hi - y_lo) * plot_h

    title = f"{group.kpi} — {group.object}"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    # y grid and labels
    for t in ticks:
        ty = y(t)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" />')
        out.append(
            f'<text class="ylabel" x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{_e(_tick_label(t, step, unit))}</text>"
        )
    # x axis and a few date labels
    base = TOP + plot_h
    out.append(f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" />')
    if start == end:
        label_days = [start]
    else:
        every = max(1, math.ceil(span_days / 5))
        label_days = [date.fromordinal(lo_day.toordinal() + k) for k in range(0, span_days + 1, every)]
        if (hi_day - label_days[-1]).days >= every * 0.6:
            label_days.append(hi_day)
    for d in label_days:
        anchor = "start" if d == lo_day and start != end else "end" if d == hi_day and start != end else "middle"
        out.append(f'<line class="axis" x1="{x(d):.1f}" y1="{base}" x2="{x(d):.1f}" y2="{base + 4}" />')
        out.append(
            f'<text class="xlabel" x="{x(d):.1f}" y="{base + 18}" text-anchor="{anchor}">{_e(_short_day(d))}</text>'
        )
    # markers: a vertical line with a numbered badge; same-day badges stack downwards
    per_day: dict[date, int] = {}
    for number, m, d in numbered:
        if d is None:
            continue
        colour = _marker_colour(m.kind)
        mx = x(d)
        stack = per_day.get(d, 0)
        per_day[d] = stack + 1
        tip = _e(f"{_day_label(m.day)} · {m.kind}: {m.label}")
        out.append(
            f'<g class="marker"><title>{tip}</title>'
            f'<line x1="{mx:.1f}" y1="{TOP}" x2="{mx:.1f}" y2="{base}" stroke="{colour}" '
            f'stroke-width="1.5" stroke-dasharray="3 3" />'
            f'<circle cx="{mx:.1f}" cy="{TOP - 12 + stack * 16}" r="7" fill="{colour}" />'
            f'<text class="badge" x="{mx:.1f}" y="{TOP - 8.5 + stack * 16}" '
            f'text-anchor="middle">{number}</text></g>'
        )
    # data lines, baseline first so the treated line is drawn on top
    order = {"baseline": 0, "control": 1, "treated": 2}
    lines = sorted(enumerate(group.lines), key=lambda il: order.get(il[1].series.role, 1))
    for index, line in lines:
        if not line.points:
            continue
        colour, dash, _ = _line_style(index, line.series.role)
        coords = [(x(d), y(v)) for d, v, _ in line.points]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} '
                f'stroke-linejoin="round" points="{path}" />'
            )
        radius = 4 if len(coords) == 1 else 2.5
        for (px, py), (_, v, raw_day) in zip(coords, line.points):
            tip = _e(f"{_day_label(raw_day)} · {line.label}: {format_value(v, unit)}")
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius}" fill="{colour}"><title>{tip}</title></circle>'
            )
    out.append("</svg>")
    return "".join(out), numbered


def _legend(group: _Group) -> str:
    items = []
    for index, line in enumerate(group.lines):
        colour, _, style = _line_style(index, line.series.role)
        text = _e(line.label) + ("" if line.points else " (no data yet)")
        if line.points:
            first, last = line.points[0][1], line.points[-1][1]
            if len(line.points) > 1:
                text += (
                    f' <span class="muted">{_e(format_value(first, group.unit))} → '
                    f"{_e(format_value(last, group.unit))}</span>"
                )
            else:
                text += f' <span class="muted">{_e(format_value(last, group.unit))}</span>'
        items.append(f'<li><span class="swatch" style="border-top: 3px {style} {colour}"></span>{text}</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def _marker_list(numbered: list[tuple[int, Marker, date | None]], numbers: bool = True) -> str:
    if not numbered:
        return ""
    items = []
    for number, m, d in numbered:
        colour = _marker_colour(m.kind)
        badge = (
            f'<span class="num" style="background: {colour}">{number}</span>'
            if numbers
            else f'<span class="dot" style="background: {colour}"></span>'
        )
        where = "" if d is not None or not numbers else ' <span class="muted">(outside the charted days)</span>'
        day = _day_label(m.day) if d is not None else m.day  # off the chart: say the year too
        items.append(
            f'<li>{badge}<span class="day">{_e(day)}</span> '
            f'<span class="kind" style="color: {colour}">{_e(m.kind)}</span> '
            f"{_e(m.label)}{where}</li>"
        )
    return f'<ul class="markers">{"".join(items)}</ul>'


# --- HTML ------------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2937;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 36px 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; overflow-wrap: anywhere; }
h3 .object { font-weight: 400; color: #4b5563; }
.muted { color: #6b7280; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 8px 20px;
  margin: 16px 0 0; padding: 16px; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; }
.facts div { min-width: 0; }
.facts dt { font-size: 12px; color: #6b7280; text-transform: uppercase; letter-spacing: .04em; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 0 0 16px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: #eef0f3; }
svg .axis { stroke: #9ca3af; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #6b7280; }
svg text.badge { fill: #fff; font-size: 10px; font-weight: 600; }
ul.legend, ul.markers { list-style: none; margin: 8px 0 0; padding: 0; font-size: 13px; }
ul.legend li { display: inline-block; margin-right: 18px; }
.swatch { display: inline-block; width: 22px; height: 0; vertical-align: middle; margin-right: 6px; }
ul.markers li { margin: 4px 0; overflow-wrap: anywhere; }
.num, .dot { display: inline-block; min-width: 18px; height: 18px; border-radius: 9px; color: #fff;
  font-size: 11px; font-weight: 600; text-align: center; line-height: 18px; margin-right: 6px; }
.dot { min-width: 10px; width: 10px; height: 10px; margin: 0 8px 1px 4px; }
.day { color: #374151; font-variant-numeric: tabular-nums; margin-right: 4px; }
.kind { font-weight: 600; margin-right: 4px; }
.nodata { color: #6b7280; font-style: italic; margin: 0; }
table { width: 100%; border-collapse: collapse; background: #fff; font-size: 13px;
  border: 1px solid #e5e7eb; border-radius: 8px; }
th, td { text-align: left; vertical-align: top; padding: 8px 10px; border-bottom: 1px solid #eef0f3; }
th { font-size: 12px; color: #6b7280; font-weight: 600; background: #fafafa; }
td { overflow-wrap: anywhere; }
td.day, td code { white-space: nowrap; }
.scroll { overflow-x: auto; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.field { margin: 0 0 4px; }
.field .name { font-weight: 600; }
.field .old { color: #9f1239; }
.field .new { color: #166534; }
.verdict { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  background: #e5e7eb; color: #374151; white-space: nowrap; }
.verdict.keep { background: #dcfce7; color: #166534; }
.verdict.rollback { background: #fee2e2; color: #991b1b; }
.verdict.inconclusive { background: #f3f4f6; color: #4b5563; }
.verdict.pending { background: #fef3c7; color: #92400e; }
.verdict.denied { background: #ede9fe; color: #5b21b6; }
ul.notes { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; margin: 0;
  padding: 12px 12px 12px 32px; }
ul.notes li { margin: 4px 0; overflow-wrap: anywhere; }
"""

# No scripts, no network: styles inline, images only as data: URIs.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _facts(report: RunReport) -> list[tuple[str, str]]:
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


def _changes_table(changes: list[ChangeRow]) -> str:
    if not changes:
        return '<p class="nodata">No changes were made.</p>'
    rows = []
    for c in changes:
        fields = []
        for name in _field_names(c.before, c.after):
            old = _field_text(c.before.get(name)) if name in c.before else "—"
            new = _field_text(c.after.get(name)) if name in c.after else "—"
            fields.append(
                f'<div class="field"><span class="name">{_e(name)}</span>: '
                f'<span class="old" title="{_e(old)}">{_e(_shorten(old))}</span> → '
                f'<span class="new" title="{_e(new)}">{_e(_shorten(new))}</span></div>'
            )
        verdict_class = _VERDICT_CLASS.get(c.verdict, "other")
        rows.append(
            "<tr>"
            f'<td class="day">{_e(c.day)}</td>'
            f"<td><code>{_e(c.loop)}</code></td>"
            f"<td>{_e(c.object)}</td>"
            f"<td><code>{_e(c.action)}</code></td>"
            f"<td>{''.join(fields) or '—'}</td>"
            f'<td><span class="verdict {verdict_class}">{_e(c.verdict)}</span></td>'
            f"<td>{_e(c.evidence)}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>" for h in ("Day", "Loop", "Object", "Action", "Before → after", "Verdict", "Evidence")
    )
    return (
        f'<div class="scroll"><table class="changes"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_html(report: RunReport) -> str:
    """One self-contained HTML page: header facts, a chart per (KPI, object), the changes, the notes."""
    title = f"Director run {report.run_id} — {report.client}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body><main>",
        f"<header><h1>{_e(report.client)}</h1>",
        f'<div class="muted">Director run <code>{_e(report.run_id)}</code> · {_e(report.simulated_days)}</div>',
        '<dl class="facts">',
    ]
    parts += [f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in _facts(report)]
    parts.append("</dl></header>")

    groups, unplaced = _groups(report)
    parts.append("<section><h2>KPIs</h2>")
    if not groups:
        parts.append('<p class="nodata">No data yet.</p>')
    for group in groups:
        parts.append('<div class="card">')
        parts.append(f'<h3>{_e(group.kpi)} <span class="object">· {_e(group.object)}</span></h3>')
        if group.has_data:
            svg, numbered = _svg_chart(group)
            parts.append(svg)
            parts.append(_legend(group))
            parts.append(_marker_list(numbered))
        else:
            parts.append('<p class="nodata">No data yet.</p>')
            parts.append(_marker_list([(i, m, None) for i, m in enumerate(group.markers, 1)], numbers=False))
        parts.append("</div>")
    if unplaced:
        parts.append('<div class="card"><h3>Other events</h3>')
        parts.append(_marker_list([(i, m, None) for i, m in enumerate(unplaced, 1)], numbers=False))
        parts.append("</div>")
    parts.append("</section>")

    parts.append("<section><h2>Changes</h2>")
    parts.append(_changes_table(report.changes))
    parts.append("</section>")

    parts.append("<section><h2>Notes</h2>")
    if report.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>")
    else:
        parts.append('<p class="nodata">No notes.</p>')
    parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


# --- Markdown --------------------------------------------------------------------------------------------

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
    lines += [f"- **{k}:** {_md(v)}" for k, v in _facts(report)]
    lines.append("")

    groups, unplaced = _groups(report)
    lines += ["## KPIs", ""]
    if any(g.has_data for g in groups):
        lines += ["| KPI | Object | Line | First | Last | Points |", "|---|---|---|---|---|---|"]
        for g in groups:
            for line in g.lines:
                if line.points:
                    (d0, v0, _), (d1, v1, _) = line.points[0], line.points[-1]
                    first = f"{format_value(v0, g.unit)} ({_short_day(d0)})"
                    last = f"{format_value(v1, g.unit)} ({_short_day(d1)})"
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
            for name in _field_names(c.before, c.after):
                old = _shorten(_field_text(c.before.get(name))) if name in c.before else "—"
                new = _shorten(_field_text(c.after.get(name))) if name in c.after else "—"
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


# --- files -----------------------------------------------------------------------------------------------


def _file_stem(run_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", str(run_id)).strip(".-")
    return f"run-{safe or 'unnamed'}"


def write_report(report: RunReport, directory: Path) -> tuple[Path, Path]:
    """Write run-<id>.html and run-<id>.md into directory (created if needed); return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = _file_stem(report.run_id)
    html_path, md_path = directory / f"{stem}.html", directory / f"{stem}.md"
    html_path.write_text(render_html(report), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return html_path, md_path
