"""The vendors' OAuth servers, over loopback HTTP (WordPress's Authorize Application flow is in
``test_wordpress_authorize``).

The "browser" is ``sandbox.consent.approve``. Most tests let it redirect to a
closed loopback port and read the code from the returned Location; one runs a
real listener to show the code arrives the way a login flow receives it.
"""

from __future__ import annotations

import http.server
import re
import secrets
import threading

import httpx
import pytest

from sandbox import World
from sandbox.vendors.oauth.consent import approve

from .oauth_flow import (
    PROVIDERS,
    REDIRECT,
    SCOPES,
    authorize_url,
    exchange,
    login,
    oauth_error,
    pkce,
    query_of,
    refresh,
    token_request,
    tokens,
    userinfo,
)


@pytest.fixture
def google_testing(sb):
    """The Google app in "Testing" publishing status, set through the admin API and undone afterwards."""
    r = httpx.post(sb.url + "/_sandbox/config", json={"google_oauth_testing": True})
    assert r.status_code == 200, r.text
    yield
    sb.world.configure(google_oauth_testing=False)


# -- registration --------------------------------------------------------------


def test_provision_lists_one_app_per_provider(sb, creds):
    base = sb.url
    assert set(creds["oauth"]) == set(PROVIDERS)
    for name, app in creds["oauth"].items():
        assert app["client_id"] == f"sandbox-{name}-app"
        assert len(app["client_secret"]) >= 32
        assert app["authorize_url"] == f"{base}/oauth/{name}/authorize"
        assert app["token_url"] == f"{base}/oauth/{name}/token"
    assert creds["oauth"]["mailchimp"]["revoke_url"] is None
    assert creds["oauth"]["mailchimp"]["userinfo_url"] == f"{base}/oauth/mailchimp/metadata"
    assert creds["oauth"]["google"]["revoke_url"] == f"{base}/oauth/google/revoke"
    assert set(creds) == {"wordpress", "webflow", "mailchimp", "customerio", "oauth"}


def test_client_secrets_come_from_the_seed():
    assert World(seed=3).provision("http://x")["oauth"] == World(seed=3).provision("http://x")["oauth"]
    assert (
        World(seed=3).provision("http://x")["oauth"]["google"]["client_secret"]
        != World(seed=4).provision("http://x")["oauth"]["google"]["client_secret"]
    )


# -- the authorization-code flow, per provider -----------------------------------

EXPECTED_USERINFO = {
    "google": {"sub", "email", "email_verified", "name"},
    "meta": {"id", "name"},
    "linkedin": {"sub", "name", "email"},
    "x": {"data"},
    "webflow": {"authorization", "user", "sites"},
    "mailchimp": {"dc", "role", "accountname", "user_id", "login", "login_url", "api_endpoint"},
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_code_exchange_with_pkce_then_userinfo(creds, provider):
    body = tokens(creds, provider)
    assert body["access_token"]
    info = userinfo(creds, provider, body["access_token"])
    assert info.status_code == 200, info.text
    assert EXPECTED_USERINFO[provider] <= set(info.json())


def test_token_response_shapes(creds):
    google = tokens(creds, "google", access_type="offline")
    assert google["expires_in"] == 3599 and google["token_type"] == "Bearer" and google["refresh_token"]
    assert google["scope"] == SCOPES["google"]
    meta = tokens(creds, "meta")
    assert set(meta) == {"access_token", "token_type", "expires_in"} and meta["expires_in"] == 3600
    linkedin = tokens(creds, "linkedin")
    assert linkedin["expires_in"] == 5184000 and linkedin["refresh_token_expires_in"] == 31536000
    x = tokens(creds, "x")
    assert x["expires_in"] == 7200 and x["token_type"] == "bearer" and x["refresh_token"]
    webflow = tokens(creds, "webflow")
    assert set(webflow) == {"access_token", "token_type", "scope"}
    mailchimp = tokens(creds, "mailchimp")
    assert mailchimp["expires_in"] == 0 and mailchimp["scope"] is None


def test_the_loopback_listener_receives_the_code(creds):
    received: list[str] = []

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"You can close this window.")

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        redirect = f"http://127.0.0.1:{server.server_port}/callback"
        verifier, challenge = pkce()
        location = approve(
            authorize_url(
                creds, "google", redirect_uri=redirect, code_challenge=challenge, code_challenge_method="S256"
            )
        )
        thread.join(timeout=5)
    finally:
        server.server_close()
    assert received and received[0].startswith("/callback?")
    code = query_of(received[0])["code"]
    assert query_of(location)["code"] == code
    assert exchange(creds, "google", code, verifier, redirect_uri=redirect).status_code == 200


def test_consent_page_names_the_app_and_scopes(creds):
    page = httpx.get(authorize_url(creds, "google"))
    assert page.status_code == 200
    assert "Marketing MCP (sandbox)" in page.text
    assert "https://www.googleapis.com/auth/analytics.readonly" in page.text
    assert '<form method="post" action="/oauth/google/consent">' in page.text
    assert re.search(r'<input type="hidden" name="request" value="[0-9a-f]+">', page.text)
    assert 'name="decision" value="approve"' in page.text and 'name="decision" value="deny"' in page.text


def test_deny_redirects_access_denied_with_state(creds):
    location = approve(authorize_url(creds, "linkedin"), decision="deny")
    assert query_of(location) == {"error": "access_denied", "state": "st-42"}


def test_a_consent_page_answers_only_once(sb, creds):
    page = httpx.get(authorize_url(creds, "webflow"))
    found = re.search(r'name="request" value="([^"]+)"', page.text)
    assert found, page.text
    request_id = found.group(1)
    consent = sb.url + "/oauth/webflow/consent"
    assert httpx.post(consent, data={"request": request_id, "decision": "approve"}).status_code == 302
    again = httpx.post(consent, data={"request": request_id, "decision": "approve"})
    assert again.status_code == 400 and 'id="error"' in again.text


def test_loopback_redirects_may_use_any_port_and_path(creds):
    verifier, challenge = pkce()
    location = approve(
        authorize_url(creds, "webflow", redirect_uri="http://localhost:1/some/where?x=1", code_challenge=challenge)
    )
    assert location.startswith("http://localhost:1/some/where?x=1&code=")


# -- authorize-time refusals -------------------------------------------------------


# Loopback-only values: https on loopback, a loopback address outside RFC 8252's three hosts, a name
# that only looks like loopback, a custom scheme.
@pytest.mark.parametrize(
    "redirect_uri",
    ["https://127.0.0.1/callback", "http://127.0.0.2:8080/cb", "http://127.0.0.1.invalid/cb", "myapp://callback"],
)
def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(creds, redirect_uri):
    url = authorize_url(creds, "google", redirect_uri=redirect_uri)
    page = httpx.get(url)
    assert page.status_code == 400 and "redirect_uri_mismatch" in page.text
    with pytest.raises(ValueError, match="redirect_uri_mismatch"):
        approve(url)


def test_unknown_client_is_an_error_page(creds):
    url = authorize_url(creds, "meta", client_id="someone-else")
    with pytest.raises(ValueError, match="invalid_client"):
        approve(url)


def test_unknown_scope_and_response_type_redirect_with_an_error(creds):
    location = approve(authorize_url(creds, "google", scope="openid https://www.googleapis.com/auth/drive"))
    assert query_of(location)["error"] == "invalid_scope" and query_of(location)["state"] == "st-42"
    location = approve(authorize_url(creds, "linkedin", response_type="token"))
    assert query_of(location)["error"] == "unsupported_response_type"


def test_meta_takes_comma_or_space_separated_scopes(creds):
    assert tokens(creds, "meta", scope="ads_read pages_show_list")["access_token"]
    assert tokens(creds, "meta", scope="ads_read,business_management")["access_token"]


def test_plain_pkce_is_the_default_method(creds):
    verifier = secrets.token_urlsafe(48)
    location = approve(authorize_url(creds, "linkedin", code_challenge=verifier))
    assert exchange(creds, "linkedin", query_of(location)["code"], verifier).status_code == 200


# -- codes -------------------------------------------------------------------------


def test_a_reused_code_is_invalid_grant_and_revokes_what_it_bought(creds):
    code, verifier = login(creds, "google", access_type="offline")
    first = exchange(creds, "google", code, verifier).json()
    assert userinfo(creds, "google", first["access_token"]).status_code == 200
    body = oauth_error(exchange(creds, "google", code, verifier), 400, "invalid_grant")
    assert body["error_description"] == "Bad Request"
    assert userinfo(creds, "google", first["access_token"]).status_code == 401
    oauth_error(refresh(creds, "google", first["refresh_token"]), 400, "invalid_grant")


def test_codes_expire(creds, mono):
    code, verifier = login(creds, "x")
    mono.advance(31)
    body = oauth_error(exchange(creds, "x", code, verifier), 400, "invalid_request")
    assert body["error_description"] == "Value passed for the authorization code was invalid."
    code, verifier = login(creds, "google")
    mono.advance(599)
    assert exchange(creds, "google", code, verifier).status_code == 200
    code, verifier = login(creds, "google")
    mono.advance(600)
    oauth_error(exchange(creds, "google", code, verifier), 400, "invalid_grant")


def test_a_wrong_or_missing_verifier_is_refused_and_the_code_survives(creds):
    code, verifier = login(creds, "linkedin")
    oauth_error(exchange(creds, "linkedin", code, pkce()[0]), 400, "invalid_grant")
    body = oauth_error(exchange(creds, "google", login(creds, "google")[0], None), 400, "invalid_grant")
    assert body["error_description"] == "Missing code verifier."
    assert exchange(creds, "linkedin", code, verifier).status_code == 200


def test_the_token_request_must_repeat_the_redirect_uri(creds):
    code, verifier = login(creds, "google")
    body = oauth_error(
        exchange(creds, "google", code, verifier, redirect_uri="http://127.0.0.1:9/other"), 400, "redirect_uri_mismatch"
    )
    assert body["error_description"] == "Bad Request"
    code, verifier = login(creds, "webflow")
    oauth_error(
        exchange(creds, "webflow", code, verifier, redirect_uri="http://127.0.0.1:10/callback"), 400, "invalid_grant"
    )


def test_meta_redirect_mismatch_speaks_graph(creds):
    code, verifier = login(creds, "meta")
    r = exchange(creds, "meta", code, verifier, redirect_uri="http://127.0.0.1:9/elsewhere")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "OAuthException" and error["code"] == 100 and error["fbtrace_id"]


# -- client authentication -----------------------------------------------------------


def test_a_wrong_secret_is_invalid_client(creds):
    code, verifier = login(creds, "google")
    app = creds["oauth"]["google"]
    r = httpx.post(
        app["token_url"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": app["client_id"],
            "client_secret": "wrong",
        },
    )
    oauth_error(r, 401, "invalid_client")
    # Google also takes HTTP Basic; the code was not spent by the failed attempt.
    assert (
        token_request(
            creds,
            "google",
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
            basic=True,
        ).status_code
        == 200
    )


def test_meta_wrong_secret_is_a_graph_error(creds):
    code, verifier = login(creds, "meta")
    app = creds["oauth"]["meta"]
    r = httpx.get(
        app["token_url"],
        params={
            "client_id": app["client_id"],
            "client_secret": "nope",
            "redirect_uri": REDIRECT,
            "code": code,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Error validating client secret."


def test_x_requires_pkce(creds):
    location = approve(authorize_url(creds, "x"))
    assert query_of(location)["error"] == "invalid_request"


def test_x_requires_basic_auth_for_its_confidential_client(creds):
    code, verifier = login(creds, "x")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    body = oauth_error(token_request(creds, "x", data, basic=False), 401, "unauthorized_client")
    assert body["error_description"] == "Missing valid authorization header"
    assert token_request(creds, "x", data, basic=True).status_code == 200


def test_only_meta_takes_get_at_the_token_endpoint(creds):
    code, verifier = login(creds, "meta")
    app = creds["oauth"]["meta"]
    r = httpx.get(
        app["token_url"],
        params={
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": REDIRECT,
            "code": code,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    assert httpx.get(creds["oauth"]["google"]["token_url"]).status_code == 405


# -- refresh and rotation --------------------------------------------------------------


def test_x_rotates_refresh_tokens(creds):
    first = tokens(creds, "x")
    second = refresh(creds, "x", first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"] and rotated["access_token"] != first["access_token"]
    body = oauth_error(refresh(creds, "x", first["refresh_token"]), 400, "invalid_request")
    assert body["error_description"] == "Value passed for the token was invalid."
    assert refresh(creds, "x", rotated["refresh_token"]).status_code == 200


def test_x_gives_no_refresh_token_without_offline_access(creds):
    body = tokens(creds, "x", scope="tweet.read users.read")
    assert "refresh_token" not in body


def test_linkedin_repeats_its_refresh_token_with_less_time_left(creds, mono):
    first = tokens(creds, "linkedin")
    mono.advance(86400)
    again = refresh(creds, "linkedin", first["refresh_token"]).json()
    assert again["refresh_token"] == first["refresh_token"]
    assert again["refresh_token_expires_in"] == 31536000 - 86400
    assert again["access_token"] != first["access_token"]


def test_google_refresh_tokens_only_for_offline_and_first_or_prompted_consent(creds):
    assert "refresh_token" not in tokens(creds, "google")
    first = tokens(creds, "google", access_type="offline")
    assert first["refresh_token"]
    assert "refresh_token" not in tokens(creds, "google", access_type="offline")
    prompted = tokens(creds, "google", access_type="offline", prompt="consent")
    assert prompted["refresh_token"] and prompted["refresh_token"] != first["refresh_token"]
    renewed = refresh(creds, "google", first["refresh_token"]).json()
    assert set(renewed) == {"access_token", "expires_in", "scope", "token_type"}
    assert userinfo(creds, "google", renewed["access_token"]).status_code == 200


def test_google_incremental_authorization(creds):
    tokens(creds, "google", scope="openid email")
    narrow = tokens(creds, "google", scope="https://www.googleapis.com/auth/webmasters.readonly")
    assert narrow["scope"] == "https://www.googleapis.com/auth/webmasters.readonly"
    union = tokens(creds, "google", scope="https://www.googleapis.com/auth/adwords", include_granted_scopes="true")
    assert set(union["scope"].split()) == {
        "openid",
        "email",
        "https://www.googleapis.com/auth/webmasters.readonly",
        "https://www.googleapis.com/auth/adwords",
    }


def test_google_testing_status_refresh_tokens_die_after_seven_days(creds, mono, google_testing):
    body = tokens(creds, "google", access_type="offline")
    assert body["refresh_token_expires_in"] == 604799
    mono.advance(6 * 86400)
    assert refresh(creds, "google", body["refresh_token"]).status_code == 200
    mono.advance(86400)
    body = oauth_error(refresh(creds, "google", body["refresh_token"]), 400, "invalid_grant")
    assert body["error_description"] == "Token has been expired or revoked."


def test_access_tokens_expire(creds, mono):
    body = tokens(creds, "google", access_type="offline")
    mono.advance(3600)
    r = userinfo(creds, "google", body["access_token"])
    assert r.status_code == 401 and r.json()["error_description"] == "Invalid Credentials"
    assert (
        userinfo(creds, "google", refresh(creds, "google", body["refresh_token"]).json()["access_token"]).status_code
        == 200
    )


def test_providers_without_refresh_tokens_refuse_the_grant(creds):
    oauth_error(refresh(creds, "webflow", "anything"), 400, "unsupported_grant_type")


# -- revocation ----------------------------------------------------------------------------


def test_google_revoke_kills_the_whole_grant(creds):
    body = tokens(creds, "google", access_type="offline")
    revoke = creds["oauth"]["google"]["revoke_url"]
    r = httpx.post(revoke, data={"token": body["access_token"]})
    assert r.status_code == 200 and r.json() == {}
    assert userinfo(creds, "google", body["access_token"]).status_code == 401
    oauth_error(refresh(creds, "google", body["refresh_token"]), 400, "invalid_grant")
    again = oauth_error(httpx.post(revoke, data={"token": body["refresh_token"]}), 400, "invalid_token")
    assert again["error_description"] == "Token expired or revoked"


def test_linkedin_and_x_revoke(creds):
    linkedin = tokens(creds, "linkedin")
    app = creds["oauth"]["linkedin"]
    r = httpx.post(
        app["revoke_url"],
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": linkedin["access_token"]},
    )
    assert r.status_code == 200
    assert userinfo(creds, "linkedin", linkedin["access_token"]).json()["serviceErrorCode"] == 65601
    oauth_error(refresh(creds, "linkedin", linkedin["refresh_token"]), 400, "invalid_grant")

    x = tokens(creds, "x")
    app = creds["oauth"]["x"]
    assert httpx.post(app["revoke_url"], data={"token": x["refresh_token"]}).status_code == 401  # Basic is required
    r = httpx.post(app["revoke_url"], data={"token": x["refresh_token"]}, auth=(app["client_id"], app["client_secret"]))
    assert r.json() == {"revoked": True}
    assert userinfo(creds, "x", x["access_token"]).json()["title"] == "Unauthorized"


def test_mailchimp_has_no_revocation_and_wants_the_oauth_scheme(creds):
    body = tokens(creds, "mailchimp")
    assert (
        httpx.post(
            creds["oauth"]["mailchimp"]["token_url"].replace("/token", "/revoke"), data={"token": body["access_token"]}
        ).status_code
        == 404
    )
    url = creds["oauth"]["mailchimp"]["userinfo_url"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 401
    meta = userinfo(creds, "mailchimp", body["access_token"]).json()
    assert meta["dc"] == "us21" and meta["role"] == "owner" and meta["accountname"] == "Northwind Coffee Roasters"
    assert meta["api_endpoint"].endswith("/mailchimp") and meta["login"]["email"]


def test_meta_long_lived_exchange_and_revoke(creds, mono):
    short = tokens(creds, "meta")["access_token"]
    app = creds["oauth"]["meta"]
    r = httpx.get(
        app["token_url"],
        params={
            "grant_type": "fb_exchange_token",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "fb_exchange_token": short,
        },
    )
    assert r.status_code == 200, r.text
    long_lived = r.json()
    assert long_lived["expires_in"] == 5184000 and long_lived["access_token"] != short
    mono.advance(3600)
    assert userinfo(creds, "meta", short).json()["error"]["code"] == 190
    assert userinfo(creds, "meta", long_lived["access_token"]).status_code == 200
    r = httpx.post(app["revoke_url"], data={"access_token": long_lived["access_token"]})
    assert r.json() == {"success": True}
    dead = userinfo(creds, "meta", long_lived["access_token"])
    assert dead.status_code == 401 and dead.json()["error"]["type"] == "OAuthException"


def test_webflow_oauth_token_works_on_the_data_api_until_revoked(creds, wf):
    body = tokens(creds, "webflow")
    api = creds["webflow"]["api_base"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    sites = httpx.get(api + "/sites", headers=headers)
    assert sites.status_code == 200 and sites.headers["X-RateLimit-Remaining"] == "59"
    assert [s["id"] for s in sites.json()["sites"]] == [creds["webflow"]["site_id"]]
    introspect = httpx.get(api + "/token/introspect", headers=headers).json()
    assert introspect["authorization"]["scope"] == "sites:read,cms:read,cms:write"
    assert introspect["application"]["id"] == "sandbox-webflow-app"

    app = creds["oauth"]["webflow"]
    r = httpx.post(
        app["revoke_url"],
        data={
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "access_token": body["access_token"],
        },
    )
    assert r.json() == {"did_revoke": True}
    refused = httpx.get(api + "/sites", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "not_authorized"
    assert wf.get("/sites").status_code == 200  # the demo site token is untouched


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_tokens_are_refused_in_the_vendors_shape(creds, provider):
    r = userinfo(creds, provider, "not-a-token")
    assert r.status_code == 401
    assert r.json()


# -- the world's view ----------------------------------------------------------------------


def test_check_exposes_scopes_client_and_user(sb, creds):
    body = tokens(creds, "linkedin", scope="openid r_ads_reporting")
    grant = sb.world.oauth.check("linkedin", body["access_token"])
    assert grant is not None
    assert grant.scopes == {"openid", "r_ads_reporting"}
    assert grant.client_id == "sandbox-linkedin-app" and grant.user.email == "demo@northwind.example"
    assert sb.world.oauth.check("google", body["access_token"]) is None
    sb.world.oauth.revoke("linkedin", body["access_token"])
    assert sb.world.oauth.check("linkedin", body["access_token"]) is None


def test_reset_forgets_every_grant(sb, creds):
    body = tokens(creds, "webflow")
    sb.world.reset()
    assert userinfo(creds, "webflow", body["access_token"]).status_code == 401


def test_faults_apply_to_oauth_endpoints(sb, creds):
    sb.world.faults.add("status", path="/oauth/*/token", status=503, times=1)
    r = httpx.post(creds["oauth"]["google"]["token_url"], data={})
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
