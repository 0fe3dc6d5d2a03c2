"""The HTML a user sees while connecting an app: vendor consent screens and WordPress's Authorize Application.

Deliberately plain markup with stable names: ``consent.approve`` and tests
read these forms and the ``id="error"`` paragraph with regular expressions.
"""

from __future__ import annotations

from html import escape
from typing import Mapping

from .providers import OAUTH_PREFIX, ProviderSpec
from .server import Account, App, PendingAuthorization


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="UTF-8">\n<title>{escape(title)}</title>\n'
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def error_page(title: str, message: str) -> str:
    return _page(title, f'<h1>{escape(title)}</h1>\n<p id="error">{escape(message)}</p>')


# -- vendor OAuth ------------------------------------------------------------


def oauth_consent(spec: ProviderSpec, app: App, pending: PendingAuthorization, account: Account) -> str:
    scopes = "\n".join(f"<li><code>{escape(s)}</code></li>" for s in pending.scopes) or "<li>Basic account access</li>"
    body = (
        f"<h1>Sign in with {escape(spec.display)}</h1>\n"
        f"<p>Signed in as {escape(account.name)} ({escape(account.email)}).</p>\n"
        f'<p><strong id="app">{escape(app.name)}</strong> wants to access your {escape(spec.display)} account:</p>\n'
        f'<ul id="scopes">\n{scopes}\n</ul>\n'
        f'<form method="post" action="{OAUTH_PREFIX}/{spec.name}/consent">\n'
        f'<input type="hidden" name="request" value="{escape(pending.id)}">\n'
        '<button type="submit" name="decision" value="approve">Allow</button>\n'
        '<button type="submit" name="decision" value="deny">Cancel</button>\n'
        "</form>"
    )
    return _page(f"Sign in - {spec.display}", body)


def oauth_error(spec: ProviderSpec, error: str, description: str) -> str:
    return error_page(f"{spec.display}: Error 400: {error}", f"{error}: {description}")


# -- WordPress ---------------------------------------------------------------

WP_AUTHORIZE_PATH = "/wp-admin/authorize-application.php"


def wp_authorize(site_name: str, user_login: str, fields: Mapping[str, str], error: str | None = None) -> str:
    """WordPress's Authorize Application screen; ``fields`` become the form's hidden inputs."""
    app_name = fields.get("app_name") or ""
    who = f"<strong>{escape(app_name)}</strong> would like" if app_name else "An application would like"
    notice = f'<div class="notice notice-error"><p id="error">{escape(error)}</p></div>\n' if error else ""
    hidden = "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
    body = (
        f"<h1>Authorize Application</h1>\n{notice}"
        f"<p>{who} to connect to your {escape(site_name)} account as <strong>{escape(user_login)}</strong>. "
        "This application will be able to do anything you can do on this site.</p>\n"
        f'<form action="{WP_AUTHORIZE_PATH}" method="post">\n{hidden}\n'
        '<input type="submit" name="approve" value="Yes, I approve of this connection">\n'
        '<input type="submit" name="reject" value="No, I do not approve of this connection">\n'
        "</form>"
    )
    return _page(f"Authorize Application \u2039 {site_name} \u2014 WordPress", body)


def wp_password_shown(site_name: str, app_name: str, password: str) -> str:
    """With no success_url WordPress shows the new password once, on the page."""
    body = (
        f"<h1>Authorize Application</h1>\n<p>Your new password for {escape(app_name)} is:</p>\n"
        f'<p><kbd id="password">{escape(password)}</kbd></p>\n'
        "<p>Be sure to save this in a safe location. You will not be able to retrieve it.</p>"
    )
    return _page(f"Authorize Application \u2039 {site_name} \u2014 WordPress", body)
