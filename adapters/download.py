"""Fetching a file a tool was pointed at (an image to upload), size-capped and time-boxed."""

from __future__ import annotations

import httpx

from .errors import InvalidRequest, UpstreamUnavailable
from .http import USER_AGENT
from .timing import current_deadline


async def download(url: str, max_bytes: int) -> tuple[bytes, str]:
    """The body and its declared content type; refuses bodies over `max_bytes` without reading them all."""
    deadline = current_deadline()
    timeout = min(30.0, deadline.remaining()) if deadline else 30.0
    try:
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, max_redirects=5, headers={"User-Agent": USER_AGENT}
        ) as http:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise InvalidRequest(
                        f"Fetching {url} answered HTTP {response.status_code}.",
                        hint="Check the URL is public, or pass content_base64.",
                    )
                declared = int(response.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise InvalidRequest(f"{url} is {declared} bytes; the limit is {max_bytes}.")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise InvalidRequest(f"{url} is larger than the limit of {max_bytes} bytes.")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type", "").split(";")[0]
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(
            f"Could not fetch {url} ({type(exc).__name__}).", hint="Check the URL, or pass content_base64."
        ) from None
