"""What each vendor's OAuth 2.0 server allows: scopes, lifetimes, refresh rules, client authentication.

Data only; ``server`` applies it and ``vendors`` speaks each
vendor's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass

OAUTH_PREFIX = "/oauth"


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    display: str
    scopes: tuple[str, ...]
    code_ttl: float
    access_ttl: float | None  # None: the token never expires
    # "never" | "offline_access_type" (Google: access_type=offline) | "always" | "offline_scope" (X: offline.access)
    refresh: str = "never"
    refresh_ttl: float | None = None
    rotate_refresh: bool = False
    pkce_required: bool = False
    basic_auth: bool = False  # client_secret_basic accepted
    basic_required: bool = False  # ...and the only way a confidential client may authenticate
    scope_required: bool = True
    scope_commas: bool = False  # the dialog also takes comma-separated scopes
    revocable: bool = True
    userinfo_path: str = "userinfo"


PROVIDERS: dict[str, ProviderSpec] = {
    p.name: p
    for p in (
        ProviderSpec(
            name="google",
            display="Google",
            scopes=(
                "openid",
                "email",
                "profile",
                "https://www.googleapis.com/auth/analytics.readonly",
                "https://www.googleapis.com/auth/analytics",
                "https://www.googleapis.com/auth/webmasters.readonly",
                "https://www.googleapis.com/auth/webmasters",
                "https://www.googleapis.com/auth/adwords",
            ),
            code_ttl=600,
            access_ttl=3600,
            refresh="offline_access_type",
            basic_auth=True,
        ),
        ProviderSpec(
            name="meta",
            display="Facebook",
            scopes=(
                "public_profile",
                "email",
                "ads_read",
                "ads_management",
                "business_management",
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
            ),
            code_ttl=600,
            access_ttl=3600,
            scope_required=False,
            scope_commas=True,
        ),
        ProviderSpec(
            name="linkedin",
            display="LinkedIn",
            scopes=(
                "openid",
                "profile",
                "email",
                "w_member_social",
                "r_organization_social",
                "w_organization_social",
                "rw_ads",
                "r_ads_reporting",
            ),
            code_ttl=600,
            access_ttl=5_184_000,
            refresh="always",
            refresh_ttl=31_536_000,
        ),
        ProviderSpec(
            name="x",
            display="X",
            scopes=("tweet.read", "tweet.write", "users.read", "offline.access", "like.write", "follows.read"),
            code_ttl=30,
            access_ttl=7200,
            refresh="offline_scope",
            rotate_refresh=True,
            pkce_required=True,
            basic_auth=True,
            basic_required=True,
        ),
        ProviderSpec(
            name="webflow",
            display="Webflow",
            scopes=(
                "sites:read",
                "sites:write",
                "cms:read",
                "cms:write",
                "pages:read",
                "pages:write",
                "assets:read",
                "assets:write",
                "authorized_user:read",
            ),
            code_ttl=600,
            access_ttl=None,
        ),
        ProviderSpec(
            name="mailchimp",
            display="Mailchimp",
            scopes=(),
            code_ttl=600,
            access_ttl=None,
            scope_required=False,
            revocable=False,
            userinfo_path="metadata",
        ),
    )
}

# Google's long-lived refresh tokens die after seven days while the app's publishing status is "Testing".
GOOGLE_TESTING_REFRESH_TTL = 7 * 86400
META_LONG_LIVED_TTL = 5_184_000
PENDING_TTL = 3600.0  # how long a consent page stays answerable


def endpoint_urls(base: str, provider: str) -> dict[str, str | None]:
    """The endpoints a client registers for ``provider``, as ``provision()`` lists them."""
    spec = PROVIDERS[provider]
    root = f"{base.rstrip('/')}{OAUTH_PREFIX}/{provider}"
    return {
        "authorize_url": f"{root}/authorize",
        "token_url": f"{root}/token",
        "revoke_url": f"{root}/revoke" if spec.revocable else None,
        "userinfo_url": f"{root}/{spec.userinfo_path}",
    }
