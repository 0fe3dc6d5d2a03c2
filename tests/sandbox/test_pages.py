"""The served HTML follows the CMS state, including the SEO fields."""

from __future__ import annotations

import re


def head_value(html: str, pattern: str) -> str | None:
    match = re.search(pattern, html)
    return match.group(1) if match else None


def title_of(html: str) -> str | None:
    return head_value(html, r"<title>(.*?)</title>")


def description_of(html: str) -> str | None:
    return head_value(html, r'<meta name="description" content="(.*?)">')


def test_home_lists_published_posts(anon, wp):
    html = anon.get("/").text
    assert '<html lang="en">' in html
    assert html.count("<h1>") == 1
    published = wp.get("/wp/v2/posts", params={"per_page": 10}).json()
    for post in published:
        assert post["link"] in html
    draft = wp.get("/wp/v2/posts", params={"status": "draft"}).json()[0]
    assert draft["title"]["rendered"] not in html


def test_post_page_uses_the_seo_plugin_fields(anon, wp, sb):
    post = wp.post(
        "/wp/v2/posts", json={"title": "Espresso at Home", "content": "Pull a shot.", "status": "publish"}
    ).json()
    page = anon.get("/espresso-at-home/")
    assert page.status_code == 200
    html = page.text
    assert title_of(html) == "Espresso at Home \u2013 Northwind Coffee Roasters"
    assert description_of(html) is None
    assert f'<link rel="canonical" href="{post["link"]}">' in html
    assert '<meta name="viewport"' in html and html.count("<h1>") == 1
    assert "<p>Pull a shot.</p>" in html

    wp.post(
        f"/wp/v2/posts/{post['id']}",
        json={
            "meta": {
                "_yoast_wpseo_title": "Espresso Guide %%sep%% %%sitename%%",
                "_yoast_wpseo_metadesc": "Dial in espresso at home.",
            }
        },
    )
    html = anon.get("/espresso-at-home/").text
    assert title_of(html) == "Espresso Guide - Northwind Coffee Roasters"
    assert description_of(html) == "Dial in espresso at home."
    assert '<meta property="og:title" content="Espresso Guide - Northwind Coffee Roasters">' in html

    # Switching the SEO plugin switches which meta keys the front end reads.
    sb.world.wordpress.seo_plugin = "rank_math"
    assert title_of(anon.get("/espresso-at-home/").text) == "Espresso at Home \u2013 Northwind Coffee Roasters"
    wp.post(f"/wp/v2/posts/{post['id']}", json={"meta": {"rank_math_title": "Rank Math Title"}})
    assert title_of(anon.get("/espresso-at-home/").text) == "Rank Math Title"


def test_companion_fallback_keys_render_without_an_seo_plugin(anon, wp, sb):
    sb.world.wordpress.seo_plugin = "none"
    post = wp.post(
        "/wp/v2/posts",
        json={
            "title": "Plain",
            "status": "publish",
            "meta": {
                "_marketing_mcp_seo_title": "Fallback Title",
                "_marketing_mcp_meta_description": "Fallback description.",
            },
        },
    ).json()
    html = anon.get(post["link"]).text
    assert title_of(html) == "Fallback Title" and description_of(html) == "Fallback description."


def test_drafts_and_unknown_paths_are_404_pages(anon, wp):
    draft = wp.post("/wp/v2/posts", json={"title": "Not Yet", "slug": "not-yet"}).json()
    for path in ("/not-yet/", f"/?p={draft['id']}", "/no-such-page/"):
        r = anon.get(path)
        assert r.status_code == 404 and "<h1>Page not found</h1>" in r.text


def test_missing_trailing_slash_redirects(anon):
    r = anon.get("/about-us", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/about-us/")


def test_pages_and_category_archives(anon):
    about = anon.get("/about-us/")
    assert about.status_code == 200 and title_of(about.text) == "About Northwind Coffee Roasters"
    archive = anon.get("/category/brewing-guides/")
    assert archive.status_code == 200 and "Brewing Guides" in archive.text


def test_webflow_live_page_reflects_live_fields(anon, wf, creds):
    collection = creds["webflow"]["collection_id"]
    item = wf.get(f"/collections/{collection}/items/live").json()["items"][0]
    data = item["fieldData"]
    html = anon.get(f"/webflow-site/blog-posts/{data['slug']}").text
    assert title_of(html) == (data.get("seo-title") or data["name"])
    assert description_of(html) == data.get("meta-description")
    assert html.count("<h1>") == 1 and '<html lang="en">' in html
    index = anon.get("/webflow-site/").text
    assert f"/webflow-site/blog-posts/{data['slug']}" in index
