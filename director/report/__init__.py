"""Run reports: what a Director run measured, what it changed and what it decided, as HTML and Markdown.

The Director fills a `RunReport` from its store; `render_html` draws one self-contained page (inline
CSS and SVG charts, no scripts, nothing fetched) and `render_markdown` the same facts as text.
Titles, subjects and URLs come from vendors, so every string from the data is escaped; the page also
carries a Content-Security-Policy that forbids scripts, in case one ever slips through.
"""

import re
from pathlib import Path

from .html_page import render_html
from .markdown_summary import render_markdown
from .model import ChangeRow, Marker, Point, RunReport, Series
from .values import format_value

__all__ = [
    "ChangeRow",
    "Marker",
    "Point",
    "RunReport",
    "Series",
    "format_value",
    "render_html",
    "render_markdown",
    "write_report",
]


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
