"""The ga4 and search-console servers through MCP, with the real Google SDK clients talking to the sandbox."""

from __future__ import annotations

import io

import httpx
import pytest
from mcp import Client

from adapters.google.search_console import expected_ctr
from suite.auth import sign_in_at_sandbox
from suite.config import parse_config
from suite.wiring import create_server

from ..helpers import call_error, call_ok, error_of, text

MAIN, STAGING = "420000001", "420000002"


def google_config(url: str, client: str = "g") -> dict:
    return {
        "clients": {
            client: {
                "sandbox": url,
                "servers": {
                    "ga4": {"settings": {"properties": {"web": MAIN, "staging": STAGING}, "api_base": url}},
                    "search-console": {"settings": {"sites": [f"{url}/"], "api_base": url}},
                },
            }
        }
    }


@pytest.fixture(scope="module")
def google(sandbox):
    """Client `g` signed in to the sandbox's Google OAuth server (one grant for both servers)."""
    config = parse_config(google_config(sandbox.url))
    sign_in_at_sandbox(config, "g", io.StringIO())
    return config


def ga4(config):
    return Client(create_server(config, "g", "ga4"))


def gsc(config):
    return Client(create_server(config, "g", "search-console"))


async def sandbox_config(sandbox, **settings) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.post("/_sandbox/config", json=settings)).raise_for_status()


WEEK = [{"start": "7daysAgo", "end": "yesterday"}]


# -- ga4 -----------------------------------------------------------------------


async def test_ga4_lists_properties_and_metadata_with_custom_fields(google):
    async with ga4(google) as c:
        props = await call_ok(c, "list_properties", {})
        assert {p["property"] for p in props["properties"]} >= {f"properties/{MAIN}", f"properties/{STAGING}"}
        meta = await call_ok(c, "get_metadata", {"property": "web"})
    names = {d["name"] for d in meta["dimensions"]}
    assert {"landingPage", "sessionDefaultChannelGroup", "date"} <= names
    assert any(d["custom"] for d in meta["dimensions"]) and any(m["custom"] for m in meta["metrics"])


async def test_ga4_report_pages_totals_filters_and_ordering(google):
    async with ga4(google) as c:
        args = {
            "property": MAIN,
            "dimensions": ["landingPage"],
            "metrics": ["sessions"],
            "date_ranges": WEEK,
            "order_by": [{"field": "sessions", "desc": True}],
        }
        everything = await call_ok(c, "run_report", {**args, "limit": 100})
        first = await call_ok(c, "run_report", {**args, "limit": 2})
        second = await call_ok(c, "run_report", {**args, "limit": 2, "offset": 2})
        organic = await call_ok(
            c,
            "run_report",
            {
                **args,
                "limit": 100,
                "dimension_filters": [{"field": "sessionDefaultChannelGroup", "value": "Organic Search"}],
            },
        )
        busy = await call_ok(
            c, "run_report", {**args, "limit": 100, "metric_filters": [{"field": "sessions", "op": "gt", "value": 50}]}
        )
    rows = everything["rows"]
    assert len(rows) == everything["row_count"] > 4
    assert [r["sessions"] for r in rows] == sorted((r["sessions"] for r in rows), reverse=True)
    assert everything["totals"]["sessions"] == sum(r["sessions"] for r in rows)
    assert first["rows"] == rows[:2] and second["rows"] == rows[2:4] and first["next_offset"] == 2
    assert 0 < organic["totals"]["sessions"] < everything["totals"]["sessions"]
    assert all(r["sessions"] > 50 for r in busy["rows"]) and len(busy["rows"]) < len(rows)
    assert everything["quota"]["tokens_per_hour_remaining"] > 0


async def test_ga4_two_date_ranges_and_compare_periods(google):
    async with ga4(google) as c:
        two = await call_ok(
            c,
            "run_report",
            {
                "property": "web",
                "dimensions": ["landingPage"],
                "metrics": ["sessions"],
                "date_ranges": [{"start": "14daysAgo", "end": "8daysAgo"}, WEEK[0]],
            },
        )
        compared = await call_ok(
            c,
            "compare_periods",
            {
                "property": "web",
                "metrics": ["sessions"],
                "period_a": {"start": "14daysAgo", "end": "8daysAgo"},
                "period_b": WEEK[0],
                "limit": 50,
            },
        )
    assert "dateRange" in two["dimensions"]
    assert {r["dateRange"] for r in two["rows"]} == {"date_range_0", "date_range_1"}
    changes = [abs(ch["change"]["sessions"]) for ch in compared["changes"]]
    assert changes == sorted(changes, reverse=True)
    for ch in compared["changes"]:
        assert ch["change"]["sessions"] == ch["after"]["sessions"] - ch["before"]["sessions"]


async def test_ga4_top_landing_pages_realtime_and_quota(google):
    async with ga4(google) as c:
        top = await call_ok(c, "top_landing_pages", {"property": "web", "limit": 5})
        live = await call_ok(c, "run_realtime_report", {"property": "web", "dimensions": ["country"]})
        quota = await call_ok(c, "quota_status", {"property": "web"})
    sessions = [r["sessions"] for r in top["rows"]]
    assert len(sessions) == 5 and sessions == sorted(sessions, reverse=True)
    assert all(r["landingPage"].startswith("/") for r in top["rows"])
    assert live["rows"] is not None and "activeUsers" in live["metrics"]
    assert quota["tokens_per_day_remaining"] > 0


async def test_ga4_bad_names_dates_and_properties_are_refused_clearly(google):
    async with ga4(google) as c:
        typo, _ = await call_error(c, "run_report", {"property": "web", "metrics": ["sesions"], "date_ranges": WEEK})
        backwards, _ = await call_error(
            c,
            "run_report",
            {"property": "web", "metrics": ["sessions"], "date_ranges": [{"start": "2025-02-10", "end": "2025-02-01"}]},
        )
        garbage, _ = await call_error(
            c, "run_report", {"property": "web", "metrics": ["sessions"], "date_ranges": [{"start": "last week"}]}
        )
        hidden, _ = await call_error(c, "run_report", {"property": "999", "metrics": ["sessions"], "date_ranges": WEEK})
        unnamed, _ = await call_error(c, "run_report", {"metrics": ["sessions"], "date_ranges": WEEK})
    assert typo["type"] == "invalid_request" and "sessions" in typo["message"] and "did you mean" in typo["message"]
    assert backwards["type"] == "invalid_request" and "after it ends" in backwards["message"]
    assert "is not a date" in garbage["message"]
    assert hidden["type"] == "permission_denied" and "list_properties" in hidden["hint"]
    assert "web" in unnamed["message"] and "staging" in unnamed["message"]


async def test_ga4_out_of_range_offsets_and_empty_properties_are_validation_errors_before_any_call(google, sandbox):
    reports = f"/v1beta/properties/{MAIN}:runReport"
    before = sandbox.world.faults.received(path=reports)
    async with ga4(google) as c:
        huge = await c.call_tool(
            "run_report", {"property": "web", "metrics": ["sessions"], "date_ranges": WEEK, "offset": 2**63}
        )
        empty = await c.call_tool("run_report", {"property": "", "metrics": ["sessions"], "date_ranges": WEEK})
        largest = await call_ok(
            c, "run_report", {"property": "web", "metrics": ["sessions"], "date_ranges": WEEK, "offset": 2**63 - 1}
        )  # GA4's int64 still takes this one
    assert huge.is_error and "offset" in text(huge) and "internal" not in text(huge).lower()
    assert empty.is_error and "property" in text(empty) and "internal" not in text(empty).lower()
    assert largest["rows"] == [] and largest["next_offset"] is None
    assert sandbox.world.faults.received(path=reports) == before + 1  # only the valid call reached GA4


async def test_search_console_empty_site_is_a_validation_error(google, sandbox):
    async with gsc(google) as c:
        result = await c.call_tool("list_sitemaps", {"site": ""})
    assert result.is_error and "site" in text(result) and "internal" not in text(result).lower()


async def test_ga4_spent_quota_and_upstream_faults(google, sandbox):
    async with ga4(google) as c:
        await sandbox_config(sandbox, ga4_tokens_per_hour=1)
        try:
            spent = None
            for _ in range(5):
                result = await c.call_tool(
                    "run_report", {"property": STAGING, "metrics": ["sessions"], "date_ranges": WEEK}
                )
                if result.is_error:
                    spent = error_of(result)
                    break
        finally:
            await sandbox_config(sandbox, ga4_tokens_per_hour=40000)
        assert spent and spent["type"] == "rate_limited" and spent["retry_after"] > 0
        rule = sandbox.world.faults.add("status", path=f"/v1beta/properties/{MAIN}:runReport", status=500)
        try:
            failed, _ = await call_error(
                c, "run_report", {"property": MAIN, "metrics": ["sessions"], "date_ranges": WEEK}
            )
        finally:
            sandbox.world.faults.remove(rule.id)
        assert failed["type"] == "upstream_unavailable"


# -- search console ---------------------------------------------------------------


def window(sandbox, back: int, length: int) -> tuple[str, str]:
    from datetime import timedelta

    today = sandbox.world.now().date()
    return str(today - timedelta(days=back + length - 1)), str(today - timedelta(days=back))


async def test_search_console_sites_and_analytics(google, sandbox):
    start, end = window(sandbox, 3, 28)
    async with gsc(google) as c:
        sites = await call_ok(c, "list_sites", {})
        queries = await call_ok(
            c, "search_analytics", {"start": start, "end": end, "dimensions": ["query"], "limit": 10}
        )
        pages = await call_ok(
            c,
            "search_analytics",
            {
                "start": start,
                "end": end,
                "dimensions": ["page"],
                "filters": [{"dimension": "page", "operator": "contains", "expression": "/"}],
                "limit": 100,
            },
        )
    assert f"{sandbox.url}/" in {s["site"] for s in sites["sites"]}
    assert len(queries["rows"]) == 10 and queries["total_rows"] >= 10
    clicks = [r["clicks"] for r in queries["rows"]]
    assert clicks == sorted(clicks, reverse=True)
    assert all(r["keys"]["page"].startswith(sandbox.url) for r in pages["rows"])


async def test_search_console_pages_through_more_rows_than_one_request(google, sandbox, monkeypatch):
    import adapters.google.search_console as module

    start, end = window(sandbox, 3, 28)
    async with gsc(google) as c:
        whole = await call_ok(
            c,
            "search_analytics",
            {"start": start, "end": end, "dimensions": ["query", "page"], "fetch_rows": 60, "limit": 60},
        )
        monkeypatch.setattr(module, "MAX_ROWS_PER_REQUEST", 7)
        paged = await call_ok(
            c,
            "search_analytics",
            {"start": start, "end": end, "dimensions": ["query", "page"], "fetch_rows": 60, "limit": 60},
        )
    assert paged["rows"] == whole["rows"] and paged["total_rows"] == whole["total_rows"]


async def test_ctr_opportunities_are_below_the_stated_curve(google, sandbox):
    start, end = window(sandbox, 3, 28)
    async with gsc(google) as c:
        found = await call_ok(
            c, "ctr_opportunities", {"start": start, "end": end, "dimension": "page", "min_impressions": 50}
        )
    designed = {f"{sandbox.url}{path}" for path in sandbox.world.traffic.opportunities}  # weak snippets by design
    assert {o["keys"]["page"] for o in found["opportunities"][:3]} == designed
    assert found["expected_curve"]["1"] > found["expected_curve"]["5"]
    missed = [o["missed_clicks"] for o in found["opportunities"]]
    assert missed == sorted(missed, reverse=True)
    for o in found["opportunities"]:
        assert o["impressions"] >= 50 and o["ctr"] < o["expected_ctr"]
        assert o["expected_ctr"] == round(expected_ctr(o["position"]), 4)
        assert o["missed_clicks"] == max(0, round(o["impressions"] * o["expected_ctr"]) - o["clicks"])


async def test_compare_periods_inspection_and_sitemaps(google, sandbox):
    a = window(sandbox, 31, 28)
    b = window(sandbox, 3, 28)
    async with gsc(google) as c:
        compared = await call_ok(c, "compare_periods", {"a_start": a[0], "a_end": a[1], "b_start": b[0], "b_end": b[1]})
        page = compared["changes"][0]["keys"]["page"]
        one = await call_ok(c, "inspect_url", {"url": page})
        batch = await call_ok(c, "inspect_urls", {"urls": [page, f"{sandbox.url}/no-such-page/"]})
        listed = await call_ok(c, "list_sitemaps", {})
        new = f"{sandbox.url}/news-sitemap.xml"
        preview = await call_ok(c, "submit_sitemap", {"path": new, "dry_run": True})
        after_preview = await call_ok(c, "list_sitemaps", {})
        done = await call_ok(c, "submit_sitemap", {"path": new})
        after = await call_ok(c, "list_sitemaps", {})
    deltas = [abs(ch["clicks_change"]) for ch in compared["changes"]]
    assert deltas == sorted(deltas, reverse=True)
    assert one["verdict"] == "PASS"
    assert [r["verdict"] for r in batch["results"]] == ["PASS", "NEUTRAL"]
    assert listed["sitemaps"] and preview["dry_run"] and not preview["submitted"]
    assert new not in {s["path"] for s in after_preview["sitemaps"]}
    assert done["submitted"] and new in {s["path"] for s in after["sitemaps"]}


async def test_search_console_explains_property_forms_and_checks_dates(google, sandbox):
    start, end = window(sandbox, 3, 7)
    async with gsc(google) as c:
        wrong, _ = await call_error(
            c, "search_analytics", {"start": start, "end": end, "site": "https://elsewhere.example/"}
        )
        backwards, _ = await call_error(c, "search_analytics", {"start": end, "end": start})
    assert wrong["type"] in ("permission_denied", "not_found")
    assert "sc-domain:elsewhere.example" in wrong["hint"] and "URL-prefix" in wrong["hint"]
    assert backwards["type"] == "invalid_request"


async def test_submit_sitemap_is_a_destructive_write_with_dry_run(google):
    async with gsc(google) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    submit = tools["submit_sitemap"].annotations
    assert submit is not None and submit.destructive_hint is True
    assert "dry_run" in tools["submit_sitemap"].input_schema["properties"]
    for name in ("list_sites", "search_analytics", "ctr_opportunities", "inspect_url", "list_sitemaps"):
        annotations = tools[name].annotations
        assert annotations is not None and annotations.read_only_hint is True


async def test_ga4_keeps_to_ten_concurrent_requests_per_property(google, sandbox, monkeypatch):
    """Fifteen reports at once while GA4 holds each one: the server sends ten and queues five,
    where GA4 would answer the eleventh with a 429."""
    import asyncio

    sandbox.world.google.hold = True  # the sandbox keeps requests open, slot held, until released
    try:
        async with ga4(google) as c:
            calls = asyncio.gather(
                *(
                    c.call_tool(
                        "run_report",
                        {"property": MAIN, "metrics": ["sessions"], "date_ranges": [{"start": f"{n + 2}daysAgo"}]},
                    )
                    for n in range(15)
                )
            )
            await asyncio.sleep(1.0)
            sandbox.world.google.hold = False
            results = await calls
    finally:
        sandbox.world.google.hold = False
    assert [r.is_error for r in results] == [False] * 15, [text(r) for r in results if r.is_error]


async def test_search_console_upstream_faults_are_clear_errors(google, sandbox):
    start, end = window(sandbox, 3, 7)
    rule = sandbox.world.faults.add("status", path="/webmasters/v3/sites/*", status=503)
    try:
        async with gsc(google) as c:
            failed, _ = await call_error(c, "search_analytics", {"start": start, "end": end})
    finally:
        sandbox.world.faults.remove(rule.id)
    assert failed["type"] == "upstream_unavailable" and "503" in failed["message"]


@pytest.mark.parametrize(
    "server,tool,args",
    [
        ("ga4", "get_metadata", {"property": "web"}),
        ("search-console", "list_sites", {}),
    ],
)
async def test_served_over_stdio_like_a_desktop_host(google, sandbox, tmp_path, server, tool, args):
    import json
    import os
    import sys

    from mcp.client.stdio import StdioServerParameters

    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(google_config(sandbox.url)))
    params = StdioServerParameters(
        command=sys.executable,
        env=dict(os.environ),
        args=["-m", "suite", "serve", server, "--client", "g", "--config", str(config)],
    )
    async with Client(params) as c:
        await call_ok(c, tool, args)
