"""How WordPress REST objects and pagination headers look on the wire, and the per-request context
handlers share.

Field order, ``rendered``/``raw`` pairs, edit-context extras and ``_links``
follow what core's controllers return, so clients parse the sandbox exactly
as they parse a real site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlencode

from starlette.requests import Request

from ...world import World
from .params import Params
from .site import CORE_META_DEFAULTS, ApplicationPassword, Media, Post, Term, User, WordPressSite, WPError
from .text import render_content, render_excerpt, sanitize_title, texturize

CAPABILITIES = (
    "switch_themes",
    "edit_themes",
    "activate_plugins",
    "edit_plugins",
    "edit_users",
    "edit_files",
    "manage_options",
    "moderate_comments",
    "manage_categories",
    "manage_links",
    "upload_files",
    "import",
    "unfiltered_html",
    "edit_posts",
    "edit_others_posts",
    "edit_published_posts",
    "publish_posts",
    "edit_pages",
    "read",
    "edit_others_pages",
    "edit_published_pages",
    "publish_pages",
    "delete_pages",
    "delete_others_pages",
    "delete_published_pages",
    "delete_posts",
    "delete_others_posts",
    "delete_published_posts",
    "delete_private_posts",
    "edit_private_posts",
    "read_private_posts",
    "delete_private_pages",
    "edit_private_pages",
    "read_private_pages",
    "delete_users",
    "create_users",
    "unfiltered_upload",
    "list_users",
    "remove_users",
    "promote_users",
    "edit_theme_options",
    "export",
    "administrator",
)


@dataclass
class Ctx:
    """One REST request after parsing: merged arguments, the authenticated user, the site's base URL."""

    world: World
    site: WordPressSite
    request: Request
    method: str
    route: str
    params: dict[str, Any]
    query: dict[str, Any]
    user: User | None
    base: str
    body: bytes = b""
    files: dict[str, Any] = field(default_factory=dict)
    application_password: ApplicationPassword | None = None  # the one this request authenticated with

    @property
    def now(self) -> datetime:
        return self.world.now()

    def url(self, path: str) -> str:
        return self.base + path

    def rest_url(self, route: str) -> str:
        return self.base + "/wp-json" + route

    def context(self, p: Params) -> str:
        return p.enum("context", ("view", "embed", "edit"), default="view") or "view"


@dataclass
class Result:
    """A handler's answer: JSON body, status, extra headers (pagination, Location, Link)."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Result]


def wp_date(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def post_json(ctx: Ctx, post: Post, context: str) -> dict[str, Any]:
    site = ctx.site
    edit = context == "edit"
    rest_base = "posts" if post.type == "post" else "pages"
    guid = ctx.url(f"/?p={post.id}" if post.type == "post" else f"/?page_id={post.id}")
    data: dict[str, Any] = {
        "id": post.id,
        "date": wp_date(post.date),
        "date_gmt": wp_date(post.date),
        "guid": {"rendered": guid, **({"raw": guid} if edit else {})},
        "modified": wp_date(post.modified),
        "modified_gmt": wp_date(post.modified),
        "slug": post.slug,
        "status": post.status,
        "type": post.type,
        "link": ctx.url(site.path_of(post)),
        "title": {**({"raw": post.title} if edit else {}), "rendered": texturize(post.title)},
        "content": {
            **({"raw": post.content} if edit else {}),
            "rendered": render_content(post.content),
            "protected": False,
            **({"block_version": 1 if "<!-- wp:" in post.content else 0} if edit else {}),
        },
        "excerpt": {
            **({"raw": post.excerpt} if edit else {}),
            "rendered": render_excerpt(post.excerpt, post.content),
            "protected": False,
        },
        "author": post.author,
        "featured_media": post.featured_media,
    }
    if post.type == "page":
        data["parent"] = post.parent
        data["menu_order"] = post.menu_order
    data["comment_status"] = post.comment_status
    data["ping_status"] = post.ping_status
    if post.type == "post":
        data["sticky"] = post.sticky
    data["template"] = post.template
    if post.type == "post":
        data["format"] = post.format
    data["meta"] = _meta_json(site, post, edit)
    if post.type == "post":
        data["categories"] = list(post.categories)
        data["tags"] = list(post.tags)
    if edit:
        data["password"] = ""
        token = "%postname%" if post.type == "post" else "%pagename%"
        data["permalink_template"] = ctx.url(f"/{token}/")
        data["generated_slug"] = post.slug or sanitize_title(post.title)
    if site.seo_plugin == "yoast":
        data["yoast_head_json"] = _yoast_head_json(ctx, post)
    data["_links"] = {
        "self": [{"href": ctx.rest_url(f"/wp/v2/{rest_base}/{post.id}")}],
        "collection": [{"href": ctx.rest_url(f"/wp/v2/{rest_base}")}],
        "author": [{"embeddable": True, "href": ctx.rest_url(f"/wp/v2/users/{post.author}")}],
    }
    return data


def _meta_json(site: WordPressSite, post: Post, edit: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {k: post.meta.get(k, v) for k, v in CORE_META_DEFAULTS.items()}
    if edit:
        for key in site.registered_meta_keys():
            meta[key] = post.meta.get(key, "")
    return meta


def _yoast_head_json(ctx: Ctx, post: Post) -> dict[str, Any]:
    site = ctx.site
    title = site.document_title(post) if site.seo_title(post) else f"{post.title} - {site.name}"
    out: dict[str, Any] = {"title": title}
    description = site.meta_description(post)
    if description:
        out["description"] = description
    link = ctx.url(site.path_of(post))
    out.update(
        {
            "robots": {"index": "index", "follow": "follow"},
            "canonical": link,
            "og_locale": "en_US",
            "og_type": "article" if post.type == "post" else "website",
            "og_title": title,
        }
    )
    if description:
        out["og_description"] = description
    out.update({"og_url": link, "og_site_name": site.name, "twitter_card": "summary_large_image"})
    return out


def term_json(ctx: Ctx, term: Term) -> dict[str, Any]:
    rest_base = "categories" if term.taxonomy == "category" else "tags"
    prefix = "category" if term.taxonomy == "category" else "tag"
    data: dict[str, Any] = {
        "id": term.id,
        "count": ctx.site.term_count(term),
        "description": term.description,
        "link": ctx.url(f"/{prefix}/{term.slug}/"),
        "name": term.name,
        "slug": term.slug,
        "taxonomy": term.taxonomy,
    }
    if term.taxonomy == "category":
        data["parent"] = term.parent
    data["meta"] = []
    data["_links"] = {
        "self": [{"href": ctx.rest_url(f"/wp/v2/{rest_base}/{term.id}")}],
        "collection": [{"href": ctx.rest_url(f"/wp/v2/{rest_base}")}],
    }
    return data


def media_json(ctx: Ctx, item: Media, context: str) -> dict[str, Any]:
    edit = context == "edit"
    source = ctx.url(f"/wp-content/uploads/{item.file}")
    details: dict[str, Any] = {"filesize": len(item.data)}
    if item.media_type == "image":
        details = {
            "width": item.width or 0,
            "height": item.height or 0,
            "file": item.file,
            "filesize": len(item.data),
            "sizes": {},
            "image_meta": {},
        }
    return {
        "id": item.id,
        "date": wp_date(item.date),
        "date_gmt": wp_date(item.date),
        "guid": {"rendered": source, **({"raw": source} if edit else {})},
        "modified": wp_date(item.modified),
        "modified_gmt": wp_date(item.modified),
        "slug": item.slug,
        "status": "inherit",
        "type": "attachment",
        "link": ctx.url(f"/?attachment_id={item.id}"),
        "title": {**({"raw": item.title} if edit else {}), "rendered": texturize(item.title)},
        "author": item.author,
        "featured_media": 0,
        "comment_status": "open",
        "ping_status": "closed",
        "template": "",
        "meta": [],
        "description": {**({"raw": item.description} if edit else {}), "rendered": render_content(item.description)},
        "caption": {**({"raw": item.caption} if edit else {}), "rendered": render_content(item.caption)},
        "alt_text": item.alt_text,
        "media_type": item.media_type,
        "mime_type": item.mime_type,
        "media_details": details,
        "post": item.post,
        "source_url": source,
        "_links": {
            "self": [{"href": ctx.rest_url(f"/wp/v2/media/{item.id}")}],
            "collection": [{"href": ctx.rest_url("/wp/v2/media")}],
        },
    }


def user_json(ctx: Ctx, user: User, context: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "url": "",
        "description": "",
        "link": ctx.url(f"/author/{user.slug}/"),
        "slug": user.slug,
        "avatar_urls": {size: f"https://secure.gravatar.com/avatar/?s={size}&d=mm&r=g" for size in ("24", "48", "96")},
    }
    if context == "edit":
        data.update(
            {
                "username": user.username,
                "first_name": user.name.split(" ")[0],
                "last_name": " ".join(user.name.split(" ")[1:]),
                "email": user.email,
                "locale": "en_US",
                "nickname": user.username,
                "roles": list(user.roles),
                "registered_date": user.registered.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "capabilities": {cap: True for cap in CAPABILITIES},
                "extra_capabilities": {role: True for role in user.roles},
            }
        )
    data["meta"] = []
    data["_links"] = {
        "self": [{"href": ctx.rest_url(f"/wp/v2/users/{user.id}")}],
        "collection": [{"href": ctx.rest_url("/wp/v2/users")}],
    }
    return data


# -- pagination ------------------------------------------------------------


def paginate(
    ctx: Ctx, items: list[Any], page: int, per_page: int, offset: int | None, error_code: str | None
) -> tuple[list[Any], dict[str, str]]:
    total = len(items)
    max_pages = math.ceil(total / per_page) if total else 0
    if error_code and total > 0 and page > max_pages and offset is None:
        raise WPError(error_code, "The page number requested is larger than the number of pages available.", 400)
    start = offset if offset is not None else (page - 1) * per_page
    window = items[start : start + per_page]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    links = []
    query = {k: v for k, v in ctx.request.query_params.multi_items() if k not in ("page", "rest_route")}
    base = ctx.rest_url(ctx.route.rstrip("/"))
    if page > 1:
        links.append(f'<{base}?{urlencode([*query.items(), ("page", min(page - 1, max(max_pages, 1)))])}>; rel="prev"')
    if max_pages > page:
        links.append(f'<{base}?{urlencode([*query.items(), ("page", page + 1)])}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return window, headers
