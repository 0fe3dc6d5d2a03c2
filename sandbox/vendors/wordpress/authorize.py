"""WordPress's Authorize Application flow (``/wp-admin/authorize-application.php``).

An app sends the user here with ``app_name``, ``app_id``, ``success_url`` and
``reject_url``; approving creates a new application password for the logged-in
user ("demo" in the sandbox) and redirects to ``success_url`` with
``site_url``, ``user_login`` and ``password``. Rejecting redirects with
``success=false``. As in core, a request WordPress cannot trust ends on an
error page instead of a redirect.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...world import World
from ..oauth.consent_pages import error_page, wp_authorize, wp_password_shown
from ..oauth.http import with_query
from ..oauth.server import LOOPBACK_HOSTS
from .site import WPError, chunk_password

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_FIELDS = ("app_name", "app_id", "success_url", "reject_url")
SANDBOX_LOGIN = "demo"  # the user the sandbox's wp-admin is always logged in as


def _problems(fields: dict[str, str]) -> list[str]:
    """``wp_is_authorize_application_password_request_valid``; http is allowed only for a local target."""
    problems = []
    for key, label in (("success_url", "success"), ("reject_url", "rejection")):
        url = fields.get(key)
        if url:
            parts = urlsplit(url)
            if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
                problems.append(f"The {label} URL must be served over a secure connection.")
    if fields.get("app_id") and not _UUID.fullmatch(fields["app_id"]):
        problems.append("The application ID must be a UUID.")
    return problems


def _nonce(world: World) -> str:
    # Like wp_create_nonce: stable for the user and action, unguessable without the site's secret.
    return hashlib.sha256(
        f"{world.seed}:{world.credentials.wordpress_application_password}:authorize_application_password".encode()
    ).hexdigest()[:10]


async def authorize_application(request: Request, world: World) -> Response:
    base = str(request.base_url).rstrip("/")
    if request.method == "POST":
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    else:
        form = dict(request.query_params)
    fields = {k: form.get(k, "") for k in _FIELDS}
    problems = _problems(fields)
    if problems:
        message = "The Authorize Application request is not allowed. " + " ".join(problems)
        return HTMLResponse(error_page("Cannot Authorize Application", message), status_code=400)
    with world.lock:
        site = world.wordpress
        user = site.user_by_login(SANDBOX_LOGIN)
        assert user is not None
        hidden = {"action": "authorize_application_password", "_wpnonce": _nonce(world), **fields}
        if request.method != "POST" or form.get("action") != "authorize_application_password":
            return HTMLResponse(wp_authorize(site.name, user.username, hidden))
        if form.get("_wpnonce") != hidden["_wpnonce"]:
            return HTMLResponse(
                error_page("Something went wrong.", "The link you followed has expired."), status_code=403
            )
        if "reject" in form:
            target = fields["reject_url"] or fields["success_url"]
            return RedirectResponse(
                with_query(target, {"success": "false"}) if target else base + "/wp-admin/", status_code=302
            )
        if "approve" not in form:
            return HTMLResponse(wp_authorize(site.name, user.username, hidden))
        try:
            _, password = site.create_application_password(
                user, fields["app_name"], world.now(), app_id=fields["app_id"]
            )
        except WPError as err:
            return HTMLResponse(wp_authorize(site.name, user.username, hidden, error=err.message))
    shown = chunk_password(password)
    if not fields["success_url"]:
        return HTMLResponse(wp_password_shown(site.name, fields["app_name"], shown))
    target = with_query(fields["success_url"], {"site_url": base, "user_login": user.username, "password": shown})
    return RedirectResponse(target, status_code=302)
