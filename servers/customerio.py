"""The customerio server: the ESP tool set over Customer.io's App and Track APIs."""

from __future__ import annotations

from typing import Callable

from mcp.server.mcpserver import MCPServer

from ._app import Deps
from .esp import create_esp_server

INSTRUCTIONS = """Tools for one client's Customer.io workspace: its people (one audience; batched upserts,
attributes), segments, newsletters (draft, test, schedule, send), subject-line A/B tests where the
workspace supports them, and reports. Sending and scheduling are destructive: run them with
dry_run=true first to see exactly what goes to whom. Judge newsletters on clicks, not opens."""


def create_server(build_deps: Callable[[], Deps]) -> MCPServer:
    return create_esp_server("customerio", INSTRUCTIONS, build_deps)
