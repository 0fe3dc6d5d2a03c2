"""Page analysis speed with a warm browser, and against Lighthouse's SEO category, in one run.

    python benchmarks/page_analysis.py [--pages 50] [--lighthouse-pages 12] [--no-lighthouse]

The sandbox's site gives the pages (cycled to reach --pages). Our analyzer runs them one after
another with a warm Chromium; Lighthouse (npm `lighthouse`, installed into build/lighthouse on
first use, driving the same Chromium binary) runs its SEO category on the first
--lighthouse-pages of them (about 18 s a page here, so not all 50 by default). Printed: pages per
second for ours, the ratio of seconds per page, and how often the two agree on the checks both
make on the pages both ran.
Also: the median load of a local page in a reused page through the egress proxy, against a bare
Chromium without any proxy measured in the same run.
Targets: >= 10x faster than Lighthouse, >= 90% agreement, egress proxy <= 1.5x the bare load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time

from _common import ROOT, SandboxProcess, median, report

LIGHTHOUSE_DIR = ROOT / "build" / "lighthouse"
# Lighthouse SEO audit id -> our check ids that fail when it fails.
SAME_CHECK = {
    "document-title": ("title_missing",),
    "meta-description": ("meta_description_missing",),
    "http-status-code": ("status",),
    "is-crawlable": ("noindex",),
    "image-alt": ("img_alt_missing",),
    "hreflang": ("hreflang_invalid",),
    "canonical": ("canonical_mismatch",),
}


def lighthouse() -> str | None:
    binary = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if not shutil.which("npm"):
            return None
        print(f"installing lighthouse into {LIGHTHOUSE_DIR} ...", flush=True)
        LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(LIGHTHOUSE_DIR), "lighthouse@12"], check=True)
    return str(binary)


def run_lighthouse(binary: str, chrome: str, url: str) -> dict[str, bool]:
    out = subprocess.run(
        [
            binary,
            url,
            "--only-categories=seo",
            "--output=json",
            "--quiet",
            f"--chrome-path={chrome}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
            "--screenEmulation.disabled",
            "--form-factor=desktop",
            "--throttling-method=provided",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    audits = json.loads(out.stdout)["audits"]
    return {k: audits[k]["score"] != 0 for k in SAME_CHECK if k in audits and audits[k]["score"] is not None}


async def load_ms(browser, urls: list[str]) -> float:
    """Median ms for a reused pooled page (egress proxy, every check) to load a page."""
    times = []
    async with browser.page() as page:
        for url in urls:
            started = time.perf_counter()
            await page.goto(url, wait_until="load")
            times.append((time.perf_counter() - started) * 1000)
    return median(times)


async def bare_load_ms(chrome: str, urls: list[str]) -> float:
    """The baseline: the same Chromium and launch flags, no proxy at all."""
    from playwright.async_api import async_playwright

    from adapters.web.browser import LAUNCH_ARGS

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chrome, args=LAUNCH_ARGS)
        page = await (await browser.new_context()).new_page()
        await page.goto(urls[0], wait_until="load")
        times = []
        for url in urls:
            started = time.perf_counter()
            await page.goto(url, wait_until="load")
            times.append((time.perf_counter() - started) * 1000)
        await browser.close()
    return median(times)


async def main(pages: int, with_lighthouse: bool, lighthouse_pages: int) -> int:
    import httpx

    from adapters.web.analyzer import PageAnalyzer
    from adapters.web.browser import Browser, find_chromium
    from adapters.web.safety import UrlPolicy

    chrome = find_chromium()
    if chrome is None:
        print("no Chromium: run scripts/chromium-up.sh")
        return 1
    with SandboxProcess() as sandbox:
        paths = httpx.get(f"{sandbox.url}/_sandbox/page-defects").json()
        site = list(paths["pages"]) + list(paths["clean"])
        urls = [sandbox.url + site[i % len(site)] for i in range(pages)]
        analyzer = PageAnalyzer(Browser(UrlPolicy(allowed_hosts=frozenset({"127.0.0.1"}))))
        await analyzer.analyze(urls[0])  # warm: browser started, page in the pool
        started = time.perf_counter()
        ours = [await analyzer.analyze(u) for u in urls]
        elapsed = time.perf_counter() - started
        print(f"ours: {pages} pages in {elapsed:.2f} s = {pages / elapsed:.1f} pages/s (warm browser)")
        guarded = await load_ms(analyzer.browser, urls[:30])
        await analyzer.aclose()
        bare = await bare_load_ms(chrome, urls[:30])
        print(
            f"reused page, goto(load) of a local page: {guarded:.1f} ms through the egress proxy, "
            f"{bare:.1f} ms in a bare Chromium (median of 30)"
        )
        ok = report("egress proxy page load / bare", guarded / bare, "<= 1.5", guarded / bare <= 1.5, "x")
        binary = lighthouse() if with_lighthouse else None
        if binary:
            sample = urls[:lighthouse_pages]
            started = time.perf_counter()
            theirs = [run_lighthouse(binary, chrome, u) for u in sample]
            lh = (time.perf_counter() - started) / len(sample) * pages  # the same page count as ours
            print(f"lighthouse SEO: {len(sample)} pages in {lh * len(sample) / pages:.1f} s = {pages / lh:.2f} pages/s")
            agree = total = 0
            for mine, lh_result in zip(ours[: len(theirs)], theirs, strict=True):  # the pages both ran
                failed = {f.check for f in mine.findings}
                for audit, passed in lh_result.items():
                    total += 1
                    agree += passed == (not failed & set(SAME_CHECK[audit]))
            ok &= report("lighthouse time / ours", lh / elapsed, ">= 10", lh / elapsed >= 10, "x")
            ok &= report("agreement on shared checks", 100 * agree / max(1, total), ">= 90%", agree >= 0.9 * total, "%")
        else:
            print("lighthouse not run (no npm, or --no-lighthouse)")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--lighthouse-pages", type=int, default=12)
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.pages, not args.no_lighthouse, args.lighthouse_pages)))
