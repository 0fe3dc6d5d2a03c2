"""The WordPress REST emulation as a client sees it over loopback HTTP."""

from __future__ import annotations

import base64

import httpx
import pytest

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def wp_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["data"]["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    return body


# -- discovery and auth ------------------------------------------------------


def test_index_lists_namespaces_and_the_companion_plugin(anon):
    body = anon.get("/wp-json/").json()
    assert body["name"] == "Northwind Coffee Roasters"
    assert body["url"] == str(anon.base_url).rstrip("/")
    assert "wp/v2" in body["namespaces"] and "marketing-mcp/v1" in body["namespaces"]
    assert "/wp/v2/posts" in body["routes"]
    assert "application-passwords" in body["authentication"]


def test_rest_route_query_form_reaches_the_same_api(anon):
    pretty = anon.get("/wp-json/wp/v2/posts", params={"per_page": 3})
    plain = anon.get("/", params={"rest_route": "/wp/v2/posts", "per_page": 3})
    assert plain.status_code == 200
    assert [p["id"] for p in plain.json()] == [p["id"] for p in pretty.json()]
    assert plain.headers["X-WP-Total"] == pretty.headers["X-WP-Total"]


def test_unknown_route_is_rest_no_route(anon):
    body = wp_error(anon.get("/wp-json/wp/v2/nothing-here"), 404, "rest_no_route")
    assert body["message"] == "No route was found matching the URL and request method."
    wp_error(anon.delete("/wp-json/wp/v2/posts"), 404, "rest_no_route")


def test_wrong_application_password_is_incorrect_password(sb):
    r = httpx.get(sb.url + "/wp-json/wp/v2/posts", auth=("demo", "aaaa bbbb cccc dddd eeee ffff"))
    body = wp_error(r, 401, "incorrect_password")
    assert body["message"] == "The provided password is an invalid application password."


def test_unknown_user_is_invalid_username(sb, creds):
    r = httpx.get(sb.url + "/wp-json/wp/v2/users/me", auth=("nobody", creds["wordpress"]["application_password"]))
    wp_error(r, 401, "invalid_username")


def test_application_password_works_with_or_without_spaces(sb, creds):
    password = creds["wordpress"]["application_password"]
    assert len(password) == 29 and len(password.split(" ")) == 6
    for form in (password, password.replace(" ", "")):
        r = httpx.get(sb.url + "/wp-json/wp/v2/users/me", auth=("demo", form))
        assert r.status_code == 200
        assert r.json()["slug"] == "demo"


def test_users_me_requires_login_and_shows_capabilities_in_edit_context(anon, wp):
    wp_error(anon.get("/wp-json/wp/v2/users/me"), 401, "rest_not_logged_in")
    view = wp.get("/wp/v2/users/me").json()
    assert view["id"] == 1 and "capabilities" not in view
    edit = wp.get("/wp/v2/users/me", params={"context": "edit"}).json()
    assert edit["roles"] == ["administrator"]
    assert edit["capabilities"]["edit_posts"] and edit["capabilities"]["publish_posts"]


# -- listing -----------------------------------------------------------------


def test_pagination_headers_and_links(anon):
    first = anon.get("/wp-json/wp/v2/posts", params={"per_page": 4})
    assert first.status_code == 200
    assert first.headers["X-WP-Total"] == "10"
    assert first.headers["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in first.headers["Link"]
    last = anon.get("/wp-json/wp/v2/posts", params={"per_page": 4, "page": 3})
    assert len(last.json()) == 2 and 'rel="prev"' in last.headers["Link"]
    ids = [
        p["id"]
        for page in (1, 2, 3)
        for p in anon.get("/wp-json/wp/v2/posts", params={"per_page": 4, "page": page}).json()
    ]
    assert len(set(ids)) == 10


def test_default_order_is_newest_first(anon):
    dates = [p["date"] for p in anon.get("/wp-json/wp/v2/posts", params={"per_page": 100}).json()]
    assert dates == sorted(dates, reverse=True)


def test_page_past_the_end_is_rejected(anon):
    body = wp_error(anon.get("/wp-json/wp/v2/posts", params={"page": 99}), 400, "rest_post_invalid_page_number")
    assert body["message"] == "The page number requested is larger than the number of pages available."


@pytest.mark.parametrize("per_page", ["0", "101", "many"])
def test_per_page_out_of_range_is_rest_invalid_param(anon, per_page):
    body = wp_error(anon.get("/wp-json/wp/v2/posts", params={"per_page": per_page}), 400, "rest_invalid_param")
    assert body["message"] == "Invalid parameter(s): per_page"
    assert "per_page" in body["data"]["params"]
    assert "per_page" in body["data"]["details"]


def test_non_public_status_needs_auth(anon, wp):
    body = wp_error(anon.get("/wp-json/wp/v2/posts", params={"status": "draft"}), 400, "rest_invalid_param")
    assert body["data"]["params"] == {"status": "Status is forbidden."}
    drafts = wp.get("/wp/v2/posts", params={"status": "draft,future"})
    assert drafts.status_code == 200
    assert sorted(p["status"] for p in drafts.json()) == ["draft", "future"]


def test_edit_context_needs_auth_and_adds_raw_fields(anon, wp):
    wp_error(anon.get("/wp-json/wp/v2/posts", params={"context": "edit"}), 401, "rest_forbidden_context")
    post = wp.get("/wp/v2/posts", params={"context": "edit", "per_page": 1}).json()[0]
    assert "raw" in post["title"] and "raw" in post["content"]
    view = wp.get("/wp/v2/posts", params={"per_page": 1}).json()[0]
    assert "raw" not in view["title"]


def test_search_slug_and_category_filters(anon):
    found = anon.get("/wp-json/wp/v2/posts", params={"search": "coffee", "per_page": 100}).json()
    assert found
    one = found[0]
    by_slug = anon.get("/wp-json/wp/v2/posts", params={"slug": one["slug"]}).json()
    assert [p["id"] for p in by_slug] == [one["id"]]
    category = one["categories"][0]
    in_category = anon.get("/wp-json/wp/v2/posts", params={"categories": category, "per_page": 100}).json()
    assert in_category and all(category in p["categories"] for p in in_category)


def test_orderby_title_ascending(anon):
    titles = [
        p["title"]["rendered"]
        for p in anon.get("/wp-json/wp/v2/posts", params={"orderby": "title", "order": "asc", "per_page": 100}).json()
    ]
    assert titles == sorted(titles, key=str.lower)


# -- single items ------------------------------------------------------------


def test_unknown_id_is_invalid_post_id(anon):
    body = wp_error(anon.get("/wp-json/wp/v2/posts/99999"), 404, "rest_post_invalid_id")
    assert body["message"] == "Invalid post ID."


def test_drafts_are_invisible_without_auth(anon, wp):
    draft = wp.get("/wp/v2/posts", params={"status": "draft"}).json()[0]
    wp_error(anon.get(f"/wp-json/wp/v2/posts/{draft['id']}"), 401, "rest_forbidden")
    assert wp.get(f"/wp/v2/posts/{draft['id']}").status_code == 200
    assert draft["slug"] == ""  # core leaves drafts without a slug until they are published


def test_post_and_page_shapes(anon):
    post = anon.get("/wp-json/wp/v2/posts", params={"per_page": 1}).json()[0]
    for key in (
        "id",
        "date",
        "date_gmt",
        "modified",
        "modified_gmt",
        "slug",
        "status",
        "type",
        "link",
        "title",
        "content",
        "excerpt",
        "author",
        "featured_media",
        "categories",
        "tags",
        "meta",
    ):
        assert key in post
    assert post["content"]["protected"] is False
    page = anon.get("/wp-json/wp/v2/pages", params={"per_page": 1}).json()[0]
    assert "parent" in page and "menu_order" in page and "categories" not in page


# -- writes ------------------------------------------------------------------


def test_create_requires_auth(anon):
    body = wp_error(anon.post("/wp-json/wp/v2/posts", json={"title": "x"}), 401, "rest_cannot_create")
    assert body["message"] == "Sorry, you are not allowed to create posts as this user."


def test_create_update_delete_round_trip(wp, anon):
    created = wp.post(
        "/wp/v2/posts",
        json={
            "title": "Fresh Roast Friday",
            "content": "Hello there.",
            "status": "publish",
            "categories": [2],
            "tags": [7],
        },
    )
    assert created.status_code == 201
    post = created.json()
    assert created.headers["Location"].endswith(f"/wp-json/wp/v2/posts/{post['id']}")
    assert post["slug"] == "fresh-roast-friday" and post["status"] == "publish"
    assert post["title"]["raw"] == "Fresh Roast Friday"
    assert post["content"]["rendered"] == "<p>Hello there.</p>\n"
    assert anon.get(f"/wp-json/wp/v2/posts/{post['id']}").status_code == 200

    updated = wp.post(f"/wp/v2/posts/{post['id']}", json={"title": "Fresh Roast Saturday"})
    assert updated.status_code == 200 and updated.json()["title"]["raw"] == "Fresh Roast Saturday"
    assert wp.patch(f"/wp/v2/posts/{post['id']}", json={"excerpt": "Short."}).json()["excerpt"]["raw"] == "Short."

    trashed = wp.delete(f"/wp/v2/posts/{post['id']}")
    assert trashed.status_code == 200 and trashed.json()["status"] == "trash"
    wp_error(wp.delete(f"/wp/v2/posts/{post['id']}"), 410, "rest_already_trashed")
    gone = wp.delete(f"/wp/v2/posts/{post['id']}", params={"force": "true"})
    assert gone.json()["deleted"] is True and gone.json()["previous"]["id"] == post["id"]
    wp_error(wp.get(f"/wp/v2/posts/{post['id']}"), 404, "rest_post_invalid_id")


def test_writes_without_auth_are_refused(anon, wp):
    post_id = anon.get("/wp-json/wp/v2/posts", params={"per_page": 1}).json()[0]["id"]
    wp_error(anon.post(f"/wp-json/wp/v2/posts/{post_id}", json={"title": "x"}), 401, "rest_cannot_edit")
    wp_error(anon.delete(f"/wp-json/wp/v2/posts/{post_id}"), 401, "rest_cannot_delete")
    wp_error(wp.post("/wp/v2/posts/99999", json={"title": "x"}), 404, "rest_post_invalid_id")


def test_form_encoded_create(wp):
    r = wp.post("/wp/v2/posts", data={"title": "Form Post", "status": "draft", "tags[]": ["7", "8"]})
    assert r.status_code == 201
    assert r.json()["tags"] == [7, 8] and r.json()["status"] == "draft"


def test_wrong_param_types_are_reported_per_param(wp):
    body = wp_error(
        wp.post("/wp/v2/posts", json={"title": "x", "categories": ["abc"], "status": "live"}), 400, "rest_invalid_param"
    )
    assert set(body["data"]["params"]) == {"categories", "status"}
    wp_error(wp.post("/wp/v2/posts", json={"title": "x", "date": "next tuesday"}), 400, "rest_invalid_param")


def test_invalid_json_body(wp):
    r = wp.post("/wp/v2/posts", content=b"{not json", headers={"Content-Type": "application/json"})
    wp_error(r, 400, "rest_invalid_json")


def test_slugs_are_made_unique_with_a_suffix(wp):
    slugs = [
        wp.post("/wp/v2/posts", json={"title": "Same Title", "status": "publish"}).json()["slug"] for _ in range(3)
    ]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]
    explicit = wp.post("/wp/v2/posts", json={"title": "Other", "slug": "same-title", "status": "publish"}).json()
    assert explicit["slug"] == "same-title-4"
    # Pages are a different post type: no clash with posts.
    assert wp.post("/wp/v2/pages", json={"title": "Same Title", "status": "publish"}).json()["slug"] == "same-title"


def test_trash_frees_the_slug(wp):
    first = wp.post("/wp/v2/posts", json={"title": "Reusable", "status": "publish"}).json()
    wp.delete(f"/wp/v2/posts/{first['id']}")
    assert wp.post("/wp/v2/posts", json={"title": "Reusable", "status": "publish"}).json()["slug"] == "reusable"


def test_publish_with_a_future_date_becomes_scheduled_and_past_future_publishes(wp, sb):
    scheduled = wp.post(
        "/wp/v2/posts", json={"title": "Later", "status": "publish", "date": "2026-11-09T09:00:00"}
    ).json()
    assert scheduled["status"] == "future"
    past = wp.post("/wp/v2/posts", json={"title": "Earlier", "status": "future", "date": "2026-10-01T09:00:00"}).json()
    assert past["status"] == "publish"
    no_date = wp.post("/wp/v2/posts", json={"title": "Now", "status": "future"}).json()
    assert no_date["status"] == "publish"


def test_scheduled_posts_publish_when_the_clock_passes_their_date(wp, anon):
    post = wp.post(
        "/wp/v2/posts", json={"title": "Holiday Blend", "status": "future", "date": "2026-11-05T12:00:00Z"}
    ).json()
    assert post["status"] == "future"
    wp_error(anon.get(f"/wp-json/wp/v2/posts/{post['id']}"), 401, "rest_forbidden")
    anon.post("/_sandbox/clock/advance", json={"days": 2}).raise_for_status()
    assert wp.get(f"/wp/v2/posts/{post['id']}").json()["status"] == "future"
    anon.post("/_sandbox/clock/advance", json={"days": 2}).raise_for_status()
    published = anon.get(f"/wp-json/wp/v2/posts/{post['id']}")
    assert published.status_code == 200 and published.json()["status"] == "publish"
    assert anon.get("/holiday-blend/").status_code == 200


def test_seeded_scheduled_post_goes_live_after_a_week(sb, wp):
    future = wp.get("/wp/v2/posts", params={"status": "future"}).json()
    assert len(future) == 1
    sb.world.advance(days=7)
    assert wp.get(f"/wp/v2/posts/{future[0]['id']}").json()["status"] == "publish"


def test_draft_gets_a_slug_when_published(wp):
    draft = wp.post("/wp/v2/posts", json={"title": "Draft First"}).json()
    assert draft["status"] == "draft" and draft["slug"] == "" and draft["generated_slug"] == "draft-first"
    assert "?p=" in draft["link"]
    published = wp.post(f"/wp/v2/posts/{draft['id']}", json={"status": "publish"}).json()
    assert published["slug"] == "draft-first" and published["link"].endswith("/draft-first/")


def test_rendered_title_uses_wordpress_typography(wp):
    post = wp.post("/wp/v2/posts", json={"title": "Beans & Brews: It's Here", "status": "publish"}).json()
    assert post["title"]["rendered"] == "Beans &#038; Brews: It&#8217;s Here"
    assert post["title"]["raw"] == "Beans & Brews: It's Here"


# -- meta and the companion plugin ------------------------------------------


def test_seo_meta_is_readable_and_writable_in_edit_context(wp):
    post = wp.post(
        "/wp/v2/posts",
        json={
            "title": "Meta",
            "status": "publish",
            "meta": {"_yoast_wpseo_title": "SEO Title", "_yoast_wpseo_metadesc": "Desc", "made_up_key": "ignored"},
        },
    ).json()
    assert post["meta"]["_yoast_wpseo_title"] == "SEO Title"
    assert "made_up_key" not in post["meta"]
    view = wp.get(f"/wp/v2/posts/{post['id']}").json()
    assert "_yoast_wpseo_title" not in view["meta"]
    edit = wp.get(f"/wp/v2/posts/{post['id']}", params={"context": "edit"}).json()
    assert edit["meta"]["_yoast_wpseo_metadesc"] == "Desc"
    assert set(edit["meta"]) >= {"_marketing_mcp_seo_title", "rank_math_title"}


def test_meta_values_must_be_strings(wp):
    body = wp_error(
        wp.post("/wp/v2/posts", json={"title": "x", "meta": {"_yoast_wpseo_title": 5}}), 400, "rest_invalid_param"
    )
    assert "meta" in body["data"]["params"]


def test_companion_seo_route(anon, wp, sb):
    wp_error(anon.get("/wp-json/marketing-mcp/v1/seo"), 401, "rest_forbidden")
    body = wp.get("/marketing-mcp/v1/seo").json()
    assert body == {
        "plugin_version": "1.0.0",
        "seo_plugin": "yoast",
        "fields": {"seo_title": "_yoast_wpseo_title", "meta_description": "_yoast_wpseo_metadesc"},
    }
    sb.world.wordpress.seo_plugin = "rank_math"
    assert wp.get("/marketing-mcp/v1/seo").json()["fields"] == {
        "seo_title": "rank_math_title",
        "meta_description": "rank_math_description",
    }
    sb.world.wordpress.seo_plugin = "none"
    assert wp.get("/marketing-mcp/v1/seo").json() == {
        "plugin_version": "1.0.0",
        "seo_plugin": "none",
        "fields": {"seo_title": "_marketing_mcp_seo_title", "meta_description": "_marketing_mcp_meta_description"},
    }


def test_without_the_companion_plugin(sb, wp):
    sb.world.wordpress.companion_plugin = False
    wp_error(wp.get("/marketing-mcp/v1/seo"), 404, "rest_no_route")
    assert "marketing-mcp/v1" not in wp.get("/").json()["namespaces"]
    post = wp.post("/wp/v2/posts", json={"title": "No plugin", "meta": {"_yoast_wpseo_title": "x"}}).json()
    assert not any(key.startswith(("_yoast", "rank_math", "_marketing_mcp")) for key in post["meta"])


# -- terms -------------------------------------------------------------------


def test_categories_and_tags(anon, wp):
    categories = anon.get("/wp-json/wp/v2/categories")
    assert categories.status_code == 200 and categories.headers["X-WP-Total"] == "5"
    assert {c["slug"] for c in categories.json()} >= {"uncategorized", "brewing-guides"}
    tag = anon.get("/wp-json/wp/v2/tags", params={"slug": "espresso"}).json()[0]
    assert tag["name"] == "espresso" and tag["taxonomy"] == "post_tag"
    wp_error(anon.get("/wp-json/wp/v2/tags/9999"), 404, "rest_term_invalid")

    wp_error(anon.post("/wp-json/wp/v2/tags", json={"name": "Latte"}), 401, "rest_cannot_create")
    created = wp.post("/wp/v2/tags", json={"name": "Latte", "description": "Milk drinks"})
    assert created.status_code == 201 and created.json()["slug"] == "latte"
    duplicate = wp_error(wp.post("/wp/v2/tags", json={"name": "latte"}), 400, "term_exists")
    assert duplicate["data"]["term_id"] == created.json()["id"]
    category = wp.post("/wp/v2/categories", data={"name": "Recipes", "slug": "recipes"})
    assert category.status_code == 201 and category.json()["parent"] == 0


# -- media -------------------------------------------------------------------


def test_raw_media_upload_is_served(wp, anon):
    r = wp.post(
        "/wp/v2/media",
        content=PNG_1x1,
        headers={"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="hero shot.png"'},
    )
    assert r.status_code == 201, r.text
    media = r.json()
    assert media["mime_type"] == "image/png" and media["media_type"] == "image"
    assert media["media_details"]["filesize"] == len(PNG_1x1)
    assert media["media_details"]["width"] == 1
    assert media["source_url"].startswith(str(anon.base_url).rstrip("/") + "/wp-content/uploads/2026/11/")
    served = anon.get(media["source_url"])
    assert served.status_code == 200 and served.content == PNG_1x1
    assert served.headers["content-type"] == "image/png"
    assert anon.get(f"/wp-json/wp/v2/media/{media['id']}").json()["source_url"] == media["source_url"]


def test_multipart_media_upload_with_alt_text(wp):
    r = wp.post("/wp/v2/media", files={"file": ("beans.png", PNG_1x1, "image/png")}, data={"alt_text": "Roasted beans"})
    assert r.status_code == 201
    assert r.json()["alt_text"] == "Roasted beans"
    post = wp.post("/wp/v2/posts", json={"title": "With image", "featured_media": r.json()["id"]}).json()
    assert post["featured_media"] == r.json()["id"]


def test_media_upload_errors(wp, anon):
    wp_error(
        anon.post("/wp-json/wp/v2/media", content=PNG_1x1, headers={"Content-Type": "image/png"}),
        401,
        "rest_cannot_create",
    )
    wp_error(
        wp.post("/wp/v2/media", content=PNG_1x1, headers={"Content-Type": "image/png"}),
        400,
        "rest_upload_no_content_disposition",
    )
    wp_error(
        wp.post(
            "/wp/v2/media",
            content=b"",
            headers={"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="x.png"'},
        ),
        400,
        "rest_upload_no_data",
    )
    refused = wp.post(
        "/wp/v2/media",
        content=b"MZ\x90\x00",
        headers={"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="tool.exe"'},
    )
    body = wp_error(refused, 500, "rest_upload_sideload_error")
    assert body["message"] == "Sorry, you are not allowed to upload this file type."
    fake_png = wp.post(
        "/wp/v2/media",
        content=b"<?php echo 1;",
        headers={"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="shell.png"'},
    )
    wp_error(fake_png, 500, "rest_upload_sideload_error")


def test_media_delete_needs_force(wp):
    media = wp.post("/wp/v2/media", files={"file": ("a.png", PNG_1x1, "image/png")}).json()
    wp_error(wp.delete(f"/wp/v2/media/{media['id']}"), 501, "rest_trash_not_supported")
    assert wp.delete(f"/wp/v2/media/{media['id']}", params={"force": True}).json()["deleted"] is True


def test_fields_parameter_trims_the_response(anon):
    posts = anon.get("/wp-json/wp/v2/posts", params={"_fields": "id,title", "per_page": 2}).json()
    assert [set(p) for p in posts] == [{"id", "title"}, {"id", "title"}]
