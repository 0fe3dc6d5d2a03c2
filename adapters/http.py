"""One HTTP client per upstream service: retries, budgets, deadlines and error mapping.

Retry rules:
- reads (GET, HEAD, OPTIONS) are retried on transport errors, 429 and 5xx, with exponential
  backoff and jitter (the policy and the status-to-error map are `adapters.retry`'s, shared with
  the SDK-based adapters);
- any request is retried when it never left (connect error or timeout, no pooled connection)
  and on a 429: the vendor refused it before doing anything;
- Retry-After is honoured only when the wait fits in the call's deadline, otherwise the call
  fails at once with `RateLimited(retry_after)`; nothing is sent again sooner than it says;
- a write that may have reached the vendor (its answer was lost, or a 5xx) is never called
  unreachable: it is `OutcomeUnknown` (`LostAnswer` for a lost answer). An idempotent one is
  sent at most once more; `apply()` reads the object back instead and reports the write done,
  not done (`NotApplied`) or unknown; `create()` looks for the object before sending again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import httpx

from .errors import (
    AdapterError,
    AuthError,
    InvalidRequest,
    LostAnswer,
    NotApplied,
    OutcomeUnknown,
    RateLimited,
    UpstreamUnavailable,
)
from .ratelimit import RateLimiter, spend_all
from .retry import (
    RETRYABLE_STATUS,
    RetryPolicy,
    error_class,
    may_send_again,
    retry_after_seconds,
)
from .timing import SYSTEM_CLOCK, Clock, Deadline, current_deadline

log = logging.getLogger(__name__)

USER_AGENT = "marketing-mcp/0.1 (+https://github.com/marketing-mcp/marketing-mcp)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures that prove the request never reached the vendor; any other transport error after
# sending may have been applied.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
WRITE_TIMEOUT_SHARE = 0.5  # a write waits at most this share of the deadline, leaving time to read it back
_MESSAGE_CAP = 300

T = TypeVar("T")


@dataclass
class Applied(Generic[T]):
    """How `apply()` knows a write happened: the vendor's answer, or its state read back after the answer was lost."""

    response: httpx.Response | None = None
    state: T | None = None
    how: str = ""  # set when the state was read back: what was lost and what the read showed


ErrorParser = Callable[[httpx.Response], tuple[str, str]]
"""Reads a vendor error body into (vendor error code, human message)."""

Classifier = Callable[[int, str], type[AdapterError] | None]
"""Maps (status, vendor code) to an error class where the status alone would mislead."""


@dataclass(frozen=True)
class Upstream:
    """Who we are talking to, for error messages that say which client and site failed."""

    vendor: str  # "WordPress"
    where: str  # "https://acme.com (client 'acme')"
    auth_hint: str  # what to do when the vendor rejects the credentials


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The error response's JSON object, or {} when it is not one (HTML error pages, garbage)."""
    try:
        body: object = response.json()
    except ValueError:
        return {}
    return cast("dict[str, Any]", body) if isinstance(body, dict) else {}


def default_error_parser(response: httpx.Response) -> tuple[str, str]:
    body = error_body(response)
    code = body.get("code") or body.get("error") or ""
    message = body.get("message") or body.get("error_description") or ""
    return str(code)[:80], str(message)


def _done(limiters: Iterable[RateLimiter]) -> None:
    for limiter in limiters:
        limiter.done()


class HttpService:
    """The one `httpx.AsyncClient` of an upstream service, with its rules."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        base_url: str,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        limiter: RateLimiter | None = None,
        parse_error: ErrorParser = default_error_parser,
        classify: Classifier | None = None,
        timeout: float = 20.0,
        default_deadline: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ):
        self.upstream = upstream
        self.limiter = limiter
        self._parse_error = parse_error
        self._classify = classify
        self._timeout = timeout
        self._default_deadline = default_deadline
        self._retry = RetryPolicy(max_attempts, backoff_base, rng or random.Random())
        self._clock = clock
        self.client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            # A redirect would silently turn a POST into a GET; report it instead.
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- requests ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        budgets: Iterable[RateLimiter] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries under the current deadline; return a 2xx response or raise."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        write = method not in READ_METHODS
        deadline = current_deadline() or Deadline(self._clock.monotonic() + self._default_deadline, self._clock)
        limiters = [b for b in (self.limiter, *budgets) if b is not None]
        attempt = 0
        lost: LostAnswer | OutcomeUnknown | None = None  # an earlier send of this write that may have been applied
        while True:
            attempt += 1
            await spend_all(limiters)
            remaining = deadline.remaining()
            if remaining <= 0:
                _done(limiters)  # nothing was sent
                if lost is not None:
                    raise lost
                raise UpstreamUnavailable(
                    f"{self.upstream.vendor} at {self.upstream.where} did not answer before the deadline.",
                    vendor=self.upstream.vendor,
                )
            timeout = min(self._timeout, remaining * (WRITE_TIMEOUT_SHARE if write else 1.0))
            try:
                response = await self._send(limiters, method, url, timeout=timeout, **kwargs)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, NEVER_SENT)
                if write and not never_sent:
                    sent_before = lost is not None
                    lost = self._lost(method, exc, attempt)
                    # An idempotent write may go once more; more would repeat it blindly.
                    if not may_send_again(write=write, idempotent=idempotent, sent_before=sent_before):
                        raise lost from None
                wait = self._retry.wait(attempt, deadline)
                if wait is not None:
                    log.info("%s %s: %s, retry %d in %.2f s", method, url, type(exc).__name__, attempt, wait)
                    await self._clock.sleep(wait)
                    continue
                if lost is not None:
                    raise lost from None
                raise UpstreamUnavailable(
                    f"{self.upstream.vendor} at {self.upstream.where} could not be reached "
                    f"({type(exc).__name__} after {attempt} attempt{'s' * (attempt > 1)}).",
                    vendor=self.upstream.vendor,
                ) from None

            status = response.status_code
            if status < 300:
                return response
            refusal = status == 429 or self._known_refusal(response)
            if status in RETRYABLE_STATUS and may_send_again(
                refused=status == 429, write=write, idempotent=idempotent, sent_before=lost is not None
            ):
                wait = self._retry.wait(attempt, deadline, retry_after_seconds(response.headers))
                if wait is not None:
                    if write and not refusal:
                        lost = self._failed_write(method, response)
                    log.info("%s %s: HTTP %d, retry %d in %.2f s", method, url, status, attempt, wait)
                    await response.aclose()
                    await self._clock.sleep(wait)
                    continue
            if write and status >= 500 and not refusal:
                raise self._failed_write(method, response)
            if lost is not None and status == 429:
                raise lost  # the earlier send may have been applied; the refusal of this one says nothing
            raise self.error_for(response)

    async def _send(self, limiters: list[RateLimiter], method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; its limiters hear when it is over, whichever way it ends."""
        try:
            return await self.client.request(method, url, **kwargs)
        finally:
            _done(limiters)

    async def apply(
        self,
        method: str,
        url: str,
        *,
        read_back: Callable[[], Awaitable[T]],
        done: Callable[[T], bool],
        what: str,
        check: str,
        **kwargs: Any,
    ) -> Applied[T]:
        """Send an idempotent write and know its outcome, never repeating it blindly.

        When the answer is lost (or a 5xx came back), `read_back` reads the object and `done`
        says whether it shows the write. Shown: done. Not shown: the write is sent once more
        (repeating it is harmless), then read back again. Still not shown: `NotApplied`, or
        `OutcomeUnknown` when a send timed out (the vendor may still apply it) or the object
        could not be read. `what` names the write ("publishing post 12"), `check` what to look
        at before trying again ("get_post 12").
        """
        vendor = self.upstream.vendor
        losses: list[OutcomeUnknown] = []
        for _ in range(2):
            try:
                return Applied(response=await self.request(method, url, idempotent=False, **kwargs))
            except OutcomeUnknown as exc:
                losses.append(exc)
            except (UpstreamUnavailable, RateLimited):
                if not losses:
                    raise
                break  # the second send never went: the read before it stands
            causes = _causes(losses)
            try:
                state = await read_back()
            except AdapterError as exc:
                raise OutcomeUnknown(
                    f"{vendor}'s answer to {what} was lost ({causes}) and reading it back failed "
                    f"({type(exc).__name__}); it may or may not have been applied.",
                    hint=f"Check {check} before trying again, so it is not done twice.",
                    vendor=vendor,
                ) from None
            if done(state):
                how = f"{vendor}'s answer was lost ({causes}); reading it back shows it done."
                log.info("%s %s: %s", method, url, how)
                return Applied(state=state, how=how)
            log.info("%s %s: answer lost (%s) and not applied", method, url, causes)
        causes = _causes(losses)
        if any(getattr(exc, "may_still_apply", False) for exc in losses):
            raise OutcomeUnknown(
                f"{what.capitalize()} is not done yet: {vendor} did not answer in time ({causes}) and reading it "
                f"back shows no change, but {vendor} may still apply the request it received.",
                hint=f"Check {check} in a minute; send it again only if it still shows no change.",
                vendor=vendor,
            )
        raise NotApplied(
            f"{what.capitalize()} did not happen: the connection to {vendor} broke ({causes}) and reading it back "
            "shows no change.",
            vendor=vendor,
        )

    async def create(
        self,
        method: str,
        url: str,
        *,
        find_existing: Callable[[], Awaitable[dict[str, Any] | None]],
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send a non-idempotent create exactly once in effect.

        When the response is lost, `find_existing` looks for the object the request would
        have made; only when it is not there is the request sent a second time.
        """
        try:
            return self.json(await self.request(method, url, idempotent=False, **kwargs))
        except OutcomeUnknown as lost:
            try:
                found = await find_existing()
            except AdapterError:
                raise lost from None
            if found is not None:
                log.info("%s %s: response lost, but the object exists; not re-sending", method, url)
                return found
            if isinstance(lost, LostAnswer) and lost.may_still_apply:
                # Timed out: the vendor may still make it, and a second create would make two.
                raise OutcomeUnknown(
                    f"{self.upstream.vendor} did not answer a create in time ({lost.cause}) and the object is not "
                    f"there yet, but {self.upstream.vendor} may still make it from the request it received.",
                    hint="List the objects again in a minute; create it only if it is still missing.",
                    vendor=self.upstream.vendor,
                ) from None
            log.info("%s %s: response lost and no object found; sending once more", method, url)
            return self.json(await self.request(method, url, idempotent=False, **kwargs))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.json(await self.request("GET", url, **kwargs))

    # -- helpers ----------------------------------------------------------------------------

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise UpstreamUnavailable(
                f"{self.upstream.vendor} at {self.upstream.where} sent a response that is not valid JSON "
                f"(HTTP {response.status_code}, {response.headers.get('content-type', 'no content type')}).",
                vendor=self.upstream.vendor,
                status=response.status_code,
            ) from None

    def error_for(self, response: httpx.Response) -> AdapterError:
        status = response.status_code
        code, message = self._parse_error(response)
        message = " ".join(message.split())[:_MESSAGE_CAP] or response.reason_phrase or "error"
        cls = (self._classify(status, code) if self._classify else None) or error_class(status)
        where = f"{self.upstream.vendor} at {self.upstream.where}"
        detail = f"HTTP {status}" + (f", {code}" if code else "")
        if 300 <= status < 400:
            target = response.headers.get("location", "another address")
            return InvalidRequest(
                f"{where} redirected to {target}.",
                hint="Set the site URL in mcp.json to the final address (https, with or without www).",
                vendor=self.upstream.vendor,
                status=status,
            )
        kwargs: dict[str, Any] = {"vendor": self.upstream.vendor, "status": status}
        if cls is AuthError:
            kwargs["hint"] = self.upstream.auth_hint
        if issubclass(cls, RateLimited):
            return cls(
                f"{where} is rate limiting: {message} ({detail}).",
                retry_after=retry_after_seconds(response.headers),
                **kwargs,
            )
        if status >= 500:  # a 503 may say when to come back; the caller gets that rather than a guess
            kwargs["retry_after"] = retry_after_seconds(response.headers)
        return cls(f"{where} refused: {message} ({detail}).", **kwargs)

    def _lost(self, method: str, exc: httpx.TransportError, attempt: int) -> LostAnswer:
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = "did not answer in time" if timed_out else "the connection broke"
        return LostAnswer(
            f"{self.upstream.vendor} at {self.upstream.where} received a {method} and {what} "
            f"({type(exc).__name__}, send {attempt}); it may or may not have been applied.",
            cause=type(exc).__name__,
            may_still_apply=timed_out,
            vendor=self.upstream.vendor,
        )

    def _failed_write(self, method: str, response: httpx.Response) -> OutcomeUnknown:
        status = response.status_code
        return OutcomeUnknown(
            f"{self.upstream.vendor} at {self.upstream.where} answered HTTP {status} to a {method}; "
            "it may or may not have been applied.",
            vendor=self.upstream.vendor,
            status=status,
        )

    def _known_refusal(self, response: httpx.Response) -> bool:
        """Whether the adapter recognises this 5xx as a refusal (nothing was done), not a failure."""
        return bool(self._classify and self._classify(response.status_code, self._parse_error(response)[0]))


def _causes(losses: list[OutcomeUnknown]) -> str:
    names = [getattr(e, "cause", None) or (f"HTTP {e.status}" if e.status else type(e).__name__) for e in losses]
    return ", then ".join(names)
