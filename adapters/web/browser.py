"""One Chromium per server process, started on first use, lending out a small pool of pages.

A reused page loads a local page in about 65 ms where a new context and page cost 0.4 s, so
pages are kept; a page whose tab crashed, or that did not answer in time, is closed and
replaced instead of being handed out again.

Nothing a page does reaches the network except through an egress proxy (``egress.py``) that
checks the address of every connection: each page's context has its own proxy (so a tool can
say what its page was refused), the browser's launch proxy is the backstop, and loopback is
not exempt (``<-loopback>``; Chromium bypasses a proxy for loopback by default). WebRTC may
not send UDP outside the proxy, and Chromium resolves no names itself. Each of these is proven
by a canary test in tests/servers/test_egress.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from adapters.errors import Unsupported, UpstreamUnavailable
from adapters.json_values import JsonObject

from .egress import EgressProxy, Resolver
from .safety import UrlPolicy

if TYPE_CHECKING:  # Playwright itself is imported on first use
    from playwright.async_api import Browser as Chromium
    from playwright.async_api import CDPSession, Page, Playwright, ViewportSize

log = logging.getLogger("marketing_mcp.browser")

DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the real binary; /usr/bin/chromium is a slower wrapper
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_BYPASS = "<-loopback>"  # removes Chromium's implicit proxy bypass for localhost, 127/8 and ::1
EGRESS_ARGS = [
    f"--proxy-bypass-list={NO_BYPASS}",
    # WebRTC would send STUN over UDP straight to any address a page names; both spellings of the
    # policy switch are honoured by Chromium 156 (each alone stops the canary's datagrams).
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Names are resolved by the proxy only, so Chromium makes no DNS queries of its own.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
MOBILE: ViewportSize = {"width": 390, "height": 844}
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 "
    "marketing-mcp-page-analysis"
)


def find_chromium(configured: str | None = None) -> str | None:
    """A configured path, Debian's chromium, or the one `python -m playwright install chromium` put in place."""
    for candidate in (configured, DEBIAN_CHROMIUM):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    for found in sorted(cache.glob("chromium-*/chrome-linux*/chrome"), reverse=True):
        return str(found)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageState:
    """What the pool knows of one of its pages."""

    gate: EgressProxy  # the page's own egress proxy: what it refused, and a switch to cut its connections
    too_big: int | None = None  # bytes of a main document past max_page_bytes, until a tool reports it
    crashed: bool = False  # crashed or hung: closed instead of lent out again


class Browser:
    def __init__(
        self,
        policy: UrlPolicy,
        *,
        executable: str | None = None,
        pages: int = 4,
        max_page_bytes: int = 5_000_000,
        resolver: Resolver | None = None,
    ):
        self.policy = policy
        self._resolver = resolver
        self.egress = EgressProxy(policy, resolver=resolver)  # the launch proxy, and the link checker's
        self.max_page_bytes = max_page_bytes
        self._executable = executable
        self._size = pages
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Chromium | None = None
        self._idle: asyncio.Queue[Page] | None = None
        self._states: dict[Page, PageState] = {}  # every page the pool made and has not thrown away
        self._made = 0
        self.replaced = 0  # pages thrown away after a crash or a hang

    async def egress_url(self) -> str:
        """The launch proxy's URL, started if it was not (the link checker may need it before any page)."""
        if not self.egress.port:
            await self.egress.start()
        return self.egress.url

    async def _start(self) -> None:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return
            path = find_chromium(self._executable)
            if path is None:
                raise Unsupported(
                    "No Chromium was found for page analysis.",
                    hint="Install one: `sudo apt-get install chromium` (Debian/Ubuntu) or "
                    "`python -m playwright install chromium`, or set settings.chromium in mcp.json.",
                )
            from playwright.async_api import async_playwright  # Playwright and Chromium only on first use

            if self._playwright is None:
                self._playwright = await async_playwright().start()
            args = LAUNCH_ARGS + [f"--proxy-server={await self.egress_url()}"] + EGRESS_ARGS
            try:
                self._browser = await self._playwright.chromium.launch(executable_path=path, args=args)
            except Exception as exc:
                raise UpstreamUnavailable(
                    f"Chromium at {path} did not start ({type(exc).__name__}).",
                    hint="Check that it runs: `" + path + " --headless --version`.",
                ) from None
            self._idle = asyncio.Queue()
            self._made = 0

    def state(self, page: Page) -> PageState:
        """The pool's record of a page it lent out."""
        return self._states[page]

    @asynccontextmanager
    async def page(self, viewport: ViewportSize | None = None) -> AsyncGenerator[Page, None]:
        """A clean page from the pool; returned afterwards unless it crashed or the call failed midway."""
        await self._start()
        assert self._idle is not None
        page = None
        while page is None:
            if self._idle.empty() and self._made < self._size:
                self._made += 1
                page = await self._new_page()
            else:
                candidate = await self._idle.get()
                page = None if candidate.is_closed() else candidate
                if page is None:
                    self._states.pop(candidate, None)
                    self._made -= 1
        healthy = False
        try:
            await page.set_viewport_size(viewport or DESKTOP)
            yield page
            healthy = not page.is_closed() and not self._states[page].crashed
        finally:
            if healthy:
                try:
                    await asyncio.wait_for(page.goto("about:blank"), 5)  # stop scripts, free memory
                except Exception:
                    healthy = False
            if healthy:
                self._idle.put_nowait(page)
            else:
                self.replaced += 1
                self._made -= 1
                self._states.pop(page, None)
                try:
                    await asyncio.wait_for(page.context.close(), 5)
                except Exception:
                    pass

    async def _new_page(self) -> Page:
        assert self._browser is not None  # started by _start
        gate = await EgressProxy(self.policy, resolver=self._resolver).start()
        context = await self._browser.new_context(
            user_agent=USER_AGENT,
            viewport=DESKTOP,
            service_workers="block",
            java_script_enabled=True,
            proxy={"server": gate.url, "bypass": NO_BYPASS},
        )
        page = await context.new_page()
        state = self._states[page] = PageState(gate)

        def crashed(_: Page) -> None:
            state.crashed = True

        page.on("crash", crashed)
        page.on("close", lambda _: asyncio.ensure_future(gate.aclose()))
        await self._watch_size(page, state)
        return page

    async def _watch_size(self, page: Page, state: PageState) -> None:
        """Close the tab whose main document passes max_page_bytes as it streams in, whatever its scheme."""
        session = await page.context.new_cdp_session(page)
        tree = await _cdp(session, "Page.getFrameTree")
        main = tree["frameTree"]["frame"]["id"]
        documents: dict[str, int] = {}

        def sent(event: JsonObject) -> None:
            if event.get("type") == "Document" and event.get("frameId") == main:
                documents.clear()
                documents[event["requestId"]] = 0

        def received(event: JsonObject) -> None:
            rid: str = event["requestId"]
            if rid not in documents:
                return
            documents[rid] += event.get("dataLength", 0)
            if documents[rid] > self.max_page_bytes and not state.too_big:
                state.too_big = documents[rid]
                # Stopping the load leaves Chromium parsing what it already holds (20 MB: 15 s and more),
                # so the tab is closed instead and the pool makes a new one.
                state.gate.cut()
                asyncio.ensure_future(page.close())

        session.on("Network.requestWillBeSent", sent)
        session.on("Network.dataReceived", received)
        await _cdp(session, "Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0})

    async def aclose(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception:
                pass
        if self._playwright is not None:
            await self._playwright.stop()
        await self.egress.aclose()
        self._browser = self._playwright = None
        self._states.clear()


async def _cdp(session: CDPSession, method: str, params: JsonObject | None = None) -> JsonObject:
    """One Chrome DevTools Protocol command and its result."""
    # Playwright annotates the params and the result as a bare Dict; both are JSON objects.
    sent = await session.send(method, params)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]  # bare Dict
    return cast("JsonObject", sent)
