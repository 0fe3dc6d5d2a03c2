"""What the vault stores: one record per (client, provider, account).

Secret values are `SecretStr`, so a record printed, logged or dumped the ordinary way shows
asterisks. Only the store asks for the real values (`to_storage`), and only to encrypt them.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, SecretStr, SerializationInfo

REVEAL = {"reveal_secrets": True}


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    if info.context and info.context.get("reveal_secrets"):
        return value.get_secret_value()
    return "**********"


Secret = Annotated[SecretStr, PlainSerializer(_serialize_secret, return_type=str)]
ClientName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OAuthToken(_Kind):
    """An OAuth 2.0 token set, with what is needed to refresh and revoke it without any config."""

    kind: Literal["oauth2"] = "oauth2"
    access_token: Secret
    refresh_token: Secret | None = None
    token_type: str = "Bearer"
    expires_at: float | None = Field(default=None, description="Unix time; None = does not expire.")
    refresh_expires_at: float | None = Field(
        default=None, description="Unix time the refresh token dies, when the vendor says."
    )
    scopes: tuple[str, ...] = ()
    token_url: str
    revoke_url: str | None = None
    client_id: str
    client_secret: Secret | None = None
    extra: dict[str, str] = Field(default_factory=dict, description="Non-secret facts, e.g. Mailchimp's dc.")

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at is not None and self.expires_at - now <= seconds


class ApiKey(_Kind):
    """A vendor API key (Mailchimp's carries its data center after the dash)."""

    kind: Literal["api_key"] = "api_key"
    key: Secret
    extra: dict[str, str] = Field(default_factory=dict)


class Password(_Kind):
    """A username and password, e.g. a WordPress application password."""

    kind: Literal["password"] = "password"
    username: str
    password: Secret
    extra: dict[str, str] = Field(default_factory=dict, description="e.g. site_url, the password's uuid.")


class BearerToken(_Kind):
    """A long-lived token sent as `Authorization: Bearer`, e.g. a Webflow site token."""

    kind: Literal["bearer"] = "bearer"
    token: Secret
    extra: dict[str, str] = Field(default_factory=dict)


class ServiceAccountKey(_Kind):
    """A Google service-account key file (JSON), kept whole because google-auth needs all of it."""

    kind: Literal["service_account"] = "service_account"
    client_email: str
    info: Secret = Field(description="The key file's JSON text.")


SecretValue = Annotated[
    Union[OAuthToken, ApiKey, Password, BearerToken, ServiceAccountKey], Field(discriminator="kind")
]


class Record(BaseModel):
    """One stored credential. `version` grows by one on every write (compare-and-swap)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: ClientName
    provider: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    account: Annotated[str, Field(min_length=1, max_length=200)]
    secret: SecretValue
    version: int = 0
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    label: str = Field(default="", description="Human-readable account name, e.g. the Google email.")
    last_refresh_error: str | None = Field(
        default=None, description="Why the last refresh failed; cleared by a good one."
    )

    @property
    def key(self) -> str:
        return record_key(self.provider, self.account)

    def to_storage(self) -> dict[str, Any]:
        """The record with real secret values, for the store to encrypt. Nothing else calls this."""
        return self.model_dump(mode="json", context=REVEAL)

    def public(self) -> dict[str, Any]:
        """What `auth list` and `auth status` may show: everything but secret values."""
        secret = self.secret
        facts: dict[str, Any] = {"kind": secret.kind}
        if isinstance(secret, OAuthToken):
            facts.update(
                scopes=list(secret.scopes),
                expires_at=secret.expires_at,
                refresh_expires_at=secret.refresh_expires_at,
                refreshable=secret.refresh_token is not None,
                token_url=secret.token_url,
                client_id=secret.client_id,
                **secret.extra,
            )
        elif isinstance(secret, Password):
            facts.update(username=secret.username, **secret.extra)
        elif isinstance(secret, ServiceAccountKey):
            facts.update(client_email=secret.client_email)
        else:
            facts.update(secret.extra)
        return {
            "client": self.client,
            "provider": self.provider,
            "account": self.account,
            "label": self.label,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_refresh_error": self.last_refresh_error,
            **facts,
        }


def record_key(provider: str, account: str) -> str:
    return f"{provider}/{account}"
