"""The ``wp/v2/categories`` and ``wp/v2/tags`` endpoints: list, read, create, update and delete terms."""

from __future__ import annotations

from .params import Params
from .shapes import Ctx, Result, paginate, term_json
from .site import Term, WPError
from .text import sanitize_title

TERM_ORDERBY = ("id", "include", "name", "slug", "include_slugs", "term_group", "description", "count")


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
    window, headers = paginate(ctx, terms, page, per_page, offset, None)
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
