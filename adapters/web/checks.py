"""The audit rules: facts read from a page in, findings out. Pure functions, so each is testable alone.

Thresholds follow the common published guidance: titles 30-60 characters, meta descriptions
70-160, Core Web Vitals "good" limits (LCP 2.5 s, CLS 0.1), TTFB 0.8 s.
"""

import json
import re
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from adapters.json_values import JsonObject, is_list, is_object

Severity = Literal["error", "warning", "info"]
Category = Literal["seo", "conversion", "speed"]


class Finding(BaseModel):
    check: str
    category: Category
    severity: Severity
    message: str
    evidence: str = Field(default="", description="The element or value found (cut short).")
    fix: str = ""


def _f(check: str, category: Category, severity: Severity, message: str, evidence: Any = "", fix: str = "") -> Finding:
    text = evidence if isinstance(evidence, str) else json.dumps(evidence)[:300]
    return Finding(check=check, category=category, severity=severity, message=message, evidence=text[:300], fix=fix)


def _norm(url: str | None) -> str:
    if not url:
        return ""
    p = urlsplit(url)
    path = p.path or "/"
    return urlunsplit((p.scheme, p.netloc.lower(), path if path.endswith("/") else path + "/", p.query, ""))


def _many(facts: JsonObject, key: str) -> list[Any]:
    """A list the page script returned, or an empty one when it returned none."""
    found: list[Any] = facts.get(key) or []
    return found


def _one(facts: JsonObject, key: str) -> JsonObject:
    """An object the page script returned, or an empty one when it returned none."""
    found: JsonObject = facts.get(key) or {}
    return found


# Every check this module can report, so a clean page can list what it passed.
CHECKS = {
    "seo": [
        "status",
        "redirect_chain",
        "title_missing",
        "title_length",
        "title_duplicates_h1",
        "meta_description_missing",
        "meta_description_length",
        "meta_description_duplicates_h1",
        "canonical_missing",
        "canonical_mismatch",
        "noindex",
        "h1_missing",
        "h1_multiple",
        "heading_order",
        "lang_missing",
        "viewport_missing",
        "hreflang_invalid",
        "og_missing",
        "twitter_missing",
        "jsonld_invalid",
        "jsonld_incomplete",
        "img_alt_missing",
    ],
    "conversion": [
        "cta_missing",
        "cta_below_fold_desktop",
        "cta_below_fold_mobile",
        "form_too_long",
        "trust_signals_missing",
    ],
    "speed": ["ttfb_slow", "lcp_slow", "cls_high", "page_heavy", "too_many_requests", "render_blocking"],
}

JSONLD_REQUIRED = {
    "Article": ("headline", "datePublished", "author"),
    "BlogPosting": ("headline", "datePublished"),
    "NewsArticle": ("headline", "datePublished"),
    "Organization": ("name", "url"),
    "Product": ("name", "offers"),
    "LocalBusiness": ("name", "address"),
    "BreadcrumbList": ("itemListElement",),
    "FAQPage": ("mainEntity",),
    "WebSite": ("name", "url"),
}


def seo(facts: JsonObject, status: int, redirects: list[str], x_robots: str | None) -> list[Finding]:
    out: list[Finding] = []
    if status != 200:
        out.append(
            _f(
                "status",
                "seo",
                "error",
                f"The page answers HTTP {status}.",
                status,
                "Serve the page with 200, or remove links to it.",
            )
        )
    if len(redirects) > 1:
        out.append(
            _f(
                "redirect_chain",
                "seo",
                "warning",
                f"{len(redirects)} redirects before the page.",
                " -> ".join(redirects[:5]),
                "Link and redirect straight to the final URL.",
            )
        )
    title = (facts.get("title") or "").strip()
    h1s = _many(facts, "h1")
    if not title:
        out.append(
            _f("title_missing", "seo", "error", "The page has no <title>.", "", "Add a unique, descriptive title.")
        )
    elif not 30 <= len(title) <= 60:
        out.append(
            _f(
                "title_length",
                "seo",
                "warning",
                f"The title has {len(title)} characters (30-60 show fully).",
                title,
                "Rewrite the title to 30-60 characters, the main keyword first.",
            )
        )
    if title and h1s and title.lower() == h1s[0].lower():
        out.append(
            _f(
                "title_duplicates_h1",
                "seo",
                "info",
                "The title repeats the h1 word for word.",
                title,
                "Use the title for the search snippet (keyword plus a reason to click), the h1 for the page.",
            )
        )
    desc = (facts.get("description") or "").strip()
    if not desc:
        out.append(
            _f(
                "meta_description_missing",
                "seo",
                "warning",
                "The page has no meta description.",
                "",
                "Write a 70-160 character description: what the page gives and why to click.",
            )
        )
    else:
        if not 70 <= len(desc) <= 160:
            out.append(
                _f(
                    "meta_description_length",
                    "seo",
                    "warning",
                    f"The meta description has {len(desc)} characters (70-160 show well).",
                    desc,
                    "Rewrite it to 70-160 characters.",
                )
            )
        if h1s and desc.lower() == h1s[0].lower():
            out.append(
                _f(
                    "meta_description_duplicates_h1",
                    "seo",
                    "warning",
                    "The meta description repeats the h1.",
                    desc,
                    "Describe the page's value instead of repeating its heading.",
                )
            )
    canonical = facts.get("canonical")
    if not canonical:
        out.append(
            _f(
                "canonical_missing",
                "seo",
                "warning",
                "No canonical link.",
                "",
                'Add <link rel="canonical" href="(this URL)">.',
            )
        )
    elif _norm(canonical) != _norm(facts.get("url")):
        out.append(
            _f(
                "canonical_mismatch",
                "seo",
                "warning",
                "The canonical points to another URL.",
                canonical,
                "Point the canonical at this URL unless this page is a duplicate of that one.",
            )
        )
    robots = " ".join(x for x in (facts.get("robots"), x_robots) if x).lower()
    if "noindex" in robots:
        out.append(
            _f(
                "noindex",
                "seo",
                "error",
                "The page asks search engines not to index it.",
                robots,
                "Remove noindex (robots meta tag or X-Robots-Tag header) if the page should rank.",
            )
        )
    if not h1s:
        out.append(_f("h1_missing", "seo", "warning", "The page has no h1.", "", "Add one h1 naming the page's topic."))
    elif len(h1s) > 1:
        out.append(
            _f(
                "h1_multiple",
                "seo",
                "warning",
                f"The page has {len(h1s)} h1 headings.",
                h1s[:3],
                "Keep one h1; make the others h2.",
            )
        )
    levels = [h["level"] for h in _many(facts, "headings")]
    skips = [f"h{a}->h{b}" for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    if skips:
        out.append(
            _f(
                "heading_order",
                "seo",
                "info",
                "Heading levels skip a level.",
                skips[:5],
                "Nest headings in order (h2 under h1, h3 under h2).",
            )
        )
    if not facts.get("lang"):
        out.append(
            _f(
                "lang_missing",
                "seo",
                "warning",
                "The <html> element has no lang.",
                "",
                'Add lang, e.g. <html lang="en">.',
            )
        )
    if not facts.get("viewport"):
        out.append(
            _f(
                "viewport_missing",
                "seo",
                "error",
                "No viewport meta tag: phones show the desktop layout.",
                "",
                'Add <meta name="viewport" content="width=device-width, initial-scale=1">.',
            )
        )
    bad_lang = [
        h["lang"]
        for h in _many(facts, "hreflang")
        if not re.fullmatch(r"x-default|[a-z]{2,3}(-[A-Za-z]{2,4})?", h.get("lang") or "")
    ]
    if bad_lang:
        out.append(
            _f(
                "hreflang_invalid",
                "seo",
                "warning",
                "hreflang values that are not language codes.",
                bad_lang,
                "Use ISO 639-1 codes with optional region, e.g. en or en-GB, and x-default.",
            )
        )
    og = _one(facts, "og")
    missing_og = [k for k in ("title", "description", "image") if not og.get(k)]
    if missing_og:
        out.append(
            _f(
                "og_missing",
                "seo",
                "info",
                f"Open Graph tags missing: {', '.join(missing_og)}.",
                "",
                "Add og:title, og:description and og:image so shares show a card.",
            )
        )
    if not _one(facts, "twitter").get("card"):
        out.append(
            _f(
                "twitter_missing",
                "seo",
                "info",
                "No twitter:card tag.",
                "",
                'Add <meta name="twitter:card" content="summary_large_image">.',
            )
        )
    out += _jsonld(_many(facts, "jsonld"))
    missing_alt = _many(facts, "images_without_alt")
    if missing_alt:
        out.append(
            _f(
                "img_alt_missing",
                "seo",
                "warning",
                f"{len(missing_alt)} of {facts.get('images', 0)} images have no alt text.",
                missing_alt[:3],
                'Describe each image in alt; use alt="" for purely decorative ones.',
            )
        )
    return out


def _jsonld(blocks: list[str]) -> list[Finding]:
    out: list[Finding] = []
    for raw in blocks:
        try:
            data: object = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.append(
                _f(
                    "jsonld_invalid",
                    "seo",
                    "error",
                    f"A JSON-LD block is not valid JSON ({exc.msg}).",
                    raw[:120],
                    "Fix the syntax; validate with Google's Rich Results Test.",
                )
            )
            continue
        items: object = data.get("@graph", [data]) if is_object(data) else data if is_list(data) else []
        for item in items if is_list(items) else []:
            if not is_object(item):
                continue
            kind: object = item.get("@type")
            kind = kind[0] if is_list(kind) and kind else kind
            missing = [k for k in JSONLD_REQUIRED.get(str(kind), ()) if not item.get(k)]
            if missing:
                out.append(
                    _f(
                        "jsonld_incomplete",
                        "seo",
                        "warning",
                        f"{kind} structured data lacks {', '.join(missing)}.",
                        {"@type": kind},
                        f"Add {', '.join(missing)} to the {kind} JSON-LD.",
                    )
                )
    return out


def conversion(facts: JsonObject, mobile: JsonObject | None) -> list[Finding]:
    out: list[Finding] = []
    cta = facts.get("cta")
    if not cta or not cta.get("visible"):
        out.append(
            _f(
                "cta_missing",
                "conversion",
                "warning",
                "No visible primary call to action.",
                "",
                "Add one clear action button (e.g. 'Shop beans', 'Book a call') near the top.",
            )
        )
    else:
        if cta["top"] >= facts.get("viewport_height", 768):
            out.append(
                _f(
                    "cta_below_fold_desktop",
                    "conversion",
                    "warning",
                    f"The call to action '{cta['text']}' starts {cta['top']:.0f}px down, below a desktop screen.",
                    cta["text"],
                    "Move the call to action into the first screen.",
                )
            )
        on_phone: JsonObject = mobile or {}
        m = on_phone.get("cta")
        if m and m.get("visible") and m["top"] >= on_phone.get("viewport_height", 844):
            out.append(
                _f(
                    "cta_below_fold_mobile",
                    "conversion",
                    "warning",
                    f"On a phone the call to action '{m['text']}' starts {m['top']:.0f}px down, below the fold.",
                    m["text"],
                    "Shorten or move what comes before it on small screens.",
                )
            )
    for form in _many(facts, "forms"):
        if form["fields"] > 7:
            out.append(
                _f(
                    "form_too_long",
                    "conversion",
                    "warning",
                    f"A form asks for {form['fields']} fields.",
                    form.get("id") or "form",
                    "Ask only for what the next step needs (3-5 fields convert best).",
                )
            )
    if not any(_one(facts, "trust").values()):
        out.append(
            _f(
                "trust_signals_missing",
                "conversion",
                "info",
                "No trust signals (reviews, guarantees, free shipping, social proof) on the page.",
                "",
                "Show reviews or a guarantee near the action.",
            )
        )
    return out


def speed(facts: JsonObject) -> list[Finding]:
    p = _one(facts, "perf")
    out: list[Finding] = []
    if p.get("ttfb") and p["ttfb"] > 800:
        out.append(
            _f(
                "ttfb_slow",
                "speed",
                "warning",
                f"First byte after {p['ttfb']:.0f} ms (good: < 800 ms).",
                f"{p['ttfb']:.0f} ms",
                "Cache the HTML (page cache or CDN) or speed up the server.",
            )
        )
    if p.get("lcp") and p["lcp"] > 2500:
        out.append(
            _f(
                "lcp_slow",
                "speed",
                "warning",
                f"Largest contentful paint at {p['lcp']:.0f} ms (good: < 2.5 s).",
                f"{p['lcp']:.0f} ms",
                "Remove render-blocking resources and serve the main image early.",
            )
        )
    if (p.get("cls") or 0) > 0.1:
        out.append(
            _f(
                "cls_high",
                "speed",
                "warning",
                f"Cumulative layout shift {p['cls']:.2f} (good: < 0.1).",
                f"{p['cls']:.2f}",
                "Give images and embeds fixed dimensions.",
            )
        )
    if (p.get("transfer") or 0) > 3_000_000:
        out.append(
            _f(
                "page_heavy",
                "speed",
                "warning",
                f"The page transfers {p['transfer'] / 1e6:.1f} MB.",
                f"{p['transfer']} bytes",
                "Compress images and drop unused scripts.",
            )
        )
    if (p.get("requests") or 0) > 100:
        out.append(
            _f(
                "too_many_requests",
                "speed",
                "info",
                f"{p['requests']} requests to load the page.",
                str(p["requests"]),
                "Bundle or remove requests.",
            )
        )
    blocking = _many(p, "blocking")
    if blocking:
        slowest = max(blocking, key=lambda b: b["ms"])
        out.append(
            _f(
                "render_blocking",
                "speed",
                "warning" if slowest["ms"] > 300 else "info",
                f"{len(blocking)} render-blocking resource(s); the slowest took {slowest['ms']} ms.",
                slowest["url"],
                "Load scripts with defer or async; inline critical CSS.",
            )
        )
    return out


def indexable(findings: list[Finding]) -> bool:
    return not any(f.check in ("noindex", "status", "canonical_mismatch") for f in findings)
