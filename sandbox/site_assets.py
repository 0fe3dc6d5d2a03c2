"""Static assets of the served sites under ``/assets/``, and a stand-in for Webflow's image CDN.

Every page uses the small, fast ones (logo, images, a deferred script). The
page with the ``render_blocking_slow`` defect also loads ``widget.css`` and
``slow-widget.js`` in its ``<head>``; the script answers only after
``SLOW_ASSET_DELAY`` seconds (an ``asyncio.sleep`` in the handler, so the
server stays free) and is never cached, so every load of that page is slow.

Webflow serves CMS images from ``cdn.prod.website-files.com``; the sandbox has
no such host, so the live site renders those URLs under ``/webflow-cdn/`` and
this module answers them with a generated image.
"""

from __future__ import annotations

import asyncio
import functools
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .world import World

ASSETS_PREFIX = "/assets"
SLOW_ASSET = "slow-widget.js"
SLOW_ASSET_DELAY = 1.2  # seconds before the slow widget's first byte
WEBFLOW_CDN = "https://cdn.prod.website-files.com/"
WEBFLOW_CDN_MIRROR = "/webflow-cdn/"

_BROWN, _CREAM, _DARK = (122, 62, 18), (255, 250, 243), (59, 36, 23)


def _png(width: int, height: int, bands: tuple[tuple[int, int, int], ...]) -> bytes:
    """A valid RGB PNG of horizontal colour bands (no imaging library needed)."""
    rows = []
    for y in range(height):
        colour = bands[min(len(bands) - 1, y * len(bands) // height)]
        rows.append(b"\x00" + bytes(colour) * width)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


@functools.cache
def og_image() -> bytes:
    return _png(1200, 630, (_DARK, _BROWN, _CREAM))


@functools.cache
def cdn_image() -> bytes:
    return _png(800, 450, (_CREAM, _BROWN, _DARK))


_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}">{body}</svg>\n'

LOGO_SVG = _SVG.format(
    w=40,
    h=40,
    body=(
        '<circle cx="20" cy="20" r="19" fill="#7a3e12"/>'
        '<ellipse cx="20" cy="20" rx="8" ry="12" fill="#fffaf3" transform="rotate(30 20 20)"/>'
        '<path d="M14 28 C20 20 20 20 26 12" stroke="#7a3e12" stroke-width="2" fill="none"/>'
    ),
)
BEANS_SVG = _SVG.format(
    w=1200,
    h=900,
    body=(
        '<rect width="1200" height="900" fill="#3b2417"/>'
        + "".join(
            f'<ellipse cx="{x}" cy="{y}" rx="70" ry="46" fill="#7a3e12" transform="rotate({(x + y) % 90} {x} {y})"/>'
            for x in range(120, 1200, 240)
            for y in range(120, 900, 220)
        )
    ),
)
ROASTERY_SVG = _SVG.format(
    w=1200,
    h=900,
    body=(
        '<rect width="1200" height="900" fill="#eadccb"/>'
        '<rect x="380" y="260" width="440" height="420" rx="40" fill="#3b2417"/>'
        '<circle cx="600" cy="470" r="120" fill="#7a3e12"/>'
        '<rect x="560" y="120" width="80" height="140" fill="#3b2417"/>'
    ),
)
BADGE_SVG = _SVG.format(
    w=16,
    h=16,
    body=(
        '<rect x="3" y="7" width="10" height="8" rx="1" fill="#2f6b3a"/>'
        '<path d="M5 7 V5 a3 3 0 0 1 6 0 V7" stroke="#2f6b3a" stroke-width="2" fill="none"/>'
    ),
)

SITE_JS = b'document.documentElement.classList.add("js");\n'
WIDGET_CSS = b".reviews-widget{min-height:3rem;border:1px solid #eadccb;border-radius:.5rem;padding:.75rem}\n"
SLOW_WIDGET_JS = (
    b"/* A third-party reviews widget loaded synchronously in <head>: it blocks rendering. */\n"
    b"window.northwindReviews = {rating: 4.8, count: 1240};\n"
)

# name -> (body, media type); bodies that are callables are generated on first use.
ASSETS = {
    "site.js": (SITE_JS, "application/javascript"),
    "widget.css": (WIDGET_CSS, "text/css"),
    SLOW_ASSET: (SLOW_WIDGET_JS, "application/javascript"),
    "logo.svg": (LOGO_SVG.encode(), "image/svg+xml"),
    "favicon.svg": (LOGO_SVG.encode(), "image/svg+xml"),
    "beans.svg": (BEANS_SVG.encode(), "image/svg+xml"),
    "roastery.svg": (ROASTERY_SVG.encode(), "image/svg+xml"),
    "secure-checkout.svg": (BADGE_SVG.encode(), "image/svg+xml"),
    "og-image.png": (og_image, "image/png"),
}
SLOW_ASSETS = {SLOW_ASSET: SLOW_ASSET_DELAY}


def asset_url(base: str, name: str) -> str:
    return f"{base}{ASSETS_PREFIX}/{name}"


def mirror_url(base: str, url: str) -> str:
    """Where the live site points a CMS image URL: Webflow CDN URLs are served by the sandbox itself."""
    if url.startswith(WEBFLOW_CDN):
        return base + WEBFLOW_CDN_MIRROR + url[len(WEBFLOW_CDN) :]
    return url


def asset_routes(world: World) -> list[Route]:
    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        found = ASSETS.get(name)
        if found is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        delay = SLOW_ASSETS.get(name)
        if delay:
            await asyncio.sleep(delay)
        body, media_type = found
        body = body() if callable(body) else body
        cache = "no-store" if delay else "public, max-age=3600"
        return Response(body, media_type=media_type, headers={"Cache-Control": cache})

    async def cdn(request: Request) -> Response:
        url = WEBFLOW_CDN + request.path_params["file"]
        with world.lock:
            known = any(
                (item.field_data.get("main-image") or {}).get("url") == url
                or ((item.live_field_data or {}).get("main-image") or {}).get("url") == url
                for collection in world.webflow.collections.values()
                for item in collection.items.values()
            )
        if not known:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(cdn_image(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})

    return [
        Route(ASSETS_PREFIX + "/{name}", asset, methods=["GET", "HEAD"]),
        Route(WEBFLOW_CDN_MIRROR + "{file:path}", cdn, methods=["GET", "HEAD"]),
    ]
