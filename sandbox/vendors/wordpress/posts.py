"""The ``wp/v2/posts`` and ``wp/v2/pages`` endpoints: listing with core's filters and ordering, read,
create, update (arguments validated, then the permission check, then the semantic checks) and trash/delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from .params import MISSING, Params
from .shapes import Ctx, Result, paginate, post_json
from .site import CORE_META_DEFAULTS, Post, WPError

POST_WRITE_STATUSES = ("publish", "future", "draft", "pending", "private")
QUERY_STATUSES = ("publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit", "any")
FORMATS = ("standard", "aside", "chat", "gallery", "link", "image", "quote", "status", "video", "audio")
POST_ORDERBY = ("author", "date", "id", "include", "modified", "parent", "relevance", "slug", "include_slugs", "title")
FORBIDDEN = "Sorry, you are not allowed to do that."


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
    window, headers = paginate(ctx, posts, page, per_page, offset, "rest_post_invalid_page_number")
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
        parent = menu_order = None
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
    assert ctx.user is not None  # authorize() has refused anonymous requests
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
