"""One client's credentials, handed to servers as auth objects and kept fresh.

A server opens the vault of its own client only (`Vault.open(client)`), so it cannot even read
another client's file. OAuth access tokens are refreshed ahead of expiry; one refresh at a
time per credential across tasks (an asyncio lock), threads and processes (a file lock), and
the new token is written back with compare-and-swap so a slow refresh never overwrites a newer
token. A vendor's 401 forces one refresh and one retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncGenerator, Callable, Generator

import httpx

from adapters.errors import AuthError, UpstreamUnavailable

from .http_auth import BasicAuth, BearerAuth
from .providers import provider as provider_named
from .records import ApiKey, BearerToken, OAuthToken, Password, Record, ServiceAccountKey, record_key

if TYPE_CHECKING:
    from .store import ClientStore

log = logging.getLogger("credentials")

REFRESH_MARGIN = 300.0  # seconds before expiry a token counts as expired


def login_command(provider: str, client: str) -> str:
    p = provider_named(provider)
    verb = "login" if p.oauth else "set"
    return f"marketing-mcp auth {verb} {provider} --client {client}"


class Vault:
    def __init__(
        self,
        store: "ClientStore",
        *,
        now: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
        timeout: float = 20.0,
    ):
        self._store = store
        self.client = store.client
        self._now = now
        self._margin = refresh_margin
        self._timeout = timeout
        self._warm: dict[str, Record] = {}  # OAuth records in use, so a warm call reads no file
        self._task_locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def open(cls, client: str, *, directory: Path | None = None, create: bool = False, **options: Any) -> "Vault":
        from .keys import load_master_key
        from .paths import data_dir
        from .store import ClientStore, VaultError

        directory = directory or data_dir()
        try:
            key, _source = load_master_key(directory, create=create)
        except VaultError as exc:
            raise AuthError(exc.message, hint=exc.hint) from None
        return cls(ClientStore(directory, client, key), **options)

    @property
    def store(self) -> "ClientStore":
        return self._store

    # -- lookup ------------------------------------------------------------

    def record(self, provider: str, account: str | None = None) -> Record:
        """The stored credential; with no account, the only one stored for `provider`."""
        from .store import VaultError

        try:
            if account is not None:
                return self._store.get(provider, account)
            found = self._store.find(provider)
        except VaultError as exc:
            raise AuthError(exc.message, hint=exc.hint) from None
        if not found:
            raise AuthError(
                f"No {provider} credentials are stored for client '{self.client}'.",
                hint=f"Run `{login_command(provider, self.client)}`.",
            )
        if len(found) > 1:
            accounts = ", ".join(r.account for r in found)
            raise AuthError(
                f"Client '{self.client}' has several {provider} accounts ({accounts}).",
                hint=f'Name one in mcp.json: credentials.account of the server, e.g. "{found[0].account}".',
            )
        return found[0]

    def auth(self, provider: str, account: str | None = None) -> httpx.Auth:
        """An httpx.Auth for the credential: the secret stays inside it."""
        rec = self.record(provider, account)
        secret = rec.secret
        if isinstance(secret, OAuthToken):
            self._warm[rec.key] = rec
            return OAuthBearer(self, rec.provider, rec.account)
        if isinstance(secret, Password):
            return BasicAuth(secret.username, secret.password)
        if isinstance(secret, BearerToken):
            return BearerAuth(secret.token)
        if isinstance(secret, ApiKey):
            return BasicAuth("marketing-mcp", secret.key)  # Mailchimp: any user name, the key as password
        assert isinstance(secret, ServiceAccountKey)
        raise AuthError(
            f"The {provider} credential of client '{self.client}' is a service-account key, "
            "which only Google's SDK clients can use.",
            hint="Use google_credentials().",
        )

    def google_credentials(self, account: str | None = None, scopes: tuple[str, ...] = ()):
        """A google-auth Credentials object whose refreshes go through this vault."""
        from .google import credentials_for

        return credentials_for(self, self.record("google", account), scopes)

    # -- fresh OAuth tokens -----------------------------------------------

    async def access_token(self, provider: str, account: str, *, stale: str | None = None) -> str:
        """A valid access token. `stale`: the vendor just refused this one, refresh unless already done."""
        rec = self._known(provider, account)
        if self._usable(rec, stale):
            return _oauth(rec).access_token.get_secret_value()
        lock = self._task_locks.setdefault(rec.key, asyncio.Lock())
        async with lock:  # tasks of this process queue here and reuse the first one's result
            rec = self._warm.get(rec.key, rec)
            if not self._usable(rec, stale):
                rec = await asyncio.to_thread(self.refresh_now, provider, account, stale)
        return _oauth(rec).access_token.get_secret_value()

    def access_token_sync(self, provider: str, account: str, *, stale: str | None = None) -> str:
        rec = self._known(provider, account)
        if not self._usable(rec, stale):
            rec = self.refresh_now(provider, account, stale)
        return _oauth(rec).access_token.get_secret_value()

    def _known(self, provider: str, account: str) -> Record:
        """The record in use (no file read on a warm call), else the stored one."""
        return self._warm.get(record_key(provider, account)) or self.record(provider, account)

    def refreshable(self, provider: str, account: str) -> bool:
        rec = self._warm.get(record_key(provider, account))
        return rec is not None and isinstance(rec.secret, OAuthToken) and rec.secret.refresh_token is not None

    def _usable(self, rec: Record, stale: str | None) -> bool:
        token = _oauth(rec)
        if stale is not None:
            return token.access_token.get_secret_value() != stale  # someone refreshed since the 401
        return not token.expires_within(self._margin, self._now())

    def refresh_now(self, provider: str, account: str, stale: str | None = None) -> Record:
        """Refresh under the credential's cross-process lock; blocking (call it from a thread)."""
        from . import oauth
        from .store import VaultError, VersionConflict

        p = provider_named(provider)
        try:
            with self._store.lock(f"refresh {provider}/{account}"):
                rec = self._store.get(provider, account)  # the latest, maybe refreshed by another process
                if self._usable(rec, stale):
                    self._warm[rec.key] = rec
                    return rec
                token = rec.secret
                assert isinstance(token, OAuthToken)
                if (
                    token.refresh_token is None
                    and token.expires_at
                    and token.expires_at > self._now()
                    and stale is None
                ):
                    self._warm[rec.key] = rec  # cannot refresh yet still valid: use it to the end
                    return rec
                try:
                    fresh = oauth.refresh(p, token, self._now(), timeout=self._timeout)
                except oauth.OAuthFailure as exc:
                    if exc.grant_gone:
                        self._note_failure(rec, str(exc))
                        raise AuthError(
                            f"The {p.title} sign-in of client '{self.client}' ({account}) no longer works: {exc}",
                            hint=f"Sign in again: `{login_command(provider, self.client)}`.",
                        ) from None
                    raise UpstreamUnavailable(str(exc), vendor=p.title) from None
                updated = rec.model_copy(update={"secret": fresh, "last_refresh_error": None})
                try:
                    rec = self._store.compare_and_swap(updated, rec.version)
                except VersionConflict:  # a sign-in wrote a newer token meanwhile: that one wins
                    rec = self._store.get(provider, account)
                log.info("refreshed the %s token of client %s (%s)", provider, self.client, account)
        except VaultError as exc:
            raise AuthError(exc.message, hint=exc.hint) from None
        self._warm[rec.key] = rec
        return rec

    def _note_failure(self, rec: Record, why: str) -> None:
        """Remember a dead grant so `auth status` can say so; never fatal."""
        from .store import VaultError

        try:
            self._store.compare_and_swap(rec.model_copy(update={"last_refresh_error": why[:300]}), rec.version)
        except VaultError:
            pass


class OAuthBearer(httpx.Auth):
    """Bearer auth from the vault: fresh before expiry, and one forced refresh on a 401."""

    requires_request_body = True  # the request may be sent twice

    def __init__(self, vault: Vault, provider: str, account: str):
        self._vault = vault
        self._provider = provider
        self._account = account

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._vault.access_token(self._provider, self._account)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._vault.refreshable(self._provider, self._account):
            token = await self._vault.access_token(self._provider, self._account, stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._vault.access_token_sync(self._provider, self._account)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._vault.refreshable(self._provider, self._account):
            token = self._vault.access_token_sync(self._provider, self._account, stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def __repr__(self) -> str:
        return f"OAuthBearer(provider={self._provider!r}, account={self._account!r})"


def _oauth(rec: Record) -> OAuthToken:
    """The record's OAuth token: the token paths are only reached for OAuth records (`auth` chose OAuthBearer)."""
    secret = rec.secret
    assert isinstance(secret, OAuthToken), f"{rec.provider}/{rec.account} is not an OAuth credential"
    return secret
