"""The vendors' OAuth endpoints over HTTP, under ``/oauth/{provider}/``.

``authorize`` shows the consent page, ``consent`` answers it with a 302 to the
client's redirect_uri, ``token`` and ``revoke`` take form bodies (Meta's token
endpoint also GET with a query, like Graph's ``/oauth/access_token``), and
``userinfo`` (Mailchimp: ``metadata``) says who a token belongs to.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Mapping
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ...world import World
from .consent_pages import error_page, oauth_consent, oauth_error
from .providers import OAUTH_PREFIX, PROVIDERS
from .server import AuthorizePageError, AuthorizeRedirectError, OAuthError
from .vendors import VENDORS, Answer

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def with_query(uri: str, params: Mapping[str, str]) -> str:
    """``uri`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(uri)
    extra = urlencode(dict(params))
    query = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
    return urlunsplit(parts._replace(query=query))


def _answer(answer: Answer, headers: Mapping[str, str] | None = None) -> Response:
    status, body, extra = answer
    all_headers = {**(headers or {}), **extra}
    if body is None:
        return Response(status_code=status, headers=all_headers)
    return Response(json.dumps(body), status_code=status, headers=all_headers, media_type="application/json")


def _not_found() -> Response:
    return JSONResponse({"error": "not_found", "error_description": "No such endpoint"}, status_code=404)


async def _params(request: Request) -> dict[str, str]:
    """Query and form parameters together, the form winning, as OAuth servers read them."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type in ("", "application/x-www-form-urlencoded"):
        raw = (await request.body()).decode("utf-8", "replace")
        params.update(parse_qsl(raw, keep_blank_values=True))
    return params


def _basic(header: str | None) -> tuple[str, str] | None:
    """client_secret_basic: both halves are form-encoded before base64 (RFC 6749 §2.3.1)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _credential(header: str | None, scheme: str) -> str | None:
    if not header:
        return None
    given, _, value = header.partition(" ")
    if given.lower() != scheme:
        return None
    return value.strip() or None


def oauth_routes(world: World) -> list[Route]:
    def provider_of(request: Request) -> str | None:
        name = request.path_params["provider"]
        return name if name in PROVIDERS else None

    async def authorize(request: Request) -> Response:
        provider = provider_of(request)
        if provider is None:
            return _not_found()
        spec, vendor = PROVIDERS[provider], VENDORS[provider]
        with world.lock:
            try:
                pending = world.oauth.start(provider, dict(request.query_params))
            except AuthorizePageError as err:
                return HTMLResponse(oauth_error(spec, err.error, err.description), status_code=400)
            except AuthorizeRedirectError as err:
                target = with_query(err.redirect_uri, vendor.refused_params(err.error, err.description, err.state))
                return RedirectResponse(target, status_code=302)
            html = oauth_consent(spec, pending.app, pending, world.oauth.accounts[provider])
        return HTMLResponse(html)

    async def consent(request: Request) -> Response:
        provider = provider_of(request)
        if provider is None:
            return _not_found()
        spec, vendor = PROVIDERS[provider], VENDORS[provider]
        form = await _params(request)
        decision = form.get("decision")
        if decision not in ("approve", "deny"):
            return HTMLResponse(
                error_page(f"{spec.display}: Error 400", "invalid_request: Choose Allow or Cancel."), status_code=400
            )
        with world.lock:
            try:
                pending, code = world.oauth.decide(provider, form.get("request") or "", decision == "approve")
            except AuthorizePageError as err:
                return HTMLResponse(oauth_error(spec, err.error, err.description), status_code=400)
        params = vendor.approved_params(pending, code) if code else vendor.denied_params(pending)
        return RedirectResponse(with_query(pending.redirect_uri, params), status_code=302)

    async def token(request: Request) -> Response:
        provider = provider_of(request)
        if provider is None:
            return _not_found()
        vendor = VENDORS[provider]
        if request.method == "GET" and provider != "meta":
            return JSONResponse(
                {"error": "invalid_request", "error_description": "The token endpoint takes POST"},
                status_code=405,
                headers={"Allow": "POST"},
            )
        params = await _params(request)
        with world.lock:
            try:
                issued = world.oauth.token(provider, params, _basic(request.headers.get("authorization")))
            except OAuthError as err:
                return _answer(vendor.token_error(err), _NO_STORE)
            body = vendor.token_body(issued)
        return _answer((200, body, {}), _NO_STORE)

    async def revoke(request: Request) -> Response:
        provider = provider_of(request)
        if provider is None or not PROVIDERS[provider].revocable:
            return _not_found()
        vendor = VENDORS[provider]
        params = await _params(request)
        with world.lock:
            if vendor.revoke_needs_client:
                try:
                    world.oauth.authenticate_client(provider, params, _basic(request.headers.get("authorization")))
                except OAuthError as err:
                    return _answer(vendor.token_error(err))
            value = params.get(vendor.revoke_param)
            if not value:
                return _answer(vendor.missing_revoke_token())
            done = world.oauth.revoke(provider, value)
        return _answer(vendor.revoked(done))

    async def userinfo(request: Request) -> Response:
        provider = provider_of(request)
        if provider is None or request.path_params["info"] != PROVIDERS[provider].userinfo_path:
            return _not_found()
        vendor = VENDORS[provider]
        value = _credential(request.headers.get("authorization"), vendor.userinfo_scheme)
        base = str(request.base_url).rstrip("/")
        with world.lock:
            app = world.oauth.apps[provider]
            status, grant = world.oauth.inspect(provider, value) if value else ("unknown", None)
            answer: Answer = (
                vendor.userinfo(grant, app, base)
                if grant is not None and status == "active"
                else vendor.unauthorized(status, app)
            )
        return _answer(answer)

    prefix = OAUTH_PREFIX + "/{provider}"
    return [
        Route(prefix + "/authorize", authorize, methods=["GET"]),
        Route(prefix + "/consent", consent, methods=["POST"]),
        Route(prefix + "/token", token, methods=["GET", "POST"]),
        Route(prefix + "/revoke", revoke, methods=["POST"]),
        Route(prefix + "/{info}", userinfo, methods=["GET"]),
    ]
