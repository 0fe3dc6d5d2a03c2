"""The CMS interface: one Protocol and the models every CMS adapter speaks.

WordPress and Webflow keep content very differently; these models are the common ground a
marketer cares about. What a site cannot do is declared in `capabilities`, never discovered
through a NotImplementedError.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, PrivateAttr

Kind = Literal["post", "page"]
Status = Literal["draft", "scheduled", "published", "pending", "private", "trash"]

TITLE_MAX = 300
META_MAX = 1000
BODY_MAX = 200_000
BODY_PREVIEW = 8_000  # characters of body a read returns; the rest is cut with a note

# Capabilities an adapter may declare.
CAP_POSTS = "posts"
CAP_PAGES = "pages"
CAP_SCHEDULE = "schedule"
CAP_UNPUBLISH = "unpublish"
CAP_SEO_TITLE = "seo_title"
CAP_META_DESCRIPTION = "meta_description"
CAP_EXCERPT = "excerpt"
CAP_TERMS = "terms"
CAP_MEDIA = "media_upload"
CAP_FEATURED_IMAGE = "featured_image"

# Which capability a writable field needs.
FIELD_CAPABILITY = {
    "seo_title": CAP_SEO_TITLE,
    "meta_description": CAP_META_DESCRIPTION,
    "excerpt": CAP_EXCERPT,
    "categories": CAP_TERMS,
    "tags": CAP_TERMS,
    "featured_media_id": CAP_FEATURED_IMAGE,
}


class Term(BaseModel):
    id: str
    name: str
    slug: str
    taxonomy: Literal["category", "tag"]
    count: int | None = None


class Post(BaseModel):
    """A post or page as the CMS holds it now."""

    id: str
    kind: Kind
    status: Status
    title: str
    slug: str
    url: str | None = Field(default=None, description="Public address (only meaningful once published).")
    excerpt: str = ""
    body: str = Field(default="", description="HTML body, cut to a preview when long (see body_truncated).")
    body_truncated: bool = False
    seo_title: str | None = None
    meta_description: str | None = None
    categories: list[str] = Field(default_factory=list, description="Category names.")
    tags: list[str] = Field(default_factory=list, description="Tag names.")
    featured_media_id: str | None = None
    modified: datetime | None = None
    published_at: datetime | None = None
    scheduled_for: datetime | None = None
    # How a write whose answer was lost was confirmed (the post read back); not part of the post itself.
    _confirmed: str = PrivateAttr("")

    def mark_confirmed(self, how: str) -> "Post":
        self._confirmed = how
        return self

    def how_confirmed(self) -> str:
        return self._confirmed


def confirmed(post: Post, how: str) -> Post:
    """Mark `post` as the state read back after the vendor's answer to a write was lost."""
    return post.mark_confirmed(how)


def how_confirmed(post: Post | None) -> str:
    """Empty when the vendor answered the write itself; else what was lost and what the read-back showed."""
    return post.how_confirmed() if post is not None else ""


class PostSummary(BaseModel):
    id: str
    kind: Kind
    status: Status
    title: str
    slug: str
    url: str | None = None
    modified: datetime | None = None


class PostPage(BaseModel):
    items: list[PostSummary]
    total: int | None = Field(default=None, description="Matching items in all pages, when the CMS reports it.")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page; null when done.")


# Field types shared by PostFields and the tool signatures, so both validate alike.
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Body = Annotated[str, Field(max_length=BODY_MAX, description="HTML body.")]
Slug = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="URL slug: lowercase words joined by hyphens.",
    ),
]
Excerpt = Annotated[str, Field(max_length=META_MAX)]
SeoTitle = Annotated[str, Field(max_length=TITLE_MAX, description="<title> for search results (~60 chars).")]
MetaDescription = Annotated[str, Field(max_length=META_MAX, description="Search snippet (~155 chars).")]
TermNames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(max_length=50, description="Names; missing ones are created."),
]
MediaRef = Annotated[
    str,
    Field(
        max_length=2000,
        description="Media ID from upload_media (WordPress) or a public image URL (Webflow); empty string removes it.",
    ),
]


class PostFields(BaseModel):
    """Fields to set. Unset fields are left as they are."""

    title: Title | None = None
    body: Body | None = None
    slug: Slug | None = None
    excerpt: Excerpt | None = None
    seo_title: SeoTitle | None = None
    meta_description: MetaDescription | None = None
    categories: TermNames | None = None
    tags: TermNames | None = None
    featured_media_id: MediaRef | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Taxonomy(BaseModel):
    name: Literal["category", "tag"]
    terms: list[Term]
    total: int | None = None


class Media(BaseModel):
    id: str
    url: str
    mime_type: str
    size: int | None = None
    alt_text: str = ""


class SiteInfo(BaseModel):
    vendor: str
    name: str
    url: str
    capabilities: list[str]
    seo_fields: str = Field(
        description="Where SEO title and meta description are stored, or why they are not writable."
    )
    notes: list[str] = Field(default_factory=list)


class CMS(Protocol):
    """What the CMS tool set needs from a content management system."""

    vendor: str

    async def capabilities(self) -> frozenset[str]: ...

    async def site_info(self) -> SiteInfo: ...

    async def list_posts(
        self, kind: Kind, *, status: Status | None, search: str | None, cursor: str | None, limit: int
    ) -> PostPage: ...

    async def get_post(self, post_id: str, kind: Kind) -> Post: ...

    async def create_draft(self, kind: Kind, fields: PostFields) -> Post: ...

    async def update_post(self, post_id: str, kind: Kind, fields: PostFields) -> Post: ...

    async def publish(self, post_id: str, kind: Kind) -> Post: ...

    async def schedule(self, post_id: str, kind: Kind, when: datetime) -> Post: ...

    async def unpublish(self, post_id: str, kind: Kind) -> Post: ...

    async def list_taxonomies(self, search: str | None, limit: int) -> list[Taxonomy]: ...

    async def upload_media(self, filename: str, content: bytes, mime_type: str, alt_text: str) -> Media: ...

    async def aclose(self) -> None: ...
