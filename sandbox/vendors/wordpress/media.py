"""The ``wp/v2/media`` endpoints: list, read, upload (multipart or a raw body with Content-Disposition),
update and delete attachments."""

from __future__ import annotations

import re

from .params import MISSING, Params
from .posts import POST_ORDERBY
from .shapes import Ctx, Result, media_json, paginate
from .site import ALLOWED_UPLOADS, Media, WPError, sniff_image


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
    window, headers = paginate(ctx, items, page, per_page, offset, "rest_post_invalid_page_number")
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
