"""How each vendor's OAuth server words its answers: token bodies, error shapes, revocation, who-am-I.

``server`` decides; this module only speaks. The texts are the ones each
vendor really sends, so a client's error handling meets the real thing.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from .server import App, AuthorizationCode, Grant, Issued, OAuthError, PendingAuthorization

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: empty), extra headers

_RFC_TEXT = {
    "client_id_missing": "Missing required parameter: client_id",
    "client_secret_missing": "Missing required parameter: client_secret",
    "grant_type_missing": "Missing required parameter: grant_type",
    "code_missing": "Missing required parameter: code",
    "refresh_token_missing": "Missing required parameter: refresh_token",
    "exchange_token_missing": "Missing required parameter: fb_exchange_token",
    "unknown_client": "Client authentication failed: unknown client",
    "bad_secret": "Client authentication failed",
    "client_mismatch": "The grant was issued to another client",
    "basic_required": "Client authentication must use HTTP Basic",
    "code_unknown": "Invalid authorization code",
    "code_used": "Authorization code already used",
    "code_expired": "Authorization code expired",
    "redirect_mismatch": "redirect_uri does not match the authorization request",
    "verifier_missing": "Missing code_verifier",
    "verifier_mismatch": "code_verifier does not match the code_challenge",
    "refresh_unknown": "Invalid refresh token",
    "refresh_revoked": "Refresh token revoked",
    "refresh_expired": "Refresh token expired",
}


_LINKEDIN_CODE_TEXT = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization "
    "code. Or authorization code expired. Or external member binding exists"
)
_WEBFLOW_GRANT_TEXT = (
    "The provided access grant is invalid, expired, or revoked (e.g. invalid assertion, expired "
    "authorization token, bad end-user password credentials, or mismatching authorization code and "
    "redirection URI)."
)


def _oauth_error(status: int, error: str, description: str) -> Answer:
    return status, {"error": error, "error_description": description}, {}


class Vendor:
    """RFC 6749 defaults; each vendor below overrides what it words differently."""

    name = ""
    texts: dict[str, str] = {}
    revoke_param = "token"
    revoke_needs_client = False
    userinfo_scheme = "bearer"

    def describe(self, err: OAuthError) -> str:
        if err.reason == "grant_type_unsupported":
            return f"Unsupported grant_type: {err.detail}"
        return self.texts.get(err.reason) or _RFC_TEXT.get(err.reason, err.reason)

    def token_error(self, err: OAuthError) -> Answer:
        status = 401 if err.error in ("invalid_client", "unauthorized_client") else 400
        return _oauth_error(status, err.error, self.describe(err))

    def token_body(self, issued: Issued) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": issued.access.value, "token_type": "Bearer"}
        if issued.access.lifetime is not None:
            body["expires_in"] = int(issued.access.lifetime)
        if issued.refresh_token:
            body["refresh_token"] = issued.refresh_token
        body["scope"] = " ".join(issued.grant.scope_list)
        return body

    def approved_params(self, pending: PendingAuthorization, code: AuthorizationCode) -> dict[str, str]:
        return {"code": code.value, **({"state": pending.state} if pending.state is not None else {})}

    def refused_params(self, error: str, description: str, state: str | None) -> dict[str, str]:
        params = {"error": error}
        if description:
            params["error_description"] = description
        if state is not None:
            params["state"] = state
        return params

    def denied_params(self, pending: PendingAuthorization) -> dict[str, str]:
        return self.refused_params("access_denied", "", pending.state)

    def revoked(self, done: bool) -> Answer:
        return 200, None, {}

    def missing_revoke_token(self) -> Answer:
        return _oauth_error(400, "invalid_request", f"Missing required parameter: {self.revoke_param}")

    def unauthorized(self, status: str, app: App) -> Answer:
        return 401, {"error": "invalid_token", "error_description": "The access token is invalid"}, {}

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        raise NotImplementedError


class Google(Vendor):
    name = "google"
    texts = {
        "client_id_missing": "Could not determine client ID from request.",
        "client_secret_missing": "client_secret is missing.",
        "unknown_client": "The OAuth client was not found.",
        "bad_secret": "Unauthorized",
        "client_mismatch": "Unauthorized",
        "verifier_missing": "Missing code verifier.",
        **{
            r: "Bad Request"
            for r in ("code_unknown", "code_used", "code_expired", "redirect_mismatch", "verifier_mismatch")
        },
        **{r: "Token has been expired or revoked." for r in ("refresh_unknown", "refresh_revoked", "refresh_expired")},
    }

    def token_error(self, err: OAuthError) -> Answer:
        if err.reason in ("grant_type_missing", "grant_type_unsupported"):
            return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {err.detail}")
        if err.reason == "redirect_mismatch":
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if err.reason == "client_mismatch" and err.error == "invalid_grant":
            return _oauth_error(400, "invalid_grant", "Bad Request")
        return super().token_error(err)

    def token_body(self, issued: Issued) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": issued.access.value,
            "expires_in": int(issued.access.lifetime or 0) - 1,
        }  # Google says 3599
        if issued.refresh_token:
            body["refresh_token"] = issued.refresh_token
        body["scope"] = " ".join(issued.grant.scope_list)
        body["token_type"] = "Bearer"
        if issued.refresh_expires_in is not None:  # only apps in Testing status have an end to refresh tokens
            body["refresh_token_expires_in"] = max(0, math.ceil(issued.refresh_expires_in) - 1)
        return body

    def approved_params(self, pending: PendingAuthorization, code: AuthorizationCode) -> dict[str, str]:
        params = {
            "code": code.value,
            "scope": " ".join(code.scopes),
            "authuser": "0",
            "prompt": "consent" if pending.force_consent else "none",
        }
        return {**({"state": pending.state} if pending.state is not None else {}), **params}

    def revoked(self, done: bool) -> Answer:
        return (200, {}, {}) if done else _oauth_error(400, "invalid_token", "Token expired or revoked")

    def unauthorized(self, status: str, app: App) -> Answer:
        return (
            401,
            {"error": "invalid_request", "error_description": "Invalid Credentials"},
            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
        )

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        user = grant.user
        body: dict[str, Any] = {"sub": user.id}
        if "profile" in grant.scopes:
            first, _, last = user.name.partition(" ")
            body.update(
                name=user.name,
                given_name=first,
                family_name=last,
                picture="https://lh3.googleusercontent.com/a/default-user=s96-c",
            )
        if "email" in grant.scopes:
            body.update(email=user.email, email_verified=True)
        return 200, body, {}


class Meta(Vendor):
    name = "meta"
    revoke_param = "access_token"
    _graph = {
        "client_id_missing": (101, "Missing client_id parameter.", None),
        "client_secret_missing": (100, "Missing client_secret parameter.", None),
        "unknown_client": (101, "Error validating application. Invalid application ID.", None),
        "bad_secret": (1, "Error validating client secret.", None),
        "code_missing": (100, "Missing authorization code", None),
        "grant_type_missing": (100, "Missing authorization code", None),
        "code_unknown": (100, "Invalid verification code format.", None),
        "code_used": (100, "This authorization code has been used.", 36009),
        "code_expired": (100, "This authorization code has expired.", 36007),
        "redirect_mismatch": (
            100,
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request",
            36008,
        ),
        "client_mismatch": (100, "Error validating verification code.", None),
        "verifier_missing": (100, "Missing code_verifier parameter.", None),
        "verifier_mismatch": (100, "Invalid code verifier.", None),
        "exchange_token_missing": (100, "Missing fb_exchange_token parameter.", None),
        "token_unknown": (190, "Invalid OAuth access token - Cannot parse access token", None),
        "token_expired": (190, "Error validating access token: Session has expired.", 463),
        "token_revoked": (190, "Error validating access token: The user has not authorized application.", 458),
        "token_other_app": (190, "Error validating access token: The token was not issued to this application.", None),
    }

    @staticmethod
    def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> Answer:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = "A" + hashlib.sha1(message.encode()).hexdigest()[:22]
        reason = "invalid_token" if code == 190 else "invalid_request"
        return status, {"error": error}, {"WWW-Authenticate": f'OAuth "Facebook Platform" "{reason}" "{message}"'}

    def token_error(self, err: OAuthError) -> Answer:
        if err.reason == "grant_type_unsupported":
            return self.graph_error(400, 100, f"Unsupported grant_type: {err.detail}")
        code, message, subcode = self._graph.get(err.reason, (100, _RFC_TEXT.get(err.reason, err.reason), None))
        return self.graph_error(400, code, message, subcode)

    def token_body(self, issued: Issued) -> dict[str, Any]:
        return {
            "access_token": issued.access.value,
            "token_type": "bearer",
            "expires_in": int(issued.access.lifetime or 0),
        }

    def denied_params(self, pending: PendingAuthorization) -> dict[str, str]:
        params = {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
        return {**params, **({"state": pending.state} if pending.state is not None else {})}

    def revoked(self, done: bool) -> Answer:
        if done:
            return 200, {"success": True}, {}
        return self.graph_error(400, 190, "Error validating access token: The session is invalid or has expired.", 460)

    def missing_revoke_token(self) -> Answer:
        return self.graph_error(
            400, 2500, "An active access token must be used to query information about the current user."
        )

    def unauthorized(self, status: str, app: App) -> Answer:
        code, message, subcode = self._graph[f"token_{status}"]
        return self.graph_error(401, code, message, subcode)

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        return 200, {"id": grant.user.id, "name": grant.user.name}, {}


class LinkedIn(Vendor):
    name = "linkedin"
    revoke_needs_client = True
    texts = {
        "client_id_missing": 'A required parameter "client_id" is missing',
        "client_secret_missing": 'A required parameter "client_secret" is missing',
        "grant_type_missing": 'A required parameter "grant_type" is missing',
        "code_missing": 'A required parameter "code" is missing',
        "refresh_token_missing": 'A required parameter "refresh_token" is missing',
        "unknown_client": "Client authentication failed",
        "bad_secret": "Client authentication failed",
        **{
            r: _LINKEDIN_CODE_TEXT
            for r in (
                "code_unknown",
                "code_used",
                "code_expired",
                "redirect_mismatch",
                "verifier_missing",
                "verifier_mismatch",
            )
        },
        **{
            r: "The provided authorization grant or refresh token is invalid, expired or revoked."
            for r in ("refresh_unknown", "refresh_revoked", "refresh_expired")
        },
    }

    def token_body(self, issued: Issued) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": issued.access.value, "expires_in": int(issued.access.lifetime or 0)}
        if issued.refresh_token:
            body["refresh_token"] = issued.refresh_token
            body["refresh_token_expires_in"] = math.ceil(issued.refresh_expires_in or 0)
        body["scope"] = ",".join(issued.grant.scope_list)  # LinkedIn answers with commas
        return body

    def unauthorized(self, status: str, app: App) -> Answer:
        if status == "revoked":
            return (
                401,
                {
                    "serviceErrorCode": 65601,
                    "message": "The token used in the request has been revoked by the user",
                    "status": 401,
                },
                {},
            )
        return 401, {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}, {}

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        if "openid" not in grant.scopes:
            return (
                403,
                {
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": "Not enough permissions to access: userinfo.GET.NO_VERSION",
                    "status": 403,
                },
                {},
            )
        user = grant.user
        body: dict[str, Any] = {"sub": user.id}
        if "profile" in grant.scopes:
            first, _, last = user.name.partition(" ")
            body.update(name=user.name, given_name=first, family_name=last, locale={"country": "US", "language": "en"})
        if "email" in grant.scopes:
            body.update(email=user.email, email_verified=True)
        return 200, body, {}


class X(Vendor):
    name = "x"
    revoke_needs_client = True
    texts = {
        "grant_type_missing": "Missing required parameter [grant_type].",
        "code_missing": "Missing required parameter [code].",
        "refresh_token_missing": "Missing required parameter [refresh_token].",
        "verifier_missing": "Missing required parameter [code_verifier].",
        **{
            r: "Value passed for the authorization code was invalid."
            for r in (
                "code_unknown",
                "code_used",
                "code_expired",
                "redirect_mismatch",
                "verifier_mismatch",
                "client_mismatch",
            )
        },
        **{
            r: "Value passed for the token was invalid."
            for r in ("refresh_unknown", "refresh_revoked", "refresh_expired")
        },
    }

    def token_error(self, err: OAuthError) -> Answer:
        if err.error in ("invalid_client", "unauthorized_client") or err.reason in (
            "client_id_missing",
            "client_secret_missing",
        ):
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        if err.reason == "grant_type_unsupported":
            return _oauth_error(400, "invalid_request", "Value passed for the grant type was invalid.")
        return _oauth_error(400, "invalid_request", self.describe(err))  # X says invalid_request for bad grants too

    def token_body(self, issued: Issued) -> dict[str, Any]:
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(issued.access.lifetime or 0),
            "access_token": issued.access.value,
            "scope": " ".join(issued.grant.scope_list),
        }
        if issued.refresh_token:
            body["refresh_token"] = issued.refresh_token
        return body

    def revoked(self, done: bool) -> Answer:
        return 200, {"revoked": True}, {}

    def unauthorized(self, status: str, app: App) -> Answer:
        return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {}

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        if not {"users.read", "tweet.read"} <= grant.scopes:
            return 403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}, {}
        user = grant.user
        return 200, {"data": {"id": user.id, "name": user.name, "username": user.username}}, {}


class Webflow(Vendor):
    name = "webflow"
    revoke_param = "access_token"
    revoke_needs_client = True
    texts = {
        r: _WEBFLOW_GRANT_TEXT
        for r in (
            "code_unknown",
            "code_used",
            "code_expired",
            "redirect_mismatch",
            "verifier_missing",
            "verifier_mismatch",
            "client_mismatch",
        )
    }
    texts.update(
        unknown_client="Client authentication failed due to unknown client, no client authentication "
        "included, or unsupported authentication method.",
        bad_secret="Client authentication failed due to unknown client, no client authentication "
        "included, or unsupported authentication method.",
    )

    def token_body(self, issued: Issued) -> dict[str, Any]:
        return {"access_token": issued.access.value, "token_type": "Bearer", "scope": " ".join(issued.grant.scope_list)}

    def revoked(self, done: bool) -> Answer:
        return 200, {"did_revoke": done}, {}

    def unauthorized(self, status: str, app: App) -> Answer:
        return (
            401,
            {"code": "not_authorized", "message": "Request not authorized", "externalReference": None, "details": []},
            {},
        )

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        user = grant.user
        first, _, last = user.name.partition(" ")
        return (
            200,
            {
                "authorization": {
                    "id": grant.id,
                    "grantType": "authorization_code",
                    "scope": ",".join(grant.scope_list),
                    "authorizedTo": {"siteIds": list(user.sites), "workspaceIds": [], "userIds": [user.id]},
                },
                "application": {"id": app.client_id, "displayName": app.name, "description": "", "homepage": ""},
                "user": {"id": user.id, "email": user.email, "firstName": first, "lastName": last},
                "sites": list(user.sites),
            },
            {},
        )


class Mailchimp(Vendor):
    name = "mailchimp"
    userinfo_scheme = "oauth"
    texts = {
        r: "Invalid authorization code"
        for r in (
            "code_unknown",
            "code_used",
            "code_expired",
            "redirect_mismatch",
            "verifier_missing",
            "verifier_mismatch",
            "client_mismatch",
        )
    }
    texts.update(unknown_client="Invalid client_id", bad_secret="Invalid client_secret")

    def token_body(self, issued: Issued) -> dict[str, Any]:
        return {"access_token": issued.access.value, "expires_in": 0, "scope": None}

    def unauthorized(self, status: str, app: App) -> Answer:
        return 401, {"error": "invalid_token", "error_description": "Invalid token"}, {}

    def userinfo(self, grant: Grant, app: App, base: str) -> Answer:
        user = grant.user
        login = {
            "email": user.email,
            "avatar": None,
            "login_id": int(user.extra["login_id"]),
            "login_name": user.username,
            "login_email": user.email,
        }
        return (
            200,
            {
                "dc": user.extra["dc"],
                "role": "owner",
                "accountname": user.name,
                "user_id": int(user.id),
                "login": login,
                "login_url": "https://login.mailchimp.com",
                "api_endpoint": base + "/mailchimp",
            },
            {},
        )


VENDORS: dict[str, Vendor] = {v.name: v for v in (Google(), Meta(), LinkedIn(), X(), Webflow(), Mailchimp())}
