"""One contract, every CMS: the same cases against WordPress and Webflow in the sandbox, and
against a real WordPress (scripts/wordpress-up.sh), over real loopback HTTP.

The adapters are built by the suite's own wiring from an mcp.json, as a server builds them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from adapters.cms.base import CAP_META_DESCRIPTION, CAP_SEO_TITLE, PostFields
from adapters.errors import NotFound
from suite.config import parse_config
from suite.wiring import ADAPTERS, Wiring

from ..helpers import real_wordpress_client, sandbox_config

BACKENDS = ["wordpress-sandbox", "webflow-sandbox", pytest.param("wordpress-real", marks=pytest.mark.wordpress)]


@pytest.fixture(params=BACKENDS)
async def cms(request):
    if request.param == "wordpress-real":
        server = "wordpress"
        raw, client = real_wordpress_client("real"), "real"
    else:
        sandbox = request.getfixturevalue("signed_in")
        raw, client = sandbox_config(sandbox.url), "t"
        server = request.param.split("-")[0]
    adapter = await ADAPTERS[server](Wiring(parse_config(raw), client, server))
    yield adapter
    await adapter.aclose()


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


async def page_html(url: str) -> httpx.Response:
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
        return await http.get(url)


async def test_the_full_publishing_round_trip(cms):
    caps = await cms.capabilities()
    assert {CAP_SEO_TITLE, CAP_META_DESCRIPTION} <= caps
    title = unique("Contract post")
    draft = await cms.create_draft("post", PostFields(title=title, body="<p>First version.</p>"))
    try:
        assert draft.status == "draft" and draft.title == title

        seo_title = unique("Better SEO title")
        updated = await cms.update_post(
            draft.id, "post", PostFields(seo_title=seo_title, meta_description="A description that sells the click.")
        )
        assert updated.seo_title == seo_title
        assert updated.meta_description == "A description that sells the click."
        assert (await cms.get_post(draft.id, "post")).seo_title == seo_title

        published = await cms.publish(draft.id, "post")
        assert published.status == "published"
        page = await page_html(published.url)
        assert page.status_code == 200
        assert seo_title in page.text
        assert 'content="A description that sells the click."' in page.text

        found = await cms.list_posts("post", status="published", search=title, cursor=None, limit=10)
        assert [p.id for p in found.items] == [draft.id]

        unpublished = await cms.unpublish(draft.id, "post")
        assert unpublished.status == "draft"
        assert (await page_html(published.url)).status_code == 404
    finally:
        await cms.delete(draft.id, "post", force=True)
    with pytest.raises(NotFound):
        await cms.get_post(draft.id, "post")


async def test_listing_pages_through_every_item_with_cursors(cms):
    made = [await cms.create_draft("post", PostFields(title=unique("Paging"), body="<p>x</p>")) for _ in range(3)]
    try:
        seen, cursor = [], None
        for _ in range(50):
            page = await cms.list_posts("post", status="draft", search=None, cursor=cursor, limit=2)
            assert len(page.items) <= 2
            seen += [p.id for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert cursor is None
        assert {m.id for m in made} <= set(seen)
        assert len(seen) == len(set(seen))
    finally:
        for m in made:
            await cms.delete(m.id, "post", force=True)


async def test_unknown_ids_are_not_found(cms):
    with pytest.raises(NotFound):
        await cms.get_post("999999" if cms.vendor == "wordpress" else "0123456789abcdef01234567", "post")


async def test_a_draft_is_not_public(cms):
    draft = await cms.create_draft(
        "post", PostFields(title=unique("Secret draft"), body="<p>not yet</p>", slug=f"secret-{uuid.uuid4().hex[:8]}")
    )
    try:
        found = await cms.list_posts("post", status="published", search=draft.title, cursor=None, limit=10)
        assert found.items == []
    finally:
        await cms.delete(draft.id, "post", force=True)


SANDBOX_BACKENDS = ["wordpress-sandbox", "webflow-sandbox"]
CREATE_ROUTE = {"wordpress": "/wp-json/wp/v2/posts", "webflow": "/webflow/v2/collections/*/items"}


@pytest.fixture
def faults(sandbox):
    yield sandbox.world.faults
    sandbox.world.faults.clear()


@pytest.mark.parametrize("cms", SANDBOX_BACKENDS, indirect=True)
async def test_a_create_whose_response_is_lost_leaves_exactly_one_post(cms, faults):
    title = unique("Lost response")
    rule = faults.add("drop_after", method="POST", path=CREATE_ROUTE[cms.vendor], times=1)
    post = await cms.create_draft("post", PostFields(title=title, body="<p>once</p>"))
    try:
        assert rule.hits == 1  # the create was applied and its response lost
        found = await cms.list_posts("post", status="draft", search=title, cursor=None, limit=10)
        assert [p.id for p in found.items] == [post.id]
    finally:
        await cms.delete(post.id, "post", force=True)


@pytest.mark.parametrize("cms", SANDBOX_BACKENDS, indirect=True)
async def test_a_429_with_retry_after_is_waited_out(cms, faults):
    rule = faults.add("status", status=429, retry_after=1, method="GET", times=1)
    page = await cms.list_posts("post", status=None, search=None, cursor=None, limit=1)
    assert rule.hits == 1 and len(page.items) == 1
