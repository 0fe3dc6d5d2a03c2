"""mcp.json: one file per team.

`mcpServers` holds host-compatible entries (Claude Desktop and other hosts read them as
they are); `clients` holds, per client, the servers it enables, their settings, rate-limit
overrides and references to credentials (never the secrets themselves).
"""

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails

from adapters.ratelimit import Rate

from .registry import LOOPS, REGISTRY, SERVERS, Loop
from .settings import (  # noqa: F401  (re-exported: the settings models used to live here)
    CustomerIOSettings,
    GA4Settings,
    MailchimpSettings,
    Name,
    PageAnalysisSettings,
    SearchConsoleSettings,
    WebflowSettings,
    WordPressSettings,
    _Model,
)

CONFIG_ENV = "MARKETING_MCP_CONFIG"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"


class ConfigError(Exception):
    """mcp.json is missing, malformed, or does not allow what was asked."""


def _rate(value: object) -> Rate:
    if isinstance(value, Rate):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a positive rate like '60/min' or '100/s', got {value!r}")
    return Rate.parse(value)


RateSpec = Annotated[Rate, PlainValidator(_rate, json_schema_input_type=str), PlainSerializer(str, return_type=str)]
"""A rate written '120/min' in mcp.json, a `Rate` once read."""


class RateLimits(_Model):
    default: RateSpec | None = Field(default=None, description="Budget of each tool, e.g. '120/min'.")
    tools: dict[str, RateSpec] = Field(default_factory=dict, description="Per-tool budgets by tool name.")
    upstream: RateSpec | None = Field(
        default=None, description="Requests per upstream account, overriding the vendor default."
    )


class VaultCredentials(_Model):
    """Which stored credential the server uses; the secret itself lives in the vault."""

    account: str | None = Field(
        default=None,
        description="The account as `marketing-mcp auth list` shows it; "
        "optional when the client has only one for this vendor.",
    )


class OAuthAppConfig(_Model):
    """The team's own OAuth app at a vendor (the client secret is asked for at sign-in, never stored here)."""

    client_id: Annotated[str, Field(min_length=1)]
    authorize_url: HttpUrl | None = None
    token_url: HttpUrl | None = None
    revoke_url: HttpUrl | None = None
    userinfo_url: HttpUrl | None = None

    def apply(self, provider):
        """The provider with any endpoint this entry overrides."""
        from dataclasses import replace

        from credentials.providers import Endpoints

        ep = provider.endpoints

        def pick(mine: object, theirs: str) -> str:
            return str(mine) if mine else theirs

        return replace(
            provider,
            endpoints=Endpoints(
                pick(self.authorize_url, ep.authorize),
                pick(self.token_url, ep.token),
                pick(self.revoke_url, ep.revoke),
                pick(self.userinfo_url, ep.userinfo),
            ),
        )


S = TypeVar("S", bound=BaseModel)


class ServerConfig(_Model, Generic[S]):
    settings: S
    credentials: VaultCredentials = VaultCredentials()
    rate_limits: RateLimits = RateLimits()
    deadline_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0


class _ClientServers(_Model):
    def get(self, server: str) -> ServerConfig[Any] | None:
        return getattr(self, server.replace("-", "_"))

    def settings_of(self, server: str, model: type[S]) -> S | None:
        """The enabled server's settings, as `model` (its registry entry's settings model); None when disabled."""
        config = self.get(server)
        if config is None:
            return None
        assert isinstance(config.settings, model), f"{server}'s settings are not a {model.__name__}"
        return config.settings


# One optional field per registry entry, so a new server is one entry in suite/registry.py. To a type
# checker it is the base class: the fields are read through `get`.
if TYPE_CHECKING:
    ClientServers = _ClientServers
else:
    ClientServers = create_model(
        "ClientServers",
        __base__=_ClientServers,
        __module__=__name__,
        **{
            e.attribute: (
                ServerConfig[e.settings] | None,
                Field(default=None, alias=e.name if e.name != e.attribute else None),
            )
            for e in REGISTRY.values()
        },
    )


class DirectorPolicy(_Model):
    """What the Director may do for this client without asking."""

    auto_approve: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        description="Writes that need no approval: tool names ('update_post'), qualified "
        "names ('wordpress.update_post'), or '*' for every write.",
    )
    loops: list[Loop] = Field(
        default_factory=lambda: list(LOOPS), description="The loops `director run` runs by default."
    )
    max_changes_per_object_per_day: Annotated[int, Field(ge=0, le=100)] = 1
    max_changes_per_run: Annotated[int, Field(ge=0, le=1000)] = 10
    max_spend_change: Annotated[float, Field(ge=0, le=10)] = Field(
        default=0.2, description="For anything that spends money: the largest relative change (0.2 = +/-20%)."
    )
    cooldown_days: Annotated[int, Field(ge=0, le=365)] = 21
    min_impressions: Annotated[int, Field(ge=1)] = Field(
        default=500, description="Search CTR loop: pages need this many impressions in 28 days to be judged."
    )
    model: str | None = Field(default=None, description="Claude model for planning (with ANTHROPIC_API_KEY).")
    server_urls: dict[str, HttpUrl] = Field(
        default_factory=dict,
        description="Servers the Director reaches at a streamable-HTTP URL (e.g. "
        "'http://127.0.0.1:8000/mcp') instead of spawning them over stdio.",
    )


class ClientConfig(_Model):
    description: str = ""
    sandbox: HttpUrl | None = Field(
        default=None,
        description="A sandbox that stands in for every vendor's OAuth server (`auth login` signs in there).",
    )
    servers: ClientServers = ClientServers()
    rate_limits: RateLimits = RateLimits()
    director: DirectorPolicy = DirectorPolicy()

    def enabled(self) -> list[str]:
        return [name for name in SERVERS if self.servers.get(name) is not None]


class HostEntry(BaseModel):
    """An `mcpServers` entry as hosts read it; hosts may add keys of their own."""

    model_config = ConfigDict(extra="allow")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None


class McpConfig(_Model):
    mcpServers: dict[str, HostEntry] = Field(default_factory=dict)
    clients: dict[Name, ClientConfig] = Field(default_factory=dict)
    oauth_apps: dict[str, OAuthAppConfig] = Field(default_factory=dict, description="OAuth apps by provider.")

    @field_validator("oauth_apps")
    @classmethod
    def _known_providers(cls, apps: dict[str, OAuthAppConfig]) -> dict[str, OAuthAppConfig]:
        from credentials.providers import PROVIDERS

        oauth = sorted(n for n, p in PROVIDERS.items() if p.oauth)
        unknown = sorted(set(apps) - set(oauth))
        if unknown:
            raise ValueError(f"unknown OAuth provider {', '.join(unknown)} (providers: {', '.join(oauth)})")
        return apps

    path: Annotated[Path | None, Field(exclude=True)] = None

    def client(self, name: str) -> ClientConfig:
        try:
            return self.clients[name]
        except KeyError:
            known = ", ".join(sorted(self.clients)) or "none"
            raise ConfigError(f"{self.path}: there is no client '{name}' under $.clients (known: {known}).") from None

    def server(self, client: str, server: str) -> ServerConfig:
        if server not in SERVERS:
            raise ConfigError(f"There is no server '{server}'. Servers: {', '.join(SERVERS)}.")
        entry = self.client(client).servers.get(server)
        if entry is None:
            raise ConfigError(
                f"{self.path}: client '{client}' does not enable the {server} server "
                f"(no $.clients.{client}.servers.{server}). It enables: "
                f"{', '.join(self.client(client).enabled()) or 'nothing'}."
            )
        return entry


def find_config(explicit: str | os.PathLike | None = None) -> Path:
    """--config, then $MARKETING_MCP_CONFIG, then ./mcp.json."""
    for candidate, origin in ((explicit, "--config"), (os.environ.get(CONFIG_ENV), CONFIG_ENV)):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(f"{path} (from {origin}) does not exist or is not a file.")
            return path
    path = Path("mcp.json")
    if not path.is_file():
        raise ConfigError(f"No mcp.json: pass --config PATH, set {CONFIG_ENV}, or run from a folder with mcp.json.")
    return path.resolve()


def load_config(explicit: str | os.PathLike | None = None) -> McpConfig:
    path = find_config(explicit)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from None
    return parse_config(raw, path)


def parse_config(raw: Any, path: Path | None = None) -> McpConfig:
    try:
        config = McpConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, path)) from None
    config.path = path
    return config


def format_errors(exc: ValidationError, path: Path | None) -> str:
    lines = [f"{path or 'mcp.json'} is not valid:"]
    for err in exc.errors()[:20]:
        loc = [str(p) for p in err["loc"]]
        where = "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc)
        lines.append(f"  {where}: {_expected(err, loc)}")
    return "\n".join(lines)


def _expected(err: ErrorDetails, loc: list[str]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        if loc[-1] == "source" and "credentials" in loc:
            return (
                "credentials now live in the vault: remove `source`/`env` and store the secret with "
                "`marketing-mcp auth set|login PROVIDER --client CLIENT`"
            )
        if len(loc) == 4 and loc[2] == "servers":
            return f"unknown server (servers: {', '.join(SERVERS)})"
        return "unknown key (check the spelling; `$comment` keys are allowed for notes)"
    if kind == "missing":
        return "required key is missing"
    msg = err["msg"].removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else kind
