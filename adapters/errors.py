"""The adapter error tree.

Every vendor or transport failure is translated into one of these inside the adapter
(first translation); `servers._app` turns them into tool errors (second translation).
Messages are written for the person or model that has to act on them and never carry
tokens, passwords or raw response bodies.
"""

from __future__ import annotations

from typing import TypedDict, Unpack


class ErrorContext(TypedDict, total=False):
    """The keyword arguments every adapter error takes besides its message."""

    hint: str | None
    vendor: str
    status: int | None


class ErrorDetails(ErrorContext, total=False):
    retry_after: float | None


class AdapterError(Exception):
    """Base class. `hint` says what to do next; `code` is what clients match on, never the class name."""

    code = "error"  # the stable name clients see (`_meta` type); subclasses name their own
    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        vendor: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.status = status
        self.retry_after = retry_after  # seconds the vendor asked us to wait (Retry-After), when it said
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class AuthError(AdapterError):
    """Credentials missing, wrong, expired or revoked."""

    code = "auth_error"
    hint = "Check the client's credentials for this vendor."


class PermissionDenied(AdapterError):
    """Authenticated, but not allowed to do this."""

    code = "permission_denied"
    hint = "Grant the account the needed role or scope, or use another account."


class NotFound(AdapterError):
    """The object does not exist (or this account cannot see it)."""

    code = "not_found"
    hint = "List the objects first to get a valid ID."


class InvalidRequest(AdapterError):
    """The vendor rejected the request's content; sending it again will not help."""

    code = "invalid_request"
    hint = "Fix the arguments named in the message and try again."


class Conflict(InvalidRequest):
    """The request collides with existing state (duplicate slug, stale write, ...)."""

    code = "conflict"


class Unsupported(InvalidRequest):
    """The vendor or this site cannot do this (see the adapter's capabilities)."""

    code = "unsupported"
    hint = "Call site_info to see what this site supports."


class RateLimited(AdapterError):
    """A budget (ours or the vendor's) is spent. `retry_after` is in seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Unpack[ErrorContext]):
        super().__init__(message, retry_after=retry_after, **kwargs)
        if "hint" not in kwargs:
            wait = f"in {retry_after:.0f} s" if retry_after is not None else "later"
            self.hint = f"Try again {wait}; do not retry in a loop."


class UpstreamUnavailable(AdapterError):
    """The vendor failed, timed out, dropped the connection or sent garbage."""

    code = "upstream_unavailable"
    hint = "The vendor is having trouble; try again in a minute."


class OutcomeUnknown(UpstreamUnavailable):
    """A write was sent but its response was lost, and we could not confirm whether it happened."""

    code = "outcome_unknown"
    hint = "List or get the object before trying again, so the change is not made twice."


class LostAnswer(OutcomeUnknown):
    """A write reached (or may have reached) the vendor and its answer was lost.

    `may_still_apply` is set when the request timed out: the vendor may still be working on it,
    so a read that does not show it yet proves nothing.
    """

    def __init__(self, message: str, *, cause: str, may_still_apply: bool, **kwargs: Unpack[ErrorDetails]):
        super().__init__(message, **kwargs)
        self.cause = cause
        self.may_still_apply = may_still_apply


class NotApplied(UpstreamUnavailable):
    """A write whose answer was lost did not happen: the vendor's state, read back, shows it unchanged."""

    code = "not_applied"
    hint = "Nothing was changed; it is safe to try again."
