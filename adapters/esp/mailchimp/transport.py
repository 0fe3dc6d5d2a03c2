"""SDK calls for the Mailchimp adapter: connection slots, retries within the deadline, and what the SDK
returns or raises made into adapter errors.

The SDK is synchronous (requests): every call runs in a worker thread through `adapters.blocking`,
with what is left of the tool call's deadline as its timeout. Mailchimp allows 10 simultaneous
connections per account and answers the 11th with 429 and no Retry-After, so calls queue on a
semaphore of 10 per account, and a 429 (another process using the account) is retried with backoff
within the deadline; a 429 that names its wait (Retry-After) waits that long, or fails at once with
`RateLimited(retry_after)` when the wait would outlast the call. Reads and idempotent writes are retried
on 5xx and transport errors too; other writes never are: a lost or garbled answer becomes
`OutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Callable, Unpack

from ...blocking import blocking
from ...errors import AdapterError, ErrorContext, OutcomeUnknown, RateLimited, UpstreamUnavailable
from ...json_values import JsonObject, is_object
from ...retry import RetryPolicy, may_send_again, retry_after_seconds
from ...timing import SYSTEM_CLOCK, Clock, deadline_after
from .problems import error_for_status, problem_document
from .seam import sdk_error, sdk_seam
from .wire import MAX_CONNECTIONS, VENDOR

log = logging.getLogger(__name__)

SdkCall = Callable[[Any, float], object]
"""One SDK call: given the `mailchimp_marketing.Client` (untyped, so `Any`) and the timeout in seconds,
it returns what the SDK returned."""

_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = weakref.WeakKeyDictionary()


def connection_slots(account: str) -> asyncio.Semaphore:
    """The account's 10 connections, shared by every adapter of that account on this event loop."""
    per_loop = _SLOTS.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(account, asyncio.Semaphore(MAX_CONNECTIONS))


class _Transport(UpstreamUnavailable):
    """No HTTP answer. `maybe_sent`: whether the request may have reached Mailchimp."""

    def __init__(self, message: str, *, maybe_sent: bool):
        super().__init__(message, vendor=VENDOR)
        self.maybe_sent = maybe_sent


class _Answer(Exception):
    """A response the SDK returned instead of raising (an error without a body, or a body that is not JSON)."""

    def __init__(self, status: int, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.headers = headers


class WriteInDoubt(OutcomeUnknown):
    """A write whose answer was lost or garbled. `cause` says how, for the message of the read-back."""

    def __init__(self, message: str, *, cause: str, **kwargs: Unpack[ErrorContext]):
        super().__init__(message, **kwargs)
        self.cause = cause


def _transport(error: object) -> _Transport:
    import requests

    if isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError) and "refused" in str(error).lower()
    ):
        return _Transport(f"Mailchimp could not be reached ({type(error).__name__}).", maybe_sent=False)
    if isinstance(error, requests.Timeout):
        return _Transport("Mailchimp did not answer in time.", maybe_sent=True)
    return _Transport(f"The connection to Mailchimp broke ({type(error).__name__}).", maybe_sent=True)


class MailchimpTransport:
    """One Mailchimp account's SDK client and the calls made through it.

    `client` is a configured `mailchimp_marketing.Client`, or a function returning one (built on first use).
    """

    def __init__(
        self,
        client: Any,
        *,
        account: str,
        auth_hint: str,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        default_deadline: float = 60.0,
    ):
        is_factory = callable(client) and not hasattr(client, "api_client")
        self._factory: Callable[[], Any] | None = client if is_factory else None
        self._client: Any = None if is_factory else sdk_seam(client)
        self._client_lock = threading.Lock()
        self.account = account
        self._auth_hint = auth_hint
        self._clock = clock
        self._retry = RetryPolicy(max_attempts, backoff_base, rng or random.Random())
        self._default_deadline = default_deadline

    def _sdk(self) -> Any:
        with self._client_lock:
            if self._client is None:
                assert self._factory is not None
                self._client = sdk_seam(self._factory())
            return self._client

    async def _call(
        self,
        fn: SdkCall,
        *,
        missing: tuple[str, ...] | None = None,
        idempotent: bool = True,
        what: str = "",
    ) -> JsonObject:
        """One SDK call whose answer is a JSON object (see `_attempts`)."""
        body = await self._attempts(fn, missing, idempotent, True, what)
        assert body is not None  # `_run` refuses an answer without one
        return body

    async def _call_without_body(
        self,
        fn: SdkCall,
        *,
        missing: tuple[str, ...] | None = None,
        idempotent: bool = True,
        what: str = "",
    ) -> None:
        """One SDK call that Mailchimp answers with 204 and no body (actions, tags); anything else is garbage."""
        await self._attempts(fn, missing, idempotent, False, what)

    async def _attempts(
        self, fn: SdkCall, missing: tuple[str, ...] | None, idempotent: bool, expect_body: bool, what: str
    ) -> JsonObject | None:
        """One SDK call in a connection slot, retried while it may be and the deadline allows.

        A 429 is always retried (Mailchimp refused before doing anything), and so is a request that
        never left; reads and idempotent writes also on 5xx and lost answers. A write that may have
        happened raises OutcomeUnknown instead.
        """
        with deadline_after(self._default_deadline, self._clock) as deadline:
            attempt = 0
            while True:
                attempt += 1
                try:
                    async with connection_slots(self.account):
                        return await blocking(
                            lambda timeout: self._run(fn, timeout, expect_body),
                            vendor=VENDOR,
                            translate=lambda exc: self._translate(exc, missing),
                        )
                except (RateLimited, UpstreamUnavailable) as exc:
                    refused = isinstance(exc, RateLimited)  # Mailchimp refused before doing anything
                    unsent = isinstance(exc, _Transport) and not exc.maybe_sent
                    # `idempotent` calls are reads or writes that are safe to repeat; the others never are.
                    if not may_send_again(
                        refused=refused, never_sent=unsent, write=not idempotent, idempotent=idempotent
                    ):
                        raise WriteInDoubt(
                            f"Mailchimp's answer to {what or 'a write'} was lost or garbled "
                            f"({exc.message.rstrip('.')}); it may or may not have happened.",
                            cause=exc.message.rstrip("."),
                            vendor=VENDOR,
                        ) from None
                    # Waiting as told would outlast the call: the caller gets retry_after at once.
                    wait = self._retry.wait(attempt, deadline, exc.retry_after if refused else None)
                    if wait is None:
                        raise
                    log.info("Mailchimp: %s; retry %d in %.2f s", exc.message, attempt, wait)
                    await self._clock.sleep(wait)

    def _run(self, fn: SdkCall, timeout: float, expect_body: bool) -> JsonObject | None:
        """In the worker thread: the SDK call, with the answers it returns instead of raising made into errors."""
        import requests

        result = fn(self._sdk(), timeout)
        if isinstance(result, requests.Response):
            if not result.ok or expect_body or result.content.strip():
                raise _Answer(result.status_code, result.headers)
            return None
        if is_object(result):
            return result
        if expect_body or result is not None:
            raise _Answer(200)  # a body that is not a JSON object, where none or an object belongs
        return None

    def _translate(self, exc: Exception, missing: tuple[str, ...] | None) -> AdapterError:
        import requests

        failed = sdk_error(exc)
        if failed is not None:
            if failed.status is None:
                return _transport(failed.text)
            return self._by_status(
                failed.status, problem_document(failed.text), missing, retry_after_seconds(failed.headers)
            )
        if isinstance(exc, _Answer):
            if exc.status < 400:
                return UpstreamUnavailable(
                    f"Mailchimp answered HTTP {exc.status} with something that is not JSON.",
                    vendor=VENDOR,
                    status=exc.status,
                )
            return self._by_status(exc.status, {}, missing, retry_after_seconds(exc.headers))
        if isinstance(exc, requests.RequestException):
            return _transport(exc)
        log.error("the Mailchimp SDK failed", exc_info=exc)
        return AdapterError(
            f"The Mailchimp SDK failed ({type(exc).__name__}).",
            hint="This is a bug in the Mailchimp adapter; report it.",
            vendor=VENDOR,
        )

    def _by_status(
        self, status: int, problem: JsonObject, missing: tuple[str, ...] | None, retry_after: float | None = None
    ) -> AdapterError:
        return error_for_status(status, problem, missing, retry_after, account=self.account, auth_hint=self._auth_hint)
