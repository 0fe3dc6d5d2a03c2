"""Mailchimp's problem+json error documents (RFC 7807), shared by the emulation and the fault rules."""

from __future__ import annotations

import uuid
from typing import Any, Iterable

ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
INVALID_DETAIL = "The resource submitted could not be validated. For field-specific details, see the 'errors' array."

# Titles and details as Mailchimp's error glossary words them.
_DEFAULTS = {
    400: ("Bad Request", "Your request could not be processed."),
    401: ("API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter."),
    403: ("Forbidden", "You don't have permission to access this resource."),
    404: ("Resource Not Found", "The requested resource could not be found."),
    405: (
        "Method Not Allowed",
        "The requested method and resource are not compatible. See the Allow header for "
        "this resource's available methods.",
    ),
    429: ("Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."),
    500: (
        "Internal Server Error",
        "An unexpected internal error has occurred. Please contact Support for more information.",
    ),
    503: ("Service Unavailable", "The service is temporarily unavailable. Please try again later."),
}


def problem(
    status: int, title: str | None = None, detail: str | None = None, errors: Iterable[tuple[str, str]] | None = None
) -> dict[str, Any]:
    default_title, default_detail = _DEFAULTS.get(status, _DEFAULTS[500 if status >= 500 else 400])
    body: dict[str, Any] = {
        "type": ERRORS_DOC,
        "title": title or default_title,
        "status": status,
        "detail": detail or default_detail,
        "instance": str(uuid.uuid4()),
    }
    if errors is not None:
        body["errors"] = [{"field": f, "message": m} for f, m in errors]
    return body


class MailchimpError(Exception):
    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        errors: Iterable[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title or str(status))
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return problem(self.status, self.title, self.detail, self.errors)


def invalid(errors: Iterable[tuple[str, str]]) -> MailchimpError:
    """A request body that fails validation, field by field."""
    return MailchimpError(400, "Invalid Resource", INVALID_DETAIL, errors)


def not_found() -> MailchimpError:
    return MailchimpError(404)
