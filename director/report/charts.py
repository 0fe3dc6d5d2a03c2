"""A report's KPI charts: series grouped by (KPI, object) with their markers, drawn as inline SVG
with a legend and a numbered list of the markers."""

import math
from dataclasses import dataclass
from datetime import date

from .model import Marker, Point, RunReport, Series
from .values import day_label, escape, format_value, parse_day, short_day

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


# --- grouping ------------------------------------------------------------------------------------------


@dataclass
class ChartLine:
    series: Series
    points: list[tuple[date, float, str]]  # parsed, finite, sorted by day
    label: str


@dataclass
class ChartGroup:
    kpi: str
    object: str
    lines: list[ChartLine]
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
        d = parse_day(p.day)
        try:
            v = float(p.value)
        except (TypeError, ValueError):
            continue
        if d is not None and math.isfinite(v):
            out.append((d, v, p.day))
    out.sort(key=lambda t: t[0])
    return out


def group_series(report: RunReport) -> tuple[list[ChartGroup], list[Marker]]:
    """Series grouped by (kpi, object) in order of appearance, each group with its markers; and the markers
    that belong to no group."""
    groups: dict[tuple[str, str], ChartGroup] = {}
    for s in report.series:
        key = (s.kpi, s.object)
        group = groups.setdefault(key, ChartGroup(s.kpi, s.object, [], []))
        group.lines.append(ChartLine(s, _clean_points(s.points), s.role))
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


# --- SVG ------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 26, 30


def _line_style(index: int, role: str) -> tuple[str, str, str]:
    if role in ROLE_STYLE:
        return ROLE_STYLE[role]
    return _EXTRA_COLOURS[index % len(_EXTRA_COLOURS)], "4 2", "dashed"


def _marker_colour(kind: str) -> str:
    return MARKER_COLOURS.get(kind, _OTHER_MARKER_COLOUR)


def _chart_domain(group: ChartGroup) -> tuple[date, date, list[tuple[int, Marker, date | None]]]:
    """The days the chart spans, and each marker numbered with its day when it is drawn (None when not).

    Markers just outside the data's days widen the chart; markers far outside (more than the data's span,
    at least a week) would squash it, so they are only listed.
    """
    days = [d for line in group.lines for d, _, _ in line.points]
    first, last = min(days), max(days)
    reach = max(7, (last - first).days)
    placed = []
    for i, m in enumerate(group.markers, start=1):
        d = parse_day(m.day)
        if d is not None and (first - d).days <= reach and (d - last).days <= reach:
            placed.append((i, m, d))
        else:
            placed.append((i, m, None))
    drawn = [d for _, _, d in placed if d is not None]
    return min([first] + drawn), max([last] + drawn), placed


def svg_chart(group: ChartGroup) -> tuple[str, list[tuple[int, Marker, date | None]]]:
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
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    # y grid and labels
    for t in ticks:
        ty = y(t)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" />')
        out.append(
            f'<text class="ylabel" x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(_tick_label(t, step, unit))}</text>"
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
            f'<text class="xlabel" x="{x(d):.1f}" y="{base + 18}" text-anchor="{anchor}">{escape(short_day(d))}</text>'
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
        tip = escape(f"{day_label(m.day)} · {m.kind}: {m.label}")
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
        for (px, py), (_, v, raw_day) in zip(coords, line.points, strict=True):
            tip = escape(f"{day_label(raw_day)} · {line.label}: {format_value(v, unit)}")
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius}" fill="{colour}"><title>{tip}</title></circle>'
            )
    out.append("</svg>")
    return "".join(out), numbered


def legend(group: ChartGroup) -> str:
    items = []
    for index, line in enumerate(group.lines):
        colour, _, style = _line_style(index, line.series.role)
        text = escape(line.label) + ("" if line.points else " (no data yet)")
        if line.points:
            first, last = line.points[0][1], line.points[-1][1]
            if len(line.points) > 1:
                text += (
                    f' <span class="muted">{escape(format_value(first, group.unit))} → '
                    f"{escape(format_value(last, group.unit))}</span>"
                )
            else:
                text += f' <span class="muted">{escape(format_value(last, group.unit))}</span>'
        items.append(f'<li><span class="swatch" style="border-top: 3px {style} {colour}"></span>{text}</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def marker_list(numbered: list[tuple[int, Marker, date | None]], numbers: bool = True) -> str:
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
        day = day_label(m.day) if d is not None else m.day  # off the chart: say the year too
        items.append(
            f'<li>{badge}<span class="day">{escape(day)}</span> '
            f'<span class="kind" style="color: {colour}">{escape(m.kind)}</span> '
            f"{escape(m.label)}{where}</li>"
        )
    return f'<ul class="markers">{"".join(items)}</ul>'
