"""The one CMS tool set, served by every CMS server (wordpress, webflow).

Reading, drafting and publishing are separate tools with their own annotations. Every write
takes `dry_run` and answers with a field-by-field diff; a dry run never calls the vendor's
write endpoints.
"""

import base64
import binascii
from datetime import datetime, timezone
from typing import Annotated, Any, Awaitable, Callable

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from adapters.cms.base import (
    CAP_MEDIA,
    CAP_PAGES,
    CAP_SCHEDULE,
    CAP_UNPUBLISH,
    CMS,
    FIELD_CAPABILITY,
    Body,
    Excerpt,
    Kind,
    Media,
    MediaRef,
    MetaDescription,
    Post,
    PostFields,
    PostPage,
    SeoTitle,
    SiteInfo,
    Slug,
    Status,
    Taxonomy,
    TermNames,
    Title,
    how_confirmed,
)
from adapters.errors import InvalidRequest, Unsupported

from ._app import DRAFT, PUBLISH, READ, Deps, ServerContext, adapter_of, confirm, new_server, tool

CMSContext = ServerContext[CMS]  # a tool's context here: `await adapter_of(ctx)` is the CMS

MEDIA_MAX_BYTES = 10 * 1024 * 1024
_PREVIEW = 160

PostId = Annotated[str, Field(min_length=1, max_length=64, description="The post's ID, as list_posts returns it.")]
KindArg = Annotated[Kind, Field(description="'post' or 'page'.")]
DryRun = Annotated[bool, Field(description="Only show what would change; nothing is sent to the CMS.")]


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class WriteResult(BaseModel):
    action: str
    dry_run: bool
    changes: list[FieldChange] = Field(description="What changed (or would change), field by field.")
    post: Post | None = Field(default=None, description="The post after the write; its current state on a dry run.")
    confirmed: str | None = Field(
        default=None,
        description="Set when the CMS's answer to the write was lost: how reading the post back showed the write done.",
    )


class Taxonomies(BaseModel):
    taxonomies: list[Taxonomy]


class MediaResult(BaseModel):
    dry_run: bool
    media: Media | None = None
    filename: str
    mime_type: str
    size: int


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _PREVIEW:
        return f"{value[:_PREVIEW]}... ({len(value)} characters)"
    return value


def diff(before: Post | None, fields: dict[str, Any]) -> list[FieldChange]:
    """Field-by-field changes from `before` (None for a new post) to the given values."""
    changes = []
    for name, after in fields.items():
        old = getattr(before, name, None) if before is not None else None
        if not _same(name, old, after):
            changes.append(FieldChange(field=name, before=_short(old), after=_short(after)))
    return changes


def _same(name: str, old: Any, new: Any) -> bool:
    if name in ("categories", "tags"):
        return sorted(t.lower() for t in old or []) == sorted(t.lower() for t in new or [])
    return (old or None) == (new or None)


async def _transition(
    ctx: CMSContext,
    cms: CMS,
    action: str,
    post_id: str,
    kind: Kind,
    dry_run: bool,
    status: str,
    apply: Callable[[], Awaitable[Post]],
    ask: Callable[[Post], str],
    **extra: Any,
) -> WriteResult:
    """A status change: diff against the current post, then apply it unless this is a dry run.

    Before a real change the user is asked `ask(post)` when the host can elicit (see `confirm`).
    """
    before = await cms.get_post(post_id, kind)
    changes = [FieldChange(field="status", before=before.status, after=status)] if before.status != status else []
    changes += [
        FieldChange(field=k, before=getattr(before, k), after=v) for k, v in extra.items() if getattr(before, k) != v
    ]
    if dry_run:
        return WriteResult(action=action, dry_run=True, changes=changes, post=before)
    if changes:
        await confirm(ctx, ask(before), "Nothing was changed on the site.")
    post = await apply()
    return WriteResult(action=action, dry_run=False, changes=changes, post=post, confirmed=how_confirmed(post) or None)


async def _require(cms: CMS, kind: Kind, fields: dict[str, Any] | None = None, also: str | None = None) -> None:
    """Refuse, before any write, what this site cannot do, so a dry run tells the truth."""
    caps = await cms.capabilities()
    if kind == "page" and CAP_PAGES not in caps:
        raise Unsupported(
            f"This {cms.vendor} site does not manage pages through this tool set.", hint="Use kind='post'."
        )
    needed = {FIELD_CAPABILITY[f] for f in fields or {} if f in FIELD_CAPABILITY}
    if also:
        needed.add(also)
    missing = sorted(needed - caps)
    if missing:
        raise Unsupported(
            f"This {cms.vendor} site cannot do: {', '.join(missing)}.",
            hint="Call site_info for what it supports (and how to enable more), and leave those fields out.",
        )


def _fields(**values: Any) -> PostFields:
    return PostFields(**{k: v for k, v in values.items() if v is not None})


def create_cms_server(name: str, instructions: str, build_deps: Callable[[], Deps[CMS]]) -> MCPServer:
    server = new_server(name, instructions, build_deps)

    @tool(server, READ, summary=lambda s: f"{s.name} ({s.vendor}, {s.url}): can {', '.join(s.capabilities)}.")
    async def site_info(ctx: CMSContext) -> SiteInfo:
        """What this site is and what it supports: capabilities, and where SEO fields are stored."""
        cms = await adapter_of(ctx)
        return await cms.site_info()

    @tool(
        server,
        READ,
        summary=lambda p: (
            f"{len(p.items)} item(s)"
            + (f" of {p.total}" if p.total is not None else "")
            + ("; more with next_cursor." if p.next_cursor else ".")
        ),
    )
    async def list_posts(
        ctx: CMSContext,
        kind: KindArg = "post",
        status: Annotated[Status | None, Field(description="Only this status; all but trash when omitted.")] = None,
        search: Annotated[str | None, Field(max_length=200, description="Words in title or body.")] = None,
        cursor: Annotated[str | None, Field(max_length=64, description="next_cursor of the previous page.")] = None,
        limit: Annotated[int, Field(ge=1, le=50)] = 20,
    ) -> PostPage:
        """List or search posts or pages, newest first, one page at a time."""
        cms = await adapter_of(ctx)
        return await cms.list_posts(kind, status=status, search=search, cursor=cursor, limit=limit)

    @tool(
        server,
        READ,
        summary=lambda p: (
            f"{p.kind} {p.id} '{p.title}' is {p.status}"
            + (f" at {p.url}" if p.url and p.status == "published" else "")
            + "."
        ),
    )
    async def get_post(ctx: CMSContext, post_id: PostId, kind: KindArg = "post") -> Post:
        """One post or page with its body (cut to a preview when long) and SEO fields."""
        cms = await adapter_of(ctx)
        return await cms.get_post(post_id, kind)

    @tool(server, DRAFT, summary=_write_summary)
    async def create_draft(
        ctx: CMSContext,
        title: Title,
        body: Body,
        kind: KindArg = "post",
        slug: Slug | None = None,
        excerpt: Excerpt | None = None,
        seo_title: SeoTitle | None = None,
        meta_description: MetaDescription | None = None,
        categories: TermNames | None = None,
        tags: TermNames | None = None,
        featured_media_id: MediaRef | None = None,
        dry_run: DryRun = False,
    ) -> WriteResult:
        """Create a draft (never published by this tool). Use publish or schedule afterwards."""
        cms = await adapter_of(ctx)
        fields = _fields(
            title=title,
            body=body,
            slug=slug,
            excerpt=excerpt,
            seo_title=seo_title,
            meta_description=meta_description,
            categories=categories,
            tags=tags,
            featured_media_id=featured_media_id,
        )
        await _require(cms, kind, fields.given())
        changes = diff(None, {"status": "draft", **fields.given()})
        if dry_run:
            return WriteResult(action="create_draft", dry_run=True, changes=changes)
        post = await cms.create_draft(kind, fields)
        return WriteResult(action="create_draft", dry_run=False, changes=changes, post=post)

    @tool(server, DRAFT, summary=_write_summary)
    async def update_post(
        ctx: CMSContext,
        post_id: PostId,
        kind: KindArg = "post",
        title: Title | None = None,
        body: Body | None = None,
        slug: Slug | None = None,
        excerpt: Excerpt | None = None,
        seo_title: SeoTitle | None = None,
        meta_description: MetaDescription | None = None,
        categories: TermNames | None = None,
        tags: TermNames | None = None,
        featured_media_id: MediaRef | None = None,
        dry_run: DryRun = False,
    ) -> WriteResult:
        """Change fields of a post or page; fields left out stay as they are. Does not change its status."""
        cms = await adapter_of(ctx)
        fields = _fields(
            title=title,
            body=body,
            slug=slug,
            excerpt=excerpt,
            seo_title=seo_title,
            meta_description=meta_description,
            categories=categories,
            tags=tags,
            featured_media_id=featured_media_id,
        )
        if not fields.given():
            raise InvalidRequest("Nothing to change: give at least one field.", hint="Pass e.g. seo_title or title.")
        await _require(cms, kind, fields.given())
        before = await cms.get_post(post_id, kind)
        changes = diff(before, fields.given())
        if dry_run or not changes:
            return WriteResult(action="update_post", dry_run=dry_run, changes=changes, post=before)
        post = await cms.update_post(post_id, kind, fields)
        return WriteResult(
            action="update_post", dry_run=False, changes=changes, post=post, confirmed=how_confirmed(post) or None
        )

    @tool(server, PUBLISH, summary=_write_summary)
    async def publish(ctx: CMSContext, post_id: PostId, kind: KindArg = "post", dry_run: DryRun = False) -> WriteResult:
        """Publish a draft or scheduled post now, making it public."""
        cms = await adapter_of(ctx)
        await _require(cms, kind)
        return await _transition(
            ctx,
            cms,
            "publish",
            post_id,
            kind,
            dry_run,
            "published",
            lambda: cms.publish(post_id, kind),
            lambda p: f"Publish {_named(p)} on {cms.vendor} now, making it public?",
        )

    @tool(server, PUBLISH, summary=_write_summary)
    async def schedule(
        ctx: CMSContext,
        post_id: PostId,
        publish_at: Annotated[
            datetime, Field(description="When to publish, ISO 8601 with a time zone, e.g. 2026-12-01T09:00:00+01:00.")
        ],
        kind: KindArg = "post",
        dry_run: DryRun = False,
    ) -> WriteResult:
        """Schedule a post or page to be published automatically at a future time."""
        if publish_at.tzinfo is None:
            raise InvalidRequest("publish_at has no time zone.", hint="Add one, e.g. 'Z' or '+01:00'.")
        cms = await adapter_of(ctx)
        await _require(cms, kind, also=CAP_SCHEDULE)
        when = publish_at.astimezone(timezone.utc)
        return await _transition(
            ctx,
            cms,
            "schedule",
            post_id,
            kind,
            dry_run,
            "scheduled",
            lambda: cms.schedule(post_id, kind, when),
            lambda p: f"Schedule {_named(p)} to be published on {cms.vendor} at {when:%Y-%m-%d %H:%M} UTC?",
            scheduled_for=when,
        )

    @tool(server, PUBLISH, summary=_write_summary)
    async def unpublish(
        ctx: CMSContext, post_id: PostId, kind: KindArg = "post", dry_run: DryRun = False
    ) -> WriteResult:
        """Take a published or scheduled post off the site; it becomes a draft again."""
        cms = await adapter_of(ctx)
        await _require(cms, kind, also=CAP_UNPUBLISH)
        return await _transition(
            ctx,
            cms,
            "unpublish",
            post_id,
            kind,
            dry_run,
            "draft",
            lambda: cms.unpublish(post_id, kind),
            lambda p: f"Take {_named(p)} off the {cms.vendor} site (it becomes a draft)?",
        )

    @tool(
        server,
        READ,
        summary=lambda t: (
            "; ".join(f"{x.name}: {len(x.terms)}" + (f" of {x.total}" if x.total else "") for x in t.taxonomies)
            or "No taxonomies."
        ),
    )
    async def list_taxonomies(
        ctx: CMSContext,
        search: Annotated[str | None, Field(max_length=200)] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 50,
    ) -> Taxonomies:
        """Categories and tags with their post counts, most used first."""
        cms = await adapter_of(ctx)
        return Taxonomies(taxonomies=await cms.list_taxonomies(search, limit))

    @tool(
        server,
        DRAFT,
        summary=lambda m: (
            f"Would upload {m.filename} ({m.size} bytes)."
            if m.dry_run
            else f"Uploaded {m.filename} as media {m.media.id}: {m.media.url}"
        ),
    )
    async def upload_media(
        ctx: CMSContext,
        filename: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w][\w.\- ]*\.[A-Za-z0-9]{2,5}$")],
        source_url: Annotated[
            str | None,
            Field(max_length=2000, pattern=r"^https?://", description="Public http(s) URL to fetch the file from."),
        ] = None,
        content_base64: Annotated[
            str | None, Field(max_length=MEDIA_MAX_BYTES * 4 // 3 + 4, description="The file itself, base64.")
        ] = None,
        alt_text: Annotated[str, Field(max_length=500)] = "",
        dry_run: DryRun = False,
    ) -> MediaResult:
        """Upload an image from a URL or base64 (10 MB at most); use its ID as featured_media_id."""
        if (source_url is None) == (content_base64 is None):
            raise InvalidRequest("Give exactly one of source_url and content_base64.")
        content, mime = b"", None  # filled from the one source given
        if content_base64 is not None:
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRequest("content_base64 is not valid base64.") from None
            mime = _sniff_mime(content, filename)
            if mime is None:
                raise InvalidRequest(f"{filename} is not a file this tool can upload (PNG, JPEG, GIF, WebP, SVG, PDF).")
        cms = await adapter_of(ctx)
        await _require(cms, "post", also=CAP_MEDIA)
        if source_url is not None:
            from adapters.download import download  # only this tool needs the download client

            content, declared = await download(source_url, MEDIA_MAX_BYTES)
            mime = _sniff_mime(content, filename) or declared
        if mime not in _UPLOADABLE:
            raise InvalidRequest(f"{filename} is not a file this tool can upload (PNG, JPEG, GIF, WebP, SVG, PDF).")
        if dry_run:
            return MediaResult(dry_run=True, filename=filename, mime_type=mime, size=len(content))
        media = await cms.upload_media(filename, content, mime, alt_text)
        return MediaResult(dry_run=False, media=media, filename=filename, mime_type=mime, size=len(content))

    return server


_UPLOADABLE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "application/pdf"}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def _sniff_mime(content: bytes, filename: str) -> str | None:
    """The type from the bytes themselves, so a mislabelled file is refused before upload."""
    for magic, mime in _MAGIC:
        if content.startswith(magic):
            return mime
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if filename.lower().endswith(".svg") and b"<svg" in content[:1024]:
        return "image/svg+xml"
    return None


def _named(p: Post) -> str:
    """A post as the user knows it: kind, title and address."""
    return f"{p.kind} '{p.title}'" + (f" ({p.url})" if p.url else f" (ID {p.id})")


def _write_summary(r: WriteResult) -> str:
    verb = "Would" if r.dry_run else "Did"
    what = ", ".join(c.field for c in r.changes) or "nothing (already so)"
    target = f" {r.post.kind} {r.post.id} '{r.post.title}' (now {r.post.status})" if r.post else ""
    confirmed = f" {r.confirmed}" if r.confirmed else ""
    return f"{verb} {r.action.removesuffix('_post').replace('_', ' ')}{target}: {what}.{confirmed}"
