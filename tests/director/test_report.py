"""Run reports: the HTML page (charts, markers, changes, notes, escaping) and the Markdown summary."""

import re
from html.parser import HTMLParser
from typing import Any

from director.report import (
    ChangeRow,
    Marker,
    Point,
    RunReport,
    Series,
    format_value,
    render_html,
    render_markdown,
    write_report,
)

HOSTILE = "<script>alert(1)</script>"
URL = "https://127.0.0.1:9/shoes?a=1&b=2"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Walker(HTMLParser):
    """Walks the page, checks that every element closes in order, and collects what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: dict[str, int] = {}
        self.scripts = 0
        self.text: list[str] = []
        self.titles: list[str] = []  # SVG <title> tooltips
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "script":
            self.scripts += 1
        if tag == "title" and "svg" in self.stack:
            self._in_title = True
            self.titles.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.titles[-1] += data


def walk(page: str) -> Walker:
    walker = Walker()
    walker.feed(page)
    walker.close()
    assert walker.errors == []
    assert walker.stack == []
    return walker


def first_svg(page: str) -> str:
    found = re.search(r"<svg.*?</svg>", page, re.S)
    assert found, "the page has a chart"
    return found.group(0)


def days(start: int, count: int) -> list[str]:
    return [f"2026-11-{d:02d}" for d in range(start, start + count)]


def report(**overrides) -> RunReport:
    ctr = [Point(d, 0.031 + (0.006 if i >= 7 else 0)) for i, d in enumerate(days(2, 14))]
    control = [Point(d, 0.030) for d in days(2, 14)]
    sessions = [Point(d, 1200 + 25 * i) for i, d in enumerate(days(2, 14))]
    fields: dict[str, Any] = dict(
        run_id="r-42",
        client="Acme Shoes",
        loops=["search_ctr", "email_engagement"],
        started="2026-11-02T09:00:00",
        finished="2026-11-16T18:00:00",
        simulated_days="2026-11-02 to 2026-11-15",
        planner="offline",
        input_tokens=12345,
        output_tokens=678,
        cost_usd=0.0,
        tool_calls=57,
        series=[
            Series("CTR", URL, ctr, unit="%", role="treated"),
            Series("CTR", URL, control, unit="%", role="control"),
            Series("Sessions", "site", sessions),
            Series("Click rate", "November newsletter", [Point("2026-11-10", 0.042)], unit="%"),
        ],
        markers=[
            Marker("2026-11-09", "change", "Rewrote title and meta description", URL),
            Marker("2026-11-15", "decision", "Kept: +18% CTR (P=0.995)", URL, kpi="CTR"),
            Marker("2026-11-12", "incident", "Tracking outage", "site"),
            Marker("2026-11-10", "change", f"Sent subject {HOSTILE}", "November newsletter"),
        ],
        changes=[
            ChangeRow(
                "2026-11-09",
                "search_ctr",
                URL,
                "wordpress.update_post",
                {"title": "Shoes", "meta_description": "x" * 300},
                {"title": "Running shoes that last", "meta_description": "Light, tough, 30-day returns."},
                "keep",
                "CTR 3.1% -> 3.7% against a flat control, P=0.995.",
            ),
            ChangeRow(
                "2026-11-10",
                "email_engagement",
                "November newsletter",
                "mailchimp.set_subject",
                {"subject": HOSTILE},
                {"subject": "Your November picks"},
                "rollback",
                "Click rate 4.2% -> 3.9%, P=0.91.",
            ),
        ],
        notes=["Tracking outage on 2026-11-12: no page change made"],
    )
    fields.update(overrides)
    return RunReport(**fields)


def test_page_walks_cleanly_with_one_chart_per_group_and_no_script():
    page = render_html(report())
    walker = walk(page)
    assert page.startswith("<!DOCTYPE html>")
    assert walker.tags["svg"] == 3  # CTR (treated + control), Sessions, Click rate
    assert walker.scripts == 0
    assert "Content-Security-Policy" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert "<link" not in page and "<img" not in page


def test_header_facts():
    text = " ".join(walk(render_html(report(planner="claude (claude-sonnet)", cost_usd=1.234))).text)
    for fact in (
        "Acme Shoes",
        "r-42",
        "search_ctr, email_engagement",
        "2026-11-02 to 2026-11-15",
        "claude (claude-sonnet)",
        "12,345 in / 678 out",
        "$1.23",
        "57",
    ):
        assert fact in text


def test_treated_and_control_share_a_chart_with_a_legend():
    page = render_html(report())
    ctr = page[page.index("<h3>CTR") : page.index("<h3>Sessions")]
    assert ctr.count("<svg") == 1
    assert ctr.count("<polyline") == 2
    assert 'stroke-dasharray="6 4"' in ctr  # the control is dashed
    found = re.search(r'<ul class="legend">(.*?)</ul>', ctr)
    assert found, "the chart has a legend"
    legend = found.group(1)
    assert "treated" in legend and "control" in legend


def test_percent_formatting():
    page = render_html(report())
    walker = walk(page)
    assert "3.1%" in " ".join(walker.titles)  # point tooltips
    assert re.search(r'class="ylabel"[^>]*>\d+(\.\d+)?%</text>', page)  # y axis ticks
    sessions = page[page.index("<h3>Sessions") : page.index("<h3>Click rate")]
    assert "%" not in re.sub(r"<[^>]+>", "", sessions)
    assert format_value(0.031, "%") == "3.1%"
    assert format_value(0.0042, "%") == "0.42%"
    assert format_value(12345, "") == "12,345"


def test_y_axis_has_three_to_five_ticks():
    page = render_html(report())
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        assert 3 <= svg.count('class="ylabel"') <= 5


def test_markers_are_drawn_and_listed():
    page = render_html(report())
    walker = walk(page)
    tooltips = " ".join(walker.titles)
    text = " ".join(walker.text)
    for label in ("Rewrote title and meta description", "Kept: +18% CTR (P=0.995)", "Tracking outage"):
        assert label in tooltips
        assert label in text
    ctr = page[page.index("<h3>CTR") : page.index("<h3>Sessions")]
    assert ctr.count('class="marker"') == 2
    assert "#7c3aed" in ctr and "#059669" in ctr  # change and decision in different colours
    sessions = page[page.index("<h3>Sessions") : page.index("<h3>Click rate")]
    assert sessions.count('class="marker"') == 1 and "#d97706" in sessions


def test_kpi_less_marker_goes_on_every_chart_of_its_object():
    r = report()
    r.series.append(Series("Impressions", URL, [Point(d, 900) for d in days(2, 14)]))
    page = render_html(r)
    impressions = page[page.index("<h3>Impressions") :]
    assert "Rewrote title and meta description" in impressions
    assert "Kept: +18% CTR" not in impressions  # that one is for CTR only


def test_hostile_strings_are_escaped_everywhere():
    r = report(
        client=HOSTILE, run_id=HOSTILE, notes=[HOSTILE], planner=HOSTILE, loops=[HOSTILE], simulated_days=HOSTILE
    )
    r.series.append(Series(HOSTILE, HOSTILE, [Point("2026-11-03", 1.0)], role=HOSTILE))
    r.markers.append(Marker("2026-11-03", HOSTILE, HOSTILE, HOSTILE))
    r.markers.append(Marker("2026-11-03", "change", HOSTILE, "nowhere"))
    r.changes.append(
        ChangeRow(HOSTILE, HOSTILE, HOSTILE, HOSTILE, {HOSTILE: HOSTILE}, {HOSTILE: HOSTILE}, HOSTILE, HOSTILE)
    )
    page = render_html(r)
    walker = walk(page)
    assert "<script" not in page.lower()
    assert walker.scripts == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in " ".join(walker.text)  # shown as text
    quote = report(client='"><img src=x onerror=alert(1)>')
    page = render_html(quote)
    assert "<img" not in page and walk(page).tags.get("img") is None


def test_changes_table():
    page = render_html(report())
    table = page[page.index('<table class="changes">') : page.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    assert len(rows) == 3  # head + 2 changes
    keep, rollback = rows[1], rows[2]
    assert "2026-11-09" in keep and "search_ctr" in keep and "wordpress.update_post" in keep
    assert 'class="verdict keep">keep<' in keep
    assert "Shoes" in keep and "Running shoes that last" in keep and "→" in keep
    assert "CTR 3.1% -&gt; 3.7%" in keep
    assert "x" * 300 not in re.sub(r'title="[^"]*"', "", keep)  # long values shortened...
    assert '">' + "x" * 79 + "…</span>" in keep
    assert 'title="' + "x" * 300 + '"' in keep  # ...with the whole value on hover
    assert 'class="verdict rollback">rollback<' in rollback
    assert "&lt;script&gt;" in rollback


def test_notes_and_empty_sections():
    page = render_html(report())
    assert "Tracking outage on 2026-11-12: no page change made" in page
    empty = render_html(report(series=[], markers=[], changes=[], notes=[], finished=None))
    walker = walk(empty)
    assert walker.tags.get("svg") is None
    text = " ".join(walker.text)
    assert "No data yet." in text and "No changes were made." in text and "not finished" in text


def test_series_without_points_says_no_data_yet():
    r = report(
        series=[Series("Opens", "November newsletter", [])],
        markers=[Marker("2026-11-10", "change", "Sent a new subject", "November newsletter")],
    )
    page = render_html(r)
    walker = walk(page)
    assert walker.tags.get("svg") is None
    assert "No data yet." in " ".join(walker.text)
    assert "Sent a new subject" in page  # the marker is still listed


def test_one_point_draws_a_dot():
    r = report(series=[Series("Click rate", "c", [Point("2026-11-10", 0.042)], unit="%")], markers=[])
    page = render_html(r)
    walk(page)
    svg = first_svg(page)
    assert "<polyline" not in svg and svg.count("<circle") == 1
    assert "4.2%" in svg and "Nov 10" in svg


def test_all_equal_values_and_all_zero_values():
    for value, unit in ((5.0, ""), (0.0, ""), (0.0, "%"), (-3.0, "")):
        r = report(series=[Series("K", "o", [Point(d, value) for d in days(2, 5)], unit=unit)], markers=[])
        page = render_html(r)
        walk(page)
        svg = first_svg(page)
        assert "nan" not in svg.lower() and "inf" not in svg.lower()
        ticks = re.findall(r'class="ylabel"[^>]*>([^<]*)<', svg)
        assert 3 <= len(ticks) <= 5 and len(set(ticks)) == len(ticks)
        ys = {float(y) for y in re.findall(r'<circle cx="[^"]+" cy="([^"]+)"', svg)}
        assert len(ys) == 1 and 26 <= ys.pop() <= 230  # one flat line inside the plot


def test_markers_outside_the_days_of_the_series():
    r = report(
        series=[Series("CTR", URL, [Point(d, 0.03) for d in days(5, 5)], unit="%")],
        markers=[
            Marker("2026-11-03", "change", "Just before", URL),
            Marker("2026-11-12", "decision", "Just after", URL),
            Marker("2025-01-01", "rollback", "Long ago", URL),
            Marker("not a date", "incident", "Undated", URL),
        ],
    )
    page = render_html(r)
    walker = walk(page)
    svg = first_svg(page)
    assert svg.count('class="marker"') == 2  # near ones widen the chart; far and undated ones are only listed
    assert "Just before" in svg and "Just after" in svg and "Long ago" not in svg
    xs = [float(x) for x in re.findall(r'class="marker"><title>[^<]*</title><line x1="([^"]+)"', svg)]
    assert all(64 <= x <= 704 for x in xs)
    text = " ".join(walker.text)
    assert "Long ago" in text and "Undated" in text and "outside the charted days" in text


def test_bad_points_are_skipped():
    r = report(
        series=[
            Series(
                "K",
                "o",
                [
                    Point("2026-11-02", 1.0),
                    Point("someday", 2.0),
                    Point("2026-11-03", float("nan")),
                    Point("2026-11-04", 3.0),
                ],
            )
        ],
        markers=[],
    )
    svg = first_svg(render_html(r))
    assert svg.count("<circle") == 2 and "nan" not in svg.lower()


def test_markers_for_objects_without_a_chart_are_not_lost():
    r = report(markers=[Marker("2026-11-04", "incident", "CDN outage", "cdn")])
    page = render_html(r)
    assert "Other events" in page and "CDN outage" in page


def test_markdown():
    md = render_markdown(report())
    for fact in ("Acme Shoes", "r-42", "2026-11-02 to 2026-11-15", "offline", "12,345 in / 678 out", "$0.00", "57"):
        assert fact in md
    lines = md.splitlines()
    head = lines.index("| Day | Loop | Object | Action | Before → after | Verdict | Evidence |")
    assert lines[head + 1].startswith("|---")
    rows = lines[head + 2 : head + 4]
    assert "**keep**" in rows[0] and "`wordpress.update_post`" in rows[0]
    assert "`Running shoes that last`" in rows[0]
    assert "**rollback**" in rows[1]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 8 for row in rows)  # seven cells each
    assert "Tracking outage on 2026-11-12: no page change made" in md
    assert "3.1% (Nov 2)" in md  # KPI summary, first and last values


def test_markdown_cells_stay_in_their_columns():
    r = report(
        changes=[
            ChangeRow(
                "2026-11-09",
                "search_ctr",
                "a|b",
                "x.y",
                {"t": "one | two\nthree"},
                {"t": "four"},
                "keep",
                "it | broke\nlines",
            )
        ],
        notes=["# not a heading"],
    )
    md = render_markdown(r)
    row = next(line for line in md.splitlines() if line.startswith("| 2026-11-09"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8
    assert "- \\# not a heading" in md
    assert "Sent subject \\<script>" in md  # prose: the tag is inert


def test_write_report(tmp_path):
    html_path, md_path = write_report(report(), tmp_path / "reports")
    assert html_path == tmp_path / "reports" / "run-r-42.html"
    assert md_path == tmp_path / "reports" / "run-r-42.md"
    assert html_path.read_text(encoding="utf-8") == render_html(report())
    assert md_path.read_text(encoding="utf-8") == render_markdown(report())


def test_write_report_keeps_odd_run_ids_inside_the_directory(tmp_path):
    html_path, md_path = write_report(report(run_id="../../etc/passwd"), tmp_path)
    assert html_path.parent == tmp_path and md_path.parent == tmp_path
    assert html_path.name.startswith("run-") and html_path.suffix == ".html"
