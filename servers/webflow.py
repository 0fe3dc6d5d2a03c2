"""The webflow server: the CMS tool set over one Webflow CMS collection (Data API v2)."""

from __future__ import annotations

from typing import Callable

from mcp.server.mcpserver import MCPServer

from ._app import Deps
from .cms import create_cms_server

INSTRUCTIONS = """Tools for one client's Webflow site: read, draft, edit, publish and unpublish the items of
its blog collection. Drafting and editing change the staged version only; publish makes an item
live. Every write accepts dry_run=true to preview the exact field changes. Webflow cannot
schedule items or manage static pages here; call site_info for the field mapping."""


def create_server(build_deps: Callable[[], Deps]) -> MCPServer:
    return create_cms_server("webflow", INSTRUCTIONS, build_deps)
