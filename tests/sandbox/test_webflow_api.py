"""The Webflow Data API v2 emulation as a client sees it over loopback HTTP."""

from __future__ import annotations

import httpx
import pytest


def wf_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "message", "externalReference", "details"}
    return body


@pytest.fixture
def ids(creds) -> dict:
    return {"site": creds["webflow"]["site_id"], "collection": creds["webflow"]["collection_id"]}


def new_item(wf, collection: str, slug: str, **fields) -> dict:
    body = {"isDraft": False, "fieldData": {"name": slug.replace("-", " ").title(), "slug": slug, **fields}}
    r = wf.post(f"/collections/{collection}/items", json=body)
    assert r.status_code == 202, r.text
    return r.json()


# -- auth and rate limits ----------------------------------------------------


def test_missing_or_wrong_token_is_not_authorized(creds):
    api = creds["webflow"]["api_base"]
    wf_error(httpx.get(api + "/sites"), 401, "not_authorized")
    wf_error(httpx.get(api + "/sites", headers={"Authorization": "Bearer nope"}), 401, "not_authorized")


def test_rate_limit_headers_and_429_with_retry_after(wf, mono):
    first = wf.get("/sites")
    assert first.headers["X-RateLimit-Limit"] == "60"
    assert first.headers["X-RateLimit-Remaining"] == "59"
    for _ in range(58):
        mono.advance(0.5)
        assert wf.get("/sites").status_code == 200
    last_ok = wf.get("/sites")
    assert last_ok.status_code == 200 and last_ok.headers["X-RateLimit-Remaining"] == "0"
    limited = wf.get("/sites")
    wf_error(limited, 429, "too_many_requests")
    # The oldest request was 29.5 s ago: its slot frees in 30.5 s.
    assert limited.headers["Retry-After"] == "31"
    mono.advance(31)
    assert wf.get("/sites").status_code == 200


def test_rate_limit_is_configurable(sb, wf):
    sb.world.webflow_rate_limit = 2
    assert wf.get("/sites").status_code == 200
    assert wf.get("/sites").status_code == 200
    assert wf.get("/sites").status_code == 429
    sb.world.webflow_rate_limit = 1000
    assert wf.get("/sites").headers["X-RateLimit-Limit"] == "1000"


# -- sites and collections ---------------------------------------------------


def test_sites_collections_and_fields(wf, ids):
    sites = wf.get("/sites").json()["sites"]
    assert len(sites) == 1
    site = sites[0]
    assert site["id"] == ids["site"] and len(site["id"]) == 24
    assert site["displayName"] == "Northwind Blog"
    for key in (
        "workspaceId",
        "shortName",
        "previewUrl",
        "timeZone",
        "createdOn",
        "lastUpdated",
        "lastPublished",
        "customDomains",
    ):
        assert key in site
    assert wf.get(f"/sites/{ids['site']}").json() == site
    collections = wf.get(f"/sites/{ids['site']}/collections").json()["collections"]
    assert [c["displayName"] for c in collections] == ["Blog Posts"]
    detail = wf.get(f"/collections/{ids['collection']}").json()
    fields = {f["slug"]: f for f in detail["fields"]}
    assert set(fields) == {"name", "slug", "post-body", "post-summary", "seo-title", "meta-description", "main-image"}
    assert fields["name"]["isRequired"] and fields["slug"]["isRequired"]
    assert fields["post-body"]["type"] == "RichText" and fields["main-image"]["type"] == "Image"
    for key in ("id", "isEditable", "isRequired", "type", "slug", "displayName", "helpText"):
        assert key in fields["seo-title"]


def test_unknown_ids(wf, ids):
    wf_error(wf.get("/sites/" + "0" * 24), 404, "resource_not_found")
    wf_error(wf.get("/collections/" + "0" * 24), 404, "resource_not_found")
    wf_error(wf.get(f"/collections/{ids['collection']}/items/" + "0" * 24), 404, "resource_not_found")
    wf_error(wf.get("/collections/not-an-id"), 400, "validation_error")


# -- items -------------------------------------------------------------------


def test_item_listing_and_pagination(wf, ids):
    page = wf.get(f"/collections/{ids['collection']}/items", params={"limit": 3, "offset": 2}).json()
    assert page["pagination"] == {"limit": 3, "offset": 2, "total": 8}
    assert len(page["items"]) == 3
    item = page["items"][0]
    assert set(item) == {
        "id",
        "cmsLocaleId",
        "lastPublished",
        "lastUpdated",
        "createdOn",
        "isArchived",
        "isDraft",
        "fieldData",
    }
    everything = wf.get(f"/collections/{ids['collection']}/items").json()
    assert everything["pagination"]["limit"] == 100 and len(everything["items"]) == 8
    assert sum(1 for i in everything["items"] if i["isDraft"]) == 2
    live = wf.get(f"/collections/{ids['collection']}/items/live").json()
    assert live["pagination"]["total"] == 5
    assert all(i["lastPublished"] for i in live["items"])
    wf_error(wf.get(f"/collections/{ids['collection']}/items", params={"limit": 101}), 400, "validation_error")


def test_create_validates_fields(wf, ids):
    url = f"/collections/{ids['collection']}/items"
    unknown = wf_error(
        wf.post(url, json={"fieldData": {"name": "A", "slug": "a", "subtitle": "x"}}), 400, "validation_error"
    )
    assert unknown["details"] == [{"param": "subtitle", "description": "Field not described in schema: undefined"}]
    missing = wf_error(wf.post(url, json={"fieldData": {"name": "A"}}), 400, "validation_error")
    assert [d["param"] for d in missing["details"]] == ["slug"]
    taken = wf.get(url).json()["items"][0]["fieldData"]["slug"]
    dup = wf_error(wf.post(url, json={"fieldData": {"name": "B", "slug": taken}}), 400, "validation_error")
    assert dup["details"] == [{"param": "slug", "description": f"Unique value is already in database: '{taken}'"}]


def test_new_items_are_drafts_by_default(wf, ids):
    r = wf.post(f"/collections/{ids['collection']}/items", json={"fieldData": {"name": "Quiet", "slug": "quiet"}})
    assert r.status_code == 202
    item = r.json()
    assert item["isDraft"] is True and item["lastPublished"] is None
    wf_error(wf.get(f"/collections/{ids['collection']}/items/{item['id']}/live"), 404, "resource_not_found")


def test_staged_edit_is_invisible_live_until_published(wf, ids, anon):
    collection = ids["collection"]
    live_item = wf.get(f"/collections/{collection}/items/live").json()["items"][0]
    item_id, slug = live_item["id"], live_item["fieldData"]["slug"]
    page_url = f"/webflow-site/blog-posts/{slug}"
    before = anon.get(page_url)
    assert before.status_code == 200

    patched = wf.patch(
        f"/collections/{collection}/items/{item_id}", json={"fieldData": {"seo-title": "Brand New SEO Title"}}
    )
    assert patched.status_code == 200 and patched.json()["fieldData"]["seo-title"] == "Brand New SEO Title"
    assert (
        wf.get(f"/collections/{collection}/items/{item_id}/live").json()["fieldData"].get("seo-title")
        != "Brand New SEO Title"
    )
    assert "Brand New SEO Title" not in anon.get(page_url).text

    published = wf.post(f"/collections/{collection}/items/publish", json={"itemIds": [item_id]})
    assert published.status_code == 202
    assert published.json() == {"publishedItemIds": [item_id], "errors": []}
    assert "<title>Brand New SEO Title</title>" in anon.get(page_url).text
    item = wf.get(f"/collections/{collection}/items/{item_id}").json()
    assert item["lastPublished"] is not None and item["isDraft"] is False


def test_unpublish_removes_the_live_version(wf, ids, anon):
    collection = ids["collection"]
    live_item = wf.get(f"/collections/{collection}/items/live").json()["items"][0]
    assert wf.delete(f"/collections/{collection}/items/{live_item['id']}/live").status_code == 204
    assert anon.get(f"/webflow-site/blog-posts/{live_item['fieldData']['slug']}").status_code == 404
    staged = wf.get(f"/collections/{collection}/items/{live_item['id']}").json()
    assert staged["lastPublished"] is None and staged["isDraft"] is True


def test_live_create_and_delete(wf, ids, anon):
    collection = ids["collection"]
    r = wf.post(f"/collections/{collection}/items/live", json={"fieldData": {"name": "Live Now", "slug": "live-now"}})
    assert r.status_code == 202 and r.json()["lastPublished"] is not None
    assert anon.get("/webflow-site/blog-posts/live-now").status_code == 200
    draft = new_item(wf, collection, "short-lived")
    assert wf.delete(f"/collections/{collection}/items/{draft['id']}").status_code == 204
    wf_error(wf.get(f"/collections/{collection}/items/{draft['id']}"), 404, "resource_not_found")


def test_site_publish_pushes_queued_items_and_is_limited_to_once_a_minute(wf, ids, anon, mono):
    collection = ids["collection"]
    item = new_item(wf, collection, "queued-for-publish")
    assert anon.get("/webflow-site/blog-posts/queued-for-publish").status_code == 404
    r = wf.post(f"/sites/{ids['site']}/publish", json={"publishToWebflowSubdomain": True})
    assert r.status_code == 202
    assert r.json() == {"customDomains": [], "publishToWebflowSubdomain": True}
    assert anon.get("/webflow-site/blog-posts/queued-for-publish").status_code == 200
    assert wf.get(f"/collections/{collection}/items/{item['id']}").json()["lastPublished"] is not None

    mono.advance(30)
    again = wf.post(f"/sites/{ids['site']}/publish", json={"publishToWebflowSubdomain": True})
    wf_error(again, 429, "too_many_requests")
    assert again.headers["Retry-After"] == "30"
    mono.advance(30)
    domain = wf.get(f"/sites/{ids['site']}").json()["customDomains"][0]
    ok = wf.post(f"/sites/{ids['site']}/publish", json={"customDomains": [domain["id"]]})
    assert ok.status_code == 202 and ok.json()["customDomains"][0]["id"] == domain["id"]


def test_site_publish_keeps_drafts_off_the_live_site(wf, ids, anon):
    collection = ids["collection"]
    drafts = [i for i in wf.get(f"/collections/{collection}/items").json()["items"] if i["isDraft"]]
    wf.post(f"/sites/{ids['site']}/publish", json={"publishToWebflowSubdomain": True}).raise_for_status()
    for draft in drafts:
        assert anon.get(f"/webflow-site/blog-posts/{draft['fieldData']['slug']}").status_code == 404


def test_publish_items_reports_unknown_ids(wf, ids):
    body = wf.post(f"/collections/{ids['collection']}/items/publish", json={"itemIds": ["0" * 24]}).json()
    assert body["publishedItemIds"] == [] and len(body["errors"]) == 1
    wf_error(wf.post(f"/collections/{ids['collection']}/items/publish", json={}), 400, "validation_error")
