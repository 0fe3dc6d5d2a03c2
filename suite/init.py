"""`marketing-mcp init`: a starter mcp.json for a new team, and `marketing-mcp wordpress-plugin`: the
WordPress companion plugin. Both come from the package's own files (suite/data), so they work from a
wheel as from the repository."""

from __future__ import annotations

import json
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from .config import parse_config

PLUGIN_NAME = "marketing-mcp-companion.php"
DEFAULT_CLIENT = "my-client"


def example_text() -> str:
    """The example mcp.json shipped with the package (the sandbox's `demo` client and an `acme` example)."""
    return resources.files("suite.data").joinpath("mcp.json").read_text(encoding="utf-8")


def plugin_text() -> str:
    return resources.files("suite.data").joinpath(PLUGIN_NAME).read_text(encoding="utf-8")


def starter(client: str) -> dict[str, Any]:
    """One real client with placeholder settings, and the sandbox's `demo` client to try things with."""
    demo = json.loads(example_text())["clients"]["demo"]
    raw = {
        "$comment": [
            "mcp.json: which servers each client uses, their settings and rate limits. No secrets: those go",
            "in the encrypted vault (`marketing-mcp auth --help`). `$comment` keys are notes, allowed anywhere.",
            f"Configure a host: `marketing-mcp hosts export --client {client} --host claude-desktop --write`",
            "(also claude-code, cursor, vscode). Try everything with no account: `marketing-mcp demo`.",
        ],
        "clients": {
            client: {
                "$comment": [
                    "Replace the example.com settings with the client's own and delete the servers it does not use.",
                    f"Then store its secrets: `marketing-mcp auth set wordpress --client {client}` (an application",
                    f"password), `marketing-mcp auth login google --client {client}` (GA4 and Search Console),",
                    f"`marketing-mcp auth set mailchimp --client {client}` (an API key); "
                    "check with `marketing-mcp auth status`.",
                    "SEO title and meta description in WordPress need the companion plugin: "
                    "`marketing-mcp wordpress-plugin --output wp-content/mu-plugins/`.",
                ],
                "description": "",
                "rate_limits": {"default": "60/min"},
                "servers": {
                    "wordpress": {"settings": {"site_url": "https://blog.example.com", "username": "marketing-bot"}},
                    "ga4": {"settings": {"properties": {"web": "123456789"}}},
                    "search-console": {"settings": {"sites": ["sc-domain:example.com"]}},
                    "page-analysis": {"settings": {}},
                    "mailchimp": {"settings": {}, "rate_limits": {"tools": {"send_campaign": "5/day"}}},
                },
                "director": {
                    "$comment": 'Writes the Director may make without asking, e.g. ["update_post"]; '
                    "none until you say.",
                    "auto_approve": [],
                },
            },
            "demo": demo,
        },
    }
    parse_config(raw)  # the starter must always be a valid file
    return raw


def add_parsers(sub: Any) -> None:
    init = sub.add_parser("init", help="write a starter mcp.json for a new team")
    init.add_argument("--path", default="mcp.json", help="where to write it (default: ./mcp.json)")
    init.add_argument(
        "--client", default=DEFAULT_CLIENT, help=f"name of the team's first client (default: {DEFAULT_CLIENT})"
    )
    init.add_argument("--force", action="store_true", help="replace an existing file (kept as FILE.bak)")

    plugin = sub.add_parser(
        "wordpress-plugin", help="the WordPress companion plugin (makes SEO title and meta description writable)"
    )
    plugin.add_argument(
        "--output", help="file or folder (e.g. wp-content/mu-plugins/) to write it to; default: print it"
    )


def run_init(args: Any, out=None, err=None) -> int:
    from .hosts import write_file

    out, err = out or sys.stdout, err or sys.stderr
    client = args.client
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", client) or client == "demo":
        err.write(
            f"marketing-mcp init: '{client}' cannot be a client name: use letters, digits, '-', '_' and '.' "
            "(and not 'demo', the sandbox's client).\n"
        )
        return 2
    path = Path(args.path).expanduser().absolute()
    if path.is_dir():
        path = path / "mcp.json"
    exists = path.exists()
    if exists and not args.force:
        err.write(
            f"marketing-mcp init: {path} already exists; nothing was written. Pass --force to replace it "
            "(the old file is kept as .bak).\n"
        )
        return 1
    if exists:
        write_file(
            path.with_name(path.name + ".bak"), path.read_text(encoding="utf-8"), mode=path.stat().st_mode & 0o777
        )
    write_file(path, json.dumps(starter(client), indent=2, ensure_ascii=False) + "\n")
    cfg = "" if path == Path.cwd() / "mcp.json" else f" --config {path}"  # ./mcp.json is found without it
    out.write(
        f"Wrote {path}"
        + (f" (the previous file is {path.name}.bak)" if exists else "")
        + f": the client '{client}' and the sandbox's 'demo' client.\n\nNext:\n"
        f"  1. Edit clients.{client} in it: the site, properties and sites; delete servers it does not use.\n"
        f"  2. Store its secrets: marketing-mcp auth set wordpress --client {client}{cfg}, and the others "
        "its $comment lists.\n"
        f"  3. Check them: marketing-mcp auth status{cfg}\n"
        f"  4. Configure a host: marketing-mcp hosts export --client {client} --host claude-desktop{cfg} --write\n"
        f"Try it all with no account first: marketing-mcp demo{cfg}\n"
    )
    return 0


def run_plugin(args: Any, out=None, err=None) -> int:
    from .hosts import write_file

    out = out or sys.stdout
    text = plugin_text()
    if not args.output:
        out.write(text)
        return 0
    path = Path(args.output).expanduser()
    if path.is_dir() or args.output.endswith(("/", os.sep)):
        path = path / PLUGIN_NAME
    write_file(path.absolute(), text)
    (err or sys.stderr).write(
        f"Wrote {path.absolute()}. In WordPress it belongs in wp-content/mu-plugins/ "
        "(must-use plugins load without activation).\n"
    )
    return 0
