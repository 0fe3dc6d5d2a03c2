"""Every served server, one entry each: the one place a new server is added.

mcp.json's model, the wiring, `serve` and `servers`, `hosts export`, `auth status` and sign-in,
and the Director's choice of servers per loop all read this table. Tool sets and adapter
factories are import strings, resolved on first use, so reading the table imports nothing heavy
(a server's start-up pays only for its own tool set).
"""

import importlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping, get_args

from pydantic import BaseModel

from .settings import (
    CustomerIOSettings,
    GA4Settings,
    MailchimpSettings,
    PageAnalysisSettings,
    SearchConsoleSettings,
    WebflowSettings,
    WordPressSettings,
)

Loop = Literal["search_ctr", "traffic_drop", "email_engagement"]
"""The Director's closed loops, by the name mcp.json's `director.loops` uses."""
LOOPS: tuple[Loop, ...] = get_args(Loop)


@dataclass(frozen=True)
class ServerEntry:
    name: str
    """As mcp.json, `serve` and the host entries spell it."""
    tools: str
    """`module:function` building the MCP server from a `Deps` factory (servers/ never reads config)."""
    adapter: str
    """`module:function` building the vendor adapter from a `suite.wiring.Wiring`."""
    settings: type[BaseModel]
    """The model of `$.clients.<client>.servers.<name>.settings`."""
    credentials: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Vault providers the server signs in with, each with the OAuth scopes it needs there."""
    loops: tuple[str, ...] = ()
    """Director loops that can use the server (a loop starts only the servers it can use)."""
    host_env: tuple[str, ...] = ()
    """Environment variables (never secrets) `hosts export` passes on to the server when they are set."""

    @property
    def attribute(self) -> str:
        """The attribute of the config model (Python names have no dashes)."""
        return self.name.replace("-", "_")

    def tool_set(self) -> Any:
        return _resolve(self.tools)

    def adapter_factory(self) -> Any:
        return _resolve(self.adapter)


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


GOOGLE = "https://www.googleapis.com/auth/"

_ENTRIES = (
    ServerEntry(
        "wordpress",
        "servers.wordpress:create_server",
        "suite.wiring:wordpress_adapter",
        WordPressSettings,
        {"wordpress": ()},
        loops=("search_ctr", "traffic_drop"),
    ),
    ServerEntry(
        "webflow",
        "servers.webflow:create_server",
        "suite.wiring:webflow_adapter",
        WebflowSettings,
        {"webflow": ("sites:read", "sites:write", "cms:read", "cms:write")},
        loops=("search_ctr", "traffic_drop"),
    ),
    ServerEntry(
        "ga4",
        "servers.ga4:create_server",
        "suite.wiring:ga4_adapter",
        GA4Settings,
        {"google": (GOOGLE + "analytics.readonly",)},
        loops=("traffic_drop",),
    ),
    ServerEntry(
        "search-console",
        "servers.search_console:create_server",
        "suite.wiring:search_console_adapter",
        SearchConsoleSettings,
        {"google": (GOOGLE + "webmasters",)},  # submit_sitemap writes
        loops=("search_ctr", "traffic_drop"),
    ),
    ServerEntry(
        "page-analysis",
        "servers.page_analysis:create_server",
        "suite.wiring:page_analysis_adapter",
        PageAnalysisSettings,
        {},
        loops=("traffic_drop",),  # signs in nowhere
        host_env=("MARKETING_MCP_CHROMIUM", "PLAYWRIGHT_BROWSERS_PATH"),
    ),
    ServerEntry(
        "mailchimp",
        "servers.mailchimp:create_server",
        "suite.wiring:mailchimp_adapter",
        MailchimpSettings,
        {"mailchimp": ()},
        loops=("email_engagement",),
    ),
    ServerEntry(
        "customerio",
        "servers.customerio:create_server",
        "suite.wiring:customerio_adapter",
        CustomerIOSettings,
        {"customerio": (), "customerio-track": ()},  # App API and Track API
        loops=("email_engagement",),
    ),
)

REGISTRY: Mapping[str, ServerEntry] = MappingProxyType({e.name: e for e in _ENTRIES})
SERVERS: tuple[str, ...] = tuple(REGISTRY)


def entry(name: str) -> ServerEntry:
    return REGISTRY[name]


def providers_of(server: str) -> tuple[str, ...]:
    """The vault providers a server needs (none for an unknown name)."""
    found = REGISTRY.get(server)
    return tuple(found.credentials) if found else ()


def scopes_needed(provider: str, servers: list[str]) -> tuple[str, ...] | None:
    """The scopes these servers need from `provider`, or None when none of them signs in there."""
    users = [REGISTRY[s] for s in servers if s in REGISTRY and provider in REGISTRY[s].credentials]
    if not users:
        return None
    scopes: list[str] = []
    for e in users:
        scopes += [s for s in e.credentials[provider] if s not in scopes]
    return tuple(scopes)


def loop_needs() -> dict[str, tuple[str, ...]]:
    """Per loop, the servers it can use (what the Director starts for it)."""
    return {loop: tuple(e.name for e in _ENTRIES if loop in e.loops) for loop in LOOPS}


def _check() -> None:
    for e in _ENTRIES:
        unknown = set(e.loops) - set(LOOPS)
        if unknown:
            raise RuntimeError(f"registry entry {e.name} names unknown loop(s) {', '.join(sorted(unknown))}")


_check()
