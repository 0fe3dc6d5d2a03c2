"""The sandbox's OAuth 2.0 authorization servers, one per vendor: apps, consents, codes, grants, tokens.

Protocol rules live here (RFC 6749, PKCE from RFC 7636, loopback redirects from
RFC 8252, plus each vendor's twists from ``providers``); the wording and
shape of each vendor's answers live in ``vendors``. Every expiry reads the
world's monotonic clock, so tests expire codes and tokens with
``ManualMonotonic.advance`` instead of sleeping.

Callers hold ``world.lock``; nothing here locks on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from .providers import (
    GOOGLE_TESTING_REFRESH_TTL,
    META_LONG_LIVED_TTL,
    PENDING_TTL,
    PROVIDERS,
    ProviderSpec,
)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_URLSAFE = string.ascii_letters + string.digits + "-_"
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
# RFC 7636: verifiers (and plain challenges) are 43-128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")

# (prefix, length, alphabet) so tokens look like the vendor's, which helps when reading logs.
_TOKEN_FORMATS: dict[tuple[str, str], tuple[str, int, str]] = {
    ("google", "access"): ("ya29.a0", 150, _URLSAFE),
    ("google", "refresh"): ("1//0", 100, _URLSAFE),
    ("google", "code"): ("4/0", 70, _URLSAFE),
    ("meta", "access"): ("EAA", 180, _ALNUM),
    ("meta", "code"): ("AQ", 300, _URLSAFE),
    ("linkedin", "access"): ("AQ", 160, _URLSAFE),
    ("linkedin", "refresh"): ("AQ", 160, _URLSAFE),
    ("linkedin", "code"): ("AQ", 120, _URLSAFE),
    ("x", "access"): ("", 91, _URLSAFE),
    ("x", "refresh"): ("", 91, _URLSAFE),
    ("x", "code"): ("", 91, _URLSAFE),
    ("webflow", "access"): ("", 64, _HEX),
    ("webflow", "code"): ("", 64, _HEX),
    ("mailchimp", "access"): ("", 32, _HEX),
    ("mailchimp", "code"): ("", 32, _HEX),
}


# -- errors ----------------------------------------------------------------


class OAuthError(Exception):
    """A refusal in RFC 6749 terms. ``reason`` names the rule broken, so each vendor can word it its own way."""

    def __init__(self, error: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{error}: {reason}")
        self.error = error
        self.reason = reason
        self.detail = detail


class AuthorizePageError(Exception):
    """An authorize request that must not redirect (bad client or redirect_uri): the user sees an error page."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class AuthorizeRedirectError(Exception):
    """An authorize request refused back to the client's redirect_uri (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.redirect_uri = redirect_uri
        self.error = error
        self.description = description
        self.state = state


# -- records ---------------------------------------------------------------


@dataclass
class Account:
    """The vendor account the simulated user logs in with."""

    id: str
    name: str
    email: str
    username: str = ""
    sites: tuple[str, ...] = ()  # Webflow: the sites this authorization reaches
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class App:
    provider: str
    client_id: str
    client_secret: str
    name: str

    def allows_redirect(self, uri: str) -> bool:
        return is_loopback_redirect(uri)


@dataclass
class PendingAuthorization:
    """An authorize request waiting on the consent page."""

    id: str
    app: App
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    challenge_method: str
    offline: bool  # Google: access_type=offline
    force_consent: bool  # Google: prompt=consent
    include_granted: bool  # Google: include_granted_scopes=true
    expires_at: float


@dataclass
class AuthorizationCode:
    value: str
    request: PendingAuthorization
    scopes: tuple[str, ...]  # what the user approved, with earlier grants folded in when asked
    expires_at: float
    used: bool = False
    grant: Grant | None = None


@dataclass
class Grant:
    """One authorization: what a code exchange created, with every token issued from it since."""

    id: str
    provider: str
    client_id: str
    user: Account
    scope_list: tuple[str, ...]
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    access_tokens: list[str] = field(default_factory=list)
    revoked: bool = False

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope_list)


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float | None
    lifetime: float | None


@dataclass(frozen=True)
class Issued:
    """A successful token response, before a vendor shapes it."""

    grant: Grant
    access: AccessToken
    refresh_token: str | None  # included in the response only when set
    refresh_expires_in: float | None  # seconds left on the grant's refresh token, when it has an end


# -- helpers ---------------------------------------------------------------


def is_loopback_redirect(uri: str) -> bool:
    """RFC 8252 §7.3: http on a loopback host, any port, any path; no fragment."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme == "http" and not parts.fragment and parts.hostname in LOOPBACK_HOSTS


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if not _VERIFIER.fullmatch(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return hmac.compare_digest(expected, challenge)
    return hmac.compare_digest(verifier, challenge)


def split_scopes(spec: ProviderSpec, raw: str | None) -> tuple[str, ...]:
    parts = re.split(r"[\s,]+" if spec.scope_commas else r"\s+", (raw or "").strip())
    return tuple(dict.fromkeys(p for p in parts if p))


def _draw(rng: random.Random, length: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _accounts(rng: random.Random, webflow_site_id: str, business: str) -> dict[str, Account]:
    email, person = "demo@northwind.example", "Demo Editor"
    return {
        "google": Account(id="1" + "".join(rng.choice(string.digits) for _ in range(20)), name=person, email=email),
        "meta": Account(id="1000" + "".join(rng.choice(string.digits) for _ in range(11)), name=person, email=email),
        "linkedin": Account(id=_draw(rng, 10, _URLSAFE), name=person, email=email),
        "x": Account(
            id="1" + "".join(rng.choice(string.digits) for _ in range(18)),
            name=business,
            email=email,
            username="northwindcoffee",
        ),
        "webflow": Account(id=_draw(rng, 24, _HEX), name=person, email=email, sites=(webflow_site_id,)),
        "mailchimp": Account(
            id=str(rng.randint(100_000_000, 199_999_999)),
            name=business,
            email=email,
            username="northwind-demo",
            extra={"login_id": str(rng.randint(100_000_000, 199_999_999)), "dc": "us21"},
        ),
    }


# -- the servers -----------------------------------------------------------


class OAuthServer:
    """Every vendor's authorization server of the sandbox, with one registered app each."""

    def __init__(
        self,
        rng: Callable[[str], random.Random],
        monotonic: Callable[[], float],
        *,
        webflow_site_id: str,
        business_name: str,
        google_testing: bool = False,
        generation: int = 0,
    ) -> None:
        self._now = monotonic
        # Issued codes and tokens follow the seed but differ after every reset, so a token held from
        # before a reset can never open a grant made after it.
        self._tokens = rng(f"oauth-tokens:{generation}")
        secrets = rng("oauth")
        self.apps: dict[str, App] = {
            name: App(
                provider=name,
                client_id=f"sandbox-{name}-app",
                client_secret=("GOCSPX-" + _draw(secrets, 28, _URLSAFE))
                if name == "google"
                else _draw(secrets, 40, _URLSAFE),
                name="Marketing MCP (sandbox)",
            )
            for name in PROVIDERS
        }
        self.accounts: dict[str, Account] = _accounts(rng("oauth-accounts"), webflow_site_id, business_name)
        # Google apps in "Testing" publishing status get refresh tokens that die after seven days.
        self.google_testing = google_testing
        self.pending: dict[tuple[str, str], PendingAuthorization] = {}
        self.codes: dict[tuple[str, str], AuthorizationCode] = {}
        self.grants: list[Grant] = []
        self.access_tokens: dict[tuple[str, str], AccessToken] = {}
        self.refresh_tokens: dict[tuple[str, str], Grant] = {}

    def _secret(self, provider: str, kind: str) -> str:
        prefix, length, alphabet = _TOKEN_FORMATS.get((provider, kind), ("", 64, _URLSAFE))
        return prefix + _draw(self._tokens, length, alphabet)

    # -- the authorize step ------------------------------------------------

    def start(self, provider: str, params: Mapping[str, str]) -> PendingAuthorization:
        """Validate an authorize request and hold it for the consent page."""
        spec, app = PROVIDERS[provider], self.apps[provider]
        client_id = params.get("client_id")
        if not client_id:
            raise AuthorizePageError("invalid_request", "Missing required parameter: client_id")
        if client_id != app.client_id:
            raise AuthorizePageError("invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise AuthorizePageError("invalid_request", "Missing required parameter: redirect_uri")
        if not app.allows_redirect(redirect_uri):
            raise AuthorizePageError(
                "redirect_uri_mismatch", f"The redirect_uri {redirect_uri} is not registered for the app {app.name}."
            )
        state = params.get("state")

        def refuse(error: str, description: str) -> AuthorizeRedirectError:
            return AuthorizeRedirectError(redirect_uri, error, description, state)

        response_type = params.get("response_type") or ("code" if provider == "meta" else None)
        if response_type is None:
            raise refuse("invalid_request", "Missing required parameter: response_type")
        if response_type != "code":
            raise refuse("unsupported_response_type", f"Unsupported response_type: {response_type}")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if challenge:
            method = method or "plain"
            if method not in ("S256", "plain"):
                raise refuse("invalid_request", f"Invalid code_challenge_method: {method}")
            if not (_S256_CHALLENGE if method == "S256" else _VERIFIER).fullmatch(challenge):
                raise refuse("invalid_request", "Invalid code_challenge")
        elif method:
            raise refuse("invalid_request", "code_challenge_method was sent without a code_challenge")
        elif spec.pkce_required:
            raise refuse("invalid_request", "Missing required parameter: code_challenge")
        scopes: tuple[str, ...] = ()
        if spec.scopes:
            scopes = split_scopes(spec, params.get("scope"))
            unknown = [s for s in scopes if s not in spec.scopes]
            if unknown:
                raise refuse("invalid_scope", f"Some requested scopes were invalid: {', '.join(unknown)}")
            if not scopes and spec.scope_required:
                raise refuse("invalid_scope", "Missing required parameter: scope")
            if provider == "meta" and "public_profile" not in scopes:
                scopes = ("public_profile", *scopes)  # every Facebook login grants the public profile
        pending = PendingAuthorization(
            id=_draw(self._tokens, 32, _HEX),
            app=app,
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=state,
            code_challenge=challenge or None,
            challenge_method=method or "plain",
            offline=provider == "google" and params.get("access_type") == "offline",
            force_consent="consent" in (params.get("prompt") or "").split(),
            include_granted=params.get("include_granted_scopes") == "true",
            expires_at=self._now() + PENDING_TTL,
        )
        self._forget_stale()
        self.pending[(provider, pending.id)] = pending
        return pending

    def _forget_stale(self) -> None:
        # Unanswered consent pages and unredeemed codes only ever expire; keep a long-running sandbox small.
        now = self._now()
        self.pending = {k: p for k, p in self.pending.items() if p.expires_at > now}
        self.codes = {k: c for k, c in self.codes.items() if c.used or c.expires_at > now - 3600}

    def decide(
        self, provider: str, request_id: str, approve: bool
    ) -> tuple[PendingAuthorization, AuthorizationCode | None]:
        """The user's answer on the consent page: a code on approval, None on denial."""
        pending = self.pending.pop((provider, request_id), None)
        if pending is None or self._now() >= pending.expires_at:
            raise AuthorizePageError(
                "invalid_request",
                "This authorization request has expired or was already answered. Start again from the app.",
            )
        if not approve:
            return pending, None
        scopes = pending.scopes
        if pending.include_granted:
            earlier = [s for g in self._live_grants(provider, pending.app.client_id) for s in g.scope_list]
            scopes = tuple(dict.fromkeys((*earlier, *scopes)))
        code = AuthorizationCode(
            value=self._secret(provider, "code"),
            request=pending,
            scopes=scopes,
            expires_at=self._now() + PROVIDERS[provider].code_ttl,
        )
        self.codes[(provider, code.value)] = code
        return pending, code

    # -- the token endpoint ------------------------------------------------

    def authenticate_client(self, provider: str, params: Mapping[str, str], basic: tuple[str, str] | None) -> App:
        spec, app = PROVIDERS[provider], self.apps[provider]
        if basic is not None and spec.basic_auth:
            client_id, secret = basic
            if params.get("client_id") not in (None, client_id):
                raise OAuthError("invalid_client", "client_mismatch")
        elif spec.basic_required:
            raise OAuthError("unauthorized_client", "basic_required")
        else:
            client_id, secret = params.get("client_id"), params.get("client_secret")
        if not client_id:
            raise OAuthError("invalid_request", "client_id_missing")
        if client_id != app.client_id:
            raise OAuthError("invalid_client", "unknown_client")
        if not secret:
            raise OAuthError("invalid_request", "client_secret_missing")
        if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            raise OAuthError("invalid_client", "bad_secret")
        return app

    def token(self, provider: str, params: Mapping[str, str], basic: tuple[str, str] | None = None) -> Issued:
        """One token request: authenticate the client, then the grant it presents."""
        spec = PROVIDERS[provider]
        grant_type = params.get("grant_type")
        if grant_type is None and provider == "meta" and "code" in params:
            grant_type = "authorization_code"  # Graph's /oauth/access_token needs no grant_type for codes
        app = self.authenticate_client(provider, params, basic)
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type_missing")
        if grant_type == "authorization_code":
            return self._exchange_code(spec, app, params)
        if grant_type == "refresh_token" and spec.refresh != "never":
            return self._refresh(spec, app, params)
        if grant_type == "fb_exchange_token" and provider == "meta":
            return self._extend_meta_token(app, params)
        raise OAuthError("unsupported_grant_type", "grant_type_unsupported", grant_type)

    def _exchange_code(self, spec: ProviderSpec, app: App, params: Mapping[str, str]) -> Issued:
        value = params.get("code")
        if not value:
            raise OAuthError("invalid_request", "code_missing")
        code = self.codes.get((spec.name, value))
        if code is None:
            raise OAuthError("invalid_grant", "code_unknown")
        if code.used:
            # A replayed code may be stolen: kill what it already bought (RFC 6749 §4.1.2, as Google does).
            if code.grant is not None:
                self._revoke_grant(code.grant)
            raise OAuthError("invalid_grant", "code_used")
        if self._now() >= code.expires_at:
            raise OAuthError("invalid_grant", "code_expired")
        request = code.request
        if request.app.client_id != app.client_id:
            raise OAuthError("invalid_grant", "client_mismatch")
        if params.get("redirect_uri") != request.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_mismatch")
        if request.code_challenge is not None:
            verifier = params.get("code_verifier")
            if not verifier:
                raise OAuthError("invalid_grant", "verifier_missing")
            if not pkce_matches(verifier, request.code_challenge, request.challenge_method):
                raise OAuthError("invalid_grant", "verifier_mismatch")
        code.used = True
        grant = Grant(
            id=_draw(self._tokens, 16, _HEX),
            provider=spec.name,
            client_id=app.client_id,
            user=self.accounts[spec.name],
            scope_list=code.scopes,
        )
        if self._gets_refresh_token(spec, code):
            grant.refresh_token = self._secret(spec.name, "refresh")
            ttl = GOOGLE_TESTING_REFRESH_TTL if spec.name == "google" and self.google_testing else spec.refresh_ttl
            grant.refresh_expires_at = None if ttl is None else self._now() + ttl
            self.refresh_tokens[(spec.name, grant.refresh_token)] = grant
        code.grant = grant
        self.grants.append(grant)
        access = self._issue_access(grant, spec.access_ttl)
        return Issued(grant, access, grant.refresh_token, self._refresh_left(grant))

    def _gets_refresh_token(self, spec: ProviderSpec, code: AuthorizationCode) -> bool:
        if spec.refresh == "always":
            return True
        if spec.refresh == "offline_scope":
            return "offline.access" in code.scopes
        if spec.refresh == "offline_access_type":
            # Google hands out a refresh token on first consent, and again only when consent is prompted.
            request = code.request
            return request.offline and (
                request.force_consent
                or not any(
                    g.refresh_token and self._refresh_alive(g)
                    for g in self._live_grants(spec.name, request.app.client_id)
                )
            )
        return False

    def _refresh(self, spec: ProviderSpec, app: App, params: Mapping[str, str]) -> Issued:
        value = params.get("refresh_token")
        if not value:
            raise OAuthError("invalid_request", "refresh_token_missing")
        grant = self.refresh_tokens.get((spec.name, value))
        if grant is None:
            raise OAuthError("invalid_grant", "refresh_unknown")
        if grant.revoked:
            raise OAuthError("invalid_grant", "refresh_revoked")
        if not self._refresh_alive(grant):
            raise OAuthError("invalid_grant", "refresh_expired")
        if grant.client_id != app.client_id:
            raise OAuthError("invalid_grant", "client_mismatch")
        access = self._issue_access(grant, spec.access_ttl)
        returned: str | None = None
        if spec.rotate_refresh:
            del self.refresh_tokens[(spec.name, value)]  # the old one dies the moment the new one exists
            grant.refresh_token = returned = self._secret(spec.name, "refresh")
            self.refresh_tokens[(spec.name, returned)] = grant
        elif spec.refresh == "always":
            returned = value  # LinkedIn repeats the same refresh token, its lifetime still running down
        return Issued(grant, access, returned, self._refresh_left(grant))

    def _extend_meta_token(self, app: App, params: Mapping[str, str]) -> Issued:
        value = params.get("fb_exchange_token")
        if not value:
            raise OAuthError("invalid_request", "exchange_token_missing")
        status, grant = self.inspect("meta", value)
        if status != "active" or grant is None:
            raise OAuthError("invalid_token", f"token_{status}")
        if grant.client_id != app.client_id:
            raise OAuthError("invalid_token", "token_other_app")
        return Issued(grant, self._issue_access(grant, META_LONG_LIVED_TTL), None, None)

    def _issue_access(self, grant: Grant, ttl: float | None) -> AccessToken:
        token = AccessToken(
            value=self._secret(grant.provider, "access"),
            grant=grant,
            expires_at=None if ttl is None else self._now() + ttl,
            lifetime=ttl,
        )
        grant.access_tokens.append(token.value)
        self.access_tokens[(grant.provider, token.value)] = token
        return token

    def _refresh_alive(self, grant: Grant) -> bool:
        return grant.refresh_expires_at is None or self._now() < grant.refresh_expires_at

    def _refresh_left(self, grant: Grant) -> float | None:
        if grant.refresh_token is None or grant.refresh_expires_at is None:
            return None
        return max(0.0, grant.refresh_expires_at - self._now())

    def _live_grants(self, provider: str, client_id: str) -> list[Grant]:
        return [g for g in self.grants if g.provider == provider and g.client_id == client_id and not g.revoked]

    # -- revocation and checks ---------------------------------------------

    def revoke(self, provider: str, token: str) -> bool:
        """Revoke the grant behind an access or refresh token. False when there was nothing live to revoke."""
        access = self.access_tokens.get((provider, token))
        if access is not None:
            if access.grant.revoked or self._expired(access):
                return False
            self._revoke_grant(access.grant)
            return True
        grant = self.refresh_tokens.get((provider, token))
        if grant is None or grant.revoked or not self._refresh_alive(grant):
            return False
        self._revoke_grant(grant)
        return True

    def _revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True

    def _expired(self, token: AccessToken) -> bool:
        return token.expires_at is not None and self._now() >= token.expires_at

    def inspect(self, provider: str, token: str) -> tuple[str, Grant | None]:
        """("active" | "expired" | "revoked" | "unknown", the grant) for an access token."""
        access = self.access_tokens.get((provider, token))
        if access is None:
            return "unknown", None
        if access.grant.revoked:
            return "revoked", access.grant
        if self._expired(access):
            return "expired", access.grant
        return "active", access.grant

    def check(self, provider: str, token: str) -> Grant | None:
        """The grant behind a live bearer token of ``provider``, for API emulations that require scopes."""
        status, grant = self.inspect(provider, token)
        return grant if status == "active" else None
