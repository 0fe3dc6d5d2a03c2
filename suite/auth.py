"""`marketing-mcp auth`: sign in, store, list, check and remove each client's credentials.

Secrets are read from a hidden prompt or from stdin, never from the command line (which other
users of the machine can read in the process list), and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import webbrowser
from pathlib import Path
from typing import Any, Callable

from pydantic import SecretStr

from credentials.providers import PROVIDERS, Provider
from credentials.providers import provider as provider_named

from .auth_status import list_credentials, show_status
from .config import McpConfig, load_config
from .registry import providers_of, scopes_needed
from .settings import CustomerIOSettings, MailchimpSettings, WebflowSettings, WordPressSettings


class AuthCommandError(Exception):
    """A failed auth command: the message says what happened and what to do."""


def add_parser(sub: Any) -> None:
    auth = sub.add_parser("auth", help="sign in to vendors and manage each client's stored credentials")
    cmds = auth.add_subparsers(dest="auth_command", required=True, metavar="ACTION")
    names = sorted(PROVIDERS)

    login = cmds.add_parser("login", help="sign in with OAuth (or WordPress's application-password flow)")
    login.add_argument("provider", choices=names, help="the vendor to sign in to")
    _common(login)
    login.add_argument("--scope", action="append", default=[], help="an extra scope to request (repeatable)")
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in address instead of opening a browser; paste the redirected URL back",
    )
    login.add_argument("--port", type=int, default=0, help="loopback port for the redirect (default: random)")
    login.add_argument("--client-id", help="OAuth client ID (default: oauth_apps.PROVIDER.client_id in mcp.json)")
    login.add_argument("--site", help="WordPress site URL (default: the client's wordpress settings)")
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser (default 300)")

    put = cmds.add_parser("set", help="store an API key, password or token (read from a hidden prompt or stdin)")
    put.add_argument("provider", choices=names, help="the vendor whose secret this is")
    _common(put)
    put.add_argument(
        "--username",
        help="WordPress user name (default: the client's wordpress settings), or the Customer.io Track API site ID",
    )
    put.add_argument("--site", help="WordPress site URL (default: the client's wordpress settings)")
    put.add_argument("--file", help="Google service-account key file (JSON)")
    put.add_argument("--stdin", action="store_true", help="read the secret from stdin instead of a prompt")
    put.add_argument("--no-verify", action="store_true", help="store without checking the secret with the vendor")

    listing = cmds.add_parser("list", help="what is stored, per client (no secrets)")
    listing.add_argument("--client", help="only this client")

    status = cmds.add_parser("status", help="expiry, scopes and warnings for each stored credential")
    status.add_argument("--client", help="only this client (default: every client in mcp.json and the vault)")
    status.add_argument(
        "--config",
        help="mcp.json, to check each client's servers have the credentials and scopes "
        "they need (else $MARKETING_MCP_CONFIG, else ./mcp.json)",
    )

    logout = cmds.add_parser("logout", help="revoke at the vendor where it can, then delete")
    logout.add_argument("provider", choices=names, help="the vendor to sign out of")
    _common(logout)
    logout.add_argument("--force", action="store_true", help="delete even when the vendor could not revoke")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client", required=True, help="client name in mcp.json")
    p.add_argument("--account", help="which account, when the client has several for this provider")
    p.add_argument("--config", help="path to mcp.json (else $MARKETING_MCP_CONFIG, else ./mcp.json)")


def run(args: argparse.Namespace, out=None, err=None) -> int:
    from adapters.errors import AdapterError
    from credentials.oauth import OAuthFailure
    from credentials.store import VaultError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        return ACTIONS[args.auth_command](args, out, err)
    except AuthCommandError as exc:
        err.write(f"marketing-mcp auth: {exc}\n")
    except OAuthFailure as exc:
        err.write(f"marketing-mcp auth: {exc}\n")
    except (VaultError, AdapterError) as exc:
        err.write(f"marketing-mcp auth: {exc.message}\n" + (f"  {exc.hint}\n" if exc.hint else ""))
    return 1


# -- the vault, per client ------------------------------------------------


def _vault(client: str, *, create: bool = False):
    from credentials.vault import Vault

    return Vault.open(client, create=create)


def _save(client: str, provider: str, account: str, secret: Any, label: str, out) -> None:
    from credentials.records import Record
    from credentials.store import NotStored

    vault = _vault(client, create=True)
    try:
        old = vault.store.get(provider, account)
        rec = old.model_copy(update={"secret": secret, "label": label, "last_refresh_error": None})
    except NotStored:
        rec = Record(client=client, provider=provider, account=account, secret=secret, label=label)
    stored = vault.store.put(rec)
    out.write(
        f"Stored {provider} credentials for client '{client}': account {account}"
        + (f" ({label})" if label and label != account else "")
        + f", version {stored.version}.\n"
    )


# -- login ------------------------------------------------------------------


def _login(
    args: argparse.Namespace, out, err, *, config: McpConfig | None = None, browser: Callable[[str], Any] | None = None
) -> int:
    config = config or load_config(args.config)
    client = config.client(args.client)
    p = provider_named(args.provider)
    if browser is None:
        browser, announce, paste = _browser_io(args, err)
    else:
        announce, paste = (lambda url: None), None
    if p.name == "wordpress":
        from credentials import app_passwords

        site = _wordpress_site(config, args)
        secret = app_passwords.sign_in(
            site,
            app_name=f"marketing-mcp ({args.client})",
            open_browser=browser,
            announce=announce,
            paste=paste,
            port=args.port,
            timeout=args.timeout,
        )
        account = args.account or f"{secret.username}@{_host(secret.extra['site_url'])}"
        _save(args.client, "wordpress", account, secret, secret.username, out)
        return 0
    if not p.oauth:
        raise AuthCommandError(
            f"{p.title} has no sign-in flow; store its secret with "
            f"`marketing-mcp auth set {p.name} --client {args.client}`."
        )
    from credentials import oauth

    bound, app = _oauth_app(config, args, p)
    scopes = bound.scopes_for(scopes_needed(p.name, client.enabled()))
    scopes += tuple(s for s in args.scope if s not in scopes)
    token = oauth.sign_in(
        bound, app, scopes, open_browser=browser, announce=announce, paste=paste, port=args.port, timeout=args.timeout
    )
    account, label, extra = oauth.identify(bound, token)
    if extra:
        token = token.model_copy(update={"extra": {**token.extra, **extra}})
    _save(args.client, p.name, args.account or account, token, label, out)
    missing = [s for s in scopes if s not in token.scopes]
    if missing:
        err.write(f"Note: {p.title} did not grant {', '.join(missing)}; tools needing them will be refused.\n")
    return 0


def _browser_io(args, err) -> tuple[Callable[[str], Any] | None, Callable[[str], None], Callable[[], str] | None]:
    def announce(url: str) -> None:
        if args.no_browser:
            err.write(
                f"Open this address in a browser and approve:\n\n  {url}\n\n"
                "Then paste the address the browser was sent to (or just let it reach this machine):\n"
            )
        else:
            err.write(f"Opening the browser to sign in. If nothing opens, visit:\n  {url}\n")
        err.flush()

    paste = (lambda: sys.stdin.readline()) if args.no_browser else None
    return (None if args.no_browser else webbrowser.open), announce, paste


def _oauth_app(config: McpConfig, args: argparse.Namespace, p: Provider):
    """The provider's endpoints and OAuth app for this client: the sandbox's, or the team's own."""
    from credentials.oauth import OAuthApp

    client = config.client(args.client)
    if client.sandbox:
        base = str(client.sandbox).rstrip("/")
        issued = _sandbox_provision(base).get("oauth", {}).get(p.name)
        if not issued:
            raise AuthCommandError(f"The sandbox at {base} has no {p.title} OAuth app.")
        return p.at(base), OAuthApp(issued["client_id"], SecretStr(issued["client_secret"]))
    entry = config.oauth_apps.get(p.name)
    client_id = args.client_id or (entry.client_id if entry else None)
    if not client_id:
        raise AuthCommandError(
            f'No OAuth app for {p.title}: add "oauth_apps": {{"{p.name}": {{"client_id": "..."}}}} to '
            f"{config.path} or pass --client-id. Create the app at {p.console}."
        )
    bound = entry.apply(p) if entry else p
    secret = _read_secret(
        f"Client secret of the {p.title} OAuth app {client_id} (empty for a public client): ",
        stdin=not sys.stdin.isatty(),
        allow_empty=True,
    )
    return bound, OAuthApp(client_id, secret if secret.get_secret_value() else None)


def _sandbox_provision(base: str) -> dict:
    import httpx

    try:
        response = httpx.post(f"{base}/_sandbox/provision", timeout=5.0)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise AuthCommandError(
            f"The sandbox at {base} does not answer ({type(exc).__name__}): start it with `marketing-mcp sandbox`."
        ) from None


def _wordpress_site(config: McpConfig, args: argparse.Namespace) -> str:
    wp = config.client(args.client).servers.settings_of("wordpress", WordPressSettings)
    site = args.site or (str(wp.site_url) if wp else None)
    if not site:
        raise AuthCommandError(
            f"Which WordPress site? Pass --site URL or enable the wordpress server for "
            f"client '{args.client}' in {config.path}."
        )
    return site.rstrip("/")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def sign_in_at_sandbox(config: McpConfig, client: str, out) -> None:
    """Sign a sandbox client in to every vendor its servers use, a scripted browser giving consent;
    vendors with keys only (Customer.io) get the keys the sandbox issued."""
    from sandbox.vendors.oauth.consent import approve

    if not config.client(client).sandbox:
        raise AuthCommandError(f"Client '{client}' has no sandbox in {config.path}.")
    providers = dict.fromkeys(
        p for server in config.client(client).enabled() for p in providers_of(server)
    )  # page-analysis signs in nowhere
    for provider in providers:  # one Google grant serves ga4 and search-console
        if provider in SANDBOX_KEYS:
            _store_sandbox_keys(config, client, provider, out)
            continue
        args = argparse.Namespace(
            provider=provider,
            client=client,
            account=None,
            scope=[],
            no_browser=False,
            port=0,
            client_id=None,
            site=None,
            timeout=30.0,
        )
        _login(args, out, sys.stderr, config=config, browser=approve)


def _store_sandbox_keys(config: McpConfig, client: str, provider: str, out) -> None:
    from credentials.records import BearerToken, Password

    keys = _sandbox_provision(str(config.client(client).sandbox).rstrip("/"))["customerio"]
    if provider == "customerio":
        _save(client, provider, "default", BearerToken(token=SecretStr(keys["app_api_key"])), "", out)
    else:
        _save(
            client,
            provider,
            keys["site_id"],
            Password(username=keys["site_id"], password=SecretStr(keys["track_api_key"])),
            "",
            out,
        )


SANDBOX_KEYS = ("customerio", "customerio-track")


# -- set ----------------------------------------------------------------------


def _read_secret(prompt: str, *, stdin: bool, allow_empty: bool = False) -> SecretStr:
    value = sys.stdin.readline() if stdin else getpass.getpass(prompt)
    value = value.strip()
    if not value and not allow_empty:
        raise AuthCommandError("No secret was given; nothing was stored.")
    return SecretStr(value)


def _set(args: argparse.Namespace, out, err) -> int:
    from credentials.records import ApiKey, BearerToken, Password, ServiceAccountKey

    p = provider_named(args.provider)
    config = load_config(args.config)
    config.client(args.client)  # the client must exist in mcp.json
    stdin = args.stdin or not sys.stdin.isatty()
    if p.name == "wordpress":
        from credentials import app_passwords

        wp = config.client(args.client).servers.settings_of("wordpress", WordPressSettings)
        username = args.username or (wp.username if wp else None)
        if not username:
            raise AuthCommandError("Which WordPress user? Pass --username.")
        site = _wordpress_site(config, args)
        password = _read_secret(f"Application password of {username} at {site}: ", stdin=stdin)
        label = username if args.no_verify else app_passwords.verify(site, username, password)
        secret: Any = Password(username=username, password=password, extra={"site_url": site})
        _save(args.client, p.name, args.account or f"{username}@{_host(site)}", secret, label, out)
    elif p.name == "customerio-track":
        if not args.username:
            raise AuthCommandError(f"Which site? Pass --username SITE_ID ({p.console}).")
        key = _read_secret(f"Track API key of site {args.username}: ", stdin=stdin)
        if not args.no_verify:
            _verify_customerio(config, args, p, Password(username=args.username, password=key))
        _save(
            args.client, p.name, args.account or args.username, Password(username=args.username, password=key), "", out
        )
    elif "service_account" in p.kinds and args.file:
        from credentials.google import BadServiceAccountKey, check_service_account_key

        try:
            info = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise AuthCommandError(
                f"{args.file} is not a Google service-account key file (JSON with type "
                "service_account, client_email and private_key); nothing was stored."
            ) from None
        try:
            email = check_service_account_key(info)
        except BadServiceAccountKey as exc:
            raise AuthCommandError(f"{args.file} cannot be used: {exc}. Nothing was stored.") from None
        secret = ServiceAccountKey(client_email=email, info=SecretStr(json.dumps(info)))
        _save(args.client, p.name, args.account or email, secret, email, out)
    elif "bearer" in p.kinds:
        token = _read_secret(f"{p.title} API token: ", stdin=stdin)
        account, label = args.account or "default", ""
        if not args.no_verify and p.name == "customerio":
            _verify_customerio(config, args, p, BearerToken(token=token))
        elif not args.no_verify:
            account, label = _verify_bearer(config, args, p, token)
        _save(args.client, p.name, args.account or account, BearerToken(token=token), label, out)
    elif "api_key" in p.kinds:
        key = _read_secret(f"{p.title} API key: ", stdin=stdin)
        dc = ""
        if p.name == "mailchimp":
            from credentials.mailchimp import key_data_center

            dc = key_data_center(key.get_secret_value()) or ""
            if not dc:
                raise AuthCommandError(
                    "A Mailchimp API key ends with its data center, e.g. ...-us21; nothing was stored."
                )
            if not args.no_verify:
                _verify_mailchimp(config, args, key, dc)
        _save(
            args.client,
            p.name,
            args.account or dc or "default",
            ApiKey(key=key, extra={"dc": dc} if dc else {}),
            "",
            out,
        )
    else:
        raise AuthCommandError(
            f"{p.title} signs in with OAuth: run `marketing-mcp auth login {p.name} "
            f"--client {args.client}`"
            + (" (or pass --file with a service-account key)." if "service_account" in p.kinds else ".")
        )
    return 0


def _verify_bearer(config: McpConfig, args, p: Provider, token: SecretStr) -> tuple[str, str]:
    """Webflow: the token's sites, from the same introspection endpoint the API serves."""
    import httpx

    wf = config.client(args.client).servers.settings_of("webflow", WebflowSettings)
    api = str(wf.api_base).rstrip("/") if wf else "https://api.webflow.com/v2"
    try:
        response = httpx.get(
            f"{api}/token/introspect", timeout=20.0, headers={"Authorization": f"Bearer {token.get_secret_value()}"}
        )
    except httpx.HTTPError as exc:
        raise AuthCommandError(
            f"{api} could not be reached ({type(exc).__name__}); nothing was stored. "
            "Pass --no-verify to store the token unchecked."
        ) from None
    if response.status_code != 200:
        raise AuthCommandError(f"{p.title} refused the token (HTTP {response.status_code}); nothing was stored.")
    from credentials.oauth import identity_from

    account, label, _ = identity_from(p.name, response.json())
    return account, label


def _verify_customerio(config: McpConfig, args, p: Provider, secret) -> None:
    """A cheap authenticated read at the Customer.io API the key belongs to."""
    import httpx

    from credentials.http_auth import BasicAuth, BearerAuth

    settings = config.client(args.client).servers.settings_of("customerio", CustomerIOSettings)
    eu = settings is not None and settings.region == "eu"
    if p.name == "customerio":
        base = (
            str(settings.app_api_base)
            if settings and settings.app_api_base
            else f"https://api{'-eu' if eu else ''}.customer.io/v1"
        )
        url, auth = f"{base.rstrip('/')}/{CUSTOMERIO_APP_CHECK}", BearerAuth(secret.token)
    else:
        base = (
            str(settings.track_api_base)
            if settings and settings.track_api_base
            else f"https://track{'-eu' if eu else ''}.customer.io/api"
        )
        url, auth = f"{base.rstrip('/')}/{CUSTOMERIO_TRACK_CHECK}", BasicAuth(secret.username, secret.password)
    try:
        response = httpx.get(url, auth=auth, timeout=20.0)
    except httpx.HTTPError as exc:
        raise AuthCommandError(
            f"{base} could not be reached ({type(exc).__name__}); nothing was stored. "
            "Pass --no-verify to store the key unchecked."
        ) from None
    if response.status_code != 200:
        raise AuthCommandError(f"{p.title} refused the key (HTTP {response.status_code}); nothing was stored.")


def _verify_mailchimp(config: McpConfig, args, key: SecretStr, dc: str) -> None:
    """Mailchimp's health check at the key's data center (or the configured stand-in): it needs a valid key."""
    import httpx

    from credentials.mailchimp import api_root

    mc = config.client(args.client).servers.settings_of("mailchimp", MailchimpSettings)
    base = str(mc.api_base).rstrip("/") if mc and mc.api_base else api_root(dc)
    try:
        response = httpx.get(f"{base}/ping", auth=("marketing-mcp", key.get_secret_value()), timeout=20.0)
    except httpx.HTTPError as exc:
        raise AuthCommandError(
            f"{base} could not be reached ({type(exc).__name__}); nothing was stored. "
            "Pass --no-verify to store the key unchecked."
        ) from None
    if response.status_code == 200:
        return
    try:
        body = response.json()
        said = ": " + "; ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
    except (ValueError, AttributeError):
        said = ""
    raise AuthCommandError(
        f"Mailchimp refused the key (HTTP {response.status_code}{said}); nothing was stored. "
        "Copy the whole key, with its -{dc} ending, from Profile > Extras > API keys.".replace("{dc}", dc)
    )


CUSTOMERIO_APP_CHECK = "segments"
CUSTOMERIO_TRACK_CHECK = "v1/accounts/region"


# -- logout -------------------------------------------------------------------


def _logout(args: argparse.Namespace, out, err) -> int:
    from credentials import app_passwords, oauth
    from credentials.records import OAuthToken, Password

    vault = _vault(args.client)
    rec = vault.record(args.provider, args.account)
    p = provider_named(args.provider)
    secret = rec.secret
    try:
        if isinstance(secret, OAuthToken):
            revoked = oauth.revoke(p, secret)
        elif isinstance(secret, Password):
            revoked = app_passwords.revoke(secret)
        else:
            revoked = False
    except oauth.OAuthFailure as exc:
        if not args.force:
            raise AuthCommandError(f"{exc} Nothing was deleted; run again with --force to delete it anyway.") from None
        err.write(f"Warning: {exc}\n")
        revoked = False
    vault.store.delete(rec.provider, rec.account)
    how = (
        "revoked at the vendor and deleted"
        if revoked
        else f"deleted here; {p.title} has no revocation endpoint, so remove the access yourself ({p.console})"
    )
    out.write(f"{p.title} credentials of client '{args.client}' ({rec.account}): {how}.\n")
    return 0


ACTIONS = {"login": _login, "set": _set, "list": list_credentials, "status": show_status, "logout": _logout}
