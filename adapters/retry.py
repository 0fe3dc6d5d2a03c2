"""One retry policy and one status-to-error map for every vendor, over HTTP or through an SDK.

- `RetryPolicy.wait` says how long to wait before sending again, or that the call stops now: the
  vendor's Retry-After when it names one (never sooner), otherwise exponential backoff with
  jitter; and only while attempts remain and the wait ends before the call's deadline. A wait
  that would outlast the deadline fails at once, so the caller gets `retry_after` rather than a hang.
- `may_send_again` says whether a failed attempt may be repeated at all: a refusal (429) and a
  request that never left always may; a read may; a write that may have been applied only when it
  is idempotent, and then once; a non-idempotent write never is repeated blindly.
- `error_class` maps an HTTP status to the `AdapterError` the servers translate for the model.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import (
    AdapterError,
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UpstreamUnavailable,
)
from .timing import Deadline

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

STATUS_CLASSES: Mapping[int, type[AdapterError]] = {
    400: InvalidRequest,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    405: InvalidRequest,
    409: Conflict,
    410: NotFound,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}


def error_class(status: int) -> type[AdapterError]:
    """The error an HTTP error status means when the vendor's body says nothing more specific."""
    return STATUS_CLASSES.get(status) or (UpstreamUnavailable if status >= 500 else InvalidRequest)


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


def may_send_again(
    *, refused: bool = False, never_sent: bool = False, write: bool, idempotent: bool, sent_before: bool = False
) -> bool:
    """Whether a failed attempt may be sent again.

    `refused`: the vendor turned it away before doing anything (429). `never_sent`: it never left
    (connect error). `sent_before`: an earlier attempt of this write may already have been applied.
    """
    if refused or never_sent or not write:
        return True
    return idempotent and not sent_before


@dataclass
class RetryPolicy:
    """At most `max_attempts` sends, waits of `backoff_base * 2**(attempt-1)` with jitter, inside the deadline."""

    max_attempts: int = 4
    backoff_base: float = 0.5
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        # Half fixed, half random: retries of many callers spread out, and each still waits long
        # enough for a busy vendor (Mailchimp's 10 connections) to free up.
        return self.backoff_base * 2 ** (attempt - 1) * (0.5 + self.rng.random() / 2)

    def wait(self, attempt: int, deadline: Deadline, retry_after: float | None = None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None: stop now and report the failure."""
        wait = retry_after if retry_after is not None else self.backoff(attempt)
        if attempt < self.max_attempts and wait < deadline.remaining():
            return wait
        return None
