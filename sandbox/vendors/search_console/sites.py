"""The account's Search Console properties as a request sees the sandbox, and which URLs belong to them.

The URL-prefix property is ``{base}/`` (base = the sandbox URL as the request reached it), the domain
property ``sc-domain:{host}``; both hold the same data.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from ..google.errors import GoogleError

PERMISSION_HELP = "See also: https://support.google.com/webmasters/answer/2451999."


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def sites(request: Request) -> dict[str, str]:
    """The account's Search Console properties as this request sees the sandbox: siteUrl -> kind."""
    return {base_url(request) + "/": "url", f"sc-domain:{request.url.hostname}": "domain"}


def site_kind(request: Request, site_url: str, legacy: bool = True) -> str:
    kind = sites(request).get(site_url)
    if kind is None:
        raise GoogleError(
            403,
            f"User does not have sufficient permission for site '{site_url}'. {PERMISSION_HELP}",
            legacy=legacy,
            legacy_reason="forbidden",
        )
    return kind


def path_in_property(request: Request, site_url: str, kind: str, url: str) -> str | None:
    """The sandbox path of ``url`` when it belongs to the property, else None."""
    if kind == "url":
        if not url.startswith(site_url):
            return None
        return "/" + url[len(site_url) :]
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.hostname != request.url.hostname:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
