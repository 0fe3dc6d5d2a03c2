"""Mailchimp's refusals as adapter errors: its problem documents (`application/problem+json`), by status."""

from __future__ import annotations

import json
from typing import Any

from ...errors import (
    AdapterError,
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UpstreamUnavailable,
)
from ...json_values import JsonObject, is_object
from ...retry import error_class
from .wire import MAX_CONNECTIONS, VENDOR

NOT_READY = "Your Campaign is not ready to send."
FIND_HINTS = {
    "audience": "Call list_audiences for the account's audience IDs.",
    "campaign": "Call list_campaigns for campaign IDs.",
    "segment": "Call list_segments for the audience's segment IDs.",
    "contact": "Check the address, or add the contact with upsert_contacts.",
    "report": "Reports exist once a campaign has been sent; check its status with get_campaign.",
}


def problem_document(text: object) -> JsonObject:
    """Mailchimp's problem document, whether the SDK parsed it or left it as text; {} for anything else."""
    if is_object(text):
        return text
    try:
        body = json.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError:
        return {}
    return body if is_object(body) else {}


def error_for_status(
    status: int,
    problem: JsonObject,
    missing: tuple[str, ...] | None,
    retry_after: float | None,
    *,
    account: str,
    auth_hint: str,
) -> AdapterError:
    """The error for an HTTP `status` and its problem document. `missing` names what a 404 did not find:
    (kind, ID) or (kind, ID, audience ID), kind a key of FIND_HINTS."""
    title, detail = str(problem.get("title") or ""), str(problem.get("detail") or "")
    listed: list[Any] = problem.get("errors") or []
    errors = "; ".join(f"{e.get('field') or 'request'}: {e.get('message')}" for e in listed[:5] if is_object(e))
    if errors and "'errors' array" in detail:
        detail = ""  # "see the 'errors' array": the fields below say it
    said = " ".join(filter(None, (detail or title or f"HTTP {status}", f"({errors})" if errors else "")))
    kwargs: dict[str, Any] = {"vendor": VENDOR, "status": status}
    cls = error_class(status)  # the map every vendor shares; the messages below are Mailchimp's
    if cls is AuthError:
        return AuthError(
            f"Mailchimp refused the credentials of account '{account}': {title or said}.",
            hint=auth_hint,
            **kwargs,
        )
    if cls is PermissionDenied:
        return PermissionDenied(f"Mailchimp: {said}", **kwargs)
    if cls is NotFound and missing is not None:
        kind, ref, *audience = missing
        where = f" in audience '{audience[0]}'" if audience else ""
        return NotFound(f"Mailchimp has no {kind} '{ref}'{where}.", hint=FIND_HINTS[kind], **kwargs)
    if cls is RateLimited and retry_after is not None:
        return RateLimited(
            f"Mailchimp is rate limiting account '{account}' and asks to wait {retry_after:.0f} s.",
            retry_after=retry_after,
            **kwargs,
        )
    if cls is RateLimited:
        return RateLimited(
            f"All {MAX_CONNECTIONS} simultaneous connections Mailchimp allows this account are in use.",
            hint="Other tools or scripts are using this Mailchimp account; try again in a few seconds.",
            **kwargs,
        )
    if cls is UpstreamUnavailable:
        return UpstreamUnavailable(f"Mailchimp failed (HTTP {status}): {said}", **kwargs)
    if cls is not InvalidRequest:  # NotFound, Conflict
        return cls(f"Mailchimp: {said}", **kwargs)
    if "looks fake or invalid" in detail:
        address = detail.split(" looks fake", 1)[0]
        return InvalidRequest(
            f"Mailchimp refuses {address}: it looks fake or invalid.",
            hint=f"Fix or remove the address {address}.",
            **kwargs,
        )
    if title == "Member Exists":
        return Conflict(f"Mailchimp: {said}", hint="Update the contact instead of adding it.", **kwargs)
    if title == "Member In Compliance State":
        return InvalidRequest(
            f"Mailchimp: {said}",
            hint="Mailchimp does not resubscribe people who unsubscribed "
            "or bounced; they have to sign up again themselves.",
            **kwargs,
        )
    if detail == NOT_READY:
        return InvalidRequest(
            f"Mailchimp: {said}", hint="Call readiness to see what is missing, fix it, then send.", **kwargs
        )
    return InvalidRequest(f"Mailchimp rejected the request: {said}", **kwargs)
