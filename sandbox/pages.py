"""The world's websites served as real HTML, rendered from CMS state on every request.

WordPress lives at the root (``/``, ``/{slug}/``, uploads under
``/wp-content/uploads/``); the Webflow site's live items under
``/webflow-site/{collection-slug}/{item-slug}``. Only published (live)
content is served, so page analysis sees exactly what a visitor would.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from .webflow_site import Collection
from .wordpress_site import Post
from .world import WEBFLOW_SITE_PREFIX, World
from .wp_text import render_content, render_excerpt, texturize


def _document(*, title: str, canonical: str, h1: str, body: str, description: str | None = None,
              og_type: str = "website", site_name: str = "", generator: str = "") -> str:
    meta = [
        '<meta charset="UTF-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
    ]
    if description:
        meta.append(f'<meta name="description" content="{escape(description)}">')
    meta += [
        f'<link rel="canonical" href="{escape(canonical)}">',
        f'<meta property="og:title" content="{escape(title)}">',
        f'<meta property="og:type" content="{og_type}">',
        f'<meta property="og:url" content="{escape(canonical)}">',
    ]
    if description:
        meta.append(f'<meta property="og:description" content="{escape(description)}">')
    if site_name:
        meta.append(f'<meta property="og:site_name" content="{escape(site_name)}">')
    if generator:
        meta.append(f'<meta name="generator" content="{escape(generator)}">')
    head = "\n".join(meta)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n'
            f'<main>\n<h1>{h1}</h1>\n{body}\n</main>\n</body>\n</html>\n')


def _not_found(site_name: str, canonical: str) -> HTMLResponse:
    html = _document(title=f"Page not found \u2013 {site_name}", canonical=canonical, h1="Page not found",
                     body="<p>It looks like nothing was found at this location.</p>", site_name=site_name)
    return HTMLResponse(html, status_code=404)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- WordPress -------------------------------------------------------------

def wordpress_home(request: Request, world: World) -> Response:
    base = _base(request)
    with world.lock:
        wp = world.wordpress
        query = request.query_params
        if "p" in query or "page_id" in query:
            return _by_id(request, world, query.get("p") or query.get("page_id") or "")
        posts = sorted((p for p in wp.posts.values() if p.type == "post" and p.status == "publish"),
                       key=lambda p: (p.date, p.id), reverse=True)[:10]
        items = "\n".join(
            f'<article><h2><a href="{escape(base + wp.path_of(p))}">{texturize(p.title)}</a></h2>\n'
            f'<time datetime="{p.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")}">{p.date.strftime("%B %-d, %Y")}</time>\n'
            f"{render_excerpt(p.excerpt, p.content)}</article>"
            for p in posts
        )
        nav = "\n".join(f'<li><a href="{escape(base + wp.path_of(p))}">{texturize(p.title)}</a></li>'
                        for p in sorted(wp.posts_of_type("page"), key=lambda p: (p.menu_order, p.id))
                        if p.status == "publish")
        html = _document(title=f"{wp.name} \u2013 {wp.description}", canonical=base + "/",
                         h1=texturize(wp.name), body=f"<nav><ul>\n{nav}\n</ul></nav>\n<section>\n{items}\n</section>",
                         description=wp.description, site_name=wp.name, generator="WordPress 6.6")
    return HTMLResponse(html)


def _by_id(request: Request, world: World, raw_id: str) -> Response:
    wp = world.wordpress
    post = wp.posts.get(int(raw_id)) if raw_id.isdigit() else None
    if post is None or post.status != "publish":
        return _not_found(wp.name, _base(request) + request.url.path)
    return RedirectResponse(_base(request) + wp.path_of(post), status_code=301)


def _post_html(base: str, world: World, post: Post) -> str:
    wp = world.wordpress
    link = base + wp.path_of(post)
    meta = ""
    if post.type == "post":
        names = [wp.terms[t].name for t in post.categories if t in wp.terms]
        meta = (f'<p class="entry-meta"><time datetime="{post.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")}">'
                f'{post.date.strftime("%B %-d, %Y")}</time> in {escape(", ".join(names))}</p>\n')
    return _document(title=wp.document_title(post), canonical=link, h1=texturize(post.title),
                     body=f"<article>\n{meta}{render_content(post.content)}</article>",
                     description=wp.meta_description(post), og_type="article" if post.type == "post" else "website",
                     site_name=wp.name, generator="WordPress 6.6")


def wordpress_path(request: Request, world: World) -> Response:
    base = _base(request)
    path = request.url.path
    with world.lock:
        wp = world.wordpress
        if not path.endswith("/"):
            target = path + "/"
            if wp.find_published(target) is not None or _archive(world, target) is not None:
                return RedirectResponse(base + target, status_code=301)
            return _not_found(wp.name, base + path)
        post = wp.find_published(path)
        if post is not None:
            return HTMLResponse(_post_html(base, world, post))
        archive = _archive(world, path)
        if archive is not None:
            title, posts = archive
            items = "\n".join(f'<li><a href="{escape(base + wp.path_of(p))}">{texturize(p.title)}</a></li>' for p in posts)
            html = _document(title=f"{title} \u2013 {wp.name}", canonical=base + path, h1=escape(title),
                             body=f"<ul>\n{items}\n</ul>", site_name=wp.name, generator="WordPress 6.6")
            return HTMLResponse(html)
        return _not_found(wp.name, base + path)


def _archive(world: World, path: str) -> tuple[str, list[Post]] | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or parts[0] not in ("category", "tag"):
        return None
    wp = world.wordpress
    taxonomy = "category" if parts[0] == "category" else "post_tag"
    term = next((t for t in wp.terms_of(taxonomy) if t.slug == parts[1]), None)
    if term is None:
        return None
    attr = "categories" if taxonomy == "category" else "tags"
    posts = sorted((p for p in wp.posts.values() if p.type == "post" and p.status == "publish" and term.id in getattr(p, attr)),
                   key=lambda p: (p.date, p.id), reverse=True)
    return term.name, posts


def upload(request: Request, world: World) -> Response:
    file = request.path_params["file"]
    with world.lock:
        item = next((m for m in world.wordpress.media.values() if m.file == file), None)
        if item is None:
            return _not_found(world.wordpress.name, _base(request) + request.url.path)
        return Response(item.data, media_type=item.mime_type)


def robots(request: Request, world: World) -> Response:
    base = _base(request)
    return PlainTextResponse(f"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\nSitemap: {base}/wp-sitemap.xml\n")


def sitemap(request: Request, world: World) -> Response:
    base = _base(request)
    with world.lock:
        wp = world.wordpress
        urls = [base + "/"] + [base + wp.path_of(p) for p in sorted(wp.posts.values(), key=lambda p: p.id) if p.status == "publish"]
    entries = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    return Response(xml, media_type="application/xml")


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
                data = item.live_field_data
                href = f"{base}{WEBFLOW_SITE_PREFIX}/{collection.slug}/{data.get('slug', '')}"
                links.append(f'<li><a href="{escape(href)}">{escape(data.get("name", ""))}</a></li>')
            links = "\n".join(links)
            sections.append(f"<section><h2>{escape(collection.display_name)}</h2>\n<ul>\n{links}\n</ul></section>")
        html = _document(title=site.display_name, canonical=f"{base}{WEBFLOW_SITE_PREFIX}/", h1=escape(site.display_name),
                         body="\n".join(sections), site_name=site.display_name, generator="Webflow")
    return HTMLResponse(html)


def webflow_item(request: Request, world: World) -> Response:
    base = _base(request)
    collection_slug, item_slug = request.path_params["collection"], request.path_params["item"]
    with world.lock:
        site = world.webflow
        collection = _webflow_collection(world, collection_slug)
        item = collection.live_by_slug(item_slug) if collection else None
        canonical = f"{base}{WEBFLOW_SITE_PREFIX}/{collection_slug}/{item_slug}"
        if item is None:
            return _not_found(site.display_name, canonical)
        data: dict[str, Any] = item.live_field_data
        image = data.get("main-image") or {}
        hero = f'<img src="{escape(image["url"])}" alt="{escape(image.get("alt") or "")}">\n' if image.get("url") else ""
        summary = f'<p class="summary">{escape(data["post-summary"])}</p>\n' if data.get("post-summary") else ""
        html = _document(title=data.get("seo-title") or data.get("name", ""), canonical=canonical,
                         h1=escape(data.get("name", "")), body=f"<article>\n{hero}{summary}{data.get('post-body') or ''}\n</article>",
                         description=data.get("meta-description") or None, og_type="article",
                         site_name=site.display_name, generator="Webflow")
    return HTMLResponse(html)
