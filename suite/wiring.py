"""The composition root: mcp.json + the vault + limits -> adapters -> servers.

Vendor SDKs and HTTP clients are imported inside the adapter factories, so a server answers
`initialize` as fast as the bare MCP SDK and only pays for a vendor when a tool first needs it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from adapters.errors import InvalidRequest, NotFound
from adapters.ratelimit import Budget, Rate, RateLimiter, WindowBudget
from servers._app import DEFAULT_TOOL_RATE, Deps, tool_names

from .config import ClientConfig, ConfigError, McpConfig, ServerConfig
from .registry import REGISTRY, entry

if TYPE_CHECKING:
    import httpx
    from mcp.server.mcpserver import MCPServer

# Per-upstream-account defaults from the vendors' published limits (see REFERENCE.md).
WEBFLOW_REQUESTS = Rate(60, 60.0)
CUSTOMERIO_APP_REQUESTS = Rate(10, 1.0)
CUSTOMERIO_TRACK_REQUESTS = Rate(100, 1.0)

AdapterFactory = Callable[["Wiring"], Awaitable[Any]]


class Wiring:
    """Everything needed to build one server's adapter for one client."""

    def __init__(
        self, config: McpConfig, client: str, server: str, transport: "httpx.AsyncBaseTransport | None" = None
    ):
        self.config = config
        self.client = client
        self.server = server
        self.client_config: ClientConfig = config.client(client)
        self.server_config: ServerConfig = config.server(client, server)
        self.transport = transport

    @property
    def settings(self) -> Any:
        return self.server_config.settings

    def upstream_budget(self, name: str, default: Rate | None, *, window: bool = False) -> RateLimiter | None:
        """The per-account limit: mcp.json's `upstream`, else the vendor's published default."""
        rate = self.server_config.rate_limits.upstream or default
        if rate is None:
            return None
        # An HttpService's limiter: it says when each request is over, so a window counts it until then.
        return WindowBudget(name, rate, until_answered=True) if window else Budget(name, rate)

    def deps(self) -> Deps:
        rates = {**self.client_config.rate_limits.tools, **self.server_config.rate_limits.tools}
        default = self.server_config.rate_limits.default or self.client_config.rate_limits.default or DEFAULT_TOOL_RATE
        return Deps(
            client=self.client,
            server=self.server,
            make_adapter=lambda: ADAPTERS[self.server](self),
            tool_rates=rates,
            default_rate=default,
            deadline_seconds=self.server_config.deadline_seconds,
        )

    @functools.cached_property
    def vault(self):
        """This client's vault, and no other client's."""
        from credentials.vault import Vault

        return Vault.open(self.client)

    @functools.cached_property
    def google_credentials(self):
        """One google-auth object for every Google client of this server (one token in memory)."""
        return self.vault.google_credentials(self.server_config.credentials.account)

    def auth(self, provider: str) -> "httpx.Auth":
        """The server's credential from the vault, as an httpx.Auth (never a raw secret)."""
        return self.vault.auth(provider, self.server_config.credentials.account)

    def auth_hint(self, provider: str) -> str:
        from credentials.vault import login_command

        return f"Store a working credential with `{login_command(provider, self.client)}`, then retry."


async def wordpress_adapter(w: Wiring):
    from adapters.cms.wordpress import WordPress, classify_wp_error, parse_wp_error
    from adapters.http import HttpService, Upstream
    from credentials.http_auth import BasicAuth

    site = str(w.settings.site_url).rstrip("/")
    auth = w.auth("wordpress")
    user = auth.username if isinstance(auth, BasicAuth) else "?"  # an application password is Basic auth
    http = HttpService(
        Upstream(
            "WordPress",
            f"{site} (client '{w.client}', user '{user}')",
            auth_hint=w.auth_hint("wordpress") + " In WordPress: Users > Profile > Application Passwords.",
        ),
        base_url=f"{site}/wp-json/",
        auth=auth,
        limiter=w.upstream_budget(f"WordPress {site}", None),  # core has no limit; hosts may add one
        parse_error=parse_wp_error,
        classify=classify_wp_error,
        transport=w.transport,
    )
    return WordPress(http, site)


async def webflow_adapter(w: Wiring):
    from adapters.cms.webflow import Webflow, classify_webflow_error, parse_webflow_error
    from adapters.http import HttpService, Upstream

    s = w.settings
    http = HttpService(
        Upstream(
            "Webflow",
            f"{s.site_id or 'the site'} (client '{w.client}')",
            auth_hint=w.auth_hint("webflow") + " In Webflow: Site settings > Apps & integrations > API access.",
        ),
        base_url=str(s.api_base).rstrip("/") + "/",
        auth=w.auth("webflow"),
        limiter=w.upstream_budget("Webflow API token", WEBFLOW_REQUESTS, window=True),  # Webflow counts per minute
        parse_error=parse_webflow_error,
        classify=classify_webflow_error,
        transport=w.transport,
    )
    try:
        site_id = s.site_id or await _only_site(http)
        collection_id = await _collection_id(http, site_id, s.collection)
    except BaseException:
        await http.aclose()
        raise
    return Webflow(
        http, site_id, collection_id, fields=s.fields, live_url=str(s.live_url).rstrip("/") if s.live_url else None
    )


async def _only_site(http) -> str:
    sites = (await http.get_json("sites")).get("sites") or []
    if len(sites) != 1:
        raise InvalidRequest(
            f"The Webflow token sees {len(sites)} sites; mcp.json must say which one.",
            hint="Set settings.site_id of the webflow server in mcp.json.",
        )
    return sites[0]["id"]


async def _collection_id(http, site_id: str, wanted: str) -> str:
    collections = (await http.get_json(f"sites/{site_id}/collections")).get("collections") or []
    for c in collections:
        if wanted in (c.get("id"), c.get("slug")):
            return c["id"]
    names = ", ".join(f"{c.get('slug')} ({c.get('id')})" for c in collections) or "none"
    raise NotFound(
        f"The Webflow site has no collection '{wanted}'. Collections: {names}.",
        hint="Set settings.collection of the webflow server in mcp.json to one of them.",
    )


def _discovery(w: Wiring, api: str, version: str):
    """A discovery-based Google client (bundled document, no network) on httplib2 with the vault's credentials."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build

    base = w.settings.api_base
    http = google_auth_httplib2.AuthorizedHttp(w.google_credentials, http=httplib2.Http(timeout=60))
    return build(
        api,
        version,
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": str(base)} if base else None,
    )


async def ga4_adapter(w: Wiring):
    from google.analytics.data_v1beta import BetaAnalyticsDataClient
    from google.api_core.client_options import ClientOptions

    from adapters.google.ga4 import GA4

    base = w.settings.api_base
    data = (
        BetaAnalyticsDataClient(  # REST transport: plain HTTPS, built on this thread (gRPC built off-thread can hang)
            credentials=w.google_credentials,
            transport="rest",
            client_options=ClientOptions(api_endpoint=str(base).rstrip("/")) if base else None,
        )
    )
    return GA4(
        data,
        _discovery(w, "analyticsadmin", "v1beta"),
        properties=w.settings.properties,
        auth_hint=w.auth_hint("google"),
    )


async def search_console_adapter(w: Wiring):
    from adapters.google.search_console import SearchConsole

    return SearchConsole(_discovery(w, "searchconsole", "v1"), sites=w.settings.sites, auth_hint=w.auth_hint("google"))


async def page_analysis_adapter(w: Wiring):
    from adapters.web.analyzer import PageAnalyzer
    from adapters.web.browser import Browser
    from adapters.web.safety import UrlPolicy

    s = w.settings
    policy = UrlPolicy(allow_private=s.allow_private, allowed_hosts=frozenset(s.allowed_hosts))
    chromium = s.chromium or os.environ.get("MARKETING_MCP_CHROMIUM")  # settings first, then the environment
    return PageAnalyzer(
        Browser(policy, executable=chromium, pages=s.pages),
        page_timeout=s.page_timeout,
        max_links=s.max_links,
        link_timeout=s.link_timeout,
    )


async def mailchimp_adapter(w: Wiring):
    from adapters.esp.mailchimp import Mailchimp
    from credentials.mailchimp import sdk_client

    base = w.settings.api_base
    account = w.server_config.credentials.account
    client = sdk_client(w.vault, account, str(base).rstrip("/") if base else None)
    return Mailchimp(client, account=account or w.client, auth_hint=w.auth_hint("mailchimp"))


async def customerio_adapter(w: Wiring):
    from adapters.esp.customerio import CustomerIO, classify_customerio_error, parse_customerio_error
    from adapters.http import HttpService, Upstream

    s = w.settings
    eu = "-eu" if s.region == "eu" else ""
    where = f"workspace of client '{w.client}'"

    def service(api: str, base: str, provider: str, rate: Rate) -> HttpService:
        return HttpService(
            Upstream("Customer.io", f"{api}, {where}", auth_hint=w.auth_hint(provider)),
            base_url=base.rstrip("/") + "/",
            auth=w.auth(provider),
            limiter=w.upstream_budget(f"Customer.io {api}", rate, window=True),  # "10 requests per second"
            parse_error=parse_customerio_error,
            classify=classify_customerio_error,
            transport=w.transport,
        )

    app = service(
        "App API", str(s.app_api_base or f"https://api{eu}.customer.io/v1"), "customerio", CUSTOMERIO_APP_REQUESTS
    )
    track = service(
        "Track API",
        str(s.track_api_base or f"https://track{eu}.customer.io/api"),
        "customerio-track",
        CUSTOMERIO_TRACK_REQUESTS,
    )
    return CustomerIO(app, track)


class _Adapters(Mapping):
    """Adapter factories by server name, resolved from the registry on first use."""

    def __init__(self) -> None:
        self._found: dict[str, AdapterFactory] = {}

    def __getitem__(self, server: str) -> AdapterFactory:
        if server not in self._found:
            self._found[server] = entry(server).adapter_factory()
        return self._found[server]

    def __iter__(self):
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)


ADAPTERS: Mapping[str, AdapterFactory] = _Adapters()


def create_server(
    config: McpConfig, client: str, server: str, transport: "httpx.AsyncBaseTransport | None" = None
) -> "MCPServer":
    """The MCP server `server` for `client`, or ConfigError saying why it may not start."""
    wiring = Wiring(config, client, server, transport)
    mcp_server = entry(server).tool_set()(wiring.deps)
    _check_rate_limit_names(wiring, mcp_server)
    return mcp_server


def _check_rate_limit_names(w: Wiring, mcp_server: "MCPServer") -> None:
    tools = set(tool_names(mcp_server))  # the SDK's public listing is async
    unknown = sorted(set(w.server_config.rate_limits.tools) - tools)
    if unknown:
        raise ConfigError(
            f"{w.config.path}: $.clients.{w.client}.servers.{w.server}.rate_limits.tools names "
            f"unknown tools {', '.join(unknown)}; the {w.server} server has {', '.join(sorted(tools))}."
        )
