"""Every vendor the vault signs in to: endpoints, scopes, and the quirks of each.

Endpoints are data, so `Provider.at(base)` can point a provider at the sandbox (which serves
each vendor's OAuth server under `/oauth/<name>/`) or at any stand-in a team configures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["oauth2", "api_key", "password", "bearer", "service_account"]

GOOGLE_SCOPE = "https://www.googleapis.com/auth/"


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str | None = None
    userinfo: str | None = None


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    kinds: tuple[Kind, ...]
    """What the vault can hold for this vendor; `auth login` makes oauth2, `auth set` the rest."""
    endpoints: Endpoints | None = None
    default_scopes: tuple[str, ...] = ()
    """Asked for when no server of the client says what it needs here (the servers' own needs are in
    suite/registry.py, so `auth status` can say what a client's grant lacks)."""
    identity_scopes: tuple[str, ...] = ()
    """Always requested: to learn whose account this is (and, for X, to get a refresh token)."""
    scope_separator: str = " "
    authorize_params: dict[str, str] = field(default_factory=dict[str, str])
    token_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    revoke_token_param: str = "token"
    userinfo_scheme: str = "Bearer"
    rotates_refresh_tokens: bool = False
    exchanges_for_long_lived: bool = False
    testing_refresh_lifetime_days: int | None = None
    """Google apps in 'Testing' status get refresh tokens that die after this many days."""
    console: str = ""
    """Where a user creates the app or the key (named in hints)."""

    @property
    def oauth(self) -> bool:
        return self.endpoints is not None

    def at(self, base_url: str) -> "Provider":
        """The same provider with every endpoint under `base_url/oauth/<name>/` (the sandbox)."""
        if self.endpoints is None:
            return self
        base = f"{base_url.rstrip('/')}/oauth/{self.name}"
        info = "metadata" if self.name == "mailchimp" else "userinfo"
        return replace(
            self,
            endpoints=Endpoints(
                authorize=f"{base}/authorize",
                token=f"{base}/token",
                revoke=f"{base}/revoke" if self.endpoints.revoke else None,
                userinfo=f"{base}/{info}",
            ),
        )

    def scopes_for(self, needed: tuple[str, ...] | None) -> tuple[str, ...]:
        """Identity scopes plus what the servers need (`default_scopes` when no server says: None)."""
        scopes = list(self.identity_scopes)
        scopes += [s for s in (self.default_scopes if needed is None else needed) if s not in scopes]
        return tuple(scopes)


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            "google",
            "Google (GA4, Search Console, Google Ads)",
            ("oauth2", "service_account"),
            Endpoints(
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://oauth2.googleapis.com/revoke",
                "https://openidconnect.googleapis.com/v1/userinfo",
            ),
            default_scopes=(GOOGLE_SCOPE + "analytics.readonly", GOOGLE_SCOPE + "webmasters", GOOGLE_SCOPE + "adwords"),
            identity_scopes=("openid", "email"),
            # offline + consent: a refresh token every time; include_granted_scopes: one grant grows.
            authorize_params={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
            testing_refresh_lifetime_days=7,
            console="Google Cloud console > APIs & Services > Credentials (OAuth client ID, type Desktop app)",
        ),
        Provider(
            "meta",
            "Meta (Facebook and Instagram ads)",
            ("oauth2",),
            Endpoints(
                "https://www.facebook.com/v21.0/dialog/oauth",
                "https://graph.facebook.com/v21.0/oauth/access_token",
                None,
                "https://graph.facebook.com/v21.0/me",
            ),
            default_scopes=("ads_read", "ads_management", "business_management"),
            scope_separator=",",
            revoke_token_param="access_token",
            exchanges_for_long_lived=True,  # no refresh tokens: trade the 1-hour token for a 60-day one
            console="Meta for Developers > My Apps > Facebook Login > Settings",
        ),
        Provider(
            "linkedin",
            "LinkedIn",
            ("oauth2",),
            Endpoints(
                "https://www.linkedin.com/oauth/v2/authorization",
                "https://www.linkedin.com/oauth/v2/accessToken",
                "https://www.linkedin.com/oauth/v2/revoke",
                "https://api.linkedin.com/v2/userinfo",
            ),
            default_scopes=("w_member_social", "r_organization_social", "w_organization_social"),
            identity_scopes=("openid", "profile", "email"),
            console="LinkedIn Developers > My apps > Auth",
        ),
        Provider(
            "x",
            "X (Twitter)",
            ("oauth2",),
            Endpoints(
                "https://x.com/i/oauth2/authorize",
                "https://api.x.com/2/oauth2/token",
                "https://api.x.com/2/oauth2/revoke",
                "https://api.x.com/2/users/me",
            ),
            default_scopes=("tweet.read", "tweet.write", "users.read"),
            identity_scopes=("tweet.read", "users.read", "offline.access"),  # offline.access: or no refresh token
            token_auth="client_secret_basic",
            rotates_refresh_tokens=True,
            console="X Developer Portal > Projects & Apps > User authentication settings",
        ),
        Provider(
            "webflow",
            "Webflow",
            ("oauth2", "bearer"),
            Endpoints(
                "https://webflow.com/oauth/authorize",
                "https://api.webflow.com/oauth/access_token",
                "https://webflow.com/oauth/revoke_authorization",
                "https://api.webflow.com/v2/token/introspect",
            ),
            default_scopes=("sites:read", "sites:write", "cms:read", "cms:write"),
            revoke_token_param="access_token",
            console=(
                "Webflow: Site settings > Apps & integrations > API access (site token), "
                "or Workspace > Apps (OAuth app)"
            ),
        ),
        Provider(
            "mailchimp",
            "Mailchimp",
            ("oauth2", "api_key"),
            Endpoints(
                "https://login.mailchimp.com/oauth2/authorize",
                "https://login.mailchimp.com/oauth2/token",
                None,
                "https://login.mailchimp.com/oauth2/metadata",
            ),
            userinfo_scheme="OAuth",  # the metadata endpoint wants `Authorization: OAuth <token>`
            console="Mailchimp: Account > Extras > API keys (key), or Account > Extras > Registered apps (OAuth)",
        ),
        Provider(
            "customerio",
            "Customer.io App API",
            ("bearer",),
            console="Customer.io: Settings > Account Settings > API Credentials > App API Keys",
        ),
        Provider(
            "customerio-track",
            "Customer.io Track API",
            ("password",),  # Basic auth: site ID and Track API key
            console="Customer.io: Settings > Account Settings > API Credentials > Track API Keys (site ID and key)",
        ),
        Provider(
            "wordpress",
            "WordPress (application passwords)",
            ("password",),
            console="WordPress admin: Users > Profile > Application Passwords",
        ),
    )
}


class UnknownProvider(ValueError):
    pass


def provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(f"There is no provider '{name}'. Providers: {', '.join(PROVIDERS)}.") from None
