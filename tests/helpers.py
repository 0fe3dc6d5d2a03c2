"""Locating real components for integration tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from .conftest import need

ROOT = Path(__file__).resolve().parent.parent


def real_wordpress() -> dict:
    """Credentials written by scripts/wordpress-up.sh, once the site answers."""
    path = Path(os.environ.get("WP_CREDENTIALS", ROOT / "build" / "wordpress.json"))
    need(path.is_file(), f"no real WordPress: run scripts/wordpress-up.sh (expected {path})")
    creds = json.loads(path.read_text())
    try:
        up = httpx.get(f"{creds['site_url']}/wp-json/", timeout=5).status_code == 200
    except httpx.HTTPError:
        up = False
    need(up, f"the WordPress at {creds['site_url']} does not answer: run scripts/wordpress-up.sh")
    return creds


def real_wordpress_client(client: str) -> dict:
    """mcp.json for `client` on the real WordPress, its application password stored with `auth set`."""
    import io
    import sys

    from suite.cli import main

    creds = real_wordpress()
    raw = {"clients": {client: {"servers": {"wordpress": {
        "settings": {"site_url": creds["site_url"], "username": creds["username"]}}}}}}
    config = Path(os.environ["MARKETING_MCP_HOME"]) / f"{client}.mcp.json"
    config.write_text(json.dumps(raw))
    stdin, sys.stdin = sys.stdin, io.StringIO(creds["application_password"] + "\n")
    try:
        assert main(["auth", "set", "wordpress", "--client", client, "--config", str(config)]) == 0
    finally:
        sys.stdin = stdin
    return raw
