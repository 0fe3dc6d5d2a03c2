"""`marketing-mcp demo`: the sandbox plus a scripted MCP session through every server.

Each server runs as its own process over stdio, exactly as a host such as Claude Desktop
starts it; the demo is an ordinary MCP client. It drafts a post, previews and applies new SEO
fields, publishes, and reads the public page back to show that the change is live; then it
measures (GA4, Search Console, page analysis) and runs a subject-line test by email.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from .config import DEFAULT_SANDBOX_URL, ConfigError, find_config, load_config

REPO_CONFIG = Path(__file__).resolve().parent.parent / "mcp.json"


def run_demo(config: str | None = None) -> int:
    try:
        path = find_config(config)
    except ConfigError:
        path = REPO_CONFIG
    config = load_config(path)
    demo = config.client("demo")  # refuse a broken file before starting anything
    sandbox_url = str(demo.sandbox or DEFAULT_SANDBOX_URL).rstrip("/")
    with _sandbox(sandbox_url):
        _sign_in(config)
        return asyncio.run(_session(path, sandbox_url))


def _sign_in(config) -> None:
    """The demo client's credentials, issued by the sandbox's OAuth servers and kept in the vault."""
    from credentials.paths import data_dir

    from .auth import sign_in_at_sandbox

    _say("\n== `marketing-mcp auth login PROVIDER --client demo`, consent given by a scripted browser ==")
    sign_in_at_sandbox(config, "demo", sys.stdout)
    _say(f"Vault: {data_dir() / 'vault' / 'demo.vault'} (encrypted; `marketing-mcp auth status --client demo`)")


@contextmanager
def _sandbox(url: str) -> Iterator[None]:
    """Use a sandbox already answering at `url`, or start one there for the demo's duration."""
    try:
        if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
            _say(f"Using the sandbox already running at {url}")
            yield
            return
    except httpx.HTTPError:
        pass
    from sandbox import running

    port = httpx.URL(url).port or 8765
    with running(seed=0, port=port):
        _say(f"Started the sandbox (simulated WordPress and Webflow) at {url}")
        yield


async def _session(config: Path, sandbox_url: str) -> int:
    from mcp import Client

    failures = 0
    for server, post_title, pitch in (
        ("wordpress", "Cold brew at home: the 3-step guide",
         "Make smooth cold brew at home in three steps, with the grind, ratio and timing that work."),
        ("webflow", "Single-origin beans, explained",
         "What single-origin means, how it tastes different, and how to pick your first bag."),
    ):
        _say(f"\n== {server}: `marketing-mcp serve {server} --client demo` over stdio ==")
        async with Client(_served(server, config)) as client:
            tools = await client.list_tools()
            _say(f"{len(tools.tools)} tools: {', '.join(t.name for t in tools.tools)}")
            call = _caller(client)
            await call("site_info", {})
            draft = await call("create_draft", {"title": post_title, "body": "<p>Grind coarse, steep 12 hours, filter.</p>"})
            post_id = draft["post"]["id"]
            seo = {"post_id": post_id, "seo_title": f"{post_title} | Northwind Coffee",
                   "meta_description": pitch}
            await call("update_post", {**seo, "dry_run": True})
            await call("update_post", seo)
            await call("publish", {"post_id": post_id, "dry_run": True})
            published = await call("publish", {"post_id": post_id})
            failures += not await _check_live(published["post"]["url"], seo["seo_title"], seo["meta_description"])
    await _measure(config)
    await _email(config)
    _say("\nDemo finished." if not failures else f"\nDemo finished with {failures} failed check(s).")
    return 1 if failures else 0


async def _measure(config: Path) -> None:
    """The measuring half: GA4 landing pages, Search Console CTR opportunities, and an audit of the
    weakest page, over stdio."""
    from datetime import date, timedelta

    from mcp import Client

    opportunities = None
    for server, tool, args in (
        ("ga4", "top_landing_pages", {"limit": 5}),
        ("search-console", "ctr_opportunities", {"dimension": "page", "min_impressions": 100, "limit": 5}),
        ("page-analysis", "analyze_page", {}),
    ):
        _say(f"\n== {server}: `marketing-mcp serve {server} --client demo` over stdio ==")
        async with Client(_served(server, config)) as client:
            call = _caller(client)
            if server == "search-console":
                today = date.fromisoformat((await _sandbox_clock(config))[:10])
                args = {**args, "start": str(today - timedelta(days=30)), "end": str(today - timedelta(days=3))}
            if server == "page-analysis":  # the page Search Console ranks worst against its position
                from adapters.web.browser import find_chromium

                if not opportunities or find_chromium() is None:
                    _say("   skipped: no Chromium (run scripts/chromium-up.sh)")
                    continue
                args = {"url": opportunities}
            result = await call(tool, args)
            if server == "search-console" and result.get("opportunities"):
                opportunities = result["opportunities"][0]["keys"]["page"]
            for row in (result.get("rows") or result.get("opportunities") or result.get("findings") or [])[:5]:
                _say(f"     {json.dumps(row)[:150]}")


NEWSLETTER = ('<html><body><h1>The holiday blend is back</h1><p>Roasted Tuesday, at your door Friday.</p>'
              '<p><a href="http://127.0.0.1:8765/shop/">Order a bag</a></p></body></html>')


async def _email(config: Path) -> None:
    """The email half: an audience's baseline click rate, the recent campaign furthest below it, and a
    subject-line A/B test of a rewrite, judged on clicks (privacy proxies inflate opens), over stdio."""
    from mcp import Client

    for server in ("mailchimp", "customerio"):
        _say(f"\n== {server}: `marketing-mcp serve {server} --client demo` over stdio ==")
        async with Client(_served(server, config)) as client:
            call = _caller(client)
            caps = (await call("account_info", {}))["capabilities"]
            biggest = max((await call("list_audiences", {}))["items"], key=lambda a: a["member_count"])
            audience = await call("get_audience", {"audience_id": biggest["id"]})
            weakest = None
            for campaign in (await call("list_campaigns", {"status": "sent", "limit": 4}))["items"]:
                report = await call("campaign_report", {"campaign_id": campaign["id"]})
                if weakest is None or report["click_rate"] < weakest["click_rate"]:
                    weakest = report
            _say(f"   weakest recent subject: '{weakest['subject']}' clicked {weakest['click_rate']:.2%} against "
                 f"the audience's {audience['avg_click_rate']:.2%} (opens {weakest['open_rate']:.0%}: proxies)")
            rewrite = "Your next bag ships Tuesday: 3 brews to try?"
            args = {"name": "Subject test: holiday blend", "audience_id": audience["id"], "html": NEWSLETTER}
            if "ab_subject" not in caps:
                await call("create_campaign", {**args, "subject": rewrite, "dry_run": True})
                continue
            args.update(subject_lines=[weakest["subject"], rewrite], wait_hours=4)  # the ESP's default split
            await call("create_subject_test", {**args, "dry_run": True})
            if server != "mailchimp":
                continue
            campaign = (await call("create_subject_test", args))["campaign"]
            await call("send_campaign", {"campaign_id": campaign["id"], "dry_run": True})
            await call("send_campaign", {"campaign_id": campaign["id"]})
            _say(f"   (the sandbox's clock moves on a day: {await _advance_clock(config, hours=24)})")
            report = await call("campaign_report", {"campaign_id": campaign["id"]})
            for v in report["variants"]:
                _say(f"     '{v['subject']}': {v['sent']} sent, clicks {v['click_rate']:.2%}")
            _say(f"   winner: '{(await call('get_campaign', {'campaign_id': campaign['id']}))['ab_test']['winner']}'")


async def _advance_clock(config: Path, **delta: float) -> str:
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.post(f"{_sandbox_url(config)}/_sandbox/clock/advance", json=delta)).json()["clock"]


def _sandbox_url(config: Path) -> str:
    return str(load_config(config).client("demo").sandbox).rstrip("/")


async def _sandbox_clock(config: Path) -> str:
    """Search Console wants calendar dates: the sandbox's business day, not this machine's."""
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.get(f"{_sandbox_url(config)}/_sandbox/state")).json()["clock"]


def _served(server: str, config: Path):
    """`marketing-mcp serve SERVER --client demo` over stdio, started as a host starts it: a minimal
    environment, plus where this demo's vault and key are."""
    import os

    from mcp.client.stdio import StdioServerParameters, get_default_environment

    env = {**get_default_environment(), **{k: v for k, v in os.environ.items() if k.startswith("MARKETING_MCP_")}}
    return StdioServerParameters(command=sys.executable, env=env,
                                 args=["-m", "suite", "serve", server, "--client", "demo", "--config", str(config)])


def _caller(client: Any):
    async def call(tool: str, args: dict) -> dict:
        shown = {k: (v[:40] + "..." if isinstance(v, str) and len(v) > 43 else v) for k, v in args.items()}
        _say(f"-> {tool}({json.dumps(shown)})")
        result = await client.call_tool(tool, args)
        text = " ".join(getattr(c, "text", "") for c in result.content)
        _say(f"   {'ERROR ' if result.is_error else ''}{text}")
        if result.is_error:
            raise SystemExit(f"demo stopped: {tool} failed")
        return result.structured_content or {}

    return call


async def _check_live(url: str, title: str, description: str) -> bool:
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(url)
    shown_title = re.search(r"<title>(.*?)</title>", page.text, re.S)
    shown_desc = re.search(r'<meta name="description" content="([^"]*)"', page.text)
    ok = page.status_code == 200 and title in page.text and description in page.text
    _say(f"   live page {url}: HTTP {page.status_code}, <title>{shown_title.group(1).strip() if shown_title else '?'}"
         f"</title>, description {'present' if shown_desc else 'missing'} -> {'OK' if ok else 'NOT LIVE'}")
    return ok


def _say(line: str) -> None:
    print(line, flush=True)
