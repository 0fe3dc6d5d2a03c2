"""One Chromium per server process, started on first use, lending out a small pool of pages.

A reused page loads a local page in about 65 ms where a new context and page cost 0.4 s, so
pages are kept; a page whose tab crashed, or that did not answer in time, is closed and
replaced instead of being handed out again. Every request a page makes passes the URL policy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from adapters.errors import UpstreamUnavailable, Unsupported

from .safety import UrlPolicy

log = logging.getLogger("marketing_mcp.browser")

DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the real binary; /usr/bin/chromium is a slower wrapper
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1366, "height": 768}
MOBILE = {"width": 390, "height": 844}
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 " \
             "marketing-mcp-page-analysis"


def find_chromium(configured: str | None = None) -> str | None:
    """A configured path, Debian's chromium, or the one `python -m playwright install chromium` put in place."""
    for candidate in (configured, os.environ.get("MARKETING_MCP_CHROMIUM"), DEBIAN_CHROMIUM):
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


class Browser:
    def __init__(self, policy: UrlPolicy, *, executable: str | None = None, pages: int = 4,
                 max_page_bytes: int = 5_000_000):
        self.policy = policy
        self.max_page_bytes = max_page_bytes
        self._executable = executable
        self._size = pages
        self._lock = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._idle: asyncio.Queue | None = None
        self._made = 0
        self.replaced = 0  # pages thrown away after a crash or a hang

    async def _start(self) -> None:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return
            path = find_chromium(self._executable)
            if path is None:
                raise Unsupported(
                    "No Chromium was found for page analysis.",
                    hint="Install one: `sudo apt-get install chromium` (Debian/Ubuntu) or "
                         "`python -m playwright install chromium`, or set settings.chromium in mcp.json.")
            from playwright.async_api import async_playwright  # Playwright and Chromium only on first use

            if self._playwright is None:
                self._playwright = await async_playwright().start()
            try:
                self._browser = await self._playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
            except Exception as exc:  # noqa: BLE001 - a browser that will not start is one clear error
                raise UpstreamUnavailable(f"Chromium at {path} did not start ({type(exc).__name__}).",
                                          hint="Check that it runs: `" + path + " --headless --version`.") from None
            self._idle = asyncio.Queue()
            self._made = 0

    @asynccontextmanager
    async def page(self, viewport: dict | None = None) -> AsyncIterator[Any]:
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
                    self._made -= 1
        healthy = False
        try:
            await page.set_viewport_size(viewport or DESKTOP)
            yield page
            healthy = not page.is_closed() and not getattr(page, "_mcp_crashed", False)
        finally:
            if healthy:
                try:
                    await asyncio.wait_for(page.goto("about:blank"), 5)  # stop scripts, free memory
                except Exception:  # noqa: BLE001
                    healthy = False
            if healthy:
                self._idle.put_nowait(page)
            else:
                self.replaced += 1
                self._made -= 1
                try:
                    await asyncio.wait_for(page.context.close(), 5)
                except Exception:  # noqa: BLE001 - a dead tab may not even close cleanly
                    pass

    async def _new_page(self) -> Any:
        context = await self._browser.new_context(user_agent=USER_AGENT, viewport=DESKTOP,
                                                  service_workers="block", java_script_enabled=True)
        page = await context.new_page()
        page.on("crash", lambda p: setattr(p, "_mcp_crashed", True))
        await context.route("**/*", self._guard)
        return page

    async def _guard(self, route: Any) -> None:
        request = route.request
        url = request.url
        if not (url.startswith(("data:", "blob:", "about:")) or await asyncio.to_thread(self.policy.allows, url)):
            log.info("blocked a request to a refused address: %s", url.split("?")[0][:200])
            await route.abort("blockedbyclient")
            return
        if not request.is_navigation_request():
            await route.continue_()
            return
        # Chromium follows redirects without asking the route again, so a page could bounce the
        # browser into private space: fetch navigations hop by hop and hand each hop back, so the
        # browser's next request (the redirect target) comes through this guard too.
        try:
            response = await route.fetch(max_redirects=0)
            size = len(await response.body())
        except Exception:  # noqa: BLE001 - let the browser report the network error itself
            await route.continue_()
            return
        if size > self.max_page_bytes:
            request.frame.page._mcp_too_big = size  # the analyzer reports it; the browser never parses it
            await route.abort("failed")
            return
        await route.fulfill(response=response)

    async def aclose(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception:  # noqa: BLE001
                pass
        if self._playwright is not None:
            await self._playwright.stop()
        self._browser = self._playwright = None
