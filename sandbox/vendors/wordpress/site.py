"""State of the simulated WordPress site and the rules WordPress applies to it.

The REST layer (``api``) validates parameters; this module owns what
``wp_insert_post`` and friends would do: slug uniqueness, the publish/future
switch driven by the post date, trash suffixes, default category, term rules.
"""

from __future__ import annotations

import copy
import hmac
import random
import re
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from .text import sanitize_title

POST_STATUSES = ("publish", "future", "draft", "pending", "private", "trash")
# Statuses whose slug WordPress leaves alone (no generation, no uniqueness check).
_UNSLUGGED = ("draft", "pending", "auto-draft")

SEO_META_KEYS = {
    "yoast": {"seo_title": "_yoast_wpseo_title", "meta_description": "_yoast_wpseo_metadesc"},
    "rank_math": {"seo_title": "rank_math_title", "meta_description": "rank_math_description"},
    "none": {"seo_title": "_marketing_mcp_seo_title", "meta_description": "_marketing_mcp_meta_description"},
}
# Where each SEO plugin keeps a post's "hide from search engines" setting (not exposed over REST, as in WordPress).
NOINDEX_META_KEYS = {
    "yoast": "_yoast_wpseo_meta-robots-noindex",
    "rank_math": "rank_math_robots",
    "none": "_marketing_mcp_noindex",
}
COMPANION_META_KEYS = tuple(k for family in SEO_META_KEYS.values() for k in family.values())
COMPANION_PLUGIN_VERSION = "1.0.0"
SEO_PLUGINS = tuple(SEO_META_KEYS)

# Core registers this one for posts and pages (block editor footnotes).
CORE_META_DEFAULTS = {"footnotes": ""}

ALLOWED_UPLOADS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "gif": "image/gif",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "bmp": "image/bmp",
    "ico": "image/x-icon",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "odt": "application/vnd.oasis.opendocument.text",
    "txt": "text/plain",
    "csv": "text/csv",
    "mp3": "audio/mpeg",
    "m4a": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}


class WPError(Exception):
    """A ``WP_Error`` as the REST API reports it: code, message, data.status."""

    def __init__(self, code: str, message: str, status: int = 400, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


@dataclass
class ApplicationPassword:
    """One of a user's application passwords, as ``WP_Application_Passwords`` stores it."""

    uuid: str
    app_id: str
    name: str
    password: str  # 24 alphanumerics without the display spaces (WordPress keeps a hash; the sandbox compares text)
    created: datetime
    last_used: datetime | None = None
    last_ip: str | None = None


def chunk_password(raw: str) -> str:
    """How WordPress displays an application password: groups of four separated by spaces."""
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@dataclass
class User:
    id: int
    username: str
    name: str
    email: str
    registered: datetime
    roles: list[str] = field(default_factory=lambda: ["administrator"])
    application_passwords: list[ApplicationPassword] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return sanitize_title(self.username)


@dataclass
class Term:
    id: int
    taxonomy: str  # "category" | "post_tag"
    name: str
    slug: str
    description: str = ""
    parent: int = 0


@dataclass
class Post:
    id: int
    type: str  # "post" | "page"
    title: str
    content: str
    excerpt: str
    slug: str
    status: str
    date: datetime
    modified: datetime
    author: int = 1
    featured_media: int = 0
    categories: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    parent: int = 0
    menu_order: int = 0
    # A draft saved without an explicit date takes "now" whenever it is saved or published.
    date_floating: bool = False
    comment_status: str = "open"
    ping_status: str = "open"
    sticky: bool = False
    template: str = ""
    format: str = "standard"


@dataclass
class Media:
    id: int
    date: datetime
    modified: datetime
    slug: str
    title: str
    file: str  # path below /wp-content/uploads/, e.g. "2026/11/hero.png"
    mime_type: str
    data: bytes
    alt_text: str = ""
    caption: str = ""
    description: str = ""
    author: int = 1
    width: int | None = None
    height: int | None = None
    post: int | None = None

    @property
    def media_type(self) -> str:
        return "image" if self.mime_type.startswith("image/") else "file"


class WordPressSite:
    def __init__(
        self,
        *,
        name: str,
        description: str,
        companion_plugin: bool = True,
        seo_plugin: str = "yoast",
        secrets: random.Random | None = None,
    ) -> None:
        if seo_plugin not in SEO_PLUGINS:
            raise ValueError(f"seo_plugin must be one of {SEO_PLUGINS}")
        # Its own stream for generated passwords and UUIDs, so new ones never shift the seeded content.
        self.secrets = secrets if secrets is not None else random.Random(0)
        self.name = name
        self.description = description
        self.companion_plugin = companion_plugin
        self.seo_plugin = seo_plugin
        self.users: dict[int, User] = {}
        self.posts: dict[int, Post] = {}
        self.media: dict[int, Media] = {}
        self.terms: dict[int, Term] = {}
        # Posts, pages and attachments share one ID sequence (one wp_posts table).
        self._next_post_id = 1
        self._next_term_id = 1

    # -- plugins and meta -------------------------------------------------

    def seo_fields(self) -> dict[str, str]:
        """The meta keys the companion plugin reports for the active SEO plugin."""
        return dict(SEO_META_KEYS[self.seo_plugin])

    def rendering_seo_keys(self) -> dict[str, str] | None:
        """Keys the front end renders into <title>/<meta>: the SEO plugin's own, or the companion's fallback."""
        if self.seo_plugin != "none":
            return self.seo_fields()
        return self.seo_fields() if self.companion_plugin else None

    def registered_meta_keys(self) -> tuple[str, ...]:
        return COMPANION_META_KEYS if self.companion_plugin else ()

    def seo_title(self, post: Post) -> str | None:
        """The custom SEO title the front end would render, with the SEO plugin's variables expanded."""
        keys = self.rendering_seo_keys()
        value = post.meta.get(keys["seo_title"], "") if keys else ""
        return self._expand(value, post) or None

    def meta_description(self, post: Post) -> str | None:
        keys = self.rendering_seo_keys()
        value = post.meta.get(keys["meta_description"], "") if keys else ""
        return self._expand(value, post) or None

    def noindexed(self, post: Post) -> bool:
        """Whether the SEO plugin tells search engines not to index the post."""
        value = str(post.meta.get(NOINDEX_META_KEYS[self.seo_plugin], ""))
        return value == "1" or "noindex" in value

    def set_noindex(self, post: Post, on: bool) -> None:
        key = NOINDEX_META_KEYS[self.seo_plugin]
        if on:
            post.meta[key] = "noindex" if self.seo_plugin == "rank_math" else "1"
        else:
            post.meta.pop(key, None)

    def robots(self, post: Post) -> str | None:
        """The robots meta the front end renders for the post (None: the theme's default, index)."""
        return "noindex, follow" if self.noindexed(post) else None

    def document_title(self, post: Post) -> str:
        """``<title>``: the SEO title if set, otherwise core's "Title – Site name"."""
        return self.seo_title(post) or f"{post.title} \u2013 {self.name}"

    def _expand(self, value: str, post: Post) -> str:
        # Yoast writes %%title%%, Rank Math %title%; both default to "-" as separator.
        if not value:
            return ""
        for pattern, replacement in (("title", post.title), ("sitename", self.name), ("sep", "-"), ("page", "")):
            value = value.replace(f"%%{pattern}%%", replacement).replace(f"%{pattern}%", replacement)
        return " ".join(value.split())

    # -- ids and lookups ---------------------------------------------------

    def allocate_post_id(self) -> int:
        pid = self._next_post_id
        self._next_post_id += 1
        return pid

    def user_by_login(self, login: str) -> User | None:
        for user in self.users.values():
            if user.username == login or user.email.lower() == login.lower():
                return user
        return None

    def get_post(self, post_id: int, post_type: str) -> Post | None:
        post = self.posts.get(post_id)
        return post if post is not None and post.type == post_type else None

    def posts_of_type(self, post_type: str) -> list[Post]:
        return [p for p in self.posts.values() if p.type == post_type]

    def terms_of(self, taxonomy: str) -> list[Term]:
        return [t for t in self.terms.values() if t.taxonomy == taxonomy]

    def term_count(self, term: Term) -> int:
        attr = "categories" if term.taxonomy == "category" else "tags"
        return sum(
            1 for p in self.posts.values() if p.type == "post" and p.status == "publish" and term.id in getattr(p, attr)
        )

    def path_of(self, post: Post) -> str:
        """Site-relative permalink, ``/slug/`` for published content, ``/?p=ID`` otherwise."""
        if post.status not in ("publish", "private") or not post.slug:
            return f"/?page_id={post.id}" if post.type == "page" else f"/?p={post.id}"
        parts = [post.slug]
        parent = self.posts.get(post.parent) if post.type == "page" else None
        seen = {post.id}
        while parent is not None and parent.id not in seen:
            seen.add(parent.id)
            parts.insert(0, parent.slug)
            parent = self.posts.get(parent.parent)
        return "/" + "/".join(parts) + "/"

    def find_published(self, path: str) -> Post | None:
        for post in self.posts.values():
            if post.status == "publish" and self.path_of(post) == path:
                return post
        return None

    # -- application passwords ---------------------------------------------

    def create_application_password(
        self, user: User, name: str, now: datetime, app_id: str = "", password: str | None = None
    ) -> tuple[ApplicationPassword, str]:
        """``WP_Application_Passwords::create_new_application_password``: the record and the new password."""
        name = _sanitize_text_field(name)
        if not name:
            raise WPError(
                "application_password_empty_name",
                "An application name is required to create an application password.",
                400,
            )
        if any(p.name == name for p in user.application_passwords):
            raise WPError("application_password_duplicate_name", "Each application name should be unique.", 409)
        raw = password or "".join(self.secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
        record = ApplicationPassword(
            uuid=str(uuid.UUID(int=self.secrets.getrandbits(128), version=4)),
            app_id=app_id or "",
            name=name,
            password=raw,
            created=now,
        )
        user.application_passwords.append(record)
        return record, raw

    def find_application_password(self, user: User, password: str) -> ApplicationPassword | None:
        """The record ``password`` opens; WordPress ignores the display spaces (and any non-alphanumerics)."""
        raw = re.sub(r"[^a-zA-Z0-9]", "", password).encode()
        for record in user.application_passwords:
            if hmac.compare_digest(record.password.encode(), raw):
                return record
        return None

    def delete_application_password(self, user: User, uuid_: str) -> ApplicationPassword | None:
        for record in user.application_passwords:
            if record.uuid == uuid_:
                user.application_passwords.remove(record)
                return record
        return None

    @staticmethod
    def record_application_password_use(record: ApplicationPassword, now: datetime, ip: str | None) -> None:
        # Core writes usage at most once a day per password, to spare the database.
        if record.last_used is None or now - record.last_used >= timedelta(days=1):
            record.last_used, record.last_ip = now, ip

    # -- slugs -------------------------------------------------------------

    def unique_slug(self, slug: str, post: Post) -> str:
        """``wp_unique_post_slug``: append -2, -3, ... on a clash within the same type (and parent for pages)."""
        if post.status in _UNSLUGGED:
            return slug

        def taken(candidate: str) -> bool:
            for other in self.posts.values():
                if other.id == post.id or other.slug != candidate or other.type != post.type:
                    continue
                if post.type == "page" and other.parent != post.parent:
                    continue
                return True
            return False

        if not taken(slug):
            return slug
        n = 2
        while taken(f"{slug}-{n}"):
            n += 1
        return f"{slug}-{n}"

    # -- posts -------------------------------------------------------------

    def save_post(self, post: Post, changes: dict[str, Any], now: datetime, *, creating: bool) -> Post:
        """Apply ``changes`` the way ``wp_insert_post`` does and store the result.

        ``changes`` holds already-validated values: title, content, excerpt, slug,
        status, date (aware datetime or None to reset), categories, tags, meta,
        featured_media, parent, menu_order, author, comment_status, ping_status,
        sticky, template, format.
        """
        draft = copy.deepcopy(post)
        for key in (
            "title",
            "content",
            "excerpt",
            "author",
            "featured_media",
            "parent",
            "menu_order",
            "comment_status",
            "ping_status",
            "sticky",
            "template",
            "format",
        ):
            if key in changes:
                setattr(draft, key, changes[key])
        if "status" in changes:
            draft.status = changes["status"]

        if "date" in changes:
            if changes["date"] is None:
                draft.date, draft.date_floating = now, True
            else:
                draft.date, draft.date_floating = changes["date"], False
        elif creating:
            draft.date, draft.date_floating = now, draft.status in _UNSLUGGED
        elif draft.date_floating:
            draft.date = now
        if draft.status not in _UNSLUGGED:
            draft.date_floating = False

        # The post date decides between publish and future, whatever was asked for.
        if draft.status == "publish" and draft.date > now:
            draft.status = "future"
        elif draft.status == "future" and draft.date <= now:
            draft.status = "publish"

        if draft.type == "post":
            if "categories" in changes:
                draft.categories = self._existing_terms(changes["categories"], "category")
            if "tags" in changes:
                draft.tags = self._existing_terms(changes["tags"], "post_tag")
            if not draft.categories:
                draft.categories = [self.default_category_id()]
        if "meta" in changes:
            draft.meta.update(changes["meta"])

        requested = changes.get("slug")
        if requested is not None:
            draft.slug = sanitize_title(requested)
        if not draft.slug and draft.status not in _UNSLUGGED:
            draft.slug = sanitize_title(draft.title) or str(draft.id)
        if draft.slug:
            draft.slug = self.unique_slug(draft.slug, draft)

        draft.modified = now
        self.posts[draft.id] = draft
        return draft

    def new_post(self, post_type: str, now: datetime) -> Post:
        return Post(
            id=self.allocate_post_id(),
            type=post_type,
            title="",
            content="",
            excerpt="",
            slug="",
            status="draft",
            date=now,
            modified=now,
        )

    def trash(self, post: Post, now: datetime) -> Post:
        post.meta["_wp_trash_meta_status"] = post.status
        post.status = "trash"
        if post.slug and not post.slug.endswith("__trashed"):
            post.slug += "__trashed"  # frees the slug for new content, as core does
        post.modified = now
        return post

    def delete(self, post: Post) -> None:
        self.posts.pop(post.id, None)

    def publish_due(self, now: datetime) -> list[int]:
        """What the ``publish_future_post`` cron event does once a post's date has passed."""
        published = []
        for post in sorted(self.posts.values(), key=lambda p: (p.date, p.id)):
            if post.status == "future" and post.date <= now:
                post.status = "publish"
                if post.slug:
                    post.slug = self.unique_slug(post.slug, post)
                published.append(post.id)
        return published

    # -- terms -------------------------------------------------------------

    def default_category_id(self) -> int:
        for term in self.terms.values():
            if term.taxonomy == "category" and term.slug == "uncategorized":
                return term.id
        return min((t.id for t in self.terms.values() if t.taxonomy == "category"), default=1)

    def _existing_terms(self, ids: Iterable[int], taxonomy: str) -> list[int]:
        # Unknown term IDs are skipped silently, like wp_set_object_terms does.
        out: list[int] = []
        for tid in ids:
            term = self.terms.get(tid)
            if term is not None and term.taxonomy == taxonomy and tid not in out:
                out.append(tid)
        return out

    def add_term(
        self, taxonomy: str, name: str, slug: str | None = None, description: str = "", parent: int = 0
    ) -> Term:
        name = name.strip()
        if not name:
            raise WPError("empty_term_name", "A name is required for this term.", 400)
        for term in self.terms_of(taxonomy):
            if term.name.lower() == name.lower() and term.parent == parent:
                message = (
                    "A term with the name provided already exists with this parent."
                    if taxonomy == "category"
                    else "A term with the name provided already exists in this taxonomy."
                )
                raise WPError("term_exists", message, 400, term_id=term.id)
        base = sanitize_title(slug or name) or str(self._next_term_id)
        candidate, n = base, 2
        while any(t.slug == candidate for t in self.terms_of(taxonomy)):
            candidate, n = f"{base}-{n}", n + 1
        term = Term(
            id=self._next_term_id, taxonomy=taxonomy, name=name, slug=candidate, description=description, parent=parent
        )
        self._next_term_id += 1
        self.terms[term.id] = term
        return term

    # -- media -------------------------------------------------------------

    def add_media(
        self,
        *,
        filename: str,
        mime_type: str,
        data: bytes,
        now: datetime,
        title: str | None = None,
        alt_text: str = "",
        caption: str = "",
        description: str = "",
        post: int | None = None,
    ) -> Media:
        stem, _, ext = filename.rpartition(".")
        stem = sanitize_title(stem) or "file"
        ext = ext.lower()
        folder = now.strftime("%Y/%m")
        taken = {m.file for m in self.media.values()}
        candidate, n = f"{folder}/{stem}.{ext}", 1
        while candidate in taken:  # wp_unique_filename: name-1.png, name-2.png, ...
            candidate, n = f"{folder}/{stem}-{n}.{ext}", n + 1
        width, height = image_size(data)
        media_id = self.allocate_post_id()
        slug_base = sanitize_title(title or stem) or str(media_id)
        slug, k = slug_base, 2
        while any(m.slug == slug for m in self.media.values()) or any(
            p.slug == slug and p.type == "page" for p in self.posts.values()
        ):
            slug, k = f"{slug_base}-{k}", k + 1
        item = Media(
            id=media_id,
            date=now,
            modified=now,
            slug=slug,
            title=title if title is not None else stem.replace("-", " ").strip() or stem,
            file=candidate,
            mime_type=mime_type,
            data=data,
            alt_text=alt_text,
            caption=caption,
            description=description,
            width=width,
            height=height,
            post=post,
        )
        self.media[item.id] = item
        return item


def _sanitize_text_field(value: str) -> str:
    """``sanitize_text_field`` as far as names go: no tags (nor script/style bodies), one line, trimmed."""
    value = re.sub(r"<(script|style)[^>]*?>.*?</\1>", "", value, flags=re.I | re.S)
    value = re.sub(r"<[^>]*>", "", value)
    return " ".join(value.split())


def image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height for PNG, GIF and JPEG, read from the headers only."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            i += 2 + max(length, 2)
    return None, None


def sniff_image(data: bytes) -> str | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    return None
