"""The MCP servers of the suite: one tool set per module, shared plumbing in `_app`."""

__version__ = "0.1.0"  # the package's one version: pyproject.toml reads it at build time, servers at no cost
