"""WordPress application passwords: WordPress's own browser flow to issue one, and revocation.

`wp-admin/authorize-application.php` asks the logged-in user to approve the app and redirects
to our loopback address with the new password. WordPress accepts a plain-http success URL only
on sites whose environment type is `local`; for other sites `auth set wordpress` stores a
password created under Users > Profile > Application Passwords.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

from pydantic import SecretStr

from .oauth import DEFAULT_TIMEOUT, OAuthFailure, query_of, round_trip
from .records import Password


def sign_in(
    site_url: str,
    *,
    app_name: str,
    open_browser: Callable[[str], Any] | None,
    announce: Callable[[str], None],
    paste: Callable[[], str] | None = None,
    port: int = 0,
    timeout: float = 300.0,
) -> Password:
    site = site_url.rstrip("/")
    app_id = str(uuid.uuid4())
    nonce = secrets.token_urlsafe(16)  # WordPress has no `state`; our own parameter survives its redirect

    def authorize_url(redirect_uri: str) -> str:
        back = f"{redirect_uri}?nonce={nonce}"
        return (
            f"{site}/wp-admin/authorize-application.php?"
            + urlencode(  # names must be unique per user
                {"app_name": f"{app_name} {app_id[:8]}", "app_id": app_id, "success_url": back, "reject_url": back}
            )
        )

    params = query_of(
        round_trip(authorize_url, open_browser=open_browser, announce=announce, paste=paste, port=port, timeout=timeout)
    )
    if params.get("nonce") != nonce:
        raise OAuthFailure("The redirect does not belong to this sign-in. Nothing was stored; run the command again.")
    if params.get("success") == "false" or not params.get("password"):
        raise OAuthFailure("The application password was not approved. Nothing was stored.")
    return Password(
        username=params["user_login"],
        password=SecretStr(params["password"]),
        extra={"site_url": params.get("site_url", site).rstrip("/"), "app_id": app_id},
    )


def verify(site_url: str, username: str, password: SecretStr, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The user's display name if the password works, else OAuthFailure saying why."""
    import httpx

    try:
        response = httpx.get(
            f"{site_url.rstrip('/')}/wp-json/wp/v2/users/me",
            auth=httpx.BasicAuth(username, password.get_secret_value()),
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise OAuthFailure(f"{site_url} could not be reached ({type(exc).__name__}); nothing was stored.") from None
    if response.status_code == 200:
        return str(response.json().get("name") or username)
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    raise OAuthFailure(
        f"WordPress at {site_url} refused the password (HTTP {response.status_code} {code}); "
        "nothing was stored. Check the user name and create a new application password."
    )


def revoke(secret: Password, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Delete the application password at the site (it finds itself through `introspect`)."""
    import httpx

    site = secret.extra.get("site_url")
    if not site:
        return False
    base = f"{site.rstrip('/')}/wp-json/wp/v2/users/me/application-passwords"
    auth = httpx.BasicAuth(secret.username, secret.password.get_secret_value())
    try:
        with httpx.Client(auth=auth, timeout=timeout) as http:
            found = http.get(f"{base}/introspect")
            if found.status_code == 401:
                return True  # already revoked or deleted at the site
            found.raise_for_status()
            gone = http.delete(f"{base}/{found.json()['uuid']}")
            gone.raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise OAuthFailure(
            f"WordPress at {urlsplit(site).netloc} did not delete the application password "
            f"({type(exc).__name__}); delete it under Users > Profile > Application Passwords."
        ) from None
    return True
