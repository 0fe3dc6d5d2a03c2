"""The wordpress server: the CMS tool set over a WordPress site's REST API."""

from __future__ import annotations

from typing import Callable

from mcp.server.mcpserver import MCPServer

from ._app import Deps
from .cms import create_cms_server

INSTRUCTIONS = """Tools for one client's WordPress site: read, draft, edit, publish, schedule and unpublish
posts and pages, manage categories and tags, upload images. Drafting never publishes; publish,
schedule and unpublish change the live site. Every write accepts dry_run=true to preview the
exact field changes. Call site_info first to see whether SEO title and meta description are writable."""


def create_server(build_deps: Callable[[], Deps]) -> MCPServer:
    return create_cms_server("wordpress", INSTRUCTIONS, build_deps)
