"""A scripted browser for the sandbox's consent screens.

``approve`` plays the user: open the authorize URL, answer the consent form,
and deliver the redirect to the client's loopback listener, the way a browser
would. It is synchronous because it usually runs in a thread that stands in for
the browser while a login flow waits for its callback.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from .consent_pages import WP_AUTHORIZE_PATH
from .server import LOOPBACK_HOSTS

_FORM = re.compile(r'<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
_ERROR = re.compile(r'<p id="error">(.*?)</p>', re.S)
_DECISIONS = {"approve": "approve", "deny": "deny", "reject": "deny"}


def approve(authorize_url: str, *, decision: str = "approve", timeout: float = 10.0) -> str:
    """Answer the consent page at ``authorize_url`` and return the redirect Location it leads to.

    ``decision`` is "approve" or "deny" ("reject" is accepted for WordPress's
    wording). The Location is also fetched when it points at a loopback host,
    as a browser would, so a waiting redirect listener receives it; a listener
    that is gone is no error. A page that refuses the request raises
    ``ValueError`` with the page's error text.
    """
    import httpx  # deferred: the world model imports this package without the HTTP stack

    choice = _DECISIONS.get(decision)
    if choice is None:
        raise ValueError(f"decision must be 'approve' or 'deny', not {decision!r}")
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        page = client.get(authorize_url)
        if page.is_redirect:
            return _deliver(client, _location(page))
        if page.status_code >= 400:
            raise ValueError(_error_text(page))
        answer = client.post(_form_action(page), data=_form_data(page, choice))
        if not answer.is_redirect:
            raise ValueError(
                _error_text(answer)
                if _ERROR.search(answer.text) or answer.status_code >= 400
                else "the consent page answered without a redirect"
            )
        return _deliver(client, _location(answer))


def _location(response: Any) -> str:
    return urljoin(str(response.url), response.headers["location"])


def _deliver(client: Any, location: str) -> str:
    import httpx

    if urlsplit(location).hostname in LOOPBACK_HOSTS:  # never leave the machine: this is an offline stand-in
        try:
            client.get(location)
        except httpx.HTTPError:
            pass  # the listener may have closed already; the Location is what matters
    return location


def _form(page: Any) -> tuple[str, str]:
    match = _FORM.search(page.text)
    if match is None:
        raise ValueError(f"no consent form at {page.url}")
    return unescape(match.group(1)), match.group(2)


def _form_action(page: Any) -> str:
    return urljoin(str(page.url), _form(page)[0])


def _form_data(page: Any, choice: str) -> dict[str, str]:
    _, inner = _form(page)
    data = {unescape(name): unescape(value) for name, value in _HIDDEN.findall(inner)}
    if urlsplit(str(page.url)).path == WP_AUTHORIZE_PATH:
        # WordPress's form has two named submit buttons instead of one "decision" field.
        data["approve" if choice == "approve" else "reject"] = "1"
    else:
        data["decision"] = choice
    return data


def _error_text(response: Any) -> str:
    match = _ERROR.search(response.text)
    if match is None:
        return f"HTTP {response.status_code} from {response.url}"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
