"""The world's websites served as real HTML, rendered from CMS state on every request.

WordPress lives at the root (``/``, ``/{slug}/``, uploads under
``/wp-content/uploads/``); the Webflow site's live items under
``/webflow-site/{collection-slug}/{item-slug}``. Only published (live)
content is served, so page analysis sees exactly what a visitor would.

The theme (``page_layout``) gives every page the furniture of a marketing page;
``page_defects`` says which pages it renders wrong on purpose, and how. The
storefront every call to action leads to (``/shop/``), the forms' endpoints,
the old paths that redirect and ``/sitemap.xml`` (both sites) are served here too.
"""

from __future__ import annotations

from html import escape, unescape

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from . import page_defects
from .page_defects import SHOP_DESCRIPTION, SHOP_PATH, SHOP_TITLE, WEBFLOW_HOME_DESCRIPTION, home_title
from .page_layout import ROBOTS_INDEX, Chrome, Doc, Image, render
from .site_assets import asset_url, mirror_url
from .vendors.webflow.site import Collection
from .vendors.wordpress.site import Post
from .vendors.wordpress.text import render_content, render_excerpt, strip_tags, texturize
from .world import WEBFLOW_SITE_PREFIX, World

SOCIAL_DESCRIPTION_CHARS = 155


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _chrome(world: World, base: str, site: str) -> Chrome:
    """Navigation and footer links: only pages that are live, so a clean page never links to a 404."""
    wp = world.wordpress
    pages = [
        (texturize(p.title), base + wp.path_of(p))
        for p in sorted(wp.posts_of_type("page"), key=lambda p: (p.menu_order, p.id))
        if p.status == "publish"
    ]
    nav = [("Shop", base + SHOP_PATH), ("Blog", f"{base}{WEBFLOW_SITE_PREFIX}/")] + [(unescape(t), u) for t, u in pages]
    footer = [(unescape(t), u) for t, u in pages] + [("Shop", base + SHOP_PATH), ("Sitemap", base + "/sitemap.xml")]
    powered = (
        ("Powered by WordPress", "https://wordpress.org/")
        if site == "wordpress"
        else ("Made in Webflow", "https://webflow.com/")
    )
    name = wp.name if site == "wordpress" else world.webflow.display_name
    return Chrome(
        site=site,
        site_name=name,
        generator="WordPress 6.6" if site == "wordpress" else "Webflow",
        nav=nav,
        footer=footer,
        external=[("Instagram", "https://www.instagram.com/northwindcoffee/"), powered],
        year=world.now().year,
    )


def _summary(text: str) -> str | None:
    """A plain-text description for social cards, cut at a word boundary."""
    words = strip_tags(text).split()
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > SOCIAL_DESCRIPTION_CHARS:
            return out.rstrip(",;:") + "\u2026"
        out = f"{out} {word}" if out else word
    return out or None


def _not_found(world: World, base: str, path: str, site: str = "wordpress") -> HTMLResponse:
    chrome = _chrome(world, base, site)
    doc = Doc(
        kind="error",
        url=base + path,
        title=f"Page not found \u2013 {chrome.site_name}",
        description=None,
        heading="Page not found",
        headline="Page not found",
        content="<p>It looks like nothing was found at this location.</p>",
        robots="noindex, follow",
        status=404,
    )
    return render(doc, base, chrome)


# -- WordPress -------------------------------------------------------------


def wordpress_home(request: Request, world: World) -> Response:
    base = _base(request)
    with world.lock:
        wp = world.wordpress
        query = request.query_params
        if "p" in query or "page_id" in query:
            return _by_id(request, world, query.get("p") or query.get("page_id") or "")
        posts = sorted(
            (p for p in wp.posts.values() if p.type == "post" and p.status == "publish"),
            key=lambda p: (p.date, p.id),
            reverse=True,
        )[:10]
        items = "\n".join(
            f'<article><h2><a href="{escape(base + wp.path_of(p))}">{texturize(p.title)}</a></h2>\n'
            f'<time datetime="{p.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")}">{p.date.strftime("%B %-d, %Y")}</time>\n'
            f"{render_excerpt(p.excerpt, p.content)}</article>"
            for p in posts
        )
        doc = Doc(
            kind="home",
            url=base + "/",
            title=home_title(world),
            description=wp.description or None,
            heading=texturize(wp.name),
            headline=wp.name,
            content=f'<section class="latest">\n{items}\n</section>',
            image=Image(asset_url(base, "beans.svg"), "Freshly roasted coffee beans on the cooling tray"),
        )
        return render(doc, base, _chrome(world, base, "wordpress"), page_defects.template_defects("wordpress", ""))


def _by_id(request: Request, world: World, raw_id: str) -> Response:
    wp = world.wordpress
    post = wp.posts.get(int(raw_id)) if raw_id.isdigit() else None
    if post is None or post.status != "publish":
        return _not_found(world, _base(request), request.url.path)
    return RedirectResponse(_base(request) + wp.path_of(post), status_code=301)


def _post_image(base: str, world: World, post: Post) -> Image:
    media = world.wordpress.media.get(post.featured_media) if post.featured_media else None
    if media is not None and media.media_type == "image":
        return Image(
            f"{base}/wp-content/uploads/{media.file}",
            media.alt_text or post.title,
            media.width or 1200,
            media.height or 900,
        )
    if post.type == "page":
        return Image(asset_url(base, "roastery.svg"), "Inside the Northwind roastery in Portland")
    return Image(asset_url(base, "beans.svg"), "Freshly roasted coffee beans on the cooling tray")


def _post_response(base: str, world: World, post: Post) -> Response:
    wp = world.wordpress
    meta = ""
    if post.type == "post":
        names = [wp.terms[t].name for t in post.categories if t in wp.terms]
        meta = (
            f'<p class="entry-meta"><time datetime="{post.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")}">'
            f"{post.date.strftime('%B %-d, %Y')}</time> in {escape(', '.join(names))}</p>\n"
        )
    author = wp.users.get(post.author)
    doc = Doc(
        kind="post" if post.type == "post" else "page",
        url=base + wp.path_of(post),
        title=wp.document_title(post),
        description=wp.meta_description(post),
        heading=texturize(post.title),
        headline=unescape(strip_tags(post.title)),
        content=render_content(post.content),
        image=_post_image(base, world, post),
        social_description=_summary(post.excerpt or post.content),
        meta_line=meta,
        published=post.date,
        modified=post.modified,
        author=author.name if author else None,
        robots=wp.robots(post) or ROBOTS_INDEX,
    )
    return render(doc, base, _chrome(world, base, "wordpress"), page_defects.template_defects("wordpress", post.slug))


def wordpress_path(request: Request, world: World) -> Response:
    base = _base(request)
    path = request.url.path
    redirect = page_defects.REDIRECTS.get(path)
    if redirect is not None:
        status, location = redirect
        return RedirectResponse(base + location, status_code=status)
    with world.lock:
        wp = world.wordpress
        mistake = world.traffic.redirects.get(path)  # the page_redirected incident
        if mistake is not None:
            return RedirectResponse(base + mistake[0], status_code=301)
        if not path.endswith("/"):
            target = path + "/"
            if wp.find_published(target) is not None or _archive(world, target) is not None:
                return RedirectResponse(base + target, status_code=301)
            return _not_found(world, base, path)
        post = wp.find_published(path)
        if post is not None:
            return _post_response(base, world, post)
        archive = _archive(world, path)
        if archive is not None:
            title, description, posts = archive
            items = "\n".join(
                f'<li><a href="{escape(base + wp.path_of(p))}">{texturize(p.title)}</a></li>' for p in posts
            )
            doc = Doc(
                kind="archive",
                url=base + path,
                title=f"{title} \u2013 {wp.name}",
                description=description,
                heading=escape(title),
                headline=title,
                content=f"<ul>\n{items}\n</ul>",
            )
            return render(doc, base, _chrome(world, base, "wordpress"))
        return _not_found(world, base, path)


def _archive(world: World, path: str) -> tuple[str, str | None, list[Post]] | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or parts[0] not in ("category", "tag"):
        return None
    wp = world.wordpress
    taxonomy = "category" if parts[0] == "category" else "post_tag"
    term = next((t for t in wp.terms_of(taxonomy) if t.slug == parts[1]), None)
    if term is None:
        return None
    attr = "categories" if taxonomy == "category" else "tags"
    posts = sorted(
        (p for p in wp.posts.values() if p.type == "post" and p.status == "publish" and term.id in getattr(p, attr)),
        key=lambda p: (p.date, p.id),
        reverse=True,
    )
    return term.name, getattr(term, "description", "") or None, posts


def upload(request: Request, world: World) -> Response:
    file = request.path_params["file"]
    with world.lock:
        item = next((m for m in world.wordpress.media.values() if m.file == file), None)
        if item is None:
            return _not_found(world, _base(request), request.url.path)
        return Response(item.data, media_type=item.mime_type)


def robots(request: Request, world: World) -> Response:
    base = _base(request)
    return PlainTextResponse(
        f"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
        f"Sitemap: {base}/sitemap.xml\nSitemap: {base}/wp-sitemap.xml\n"
    )


def _urlset(urls: list[str]) -> Response:
    entries = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    return Response(xml, media_type="application/xml")


def sitemap(request: Request, world: World) -> Response:
    """WordPress core's sitemap: the home page and published posts and pages."""
    base = _base(request)
    with world.lock:
        wp = world.wordpress
        urls = [base + "/"] + [
            base + wp.path_of(p) for p in sorted(wp.posts.values(), key=lambda p: p.id) if p.status == "publish"
        ]
    return _urlset(urls)


def site_sitemap(request: Request, world: World) -> Response:
    """``/sitemap.xml``: every live page of both sites (the storefront and the Webflow blog included)."""
    base = _base(request)
    return _urlset([base + page.path for page in page_defects.live_pages(world)])


# -- the storefront and the forms --------------------------------------------

PRODUCTS = (
    ("Huila, Colombia", "Red apple, panela, cocoa", "$19"),
    ("Guji, Ethiopia", "Jasmine, bergamot, peach", "$21"),
    ("Huehuetenango, Guatemala", "Dark chocolate, orange, brown sugar", "$18"),
    ("Swiss Water Decaf", "Caramel, milk chocolate", "$18"),
    ("Northwind House Espresso", "Cocoa, cherry, hazelnut", "$17"),
    ("Coffee subscription", "Every 1, 2 or 4 weeks; subscribers save 10%", "from $16"),
)


def shop(request: Request, world: World) -> Response:
    base = _base(request)
    items = "\n".join(
        f'<li class="product"><h2>{escape(name)}</h2><p>{escape(notes)}</p><p class="price">{escape(price)} / 340 g</p>'
        '<button type="button" class="add-to-cart">Add to cart</button></li>'
        for name, notes, price in PRODUCTS
    )
    with world.lock:
        doc = Doc(
            kind="shop",
            url=base + SHOP_PATH,
            title=SHOP_TITLE,
            description=SHOP_DESCRIPTION,
            heading="Shop our coffee",
            headline="Shop our coffee",
            content=f'<ul class="products" id="coffees">\n{items}\n</ul>',
            image=Image(asset_url(base, "beans.svg"), "Bags of Northwind coffee on the roastery shelf"),
        )
        return render(doc, base, _chrome(world, base, "wordpress"))


async def form_submission(request: Request, world: World) -> Response:
    base = _base(request)
    await request.body()
    name = request.path_params["form"]
    with world.lock:
        doc = Doc(
            kind="page",
            url=f"{base}/forms/{name}",
            title=f"Thank you \u2013 {world.wordpress.name}",
            description=None,
            heading="Thank you",
            headline="Thank you",
            content="<p>We got your message and will be in touch soon.</p>",
            robots="noindex, follow",
        )
        return render(doc, base, _chrome(world, base, "wordpress"))


# -- Webflow ---------------------------------------------------------------


def _webflow_collection(world: World, slug: str) -> Collection | None:
    return next((c for c in world.webflow.collections.values() if c.slug == slug), None)


def webflow_home(request: Request, world: World) -> Response:
    base = _base(request)
    with world.lock:
        site = world.webflow
        sections = []
        for collection in site.collections.values():
            links = []
            for item in collection.live_items():
                data = item.live_data
                href = f"{base}{WEBFLOW_SITE_PREFIX}/{collection.slug}/{data.get('slug', '')}"
                links.append(f'<li><a href="{escape(href)}">{escape(data.get("name", ""))}</a></li>')
            links = "\n".join(links)
            sections.append(f"<section><h2>{escape(collection.display_name)}</h2>\n<ul>\n{links}\n</ul></section>")
        doc = Doc(
            kind="blog",
            url=f"{base}{WEBFLOW_SITE_PREFIX}/",
            title=site.display_name,
            description=WEBFLOW_HOME_DESCRIPTION,
            heading=escape(site.display_name),
            headline=site.display_name,
            content="\n".join(sections),
        )
        return render(doc, base, _chrome(world, base, "webflow"), page_defects.template_defects("webflow", ""))


def webflow_item(request: Request, world: World) -> Response:
    base = _base(request)
    collection_slug, item_slug = request.path_params["collection"], request.path_params["item"]
    with world.lock:
        collection = _webflow_collection(world, collection_slug)
        item = collection.live_by_slug(item_slug) if collection else None
        url = f"{base}{WEBFLOW_SITE_PREFIX}/{collection_slug}/{item_slug}"
        if item is None:
            return _not_found(world, base, url.removeprefix(base), site="webflow")
        data = item.live_data
        name = data.get("name", "")
        picture = data.get("main-image") or {}
        image = None
        if picture.get("url"):
            src = mirror_url(base, picture["url"])
            image = Image(src, picture.get("alt") or name, *((800, 450) if src != picture["url"] else (1200, 900)))
        summary = f'<p class="summary">{escape(data["post-summary"])}</p>\n' if data.get("post-summary") else ""
        doc = Doc(
            kind="item",
            url=url,
            title=data.get("seo-title") or name,
            description=data.get("meta-description") or None,
            heading=escape(name),
            headline=name,
            content=f"{summary}{data.get('post-body') or ''}",
            image=image,
            social_description=data.get("post-summary") or _summary(data.get("post-body") or ""),
            og_image=image.src if image else "",
            published=item.created_on,
            modified=item.last_published or item.last_updated,
        )
        return render(
            doc, base, _chrome(world, base, "webflow"), page_defects.template_defects("webflow", data.get("slug", ""))
        )
