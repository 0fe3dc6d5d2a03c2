"""Error codes are what clients match on (the Director stops a run on `auth_error`): they are
declared, not derived from class names, so a rename or a private subclass changes nothing."""

from __future__ import annotations

import adapters.errors as errors
from adapters.errors import AdapterError, LostAnswer, NotApplied, OutcomeUnknown, UpstreamUnavailable

STABLE = {
    "AuthError": "auth_error",
    "PermissionDenied": "permission_denied",
    "NotFound": "not_found",
    "InvalidRequest": "invalid_request",
    "Conflict": "conflict",
    "Unsupported": "unsupported",
    "RateLimited": "rate_limited",
    "UpstreamUnavailable": "upstream_unavailable",
    "OutcomeUnknown": "outcome_unknown",
    "NotApplied": "not_applied",
}


def test_every_public_error_declares_its_stable_code():
    declared = {
        name: cls.code
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, AdapterError) and "code" in vars(cls)
    }
    assert {k: v for k, v in declared.items() if k != "AdapterError"} == STABLE


def test_a_subclass_without_its_own_code_reports_its_parents():
    class _VendorQuirk(UpstreamUnavailable):
        pass

    assert _VendorQuirk("x").code == "upstream_unavailable"
    assert LostAnswer("x", cause="ReadError", may_still_apply=False).code == OutcomeUnknown.code
    assert NotApplied("x").code == "not_applied"
