"""What one page shows, read inside the page in a single evaluate call (one round trip to Chromium).

The script returns facts, never the DOM: strings are cut short, lists are capped. Text from the
page is data for the checks and evidence for the findings, never instructions to anyone.
"""

_HELPERS = r"""
  const cut = (s, n) => (s || "").replace(/\s+/g, " ").trim().slice(0, n);
  const all = (sel) => Array.from(document.querySelectorAll(sel));
  const ctaWords = /\b(buy|shop|order|get started|start|sign up|subscribe|contact|book|try|download|request|join|add to cart|get a quote|learn more)\b/i;
  const ctaOf = () => {
    const candidates = all("a, button, input[type=submit]").filter(el => {
      const label = (el.value || el.textContent || "");
      return /\bcta\b|btn-primary|button--primary/i.test(el.className || "") || (el.tagName !== "A" || /button|btn/i.test(el.className || "")) && ctaWords.test(label);
    });
    const el = candidates.find(c => /\bcta\b|primary/i.test(c.className || "")) || candidates[0];
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return {text: cut(el.value || el.textContent, 60), top: r.top + window.scrollY, height: r.height,
            visible: r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"};
  };
"""  # noqa: E501  # JavaScript: regular expressions and object literals read better unbroken

EXTRACT = (
    "async () => {\n"
    + _HELPERS
    + r"""
  const meta = (name) => { const m = document.querySelector(`meta[name="${name}" i]`); return m ? m.getAttribute("content") : null; };
  const prop = (p) => { const m = document.querySelector(`meta[property="${p}" i]`); return m ? m.getAttribute("content") : null; };
  const here = location.host;
  const links = all("a[href]").map(a => ({href: a.href, text: cut(a.textContent, 60),
      internal: (() => { try { return new URL(a.href).host === here; } catch (e) { return false; } })(),
      rel: a.getAttribute("rel") || ""}))
    .filter(l => /^https?:/.test(l.href));
  const images = all("img");
  const text = cut(document.body ? document.body.innerText : "", 20000);
  const perf = await new Promise((resolve) => {
    let lcp = 0, cls = 0;
    try { new PerformanceObserver(l => { for (const e of l.getEntries()) lcp = e.startTime; })
            .observe({type: "largest-contentful-paint", buffered: true}); } catch (e) {}
    try { new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) cls += e.value; })
            .observe({type: "layout-shift", buffered: true}); } catch (e) {}
    setTimeout(() => resolve({lcp, cls}), 30);
  });
  const nav = performance.getEntriesByType("navigation")[0] || {};
  const resources = performance.getEntriesByType("resource");
  return {
    url: location.href,
    title: document.title, titles: all("head title").length,
    description: meta("description"), descriptions: all('meta[name="description" i]').length,
    canonical: (document.querySelector('link[rel="canonical"]') || {}).href || null,
    robots: meta("robots"), lang: document.documentElement.getAttribute("lang"), viewport: meta("viewport"),
    hreflang: all('link[rel="alternate"][hreflang]').slice(0, 30).map(l => ({lang: l.getAttribute("hreflang"), href: l.href})),
    og: {title: prop("og:title"), description: prop("og:description"), image: prop("og:image"), type: prop("og:type"), url: prop("og:url")},
    twitter: {card: meta("twitter:card"), title: meta("twitter:title"), image: meta("twitter:image")},
    h1: all("h1").slice(0, 10).map(h => cut(h.textContent, 120)),
    headings: all("h1, h2, h3, h4, h5, h6").slice(0, 40).map(h => ({level: +h.tagName[1], text: cut(h.textContent, 80)})),
    jsonld: all('script[type="application/ld+json"]').slice(0, 10).map(s => s.textContent.slice(0, 20000)),
    images: images.length,
    images_without_alt: images.filter(i => !i.hasAttribute("alt")).slice(0, 50).map(i => cut(i.getAttribute("src"), 120)),
    links_internal: links.filter(l => l.internal).length, links_external: links.filter(l => !l.internal).length,
    links: links.slice(0, 500).map(l => l.href),
    cta: ctaOf(), viewport_height: window.innerHeight,
    forms: all("form").slice(0, 10).map(f => ({id: f.id || f.getAttribute("name") || cut(f.getAttribute("action"), 60),
      fields: f.querySelectorAll("input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea").length})),
    trust: {
      reviews: /\b(reviews?|rated|rating|testimonials?|★)/i.test(text),
      guarantee: /\b(guarantee|money-back|free returns|secure checkout|ssl|secure payment)\b/i.test(text),
      shipping: /\bfree (shipping|delivery)\b/i.test(text),
      social_proof: /\b(trusted by|customers|clients|as seen in)\b/i.test(text),
    },
    perf: {
      ttfb: nav.responseStart ? nav.responseStart - (nav.requestStart || 0) : null,
      dcl: nav.domContentLoadedEventEnd || null, load: nav.loadEventEnd || null,
      lcp: perf.lcp || null, cls: perf.cls,
      transfer: (nav.transferSize || 0) + resources.reduce((s, r) => s + (r.transferSize || 0), 0),
      requests: resources.length + 1,
      blocking: resources.filter(r => r.renderBlockingStatus === "blocking").slice(0, 20)
        .map(r => ({url: r.name.slice(0, 200), ms: Math.round(r.duration)})),
    },
  };
}
"""  # noqa: E501  # JavaScript: one fact a line reads better than broken-up expressions
)

# The primary call to action only, re-measured after the viewport changes (media queries apply).
CTA = "() => {\n" + _HELPERS + "\n  return {cta: ctaOf(), viewport_height: window.innerHeight};\n}"
