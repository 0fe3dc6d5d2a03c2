"""Google API errors and bearer-token checks, shared by the GA4 and Search Console emulations.

Google answers every failure as ``{"error": {"code", "message", "status"}}``;
the v3-era APIs (Search Console's ``webmasters/v3``) also carry the legacy
``errors`` list, and auth failures carry a ``google.rpc.ErrorInfo`` detail, as
the real services do. Importable without the web stack (fault injection uses
``error_body``).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from starlette.requests import Request

from ...headers import bearer

if TYPE_CHECKING:
    from ...world import World
    from ..oauth.server import Grant

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_LEGACY_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
_DEFAULT_MESSAGES = {
    500: "Internal error encountered.",
    502: "The service is currently unavailable.",
    503: "The service is currently unavailable.",
    504: "The request deadline was exceeded.",
    429: "Resource has been exhausted (e.g. check quota).",
    404: "Requested entity was not found.",
}

MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INSUFFICIENT_SCOPES = "Request had insufficient authentication scopes."

ANALYTICS_READ = frozenset(
    {
        "https://www.googleapis.com/auth/analytics.readonly",
        "https://www.googleapis.com/auth/analytics",
        "https://www.googleapis.com/auth/analytics.edit",
    }
)
WEBMASTERS_READ = frozenset(
    {"https://www.googleapis.com/auth/webmasters.readonly", "https://www.googleapis.com/auth/webmasters"}
)
WEBMASTERS_WRITE = frozenset({"https://www.googleapis.com/auth/webmasters"})


class GoogleError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        service: str = "",
        method: str = "",
        headers: dict[str, str] | None = None,
        legacy: bool = False,
        legacy_reason: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.service = service
        self.method = method
        self.headers = headers or {}
        self.legacy = legacy
        self.legacy_reason = legacy_reason

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.legacy:
            error["errors"] = [
                {
                    "message": self.message,
                    "domain": "global",
                    "reason": self.legacy_reason or _LEGACY_REASONS.get(self.code, "backendError"),
                }
            ]
        error["status"] = STATUS_NAMES.get(self.code, "UNKNOWN")
        if self.reason:
            info: dict[str, Any] = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": self.reason,
                "domain": "googleapis.com",
            }
            if self.service:
                info["metadata"] = {"service": self.service, "method": self.method}
            error["details"] = [info]
        return {"error": error}


def error_body(status: int, message: str | None = None, *, legacy: bool = False) -> dict[str, Any]:
    """A Google-shaped body for an injected fault."""
    if message is None:
        message = _DEFAULT_MESSAGES.get(status)
    if message is None:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Error"
    return GoogleError(status, message, legacy=legacy).body()


def is_google_path(path: str) -> bool:
    return path.startswith(("/v1beta/", "/v1/", "/webmasters/"))


def authorize(
    world: World,
    headers: Mapping[str, str],
    scopes: Iterable[str],
    *,
    service: str,
    method: str,
    legacy: bool = False,
) -> Grant:
    """The live Google grant behind the request's bearer token, carrying one of ``scopes``; else GoogleError."""
    token = bearer(headers.get("authorization"))
    realm = 'Bearer realm="https://accounts.google.com/"'
    if token is None:
        raise GoogleError(
            401,
            MISSING_CREDENTIALS,
            reason="CREDENTIALS_MISSING",
            service=service,
            method=method,
            headers={"WWW-Authenticate": realm},
            legacy=legacy,
            legacy_reason="required",
        )
    with world.lock:
        status, grant = world.oauth.inspect("google", token)
    if status != "active" or grant is None:
        reason = "ACCESS_TOKEN_EXPIRED" if status == "expired" else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
        raise GoogleError(
            401,
            INVALID_CREDENTIALS,
            reason=reason,
            service=service,
            method=method,
            headers={"WWW-Authenticate": f'{realm}, error="invalid_token"'},
            legacy=legacy,
            legacy_reason="authError",
        )
    wanted = frozenset(scopes)
    if not grant.scopes & wanted:
        scope = " ".join(sorted(wanted))
        raise GoogleError(
            403,
            INSUFFICIENT_SCOPES,
            reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            service=service,
            method=method,
            legacy=legacy,
            legacy_reason="insufficientPermissions",
            headers={"WWW-Authenticate": f'{realm}, error="insufficient_scope", scope="{scope}"'},
        )
    return grant


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2)


async def json_body(request: Request, legacy: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise GoogleError(400, f"Invalid JSON payload received. {exc}", legacy=legacy) from None
    if not isinstance(body, dict):
        raise GoogleError(400, "Invalid JSON payload received. Expected an object.", legacy=legacy)
    return body
