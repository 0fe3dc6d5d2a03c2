"""Page analysis: load a page in Chromium, read its facts once, and turn them into findings.

Bounds everywhere: redirects, requests per page, time per page, links checked, pages crawled.
A page that never finishes loading is analyzed as far as it got (and says so); a tab that
crashes or hangs is reported and replaced in the pool. What a tool reports on is what was
actually reached: a navigation whose hop the egress proxy refused, or whose final URL the policy
refuses, is a PermissionDenied, never an analysis or a picture of an error page.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel, Field

from adapters.errors import AdapterError, InvalidRequest, PermissionDenied, UpstreamUnavailable
from adapters.json_values import JsonObject
from adapters.progress import progress
from adapters.timing import current_deadline

from . import checks
from .browser import DESKTOP, MOBILE, Browser
from .checks import Finding
from .dom import CTA, EXTRACT
from .egress import REFUSED_HEADER
from .safety import ALLOW_HINT

if TYPE_CHECKING:
    import httpx
    from playwright.async_api import Page, Request, Response

WaitUntil = Literal["commit", "domcontentloaded", "load", "networkidle"]

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
MAX_REDIRECTS = 5
MAX_FINDINGS = 40


class Metrics(BaseModel):
    ttfb_ms: float | None = None
    dom_content_loaded_ms: float | None = None
    load_ms: float | None = None
    lcp_ms: float | None = None
    cls: float | None = None
    transfer_bytes: int | None = None
    requests: int | None = None


class PageReport(BaseModel):
    url: str
    final_url: str
    status: int
    redirects: list[str]
    indexable: bool
    title: str
    meta_description: str | None
    h1: list[str]
    canonical: str | None
    links_internal: int
    links_external: int
    images: int
    metrics: Metrics
    findings: list[Finding] = Field(description="Problems, most severe first (capped).")
    passed: list[str] = Field(description="Checks the page passed.")
    complete: bool = Field(default=True, description="False when the page did not finish loading in time.")
    blocked: list[str] = Field(
        default_factory=list,
        description=(
            "Destinations (host:port) the page tried to reach that are not allowed (private or loopback "
            "addresses); nothing was sent to them."
        ),
    )
    analyzed_at: float


class LinkStatus(BaseModel):
    url: str
    status: int | None
    ok: bool
    error: str | None = None


class LinkReport(BaseModel):
    page: str
    checked: int
    broken: int
    links: list[LinkStatus] = Field(description="Broken first.")
    skipped: int = Field(default=0, description="Links beyond the bound, not checked.")


class Screenshot(BaseModel):
    url: str
    viewport: str
    full_page: bool
    png_base64: str = Field(default="", exclude=True, description="Sent as image content, not here.")
    bytes: int


class Delta(BaseModel):
    check: str
    message: str


class PageComparison(BaseModel):
    a: str
    b: str
    better: list[Delta] = Field(description="Problems in A that B no longer has.")
    worse: list[Delta] = Field(description="Problems B has that A did not.")
    unchanged: list[str]
    metrics_a: Metrics
    metrics_b: Metrics


class CrawlPage(BaseModel):
    url: str
    status: int
    title: str
    problems: list[str]


class CrawlReport(BaseModel):
    start: str
    pages: list[CrawlPage]
    repeated: dict[str, int] = Field(description="Check -> number of pages failing it, most common first.")
    duplicate_titles: list[list[str]]
    duplicate_descriptions: list[list[str]]
    stopped_because: str | None = None


class PageAnalyzer:
    def __init__(
        self,
        browser: Browser,
        *,
        page_timeout: float = 15.0,
        link_concurrency: int = 8,
        link_timeout: float = 5.0,
        max_links: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.browser = browser
        self.policy = browser.policy
        self._page_timeout = page_timeout
        self._link_concurrency = link_concurrency
        self._link_timeout = link_timeout
        self._max_links = max_links
        self._transport = transport

    async def aclose(self) -> None:
        await self.browser.aclose()

    def _budget(self) -> float:
        deadline = current_deadline()
        return min(self._page_timeout, deadline.remaining() - 1.0) if deadline else self._page_timeout

    # -- analyze -------------------------------------------------------------

    async def _checked(self, url: str) -> str:
        return await asyncio.to_thread(self.policy.check, url)  # may resolve a name: off the event loop

    async def _open(self, page: Page, url: str, *, wait_until: WaitUntil, timeout: float) -> Response:
        """Navigate ``page``; the response of what was reached, or PermissionDenied when a hop was refused."""
        state = self.browser.state(page)
        gate = state.gate
        gate.take_refused()
        state.too_big = None
        failed: list[str] = []

        def on_failed(request: Request) -> None:
            try:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    failed.append(request.url)
            except Exception:
                pass

        page.on("requestfailed", on_failed)
        try:
            response = await page.goto(url, wait_until=wait_until, timeout=timeout * 1000)
        except Exception:
            for hop in failed:  # a CONNECT the proxy refused surfaces as a tunnel error
                why = gate.refusal_for(hop)
                if why:
                    raise PermissionDenied(f"{url} leads to {why}", hint=ALLOW_HINT) from None
            self._raise_if_too_big(page, url)
            raise
        finally:
            page.remove_listener("requestfailed", on_failed)
        self._raise_if_too_big(page, url)
        if response is None:
            raise InvalidRequest(f"{url} did not produce a page.")
        if response.headers.get(REFUSED_HEADER):
            why = gate.refusal_for(response.url) or f"{response.url} is not an allowed address"
            raise PermissionDenied(f"{url} leads to {why}", hint=ALLOW_HINT)
        await self._checked(response.url)  # the final URL, the one reported on
        return response

    def _raise_if_too_big(self, page: Page, url: str) -> None:
        state = self.browser.state(page)
        too_big = state.too_big
        if too_big:
            state.too_big = None
            raise InvalidRequest(
                f"{url} is over {too_big / 1e6:.1f} MB of HTML, past the "
                f"{self.browser.max_page_bytes / 1e6:.0f} MB limit; it was not analyzed.",
                hint="Analyze a smaller page.",
            )

    async def analyze(self, url: str) -> PageReport:
        await self._checked(url)
        budget = self._budget()
        if budget <= 1:
            raise UpstreamUnavailable("Not enough time left in this call to load a page.", hint="Try again.")
        async with self.browser.page(DESKTOP) as page:
            try:
                return await asyncio.wait_for(self._analyze(page, url, budget), budget + 5)
            except asyncio.TimeoutError:
                self.browser.state(page).crashed = True  # hung: do not lend this tab out again
                raise UpstreamUnavailable(
                    f"{url} kept the browser busy past {budget:.0f} s.",
                    hint="The page may run a script that never ends; try again later.",
                ) from None
            except AdapterError:
                raise
            except Exception as exc:
                state = self.browser.state(page)
                if state.crashed or "crash" in str(exc).lower():
                    state.crashed = True
                    raise UpstreamUnavailable(
                        f"The browser tab crashed while loading {url}.",
                        hint="The page may be too heavy; it was not retried.",
                    ) from None
                raise UpstreamUnavailable(
                    f"{url} could not be loaded: {_short_error(exc)}.", hint="Check that the URL opens in a browser."
                ) from None

    async def _analyze(self, page: Page, url: str, budget: float) -> PageReport:
        started = time.monotonic()
        response = await self._open(page, url, wait_until="domcontentloaded", timeout=budget)
        redirects = _redirects(response)
        if len(redirects) > MAX_REDIRECTS:
            raise InvalidRequest(
                f"{url} redirects {len(redirects)} times (limit {MAX_REDIRECTS}).",
                hint="Analyze the final URL, and fix the chain.",
            )
        complete = True
        try:
            await page.wait_for_load_state("load", timeout=max(0.5, budget - (time.monotonic() - started)) * 1000)
        except Exception:
            complete = False
        facts: JsonObject = await page.evaluate(EXTRACT)
        await page.set_viewport_size(MOBILE)
        mobile: JsonObject = await page.evaluate(CTA)
        headers = await response.all_headers()
        found = checks.seo(facts, response.status, redirects, headers.get("x-robots-tag"))
        found += checks.conversion(facts, mobile) + checks.speed(facts)
        if not complete:
            found.append(
                Finding(
                    check="load_incomplete",
                    category="speed",
                    severity="warning",
                    message=f"The page had not finished loading after {budget:.0f} s.",
                    fix="Find the request that never completes (a hanging script or tracker).",
                )
            )
        report = _report(url, response.status, redirects, facts, found, complete)
        report.blocked = self.browser.state(page).gate.take_refused()
        return report

    # -- links -------------------------------------------------------------

    async def check_links(self, url: str) -> LinkReport:
        await self._checked(url)
        async with self.browser.page(DESKTOP) as page:
            try:
                response = await self._open(page, url, wait_until="domcontentloaded", timeout=self._budget())
                hrefs: list[str] = await page.evaluate(
                    "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
                )
            except AdapterError:
                raise
            except Exception as exc:
                raise UpstreamUnavailable(f"{url} could not be loaded: {_short_error(exc)}.") from None
            url = response.url  # the page the links were read from
        unique = list(dict.fromkeys(urldefrag(h)[0] for h in hrefs if h.startswith(("http://", "https://"))))
        todo, skipped = unique[: self._max_links], max(0, len(unique) - self._max_links)
        results = await self._statuses(todo)
        results.sort(key=lambda r: (r.ok, r.url))
        return LinkReport(
            page=url, checked=len(results), broken=sum(not r.ok for r in results), links=results, skipped=skipped
        )

    async def _http(self, **kwargs: Any) -> httpx.AsyncClient:
        """The server's own fetches leave through the browser's egress proxy, checked the same way."""
        import httpx

        if self._transport is not None:  # tests and benchmarks that stand in for the network
            return httpx.AsyncClient(transport=self._transport, **kwargs)
        return httpx.AsyncClient(proxy=await self.browser.egress_url(), trust_env=False, **kwargs)

    async def _statuses(self, urls: list[str]) -> list[LinkStatus]:
        import httpx  # server start-up does not pay for it

        slots = asyncio.Semaphore(self._link_concurrency)
        deadline = current_deadline()

        checked = 0

        async def one(http: httpx.AsyncClient, link: str) -> LinkStatus:
            nonlocal checked
            status = await check(http, link)
            checked += 1
            await progress(checked, len(urls))
            return status

        async def check(http: httpx.AsyncClient, link: str) -> LinkStatus:
            async with slots:
                left = deadline.remaining() if deadline else self._link_timeout
                if left < 0.5:
                    return LinkStatus(url=link, status=None, ok=False, error="not checked: out of time")
                try:
                    r = await _follow(http, link, min(self._link_timeout, left), self.browser.egress.refusal_for)
                    return LinkStatus(url=link, status=r.status_code, ok=r.status_code < 400)
                except PermissionDenied:
                    return LinkStatus(url=link, status=None, ok=False, error=REFUSED)
                except httpx.TimeoutException:
                    return LinkStatus(url=link, status=None, ok=False, error="timed out")
                except (httpx.HTTPError, AdapterError) as exc:
                    return LinkStatus(url=link, status=None, ok=False, error=_short_error(exc))

        async with await self._http(follow_redirects=False, headers={"User-Agent": "marketing-mcp link check"}) as http:
            return list(await asyncio.gather(*(one(http, u) for u in urls)))

    # -- screenshot ----------------------------------------------------------

    async def screenshot(
        self, url: str, *, viewport: Literal["desktop", "mobile"], full_page: bool, max_bytes: int = 1_500_000
    ) -> Screenshot:
        await self._checked(url)
        size = MOBILE if viewport == "mobile" else DESKTOP
        async with self.browser.page(size) as page:
            try:
                response = await self._open(page, url, wait_until="load", timeout=self._budget())
                png = await page.screenshot(full_page=full_page, type="png")
                if len(png) > max_bytes and full_page:
                    png = await page.screenshot(full_page=False, type="png")  # the first screen still says a lot
                    full_page = False
                url = response.url  # what the picture shows
            except AdapterError:
                raise
            except Exception as exc:
                raise UpstreamUnavailable(f"{url} could not be captured: {_short_error(exc)}.") from None
        if len(png) > max_bytes:
            raise InvalidRequest(
                f"The screenshot is {len(png)} bytes, over the {max_bytes} byte cap.",
                hint="Use viewport='mobile' or full_page=false.",
            )
        return Screenshot(
            url=url, viewport=viewport, full_page=full_page, png_base64=base64.b64encode(png).decode(), bytes=len(png)
        )

    # -- compare, crawl ------------------------------------------------------

    async def compare(self, a: PageReport, b: PageReport) -> PageComparison:
        fa = {f.check: f for f in a.findings}
        fb = {f.check: f for f in b.findings}
        return PageComparison(
            a=a.final_url,
            b=b.final_url,
            better=[Delta(check=c, message=fa[c].message) for c in fa if c not in fb],
            worse=[Delta(check=c, message=fb[c].message) for c in fb if c not in fa],
            unchanged=sorted(set(fa) & set(fb)),
            metrics_a=a.metrics,
            metrics_b=b.metrics,
        )

    async def crawl(self, start: str, *, max_pages: int, max_depth: int, time_budget: float) -> CrawlReport:
        await self._checked(start)
        host = urlsplit(start).netloc
        began = time.monotonic()
        # The start page first (it is what was asked for), then its links, then the sitemap's pages.
        queue: list[tuple[str, int]] = [(start, 0)]
        later = [(u, 1) for u in await self._sitemap_urls(start, host)]
        seen = {start}
        pages: list[CrawlPage] = []
        reports: list[PageReport] = []
        stopped = None
        while queue or later:
            if pages and later:
                queue += [(u, d) for u, d in later if u not in seen]
                seen.update(u for u, _ in later)
                later = []
            if len(pages) >= max_pages:
                stopped = f"page limit ({max_pages})"
                break
            if time.monotonic() - began > time_budget:
                stopped = f"time limit ({time_budget:.0f} s)"
                break
            url, depth = queue.pop(0)
            try:
                report = await self.analyze(url)
            except AdapterError as exc:
                kind = " (permission_denied)" if isinstance(exc, PermissionDenied) else ""
                pages.append(CrawlPage(url=url, status=0, title="", problems=[f"not analyzed{kind}: {exc.message}"]))
                await progress(len(pages), max_pages, url)
                continue
            reports.append(report)
            pages.append(
                CrawlPage(
                    url=report.final_url,
                    status=report.status,
                    title=report.title,
                    problems=[f.check for f in report.findings if f.severity != "info"],
                )
            )
            await progress(len(pages), max_pages, report.final_url)
            if depth < max_depth:
                for link in await self._internal_links(report.final_url, host):
                    if link not in seen:
                        seen.add(link)
                        queue.append((link, depth + 1))
        repeated = Counter(p for page in pages for p in page.problems if not p.startswith("not analyzed"))
        return CrawlReport(
            start=start,
            pages=pages,
            repeated=dict(repeated.most_common()),
            duplicate_titles=_duplicates(reports, lambda r: r.title),
            duplicate_descriptions=_duplicates(reports, lambda r: r.meta_description),
            stopped_because=stopped,
        )

    async def _sitemap_urls(self, start: str, host: str) -> list[str]:
        import re

        import httpx

        parts = urlsplit(start)
        try:
            async with await self._http(timeout=5.0) as http:  # redirects not followed: a hop would go unchecked
                r = await http.get(f"{parts.scheme}://{host}/sitemap.xml")
        except httpx.HTTPError:
            return []
        if r.status_code != 200 or r.headers.get(REFUSED_HEADER):
            return []
        urls: list[str] = [u.strip() for u in re.findall(r"<loc>(.*?)</loc>", r.text)]
        return [u for u in dict.fromkeys(urls) if urlsplit(u).netloc == host and not u.endswith(".xml")]

    async def _internal_links(self, url: str, host: str) -> list[str]:
        async with self.browser.page(DESKTOP) as page:
            try:
                await self._open(page, url, wait_until="domcontentloaded", timeout=self._budget())
                hrefs: list[str] = await page.evaluate(
                    "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
                )
            except Exception:
                return []
        return [
            u
            for u in dict.fromkeys(urldefrag(h)[0] for h in hrefs)
            if u.startswith(("http://", "https://")) and urlsplit(u).netloc == host
        ]


REFUSED = "refused: not a public address"


async def _follow(
    http: httpx.AsyncClient, url: str, timeout: float, refusal_for: Callable[[str], str | None]
) -> httpx.Response:
    """HEAD (GET when HEAD is refused), redirects followed one hop at a time, each hop through the proxy."""
    import httpx

    for _ in range(MAX_REDIRECTS + 1):
        if not url.startswith(("http://", "https://")):
            raise InvalidRequest(f"a redirect to a non-http URL ({url[:40]})")
        try:
            r = await http.head(url, timeout=timeout)
            if r.status_code in (405, 501):
                r = await http.get(url, timeout=timeout)
        except httpx.ProxyError:  # a CONNECT (https) the proxy refused, or could not make
            if refusal_for(url):
                raise PermissionDenied(f"{url} is not an allowed address") from None
            raise
        if r.headers.get(REFUSED_HEADER):
            raise PermissionDenied(f"{url} is not an allowed address")
        if r.status_code not in (301, 302, 303, 307, 308) or "location" not in r.headers:
            return r
        url = str(r.url.join(r.headers["location"]))
    raise InvalidRequest(f"more than {MAX_REDIRECTS} redirects")


def _redirects(response: Response) -> list[str]:
    chain: list[str] = []
    request = response.request.redirected_from
    while request is not None:
        chain.insert(0, request.url)
        request = request.redirected_from
    return chain


def _report(
    url: str, status: int, redirects: list[str], facts: JsonObject, found: list[Finding], complete: bool
) -> PageReport:
    found.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    failed = {f.check for f in found}
    perf: JsonObject = facts.get("perf") or {}
    return PageReport(
        url=url,
        final_url=facts.get("url") or url,
        status=status,
        redirects=redirects,
        indexable=checks.indexable(found),
        title=(facts.get("title") or "")[:200],
        meta_description=(facts.get("description") or None),
        h1=facts.get("h1") or [],
        canonical=facts.get("canonical"),
        links_internal=facts.get("links_internal", 0),
        links_external=facts.get("links_external", 0),
        images=facts.get("images", 0),
        metrics=Metrics(
            ttfb_ms=_r(perf.get("ttfb")),
            dom_content_loaded_ms=_r(perf.get("dcl")),
            load_ms=_r(perf.get("load")),
            lcp_ms=_r(perf.get("lcp")),
            cls=round(perf["cls"], 3) if perf.get("cls") is not None else None,
            transfer_bytes=perf.get("transfer"),
            requests=perf.get("requests"),
        ),
        findings=found[:MAX_FINDINGS],
        passed=[c for group in checks.CHECKS.values() for c in group if c not in failed],
        complete=complete,
        analyzed_at=time.time(),
    )


def _duplicates(reports: list[PageReport], key: Callable[[PageReport], str | None]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for r in reports:
        value = (key(r) or "").strip().lower()
        if value:
            groups.setdefault(value, []).append(r.final_url)
    return [urls for urls in groups.values() if len(urls) > 1]


def _r(value: Any) -> float | None:
    return round(value, 1) if isinstance(value, (int, float)) and value else None


def _short_error(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    return (text or type(exc).__name__)[:160]
