"""The vault end to end against the sandbox's OAuth servers: sign-in through the real CLI with a
scripted browser, refresh, rotation, revocation, the 401 retry, and what never leaks."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from adapters.errors import AuthError
from credentials.records import OAuthToken, Password, Record
from credentials.vault import Vault

from ..helpers import cli

OAUTH = ["google", "meta", "linkedin", "x", "webflow", "mailchimp"]


@pytest.fixture
def config(sandbox, tmp_path) -> Path:
    """A client per test (so tests never share tokens), enabling the sandbox's CMS servers."""
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "clients": {
                    "c": {
                        "sandbox": sandbox.url,
                        "servers": {
                            "wordpress": {"settings": {"site_url": sandbox.url, "username": "demo"}},
                            "webflow": {
                                "settings": {"collection": "blog-posts", "api_base": f"{sandbox.url}/webflow/v2/"}
                            },
                        },
                    }
                }
            }
        )
    )
    return path


@pytest.fixture
def client_name(request) -> str:
    """A fresh vault client name for each test."""
    return "v" + str(abs(hash(request.node.nodeid)) % 10**9)


@pytest.fixture
def browser(monkeypatch):
    """`webbrowser.open` becomes a scripted user who approves the consent page."""
    from sandbox.vendors.oauth.consent import approve

    opened: list[str] = []

    def open_and_approve(url: str) -> bool:
        opened.append(url)
        approve(url)
        return True

    monkeypatch.setattr("webbrowser.open", open_and_approve)
    return opened


def rename_client(config: Path, name: str) -> None:
    raw = json.loads(config.read_text())
    raw["clients"] = {name: raw["clients"]["c"]}
    config.write_text(json.dumps(raw))


def login(config: Path, client: str, provider: str, *extra: str) -> None:
    rename_client(config, client)
    code, out, err = cli("auth", "login", provider, "--client", client, "--config", str(config), *extra)
    assert code == 0, err
    assert f"Stored {provider} credentials for client '{client}'" in out


def oauth(rec: Record) -> OAuthToken:
    """The record's secret, which a browser sign-in always stores as an OAuth token."""
    assert isinstance(rec.secret, OAuthToken), rec.secret.kind
    return rec.secret


def expiry(rec: Record) -> float:
    expires_at = oauth(rec).expires_at
    assert expires_at is not None, "this provider's access tokens expire"
    return expires_at


def refresh_token(rec: Record) -> str:
    token = oauth(rec).refresh_token
    assert token is not None, "this provider hands out refresh tokens"
    return token.get_secret_value()


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# -- sign-in ---------------------------------------------------------------


@pytest.mark.parametrize("provider", OAUTH)
async def test_login_through_the_browser_stores_a_working_token(provider, config, client_name, browser, sandbox):
    login(config, client_name, provider)
    assert browser and browser[0].startswith(f"{sandbox.url}/oauth/{provider}/authorize?")
    assert "code_challenge=" in browser[0] and "state=" in browser[0]
    rec = Vault.open(client_name).record(provider)
    token = rec.secret
    assert isinstance(token, OAuthToken) and rec.version == 1
    assert sandbox.world.oauth.check(provider, token.access_token.get_secret_value()) is not None
    expected = {
        "google": ("expires", True),
        "meta": ("expires", False),
        "linkedin": ("expires", True),
        "x": ("expires", True),
        "webflow": (None, False),
        "mailchimp": (None, False),
    }[provider]
    assert (token.expires_at is not None) == (expected[0] == "expires")
    assert (token.refresh_token is not None) == expected[1]
    if provider == "meta":  # the 1-hour token was traded for a 60-day one
        assert token.expires_at is not None and token.expires_at - time.time() > 50 * 86400
    if provider == "mailchimp":
        assert token.extra["dc"] and token.extra["api_endpoint"].startswith(sandbox.url)
    if provider == "google":
        assert "https://www.googleapis.com/auth/webmasters" in token.scopes and "@" in rec.account


async def test_login_without_a_browser_accepts_the_pasted_redirect(config, client_name, sandbox, monkeypatch):
    """--no-browser: the user opens the printed address elsewhere and pastes where it landed."""
    import threading

    from sandbox.vendors.oauth.consent import approve

    rename_client(config, client_name)
    out, err = io.StringIO(), io.StringIO()
    read, write = os.pipe()

    class Printed(io.StringIO):  # the user reads the address off the terminal, approves, pastes
        def write(self, text: str) -> int:
            if "/oauth/webflow/authorize?" in text:
                url = next(w for w in text.split() if "/authorize?" in w)
                threading.Thread(target=lambda: os.write(write, (paste_of(url) + "\n").encode())).start()
            return super().write(text)

    def paste_of(url: str) -> str:
        with pytest.MonkeyPatch.context() as m:  # approve without letting the listener see the redirect
            m.setattr(httpx.Client, "get", _no_follow_get(httpx.Client.get))
            return approve(url)

    monkeypatch.setattr(sys, "stdin", os.fdopen(read))
    import argparse

    from suite.auth import run

    args = argparse.Namespace(
        auth_command="login",
        provider="webflow",
        client=client_name,
        account=None,
        config=str(config),
        scope=[],
        no_browser=True,
        port=0,
        client_id=None,
        site=None,
        timeout=20.0,
    )
    assert run(args, out, Printed()) == 0, err.getvalue()
    assert Vault.open(client_name).record("webflow").secret.kind == "oauth2"


def _no_follow_get(real_get):
    def get(self, url, *args, **kwargs):
        if str(url).startswith("http://127.0.0.1") and "/callback?" in str(url):
            raise httpx.ConnectError("the browser is on another machine")
        return real_get(self, url, *args, **kwargs)

    return get


async def test_declining_consent_stores_nothing(config, client_name, sandbox, monkeypatch):
    from sandbox.vendors.oauth.consent import approve

    monkeypatch.setattr("webbrowser.open", lambda url: approve(url, decision="deny"))
    rename_client(config, client_name)
    code, out, err = cli("auth", "login", "google", "--client", client_name, "--config", str(config))
    assert code == 1 and "declined" in err and "Nothing was stored" in err
    with pytest.raises(AuthError, match="No google credentials"):
        Vault.open(client_name, create=True).record("google")


async def test_wordpress_application_password_flow_and_logout(config, client_name, browser, sandbox):
    login(config, client_name, "wordpress")
    rec = Vault.open(client_name).record("wordpress")
    assert isinstance(rec.secret, Password)
    password = rec.secret.password.get_secret_value()
    me = httpx.get(f"{sandbox.url}/wp-json/wp/v2/users/me", auth=("demo", password))
    assert me.status_code == 200
    code, out, _ = cli("auth", "logout", "wordpress", "--client", client_name, "--config", str(config))
    assert code == 0 and "revoked at the vendor and deleted" in out
    assert httpx.get(f"{sandbox.url}/wp-json/wp/v2/users/me", auth=("demo", password)).status_code == 401


# -- refresh -----------------------------------------------------------------


async def test_refresh_ahead_of_expiry_saves_the_rotated_refresh_token(config, client_name, browser, sandbox):
    login(config, client_name, "x")
    clock = Clock()
    vault = Vault(Vault.open(client_name).store, now=clock)
    before = vault.record("x")
    token = await vault.access_token("x", before.account)
    assert token == oauth(before).access_token.get_secret_value()  # still fresh: no refresh

    clock.now = expiry(before) - 60  # inside the five-minute margin
    fresh = await vault.access_token("x", before.account)
    after = vault.record("x")
    assert fresh != token and after.version == before.version + 1
    assert refresh_token(after) != refresh_token(before)
    # X rotates: the old refresh token is dead, the stored one works
    dead = httpx.post(
        f"{sandbox.url}/oauth/x/token",
        auth=_x_app(sandbox),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token(before)},
    )
    assert dead.status_code == 400


def _x_app(sandbox) -> tuple[str, str]:
    app = sandbox.provision()["oauth"]["x"]
    return app["client_id"], app["client_secret"]


async def test_concurrent_tasks_share_one_refresh(config, client_name, browser, sandbox):
    import asyncio

    login(config, client_name, "google")
    clock = Clock()
    vault = Vault(Vault.open(client_name).store, now=clock)
    rec = vault.record("google")
    clock.now = expiry(rec) + 10
    rule = sandbox.world.faults.add("latency", path="/oauth/google/token", delay=0.2)
    try:
        tokens = await asyncio.gather(*(vault.access_token("google", rec.account) for _ in range(5)))
    finally:
        sandbox.world.faults.remove(rule.id)
    assert len(set(tokens)) == 1 and rule.seen == 1


REFRESH_IN_A_PROCESS = """
import sys, time
from credentials.vault import Vault
v = Vault.open(sys.argv[1])
v = Vault(v.store, now=lambda: time.time() + 7200)  # both see the token as expired
sys.stdout.write(v.access_token_sync("google", sys.argv[2]))
"""


async def test_two_processes_refreshing_at_once_make_one_token_request(config, client_name, browser, sandbox):
    login(config, client_name, "google")
    rec = Vault.open(client_name).record("google")
    rule = sandbox.world.faults.add("latency", path="/oauth/google/token", delay=0.5)
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", REFRESH_IN_A_PROCESS, client_name, rec.account],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=60) for p in procs]
    finally:
        sandbox.world.faults.remove(rule.id)
    assert all(p.returncode == 0 for p in procs), results
    tokens = {out for out, _ in results}
    assert rule.seen == 1, "exactly one token request"
    assert len(tokens) == 1 and tokens != {oauth(rec).access_token.get_secret_value()}
    assert oauth(Vault.open(client_name).record("google")).access_token.get_secret_value() in tokens


async def test_a_revoked_grant_gives_the_exact_relogin_command(config, client_name, browser, sandbox):
    login(config, client_name, "linkedin")
    rec = Vault.open(client_name).record("linkedin")
    sandbox.world.oauth.revoke("linkedin", refresh_token(rec))
    clock = Clock()
    clock.now = expiry(rec) + 1
    vault = Vault(Vault.open(client_name).store, now=clock)
    with pytest.raises(AuthError) as caught:
        await vault.access_token("linkedin", rec.account)
    assert f"marketing-mcp auth login linkedin --client {client_name}" in caught.value.hint
    assert vault.record("linkedin").last_refresh_error  # remembered for `auth status`
    code, out, _ = cli("auth", "status", "--client", client_name, "--config", str(config))
    assert code == 1 and "refresh failing" in out


async def test_a_401_forces_one_refresh_and_one_retry(config, client_name, browser, sandbox):
    login(config, client_name, "google")
    vault = Vault.open(client_name)
    rec = vault.record("google")
    auth = vault.auth("google")
    rule = sandbox.world.faults.add("status", path="/oauth/google/userinfo", status=401, times=1)
    try:
        async with httpx.AsyncClient(auth=auth) as http:
            response = await http.get(f"{sandbox.url}/oauth/google/userinfo")
    finally:
        sandbox.world.faults.remove(rule.id)
    assert response.status_code == 200 and rule.hits == 1
    assert vault.record("google").version == rec.version + 1  # refreshed once


async def test_google_sdk_credentials_refresh_through_the_vault(config, client_name, browser, sandbox):
    import google.auth.transport.requests

    login(config, client_name, "google")
    vault = Vault.open(client_name)
    creds = vault.google_credentials()
    assert not creds.valid
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.valid and creds.token == oauth(vault.record("google")).access_token.get_secret_value()
    assert creds.token is not None
    assert "token" not in repr(creds).lower() or creds.token not in repr(creds)


# -- logout, status, isolation, leaks -------------------------------------------


async def test_logout_revokes_at_the_vendor_then_deletes(config, client_name, browser, sandbox):
    login(config, client_name, "webflow")
    token = oauth(Vault.open(client_name).record("webflow")).access_token.get_secret_value()
    api = f"{sandbox.url}/webflow/v2/sites"
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    code, out, _ = cli("auth", "logout", "webflow", "--client", client_name, "--config", str(config))
    assert code == 0 and "revoked at the vendor and deleted" in out
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    code, out, _ = cli("auth", "list", "--client", client_name)
    assert "No credentials stored" in out


async def test_status_warns_about_google_testing_apps_and_missing_scopes(config, client_name, browser, sandbox):
    sandbox.world.oauth.google_testing = True
    try:
        login(config, client_name, "google", "--scope", "openid")
    finally:
        sandbox.world.oauth.google_testing = False
    raw = json.loads(config.read_text())
    raw["clients"][client_name]["servers"].pop("webflow")
    config.write_text(json.dumps(raw))
    code, out, _ = cli("auth", "status", "--client", client_name, "--config", str(config))
    assert code == 1
    assert "Testing status" in out and "7 days" in out
    assert "the wordpress server has no wordpress credentials" in out


async def test_a_server_for_one_client_cannot_read_another_clients_credentials(config, client_name, browser, sandbox):
    from adapters.errors import AuthError as ToolAuthError
    from credentials.store import AccessDenied

    login(config, client_name, "webflow")
    other = Vault.open("someone-else", create=True)
    with pytest.raises(ToolAuthError, match="No webflow credentials are stored for client 'someone-else'"):
        other.record("webflow")
    mine = Vault.open(client_name).record("webflow")
    with pytest.raises(AccessDenied):
        other.store.put(mine)  # a record of client A handed to B's store


async def test_secrets_never_reach_logs_output_or_files_outside_the_vault(
    config, client_name, browser, sandbox, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    login(config, client_name, "x")
    vault = Vault.open(client_name)
    rec = vault.record("x")
    clock = Clock()
    clock.now = expiry(rec)
    await Vault(vault.store, now=clock).access_token("x", rec.account)
    outputs = [cli("auth", "list")[1], cli("auth", "status", "--config", str(config))[1]]
    old, fresh = oauth(rec), oauth(vault.record("x"))
    every = (old.access_token, old.refresh_token, fresh.access_token, fresh.refresh_token, fresh.client_secret)
    assert None not in every, "X hands out refresh tokens and the app has a client secret"
    secrets = [s.get_secret_value() for s in every if s is not None]
    captured = capfd.readouterr()
    text = caplog.text + "".join(outputs) + captured.out + captured.err + repr(rec) + str(rec.public())
    home = Path(os.environ["MARKETING_MCP_HOME"])
    files = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    for secret in secrets:
        assert secret not in text
        assert secret.encode() not in files
    for path in (home / "vault").glob(f"{client_name}.vault*"):
        assert path.stat().st_mode & 0o777 == 0o600


async def test_auth_set_reads_the_secret_from_stdin_and_verifies_it(config, client_name, sandbox):
    rename_client(config, client_name)
    good = sandbox.provision()["wordpress"]["application_password"]
    code, _, err = cli(
        "auth", "set", "wordpress", "--client", client_name, "--config", str(config), stdin="not the password\n"
    )
    assert code == 1 and "refused the password" in err and "not the password" not in err
    code, out, err = cli("auth", "set", "wordpress", "--client", client_name, "--config", str(config), stdin=good)
    assert code == 0, err
    assert Vault.open(client_name).record("wordpress").account == f"demo@{httpx.URL(sandbox.url).netloc.decode()}"


async def test_a_wrong_key_or_a_tampered_file_is_a_clear_error_and_loses_nothing(
    config, client_name, browser, sandbox, monkeypatch
):
    from credentials.keys import MasterKey

    login(config, client_name, "webflow")
    path = Vault.open(client_name).store.path
    before = path.read_bytes()
    monkeypatch.setenv("MARKETING_MCP_VAULT_KEY", MasterKey.generate().to_text())
    code, _, err = cli("auth", "list", "--client", client_name)
    assert code == 1 and "MARKETING_MCP_VAULT_KEY" in err
    monkeypatch.delenv("MARKETING_MCP_VAULT_KEY")

    import base64

    envelope = json.loads(before)
    sealed = bytearray(base64.b64decode(envelope["ciphertext"]))
    sealed[5] ^= 1  # one flipped bit inside the encrypted records
    envelope["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    tampered = json.dumps(envelope).encode()
    path.write_bytes(tampered)
    code, _, err = cli("auth", "list", "--client", client_name)
    assert code == 1 and "integrity" in err and "log in again" in err
    code, _, err = cli("auth", "logout", "webflow", "--client", client_name, "--config", str(config))
    assert code == 1 and path.read_bytes() == tampered  # never overwritten
