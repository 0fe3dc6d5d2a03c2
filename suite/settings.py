"""Each server's `settings` in mcp.json (one model per server; the registry names which is whose)."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from adapters.cms.webflow_fields import WebflowFieldMap

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Model(BaseModel):
    # `$comment` keys document the file in place; anything else unknown is a typo to report.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    comment: str | list[str] | None = Field(default=None, alias="$comment")


class WordPressSettings(_Model):
    site_url: HttpUrl
    username: Annotated[str, Field(min_length=1, max_length=60)] | None = Field(
        default=None, description="The WordPress user; `auth set wordpress` uses it when --username is not given."
    )


class WebflowSettings(_Model):
    site_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = Field(
        default=None, description="Optional when the token can see exactly one site."
    )
    collection: Annotated[str, Field(min_length=1, description="Collection ID or slug, e.g. 'blog-posts'.")]
    api_base: HttpUrl = HttpUrl("https://api.webflow.com/v2/")
    live_url: HttpUrl | None = Field(default=None, description="Public site address, when not the first custom domain.")
    fields: WebflowFieldMap = WebflowFieldMap()


class GA4Settings(_Model):
    properties: dict[Name, Annotated[str, Field(pattern=r"^(properties/)?\d+$")]] = Field(
        default_factory=dict, description='Names for the client\'s properties, e.g. {"web": "123456789"}.'
    )
    api_base: HttpUrl | None = Field(
        default=None, description="Stand-in for Google's Data and Admin API hosts (the sandbox)."
    )


class SearchConsoleSettings(_Model):
    sites: list[Annotated[str, Field(pattern=r"^(sc-domain:[^/\s]+|https?://\S+/)$")]] = Field(
        default_factory=list, description="Properties: 'sc-domain:example.com' or 'https://www.example.com/'."
    )
    api_base: HttpUrl | None = Field(default=None, description="Stand-in for Google's API host (the sandbox).")


def _host_entry(entry: str) -> str:
    from adapters.web.safety import parse_host_entry

    parse_host_entry(entry)  # ValueError -> a validation error naming the entry
    return entry


class PageAnalysisSettings(_Model):
    allowed_hosts: list[Annotated[str, Field(min_length=1, max_length=260), AfterValidator(_host_entry)]] = Field(
        default_factory=list,
        description="Hosts that may be reached although they are private or loopback "
        "addresses (an intranet, a local site, the sandbox): 'host' allows "
        "every port, 'host:port' (or '[v6]:port') that port only.",
    )
    allow_private: bool = Field(default=False, description="Allow every private address (only for a trusted network).")
    chromium: str | None = Field(default=None, description="Path to Chromium; found automatically when omitted.")
    pages: Annotated[int, Field(ge=1, le=16)] = Field(default=4, description="Browser pages kept for reuse.")
    page_timeout: Annotated[float, Field(gt=1, le=120)] = 15.0
    max_links: Annotated[int, Field(ge=1, le=1000)] = 200
    link_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0


class MailchimpSettings(_Model):
    api_base: HttpUrl | None = Field(
        default=None,
        description="Stand-in for https://<dc>.api.mailchimp.com/3.0 (the "
        "sandbox); the data center comes from the credential.",
    )


class CustomerIOSettings(_Model):
    region: Literal["us", "eu"] = Field(default="us", description="Where the workspace's data lives.")
    app_api_base: HttpUrl | None = Field(
        default=None, description="Stand-in for the App API (https://api.customer.io/v1)."
    )
    track_api_base: HttpUrl | None = Field(
        default=None, description="Stand-in for the Track API (https://track.customer.io/api)."
    )
