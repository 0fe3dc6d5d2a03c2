"""The mailchimp server: the ESP tool set over Mailchimp's Marketing API."""

from __future__ import annotations

from typing import Callable

from mcp.server.mcpserver import MCPServer

from ._app import Deps
from .esp import create_esp_server

INSTRUCTIONS = """Tools for one client's Mailchimp account: audiences and their history, contacts (batched
upserts, tags, merge fields), segments, campaigns (draft, test, schedule, send, cancel), subject-line
A/B tests and reports. Sending, scheduling and canceling are destructive: run them with dry_run=true
first to see exactly what goes to whom. Judge campaigns on clicks: opens include privacy-proxy opens."""


def create_server(build_deps: Callable[[], Deps]) -> MCPServer:
    return create_esp_server("mailchimp", INSTRUCTIONS, build_deps)
