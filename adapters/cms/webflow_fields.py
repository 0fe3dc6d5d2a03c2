"""How a Webflow collection's fields map to ours. Kept apart from the adapter so mcp.json can be
validated without importing the HTTP stack."""

from pydantic import BaseModel, ConfigDict


class WebflowFieldMap(BaseModel):
    """Which collection field (by slug) holds each of our fields; None when the collection has none.

    The defaults are the field slugs of Webflow's blog template.
    """

    model_config = ConfigDict(extra="forbid")

    title: str = "name"
    slug: str = "slug"
    body: str | None = "post-body"
    excerpt: str | None = "post-summary"
    featured_image: str | None = "main-image"
    seo_title: str | None = None
    meta_description: str | None = None
