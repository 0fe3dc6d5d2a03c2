"""google-auth credential objects for Google's SDK clients (GA4, Search Console, Google Ads).

The SDKs refresh credentials themselves when a token expires; these objects send that refresh
back through the vault, so the lock, the compare-and-swap write-back and the re-login message
are the same as for every other vendor.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

import google.auth.credentials

from .records import OAuthToken, Record, ServiceAccountKey

if TYPE_CHECKING:
    import google.auth.transport
    from google.oauth2 import service_account

    from .vault import Vault


class VaultCredentials(google.auth.credentials.Credentials):
    """User OAuth credentials; `refresh()` asks the vault (blocking: SDK calls run in worker threads)."""

    def __init__(self, vault: "Vault", account: str, scopes: tuple[str, ...]):
        super().__init__()
        self._vault = vault
        self._account = account
        self._scopes = scopes

    def refresh(self, request: google.auth.transport.Request) -> None:
        stale = self.token if self.token and self.expiry and not self.expired else None
        token = self._vault.access_token_sync("google", self._account, stale=stale)
        rec = self._vault.record("google", self._account)
        self.token = token
        expires_at = rec.secret.expires_at if isinstance(rec.secret, OAuthToken) else None
        # google-auth compares naive UTC datetimes
        self.expiry = datetime.fromtimestamp(expires_at, timezone.utc).replace(tzinfo=None) if expires_at else None

    @property
    def requires_scopes(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"VaultCredentials(account={self._account!r})"


class BadServiceAccountKey(ValueError):
    """A service-account key file that google-auth could not use; the message names the field, never its value."""


def check_service_account_key(info: object) -> str:
    """The key's client_email, once every field google-auth needs is there and the private key parses.

    Checked when the key is stored, so a broken key is refused by `auth set` instead of failing every
    later call with an error from deep inside google-auth.
    """
    if not isinstance(info, dict):
        raise BadServiceAccountKey('it is not a Google service-account key (JSON with "type": "service_account")')
    key = cast(dict[str, Any], info)
    if key.get("type") != "service_account":
        raise BadServiceAccountKey('it is not a Google service-account key (JSON with "type": "service_account")')
    fields: dict[str, str] = {}
    for field in ("client_email", "private_key", "token_uri"):
        value = key.get(field)
        if not isinstance(value, str) or not value.strip():
            raise BadServiceAccountKey(f"the field {field} is missing or empty")
        fields[field] = value
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(fields["private_key"].encode(), password=None)
    except (ValueError, TypeError):  # cryptography's messages never quote the key
        raise BadServiceAccountKey(
            "the field private_key is not a valid unencrypted PEM private key "
            '("-----BEGIN PRIVATE KEY-----..."); download a new key for the service '
            "account"
        ) from None
    try:
        _service_account(key, scopes=None)
    except (ValueError, KeyError) as exc:
        raise BadServiceAccountKey(f"google-auth cannot use it ({type(exc).__name__})") from None
    return fields["client_email"]


def _service_account(info: dict[str, Any], scopes: list[str] | None) -> service_account.Credentials:
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_info(  # pyright: ignore[reportUnknownMemberType]  # google-auth leaves `info` unannotated
        info, scopes=scopes
    )


def credentials_for(vault: "Vault", rec: Record, scopes: tuple[str, ...]) -> google.auth.credentials.Credentials:
    secret = rec.secret
    if isinstance(secret, ServiceAccountKey):
        try:
            info = json.loads(secret.info.get_secret_value())
            return _service_account(info, scopes=list(scopes) or None)
        except (ValueError, KeyError) as exc:  # a key stored before `auth set` checked keys
            from adapters.errors import AuthError

            raise AuthError(
                f"The stored Google service-account key of client '{rec.client}' cannot be used "
                f"({type(exc).__name__}).",
                hint=f"Run `marketing-mcp auth set google --client {rec.client} --file KEY.json` with a new key.",
                vendor="Google",
            ) from None
    return VaultCredentials(vault, rec.account, scopes)
