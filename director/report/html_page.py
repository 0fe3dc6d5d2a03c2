"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched, and
every string from the data escaped."""

from .charts import group_series, legend, marker_list, svg_chart
from .model import ChangeRow, RunReport
from .values import escape, field_names, field_text, header_facts, shorten

_VERDICT_CLASS = {
    "keep": "keep",
    "rollback": "rollback",
    "inconclusive": "inconclusive",
    "pending": "pending",
    "denied": "denied",
}
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


def _changes_table(changes: list[ChangeRow]) -> str:
    if not changes:
        return '<p class="nodata">No changes were made.</p>'
    rows = []
    for c in changes:
        fields = []
        for name in field_names(c.before, c.after):
            old = field_text(c.before.get(name)) if name in c.before else "—"
            new = field_text(c.after.get(name)) if name in c.after else "—"
            fields.append(
                f'<div class="field"><span class="name">{escape(name)}</span>: '
                f'<span class="old" title="{escape(old)}">{escape(shorten(old))}</span> → '
                f'<span class="new" title="{escape(new)}">{escape(shorten(new))}</span></div>'
            )
        verdict_class = _VERDICT_CLASS.get(c.verdict, "other")
        rows.append(
            "<tr>"
            f'<td class="day">{escape(c.day)}</td>'
            f"<td><code>{escape(c.loop)}</code></td>"
            f"<td>{escape(c.object)}</td>"
            f"<td><code>{escape(c.action)}</code></td>"
            f"<td>{''.join(fields) or '—'}</td>"
            f'<td><span class="verdict {verdict_class}">{escape(c.verdict)}</span></td>'
            f"<td>{escape(c.evidence)}</td>"
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
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body><main>",
        f"<header><h1>{escape(report.client)}</h1>",
        f'<div class="muted">Director run <code>{escape(report.run_id)}</code> · {escape(report.simulated_days)}</div>',
        '<dl class="facts">',
    ]
    parts += [f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in header_facts(report)]
    parts.append("</dl></header>")

    groups, unplaced = group_series(report)
    parts.append("<section><h2>KPIs</h2>")
    if not groups:
        parts.append('<p class="nodata">No data yet.</p>')
    for group in groups:
        parts.append('<div class="card">')
        parts.append(f'<h3>{escape(group.kpi)} <span class="object">· {escape(group.object)}</span></h3>')
        if group.has_data:
            svg, numbered = svg_chart(group)
            parts.append(svg)
            parts.append(legend(group))
            parts.append(marker_list(numbered))
        else:
            parts.append('<p class="nodata">No data yet.</p>')
            parts.append(marker_list([(i, m, None) for i, m in enumerate(group.markers, 1)], numbers=False))
        parts.append("</div>")
    if unplaced:
        parts.append('<div class="card"><h3>Other events</h3>')
        parts.append(marker_list([(i, m, None) for i, m in enumerate(unplaced, 1)], numbers=False))
        parts.append("</div>")
    parts.append("</section>")

    parts.append("<section><h2>Changes</h2>")
    parts.append(_changes_table(report.changes))
    parts.append("</section>")

    parts.append("<section><h2>Notes</h2>")
    if report.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    else:
        parts.append('<p class="nodata">No notes.</p>')
    parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
