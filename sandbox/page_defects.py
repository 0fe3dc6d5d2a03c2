"""Which served pages are broken on purpose, and how, for page analysis (SEO, conversion, speed).

Two kinds of defect:

Content defects come from what the CMS holds, and go away when it is fixed through the CMS API:
``meta_description_missing`` (no meta description: the traffic model's weak-snippet pages are among
them), ``meta_description_too_short`` / ``_too_long`` (outside 70-160 characters),
``meta_description_duplicate`` (two live pages render the same one), ``title_too_long`` /
``title_too_short`` (the rendered ``<title>`` outside 30-60 characters). They are computed from the
current state on every call, never stored.

Template defects are how the theme renders particular pages wrong, whatever the CMS holds. They are
fixed here, by site and slug (``TEMPLATE_DEFECTS``), and follow the page while it is live. A defect
may carry a variant (``noindex``: a robots meta tag or an ``X-Robots-Tag`` header; ``jsonld_invalid``:
a syntax error or an ``Article`` without ``headline``).

Redirects (``REDIRECTS``) are answered before WordPress resolves a path: one chain
(301 -> 302 -> a live page) is itself a ``redirect_chain`` entry, another (301 -> 302 -> 404) is one of
the targets of the ``broken_link`` page's links.

``report(world)`` is what ``GET /_sandbox/page-defects`` answers: every live page of both sites by
its served path, with its defects, and the clean ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .seed_content import WEBFLOW_ITEMS
from .world import WEBFLOW_SITE_PREFIX

if TYPE_CHECKING:
    from .world import World

DEFECTS = (
    "meta_description_missing",
    "meta_description_too_short",
    "meta_description_too_long",
    "meta_description_duplicate",
    "title_too_long",
    "title_too_short",
    "h1_multiple",
    "h1_missing",
    "img_alt_missing",
    "render_blocking_slow",
    "cta_below_fold_mobile",
    "broken_link",
    "noindex",
    "jsonld_invalid",
    "canonical_mismatch",
    "og_missing",
    "viewport_missing",
    "lang_missing",
    "form_too_long",
    "redirect_chain",
)
TITLE_RANGE = (30, 60)  # characters of the rendered <title>, as search results show them
DESCRIPTION_RANGE = (70, 160)

# (site, slug) -> {defect: variant}. Slug "" is the site's home page. Every page here is live at seed 0;
# at other seeds a page that is not live simply carries nothing.
TEMPLATE_DEFECTS: dict[tuple[str, str], dict[str, str]] = {
    ("wordpress", "contact"): {"form_too_long": "12 fields"},
    ("wordpress", "wholesale"): {"h1_multiple": "promo heading"},
    ("wordpress", "shipping-returns"): {"h1_missing": "title in a <p>"},
    ("wordpress", "why-we-pay-above-fair-trade-prices"): {"lang_missing": "<html> without lang"},
    ("wordpress", "coffee-for-the-office-our-wholesale-program"): {"broken_link": "404 and redirect-to-404"},
    ("wordpress", "a-decaf-worth-drinking-our-swiss-water-colombian"): {"noindex": "meta"},
    ("wordpress", "training-baristas-for-cafe-partners"): {"viewport_missing": "no viewport meta"},
    ("wordpress", "our-2026-sustainability-report"): {"render_blocking_slow": "sync script + stylesheet"},
    ("wordpress", "cold-brew-concentrate-a-simple-overnight-recipe"): {"jsonld_invalid": "no_headline"},
    ("wordpress", "storing-coffee-beans-dos-and-donts"): {"og_missing": "no og: tags"},
    ("wordpress", "latte-art-basics-pouring-your-first-heart"): {"jsonld_invalid": "syntax"},
    ("wordpress", "introducing-our-coffee-subscription"): {"cta_below_fold_mobile": "900px hero on phones"},
    ("webflow", "measuring-coffee-subscriptions"): {"noindex": "header"},
    ("webflow", "cupping-notes-to-ad-copy"): {"canonical_mismatch": "canonical -> blog home"},
    ("webflow", "product-pages-that-sell-coffee"): {"img_alt_missing": "images without alt"},
}

# The Webflow blog's home page is a static page, not a CMS item: its SEO description was pasted from
# a post's (the meta_description_duplicate pair while that post is live with that description).
WEBFLOW_HOME_DESCRIPTION = next(item[5] for item in WEBFLOW_ITEMS if item[1] == "seasonal-launches")

# The storefront every call to action leads to (rendered by the sandbox, not by either CMS).
SHOP_PATH = "/shop/"
SHOP_TITLE = "Shop Coffee Beans \u2013 Northwind Coffee Roasters"
SHOP_DESCRIPTION = (
    "Shop small-batch coffee beans roasted every Tuesday in Portland: single origins, blends, decaf and subscriptions."
)

# Old path -> (status, location): redirects answered before WordPress resolves the path.
REDIRECTS: dict[str, tuple[int, str]] = {
    "/our-story/": (301, "/about/"),
    "/about/": (302, "/about-us/"),
    "/wholesale-price-list/": (301, "/wholesale/price-list-2024/"),
    "/wholesale/price-list-2024/": (302, "/wholesale/price-list/"),  # no such page: 404
}
REDIRECT_CHAIN = "/our-story/"  # 301 -> 302 -> /about-us/
# What the broken_link page links to: a plain 404, and a path that redirects twice, then 404s.
BROKEN_LINKS = ("/products/huila-lot-12/", "/wholesale-price-list/")


@dataclass(frozen=True)
class LivePage:
    """A page of either site as served now: the fields the content checks read, and its template defects."""

    path: str
    site: str  # "wordpress" | "webflow"
    slug: str  # "" for a site's home page
    title: str  # the rendered <title>
    description: str | None  # the rendered meta description
    template: dict[str, str]


def template_defects(site: str, slug: str) -> dict[str, str]:
    return dict(TEMPLATE_DEFECTS.get((site, slug), {}))


def home_title(world: World) -> str:
    wp = world.wordpress
    return f"{wp.name} \u2013 {wp.description}" if wp.description else wp.name


def live_pages(world: World) -> list[LivePage]:
    """Every page of the two sites a visitor can reach now, in site order (the sitemap's order)."""
    with world.lock:
        wp = world.wordpress
        out = [
            LivePage("/", "wordpress", "", home_title(world), wp.description or None, template_defects("wordpress", ""))
        ]
        for page in world.pages():
            slug = page.path.rstrip("/").rsplit("/", 1)[-1]
            out.append(
                LivePage(
                    page.path,
                    page.source,
                    slug,
                    page.document_title,
                    page.description,
                    template_defects(page.source, slug),
                )
            )
        # The storefront after the WordPress content, then the Webflow blog's home before its items.
        first_webflow = next((i for i, p in enumerate(out) if p.site == "webflow"), len(out))
        out.insert(first_webflow, LivePage(SHOP_PATH, "wordpress", "shop", SHOP_TITLE, SHOP_DESCRIPTION, {}))
        out.insert(
            first_webflow + 1,
            LivePage(
                WEBFLOW_SITE_PREFIX + "/",
                "webflow",
                "",
                world.webflow.display_name,
                WEBFLOW_HOME_DESCRIPTION,
                template_defects("webflow", ""),
            ),
        )
        return out


def content_defects(page: LivePage, duplicates: set[str]) -> list[str]:
    found = []
    description = (page.description or "").strip()
    if not description:
        found.append("meta_description_missing")
    elif len(description) < DESCRIPTION_RANGE[0]:
        found.append("meta_description_too_short")
    elif len(description) > DESCRIPTION_RANGE[1]:
        found.append("meta_description_too_long")
    if description and description in duplicates:
        found.append("meta_description_duplicate")
    if len(page.title) > TITLE_RANGE[1]:
        found.append("title_too_long")
    elif len(page.title) < TITLE_RANGE[0]:
        found.append("title_too_short")
    return found


def report(world: World) -> dict[str, Any]:
    """``{"pages": {path: [defect, ...]}, "clean": [path, ...]}`` for the live pages as they stand now."""
    with world.lock:
        pages = live_pages(world)
    seen: dict[str, int] = {}
    for page in pages:
        description = (page.description or "").strip()
        if description:
            seen[description] = seen.get(description, 0) + 1
    duplicates = {d for d, n in seen.items() if n > 1}
    defective: dict[str, list[str]] = {}
    clean: list[str] = []
    for page in pages:
        found = set(content_defects(page, duplicates)) | set(page.template)
        if found:
            defective[page.path] = [d for d in DEFECTS if d in found]
        else:
            clean.append(page.path)
    live = {p.path for p in pages}
    if _final(REDIRECT_CHAIN) in live:
        defective[REDIRECT_CHAIN] = ["redirect_chain"]
    return {"pages": defective, "clean": clean}


def _final(path: str) -> str:
    seen = set()
    while path in REDIRECTS and path not in seen:
        seen.add(path)
        path = REDIRECTS[path][1]
    return path
