"""Page analysis speed with a warm browser, and against Lighthouse's SEO category, in one run.

    python benchmarks/page_analysis.py [--pages 50] [--lighthouse-pages 12] [--no-lighthouse]

The sandbox's site gives the pages (cycled to reach --pages). Our analyzer runs them one after
another with a warm Chromium; Lighthouse (npm `lighthouse`, installed into build/lighthouse on
first use, driving the same Chromium binary) runs its SEO category on the first
--lighthouse-pages of them (about 18 s a page here, so not all 50 by default). Printed: pages per
second for ours, the ratio of seconds per page, and how often the two agree on the checks both
make on the pages both ran.
Targets: >= 10x faster than Lighthouse, >= 90% agreement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time

from _common import ROOT, SandboxProcess, report

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
        [binary, url, "--only-categories=seo", "--output=json", "--quiet", f"--chrome-path={chrome}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
         "--screenEmulation.disabled", "--form-factor=desktop", "--throttling-method=provided"],
        capture_output=True, text=True, timeout=120)
    audits = json.loads(out.stdout)["audits"]
    return {k: audits[k]["score"] != 0 for k in SAME_CHECK if k in audits and audits[k]["score"] is not None}


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
        await analyzer.aclose()
        print(f"ours: {pages} pages in {elapsed:.2f} s = {pages / elapsed:.1f} pages/s (warm browser)")
        ok = True
        binary = lighthouse() if with_lighthouse else None
        if binary:
            sample = urls[:lighthouse_pages]
            started = time.perf_counter()
            theirs = [run_lighthouse(binary, chrome, u) for u in sample]
            lh = (time.perf_counter() - started) / len(sample) * pages  # the same page count as ours
            print(f"lighthouse SEO: {len(sample)} pages in {lh * len(sample) / pages:.1f} s = "
                  f"{pages / lh:.2f} pages/s")
            agree = total = 0
            for mine, lh_result in zip(ours, theirs):
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
