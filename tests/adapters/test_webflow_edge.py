"""Edge cases of the Webflow adapter against respx: errors, lost writes, retries, refusals.

The happy paths run against the sandbox in the contract tests; here the vendor misbehaves.
`clock` is the fake clock from tests/conftest.py, so retries and backoff never sleep.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from adapters.cms.base import (
    CAP_EXCERPT,
    CAP_FEATURED_IMAGE,
    CAP_META_DESCRIPTION,
    CAP_POSTS,
    CAP_SCHEDULE,
    CAP_SEO_TITLE,
    CAP_UNPUBLISH,
    PostFields,
    how_confirmed,
)
from adapters.cms.webflow import Webflow, WebflowFieldMap, classify_webflow_error, parse_webflow_error, slugify
from adapters.errors import (
    AuthError,
    Conflict,
    InvalidRequest,
    NotApplied,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unsupported,
    UpstreamUnavailable,
)
from adapters.http import HttpService, Upstream

BASE = "https://api.webflow.com/v2/"
TOKEN = "wf-secret-token-0123456789"
AUTH_HINT = "Run `marketing-mcp auth login webflow --client acme`."
SITE_ID = "650000000000000000000001"
CID = "650000000000000000000c01"
ITEM_ID = "650000000000000000000a01"
ITEMS = f"collections/{CID}/items"


def schema_field(slug: str, kind: str, required: bool = False) -> dict:
    return {
        "id": f"f-{slug}",
        "slug": slug,
        "type": kind,
        "isRequired": required,
        "isEditable": True,
        "displayName": slug.replace("-", " ").title(),
    }


SCHEMA = {
    "id": CID,
    "displayName": "Blog Posts",
    "slug": "blog",
    "fields": [
        schema_field("name", "PlainText", True),
        schema_field("slug", "PlainText", True),
        schema_field("post-body", "RichText"),
        schema_field("post-summary", "PlainText"),
        schema_field("main-image", "Image"),
        schema_field("seo-title", "PlainText"),
        schema_field("meta-description", "PlainText"),
    ],
}
SITE = {
    "id": SITE_ID,
    "displayName": "Acme",
    "shortName": "acme",
    "previewUrl": "https://example.invalid/p.png",
    "customDomains": [{"id": "d1", "url": "www.acme.test"}],
}
SEO_MAP = WebflowFieldMap(seo_title="seo-title", meta_description="meta-description")


def item(
    item_id=ITEM_ID,
    title="Hello world",
    slug="hello-world",
    *,
    draft: bool = True,
    published: str | None = None,
    archived: bool = False,
    fields: dict[str, Any] | None = None,
) -> dict:
    return {
        "id": item_id,
        "cmsLocaleId": None,
        "isDraft": draft,
        "isArchived": archived,
        "lastPublished": published,
        "lastUpdated": "2025-01-02T10:00:00.000Z",
        "createdOn": "2025-01-01T10:00:00.000Z",
        "fieldData": {"name": title, "slug": slug, **(fields or {})},
    }


def page(items: list[dict], offset=0, total=None) -> dict:
    return {
        "items": items,
        "pagination": {"limit": 100, "offset": offset, "total": len(items) if total is None else total},
    }


def webflow_error(code: str, message: str, details: list | None = None) -> dict:
    return {"code": code, "message": message, "externalReference": None, "details": details or []}


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get(f"collections/{CID}", name="schema").respond(json=SCHEMA)
        router.get(f"sites/{SITE_ID}", name="site").respond(json=SITE)
        yield router


def make_webflow(clock, fields: WebflowFieldMap | None = None, **kwargs) -> Webflow:
    http = HttpService(
        Upstream("Webflow", "site 'Acme' (client 'acme')", AUTH_HINT),
        base_url=BASE,
        headers={"Authorization": f"Bearer {TOKEN}"},
        parse_error=parse_webflow_error,
        classify=classify_webflow_error,
        clock=clock,
        rng=random.Random(7),
    )
    return Webflow(http, SITE_ID, CID, fields=fields, **kwargs)


@pytest.fixture
async def wf(api, clock):
    adapter = make_webflow(clock)
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def wf_seo(api, clock):
    adapter = make_webflow(clock, SEO_MAP)
    yield adapter
    await adapter.aclose()


# -- errors -------------------------------------------------------------------------------------


async def test_401_is_auth_error_with_the_upstream_hint_and_no_token(api, wf):
    api.get(f"{ITEMS}/{ITEM_ID}").respond(401, json=webflow_error("not_authorized", "Request not authorized"))
    with pytest.raises(AuthError) as caught:
        await wf.get_post(ITEM_ID, "post")
    assert caught.value.hint == AUTH_HINT
    assert caught.value.status == 401
    assert TOKEN not in str(caught.value) and TOKEN not in caught.value.hint
    assert api.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_validation_error_is_invalid_request_naming_the_field(api, wf):
    api.post(ITEMS).respond(
        400,
        json=webflow_error(
            "validation_error",
            "Validation Error",
            [{"param": "fieldData.post-body", "description": "Value exceeds the maximum length"}],
        ),
    )
    with pytest.raises(InvalidRequest) as caught:
        await wf.create_draft("post", PostFields(title="Hello world", body="<p>x</p>"))
    assert type(caught.value) is InvalidRequest
    assert "post-body" in str(caught.value) and "maximum length" in str(caught.value)
    assert "validation_error" in str(caught.value)


async def test_slug_already_taken_is_a_conflict(api, wf):
    api.post(ITEMS).respond(
        400,
        json=webflow_error(
            "validation_error",
            "Validation Error",
            [{"param": "slug", "description": "Unique value is already in database: 'hello-world'"}],
        ),
    )
    with pytest.raises(Conflict) as caught:
        await wf.create_draft("post", PostFields(title="Hello world"))
    assert "hello-world" in caught.value.hint


async def test_vendor_conflict_code_is_a_conflict(api, wf):
    api.patch(f"{ITEMS}/{ITEM_ID}").respond(409, json=webflow_error("conflict", "Conflict with server data"))
    with pytest.raises(Conflict):
        await wf.update_post(ITEM_ID, "post", PostFields(title="New"))


async def test_missing_item_is_not_found(api, wf):
    api.get(f"{ITEMS}/{ITEM_ID}").respond(404, json=webflow_error("resource_not_found", "Requested resource not found"))
    with pytest.raises(NotFound):
        await wf.get_post(ITEM_ID, "post")


async def test_an_id_that_cannot_be_a_webflow_id_never_reaches_the_api(api, wf):
    with pytest.raises(NotFound):
        await wf.get_post("../sites", "post")
    assert not api.calls


async def test_malformed_json_on_a_get_is_upstream_unavailable(api, wf):
    api.get(f"{ITEMS}/{ITEM_ID}").respond(200, content=b'{"id": "650', headers={"Content-Type": "application/json"})
    with pytest.raises(UpstreamUnavailable):
        await wf.get_post(ITEM_ID, "post")


async def test_a_list_without_items_is_upstream_unavailable(api, wf):
    api.get(ITEMS).respond(json={"message": "maintenance"})
    with pytest.raises(UpstreamUnavailable):
        await wf.list_posts("post", status=None, search=None, cursor=None, limit=10)


# -- retries and lost writes --------------------------------------------------------------------


async def test_429_with_retry_after_on_a_get_is_retried_after_that_wait(api, wf, clock):
    route = api.get(f"{ITEMS}/{ITEM_ID}").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}, json=webflow_error("too_many_requests", "Rate limited")),
            httpx.Response(200, json=item()),
        ]
    )
    post = await wf.get_post(ITEM_ID, "post")
    assert post.id == ITEM_ID
    assert route.call_count == 2
    assert clock.sleeps == [1.0]


async def test_429_beyond_the_deadline_is_rate_limited(api, wf, clock):
    api.get(f"{ITEMS}/{ITEM_ID}").respond(
        429, headers={"Retry-After": "60"}, json=webflow_error("too_many_requests", "Rate limited")
    )
    with pytest.raises(RateLimited) as caught:
        await wf.get_post(ITEM_ID, "post")
    assert caught.value.retry_after == 60
    assert clock.sleeps == []


async def test_lost_create_with_the_item_visible_is_not_sent_again(api, wf):
    post_route = api.post(ITEMS).mock(side_effect=httpx.ReadError("connection reset"))
    lookup = api.get(ITEMS, params={"slug": "hello-world"}).respond(json=page([item()]))
    post = await wf.create_draft("post", PostFields(title="Hello world", body="<p>Hi</p>"))
    assert post_route.call_count == 1
    assert lookup.call_count == 1
    assert post.id == ITEM_ID and post.status == "draft" and post.slug == "hello-world"


async def test_lost_create_with_no_item_visible_is_sent_once_more(api, wf):
    post_route = api.post(ITEMS).mock(
        side_effect=[httpx.ReadError("connection reset"), httpx.Response(202, json=item())]
    )
    api.get(ITEMS, params={"slug": "hello-world"}).respond(json=page([]))
    post = await wf.create_draft("post", PostFields(title="Hello world"))
    assert post_route.call_count == 2
    assert post.id == ITEM_ID
    first, second = (json.loads(c.request.content) for c in post_route.calls)
    assert (
        first
        == second
        == {"isDraft": True, "isArchived": False, "fieldData": {"name": "Hello world", "slug": "hello-world"}}
    )


async def test_lost_create_when_another_item_holds_the_slug_is_sent_again_and_reports_the_conflict(api, wf):
    post_route = api.post(ITEMS).mock(
        side_effect=[
            httpx.ReadError("connection reset"),
            httpx.Response(409, json=webflow_error("conflict", "Slug 'hello-world' is already in use")),
        ]
    )
    api.get(ITEMS, params={"slug": "hello-world"}).respond(json=page([item("650000000000000000000a09", "Older post")]))
    with pytest.raises(Conflict):
        await wf.create_draft("post", PostFields(title="Hello world"))
    assert post_route.call_count == 2


# -- refusals -----------------------------------------------------------------------------------


async def test_schedule_is_unsupported(api, wf):
    with pytest.raises(Unsupported) as caught:
        await wf.schedule(ITEM_ID, "post", datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert "publish" in caught.value.hint
    assert not api.calls


@pytest.mark.parametrize(
    "call",
    [
        lambda wf: wf.list_posts("page", status=None, search=None, cursor=None, limit=10),
        lambda wf: wf.get_post(ITEM_ID, "page"),
        lambda wf: wf.create_draft("page", PostFields(title="About")),
        lambda wf: wf.publish(ITEM_ID, "page"),
    ],
)
async def test_pages_are_unsupported(api, wf, call):
    with pytest.raises(Unsupported) as caught:
        await call(wf)
    assert "kind='post'" in str(caught.value)
    assert not api.calls


@pytest.mark.parametrize("fields", [PostFields(title="A", categories=["News"]), PostFields(title="A", tags=["seo"])])
async def test_terms_are_unsupported(api, wf, fields):
    with pytest.raises(Unsupported):
        await wf.create_draft("post", fields)
    assert not api.calls


async def test_media_upload_is_unsupported_with_a_url_hint(wf):
    with pytest.raises(Unsupported) as caught:
        await wf.upload_media("a.png", b"\x89PNG", "image/png", "")
    assert "URL" in caught.value.hint


async def test_unmapped_seo_title_is_unsupported_naming_the_setting(api, wf):
    with pytest.raises(Unsupported) as caught:
        await wf.update_post(ITEM_ID, "post", PostFields(seo_title="Better title"))
    assert "clients.<client>.servers.webflow.settings.fields.seo_title" in caught.value.hint
    assert not any(c.request.method == "PATCH" for c in api.calls)


async def test_a_mapped_field_the_collection_lacks_is_unsupported(api, clock):
    wf = make_webflow(clock, WebflowFieldMap(meta_description="description"))
    with pytest.raises(Unsupported) as caught:
        await wf.update_post(ITEM_ID, "post", PostFields(meta_description="Short and useful."))
    assert "'description'" in str(caught.value)
    assert "settings.fields.meta_description" in caught.value.hint
    await wf.aclose()


# -- capabilities and mapping -------------------------------------------------------------------


async def test_capabilities_follow_the_mapping_and_the_schema(wf, wf_seo):
    assert await wf.capabilities() == {CAP_POSTS, CAP_UNPUBLISH, CAP_EXCERPT, CAP_FEATURED_IMAGE}
    assert await wf_seo.capabilities() == {
        CAP_POSTS,
        CAP_UNPUBLISH,
        CAP_EXCERPT,
        CAP_FEATURED_IMAGE,
        CAP_SEO_TITLE,
        CAP_META_DESCRIPTION,
    }
    assert CAP_SCHEDULE not in await wf_seo.capabilities()


async def test_the_schema_is_read_once(api, wf):
    await wf.capabilities()
    await wf.capabilities()
    assert api.routes["schema"].call_count == 1


async def test_site_info_describes_the_seo_mapping(wf, wf_seo):
    info = await wf_seo.site_info()
    assert info.vendor == "webflow" and info.name == "Acme" and info.url == "https://www.acme.test"
    assert info.seo_fields == "collection fields seo-title / meta-description"
    plain = await wf.site_info()
    assert "not mapped" in plain.seo_fields and "settings.fields.seo_title" in plain.seo_fields


async def test_fields_are_written_to_the_mapped_slugs(api, wf_seo):
    route = api.patch(f"{ITEMS}/{ITEM_ID}").respond(
        json=item(
            draft=False,
            published="2025-01-03T00:00:00.000Z",
            fields={
                "seo-title": "Better",
                "main-image": {"fileId": "img1", "url": "https://cdn.example/a.png", "alt": None},
            },
        )
    )
    post = await wf_seo.update_post(
        ITEM_ID,
        "post",
        PostFields(
            seo_title="Better", meta_description="Desc", excerpt="Sum", featured_media_id="https://img.example/a.png"
        ),
    )
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "fieldData": {
            "seo-title": "Better",
            "meta-description": "Desc",
            "post-summary": "Sum",
            "main-image": {"url": "https://img.example/a.png"},
        }
    }
    assert post.status == "published" and post.url == "https://www.acme.test/blog/hello-world"
    assert post.seo_title == "Better" and post.featured_media_id == "img1"


async def test_status_mapping(api, wf):
    api.get(ITEMS).respond(
        json=page(
            [
                item("650000000000000000000a01", "Draft"),
                item("650000000000000000000a02", "Live", "live", draft=False, published="2025-01-03T00:00:00Z"),
                item("650000000000000000000a03", "Gone", "gone", draft=False, archived=True),
                item("650000000000000000000a04", "Unpublished", "unpub", draft=True, published="2025-01-03T00:00:00Z"),
            ]
        )
    )
    result = await wf.list_posts("post", status=None, search=None, cursor=None, limit=10)
    assert [p.status for p in result.items] == ["draft", "published", "trash", "draft"]
    assert [p.url for p in result.items] == [None, "https://www.acme.test/blog/live", None, None]
    assert result.total == 4 and result.next_cursor is None


async def test_live_url_overrides_the_custom_domain(api, clock):
    wf = make_webflow(clock, live_url="http://127.0.0.1:8765/site/")
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item(draft=False, published="2025-01-03T00:00:00Z"))
    post = await wf.get_post(ITEM_ID, "post")
    assert post.url == "http://127.0.0.1:8765/site/blog/hello-world"
    assert not api.routes["site"].called
    await wf.aclose()


async def test_long_bodies_are_cut_to_a_preview(api, wf):
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item(fields={"post-body": "<p>" + "x" * 20_000 + "</p>"}))
    post = await wf.get_post(ITEM_ID, "post")
    assert post.body_truncated and len(post.body) == 8_000


def test_slugify():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("Crème brûlée: 10 tips") == "creme-brulee-10-tips"
    assert len(slugify("word " * 50)) <= 100 and not slugify("word " * 50).endswith("-")
    assert slugify("日本語") == ""


async def test_a_title_without_ascii_needs_a_slug(api, wf):
    with pytest.raises(InvalidRequest) as caught:
        await wf.create_draft("post", PostFields(title="日本語"))
    assert "slug" in caught.value.hint


# -- listing ------------------------------------------------------------------------------------


async def test_list_pages_by_offset_cursor(api, wf):
    route = api.get(ITEMS).respond(json=page([item()], offset=5, total=20))
    result = await wf.list_posts("post", status=None, search=None, cursor="5", limit=1)
    assert route.calls.last.request.url.params["offset"] == "5"
    assert route.calls.last.request.url.params["limit"] == "1"
    assert result.next_cursor == "6" and result.total == 20


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5"])
async def test_a_foreign_cursor_is_refused(wf, cursor):
    with pytest.raises(InvalidRequest):
        await wf.list_posts("post", status=None, search=None, cursor=cursor, limit=10)


async def test_filtering_reads_a_bounded_number_of_pages(api, wf):
    drafts = [item(f"65000000000000000000{i:04d}", f"Post {i}", f"post-{i}") for i in range(100)]
    route = api.get(ITEMS).respond(json=page(drafts, total=10_000))
    result = await wf.list_posts("post", status="published", search=None, cursor=None, limit=10)
    assert result.items == [] and result.total is None
    assert route.call_count == 5 and result.next_cursor == "500"


async def test_search_matches_title_or_slug_and_resumes_after_the_last_match(api, wf):
    items = [
        item("650000000000000000000a01", "Pricing guide", "pricing"),
        item("650000000000000000000a02", "About us", "about"),
        item("650000000000000000000a03", "Our team", "guide-to-team"),
    ]
    api.get(ITEMS).respond(json=page(items))
    result = await wf.list_posts("post", status=None, search="GUIDE", cursor=None, limit=1)
    assert [p.title for p in result.items] == ["Pricing guide"] and result.next_cursor == "1"
    result = await wf.list_posts("post", status=None, search="guide", cursor=None, limit=5)
    assert [p.slug for p in result.items] == ["pricing", "guide-to-team"] and result.next_cursor is None


async def test_statuses_webflow_never_has_list_nothing(api, wf):
    result = await wf.list_posts("post", status="scheduled", search=None, cursor=None, limit=10)
    assert result.items == [] and result.next_cursor is None
    assert not api.calls


# -- publishing ---------------------------------------------------------------------------------


async def test_publish_returns_the_fresh_item(api, wf):
    route = api.post(f"{ITEMS}/publish").respond(202, json={"publishedItemIds": [ITEM_ID], "errors": []})
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item(draft=False, published="2025-01-03T00:00:00Z"))
    post = await wf.publish(ITEM_ID, "post")
    assert json.loads(route.calls.last.request.content) == {"itemIds": [ITEM_ID]}
    assert post.status == "published" and post.published_at is not None


async def test_publish_refused_for_the_item_reports_webflows_error(api, wf):
    api.post(f"{ITEMS}/publish").respond(
        202, json={"publishedItemIds": [], "errors": ["Missing required field: main-image"]}
    )
    with pytest.raises(InvalidRequest) as caught:
        await wf.publish(ITEM_ID, "post")
    assert "main-image" in str(caught.value)


async def test_unpublish_of_an_item_that_is_not_live_returns_the_draft(api, wf):
    live = api.delete(f"{ITEMS}/{ITEM_ID}/live").respond(
        404, json=webflow_error("resource_not_found", "Requested resource not found")
    )
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item())
    post = await wf.unpublish(ITEM_ID, "post")
    assert live.called and post.status == "draft"


async def test_delete_archives_unless_forced(api, wf):
    patch = api.patch(f"{ITEMS}/{ITEM_ID}").respond(json=item(archived=True))
    live = api.delete(f"{ITEMS}/{ITEM_ID}/live").respond(204)
    staged = api.delete(f"{ITEMS}/{ITEM_ID}").respond(204)
    await wf.delete(ITEM_ID, "post")
    assert json.loads(patch.calls.last.request.content) == {"isArchived": True} and not staged.called
    await wf.delete(ITEM_ID, "post", force=True)
    assert live.called and staged.called


async def test_publish_accepted_before_the_item_shows_it_reports_published(api, wf):
    api.post(f"{ITEMS}/publish").respond(202, json={"publishedItemIds": [ITEM_ID], "errors": []})
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item())
    post = await wf.publish(ITEM_ID, "post")
    assert post.status == "published" and post.url == "https://www.acme.test/blog/hello-world"


# -- a write whose answer was lost: read back, then done, not done or unknown -------------------


async def test_a_publish_whose_answer_was_lost_but_is_live_is_published_after_one_send(api, wf):
    publish = api.post(f"{ITEMS}/publish").mock(side_effect=httpx.ReadError("connection reset"))
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item(draft=False, published="2025-01-03T00:00:00Z"))
    api.get(f"{ITEMS}/{ITEM_ID}/live").respond(json=item(draft=False, published="2025-01-03T00:00:00Z"))
    post = await wf.publish(ITEM_ID, "post")
    assert publish.call_count == 1
    assert post.status == "published" and "shows it done" in how_confirmed(post)


async def test_a_publish_lost_with_staged_changes_not_live_is_sent_once_more(api, wf):
    publish = api.post(f"{ITEMS}/publish").mock(
        side_effect=[
            httpx.ReadError("connection reset"),
            httpx.Response(202, json={"publishedItemIds": [ITEM_ID], "errors": []}),
        ]
    )
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item(title="New title", draft=False, published="2025-01-03T00:00:00Z"))
    api.get(f"{ITEMS}/{ITEM_ID}/live").respond(
        json=item(title="Old title", draft=False, published="2025-01-03T00:00:00Z")
    )
    post = await wf.publish(ITEM_ID, "post")
    assert publish.call_count == 2 and post.status == "published" and how_confirmed(post) == ""


async def test_a_publish_lost_twice_and_never_live_is_not_done(api, wf):
    publish = api.post(f"{ITEMS}/publish").mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item())
    api.get(f"{ITEMS}/{ITEM_ID}/live").respond(404, json=webflow_error("resource_not_found", "Not found"))
    with pytest.raises(NotApplied) as caught:
        await wf.publish(ITEM_ID, "post")
    assert publish.call_count == 2 and f"item {ITEM_ID}" in str(caught.value)


async def test_a_publish_that_timed_out_and_cannot_be_read_back_is_unknown(api, wf):
    api.post(f"{ITEMS}/publish").mock(side_effect=httpx.ReadTimeout("timed out"))
    api.get(f"{ITEMS}/{ITEM_ID}").respond(500, json=webflow_error("internal_error", "oops"))
    with pytest.raises(OutcomeUnknown) as caught:
        await wf.publish(ITEM_ID, "post")
    assert not isinstance(caught.value, NotApplied)
    assert "reading it back failed" in str(caught.value) and f"get_post {ITEM_ID}" in caught.value.hint


async def test_an_unpublish_whose_answer_was_lost_but_is_not_live_is_a_draft(api, wf):
    delete = api.delete(f"{ITEMS}/{ITEM_ID}/live").mock(side_effect=httpx.ReadError("connection reset"))
    api.get(f"{ITEMS}/{ITEM_ID}/live").respond(404, json=webflow_error("resource_not_found", "Not found"))
    api.get(f"{ITEMS}/{ITEM_ID}").respond(json=item())
    post = await wf.unpublish(ITEM_ID, "post")
    assert delete.call_count == 1 and post.status == "draft" and how_confirmed(post)


async def test_an_update_whose_answer_was_lost_is_read_back_with_its_values(api, wf_seo):
    patch = api.patch(f"{ITEMS}/{ITEM_ID}").mock(side_effect=httpx.ReadError("connection reset"))
    api.get(f"{ITEMS}/{ITEM_ID}").respond(
        json=item(
            fields={
                "seo-title": "Better",
                "main-image": {"fileId": "f1", "url": "https://cdn.example/x.png", "alt": None},
            }
        )
    )
    post = await wf_seo.update_post(
        ITEM_ID, "post", PostFields(seo_title="Better", featured_media_id="https://cdn.example/x.png")
    )
    assert patch.call_count == 1 and post.seo_title == "Better" and how_confirmed(post)


async def test_an_asset_id_is_written_as_a_file_reference_and_none_clears_the_image(api, wf):
    route = api.patch(f"{ITEMS}/{ITEM_ID}").respond(json=item())
    await wf.update_post(ITEM_ID, "post", PostFields(featured_media_id="65000000000000000000f001"))
    assert json.loads(route.calls.last.request.content) == {
        "fieldData": {"main-image": {"fileId": "65000000000000000000f001"}}
    }
    await wf.update_post(ITEM_ID, "post", PostFields(featured_media_id=None))
    assert json.loads(route.calls.last.request.content) == {"fieldData": {"main-image": None}}
