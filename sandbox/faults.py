"""Fault injection for any vendor route.

A rule matches on HTTP method (or any) and an ``fnmatch`` glob over the path.
WordPress requests made as ``/?rest_route=/wp/v2/...`` are matched as
``/wp-json/wp/v2/...`` so one rule covers both URL forms.

Kinds:

``status``      answer with ``status`` (vendor-shaped error body, ``Retry-After`` if ``retry_after``)
``latency``     wait ``delay`` seconds, then handle normally
``malformed``   200, ``application/json``, a body that is not valid JSON
``drop``        send headers announcing a body, then close the connection: a transport error
``drop_after``  apply the request to the world, then drop as above (a lost response to a write)
``malformed_after``  apply the request to the world, then answer as ``malformed`` (a garbled answer to a write)
``late``        read the request, hold it ``delay`` seconds, then apply it to the world whether or not
                the client still waits: a client whose timeout is shorter gives up first, and the
                write lands after it did (``applied`` counts the requests applied so far)
``rate_limit``  token bucket of ``burst`` tokens refilled at ``rate``/s; beyond it, 429 + Retry-After

``times`` limits how often a rule fires (None = forever); ``hits`` counts firings, ``seen``
matching requests while the rule is active. ``FaultSet.received(method, path)`` counts every
request that reached the vendor routes, faulted or not (how often a write was really sent).
"""

from __future__ import annotations

import collections
import fnmatch
import itertools
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable
from urllib.parse import parse_qs

from .ratelimit import TokenBucket
from .vendors.google.errors import error_body as google_error_body
from .vendors.google.errors import is_google_path
from .vendors.mailchimp.errors import problem as mailchimp_problem

KINDS = ("status", "latency", "malformed", "drop", "drop_after", "malformed_after", "late", "rate_limit")
_RECEIVED_MAX = 100_000  # requests remembered for ``received``; the oldest are forgotten
ADMIN_PREFIX = "/_sandbox"
_MALFORMED_BODY = b'{"id": 1, "status": "publish", "title": {"rendered": "Unterminated'


@dataclass
class FaultRule:
    kind: str
    path: str = "*"
    method: str | None = None
    times: int | None = None
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    rate: float = 1.0
    burst: int = 1
    body: Any = None  # overrides the generated error body for ``status``
    id: int = 0
    hits: int = 0
    seen: int = 0
    applied: int = 0  # ``late``: requests applied to the world after their delay
    _bucket: TokenBucket | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.method in ("*", "", "ANY", "any"):
            self.method = None
        if self.method:
            self.method = self.method.upper()
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.kind == "status" and not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.kind in ("latency", "late") and self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.kind == "rate_limit":
            self._bucket = TokenBucket(self.rate, self.burst)

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "kind": self.kind,
            "method": self.method or "*",
            "path": self.path,
            "times": self.times,
            "hits": self.hits,
            "seen": self.seen,
            "active": self.active,
        }
        if self.kind == "status":
            out.update(status=self.status, retry_after=self.retry_after)
            if self.body is not None:
                out["body"] = self.body
        elif self.kind == "latency":
            out["delay"] = self.delay
        elif self.kind == "late":
            out.update(delay=self.delay, applied=self.applied)
        elif self.kind == "rate_limit":
            out.update(rate=self.rate, burst=self.burst)
        return out


@dataclass
class Decision:
    rule: FaultRule
    retry_after: int | None = None  # set when a rate_limit rule refuses the request


class FaultSet:
    """The world's fault rules. Safe to change from a test thread while the server runs."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._received: collections.deque[tuple[str, str]] = collections.deque(maxlen=_RECEIVED_MAX)

    def add(self, kind: str | None = None, /, **spec: Any) -> FaultRule:
        """``add("status", path="/wp-json/wp/v2/posts*", status=503, times=1)``; also accepts ``kind=``."""
        if kind is not None:
            spec["kind"] = kind
        unknown = set(spec) - {
            "kind",
            "path",
            "method",
            "times",
            "status",
            "retry_after",
            "delay",
            "rate",
            "burst",
            "body",
        }
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if "kind" not in spec:
            raise ValueError("a fault rule needs a kind")
        rule = FaultRule(**spec)
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        """Remove every rule and forget the requests received."""
        with self._lock:
            self._rules.clear()
            self._received.clear()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self._received.append((method.upper(), path))

    def received(self, method: str | None = None, path: str = "*") -> int:
        """How many requests matching ``method`` (None = any) and the ``path`` glob reached the vendor routes."""
        method = method.upper() if method else None
        with self._lock:
            return sum(1 for m, p in self._received if (method is None or m == method) and fnmatch.fnmatchcase(p, path))

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self._rules]

    def decide(self, method: str, path: str) -> Decision | None:
        """The first active matching rule that fires for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if not rule.active or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.kind == "rate_limit":
                    assert rule._bucket is not None  # every rate_limit rule gets its bucket in __post_init__
                    allowed, retry = rule._bucket.try_take(self._monotonic())
                    if allowed:
                        return None
                    rule.hits += 1
                    return Decision(rule, retry)
                rule.hits += 1
                return Decision(rule)
        return None


def effective_path(scope: dict[str, Any]) -> str:
    path = scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    if query and "rest_route" in query:
        route = parse_qs(query).get("rest_route")
        if route:
            return "/wp-json" + (route[0] if route[0].startswith("/") else "/" + route[0])
    return path


def error_body(path: str, status: int) -> dict[str, Any]:
    """An error body in the style of the vendor that owns ``path``."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if path.startswith("/webflow/"):
        codes = {
            400: "bad_request",
            401: "not_authorized",
            403: "forbidden",
            404: "resource_not_found",
            409: "conflict",
            429: "too_many_requests",
            500: "internal_error",
            503: "service_unavailable",
        }
        messages = {429: "Too many requests", 500: "We had a problem with our server. Try again later."}
        return {
            "code": codes.get(status, "internal_error" if status >= 500 else "bad_request"),
            "message": messages.get(status, reason),
            "externalReference": None,
            "details": [],
        }
    if path.startswith("/mailchimp/"):
        return mailchimp_problem(status)
    if path.startswith("/wp-json"):
        codes = {
            429: "rest_too_many_requests",
            500: "internal_server_error",
            502: "http_request_failed",
            503: "service_unavailable",
            504: "http_request_failed",
        }
        messages = {
            500: "<p>There has been a critical error on this website.</p>",
            503: "Briefly unavailable for scheduled maintenance. Check back in a minute.",
        }
        data: dict[str, Any] = {"status": status}
        return {"code": codes.get(status, f"http_{status}"), "message": messages.get(status, reason), "data": data}
    if path.startswith("/customerio/"):
        return {"meta": {"error": reason}}
    if is_google_path(path):
        return google_error_body(status, legacy=path.startswith("/webmasters/"))
    if path.startswith("/oauth/"):
        return {
            "error": "temporarily_unavailable" if status in (429, 503) else "server_error",
            "error_description": reason,
        }
    return {"error": {"status": status, "message": reason}}


class FaultMiddleware:
    """ASGI middleware applying the world's fault rules to every route outside ``/_sandbox``."""

    def __init__(
        self,
        app: Callable,
        faults: Callable[[], FaultSet],
        observe: Callable[[dict[str, Any], int], None] | None = None,
    ) -> None:
        self.app = app
        self._faults = faults
        self._observe = observe  # told of every status the faults answer with (GA4 counts its server errors)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        path = effective_path(scope)
        faults = self._faults()
        faults.record(scope["method"], path)
        decision = faults.decide(scope["method"], path)
        if decision is None:
            await self.app(scope, receive, send)
            return
        rule = decision.rule
        if rule.kind not in ("latency", "drop_after", "malformed_after", "late"):
            await _drain(receive)  # read the request fully so the server can answer cleanly
        if rule.kind == "latency":
            import asyncio  # deferred: the world imports this module without needing an event loop

            await asyncio.sleep(rule.delay)
            await self.app(scope, receive, send)
        elif rule.kind == "status":
            body = rule.body if rule.body is not None else error_body(path, rule.status)
            headers = {}
            if rule.retry_after is not None:
                headers["retry-after"] = _seconds(rule.retry_after)
            await _send_json(send, rule.status, body, headers)
            if self._observe is not None:
                self._observe(scope, rule.status)
        elif rule.kind == "rate_limit":
            await _send_json(send, 429, error_body(path, 429), {"retry-after": str(decision.retry_after)})
        elif rule.kind == "malformed":
            await _send_raw(send, 200, _MALFORMED_BODY, {"content-type": "application/json; charset=UTF-8"})
        elif rule.kind == "drop":
            await _drop(send)
        elif rule.kind == "late":
            import asyncio

            # Read the body now: once the client gives up, the server has nothing more to hand us.
            body = await _read_body(receive)
            await asyncio.sleep(rule.delay)
            await self.app(scope, _replay(body), send)  # the server drops the answer if the client has gone
            rule.applied += 1
        elif rule.kind == "drop_after":

            async def swallow(message) -> None:
                return None  # the client never sees the real response

            await self.app(scope, receive, swallow)
            await _drop(send)
        elif rule.kind == "malformed_after":

            async def discard(message) -> None:
                return None  # the world applied it; the client gets garbage instead of the answer

            await self.app(scope, receive, discard)
            await _send_raw(send, 200, _MALFORMED_BODY, {"content-type": "application/json; charset=UTF-8"})


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


async def _drain(receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes):
    """A `receive` that hands the app the body read earlier, then reports the client gone."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _drop(send) -> None:
    # Announce a body and never send it; returning here makes the server close the
    # connection, so the client sees a truncated response (a transport error).
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"256")],
        }
    )


async def _send_json(send, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    content_type = "application/json; charset=UTF-8"
    if isinstance(body, str) and not body.lstrip().startswith(("{", "[")):
        content_type = "text/html; charset=UTF-8"
    await _send_raw(send, status, raw, {"content-type": content_type, **headers})


async def _send_raw(send, status: int, raw: bytes, headers: dict[str, str]) -> None:
    header_list = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    header_list.append((b"content-length", str(len(raw)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": header_list})
    await send({"type": "http.response.body", "body": raw})
