"""WordPress's Authorize Application flow and the application passwords it issues, over loopback HTTP.

The "browser" is ``sandbox.consent.approve``, as in the OAuth tests.
"""

from __future__ import annotations

import re

import httpx
import pytest

from sandbox.vendors.oauth.consent import approve

from .oauth_flow import APP_ID, query_of, tokens, wp_authorize_url


def test_wordpress_authorize_application_end_to_end(sb, creds, wp):
    location = approve(wp_authorize_url(sb))
    answer = query_of(location)
    assert location.startswith("http://127.0.0.1:9/wp-done?")
    assert answer["site_url"] == sb.url and answer["user_login"] == "demo"
    assert re.fullmatch(r"[A-Za-z0-9]{4}( [A-Za-z0-9]{4}){5}", answer["password"])

    with httpx.Client(base_url=sb.url + "/wp-json", auth=("demo", answer["password"])) as client:
        assert client.get("/wp/v2/users/me").json()["id"] == 1
        listed = client.get("/wp/v2/users/me/application-passwords").json()
        assert [p["name"] for p in listed] == ["Sandbox demo", "marketing-mcp on laptop"]
        assert all("password" not in p for p in listed)
        mine = client.get("/wp/v2/users/me/application-passwords/introspect").json()
        assert mine["name"] == "marketing-mcp on laptop" and mine["app_id"] == APP_ID
        assert mine["last_used"] is not None and mine["last_ip"] == "127.0.0.1"
        assert set(mine) >= {"uuid", "app_id", "name", "created", "last_used", "last_ip"}

        deleted = wp.delete(f"/wp/v2/users/me/application-passwords/{mine['uuid']}")
        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        assert deleted.json()["previous"]["uuid"] == mine["uuid"]
        refused = client.get("/wp/v2/users/me")
        assert refused.status_code == 401 and refused.json()["code"] == "incorrect_password"
    assert wp.get("/wp/v2/users/me").status_code == 200  # the seeded password still works
    missing = wp.delete(f"/wp/v2/users/me/application-passwords/{mine['uuid']}")
    assert missing.status_code == 404 and missing.json()["code"] == "application_password_not_found"


def test_wordpress_reject_sends_success_false(sb):
    location = approve(wp_authorize_url(sb, reject_url="http://127.0.0.1:9/wp-no"), decision="deny")
    assert location == "http://127.0.0.1:9/wp-no?success=false"
    location = approve(wp_authorize_url(sb), decision="reject")
    assert location == "http://127.0.0.1:9/wp-done?success=false"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"success_url": "http://127.0.0.2:9/done"}, "The success URL must be served over a secure connection."),
        ({"reject_url": "http://127.0.0.2:9/no"}, "The rejection URL must be served over a secure connection."),
        ({"app_id": "not-a-uuid"}, "The application ID must be a UUID."),
    ],
)
def test_wordpress_refuses_untrustworthy_requests(sb, params, message):
    url = wp_authorize_url(sb, **params)
    assert httpx.get(url).status_code == 400
    with pytest.raises(ValueError, match=re.escape(message)):
        approve(url)


def test_wordpress_accepts_https_success_urls(sb):
    location = approve(wp_authorize_url(sb, success_url="https://127.0.0.1:9/after-login"))
    assert location.startswith("https://127.0.0.1:9/after-login?site_url=")  # returned, never fetched


def test_wordpress_application_names_must_be_unique(sb):
    approve(wp_authorize_url(sb, app_name="marketing-mcp"))
    with pytest.raises(ValueError, match="Each application name should be unique."):
        approve(wp_authorize_url(sb, app_name="marketing-mcp"))


def test_application_passwords_need_a_login(anon):
    r = anon.get("/wp-json/wp/v2/users/me/application-passwords")
    assert r.status_code == 401 and r.json()["code"] == "rest_not_logged_in"


def test_credentials_issued_before_a_reset_never_match_ones_issued_after(sb, creds):
    seeded = [(p.uuid, p.password) for p in sb.world.wordpress.users[1].application_passwords]
    before = tokens(creds, "webflow")["access_token"]
    wp_before = query_of(approve(wp_authorize_url(sb)))["password"]
    sb.world.reset()
    assert [(p.uuid, p.password) for p in sb.world.wordpress.users[1].application_passwords] == seeded
    assert tokens(creds, "webflow")["access_token"] != before
    assert query_of(approve(wp_authorize_url(sb)))["password"] != wp_before
