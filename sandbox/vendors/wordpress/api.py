"""WordPress REST API emulation (``/wp-json/...`` and ``/?rest_route=...``).

Covers the ``wp/v2`` routes a CMS client uses (posts, pages, categories,
tags, media, users/me, the user's application passwords) and the companion
plugin's ``marketing-mcp/v1/seo``.
Order of checks follows ``WP_REST_Server``: authentication errors first, then
argument validation, then the permission callback, then the handler.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from ...world import World
from .params import MISSING, Params, php_params
from .shapes import Ctx, Handler, Result, media_json, post_json, term_json, user_json, wp_date
from .site import (
    ALLOWED_UPLOADS,
    COMPANION_PLUGIN_VERSION,
    CORE_META_DEFAULTS,
    ApplicationPassword,
    Media,
    Post,
    Term,
    User,
    WordPressSite,
    WPError,
    chunk_password,
    sniff_image,
)
from .text import sanitize_title

POST_WRITE_STATUSES = ("publish", "future", "draft", "pending", "private")
QUERY_STATUSES = ("publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit", "any")
FORMATS = ("standard", "aside", "chat", "gallery", "link", "image", "quote", "status", "video", "audio")
POST_ORDERBY = ("author", "date", "id", "include", "modified", "parent", "relevance", "slug", "include_slugs", "title")
TERM_ORDERBY = ("id", "include", "name", "slug", "include_slugs", "term_group", "description", "count")
FORBIDDEN = "Sorry, you are not allowed to do that."


# -- entry point -----------------------------------------------------------


async def handle(request: Request, world: World, route: str) -> Response:
    """Serve one REST request for ``route`` (e.g. ``/wp/v2/posts/5``)."""
    base = str(request.base_url).rstrip("/")
    method = request.method.upper()
    query = php_params(request.query_params.multi_items())
    query.pop("rest_route", None)
    override = query.pop("_method", None) or request.headers.get("x-http-method-override")
    if method == "POST" and override:
        method = str(override).upper()
    if method == "HEAD":
        method = "GET"
    try:
        body_params, raw, files = await _read_body(request)
    except WPError as err:
        return _respond(err.body(), err.status, {}, base)
    params = {**query, **body_params}
    fields = query.get("_fields")
    try:
        with world.lock:
            user, app_password = authenticate(world.wordpress, request.headers.get("authorization"))
            if app_password is not None:
                world.wordpress.record_application_password_use(
                    app_password, world.now(), request.client.host if request.client else None
                )
            ctx = Ctx(
                world=world,
                site=world.wordpress,
                request=request,
                method=method,
                route=route,
                params=params,
                query=query,
                user=user,
                base=base,
                body=raw,
                files=files,
                application_password=app_password,
            )
            result = dispatch(ctx)
    except WPError as err:
        return _respond(err.body(), err.status, {}, base)
    body = _filter_fields(result.body, fields) if fields else result.body
    return _respond(body, result.status, result.headers, base)


def _respond(body: Any, status: int, headers: dict[str, str], base: str) -> Response:
    all_headers = {
        "X-Robots-Tag": "noindex",
        "Link": f'<{base}/wp-json/>; rel="https://api.w.org/"',
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
        "Access-Control-Allow-Headers": "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
    }
    if "Link" in headers:
        all_headers["Link"] = headers.pop("Link") + ", " + all_headers["Link"]
    all_headers.update(headers)
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(payload, status_code=status, headers=all_headers, media_type="application/json; charset=UTF-8")


async def _read_body(request: Request) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    if request.method.upper() in ("GET", "HEAD", "OPTIONS"):
        return {}, b"", {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        fields, files = [], {}
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                files[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": await value.read(),
                }
            else:
                fields.append((key, value))
        return php_params(fields), b"", files
    raw = await request.body()
    if content_type == "application/json":
        if not raw.strip():
            return {}, raw, {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise WPError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message="Syntax error",
            )
        return (data if isinstance(data, dict) else {}), raw, {}
    if content_type == "application/x-www-form-urlencoded":
        return php_params(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), raw, {}
    return {}, raw, {}


def _filter_fields(body: Any, fields: Any) -> Any:
    wanted = {f.split(".")[0] for f in (fields if isinstance(fields, list) else str(fields).split(",")) if f}
    if isinstance(body, list):
        return [_filter_fields(item, fields) for item in body]
    if isinstance(body, dict) and "code" not in body:
        return {k: v for k, v in body.items() if k in wanted}
    return body


# -- authentication --------------------------------------------------------


def authenticate(site: WordPressSite, header: str | None) -> tuple[User | None, ApplicationPassword | None]:
    """Application-password Basic auth: the user and the password used. No header means anonymous; a bad one is a 401."""
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    if ":" not in decoded:
        return None, None
    login, password = decoded.split(":", 1)
    user = site.user_by_login(login)
    if user is None:
        if "@" in login:
            raise WPError(
                "invalid_email", "<strong>Error:</strong> Unknown email address. Check again or try your username.", 401
            )
        raise WPError(
            "invalid_username", "<strong>Error:</strong> Unknown username. Check again or try your email address.", 401
        )
    record = site.find_application_password(user, password)
    if record is None:
        raise WPError("incorrect_password", "The provided password is an invalid application password.", 401)
    return user, record


# -- routing ---------------------------------------------------------------


def routes(site: WordPressSite) -> list[tuple[str, str, dict[str, Handler]]]:
    """(namespace, route regex, handlers by method), like the index's ``routes`` map."""
    table: list[tuple[str, str, dict[str, Handler]]] = [
        ("", r"/", {"GET": index}),
        ("wp/v2", r"/wp/v2", {"GET": namespace_index}),
    ]
    for rest_base, post_type in (("posts", "post"), ("pages", "page")):
        table.append(
            (
                "wp/v2",
                rf"/wp/v2/{rest_base}",
                {"GET": _bind(list_posts, post_type), "POST": _bind(create_post, post_type)},
            )
        )
        table.append(
            (
                "wp/v2",
                rf"/wp/v2/{rest_base}/(?P<id>[\d]+)",
                {
                    "GET": _bind(get_post, post_type),
                    "POST": _bind(update_post, post_type),
                    "PUT": _bind(update_post, post_type),
                    "PATCH": _bind(update_post, post_type),
                    "DELETE": _bind(delete_post, post_type),
                },
            )
        )
    for rest_base, taxonomy in (("categories", "category"), ("tags", "post_tag")):
        table.append(
            (
                "wp/v2",
                rf"/wp/v2/{rest_base}",
                {"GET": _bind(list_terms, taxonomy), "POST": _bind(create_term, taxonomy)},
            )
        )
        table.append(
            (
                "wp/v2",
                rf"/wp/v2/{rest_base}/(?P<id>[\d]+)",
                {
                    "GET": _bind(get_term, taxonomy),
                    "POST": _bind(update_term, taxonomy),
                    "PUT": _bind(update_term, taxonomy),
                    "PATCH": _bind(update_term, taxonomy),
                    "DELETE": _bind(delete_term, taxonomy),
                },
            )
        )
    table += [
        ("wp/v2", r"/wp/v2/media", {"GET": list_media, "POST": create_media}),
        (
            "wp/v2",
            r"/wp/v2/media/(?P<id>[\d]+)",
            {
                "GET": get_media,
                "POST": update_media,
                "PUT": update_media,
                "PATCH": update_media,
                "DELETE": delete_media,
            },
        ),
        ("wp/v2", r"/wp/v2/users/me", {"GET": users_me}),
        ("wp/v2", r"/wp/v2/users/(?P<id>[\d]+)", {"GET": get_user}),
        (
            "wp/v2",
            rf"/wp/v2/users/{_USER}/application-passwords",
            {"GET": list_app_passwords, "POST": create_app_password},
        ),
        ("wp/v2", rf"/wp/v2/users/{_USER}/application-passwords/introspect", {"GET": introspect_app_password}),
        (
            "wp/v2",
            rf"/wp/v2/users/{_USER}/application-passwords/(?P<uuid>[\w\-]+)",
            {"GET": get_app_password, "DELETE": delete_app_password},
        ),
    ]
    if site.companion_plugin:
        table += [
            ("marketing-mcp/v1", r"/marketing-mcp/v1", {"GET": namespace_index}),
            ("marketing-mcp/v1", r"/marketing-mcp/v1/seo", {"GET": companion_seo}),
        ]
    return table


_USER = r"(?P<user_id>(?:[\d]+|me))"


def _bind(handler: Callable[..., Result], kind: str) -> Handler:
    def bound(ctx: Ctx, **kw: Any) -> Result:
        return handler(ctx, kind, **kw)

    bound.__name__ = handler.__name__
    return bound


def dispatch(ctx: Ctx) -> Result:
    route = ctx.route if ctx.route.startswith("/") else "/" + ctx.route
    if len(route) > 1:
        route = route.rstrip("/")
    for _namespace, pattern, handlers in routes(ctx.site):
        match = re.fullmatch(pattern, route)
        if not match:
            continue
        if ctx.method == "OPTIONS":
            return Result(
                {"namespace": _namespace, "methods": sorted(handlers)}, headers={"Allow": ", ".join(sorted(handlers))}
            )
        handler = handlers.get(ctx.method)
        if handler is None:
            continue
        kwargs = {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}
        return handler(ctx, **kwargs)
    raise WPError("rest_no_route", "No route was found matching the URL and request method.", 404)


# -- index -----------------------------------------------------------------


def _namespaces(site: WordPressSite) -> list[str]:
    names = ["oembed/1.0", "wp/v2", "wp-site-health/v1", "wp-block-editor/v1"]
    if site.seo_plugin == "yoast":
        names.insert(1, "yoast/v1")
    elif site.seo_plugin == "rank_math":
        names.insert(1, "rankmath/v1")
    if site.companion_plugin:
        names.append("marketing-mcp/v1")
    return names


def index(ctx: Ctx) -> Result:
    site = ctx.site
    route_map = {}
    for namespace, pattern, handlers in routes(site):
        route_map[pattern] = {
            "namespace": namespace,
            "methods": sorted(handlers),
            "endpoints": [{"methods": [m]} for m in sorted(handlers)],
        }
    return Result(
        {
            "name": site.name,
            "description": site.description,
            "url": ctx.base,
            "home": ctx.base,
            "gmt_offset": "0",
            "timezone_string": "",
            "namespaces": _namespaces(site),
            "authentication": {
                "application-passwords": {
                    "endpoints": {"authorization": ctx.url("/wp-admin/authorize-application.php")}
                }
            },
            "routes": route_map,
            "site_logo": 0,
            "site_icon": 0,
            "site_icon_url": "",
        }
    )


def namespace_index(ctx: Ctx) -> Result:
    namespace = ctx.route.strip("/")
    route_map = {p: {"namespace": ns, "methods": sorted(h)} for ns, p, h in routes(ctx.site) if ns == namespace}
    return Result({"namespace": namespace, "routes": route_map})


# -- pagination ------------------------------------------------------------


def _paginate(
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


# -- posts and pages -------------------------------------------------------


def list_posts(ctx: Ctx, post_type: str) -> Result:
    site = ctx.site
    p = Params(ctx.params)
    context = ctx.context(p)
    page = p.int("page", default=1, minimum=1)
    per_page = p.int("per_page", default=10, minimum=1, maximum=100)
    offset = p.int("offset")
    search = p.str("search")
    statuses = p.enum_list("status", QUERY_STATUSES, default=["publish"])
    if statuses is not None and ctx.user is None:
        for status in statuses:
            if status != "publish":
                p.fail("status", "Status is forbidden.", "rest_forbidden_status", {"status": 401})
                break
    slugs = p.str_list("slug")
    include = p.int_list("include")
    exclude = p.int_list("exclude")
    authors = p.int_list("author")
    categories = p.int_list("categories") if post_type == "post" else None
    tags = p.int_list("tags") if post_type == "post" else None
    categories_exclude = p.int_list("categories_exclude") if post_type == "post" else None
    tags_exclude = p.int_list("tags_exclude") if post_type == "post" else None
    parents = p.int_list("parent") if post_type == "page" else None
    orderby_choices = POST_ORDERBY + (("menu_order",) if post_type == "page" else ())
    orderby = p.enum("orderby", orderby_choices, default="date")
    order = p.enum("order", ("asc", "desc"), default="desc")
    before = p.date("before")
    after = p.date("after")
    p.check()
    if context == "edit" and ctx.user is None:
        raise WPError("rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.", 401)
    if orderby == "relevance" and not search:
        raise WPError("rest_no_search_term_defined", "You need to define a search term to order by relevance.", 400)
    if orderby == "include" and not include:
        raise WPError(
            "rest_orderby_include_missing_include", "You need to define an include parameter to order by include.", 400
        )

    wanted = set(statuses or ["publish"])
    if "any" in wanted:
        wanted = {"publish", "future", "draft", "pending", "private"}
    posts = [post for post in site.posts_of_type(post_type) if post.status in wanted]
    if ctx.user is None:
        posts = [post for post in posts if post.status == "publish"]
    if slugs:
        posts = [post for post in posts if post.slug in slugs]
    if include:
        posts = [post for post in posts if post.id in include]
    if exclude:
        posts = [post for post in posts if post.id not in exclude]
    if authors:
        posts = [post for post in posts if post.author in authors]
    if categories:
        posts = [post for post in posts if set(post.categories) & set(categories)]
    if tags:
        posts = [post for post in posts if set(post.tags) & set(tags)]
    if categories_exclude:
        posts = [post for post in posts if not set(post.categories) & set(categories_exclude)]
    if tags_exclude:
        posts = [post for post in posts if not set(post.tags) & set(tags_exclude)]
    if parents:
        posts = [post for post in posts if post.parent in parents]
    if isinstance(before, datetime):
        posts = [post for post in posts if post.date < before]
    if isinstance(after, datetime):
        posts = [post for post in posts if post.date > after]
    if search:
        terms = search.lower().split()
        posts = [
            post for post in posts if all(t in f"{post.title}\n{post.excerpt}\n{post.content}".lower() for t in terms)
        ]

    posts.sort(key=_post_sort_key(orderby, include or []))
    if order == "desc":
        posts.reverse()
    window, headers = _paginate(ctx, posts, page, per_page, offset, "rest_post_invalid_page_number")
    return Result([post_json(ctx, post, context) for post in window], headers=headers)


def _post_sort_key(orderby: str, include: list[int]) -> Callable[[Post], Any]:
    if orderby == "id":
        return lambda post: post.id
    if orderby == "title":
        return lambda post: (post.title.lower(), post.id)
    if orderby == "modified":
        return lambda post: (post.modified, post.id)
    if orderby in ("slug", "include_slugs"):
        return lambda post: (post.slug, post.id)
    if orderby == "include":
        return lambda post: include.index(post.id) if post.id in include else len(include)
    if orderby == "menu_order":
        return lambda post: (post.menu_order, post.id)
    if orderby == "author":
        return lambda post: (post.author, post.id)
    if orderby == "parent":
        return lambda post: (post.parent, post.id)
    return lambda post: (post.date, post.id)


def _existing_post(ctx: Ctx, post_type: str, post_id: int) -> Post:
    post = ctx.site.get_post(post_id, post_type)
    if post is None or post_id <= 0:
        raise WPError("rest_post_invalid_id", "Invalid post ID.", 404)
    return post


def get_post(ctx: Ctx, post_type: str, id: int) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    post = _existing_post(ctx, post_type, id)
    if context == "edit" and ctx.user is None:
        raise WPError("rest_forbidden_context", "Sorry, you are not allowed to edit this post.", 401)
    if post.status != "publish" and ctx.user is None:
        raise WPError("rest_forbidden", FORBIDDEN, 401)
    link = ctx.url(ctx.site.path_of(post))
    return Result(post_json(ctx, post, context), headers={"Link": f'<{link}>; rel="alternate"; type=text/html'})


def _post_changes(
    ctx: Ctx, post_type: str, p: Params, existing: Post | None, authorize: Callable[[], None]
) -> dict[str, Any]:
    """Validate a create/update body and translate it into ``save_post`` changes.

    ``authorize`` runs between argument validation and the semantic checks,
    which is where WordPress runs the permission callback.
    """
    site = ctx.site
    changes: dict[str, Any] = {}
    for name in ("title", "content", "excerpt"):
        value = p.text_field(name)
        if value is not MISSING:
            changes[name] = value
    slug = p.str("slug")
    if slug is not None:
        changes["slug"] = slug
    status = p.enum("status", POST_WRITE_STATUSES)
    if status is not None:
        changes["status"] = status
    date = p.date("date")
    date_gmt = p.date("date_gmt")
    if date is None or date_gmt is None:
        changes["date"] = None
    if isinstance(date, datetime):
        changes["date"] = date
    elif isinstance(date_gmt, datetime):
        changes["date"] = date_gmt
    author = p.int("author")
    featured = p.int("featured_media")
    comment_status = p.enum("comment_status", ("open", "closed"))
    ping_status = p.enum("ping_status", ("open", "closed"))
    template = p.str("template")
    p.str("password")
    if post_type == "post":
        categories = p.int_list("categories")
        tags = p.int_list("tags")
        sticky = p.bool("sticky")
        post_format = p.enum("format", FORMATS)
    else:
        categories = tags = sticky = post_format = None
        parent = p.int("parent")
        menu_order = p.int("menu_order")
    meta = p.get_raw("meta", MISSING)
    if meta is not MISSING and meta is not None and not isinstance(meta, dict):
        if isinstance(meta, list) and not meta:
            meta = {}
        else:
            p.fail("meta", "meta is not of type object.", "rest_invalid_type", {"param": "meta"})
    clean_meta: dict[str, str] = {}
    if isinstance(meta, dict):
        writable = set(site.registered_meta_keys()) | set(CORE_META_DEFAULTS)
        for key, value in meta.items():
            if key not in writable:
                continue  # unregistered meta is ignored, as in core
            if value is None:
                clean_meta[key] = ""
            elif not isinstance(value, str):
                p.fail("meta", f"meta.{key} is not of type string.", "rest_invalid_type", {"param": f"meta.{key}"})
            else:
                clean_meta[key] = value
    p.check()
    authorize()

    if author is not None and author != 0:
        if author not in site.users:
            raise WPError("rest_invalid_author", "Invalid author ID.", 400)
        changes["author"] = author
    if featured is not None:
        if featured and featured not in site.media:
            raise WPError("rest_invalid_featured_media", "Invalid featured media ID.", 400)
        changes["featured_media"] = featured
    if comment_status is not None:
        changes["comment_status"] = comment_status
    if ping_status is not None:
        changes["ping_status"] = ping_status
    if template is not None:
        changes["template"] = template
    if post_type == "post":
        if categories is not None:
            changes["categories"] = categories
        if tags is not None:
            changes["tags"] = tags
        if sticky is not None:
            changes["sticky"] = sticky
        if post_format is not None:
            changes["format"] = post_format
    else:
        if parent is not None:
            if parent and (parent not in site.posts or (existing is not None and parent == existing.id)):
                raise WPError("rest_post_invalid_id", "Invalid post parent ID.", 400)
            changes["parent"] = parent
        if menu_order is not None:
            changes["menu_order"] = menu_order
    if isinstance(meta, dict):
        changes["meta"] = clean_meta
    return changes


def create_post(ctx: Ctx, post_type: str) -> Result:
    p = Params(ctx.params)
    if ctx.params.get("id"):
        raise WPError("rest_post_exists", "Cannot create existing post.", 400)

    def authorize() -> None:
        if ctx.user is None:
            raise WPError("rest_cannot_create", "Sorry, you are not allowed to create posts as this user.", 401)

    changes = _post_changes(ctx, post_type, p, None, authorize)
    changes.setdefault("status", "draft")
    changes.setdefault("title", "")
    changes.setdefault("content", "")
    changes.setdefault("excerpt", "")
    changes.setdefault("author", ctx.user.id)
    post = ctx.site.new_post(post_type, ctx.now)
    post = ctx.site.save_post(post, changes, ctx.now, creating=True)
    rest_base = "posts" if post_type == "post" else "pages"
    return Result(
        post_json(ctx, post, "edit"), status=201, headers={"Location": ctx.rest_url(f"/wp/v2/{rest_base}/{post.id}")}
    )


def update_post(ctx: Ctx, post_type: str, id: int) -> Result:
    p = Params(ctx.params)

    def authorize() -> None:
        _existing_post(ctx, post_type, id)
        if ctx.user is None:
            raise WPError("rest_cannot_edit", "Sorry, you are not allowed to edit this post.", 401)

    changes = _post_changes(ctx, post_type, p, ctx.site.get_post(id, post_type), authorize)
    post = _existing_post(ctx, post_type, id)
    post = ctx.site.save_post(post, changes, ctx.now, creating=False)
    return Result(post_json(ctx, post, "edit"))


def delete_post(ctx: Ctx, post_type: str, id: int) -> Result:
    p = Params(ctx.params)
    force = p.bool("force", default=False)
    p.check()
    post = _existing_post(ctx, post_type, id)
    if ctx.user is None:
        raise WPError("rest_cannot_delete", "Sorry, you are not allowed to delete this post.", 401)
    if force:
        previous = post_json(ctx, post, "edit")
        ctx.site.delete(post)
        return Result({"deleted": True, "previous": previous})
    if post.status == "trash":
        raise WPError("rest_already_trashed", "The post has already been deleted.", 410)
    ctx.site.trash(post, ctx.now)
    return Result(post_json(ctx, post, "edit"))


# -- categories and tags ---------------------------------------------------


def list_terms(ctx: Ctx, taxonomy: str) -> Result:
    site = ctx.site
    p = Params(ctx.params)
    context = ctx.context(p)
    page = p.int("page", default=1, minimum=1)
    per_page = p.int("per_page", default=10, minimum=1, maximum=100)
    offset = p.int("offset")
    search = p.str("search")
    slugs = p.str_list("slug")
    include = p.int_list("include")
    exclude = p.int_list("exclude")
    hide_empty = p.bool("hide_empty", default=False)
    parent = p.int("parent") if taxonomy == "category" else None
    post_id = p.int("post")
    orderby = p.enum("orderby", TERM_ORDERBY, default="name")
    order = p.enum("order", ("asc", "desc"), default="asc")
    p.check()
    if context == "edit" and ctx.user is None:
        raise WPError("rest_forbidden_context", "Sorry, you are not allowed to edit terms in this taxonomy.", 401)
    terms = site.terms_of(taxonomy)
    if search:
        terms = [t for t in terms if search.lower() in t.name.lower() or search.lower() in t.slug]
    if slugs:
        terms = [t for t in terms if t.slug in slugs]
    if include:
        terms = [t for t in terms if t.id in include]
    if exclude:
        terms = [t for t in terms if t.id not in exclude]
    if parent is not None:
        terms = [t for t in terms if t.parent == parent]
    if post_id is not None:
        post = site.posts.get(post_id)
        if post is None:
            raise WPError("rest_post_invalid_id", "Invalid post ID.", 404)
        attached = post.categories if taxonomy == "category" else post.tags
        terms = [t for t in terms if t.id in attached]
    if hide_empty:
        terms = [t for t in terms if site.term_count(t) > 0]
    keys = {
        "id": lambda t: t.id,
        "name": lambda t: (t.name.lower(), t.id),
        "slug": lambda t: (t.slug, t.id),
        "count": lambda t: (site.term_count(t), t.id),
        "description": lambda t: (t.description, t.id),
        "include": lambda t: (include or []).index(t.id) if t.id in (include or []) else 0,
    }
    terms.sort(key=keys.get(orderby, keys["name"]))
    if order == "desc":
        terms.reverse()
    window, headers = _paginate(ctx, terms, page, per_page, offset, None)
    return Result([term_json(ctx, t) for t in window], headers=headers)


def _existing_term(ctx: Ctx, taxonomy: str, term_id: int) -> Term:
    term = ctx.site.terms.get(term_id)
    if term is None or term.taxonomy != taxonomy:
        raise WPError("rest_term_invalid", "Term does not exist.", 404)
    return term


def get_term(ctx: Ctx, taxonomy: str, id: int) -> Result:
    p = Params(ctx.params)
    ctx.context(p)
    p.check()
    return Result(term_json(ctx, _existing_term(ctx, taxonomy, id)))


def create_term(ctx: Ctx, taxonomy: str) -> Result:
    p = Params(ctx.params)
    name = p.str("name")
    slug = p.str("slug")
    description = p.str("description", default="")
    parent = p.int("parent", default=0) if taxonomy == "category" else 0
    p.check()
    if name is None:
        raise WPError("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
    if ctx.user is None:
        raise WPError("rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy.", 401)
    if parent and _parent_missing(ctx, parent):
        raise WPError("rest_term_invalid", "Parent term does not exist.", 400)
    term = ctx.site.add_term(taxonomy, name, slug=slug, description=description or "", parent=parent or 0)
    rest_base = "categories" if taxonomy == "category" else "tags"
    return Result(term_json(ctx, term), status=201, headers={"Location": ctx.rest_url(f"/wp/v2/{rest_base}/{term.id}")})


def _parent_missing(ctx: Ctx, parent: int) -> bool:
    term = ctx.site.terms.get(parent)
    return term is None or term.taxonomy != "category"


def update_term(ctx: Ctx, taxonomy: str, id: int) -> Result:
    p = Params(ctx.params)
    name = p.str("name")
    slug = p.str("slug")
    description = p.str("description")
    parent = p.int("parent") if taxonomy == "category" else None
    p.check()
    term = _existing_term(ctx, taxonomy, id)
    if ctx.user is None:
        raise WPError("rest_cannot_update", "Sorry, you are not allowed to edit this term.", 401)
    if name is not None:
        for other in ctx.site.terms_of(taxonomy):
            if other.id != term.id and other.name.lower() == name.strip().lower() and other.parent == term.parent:
                raise WPError(
                    "term_exists",
                    "A term with the name provided already exists with this parent.",
                    400,
                    term_id=other.id,
                )
        term.name = name.strip()
    if slug is not None:
        wanted = sanitize_title(slug)
        if any(t.slug == wanted and t.id != term.id for t in ctx.site.terms_of(taxonomy)):
            raise WPError(
                "duplicate_term_slug", f"The slug \u201c{wanted}\u201d is already in use by another term.", 400
            )
        term.slug = wanted
    if description is not None:
        term.description = description
    if parent is not None:
        if parent and (parent == term.id or _parent_missing(ctx, parent)):
            raise WPError("rest_term_invalid", "Parent term does not exist.", 400)
        term.parent = parent
    return Result(term_json(ctx, term))


def delete_term(ctx: Ctx, taxonomy: str, id: int) -> Result:
    p = Params(ctx.params)
    force = p.bool("force", default=False)
    p.check()
    term = _existing_term(ctx, taxonomy, id)
    if ctx.user is None:
        raise WPError("rest_cannot_delete", "Sorry, you are not allowed to delete this term.", 401)
    if not force:
        raise WPError("rest_trash_not_supported", "Terms do not support trashing. Set 'force=true' to delete.", 501)
    if term.taxonomy == "category" and term.id == ctx.site.default_category_id():
        raise WPError("rest_cannot_delete", "Sorry, you are not allowed to delete this term.", 403)
    previous = term_json(ctx, term)
    del ctx.site.terms[term.id]
    for post in ctx.site.posts.values():
        attr = "categories" if taxonomy == "category" else "tags"
        values = getattr(post, attr)
        if term.id in values:
            values.remove(term.id)
            if attr == "categories" and not values and post.type == "post":
                values.append(ctx.site.default_category_id())
    return Result({"deleted": True, "previous": previous})


# -- media -----------------------------------------------------------------


def list_media(ctx: Ctx) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    page = p.int("page", default=1, minimum=1)
    per_page = p.int("per_page", default=10, minimum=1, maximum=100)
    offset = p.int("offset")
    search = p.str("search")
    media_type = p.enum("media_type", ("image", "video", "text", "application", "audio"))
    mime_type = p.str("mime_type")
    parents = p.int_list("parent")
    order = p.enum("order", ("asc", "desc"), default="desc")
    orderby = p.enum("orderby", POST_ORDERBY, default="date")
    p.check()
    if context == "edit" and ctx.user is None:
        raise WPError("rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.", 401)
    items = list(ctx.site.media.values())
    if search:
        items = [m for m in items if search.lower() in f"{m.title} {m.file}".lower()]
    if media_type:
        items = [m for m in items if m.mime_type.split("/")[0] == media_type]
    if mime_type:
        items = [m for m in items if m.mime_type == mime_type]
    if parents:
        items = [m for m in items if (m.post or 0) in parents]
    if orderby == "title":
        items.sort(key=lambda m: (m.title.lower(), m.id))
    elif orderby == "id":
        items.sort(key=lambda m: m.id)
    else:
        items.sort(key=lambda m: (m.date, m.id))
    if order == "desc":
        items.reverse()
    window, headers = _paginate(ctx, items, page, per_page, offset, "rest_post_invalid_page_number")
    return Result([media_json(ctx, m, context) for m in window], headers=headers)


def _existing_media(ctx: Ctx, media_id: int) -> Media:
    item = ctx.site.media.get(media_id)
    if item is None:
        raise WPError("rest_post_invalid_id", "Invalid post ID.", 404)
    return item


def get_media(ctx: Ctx, id: int) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    item = _existing_media(ctx, id)
    if context == "edit" and ctx.user is None:
        raise WPError("rest_forbidden_context", "Sorry, you are not allowed to edit this post.", 401)
    return Result(media_json(ctx, item, context))


_DISPOSITION_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.I)


def create_media(ctx: Ctx) -> Result:
    p = Params(ctx.params)
    title = p.text_field("title")
    alt_text = p.str("alt_text", default="")
    caption = p.text_field("caption")
    description = p.text_field("description")
    post_id = p.int("post")
    p.check()
    if ctx.user is None:
        raise WPError("rest_cannot_create", "Sorry, you are not allowed to upload media on this site.", 401)
    if post_id and post_id not in ctx.site.posts:
        raise WPError("rest_invalid_param", "Invalid parent type.", 400)

    if ctx.files:
        upload = ctx.files.get("file") or next(iter(ctx.files.values()))
        filename, data = upload["filename"] or "", upload["data"]
        if not data:
            raise WPError("rest_upload_no_data", "No data supplied.", 400)
    else:
        data = ctx.body
        if not data:
            raise WPError("rest_upload_no_data", "No data supplied.", 400)
        if not ctx.request.headers.get("content-type"):
            raise WPError("rest_upload_no_content_type", "No Content-Type supplied.", 400)
        disposition = ctx.request.headers.get("content-disposition")
        if not disposition:
            raise WPError("rest_upload_no_content_disposition", "No Content-Disposition supplied.", 400)
        match = _DISPOSITION_FILENAME.search(disposition)
        if not match or not match.group(1).strip():
            raise WPError(
                "rest_upload_invalid_disposition",
                "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as "
                '`attachment; filename="image.png"` or similar.',
                400,
            )
        filename = match.group(1).strip()

    filename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    mime = ALLOWED_UPLOADS.get(ext)
    if mime is not None and mime.startswith("image/") and ext not in ("ico", "heic", "avif", "tif", "tiff"):
        sniffed = sniff_image(data)
        mime = sniffed  # core trusts the file's real type for images, and refuses non-images
    if mime is None:
        raise WPError("rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.", 500)
    item = ctx.site.add_media(
        filename=filename,
        mime_type=mime,
        data=data,
        now=ctx.now,
        title=title if title is not MISSING else None,
        alt_text=alt_text or "",
        caption=caption if caption is not MISSING else "",
        description=description if description is not MISSING else "",
        post=post_id or None,
    )
    return Result(
        media_json(ctx, item, "edit"), status=201, headers={"Location": ctx.rest_url(f"/wp/v2/media/{item.id}")}
    )


def update_media(ctx: Ctx, id: int) -> Result:
    p = Params(ctx.params)
    title = p.text_field("title")
    alt_text = p.str("alt_text")
    caption = p.text_field("caption")
    description = p.text_field("description")
    post_id = p.int("post")
    p.check()
    item = _existing_media(ctx, id)
    if ctx.user is None:
        raise WPError("rest_cannot_edit", "Sorry, you are not allowed to edit this post.", 401)
    if title is not MISSING:
        item.title = title
    if alt_text is not None:
        item.alt_text = alt_text
    if caption is not MISSING:
        item.caption = caption
    if description is not MISSING:
        item.description = description
    if post_id is not None:
        item.post = post_id or None
    item.modified = ctx.now
    return Result(media_json(ctx, item, "edit"))


def delete_media(ctx: Ctx, id: int) -> Result:
    p = Params(ctx.params)
    force = p.bool("force", default=False)
    p.check()
    item = _existing_media(ctx, id)
    if ctx.user is None:
        raise WPError("rest_cannot_delete", "Sorry, you are not allowed to delete this post.", 401)
    if not force:
        raise WPError(
            "rest_trash_not_supported", "The post does not support trashing. Set 'force=true' to delete.", 501
        )
    previous = media_json(ctx, item, "edit")
    del ctx.site.media[item.id]
    for post in ctx.site.posts.values():
        if post.featured_media == item.id:
            post.featured_media = 0
    return Result({"deleted": True, "previous": previous})


# -- users -----------------------------------------------------------------


def users_me(ctx: Ctx) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    if ctx.user is None:
        raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
    return Result(user_json(ctx, ctx.user, context))


def get_user(ctx: Ctx, id: int) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    user = ctx.site.users.get(id)
    if user is None:
        raise WPError("rest_user_invalid_id", "Invalid user ID.", 404)
    if context == "edit" and ctx.user is None:
        raise WPError("rest_user_cannot_view", "Sorry, you are not allowed to list users.", 401)
    return Result(user_json(ctx, user, context))


# -- companion plugin ------------------------------------------------------


def companion_seo(ctx: Ctx) -> Result:
    if ctx.user is None:
        raise WPError("rest_forbidden", FORBIDDEN, 401)
    site = ctx.site
    return Result(
        {"plugin_version": COMPANION_PLUGIN_VERSION, "seo_plugin": site.seo_plugin, "fields": site.seo_fields()}
    )


# -- application passwords -------------------------------------------------


def _app_password_owner(ctx: Ctx, user_id: int | str, denied_code: str, denied_message: str) -> User:
    """``get_user`` then the permission check of core's application-passwords controller."""
    if user_id == "me":
        if ctx.user is None:
            raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
        return ctx.user
    owner = ctx.site.users.get(int(user_id))
    if owner is None:
        raise WPError("rest_user_invalid_id", "Invalid user ID.", 404)
    if ctx.user is None or ctx.user.id != owner.id and "administrator" not in ctx.user.roles:
        raise WPError(denied_code, denied_message, 401 if ctx.user is None else 403)
    return owner


def _app_password_json(
    ctx: Ctx, owner: User, record: ApplicationPassword, password: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": record.uuid,
        "app_id": record.app_id,
        "name": record.name,
        "created": wp_date(record.created),
        "last_used": wp_date(record.last_used) if record.last_used else None,
        "last_ip": record.last_ip,
    }
    if password is not None:
        data["password"] = chunk_password(password)  # shown once, when created
    data["_links"] = {"self": [{"href": ctx.rest_url(f"/wp/v2/users/{owner.id}/application-passwords/{record.uuid}")}]}
    return data


def _app_password(owner: User, uuid: str) -> ApplicationPassword:
    for record in owner.application_passwords:
        if record.uuid == uuid:
            return record
    raise WPError("application_password_not_found", "Application password not found.", 404)


def list_app_passwords(ctx: Ctx, user_id: int | str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_list_application_passwords",
        "Sorry, you are not allowed to list application passwords for this user.",
    )
    return Result([_app_password_json(ctx, owner, r) for r in owner.application_passwords])


def create_app_password(ctx: Ctx, user_id: int | str) -> Result:
    p = Params(ctx.params)
    name = p.str("name")
    app_id = p.str("app_id", default="")
    p.check()
    if name is None:
        raise WPError("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_create_application_passwords",
        "Sorry, you are not allowed to create application passwords for this user.",
    )
    if app_id and not re.fullmatch(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", app_id
    ):
        raise WPError(
            "rest_invalid_param", "Invalid parameter(s): app_id", 400, params={"app_id": "app_id is not a valid UUID."}
        )
    record, password = ctx.site.create_application_password(owner, name, ctx.now, app_id=app_id or "")
    return Result(
        _app_password_json(ctx, owner, record, password),
        status=201,
        headers={"Location": ctx.rest_url(f"/wp/v2/users/{owner.id}/application-passwords/{record.uuid}")},
    )


def get_app_password(ctx: Ctx, user_id: int | str, uuid: str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_read_application_password",
        "Sorry, you are not allowed to read this application password.",
    )
    return Result(_app_password_json(ctx, owner, _app_password(owner, uuid)))


def introspect_app_password(ctx: Ctx, user_id: int | str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_introspect_app_password_for_non_authenticated_user",
        "The authenticated application password can only be introspected for the current user.",
    )
    if ctx.user is None or owner.id != ctx.user.id or ctx.application_password is None:
        raise WPError(
            "application_password_not_found", "The authenticated application password could not be found.", 404
        )
    return Result(_app_password_json(ctx, owner, ctx.application_password))


def delete_app_password(ctx: Ctx, user_id: int | str, uuid: str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_delete_application_password",
        "Sorry, you are not allowed to delete this application password.",
    )
    previous = _app_password_json(ctx, owner, _app_password(owner, uuid))
    ctx.site.delete_application_password(owner, uuid)
    return Result({"deleted": True, "previous": previous})
