"""urlInspection.index.inspect: what Google knows of one URL of a property.

Pages under ``/wp-admin/`` are blocked by robots.txt; a page the traffic model never saw is unknown;
a page live for under three days is discovered but not indexed; a page gone since is a 404. Indexed
pages were crawled within the last nine days, and are "submitted" when a sitemap lists them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request

from ...traffic import noise
from ...world import World
from .sitemaps import WP_SITEMAP
from .sites import base_url


def inspect(world: World, request: Request, site_url: str, url: str, path: str) -> dict[str, Any]:
    traffic = world.traffic
    traffic.observe()
    today = world.now().date()
    base = base_url(request)
    token = int(noise(world.seed, "inspect-id", path)[0] * 10**12)
    link = (
        f"https://search.google.com/search-console/inspect?resource_id={quote(site_url, safe='')}"
        f"&id={token:012d}&utm_medium=link&utm_source=api"
    )
    model = traffic.pages.get(path)
    live = path in set(traffic.live_paths())
    index: dict[str, Any]
    if path.startswith("/wp-admin/") and not path.startswith("/wp-admin/admin-ajax.php"):
        index = {
            "verdict": "NEUTRAL",
            "coverageState": "Blocked by robots.txt",
            "robotsTxtState": "DISALLOWED",
            "indexingState": "INDEXING_ALLOWED",
            "pageFetchState": "BLOCKED_ROBOTS_TXT",
            "crawledAs": "MOBILE",
        }
        return {
            "inspectionResultLink": link,
            "indexStatusResult": index,
            "mobileUsabilityResult": {"verdict": "VERDICT_UNSPECIFIED"},
        }
    if model is None:
        index = {
            "verdict": "NEUTRAL",
            "coverageState": "URL is unknown to Google",
            "robotsTxtState": "ROBOTS_TXT_STATE_UNSPECIFIED",
            "indexingState": "INDEXING_STATE_UNSPECIFIED",
            "pageFetchState": "PAGE_FETCH_STATE_UNSPECIFIED",
        }
        return {
            "inspectionResultLink": link,
            "indexStatusResult": index,
            "mobileUsabilityResult": {"verdict": "VERDICT_UNSPECIFIED"},
        }
    in_sitemap = model.source in ("wordpress", "home")
    u = noise(world.seed, "crawl", path, today.toordinal() // 7)
    crawled = datetime.combine(today - timedelta(days=1 + int(u[0] * 8)), datetime.min.time()).replace(
        hour=int(u[1] * 24), minute=int(u[2] * 60), second=int(u[3] * 60)
    )
    index = {"robotsTxtState": "ALLOWED", "indexingState": "INDEXING_ALLOWED", "crawledAs": "MOBILE"}
    if not live:
        index.update(
            verdict="NEUTRAL",
            coverageState="Not found (404)",
            pageFetchState="NOT_FOUND",
            lastCrawlTime=crawled.isoformat() + "Z",
        )
    elif model.live_since > date.min and (today - model.live_since).days < 3:
        index.update(
            verdict="NEUTRAL",
            coverageState="Discovered - currently not indexed",
            pageFetchState="PAGE_FETCH_STATE_UNSPECIFIED",
        )
    else:
        if model.live_since > date.min:
            earliest = datetime.combine(model.live_since, datetime.min.time())
            crawled = max(crawled, earliest)
        index.update(
            verdict="PASS",
            coverageState="Submitted and indexed" if in_sitemap else "Indexed, not submitted in sitemap",
            pageFetchState="SUCCESSFUL",
            lastCrawlTime=crawled.isoformat() + "Z",
            googleCanonical=url,
            userCanonical=url,
        )
    if in_sitemap:
        index["sitemap"] = [base + WP_SITEMAP]
    referring = [base + "/"] if path != "/" else []
    if referring:
        index["referringUrls"] = referring
    result: dict[str, Any] = {
        "inspectionResultLink": link,
        "indexStatusResult": index,
        "mobileUsabilityResult": {"verdict": "PASS" if live else "VERDICT_UNSPECIFIED"},
    }
    if live and model.source == "wordpress" and index["verdict"] == "PASS":
        result["richResultsResult"] = {
            "verdict": "PASS",
            "detectedItems": [{"richResultType": "Breadcrumbs", "items": [{"name": "Unnamed item"}]}],
        }
    return result
