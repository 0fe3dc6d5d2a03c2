"""Sitemaps of a property: what was submitted, when Google downloaded it, and what it found in it.

The account starts with ``/wp-sitemap.xml`` submitted long ago; a submitted sitemap is downloaded a
day later. Sitemaps the sandbox serves report their URLs and how many are indexed (live three days
or more); any other reports one error, since Google could not fetch it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from ...page_defects import live_pages
from ...world import World
from ..google.errors import GoogleError
from ..google.state import Sitemap
from .sites import base_url, path_in_property

WP_SITEMAP = "/wp-sitemap.xml"
SITE_SITEMAP = "/sitemap.xml"  # served by pages.site_sitemap


def site_sitemaps(world: World, kind: str) -> dict[str, Sitemap]:
    return world.google.sitemaps[kind]


def feed_key(request: Request, feed: str) -> str:
    base = base_url(request)
    return feed[len(base) :] if feed.startswith(base + "/") else feed


def check_feed(request: Request, site_url: str, kind: str, feed: str) -> None:
    parts = urlsplit(feed)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GoogleError(400, f"Invalid sitemap URL '{feed}': use the sitemap's full URL.", legacy=True)
    if path_in_property(request, site_url, kind, feed) is None:
        raise GoogleError(400, f"Sitemap URL '{feed}' is not within the property '{site_url}'.", legacy=True)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sitemap_json(world: World, request: Request, sitemap: Sitemap) -> dict[str, Any]:
    full = base_url(request) + sitemap.path if sitemap.path.startswith("/") else sitemap.path
    now = world.now()
    downloaded = sitemap.downloaded
    if downloaded is None and now >= sitemap.submitted + timedelta(days=1):
        downloaded = sitemap.submitted + timedelta(days=1)
    out: dict[str, Any] = {
        "path": full,
        "lastSubmitted": _stamp(sitemap.submitted),
        "isPending": downloaded is None,
        "isSitemapsIndex": False,
        "type": "sitemap",
    }
    if downloaded is None:
        out.update(warnings="0", errors="0")
        return out
    out["lastDownloaded"] = _stamp(downloaded)
    if sitemap.path in (WP_SITEMAP, SITE_SITEMAP):
        wp = world.wordpress
        # /sitemap.xml (both sites) also lists the storefront and the Webflow blog's home and live items.
        sources = ("wordpress", "home") if sitemap.path == WP_SITEMAP else ("wordpress", "home", "webflow")
        urls = (
            1 + sum(1 for p in wp.posts.values() if p.status == "publish")
            if sitemap.path == WP_SITEMAP
            else len(live_pages(world))
        )
        traffic = world.traffic
        traffic.observe()
        today = now.date()
        indexed = sum(
            1
            for path in traffic.live_paths()
            if traffic.pages[path].source in sources and (today - traffic.pages[path].live_since).days >= 3
        )
        out.update(
            warnings="0",
            errors="0",
            contents=[{"type": "web", "submitted": str(urls), "indexed": str(min(urls, indexed))}],
        )
    else:
        out.update(warnings="0", errors="1")  # the sandbox serves no such sitemap: Google couldn't fetch it
    return out
