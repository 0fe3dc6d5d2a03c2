"""The page-analysis server through MCP, with real Chromium, against the sandbox's pages and fixtures."""

from __future__ import annotations

import asyncio
import base64
import time

import httpx
import pytest
from mcp import Client

from adapters.web.browser import find_chromium
from suite.config import parse_config
from suite.wiring import ADAPTERS, Wiring, create_server

from ..conftest import need
from ..helpers import call_ok, error_of, text

# The sandbox's defect ids -> the check analyze_page reports for them.
CHECK_FOR = {
    "meta_description_missing": "meta_description_missing",
    "title_too_long": "title_length",
    "h1_multiple": "h1_multiple",
    "h1_missing": "h1_missing",
    "img_alt_missing": "img_alt_missing",
    "render_blocking_slow": "render_blocking",
    "cta_below_fold_mobile": "cta_below_fold_mobile",
    "noindex": "noindex",
    "jsonld_invalid": ("jsonld_invalid", "jsonld_incomplete"),
    "canonical_mismatch": "canonical_mismatch",
    "og_missing": "og_missing",
    "viewport_missing": "viewport_missing",
    "lang_missing": "lang_missing",
    "form_too_long": "form_too_long",
}


def config(url: str, **settings) -> dict:
    netloc = httpx.URL(url).netloc.decode()  # the sandbox's host and port: its other ports stay private
    return {
        "clients": {
            "p": {
                "servers": {"page-analysis": {"settings": {"allowed_hosts": [netloc], "link_timeout": 1.0, **settings}}}
            }
        }
    }


@pytest.fixture(scope="module")
def chromium():
    need(find_chromium() is not None, "no Chromium: run scripts/chromium-up.sh")


@pytest.fixture(scope="module")
def defects(sandbox, chromium) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/page-defects").json()


def client(url: str, **settings) -> Client:
    return Client(create_server(parse_config(config(url, **settings)), "p", "page-analysis"))


async def test_every_defect_is_found_and_clean_pages_pass(sandbox, defects):
    async with client(sandbox.url) as c:
        for path, kinds in defects["pages"].items():
            report = await call_ok(c, "analyze_page", {"url": sandbox.url + path})
            found = {f["check"] for f in report["findings"]}
            for kind in kinds:
                wanted = CHECK_FOR.get(kind)
                if wanted is None:
                    continue
                wanted = wanted if isinstance(wanted, tuple) else (wanted,)
                assert found & set(wanted), f"{path}: {kind} not reported (found {sorted(found)})"
        for path in defects["clean"][:4]:
            report = await call_ok(c, "analyze_page", {"url": sandbox.url + path})
            found = {f["check"] for f in report["findings"] if f["severity"] != "info"}
            assert not found & {c for w in CHECK_FOR.values() for c in (w if isinstance(w, tuple) else (w,))}, (
                f"{path} is clean but got {sorted(found)}"
            )
            assert report["indexable"] and report["status"] == 200


async def test_findings_carry_evidence_and_a_fix_and_stay_compact(sandbox, defects):
    path = next(p for p, k in defects["pages"].items() if "h1_multiple" in k)
    async with client(sandbox.url) as c:
        result = await c.call_tool("analyze_page", {"url": sandbox.url + path})
    report = result.structured_content
    h1 = next(f for f in report["findings"] if f["check"] == "h1_multiple")
    assert h1["evidence"] and h1["fix"] and h1["severity"] == "warning"
    assert len(str(report)) < 20_000 and "<html" not in str(report)
    assert "h1" in text(result)


async def test_a_fix_through_the_cms_shows_in_the_next_analysis(sandbox, defects):
    path = next(
        p for p, k in defects["pages"].items() if "meta_description_missing" in k and not p.startswith("/webflow-site")
    )
    url = sandbox.url + path
    creds = sandbox.provision()["wordpress"]
    async with client(sandbox.url) as c:
        before = await call_ok(c, "analyze_page", {"url": url})
        assert "meta_description_missing" in {f["check"] for f in before["findings"]}
        async with httpx.AsyncClient(auth=(creds["username"], creds["application_password"])) as http:
            slug = path.strip("/").split("/")[-1]
            for kind in ("posts", "pages"):
                found = (
                    await http.get(f"{sandbox.url}/wp-json/wp/v2/{kind}", params={"slug": slug, "context": "edit"})
                ).json()
                if found:
                    post = found[0]
                    break
            else:
                pytest.fail(f"no post or page has the slug {slug}")
            meta_key = next(k for k in post["meta"] if "desc" in k)
            (
                await http.post(
                    f"{sandbox.url}/wp-json/wp/v2/{kind}/{post['id']}",
                    json={
                        "meta": {
                            meta_key: "How to store coffee beans so they stay fresh: airtight, dark, cool, "
                            "and never in the fridge."
                        }
                    },
                )
            ).raise_for_status()
        compared = await call_ok(c, "compare_pages", {"url": url})
    assert "meta_description_missing" in {d["check"] for d in compared["better"]}
    assert not compared["worse"]


async def test_private_addresses_and_other_schemes_are_refused(sandbox, chromium):
    async with client(sandbox.url, allowed_hosts=[]) as c:
        refused = await c.call_tool("analyze_page", {"url": f"{sandbox.url}/"})
        other = await c.call_tool("analyze_page", {"url": "http://127.0.0.2:2/latest/meta-data/"})
        local = await c.call_tool("check_links", {"url": "http://localhost:1/"})
        file_url = await c.call_tool("analyze_page", {"url": "file:///etc/passwd"})
        data_url = await c.call_tool("screenshot", {"url": "data:text/html,<h1>hi</h1>"})
    for result in (refused, other, local):
        assert error_of(result)["type"] == "permission_denied", text(result)
        assert "allowed_hosts" in error_of(result)["hint"]
    assert file_url.is_error and data_url.is_error  # the schema accepts http(s) only


async def test_a_redirect_into_private_space_is_blocked(sandbox, chromium):
    async with client(sandbox.url) as c:
        result = await c.call_tool("analyze_page", {"url": f"{sandbox.url}/_fixtures/redirect-to-private"})
    assert error_of(result)["type"] == "permission_denied", text(result)
    # (tests/servers/test_egress.py proves with a listening canary that nothing reached the target)


async def test_a_page_that_never_finishes_loading_is_analyzed_as_far_as_it_got(sandbox, chromium):
    async with client(sandbox.url, page_timeout=3) as c:
        started = time.monotonic()
        report = await call_ok(c, "analyze_page", {"url": f"{sandbox.url}/_fixtures/never-loads"})
    assert time.monotonic() - started < 15
    assert report["complete"] is False and "load_incomplete" in {f["check"] for f in report["findings"]}


async def test_check_links_lists_broken_links_first_within_bounds(sandbox, chromium):
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with client(sandbox.url) as c:
        started = time.monotonic()
        result = await c.call_tool(
            "check_links", {"url": f"{sandbox.url}/_fixtures/links"}, progress_callback=on_progress
        )
    assert time.monotonic() - started < 20
    assert not result.is_error, text(result)
    report = result.structured_content
    links = report["links"]
    assert report["broken"] >= 8 and report["checked"] == len(links)
    assert all(not link["ok"] for link in links[: report["broken"]])
    assert all(link["ok"] for link in links[report["broken"] :])
    assert {link["error"] for link in links if link["error"]} >= {"timed out", "refused: not a public address"}
    assert seen[-1] == (len(links), len(links))  # a progress notification per link checked, up to all
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_screenshot_is_image_content_and_capped(sandbox, chromium):
    async with client(sandbox.url) as c:
        result = await c.call_tool("screenshot", {"url": f"{sandbox.url}/", "viewport": "mobile"})
    assert not result.is_error, text(result)
    image = next(c for c in result.content if c.type == "image")
    png = base64.b64decode(image.data)
    assert png.startswith(b"\x89PNG") and len(png) == result.structured_content["bytes"] <= 1_500_000
    assert "png_base64" not in result.structured_content  # the image is sent once


async def test_crawl_reports_repeated_issues_and_duplicates_within_bounds(sandbox, defects):
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with client(sandbox.url) as c:
        result = await c.call_tool(
            "crawl_site",
            {"start_url": f"{sandbox.url}/", "max_pages": 12, "max_seconds": 60},
            progress_callback=on_progress,
        )
        info = c.session.server_info
    assert info is not None
    version = info.version
    assert not result.is_error, text(result)
    report = result.structured_content
    assert 1 < len(report["pages"]) <= 12
    assert [d for d, _ in seen] == list(range(1, len(report["pages"]) + 1))  # one per page crawled
    assert all(total == 12 for _, total in seen)
    assert version and version != "0+unknown"
    assert all(httpx.URL(p["url"]).host == httpx.URL(sandbox.url).host for p in report["pages"])
    assert report["repeated"]


async def test_the_pool_reuses_pages_and_replaces_a_crashed_tab(sandbox, chromium):
    raw = config(sandbox.url)
    analyzer = await ADAPTERS["page-analysis"](Wiring(parse_config(raw), "p", "page-analysis"))
    try:
        browser = analyzer.browser
        await analyzer.analyze(f"{sandbox.url}/")
        async with browser.page() as first:
            pass
        async with browser.page() as again:
            assert again is first  # reused, not rebuilt
            session = await again.context.new_cdp_session(again)
            try:
                await asyncio.wait_for(session.send("Page.crash"), 2)  # a crashed tab never answers
            except Exception:
                pass
        assert browser.replaced == 1
        async with browser.page() as fresh:
            assert fresh is not first
        report = await analyzer.analyze(f"{sandbox.url}/")  # the pool works after the crash
        assert report.status == 200
    finally:
        await analyzer.aclose()


async def test_page_text_is_reported_as_data_never_followed(sandbox, chromium):
    async with client(sandbox.url) as c:
        tools = (await c.list_tools()).tools
        report = await call_ok(c, "analyze_page", {"url": f"{sandbox.url}/_fixtures/prompt-injection"})
    assert all(t.annotations and t.annotations.read_only_hint for t in tools)  # nothing here can publish, send or spend
    assert report["status"] == 200 and report["findings"] is not None


async def test_redirect_loops_and_oversized_pages_are_bounded(sandbox, chromium):
    async with client(sandbox.url) as c:
        started = time.monotonic()
        loop = await c.call_tool("analyze_page", {"url": f"{sandbox.url}/_fixtures/redirect-loop"})
        huge = await c.call_tool("analyze_page", {"url": f"{sandbox.url}/_fixtures/huge"})
        after = await c.call_tool("analyze_page", {"url": f"{sandbox.url}/about-us/"})
    assert time.monotonic() - started < 30
    assert loop.is_error and huge.is_error, (text(loop), text(huge))
    assert "MB" in text(huge) and "limit" in text(huge)
    assert not after.is_error  # the pool still serves
