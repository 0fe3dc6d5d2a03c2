"""google-auth credential objects for Google's SDK clients (GA4, Search Console, Google Ads).

The SDKs refresh credentials themselves when a token expires; these objects send that refresh
back through the vault, so the lock, the compare-and-swap write-back and the re-login message
are the same as for every other vendor.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import google.auth.credentials

from .records import OAuthToken, Record, ServiceAccountKey

if TYPE_CHECKING:
    from .vault import Vault


class VaultCredentials(google.auth.credentials.Credentials):
    """User OAuth credentials; `refresh()` asks the vault (blocking: SDK calls run in worker threads)."""

    def __init__(self, vault: "Vault", account: str, scopes: tuple[str, ...]):
        super().__init__()
        self._vault = vault
        self._account = account
        self._scopes = scopes

    def refresh(self, request) -> None:  # noqa: ARG002 (the vault has its own HTTP client)
        stale = self.token if self.token and self.expiry and not self.expired else None
        token = self._vault.access_token_sync("google", self._account, stale=stale)
        rec = self._vault.record("google", self._account)
        self.token = token
        expires_at = rec.secret.expires_at if isinstance(rec.secret, OAuthToken) else None
        # google-auth compares naive UTC datetimes
        self.expiry = (datetime.fromtimestamp(expires_at, timezone.utc).replace(tzinfo=None)
                       if expires_at else None)

    @property
    def requires_scopes(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"VaultCredentials(account={self._account!r})"


def credentials_for(vault: "Vault", rec: Record, scopes: tuple[str, ...]):
    secret = rec.secret
    if isinstance(secret, ServiceAccountKey):
        from google.oauth2 import service_account

        info = json.loads(secret.info.get_secret_value())
        return service_account.Credentials.from_service_account_info(info, scopes=list(scopes) or None)
    return VaultCredentials(vault, rec.account, scopes)
