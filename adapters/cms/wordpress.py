"""WordPress through its REST API (wp/v2), authenticated with an application password.

SEO title and meta description live in post meta owned by Yoast or Rank Math, which core
REST does not expose for writing. The companion must-use plugin in `wordpress/` registers
those keys for REST and tells us, at `marketing-mcp/v1/seo`, which keys the site's active
SEO plugin reads. Without it the fields are reported as not writable in `capabilities`.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal, NoReturn

import httpx

from ..cursors import number_cursor
from ..errors import AdapterError, Conflict, InvalidRequest, NotFound, Unsupported
from ..http import HttpService, error_body
from ..json_values import JsonObject, is_object
from .base import (
    BODY_PREVIEW,
    CAP_EXCERPT,
    CAP_FEATURED_IMAGE,
    CAP_MEDIA,
    CAP_META_DESCRIPTION,
    CAP_PAGES,
    CAP_POSTS,
    CAP_SCHEDULE,
    CAP_SEO_TITLE,
    CAP_TERMS,
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
    Term,
    confirmed,
)

log = logging.getLogger(__name__)

COMPANION_PLUGIN = "wordpress/marketing-mcp-companion.php"
TaxonomyName = Literal["category", "tag"]
_TO_WP_STATUS: dict[Status, str] = {
    "published": "publish",
    "scheduled": "future",
    "draft": "draft",
    "pending": "pending",
    "private": "private",
    "trash": "trash",
}
_FROM_WP_STATUS: dict[str, Status] = {v: k for k, v in _TO_WP_STATUS.items()}
_ALL_STATUSES = "publish,future,draft,pending,private"
_TAXONOMY_ROUTES: dict[TaxonomyName, str] = {"category": "wp/v2/categories", "tag": "wp/v2/tags"}
_FIELDS_ROUTE: dict[str, TaxonomyName] = {"categories": "category", "tags": "tag"}


def parse_wp_error(response: httpx.Response) -> tuple[str, str]:
    """WordPress errors are {"code", "message", "data": {"status", "params"?}}."""
    body = error_body(response)
    message = str(body.get("message") or "")
    data = body.get("data")
    params = data.get("params") if is_object(data) else None
    if is_object(params):
        details = "; ".join(f"{k}: {v}" for k, v in list(params.items())[:5])
        message = f"{message} ({details})" if details else message
    return str(body.get("code") or "")[:80], html.unescape(message)


def classify_wp_error(status: int, code: str) -> type[AdapterError] | None:
    if code in ("term_exists",) or code.endswith("_exists") or code == "duplicate_term_slug":
        return Conflict
    if code in ("rest_post_invalid_id", "rest_term_invalid", "rest_no_route"):
        return NotFound
    if code == "rest_upload_sideload_error":  # WordPress answers 500 for a refused file type
        return InvalidRequest
    return None


def _text(value: Any) -> str:
    """A WordPress rendered/raw field: raw when we asked for context=edit, else unescaped rendered."""
    if is_object(value):
        if "raw" in value:
            return value["raw"] or ""
        return html.unescape(value.get("rendered") or "")
    return value or ""


def _gmt(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


class WordPress:
    """A WordPress site. `http` carries the base URL (site + /wp-json/) and the Basic auth."""

    vendor = "wordpress"

    def __init__(self, http: HttpService, site_url: str):
        self.http = http
        self.site_url = site_url.rstrip("/")
        self._seo: JsonObject | None = None  # the companion plugin's answer, or {} when absent
        self._term_cache: dict[tuple[str, int], str] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- capabilities -----------------------------------------------------------------------

    async def seo_fields(self) -> JsonObject:
        """Which meta keys hold the SEO title and description; {} when the plugin is absent."""
        if self._seo is None:
            seo: JsonObject = {}
            try:
                answer = await self.http.get_json("marketing-mcp/v1/seo")
                if is_object(answer) and is_object(answer.get("fields")):
                    seo = answer
            except NotFound:
                pass
            self._seo = seo
        return self._seo

    async def capabilities(self) -> frozenset[str]:
        caps = {
            CAP_POSTS,
            CAP_PAGES,
            CAP_SCHEDULE,
            CAP_UNPUBLISH,
            CAP_EXCERPT,
            CAP_TERMS,
            CAP_MEDIA,
            CAP_FEATURED_IMAGE,
        }
        fields = (await self.seo_fields()).get("fields", {})
        if fields.get("seo_title"):
            caps.add(CAP_SEO_TITLE)
        if fields.get("meta_description"):
            caps.add(CAP_META_DESCRIPTION)
        return frozenset(caps)

    async def site_info(self) -> SiteInfo:
        index = await self.http.get_json("")
        seo = await self.seo_fields()
        if seo:
            where = (
                f"post meta {seo['fields']['seo_title']} / {seo['fields']['meta_description']} "
                f"(SEO plugin: {seo.get('seo_plugin', 'none')}, companion plugin {seo.get('plugin_version', '?')})"
            )
            notes: list[str] = []
        else:
            where = "not writable: the marketing-mcp companion plugin is not installed"
            notes = [
                f"Copy {COMPANION_PLUGIN} (`marketing-mcp wordpress-plugin` writes it out) into "
                "wp-content/mu-plugins/ to make SEO title and meta description writable through REST."
            ]
        return SiteInfo(
            vendor=self.vendor,
            name=html.unescape(str(index.get("name") or "")) if is_object(index) else "",
            url=str(index.get("home") or self.site_url) if is_object(index) else self.site_url,
            capabilities=sorted(await self.capabilities()),
            seo_fields=where,
            notes=notes,
        )

    # -- reading ----------------------------------------------------------------------------

    async def list_posts(
        self, kind: Kind, *, status: Status | None, search: str | None, cursor: str | None, limit: int
    ) -> PostPage:
        page = number_cursor(cursor, first=1)
        params: dict[str, Any] = {
            "context": "edit",
            "page": page,
            "per_page": limit,
            "status": _TO_WP_STATUS[status] if status else _ALL_STATUSES,
            "orderby": "id",  # unique, so pages never skip or repeat items that share a timestamp
            "order": "desc",
            "_fields": "id,type,status,title,slug,link,modified_gmt",
        }
        if search:
            params["search"] = search
        try:
            response = await self.http.request("GET", _route(kind), params=params)
        except InvalidRequest as exc:
            if "rest_post_invalid_page_number" in str(exc):
                return PostPage(items=[], total=None, next_cursor=None)
            raise
        items = [
            PostSummary(
                id=str(p["id"]),
                kind=kind,
                status=_FROM_WP_STATUS.get(p.get("status", ""), "draft"),
                title=_text(p.get("title")),
                slug=p.get("slug") or "",
                url=p.get("link"),
                modified=_gmt(p.get("modified_gmt")),
            )
            for p in self.http.json(response)
        ]
        total = _int_header(response, "X-WP-Total")
        pages = _int_header(response, "X-WP-TotalPages") or 0
        return PostPage(items=items, total=total, next_cursor=str(page + 1) if page < pages else None)

    async def get_post(self, post_id: str, kind: Kind) -> Post:
        raw = await self.http.get_json(f"{_route(kind)}/{_wp_id(post_id, kind)}", params={"context": "edit"})
        return await self._to_post(raw, kind)

    # -- writing ----------------------------------------------------------------------------

    async def create_draft(self, kind: Kind, fields: PostFields) -> Post:
        payload = await self._payload(kind, fields)
        payload["status"] = "draft"

        async def find_existing() -> JsonObject | None:
            # The lost create, if it happened, is among the newest drafts with this exact content.
            candidates = await self.http.get_json(
                _route(kind),
                params={
                    "context": "edit",
                    "status": "draft",
                    "orderby": "id",
                    "order": "desc",
                    "per_page": 20,
                    "search": fields.title or "",
                },
            )
            for c in candidates:
                if _text(c.get("title")) == (fields.title or "") and _text(c.get("content")) == (fields.body or ""):
                    return c
            return None

        raw = await self.http.create("POST", _route(kind), json=payload, find_existing=find_existing)
        return await self._to_post(raw, kind)

    async def update_post(self, post_id: str, kind: Kind, fields: PostFields) -> Post:
        payload = await self._payload(kind, fields)
        return await self._write(
            post_id, kind, payload, what=f"updating {kind} {post_id}", done=lambda raw: _shows(raw, payload)
        )

    async def publish(self, post_id: str, kind: Kind) -> Post:
        current = await self.http.get_json(f"{_route(kind)}/{_wp_id(post_id, kind)}", params={"context": "edit"})
        payload: dict[str, Any] = {"status": "publish"}
        if current.get("status") == "future":
            # A scheduled post keeps its future date and would stay scheduled: move the date to
            # the site's own "now" (its last modification time is the latest server time we know).
            payload["date_gmt"] = current.get("modified_gmt")
        post = await self._write(
            post_id, kind, payload, what=f"publishing {kind} {post_id}", done=lambda raw: raw.get("status") == "publish"
        )
        if post.status != "published":
            raise InvalidRequest(
                f"WordPress kept post {post_id} as '{post.status}' instead of publishing it.",
                hint="Check the post's date and the site's time zone, then publish again.",
            )
        return post

    async def schedule(self, post_id: str, kind: Kind, when: datetime) -> Post:
        when_utc = when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when
        date = when_utc.isoformat(timespec="seconds")
        # Done when the date is set: WordPress itself decides future (scheduled) or publish (a past time).
        post = await self._write(
            post_id,
            kind,
            {"status": "future", "date_gmt": date},
            what=f"scheduling {kind} {post_id}",
            done=lambda raw: raw.get("status") in ("future", "publish") and str(raw.get("date_gmt") or "")[:19] == date,
        )
        if post.status != "scheduled":
            raise InvalidRequest(
                f"WordPress did not schedule post {post_id} for {when_utc.isoformat()} UTC: it is now "
                f"'{post.status}', because that time is not in the future on the site's clock.",
                hint="Pick a later time, or publish now.",
            )
        return post

    async def unpublish(self, post_id: str, kind: Kind) -> Post:
        return await self._write(
            post_id,
            kind,
            {"status": "draft"},
            what=f"unpublishing {kind} {post_id}",
            done=lambda raw: raw.get("status") == "draft",
        )

    async def delete(self, post_id: str, kind: Kind, force: bool = False) -> None:
        await self.http.request(
            "DELETE", f"{_route(kind)}/{_wp_id(post_id, kind)}", params={"force": "true"} if force else None
        )

    async def list_taxonomies(self, search: str | None, limit: int) -> list[Taxonomy]:
        result: list[Taxonomy] = []
        for name, route in _TAXONOMY_ROUTES.items():
            params: dict[str, Any] = {"per_page": limit, "orderby": "count", "order": "desc"}
            if search:
                params["search"] = search
            response = await self.http.request("GET", route, params=params)
            terms = [_to_term(t, name) for t in self.http.json(response)]
            result.append(Taxonomy(name=name, terms=terms, total=_int_header(response, "X-WP-Total")))
        return result

    async def upload_media(self, filename: str, content: bytes, mime_type: str, alt_text: str) -> Media:
        stem = filename.rsplit(".", 1)[0]

        async def find_existing() -> JsonObject | None:
            recent = await self.http.get_json(
                "wp/v2/media",
                params={"search": stem, "orderby": "id", "order": "desc", "per_page": 10, "context": "edit"},
            )
            for m in recent:
                details: JsonObject = m.get("media_details") or {}
                if details.get("filesize") == len(content) and m.get("mime_type") == mime_type:
                    return m
            return None

        raw = await self.http.create(
            "POST",
            "wp/v2/media",
            content=content,
            find_existing=find_existing,
            headers={"Content-Type": mime_type, "Content-Disposition": f'attachment; filename="{filename}"'},
        )
        if alt_text:
            raw = self.http.json(
                await self.http.request(
                    "POST", f"wp/v2/media/{raw['id']}", json={"alt_text": alt_text}, idempotent=True
                )
            )
        details: JsonObject = raw.get("media_details") or {}
        return Media(
            id=str(raw["id"]),
            url=raw.get("source_url") or "",
            mime_type=raw.get("mime_type") or mime_type,
            size=details.get("filesize") or len(content),
            alt_text=raw.get("alt_text") or "",
        )

    # -- internals --------------------------------------------------------------------------

    async def _write(
        self, post_id: str, kind: Kind, payload: JsonObject, *, what: str, done: Callable[[JsonObject], bool]
    ) -> Post:
        """Set fields of a post; when the answer is lost, the post is read back to see whether they are set."""
        path = f"{_route(kind)}/{_wp_id(post_id, kind)}"

        async def read_back() -> JsonObject:
            raw = await self.http.get_json(path, params={"context": "edit"})
            return raw if is_object(raw) else {}

        applied = await self.http.apply(
            "POST",
            path,
            params={"context": "edit"},
            json=payload,
            read_back=read_back,
            done=done,
            what=f"{what} on WordPress",
            check=f"get_post {post_id} (kind '{kind}')",
        )
        if applied.response is None:
            return confirmed(await self._to_post(applied.state, kind), applied.how)
        return await self._to_post(self.http.json(applied.response), kind)

    async def _payload(self, kind: Kind, fields: PostFields) -> JsonObject:
        given = fields.given()
        payload: dict[str, Any] = {}
        for ours, theirs in (("title", "title"), ("body", "content"), ("slug", "slug"), ("excerpt", "excerpt")):
            if ours in given:
                payload[theirs] = given[ours]
        meta: JsonObject = {}
        seo = (await self.seo_fields()).get("fields", {})
        for ours, key in (("seo_title", "seo_title"), ("meta_description", "meta_description")):
            if ours in given:
                if not seo.get(key):
                    raise Unsupported(
                        f"This WordPress site does not expose the {ours.replace('_', ' ')} for writing.",
                        hint=f"Install {COMPANION_PLUGIN} (`marketing-mcp wordpress-plugin` writes it out) as a "
                        f"must-use plugin, or leave {ours} out.",
                    )
                meta[seo[key]] = given[ours] or ""
        if meta:
            payload["meta"] = meta
        for field, taxonomy in _FIELDS_ROUTE.items():
            if field in given:
                if kind == "page":
                    raise Unsupported(f"WordPress pages have no {field}.", hint=f"Leave {field} out for pages.")
                payload[field] = [int(t.id) for t in await self._resolve_terms(taxonomy, given[field])]
        if "featured_media_id" in given:
            media_id = given["featured_media_id"]
            payload["featured_media"] = _wp_id(media_id, "media") if media_id else 0
        return payload

    async def find_terms(self, taxonomy: TaxonomyName, names: list[str]) -> tuple[list[Term], list[str]]:
        """Terms that exist for these names (by name or slug), and the names that do not."""
        found: list[Term] = []
        missing: list[str] = []
        for name in names:
            match = await self._term_named(taxonomy, name)
            if match:
                found.append(_to_term(match, taxonomy))
            else:
                missing.append(name)
        return found, missing

    async def _resolve_terms(self, taxonomy: TaxonomyName, names: list[str]) -> list[Term]:
        found, missing = await self.find_terms(taxonomy, names)
        for name in missing:
            try:
                raw = await self.http.create(
                    "POST",
                    _TAXONOMY_ROUTES[taxonomy],
                    json={"name": name},
                    find_existing=lambda n=name: self._term_named(taxonomy, n),
                )
            except Conflict:  # created meanwhile by someone else
                raw = await self._term_named(taxonomy, name)
                if raw is None:
                    raise
            found.append(_to_term(raw, taxonomy))
        return found

    async def _term_named(self, taxonomy: TaxonomyName, name: str) -> JsonObject | None:
        """The term whose name (case-insensitive) or slug is `name`, if it exists."""
        candidates = await self.http.get_json(_TAXONOMY_ROUTES[taxonomy], params={"search": name, "per_page": 100})
        return next(
            (
                t
                for t in candidates
                if html.unescape(t.get("name", "")).lower() == name.lower() or t.get("slug") == name.lower()
            ),
            None,
        )

    async def _term_names(self, taxonomy: TaxonomyName, ids: list[int]) -> list[str]:
        unknown = [i for i in ids if (taxonomy, i) not in self._term_cache]
        if unknown:
            terms = await self.http.get_json(
                _TAXONOMY_ROUTES[taxonomy], params={"include": ",".join(map(str, unknown)), "per_page": 100}
            )
            for t in terms:
                self._term_cache[(taxonomy, int(t["id"]))] = html.unescape(t.get("name", ""))
        return [self._term_cache.get((taxonomy, i), str(i)) for i in ids]

    async def _to_post(self, raw: object, kind: Kind) -> Post:
        if not is_object(raw) or "id" not in raw:
            raise InvalidRequest("WordPress answered with something that is not a post.")
        seo = (await self.seo_fields()).get("fields", {})
        given_meta = raw.get("meta")
        meta: JsonObject = given_meta if is_object(given_meta) else {}
        body = _text(raw.get("content"))
        status = _FROM_WP_STATUS.get(raw.get("status", ""), "draft")
        return Post(
            id=str(raw["id"]),
            kind=kind,
            status=status,
            title=_text(raw.get("title")),
            slug=raw.get("slug") or raw.get("generated_slug") or "",  # drafts have no slug until published
            url=raw.get("link"),
            excerpt=_text(raw.get("excerpt")),
            body=body[:BODY_PREVIEW],
            body_truncated=len(body) > BODY_PREVIEW,
            seo_title=(meta.get(seo["seo_title"]) or None) if seo.get("seo_title") else None,
            meta_description=(meta.get(seo["meta_description"]) or None) if seo.get("meta_description") else None,
            categories=await self._term_names("category", raw.get("categories") or []),
            tags=await self._term_names("tag", raw.get("tags") or []),
            featured_media_id=str(raw["featured_media"]) if raw.get("featured_media") else None,
            modified=_gmt(raw.get("modified_gmt")),
            published_at=_gmt(raw.get("date_gmt")) if status == "published" else None,
            scheduled_for=_gmt(raw.get("date_gmt")) if status == "scheduled" else None,
        )


def _shows(raw: JsonObject, payload: JsonObject) -> bool:
    """Whether a post read back (context=edit) holds every value `payload` sets."""
    for key, want in payload.items():
        have = raw.get(key)
        if key in ("title", "content", "excerpt"):
            same = _text(have) == want
        elif key == "meta":
            same = is_object(have) and all(have.get(k) == v for k, v in want.items())
        elif key in ("categories", "tags"):
            same = sorted(have or []) == sorted(want)
        elif key == "date_gmt":
            same = str(have or "")[:19] == str(want)[:19]
        else:
            same = have == want
        if not same:
            return False
    return True


def _route(kind: Kind) -> str:
    return "wp/v2/pages" if kind == "page" else "wp/v2/posts"


def _wp_id(post_id: str, kind: str) -> int:
    if not str(post_id).isdigit():
        _bad_id(post_id, kind)
    return int(post_id)


def _bad_id(value: str, kind: str) -> NoReturn:
    raise NotFound(
        f"'{value}' is not a WordPress {kind} ID (they are numbers).",
        hint=f"Use list_posts to find the {kind}'s numeric ID.",
    )


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    return int(value) if value and value.isdigit() else None


def _to_term(raw: JsonObject, taxonomy: TaxonomyName) -> Term:
    return Term(
        id=str(raw["id"]),
        name=html.unescape(raw.get("name", "")),
        slug=raw.get("slug", ""),
        taxonomy=taxonomy,
        count=raw.get("count"),
    )
