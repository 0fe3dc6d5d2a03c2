"""Every audit rule on a page that passes it and on one that fails it (the facts as the browser reads them)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import pytest

from adapters.web import checks

URL = "https://shop.example/beans/"

CLEAN = {
    "url": URL,
    "title": "Single-origin coffee beans, roasted weekly",
    "titles": 1,
    "description": "Single-origin beans from Colombia and Ethiopia, roasted every Tuesday and shipped the same day.",
    "descriptions": 1,
    "canonical": URL,
    "robots": None,
    "lang": "en",
    "viewport": "width=device-width, initial-scale=1",
    "hreflang": [{"lang": "en-GB", "href": URL}],
    "og": {"title": "Beans", "description": "Fresh beans", "image": "https://shop.example/b.jpg"},
    "twitter": {"card": "summary_large_image"},
    "h1": ["Our coffee beans"],
    "headings": [{"level": 1, "text": "Our coffee beans"}, {"level": 2, "text": "Origins"}],
    "jsonld": ['{"@type": "Product", "name": "Huila", "offers": {"price": "18"}}'],
    "images": 3,
    "images_without_alt": [],
    "links_internal": 10,
    "links_external": 2,
    "cta": {"text": "Shop beans", "top": 300, "height": 40, "visible": True},
    "viewport_height": 768,
    "forms": [{"id": "newsletter", "fields": 1}],
    "trust": {"reviews": True, "guarantee": False, "shipping": True, "social_proof": False},
    "perf": {
        "ttfb": 120,
        "dcl": 300,
        "load": 600,
        "lcp": 900,
        "cls": 0.01,
        "transfer": 800_000,
        "requests": 30,
        "blocking": [],
    },
}
MOBILE = {"cta": {"text": "Shop beans", "top": 500, "height": 40, "visible": True}, "viewport_height": 844}


def run(
    facts: dict, *, status: int = 200, redirects: Sequence[str] = (), x_robots: str | None = None, mobile: dict = MOBILE
) -> set[str]:
    found = (
        checks.seo(facts, status, list(redirects), x_robots) + checks.conversion(facts, mobile) + checks.speed(facts)
    )
    return {f.check for f in found}


def test_a_clean_page_passes_every_check():
    assert run(CLEAN) == set()


def set_path(facts: dict, path: str, value) -> dict:
    facts = copy.deepcopy(facts)
    *parents, last = path.split(".")
    target = facts
    for p in parents:
        target = target[p]
    target[last] = value
    return facts


FAILING = [
    ("title_missing", "title", ""),
    ("title_length", "title", "Beans"),
    ("title_duplicates_h1", "h1", ["Single-origin coffee beans, roasted weekly"]),
    ("meta_description_duplicates_h1", "h1", [CLEAN["description"]]),
    ("meta_description_missing", "description", None),
    ("meta_description_length", "description", "Beans."),
    ("canonical_missing", "canonical", None),
    ("canonical_mismatch", "canonical", "https://shop.example/other/"),
    ("noindex", "robots", "noindex, follow"),
    ("h1_missing", "h1", []),
    ("h1_multiple", "h1", ["Our coffee beans", "Shop"]),
    ("heading_order", "headings", [{"level": 1, "text": "a"}, {"level": 4, "text": "b"}]),
    ("lang_missing", "lang", None),
    ("viewport_missing", "viewport", None),
    ("hreflang_invalid", "hreflang", [{"lang": "english", "href": URL}]),
    ("og_missing", "og.image", None),
    ("twitter_missing", "twitter.card", None),
    ("jsonld_invalid", "jsonld", ['{"@type": "Product", name: }']),
    ("jsonld_incomplete", "jsonld", ['{"@type": "Article", "author": "x"}']),
    ("img_alt_missing", "images_without_alt", ["/hero.jpg"]),
    ("cta_missing", "cta", None),
    ("cta_below_fold_desktop", "cta.top", 1200),
    ("form_too_long", "forms", [{"id": "contact", "fields": 12}]),
    ("trust_signals_missing", "trust", {"reviews": False}),
    ("ttfb_slow", "perf.ttfb", 1500),
    ("lcp_slow", "perf.lcp", 4000),
    ("cls_high", "perf.cls", 0.3),
    ("page_heavy", "perf.transfer", 6_000_000),
    ("too_many_requests", "perf.requests", 180),
    ("render_blocking", "perf.blocking", [{"url": "https://shop.example/slow.js", "ms": 1200}]),
]


@pytest.mark.parametrize("check,path,value", FAILING, ids=[f[0] for f in FAILING])
def test_each_check_fails_on_its_defect(check, path, value):
    found = run(set_path(CLEAN, path, value))
    assert check in found


def test_request_level_checks():
    assert "status" in run(CLEAN, status=404)
    assert "redirect_chain" in run(CLEAN, redirects=["https://a/", "https://b/"])
    assert "redirect_chain" not in run(CLEAN, redirects=["https://a/"])
    assert "noindex" in run(CLEAN, x_robots="noindex")
    assert "cta_below_fold_mobile" in run(
        CLEAN, mobile={"cta": {"text": "Shop", "top": 1200, "height": 40, "visible": True}, "viewport_height": 844}
    )


def test_every_check_in_the_catalogue_is_exercised():
    exercised = {f[0] for f in FAILING} | {"status", "redirect_chain", "cta_below_fold_mobile"}
    assert {c for group in checks.CHECKS.values() for c in group} == exercised


def test_indexability_verdict():
    facts = set_path(CLEAN, "robots", "noindex")
    found = checks.seo(facts, 200, [], None)
    assert not checks.indexable(found) and checks.indexable(checks.seo(CLEAN, 200, [], None))
