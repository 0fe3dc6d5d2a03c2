"""Webflow through its Data API v2: the items of one CMS collection are the posts.

Webflow keeps two copies of an item: the staged one (what the API edits) and the live one
(what visitors see). A draft is staged only; `publish` copies the staged item to the live
site; `unpublish` removes the live copy and leaves the staged one as a draft. Field names
differ per collection, so `WebflowFieldMap` says which field slug holds which of our fields;
optional fields are writable only when mapped and present in the collection's schema.

Not offered, and declared so in `capabilities`: static pages (the Designer owns them),
scheduled publishing (v2 has none for items), categories and tags (reference fields differ per
site), and media upload (a two-step S3 flow; image fields accept a public URL instead).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Generator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

import httpx

from ..cursors import number_cursor
from ..errors import (
    AdapterError,
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unsupported,
    UpstreamUnavailable,
)
from ..http import HttpService, error_body
from ..json_values import JsonObject, is_list, is_object
from .base import (
    BODY_PREVIEW,
    CAP_EXCERPT,
    CAP_FEATURED_IMAGE,
    CAP_META_DESCRIPTION,
    CAP_POSTS,
    CAP_SEO_TITLE,
    CAP_UNPUBLISH,
    Kind,
    Media,
    Post,
    PostFields,
    PostPage,
    PostSummary,
    SiteInfo,
    Status,
    Taxonomy,
    confirmed,
)
from .webflow_fields import WebflowFieldMap

log = logging.getLogger(__name__)

SETTING = "clients.<client>.servers.webflow.settings.fields"
PAGE_SIZE_MAX = 100  # the API's largest `limit`
SCAN_PAGES = 5  # pages read per call when filtering client-side, so one call stays bounded
SLUG_MAX = 100

# Our optional fields, the capability each one gives, and the field map entry that holds it.
_OPTIONAL_FIELDS = {
    "excerpt": (CAP_EXCERPT, "excerpt"),
    "featured_media_id": (CAP_FEATURED_IMAGE, "featured_image"),
    "seo_title": (CAP_SEO_TITLE, "seo_title"),
    "meta_description": (CAP_META_DESCRIPTION, "meta_description"),
}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONFLICT_CODES = ("conflict", "duplicate", "already_exists", "not_unique")
_SLUG_TAKEN = re.compile(r"slug.*(unique|already|exists|taken|in use)|(unique|already|taken).*slug", re.I)


def parse_webflow_error(response: httpx.Response) -> tuple[str, str]:
    """Webflow errors are {"code", "message", "externalReference", "details": [...]}."""
    body = error_body(response)
    message = str(body.get("message") or "")
    listed: list[Any] = body.get("details") or []
    details = "; ".join(filter(None, (_detail(d) for d in listed[:3])))
    if details:
        message = f"{message} ({details})" if message else details
    return str(body.get("code") or "")[:80], message


def _detail(item: Any) -> str:
    # Details come as strings or as {"param"/"field", "description"/"message"} objects.
    if is_object(item):
        where = item.get("param") or item.get("field") or ""
        what = item.get("description") or item.get("message") or ""
        return f"{where}: {what}" if where and what else str(where or what)
    return str(item) if item else ""


def classify_webflow_error(status: int, code: str) -> type[AdapterError] | None:
    code = code.lower()
    if any(marker in code for marker in _CONFLICT_CODES):
        return Conflict
    if code in ("validation_error", "bad_request") or code.startswith("invalid_"):
        return InvalidRequest
    if code in ("resource_not_found", "route_not_found", "not_found"):
        return NotFound
    if code in ("missing_scopes", "forbidden"):
        return PermissionDenied
    if code in ("not_authorized", "unauthorized") and status == 401:
        return AuthError
    if code == "too_many_requests":
        return RateLimited
    return None


def slugify(title: str) -> str:
    """A Webflow slug from a title: lowercase ASCII words joined by hyphens, at most 100 characters."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


class Webflow:
    """One collection of a Webflow site. `http` carries the base URL, the Bearer auth and the token limiter."""

    vendor = "webflow"

    def __init__(
        self,
        http: HttpService,
        site_id: str,
        collection_id: str,
        fields: WebflowFieldMap | None = None,
        live_url: str | None = None,
    ):
        self.http = http
        self.site_id = site_id
        self.collection_id = collection_id
        self.fields = fields or WebflowFieldMap()
        self.live_url = live_url.rstrip("/") if live_url else None
        self._collection: JsonObject | None = None
        self._site: JsonObject | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- capabilities -----------------------------------------------------------------------

    async def collection(self) -> JsonObject:
        """The collection's schema, read once: its slug and its fields."""
        if self._collection is None:
            raw = await self.http.get_json(f"collections/{self.collection_id}")
            if not is_object(raw) or not is_list(raw.get("fields")):
                raise UpstreamUnavailable(
                    f"Webflow answered with something that is not collection {self.collection_id}'s schema.",
                    vendor="Webflow",
                )
            self._collection = raw
        return self._collection

    async def site(self) -> JsonObject:
        if self._site is None:
            raw = await self.http.get_json(f"sites/{self.site_id}")
            self._site = raw if is_object(raw) else {}
        return self._site

    async def capabilities(self) -> frozenset[str]:
        caps = {CAP_POSTS, CAP_UNPUBLISH}
        present = await self._field_slugs()
        for capability, entry in _OPTIONAL_FIELDS.values():
            if getattr(self.fields, entry) in present:
                caps.add(capability)
        return frozenset(caps)

    async def site_info(self) -> SiteInfo:
        site = await self.site()
        collection = await self.collection()
        name = collection.get("displayName") or collection.get("slug") or self.collection_id
        return SiteInfo(
            vendor=self.vendor,
            name=str(site.get("displayName") or site.get("shortName") or ""),
            url=await self._base_url(),
            capabilities=sorted(await self.capabilities()),
            seo_fields=await self._seo_description(),
            notes=[
                f"Posts are the items of the CMS collection '{name}'; static pages are not managed.",
                "Edits to a published item are staged: it stays 'published' with the previous version "
                "live until publish is called again.",
                "Webflow has no scheduled publishing for items, and categories/tags are not managed.",
                "Media upload is not available; set featured_media_id to a public image URL instead.",
            ],
        )

    async def _seo_description(self) -> str:
        present = await self._field_slugs()
        title, meta = self.fields.seo_title, self.fields.meta_description
        if title in present and meta in present:
            return f"collection fields {title} / {meta}"
        parts: list[str] = []
        for ours, slug in (("seo_title", title), ("meta_description", meta)):
            if slug is None:
                parts.append(f"{ours}: not mapped: set {SETTING}.{ours} in mcp.json")
            elif slug not in present:
                parts.append(f"{ours}: mapped to '{slug}', which the collection does not have")
            else:
                parts.append(f"{ours}: collection field {slug}")
        return "; ".join(parts)

    # -- reading ----------------------------------------------------------------------------

    async def list_posts(
        self, kind: Kind, *, status: Status | None, search: str | None, cursor: str | None, limit: int
    ) -> PostPage:
        _posts_only(kind)
        offset = number_cursor(cursor)
        limit = max(1, min(limit, PAGE_SIZE_MAX))
        if status in ("scheduled", "pending", "private"):
            return PostPage(items=[], total=0, next_cursor=None)  # Webflow items never are
        if status is None and not search:
            items, total = await self._items_page(offset, limit)
            end = offset + len(items)
            more = end < total if total is not None else len(items) == limit
            return PostPage(
                items=[await self._summary(i) for i in items],
                total=total,
                next_cursor=str(end) if more and items else None,
            )
        return await self._scan(offset, limit, status, search)

    async def get_post(self, post_id: str, kind: Kind) -> Post:
        _posts_only(kind)
        return await self._to_post(await self.http.get_json(self._item_path(post_id)))

    # -- writing ----------------------------------------------------------------------------

    async def create_draft(self, kind: Kind, fields: PostFields) -> Post:
        _posts_only(kind)
        if not fields.title:
            raise InvalidRequest("Webflow items need a title.", hint="Pass a title.")
        slug = fields.slug or slugify(fields.title)
        if not slug:
            raise InvalidRequest(
                f"No slug can be made from the title {fields.title!r}.",
                hint="Pass a slug of lowercase letters, digits and hyphens.",
            )
        field_data = await self._field_data(fields)
        field_data[self.fields.slug] = slug
        payload = {"isDraft": True, "isArchived": False, "fieldData": field_data}

        async def find_existing() -> JsonObject | None:
            # Slugs are unique per collection: an item with ours and our title is the lost create.
            found = await self._item_with_slug(slug)
            if not found:
                return None
            data: JsonObject = found.get("fieldData") or {}
            return found if data.get(self.fields.title) == fields.title else None

        with _slug_conflicts(slug):
            raw = await self.http.create("POST", self._items_path, json=payload, find_existing=find_existing)
        return await self._to_post(raw)

    async def update_post(self, post_id: str, kind: Kind, fields: PostFields) -> Post:
        _posts_only(kind)
        item_path = self._item_path(post_id)
        field_data = await self._field_data(fields)
        if not field_data:
            return await self.get_post(post_id, kind)
        with _slug_conflicts(fields.slug or ""):
            applied = await self.http.apply(
                "PATCH",
                item_path,
                json={"fieldData": field_data},
                read_back=lambda: self.http.get_json(item_path),
                done=lambda raw: _holds(raw, field_data),
                what=f"updating item {post_id}",
                check=f"get_post {post_id}",
            )
        if applied.response is None:
            return confirmed(await self._to_post(applied.state), applied.how)
        return await self._to_post(self.http.json(applied.response))

    async def publish(self, post_id: str, kind: Kind) -> Post:
        _posts_only(kind)
        item_path = self._item_path(post_id)  # validates the ID before any request

        async def read_back() -> tuple[Any, Any]:
            return await self.http.get_json(item_path), await self._live(item_path)

        # Publishing twice is harmless, so a publish that the read-back shows not live may go once more.
        applied = await self.http.apply(
            "POST",
            f"{self._items_path}/publish",
            json={"itemIds": [post_id]},
            read_back=read_back,
            done=lambda state: _is_live(*state),
            what=f"publishing item {post_id}",
            check=f"get_post {post_id}",
        )
        if applied.response is None:
            assert applied.state is not None  # apply() reads the state back whenever the answer was lost
            staged, _live = applied.state
            return confirmed(await self._as_published(await self._to_post(staged)), applied.how)
        answer = self.http.json(applied.response)
        published = answer.get("publishedItemIds") if is_object(answer) else None
        if not is_list(published) or post_id not in published:
            errors = answer.get("errors") if is_object(answer) else None
            reason = "; ".join(map(str, errors[:3])) if is_list(errors) and errors else "no reason given"
            raise InvalidRequest(
                f"Webflow did not publish item {post_id}: {reason}.",
                hint="Check the item's required fields with get_post, then publish again.",
                vendor="Webflow",
            )
        return await self._as_published(await self._to_post(await self.http.get_json(item_path)))

    async def _as_published(self, post: Post) -> Post:
        if post.status == "draft":
            # Publishing is accepted asynchronously (HTTP 202); Webflow confirmed this item.
            log.info("Webflow published item %s; its staged copy does not show it yet", post.id)
            post.status = "published"
            post.url = await self._item_url(post.slug)
        return post

    async def _live(self, item_path: str) -> Any:
        """The live copy of an item, or None when it is not on the live site."""
        try:
            return await self.http.get_json(f"{item_path}/live")
        except NotFound:
            return None

    async def schedule(self, post_id: str, kind: Kind, when: datetime) -> Post:
        _posts_only(kind)
        raise Unsupported(
            "Webflow cannot schedule collection items for later publishing.",
            hint="Keep the item a draft and call publish at the wanted time, or publish now.",
        )

    async def unpublish(self, post_id: str, kind: Kind) -> Post:
        _posts_only(kind)
        item_path = self._item_path(post_id)
        how = ""
        try:
            applied = await self.http.apply(
                "DELETE",
                f"{item_path}/live",
                read_back=lambda: self._live(item_path),
                done=lambda live: live is None,
                what=f"unpublishing item {post_id}",
                check=f"get_post {post_id}",
            )
            how = applied.how
        except NotFound:
            pass  # not live (or gone: the read below tells which)
        post = await self._to_post(await self.http.get_json(item_path))
        if post.status == "published":
            # The live copy is gone even if the staged item has not caught up yet.
            post.status, post.url, post.published_at = "draft", None, None
        return confirmed(post, how) if how else post

    async def delete(self, post_id: str, kind: Kind, force: bool = False) -> None:
        """Archive the item (our 'trash'), or with `force` remove it from the live site and the CMS."""
        _posts_only(kind)
        item_path = self._item_path(post_id)
        if not force:
            await self.http.request("PATCH", item_path, json={"isArchived": True}, idempotent=True)
            return
        try:
            await self.http.request("DELETE", f"{item_path}/live")
        except NotFound:
            pass
        await self.http.request("DELETE", item_path)

    async def list_taxonomies(self, search: str | None, limit: int) -> list[Taxonomy]:
        return []  # categories and tags are reference fields that differ per site; not managed here

    async def upload_media(self, filename: str, content: bytes, mime_type: str, alt_text: str) -> Media:
        raise Unsupported(
            "Uploading media to Webflow is not available in this tool set.",
            hint="Host the image at a public URL and pass that URL as featured_media_id; "
            "Webflow imports it into the image field.",
        )

    # -- internals --------------------------------------------------------------------------

    @property
    def _items_path(self) -> str:
        return f"collections/{self.collection_id}/items"

    def _item_path(self, post_id: str) -> str:
        if not _ID.match(str(post_id)):
            raise NotFound(
                f"'{post_id}' is not a Webflow item ID.", hint="Use list_posts to find the item's ID.", vendor="Webflow"
            )
        return f"{self._items_path}/{post_id}"

    async def _field_slugs(self) -> set[str]:
        return {f["slug"] for f in (await self.collection())["fields"] if is_object(f) and f.get("slug")}

    async def _target(self, ours: str, entry: str) -> str:
        """The collection field that holds `ours`, or Unsupported saying how to map one."""
        slug = getattr(self.fields, entry)
        if slug is None:
            raise Unsupported(
                f"No Webflow collection field is mapped for {ours}.",
                hint=f"Set {SETTING}.{entry} in mcp.json to the field's slug, or leave {ours} out.",
            )
        if slug not in await self._field_slugs():
            raise Unsupported(
                f"{ours} is mapped to the field '{slug}', which this Webflow collection does not have.",
                hint=f"Fix {SETTING}.{entry} in mcp.json (see the collection's field slugs), or leave {ours} out.",
            )
        return slug

    async def _field_data(self, fields: PostFields) -> JsonObject:
        given = fields.given()
        for terms in ("categories", "tags"):
            if given.get(terms) is not None:
                raise Unsupported(
                    f"Webflow {terms} are not managed by this tool set.", hint=f"Leave {terms} out for Webflow."
                )
        data: dict[str, Any] = {}
        if "title" in given:
            data[self.fields.title] = given["title"]
        if "slug" in given:
            data[self.fields.slug] = given["slug"]
        if "body" in given:
            data[await self._target("body", "body")] = given["body"] or ""
        for ours, (_cap, entry) in _OPTIONAL_FIELDS.items():
            if ours in given:
                value = given[ours]
                data[await self._target(ours, entry)] = _image(value) if ours == "featured_media_id" else value or ""
        return data

    async def _item_with_slug(self, slug: str) -> JsonObject | None:
        body = await self.http.get_json(self._items_path, params={"slug": slug, "limit": PAGE_SIZE_MAX})
        items: list[JsonObject] = (body.get("items") if is_object(body) else None) or []
        # Match client-side too: a server that ignores the filter must not hand us another item.
        return next((i for i in items if self._field(i, "slug") == slug), None)

    async def _items_page(self, offset: int, limit: int) -> tuple[list[JsonObject], int | None]:
        body = await self.http.get_json(self._items_path, params={"offset": offset, "limit": limit})
        items = body.get("items") if is_object(body) else None
        if not is_list(items):
            raise UpstreamUnavailable("Webflow answered a list of items with something else.", vendor="Webflow")
        pagination: JsonObject = body.get("pagination") or {}
        total = pagination.get("total")
        return [i for i in items if is_object(i)], total if isinstance(total, int) else None

    async def _scan(self, offset: int, limit: int, status: Status | None, search: str | None) -> PostPage:
        """Filter client-side, reading at most SCAN_PAGES pages; the cursor resumes where reading stopped."""
        needle = (search or "").lower()
        found: list[PostSummary] = []
        position = offset
        total: int | None = None
        for _ in range(SCAN_PAGES):
            items, total = await self._items_page(position, PAGE_SIZE_MAX)
            for index, raw in enumerate(items):
                if self._matches(raw, status, needle):
                    found.append(await self._summary(raw))
                    if len(found) == limit:
                        position += index + 1
                        more = total is None or position < total
                        return PostPage(items=found, total=None, next_cursor=str(position) if more else None)
            position += len(items)
            if len(items) < PAGE_SIZE_MAX or (total is not None and position >= total):
                return PostPage(items=found, total=None, next_cursor=None)
        return PostPage(items=found, total=None, next_cursor=str(position))

    def _matches(self, raw: JsonObject, status: Status | None, needle: str) -> bool:
        if status is not None and _status(raw) != status:
            return False
        searched = (self._field(raw, "title"), self._field(raw, "slug"))
        return not needle or any(needle in str(value or "").lower() for value in searched)

    async def _base_url(self) -> str:
        if self.live_url:
            return self.live_url
        site = await self.site()
        custom: list[Any] = site.get("customDomains") or []
        domains = [d.get("url") for d in custom if is_object(d) and d.get("url")]
        if domains:
            url = str(domains[0])
            return (url if "://" in url else f"https://{url}").rstrip("/")
        return f"https://{site.get('shortName') or self.site_id}.webflow.io"

    async def _item_url(self, slug: str) -> str:
        collection_slug = (await self.collection()).get("slug") or ""
        return f"{await self._base_url()}/{collection_slug}/{slug}"

    async def _summary(self, raw: JsonObject) -> PostSummary:
        status = _status(raw)
        slug = str(self._field(raw, "slug") or "")
        return PostSummary(
            id=str(raw.get("id") or ""),
            kind="post",
            status=status,
            title=str(self._field(raw, "title") or ""),
            slug=slug,
            url=await self._item_url(slug) if status == "published" else None,
            modified=_when(raw.get("lastUpdated")),
        )

    async def _to_post(self, raw: Any) -> Post:
        if not is_object(raw) or "id" not in raw:
            raise UpstreamUnavailable(
                "Webflow answered with something that is not a collection item.", vendor="Webflow"
            )
        data: JsonObject = raw.get("fieldData") or {}
        summary = await self._summary(raw)
        body = str(self._read(data, "body") or "")
        return Post(
            **summary.model_dump(),
            excerpt=str(self._read(data, "excerpt") or ""),
            body=body[:BODY_PREVIEW],
            body_truncated=len(body) > BODY_PREVIEW,
            seo_title=self._read(data, "seo_title") or None,
            meta_description=self._read(data, "meta_description") or None,
            featured_media_id=_image_ref(self._read(data, "featured_image")),
            published_at=_when(raw.get("lastPublished")) if summary.status == "published" else None,
        )

    def _field(self, item: JsonObject, entry: Literal["title", "slug"]) -> Any:
        """The item's title or slug field (always mapped)."""
        data: JsonObject = item.get("fieldData") or {}
        return data.get(self.fields.title if entry == "title" else self.fields.slug)

    def _read(self, data: JsonObject, entry: str) -> Any:
        slug = getattr(self.fields, entry)
        return data.get(slug) if slug else None


def _posts_only(kind: Kind) -> None:
    if kind != "post":
        raise Unsupported(
            "Webflow static pages are not managed by this tool set; use kind='post' for collection items.",
            hint="Use kind='post'.",
        )


def _status(raw: JsonObject) -> Status:
    if raw.get("isArchived"):
        return "trash"
    if raw.get("isDraft") or not raw.get("lastPublished"):
        return "draft"
    return "published"


def _is_live(staged: Any, live: Any) -> bool:
    """Whether the live site shows the staged version of an item (what publishing does)."""
    return is_object(staged) and is_object(live) and (live.get("fieldData") or {}) == (staged.get("fieldData") or {})


def _holds(raw: Any, field_data: JsonObject) -> bool:
    """Whether an item read back holds the values a PATCH set (an image by the keys we sent)."""
    data = raw.get("fieldData") if is_object(raw) else None
    if not is_object(data):
        return False
    for slug, want in field_data.items():
        have = data.get(slug)
        if is_object(want):
            if not (is_object(have) and all(have.get(k) == v for k, v in want.items())):
                return False
        elif (have or None) != (want or None):
            return False
    return True


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _image(value: str | None) -> JsonObject | None:
    """An image field value: a public URL Webflow imports, or the fileId of an asset it already has."""
    if not value:
        return None
    return {"url": value} if value.startswith(("http://", "https://")) else {"fileId": value}


def _image_ref(value: Any) -> str | None:
    if is_object(value):
        return value.get("fileId") or value.get("url") or None
    return str(value) if value else None


@contextmanager
def _slug_conflicts(slug: str) -> Generator[None, None, None]:
    """Report a slug Webflow refuses as taken as a Conflict, whatever error code it came with."""
    try:
        yield
    except InvalidRequest as exc:
        if isinstance(exc, Unsupported) or not _SLUG_TAKEN.search(exc.message):
            raise
        which = f"'{slug}' " if slug else ""
        raise Conflict(
            exc.message,
            hint=f"The slug {which}is taken in this collection: pass another slug, or update the existing item.",
            vendor=exc.vendor,
            status=exc.status,
        ) from None
