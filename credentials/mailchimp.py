"""A configured mailchimp-marketing SDK client from the vault's Mailchimp credential.

An API key ("<key>-<dc>") is sent as the Basic password; an OAuth access token (Mailchimp's never
expire) as a bearer token. Either way the SDK needs the account's data center ("us21"), which picks
the host https://<dc>.api.mailchimp.com/3.0; an OAuth sign-in also records the exact API endpoint.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from adapters.errors import AuthError

from .records import ApiKey, OAuthToken

if TYPE_CHECKING:
    from .vault import Vault

API_VERSION_PATH = "/3.0"
#: A data center as Mailchimp names them ("us21"); it becomes a host name, so nothing else is accepted.
DATA_CENTER = re.compile(r"[a-z]{2,8}[0-9]{1,4}")


def key_data_center(key: str) -> str | None:
    """The data center an API key ends with ("...-us21"), or None when it names none that could be one."""
    dc = key.rpartition("-")[2] if "-" in key else ""
    return dc if DATA_CENTER.fullmatch(dc) else None


def api_root(dc: str) -> str:
    """The account's API, e.g. https://us21.api.mailchimp.com/3.0."""
    if not DATA_CENTER.fullmatch(dc):
        raise ValueError("not a Mailchimp data center")
    return f"https://{dc}.api.mailchimp.com{API_VERSION_PATH}"


def sdk_client(vault: "Vault", account: str | None, host: str | None) -> Any:
    """A `mailchimp_marketing.Client` for the stored credential; `host` (e.g. the sandbox's) overrides the vendor's."""
    import mailchimp_marketing  # pyright: ignore[reportMissingTypeStubs]  # the SDK ships no type information

    from .vault import login_command

    rec = vault.record("mailchimp", account)
    secret = rec.secret
    login = f"`{login_command('mailchimp', vault.client)}`"
    if isinstance(secret, ApiKey):
        key = secret.key.get_secret_value()
        dc = secret.extra.get("dc") or (key.rpartition("-")[2] if "-" in key else "")
        config = {"api_key": key, "server": dc}
    elif isinstance(secret, OAuthToken):
        config = {"access_token": secret.access_token.get_secret_value(), "server": secret.extra.get("dc", "")}
        endpoint = secret.extra.get("api_endpoint")
        if host is None and endpoint:
            host = endpoint.rstrip("/") + API_VERSION_PATH
    else:
        raise AuthError(
            f"The Mailchimp credential of client '{vault.client}' is a {secret.kind}, not an API key or "
            "an OAuth token.",
            hint=f"Sign in with {login}, or store an API key with "
            f"`marketing-mcp auth set mailchimp --client {vault.client}`.",
        )
    if not config["server"]:
        raise AuthError(
            f"The Mailchimp credential of client '{vault.client}' does not say its data center.",
            hint=f"Store the API key again (it ends with -us21 or similar), or sign in with {login}.",
        )
    client = cast(Any, mailchimp_marketing.Client())  # untyped SDK object, handed on as such
    client.set_config(config)
    if host:
        client.api_client.host = host.rstrip("/")
    return client
