"""What the Google adapters share: blocking SDK calls off the event loop, and one error translation.

google-analytics-data's REST transport (requests) and google-api-python-client (httplib2) are
synchronous; each call runs through `adapters.blocking`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from adapters.blocking import blocking as run_blocking
from adapters.errors import (
    AdapterError,
    AuthError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UpstreamUnavailable,
)
from adapters.json_values import JsonObject

T = TypeVar("T")


async def blocking(fn: Callable[[float], T], *, translate: Callable[[Exception], AdapterError]) -> T:
    """A blocking Google SDK call in a worker thread (see adapters.blocking)."""
    return await run_blocking(
        fn,
        translate=translate,
        vendor="Google",
        timeout_hint=("Try again with a smaller request (fewer rows or a shorter date range)."),
    )


def execute(request: Any) -> JsonObject:
    """A discovery request, sent again once if its kept-alive connection had been closed under it.

    httplib2 reuses connections; when the server has dropped an idle one, the write fails with a broken
    pipe or reset before Google sees the request. Every call made here is a read or an idempotent PUT.
    Discovery resources are built at run time from the API's document, so `request` has no static type;
    its answer is the parsed JSON body.
    """
    try:
        answer: JsonObject = request.execute(num_retries=0) or {}
    except (BrokenPipeError, ConnectionResetError):
        answer = request.execute(num_retries=0) or {}
    return answer


def by_status(
    status: int,
    message: str,
    *,
    vendor: str,
    auth_hint: str,
    retry_after: float | None = None,
    not_found_hint: str | None = None,
) -> AdapterError:
    """A Google error status (HTTP code) as an AdapterError."""
    if status == 401:
        return AuthError(f"{vendor} refused the credentials: {message}", hint=auth_hint, vendor=vendor, status=status)
    if status == 403:
        if "scope" in message.lower():
            return AuthError(
                f"{vendor}: {message}",
                hint=auth_hint + " (the grant lacks a scope this tool needs)",
                vendor=vendor,
                status=status,
            )
        return PermissionDenied(f"{vendor}: {message}", vendor=vendor, status=status)
    if status == 404:
        return NotFound(f"{vendor}: {message}", vendor=vendor, status=status, hint=not_found_hint or None)
    if status == 429:
        return RateLimited(
            f"{vendor} quota exhausted: {message}", retry_after=retry_after, vendor=vendor, status=status
        )
    if 400 <= status < 500:
        return InvalidRequest(f"{vendor} rejected the request: {message}", vendor=vendor, status=status)
    return UpstreamUnavailable(f"{vendor} failed (HTTP {status}): {message}", vendor=vendor, status=status)


def discovery_error(exc: Exception, *, vendor: str, auth_hint: str) -> AdapterError:
    """googleapiclient's HttpError (and transport failures) as AdapterErrors."""
    from googleapiclient.errors import HttpError  # pyright: ignore[reportMissingTypeStubs]  # the client ships no stubs

    if isinstance(exc, HttpError):
        status = int(exc.resp.status)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]  # an httplib2.Response, unannotated
        return by_status(
            status,
            google_message(exc.content),
            vendor=vendor,
            auth_hint=auth_hint,
            retry_after=60.0 if status == 429 else None,
        )
    return by_status(502, f"{type(exc).__name__} talking to Google", vendor=vendor, auth_hint=auth_hint)


def google_message(body: bytes | str | None) -> str:
    """The `error.message` of a Google JSON error body, short; never the raw body."""
    try:
        data = json.loads(body or b"")
        message = str(data["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return "no readable error message"
    return re.sub(r"\s+", " ", message)[:300]


def closest(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    valid = list(valid)
    by_case = {v.lower(): v for v in valid}
    return [by_case[m] for m in difflib.get_close_matches(name.lower(), list(by_case), n=n, cutoff=0.5)]


def unknown_names(kind: str, names: Iterable[str], valid: Iterable[str]) -> InvalidRequest | None:
    """An error listing each unknown name with its closest valid names, or None."""
    valid = set(valid)
    problems: list[str] = []
    for name in names:
        if name not in valid:
            near = closest(name, valid)
            problems.append(f"'{name}'" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    if not problems:
        return None
    return InvalidRequest(
        f"Unknown {kind} {'; '.join(problems)}.", hint=f"Call get_metadata for the valid {kind} names of this property."
    )


def raise_unknown(*errors: InvalidRequest | None) -> None:
    found = [e for e in errors if e is not None]
    if found:
        raise InvalidRequest(" ".join(e.message for e in found), hint=found[0].hint)


def to_number(value: Any) -> float | int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
