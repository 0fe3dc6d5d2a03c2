"""OAuth 2.0 against each provider, through authlib: sign-in, refresh and revocation.

Sign-in is the authorization-code flow with PKCE and a loopback redirect on 127.0.0.1 (RFC
8252): a one-shot listener on a random port catches the browser's redirect; `--no-browser`
prints the address and also accepts the redirected URL pasted back. Everything here is
synchronous: the CLI calls it directly, and servers call refresh from a worker thread.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from .providers import Provider
from .records import OAuthToken

if TYPE_CHECKING:
    import httpx2

DEFAULT_TIMEOUT = 20.0
# Errors a token endpoint gives when the grant itself is gone; anything else may pass.
_GRANT_GONE = {"invalid_grant", "invalid_token", "unauthorized_client", "invalid_client"}


@dataclass(frozen=True)
class OAuthApp:
    """The OAuth client a team registered with the vendor (the sandbox registers one per provider)."""

    client_id: str
    client_secret: SecretStr | None = None

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, client_secret=**********)"


class OAuthFailure(Exception):
    """A sign-in, refresh or revocation that did not work; `grant_gone` means log in again."""

    def __init__(self, message: str, *, grant_gone: bool = False):
        super().__init__(message)
        self.grant_gone = grant_gone


# -- sign-in ---------------------------------------------------------------


class LoopbackListener:
    """Catches one browser redirect on http://127.0.0.1:PORT/callback."""

    def __init__(self, port: int = 0):
        self._arrived: queue.Queue[str] = queue.Queue()
        arrived = self._arrived
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != "/callback":
                    self.send_error(404)
                    return
                arrived.put(f"http://127.0.0.1:{listener.port}{self.path}")
                body = (
                    b"<!doctype html><title>marketing-mcp</title><p>Signed in. "
                    b"You can close this tab and return to the terminal.</p>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # stdout and stderr stay quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="oauth-loopback")

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def __enter__(self) -> "LoopbackListener":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def feed(self, url: str) -> None:
        """A redirected URL that reached us another way (pasted by the user)."""
        self._arrived.put(url)

    def wait(self, timeout: float) -> str:
        try:
            return self._arrived.get(timeout=timeout)
        except queue.Empty:
            raise OAuthFailure(
                f"No sign-in arrived within {timeout:.0f} s. Run the command again "
                "and finish the consent in the browser (or paste the redirected URL)."
            ) from None


TokenResponse = Mapping[str, Any]
"""A token endpoint's JSON answer (authlib's OAuth2Token is a dict of it)."""


class _TokenClient(Protocol):
    """The part of authlib's (untyped) OAuth2Client used here."""

    def create_authorization_url(
        self, url: str, state: str | None = None, code_verifier: str | None = None, **kwargs: str
    ) -> tuple[str, str]: ...

    def fetch_token(self, url: str, **kwargs: str) -> TokenResponse: ...

    def refresh_token(self, url: str, refresh_token: str, **kwargs: str) -> TokenResponse: ...

    def register_compliance_hook(self, hook_type: str, hook: Callable[[httpx2.Response], httpx2.Response]) -> None: ...


def _client(
    provider: Provider,
    app: OAuthApp,
    *,
    redirect_uri: str | None = None,
    scopes: tuple[str, ...] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> _TokenClient:
    from authlib.integrations.httpx_client import OAuth2Client  # authlib + httpx2 only when signing in or refreshing

    client = cast(
        _TokenClient,
        OAuth2Client(
            client_id=app.client_id,
            client_secret=app.client_secret.get_secret_value() if app.client_secret else None,
            token_endpoint_auth_method=provider.token_auth,
            revocation_endpoint_auth_method=provider.token_auth,
            redirect_uri=redirect_uri,
            scope=provider.scope_separator.join(scopes) or None,
            code_challenge_method="S256",
            timeout=timeout,
            follow_redirects=False,
        ),
    )
    for hook in ("access_token_response", "refresh_token_response"):
        client.register_compliance_hook(hook, _normalize_token_response)
    return client


def _client_id_in_body(provider: Provider, app: OAuthApp) -> dict[str, str]:
    """client_secret_post vendors want the client ID in the token request's body as well."""
    return {"client_id": app.client_id} if provider.token_auth == "client_secret_post" else {}


def _normalize_token_response(response: httpx2.Response) -> httpx2.Response:
    """Vendors that stray from RFC 6749's error shape or `expires_in` meaning, made standard."""
    import httpx2

    try:
        body: object = response.json()
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    fields = cast(dict[str, Any], body)
    err: object = fields.get("error")
    if isinstance(err, dict):  # Meta's Graph errors
        graph = cast(dict[str, Any], err)
        gone = graph.get("code") == 190  # invalid or expired access token
        fields = {
            "error": "invalid_grant" if gone else "invalid_request",
            "error_description": graph.get("message", ""),
        }
    elif str(fields.get("expires_in")) == "0":  # Mailchimp: 0 means never
        fields = {k: v for k, v in fields.items() if k != "expires_in"}
    else:
        return response
    # authlib reads only the status and the JSON body of what a hook returns
    return httpx2.Response(response.status_code, json=fields, request=response.request)


def sign_in(
    provider: Provider,
    app: OAuthApp,
    scopes: tuple[str, ...],
    *,
    open_browser: Callable[[str], Any] | None,
    announce: Callable[[str], None],
    paste: Callable[[], str] | None = None,
    port: int = 0,
    timeout: float = 300.0,
    now: Callable[[], float] = time.time,
) -> OAuthToken:
    """Authorization code + PKCE: consent in a browser, then the code for tokens."""
    from authlib.common.security import generate_token

    endpoints = provider.endpoints
    assert endpoints is not None
    verifier = generate_token(64)
    client: _TokenClient | None = None
    state = ""

    def authorize_url(redirect_uri: str) -> str:
        nonlocal client, state
        client = _client(provider, app, redirect_uri=redirect_uri, scopes=scopes)
        url, state = client.create_authorization_url(
            endpoints.authorize, code_verifier=verifier, **provider.authorize_params
        )
        return url

    redirected = round_trip(
        authorize_url, open_browser=open_browser, announce=announce, paste=paste, port=port, timeout=timeout
    )
    params = query_of(redirected)
    if params.get("state") != state:
        raise OAuthFailure(
            "The redirect's state does not match this sign-in (an old tab, or a forged redirect). "
            "Nothing was stored; run the command again."
        )
    if "error" in params:
        refused = f"{provider.title} refused the sign-in: {params['error']} {params.get('error_description', '')}"
        reason = "You declined the consent" if params["error"] == "access_denied" else refused.strip()
        raise OAuthFailure(f"{reason}. Nothing was stored.")
    if "code" not in params:
        raise OAuthFailure("The redirect carries no authorization code. Nothing was stored; run the command again.")
    # the redirect arrived, so authorize_url ran and built the client
    signed_in = client
    assert signed_in is not None
    token = _call(
        provider,
        "sign-in",
        lambda: signed_in.fetch_token(
            endpoints.token, code=params["code"], code_verifier=verifier, **_client_id_in_body(provider, app)
        ),
    )
    if provider.exchanges_for_long_lived:
        short_lived = token
        token = _call(
            provider,
            "sign-in",
            lambda: signed_in.fetch_token(
                endpoints.token,
                grant_type="fb_exchange_token",
                fb_exchange_token=short_lived["access_token"],
                client_id=app.client_id,
            ),
        )
    return token_from_response(provider, app, token, now(), requested=scopes)


def round_trip(
    build_url: Callable[[str], str],
    *,
    open_browser: Callable[[str], Any] | None,
    announce: Callable[[str], None],
    paste: Callable[[], str] | None,
    port: int,
    timeout: float,
) -> str:
    """Send the user to `build_url(redirect_uri)` and return the URL the browser was redirected to."""
    with LoopbackListener(port) as listener:
        url = build_url(listener.redirect_uri)
        announce(url)
        if open_browser is not None:
            threading.Thread(target=_quietly, args=(open_browser, url), daemon=True, name="oauth-browser").start()
        if paste is not None:
            threading.Thread(
                target=_quietly, args=(lambda: listener.feed(paste()),), daemon=True, name="oauth-paste"
            ).start()
        return listener.wait(timeout)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url.strip()).query).items()}


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # a browser that cannot open is not fatal: the URL was printed
        pass


def token_from_response(
    provider: Provider,
    app: OAuthApp,
    response: TokenResponse,
    now: float,
    *,
    requested: tuple[str, ...] = (),
    previous: OAuthToken | None = None,
) -> OAuthToken:
    if previous is not None:  # a refreshed token stays with the server that issued it (the vendor, or the sandbox)
        token_url, revoke_url = previous.token_url, previous.revoke_url
    else:
        assert provider.endpoints is not None
        token_url, revoke_url = provider.endpoints.token, provider.endpoints.revoke
    expires_in = response.get("expires_in")
    refresh_in = response.get("refresh_token_expires_in")
    raw_scope = response.get("scope")
    scopes = (
        tuple(s for s in str(raw_scope).replace(",", " ").split() if s)
        if raw_scope
        else (previous.scopes if previous else requested)
    )
    refresh = response.get("refresh_token")
    return OAuthToken(
        access_token=SecretStr(response["access_token"]),
        refresh_token=SecretStr(refresh) if refresh else (previous.refresh_token if previous else None),
        token_type=str(response.get("token_type") or "Bearer").capitalize(),
        expires_at=now + float(expires_in) if expires_in else None,
        refresh_expires_at=now + float(refresh_in)
        if refresh_in
        else (previous.refresh_expires_at if previous and not refresh else None),
        scopes=scopes,
        token_url=token_url,
        revoke_url=revoke_url,
        client_id=app.client_id,
        client_secret=app.client_secret,
        extra=dict(previous.extra) if previous else {},
    )


def _call(provider: Provider, what: str, fn: Callable[[], TokenResponse]) -> TokenResponse:
    """One token-endpoint call, its failures told apart: the grant is gone, or try again later."""
    import httpx2
    from authlib.integrations.base_client import OAuthError

    try:
        return fn()
    except OAuthError as exc:
        gone = exc.error in _GRANT_GONE or (
            exc.error == "invalid_request" and "token" in (exc.description or "").lower()
        )
        raise OAuthFailure(
            f"{provider.title} refused the {what}: {exc.error}" + (f" ({exc.description})" if exc.description else ""),
            grant_gone=gone,
        ) from None
    except httpx2.HTTPStatusError as exc:
        raise OAuthFailure(
            f"{provider.title}'s token endpoint answered HTTP {exc.response.status_code} "
            f"during the {what}; try again in a minute."
        ) from None
    except (httpx2.HTTPError, ValueError) as exc:
        raise OAuthFailure(
            f"{provider.title}'s token endpoint could not be reached or answered garbage "
            f"during the {what} ({type(exc).__name__}); try again in a minute."
        ) from None


# -- refresh, identity, revocation ----------------------------------------


def refresh(provider: Provider, token: OAuthToken, now: float, *, timeout: float = DEFAULT_TIMEOUT) -> OAuthToken:
    """A new access token from the refresh token (and the new refresh token, where they rotate)."""
    if token.refresh_token is None:
        raise OAuthFailure(f"The {provider.title} token has expired and cannot be refreshed.", grant_gone=True)
    refresh_token = token.refresh_token.get_secret_value()
    app = OAuthApp(token.client_id, token.client_secret)
    client = _client(provider, app, timeout=timeout)
    response = _call(
        provider,
        "token refresh",
        lambda: client.refresh_token(token.token_url, refresh_token=refresh_token, **_client_id_in_body(provider, app)),
    )
    return token_from_response(provider, app, dict(response), now, previous=token)


def identify(
    provider: Provider, token: OAuthToken, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, str, dict[str, str]]:
    """(account, label, extra facts) for a fresh token, from the provider's user-info endpoint."""
    import httpx

    assert provider.endpoints is not None and provider.endpoints.userinfo
    headers = {"Authorization": f"{provider.userinfo_scheme} {token.access_token.get_secret_value()}"}
    try:
        response = httpx.get(provider.endpoints.userinfo, headers=headers, timeout=timeout)
        response.raise_for_status()
        info = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OAuthFailure(
            f"Signed in, but {provider.title} did not say whose account it is "
            f"({type(exc).__name__}); nothing was stored. Run the command again."
        ) from None
    return identity_from(provider.name, info)


def identity_from(provider: str, info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(account, label, extra facts) from a provider's user-info answer."""
    return _IDENTITY[provider](info)


def _google(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    return info.get("email") or info["sub"], info.get("name") or info.get("email", ""), {}


def _meta(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    return str(info["id"]), info.get("name", ""), {}


def _linkedin(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    return info.get("email") or info["sub"], info.get("name", ""), {}


def _x(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    user = info["data"]
    return "@" + user["username"], user.get("name", ""), {"user_id": str(user.get("id", ""))}


def _webflow(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    sites: list[Any] = info.get("authorization", {}).get("authorizedTo", {}).get("siteIds") or info.get("sites") or []
    site_ids: list[str] = [s if isinstance(s, str) else s.get("id", "") for s in sites]
    return (
        (site_ids[0] if len(site_ids) == 1 else "workspace"),
        f"sites: {', '.join(site_ids)}",
        {"site_ids": ",".join(site_ids)},
    )


def _mailchimp(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    login: dict[str, Any] = info.get("login") or {}
    account: str = login.get("login_name") or info.get("accountname") or info["dc"]
    return account, info.get("accountname", ""), {"dc": info["dc"], "api_endpoint": info.get("api_endpoint", "")}


_IDENTITY = {
    "google": _google,
    "meta": _meta,
    "linkedin": _linkedin,
    "x": _x,
    "webflow": _webflow,
    "mailchimp": _mailchimp,
}


def revoke(provider: Provider, token: OAuthToken, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Revoke the grant at the vendor. False when the vendor has no revocation endpoint."""
    import httpx

    if not token.revoke_url:
        return False
    # Revoking the refresh token ends the whole grant where one exists.
    value = (token.refresh_token or token.access_token).get_secret_value()
    data = {provider.revoke_token_param: value}
    auth = None
    secret = token.client_secret.get_secret_value() if token.client_secret else ""
    if provider.token_auth == "client_secret_basic":
        auth = httpx.BasicAuth(token.client_id, secret)
    else:
        data.update(client_id=token.client_id, client_secret=secret)
    try:
        response = httpx.post(token.revoke_url, data=data, auth=auth, timeout=timeout)
    except httpx.HTTPError as exc:
        raise OAuthFailure(
            f"{provider.title}'s revocation endpoint could not be reached ({type(exc).__name__})."
        ) from None
    if response.status_code >= 400 and response.status_code != 400:
        raise OAuthFailure(
            f"{provider.title} answered HTTP {response.status_code} to the revocation; the grant may still be active."
        )
    return True  # 400 = already unknown or revoked at the vendor, which is what we wanted
