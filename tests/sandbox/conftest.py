"""A sandbox server of our own for these tests, reset to the seed before each one.

The server runs for the whole module set; resetting the world is far cheaper
than restarting uvicorn, and keeps every test independent of the others.
Time for vendor rate limits is a ManualMonotonic, so no test sleeps.
"""

from __future__ import annotations

import httpx
import pytest

from sandbox import World, running
from sandbox.clock import ManualMonotonic
from sandbox.vendors.google.state import GOOGLE_DEFAULTS


@pytest.fixture(scope="session")
def sandbox_server():
    with running(world=World(seed=0)) as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server):
    """The running sandbox, its world freshly reset, with a controllable monotonic clock."""
    world = sandbox_server.world
    world.monotonic = ManualMonotonic()
    world.configure(
        companion_plugin=True,
        seo_plugin="yoast",
        webflow_rate_limit=60,
        incidents=True,
        mailchimp_latency=0,
        **GOOGLE_DEFAULTS,
    )
    world.reset()
    yield sandbox_server
    world.faults.clear()


@pytest.fixture
def mono(sb) -> ManualMonotonic:
    return sb.world.monotonic


@pytest.fixture
def creds(sb) -> dict:
    return sb.provision()


@pytest.fixture
def anon(sb):
    with httpx.Client(base_url=sb.url, timeout=5) as client:
        yield client


@pytest.fixture
def wp(sb, creds):
    """A client authenticated to WordPress with the demo application password."""
    auth = (creds["wordpress"]["username"], creds["wordpress"]["application_password"])
    with httpx.Client(base_url=sb.url + "/wp-json", auth=auth, timeout=5) as client:
        yield client


@pytest.fixture
def wf(sb, creds):
    """A client for the Webflow Data API with the demo site token."""
    headers = {"Authorization": f"Bearer {creds['webflow']['token']}"}
    with httpx.Client(base_url=creds["webflow"]["api_base"], headers=headers, timeout=5) as client:
        yield client


GOOGLE_READ_SCOPES = (
    "https://www.googleapis.com/auth/analytics.readonly https://www.googleapis.com/auth/webmasters.readonly"
)


def google_token(sb, scope: str = GOOGLE_READ_SCOPES) -> str:
    """A Google access token for ``scope``, through the sandbox's real authorize -> consent -> token flow."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlencode, urlsplit

    from sandbox.vendors.oauth.consent import approve

    app = sb.provision()["oauth"]["google"]
    redirect = "http://127.0.0.1:9/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": app["client_id"],
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": scope,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    location = approve(app["authorize_url"] + "?" + urlencode(query))
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = httpx.post(
        app["token_url"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def google(sb) -> str:
    """An access token with the read-only analytics and webmasters scopes."""
    return google_token(sb)
