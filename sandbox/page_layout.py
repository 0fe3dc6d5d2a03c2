"""The served sites' theme: one HTML document per page, with the furniture of a real marketing page.

Every page gets ``lang``, a viewport, title, meta description (when the CMS has one), canonical,
robots, Open Graph and Twitter card tags, JSON-LD (``Organization`` on the home page, ``Article`` on
posts and blog items, ``WebPage`` and friends elsewhere), inline critical CSS, a deferred script, a
header with navigation, a hero with one primary call to action (``a.cta``), trust signals (rating,
free shipping, secure checkout, guarantee), images with ``alt`` and fixed dimensions, a newsletter
form (one field) and a footer with internal and external links.

``render(doc, base, chrome, defects)`` applies the page's template defects (see ``page_defects``)
on top of that; with no defects the page passes every check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any, Mapping

from starlette.responses import HTMLResponse

from .page_defects import BROKEN_LINKS, SHOP_PATH
from .site_assets import SLOW_ASSET, asset_url

PRIMARY_CTA = ("Shop our beans", SHOP_PATH)
INSTAGRAM = "https://www.instagram.com/northwindcoffee/"
ORGANIZATION = "Northwind Coffee Roasters"
ROBOTS_INDEX = "index, follow, max-image-preview:large, max-snippet:-1"

# Critical CSS, inlined so that no stylesheet blocks rendering. The split hero is side by side on
# desktop and stacked on phones, where its 900px image pushes what follows below the fold.
CSS = """\
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#2b1d14;background:#fffaf3}
a{color:#7a3e12}
img{max-width:100%;height:auto}
.site-header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1.5rem;\
padding:.625rem 1.25rem;border-bottom:1px solid #eadccb}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:700;text-decoration:none;color:#2b1d14}
.site-header nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0;font-size:.9375rem}
main{max-width:72rem;margin:0 auto;padding:0 1.25rem}
.hero{padding:1.25rem 0 1rem}
.hero h1,.hero .page-title{font-size:2rem;line-height:1.2;margin:.25rem 0 .5rem;font-weight:700}
.entry-meta{margin:0 0 .75rem;color:#6b5444;font-size:.9375rem}
.cta-box{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;margin:.75rem 0}
.cta-box p{margin:0}
.cta{display:inline-block;padding:.75rem 1.25rem;border:0;border-radius:.375rem;background:#7a3e12;color:#fff;\
font-weight:600;text-decoration:none}
.trust{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;list-style:none;margin:.5rem 0 0;padding:0;font-size:.875rem;\
color:#4a3628}
.trust img{vertical-align:-2px}
.stars{color:#c98a12;letter-spacing:1px}
.hero--split{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:2rem;align-items:start}
.hero-media{height:420px;overflow:hidden;border-radius:.5rem;background:#3b2417}
.hero-media img{display:block;width:100%;height:100%;object-fit:cover}
.entry figure{margin:1rem 0}
.entry figure img{display:block;width:100%;height:auto;border-radius:.5rem}
.gallery{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem}
.promo{margin:2rem 0;padding:1rem 1.25rem;background:#f3e7d8;border-radius:.5rem}
.promo h1{font-size:1.5rem;margin:0 0 .5rem}
.contact-form{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.75rem;max-width:40rem}
.contact-form label{display:flex;flex-direction:column;font-size:.875rem}
.contact-form .wide{grid-column:1/-1}
.newsletter{margin:2.5rem 0;padding:1.25rem;background:#f3e7d8;border-radius:.5rem}
.newsletter form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
.newsletter input{padding:.625rem;border:1px solid #c9b49f;border-radius:.375rem;min-width:16rem}
.newsletter button{padding:.625rem 1rem;border:0;border-radius:.375rem;background:#2b1d14;color:#fff}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem;list-style:none;padding:0}
.site-footer{margin-top:3rem;padding:1.5rem 1.25rem;border-top:1px solid #eadccb;font-size:.875rem;color:#4a3628}
.site-footer ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0 0 .75rem;padding:0}
@media (max-width: 767px){
.hero h1,.hero .page-title{font-size:1.625rem}
.hero--split{display:block}
.hero--split .hero-media{height:900px;margin-bottom:1rem}
.contact-form{grid-template-columns:1fr}
}
"""


@dataclass(frozen=True)
class Image:
    src: str  # absolute URL
    alt: str
    width: int = 1200
    height: int = 900


@dataclass
class Chrome:
    """What every page of one site shares: names, navigation, footer."""

    site: str  # "wordpress" | "webflow"
    site_name: str
    generator: str
    nav: list[tuple[str, str]]  # (label, absolute URL)
    footer: list[tuple[str, str]]
    external: list[tuple[str, str]]
    year: int


@dataclass
class Doc:
    """One page's content, from the CMS (or the sandbox for the storefront and error pages)."""

    kind: str  # "home" | "post" | "page" | "item" | "blog" | "archive" | "shop" | "error"
    url: str  # absolute URL of the page itself
    title: str
    description: str | None
    heading: str  # the page's main heading, as HTML
    headline: str  # the same as plain text (JSON-LD)
    content: str  # main HTML
    image: Image | None = None
    social_description: str | None = None  # og/twitter description when there is no meta description
    og_image: str = ""
    meta_line: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    author: str | None = None
    robots: str = ROBOTS_INDEX
    status: int = 200
    extra_jsonld: list[dict[str, Any]] = field(default_factory=list)


def _iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00") if when else None


def _jsonld(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def structured_data(doc: Doc, base: str, chrome: Chrome) -> dict[str, Any] | None:
    logo = asset_url(base, "logo.svg")
    organization = {
        "@type": "Organization",
        "name": ORGANIZATION,
        "url": base + "/",
        "logo": {"@type": "ImageObject", "url": logo},
    }
    if doc.kind == "home":
        home = {"@context": "https://schema.org", **organization, "sameAs": [INSTAGRAM]}
        if doc.description:
            home["description"] = doc.description
        return home
    if doc.kind in ("post", "item"):
        data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Article", "headline": doc.headline[:110]}
        if doc.description:
            data["description"] = doc.description
        data.update(
            {
                "datePublished": _iso(doc.published),
                "dateModified": _iso(doc.modified or doc.published),
                "author": (
                    {"@type": "Person", "name": doc.author}
                    if doc.author
                    else {"@type": "Organization", "name": ORGANIZATION}
                ),
                "image": [doc.image.src] if doc.image else [doc.og_image],
                "publisher": organization,
                "mainEntityOfPage": {"@type": "WebPage", "@id": doc.url},
            }
        )
        return data
    if doc.kind == "error":
        return None
    kind = {"blog": "Blog", "archive": "CollectionPage", "shop": "CollectionPage"}.get(doc.kind, "WebPage")
    data = {
        "@context": "https://schema.org",
        "@type": kind,
        "name": doc.headline,
        "url": doc.url,
        "isPartOf": {"@type": "WebSite", "name": chrome.site_name, "url": base + "/"},
    }
    if doc.description:
        data["description"] = doc.description
    return data


def _head(doc: Doc, base: str, chrome: Chrome, defects: Mapping[str, str]) -> str:
    meta = ['<meta charset="UTF-8">']
    if "viewport_missing" not in defects:
        meta.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    meta.append(f"<title>{escape(doc.title)}</title>")
    if doc.description:
        meta.append(f'<meta name="description" content="{escape(doc.description)}">')
    robots = "noindex, follow" if defects.get("noindex") == "meta" else doc.robots
    meta.append(f'<meta name="robots" content="{robots}">')
    canonical = doc.url
    if "canonical_mismatch" in defects:
        canonical = base + ("/webflow-site/" if chrome.site == "webflow" else "/")
    meta.append(f'<link rel="canonical" href="{escape(canonical)}">')
    social = doc.description or doc.social_description
    image = doc.og_image or asset_url(base, "og-image.png")
    og_type = "article" if doc.kind in ("post", "item") else "website"
    if "og_missing" not in defects:
        meta += [
            f'<meta property="og:title" content="{escape(doc.title)}">',
            f'<meta property="og:type" content="{og_type}">',
            f'<meta property="og:url" content="{escape(doc.url)}">',
        ]
        if social:
            meta.append(f'<meta property="og:description" content="{escape(social)}">')
        meta += [
            f'<meta property="og:image" content="{escape(image)}">',
            f'<meta property="og:site_name" content="{escape(chrome.site_name)}">',
        ]
        if doc.kind in ("post", "item") and doc.published:
            meta.append(f'<meta property="article:published_time" content="{_iso(doc.published)}">')
    meta += [
        '<meta name="twitter:card" content="summary_large_image">',
        f'<meta name="twitter:title" content="{escape(doc.title)}">',
    ]
    if social:
        meta.append(f'<meta name="twitter:description" content="{escape(social)}">')
    meta.append(f'<meta name="twitter:image" content="{escape(image)}">')
    meta.append(f'<meta name="generator" content="{escape(chrome.generator)}">')
    meta.append(f'<link rel="icon" href="{asset_url(base, "favicon.svg")}" type="image/svg+xml">')
    meta.append(f"<style>\n{CSS}</style>")
    if "render_blocking_slow" in defects:
        # A reviews widget pasted into the theme's <head>: its stylesheet and a synchronous script.
        meta.append(f'<link rel="stylesheet" href="{asset_url(base, "widget.css")}">')
        meta.append(f'<script src="{asset_url(base, SLOW_ASSET)}"></script>')
    meta.append(f'<script src="{asset_url(base, "site.js")}" defer></script>')
    data = structured_data(doc, base, chrome)
    if data is not None:
        variant = defects.get("jsonld_invalid")
        if variant == "no_headline":
            data.pop("headline", None)
        text = _jsonld(data)
        if variant == "syntax":
            text = text[:-1] + ",}"  # a trailing comma: not JSON
        meta.append(f'<script type="application/ld+json">{text}</script>')
    for extra in doc.extra_jsonld:
        meta.append(f'<script type="application/ld+json">{_jsonld(extra)}</script>')
    return "\n".join(meta)


def _header(base: str, chrome: Chrome) -> str:
    links = "\n".join(f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in chrome.nav)
    return (
        f'<header class="site-header">\n<a class="brand" href="{base}/">'
        f'<img src="{asset_url(base, "logo.svg")}" alt="{escape(ORGANIZATION)} logo" width="40" height="40">'
        f"<span>{escape(chrome.site_name)}</span></a>\n"
        f'<nav aria-label="Main"><ul>\n{links}\n</ul></nav>\n</header>'
    )


def _trust(base: str) -> str:
    return (
        '<ul class="trust" aria-label="Why order from us">\n'
        '<li class="rating"><span class="stars" aria-hidden="true">\u2605\u2605\u2605\u2605\u2605</span> '
        "Rated 4.8/5 from 1,240 customer reviews</li>\n"
        "<li>Free shipping on orders over $40</li>\n"
        f'<li><img src="{asset_url(base, "secure-checkout.svg")}" alt="Padlock" width="16" height="16"> '
        "Secure checkout</li>\n"
        "<li>30-day freshness guarantee</li>\n</ul>"
    )


def _hero(doc: Doc, base: str, defects: Mapping[str, str]) -> str:
    label, path = PRIMARY_CTA
    if doc.kind == "shop":
        label, path = "Browse the coffees", SHOP_PATH + "#coffees"
    heading = f'<p class="page-title">{doc.heading}</p>' if "h1_missing" in defects else f"<h1>{doc.heading}</h1>"
    copy = (
        f"{heading}\n{doc.meta_line}"
        '<div class="cta-box"><p>Fresh beans, roasted every Tuesday and shipped on Wednesday.</p>\n'
        f'<a class="cta" href="{base}{path}">{escape(label)}</a></div>\n{_trust(base)}'
    )
    if "cta_below_fold_mobile" in defects:
        image = doc.image or Image(asset_url(base, "beans.svg"), "Freshly roasted coffee beans")
        return (
            '<section class="hero hero--split">\n<div class="hero-media">'
            f'<img src="{escape(image.src)}" alt="{escape(image.alt)}" width="{image.width}" height="{image.height}">'
            f'</div>\n<div class="hero-copy">\n{copy}\n</div>\n</section>'
        )
    return f'<section class="hero">\n{copy}\n</section>'


def _img(image: Image, defects: Mapping[str, str], lazy: bool = False) -> str:
    alt = "" if "img_alt_missing" in defects else f' alt="{escape(image.alt)}"'
    loading = ' loading="lazy"' if lazy else ""
    return f'<img src="{escape(image.src)}"{alt} width="{image.width}" height="{image.height}"{loading}>'


def _article(doc: Doc, base: str, defects: Mapping[str, str]) -> str:
    parts = []
    if doc.image and "cta_below_fold_mobile" not in defects:
        parts.append(f"<figure>{_img(doc.image, defects)}</figure>")
    parts.append(doc.content)
    if "img_alt_missing" in defects:
        gallery = [Image(asset_url(base, "beans.svg"), ""), Image(asset_url(base, "roastery.svg"), "")]
        parts.append('<div class="gallery">' + "".join(_img(i, defects, lazy=True) for i in gallery) + "</div>")
    if "broken_link" in defects:
        links = (("Our Huila lot 12, by the bag", BROKEN_LINKS[0]), ("Wholesale price list", BROKEN_LINKS[1]))
        items = "\n".join(f'<li><a href="{base}{path}">{escape(label)}</a></li>' for label, path in links)
        parts.append(f'<section class="related"><h2>Further reading</h2>\n<ul>\n{items}\n</ul></section>')
    if "form_too_long" in defects:
        parts.append(CONTACT_FORM.format(base=base))
    return '<article class="entry">\n' + "\n".join(p for p in parts if p) + "\n</article>"


CONTACT_FORM = """<section class="contact"><h2>Send us a message</h2>
<form id="contact-form" class="contact-form" action="{base}/forms/contact" method="post">
<label>First name<input name="first_name" autocomplete="given-name" required></label>
<label>Last name<input name="last_name" autocomplete="family-name" required></label>
<label>Email<input type="email" name="email" autocomplete="email" required></label>
<label>Phone<input type="tel" name="phone" autocomplete="tel"></label>
<label>Company<input name="company" autocomplete="organization"></label>
<label>Job title<input name="job_title" autocomplete="organization-title"></label>
<label class="wide">Street address<input name="address" autocomplete="street-address"></label>
<label>City<input name="city" autocomplete="address-level2"></label>
<label>State<select name="state"><option>Oregon</option><option>Washington</option><option>California</option>\
<option>Other</option></select></label>
<label>ZIP code<input name="zip" autocomplete="postal-code"></label>
<label>How did you hear about us?<select name="referral"><option>Search</option><option>Friend</option>\
<option>Instagram</option><option>Other</option></select></label>
<label class="wide">Message<textarea name="message" rows="5" required></textarea></label>
<p class="wide"><button type="submit">Send message</button></p>
</form></section>"""


def _newsletter(base: str) -> str:
    return (
        '<section class="newsletter" aria-labelledby="newsletter-title">\n'
        '<h2 id="newsletter-title">Brewing tips and new coffees, every Tuesday</h2>\n'
        f'<form id="newsletter" action="{base}/forms/newsletter" method="post">\n'
        '<label for="newsletter-email">Email address</label>\n'
        '<input id="newsletter-email" type="email" name="email" autocomplete="email" required '
        'placeholder="you@example.com">\n<button type="submit">Subscribe</button>\n</form>\n</section>'
    )


def _footer(chrome: Chrome) -> str:
    internal = "\n".join(f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in chrome.footer)
    external = " \u00b7 ".join(
        f'<a href="{escape(url)}" rel="noopener">{escape(label)}</a>' for label, url in chrome.external
    )
    return (
        f'<footer class="site-footer">\n<nav aria-label="Footer"><ul>\n{internal}\n</ul></nav>\n'
        f'<p class="social">{external}</p>\n'
        f"<p>\u00a9 {chrome.year} {escape(ORGANIZATION)} \u00b7 1120 SE Water Ave, Portland, OR 97214</p>\n"
        "</footer>"
    )


def render_html(doc: Doc, base: str, chrome: Chrome, defects: Mapping[str, str] | None = None) -> str:
    defects = defects or {}
    promo = ""
    if "h1_multiple" in defects:
        promo = (
            '<section class="promo">\n<h1>Free barista training for every partner</h1>\n'
            "<p>Two days at our Portland lab: extraction, milk texture and workflow.</p>\n</section>"
        )
    html_open = "<html>" if "lang_missing" in defects else '<html lang="en">'
    body = "\n".join(
        x
        for x in (
            _header(base, chrome),
            "<main>",
            _hero(doc, base, defects),
            _article(doc, base, defects),
            promo,
            _newsletter(base),
            "</main>",
            _footer(chrome),
        )
        if x
    )
    return (
        f"<!DOCTYPE html>\n{html_open}\n<head>\n{_head(doc, base, chrome, defects)}\n</head>\n"
        f'<body class="{doc.kind}">\n{body}\n</body>\n</html>\n'
    )


def render(doc: Doc, base: str, chrome: Chrome, defects: Mapping[str, str] | None = None) -> HTMLResponse:
    defects = defects or {}
    headers = {"X-Robots-Tag": "noindex"} if defects.get("noindex") == "header" else None
    return HTMLResponse(render_html(doc, base, chrome, defects), status_code=doc.status, headers=headers)
