"""One source for the server list: the registry, mcp.json's model, the wiring, `serve` and `servers`,
`hosts export`, `auth status` and the Director all name the same servers, credentials and loops."""

import argparse
import asyncio
import json
import re
from typing import get_args

import pytest

from credentials.providers import PROVIDERS
from director.session import LOOPS as DIRECTOR_LOOPS
from servers._app import tool_names
from suite.cli import build_parser, main
from suite.config import ClientServers, DirectorPolicy, load_config
from suite.director_cli import session_for
from suite.registry import LOOPS, REGISTRY, SERVERS, loop_needs
from suite.wiring import ADAPTERS, create_server

from ..helpers import cli as run_cli

CLIENT = "everything"
# Settings for servers whose model has required keys; every other server is enabled with {}.
REQUIRED = {"wordpress": {"site_url": "http://127.0.0.1:9/"}, "webflow": {"collection": "blog-posts"}}


@pytest.fixture
def config(tmp_path):
    servers = {name: {"settings": REQUIRED.get(name, {})} for name in SERVERS}
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"clients": {CLIENT: {"servers": servers}}}))
    return path


def cli(*argv: str) -> tuple[int, str]:
    code, out, _ = run_cli(*argv)
    return code, out


def test_the_config_model_has_one_field_per_entry(config):
    fields = ClientServers.model_fields
    assert tuple(f.alias or n for n, f in fields.items() if n != "comment") == SERVERS
    for e in REGISTRY.values():
        server_config = get_args(fields[e.attribute].annotation)[0]  # ServerConfig[settings] | None
        assert server_config.model_fields["settings"].annotation is e.settings
    assert load_config(config).client(CLIENT).enabled() == list(SERVERS)


def test_the_wiring_builds_every_entry(config):
    assert list(ADAPTERS) == list(SERVERS)
    cfg = load_config(config)
    for name in SERVERS:
        assert asyncio.iscoroutinefunction(ADAPTERS[name])
        server = create_server(cfg, CLIENT, name)
        assert tool_names(server), name


def test_serve_servers_and_hosts_name_the_registry(config, capsys):
    # argparse has no public way to read a parser's commands and their arguments back
    subparsers = build_parser(everything=False)._subparsers
    assert subparsers is not None
    commands = subparsers._group_actions[0]
    assert isinstance(commands, argparse._SubParsersAction)
    serve = commands.choices["serve"]
    choices = next(a for a in serve._actions if a.dest == "server").choices
    assert choices is not None and tuple(choices) == SERVERS
    code, out = cli("servers", "--config", str(config))
    assert code == 0 and f"Servers: {', '.join(SERVERS)}\n" in out and f"{CLIENT}: {', '.join(SERVERS)}" in out
    assert main(["hosts", "export", "--client", CLIENT, "--host", "cursor", "--config", str(config)]) == 0
    exported = json.loads(capsys.readouterr().out)["mcpServers"]
    assert list(exported) == [f"{CLIENT}-{s}" for s in SERVERS]


def test_auth_status_asks_for_what_each_entry_needs(config, tmp_path, monkeypatch):
    from credentials.keys import MasterKey

    monkeypatch.setenv("MARKETING_MCP_HOME", str(tmp_path / "home"))  # an empty vault
    monkeypatch.setenv("MARKETING_MCP_VAULT_KEY", MasterKey.generate().to_text())
    code, out = cli("auth", "status", "--client", CLIENT, "--config", str(config))
    missing = set(re.findall(r"the (\S+) server has no (\S+) credentials", out))
    assert code == 1 and missing == {(s, p) for s, e in REGISTRY.items() for p in e.credentials}
    for e in REGISTRY.values():
        assert set(e.credentials) <= set(PROVIDERS), e.name


def test_the_director_gets_the_registry_s_servers_and_loops(config):
    assert set(DIRECTOR_LOOPS) == set(LOOPS)
    loop = get_args(DirectorPolicy.model_fields["loops"].annotation)[0]  # list[Loop]
    assert get_args(loop) == LOOPS
    session = session_for(config, CLIENT)
    assert list(session.targets) == list(SERVERS)
    assert session.needs == loop_needs()
    assert {s for used in session.needs.values() for s in used} <= set(SERVERS)
    assert all(session.needs[loop] for loop in LOOPS)
    for name, e in REGISTRY.items():
        assert all(name in session.needs[loop] for loop in e.loops)
