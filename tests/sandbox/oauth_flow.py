"""The browser and client side of the sandbox's login flows, shared by the OAuth and WordPress
Authorize Application tests: authorize URLs with PKCE, approving consent, token requests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from sandbox.vendors.oauth.consent import approve

REDIRECT = "http://127.0.0.1:9/callback"  # nothing listens on the discard port: approve must cope
SCOPES = {
    "google": "openid email profile https://www.googleapis.com/auth/analytics.readonly",
    "meta": "ads_read,pages_show_list",
    "linkedin": "openid profile email",
    "x": "tweet.read users.read offline.access",
    "webflow": "sites:read cms:read cms:write",
    "mailchimp": "",
}
PROVIDERS = tuple(SCOPES)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(creds: dict, provider: str, **params: str) -> str:
    app = creds["oauth"][provider]
    query = {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st-42",
        "scope": SCOPES[provider],
        **params,
    }
    return app["authorize_url"] + "?" + urlencode({k: v for k, v in query.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login(creds: dict, provider: str, **params: str) -> tuple[str, str]:
    """Authorize with PKCE and approve: (code, verifier)."""
    verifier, challenge = pkce()
    location = approve(authorize_url(creds, provider, code_challenge=challenge, code_challenge_method="S256", **params))
    assert location.startswith(REDIRECT + "?"), location
    answer = query_of(location)
    assert answer["state"] == "st-42"
    return answer["code"], verifier


def token_request(creds: dict, provider: str, data: dict[str, str], *, basic: bool | None = None) -> httpx.Response:
    """POST to the token endpoint the way the vendor wants clients to authenticate."""
    app = creds["oauth"][provider]
    if basic is None:
        basic = provider == "x"
    if basic:
        return httpx.post(app["token_url"], data=data, auth=(app["client_id"], app["client_secret"]))
    return httpx.post(
        app["token_url"], data={**data, "client_id": app["client_id"], "client_secret": app["client_secret"]}
    )


def exchange(creds: dict, provider: str, code: str, verifier: str | None, **overrides: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **overrides,
    }
    return token_request(creds, provider, {k: v for k, v in data.items() if v is not None})


def tokens(creds: dict, provider: str, **params: str) -> dict:
    code, verifier = login(creds, provider, **params)
    response = exchange(creds, provider, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def userinfo(creds: dict, provider: str, token: str) -> httpx.Response:
    scheme = "OAuth" if provider == "mailchimp" else "Bearer"
    return httpx.get(creds["oauth"][provider]["userinfo_url"], headers={"Authorization": f"{scheme} {token}"})


def refresh(creds: dict, provider: str, refresh_token: str) -> httpx.Response:
    return token_request(creds, provider, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def oauth_error(response: httpx.Response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    return body


APP_ID = "6f2b1d2e-9c4a-4f5e-8d7c-2a1b3c4d5e6f"


def wp_authorize_url(sb, **params: str) -> str:
    query = {
        "app_name": "marketing-mcp on laptop",
        "app_id": APP_ID,
        "success_url": "http://127.0.0.1:9/wp-done",
        **params,
    }
    return (
        sb.url + "/wp-admin/authorize-application.php?" + urlencode({k: v for k, v in query.items() if v is not None})
    )
