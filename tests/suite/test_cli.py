"""The command line around the servers: init, wordpress-plugin, --version, help on every argument,
demo's choice of file and port, `auth status` across clients, and `auth set mailchimp` checking the key."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from suite.cli import build_parser
from suite.config import ConfigError, load_config, parse_config
from suite.settings import MailchimpSettings

from ..helpers import cli

ROOT = Path(__file__).resolve().parents[2]


# -- init ------------------------------------------------------------------------------------------


def test_init_writes_a_valid_commented_starter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("init", "--client", "northwind")
    assert code == 0 and "hosts export --client northwind --host claude-desktop" in out
    raw = json.loads((tmp_path / "mcp.json").read_text())
    config = load_config(tmp_path / "mcp.json")
    assert set(config.clients) == {"northwind", "demo"}
    assert config.client("northwind").enabled() == ["wordpress", "ga4", "search-console", "page-analysis", "mailchimp"]
    assert config.client("demo").sandbox is not None
    assert raw["$comment"] and raw["clients"]["northwind"]["$comment"]
    assert not config.mcpServers  # host entries are machine-specific: `hosts export` makes them


def test_init_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text('{"clients": {}}')
    code, _, err = cli("init", "--path", str(path))
    assert code == 1 and "already exists" in err and "--force" in err
    assert path.read_text() == '{"clients": {}}'
    code, out, _ = cli("init", "--path", str(path), "--force")
    assert code == 0 and "my-client" in load_config(path).clients
    assert (tmp_path / "mcp.json.bak").read_text() == '{"clients": {}}'


@pytest.mark.parametrize("name", ["demo", "bad name", ".x"])
def test_init_refuses_a_client_name_mcp_json_would_reject(tmp_path, name):
    code, _, err = cli("init", "--path", str(tmp_path / "mcp.json"), "--client", name)
    assert code == 2 and "cannot be a client name" in err and not (tmp_path / "mcp.json").exists()


def test_the_packaged_files_are_the_repositorys():
    from suite.init import example_text, plugin_text

    assert example_text() == (ROOT / "mcp.json").read_text()
    assert plugin_text() == (ROOT / "wordpress" / "marketing-mcp-companion.php").read_text()
    assert plugin_text().startswith("<?php")


def test_wordpress_plugin_prints_or_writes_the_plugin(tmp_path):
    from suite.init import plugin_text

    code, out, _ = cli("wordpress-plugin")
    assert code == 0 and out == plugin_text()
    folder = tmp_path / "wp-content" / "mu-plugins"
    folder.mkdir(parents=True)
    assert cli("wordpress-plugin", "--output", str(folder))[0] == 0
    assert (folder / "marketing-mcp-companion.php").read_text() == plugin_text()


# -- --version and help ------------------------------------------------------------------------------


def test_version_prints_the_package_version():
    done = subprocess.run([sys.executable, "-m", "suite", "--version"], capture_output=True, text=True, timeout=30)
    version = importlib.metadata.version("marketing-mcp")  # what the install recorded from servers.__version__
    assert done.returncode == 0 and done.stdout == f"marketing-mcp {version}\n"


def _parsers(parser: argparse.ArgumentParser, path: str = "marketing-mcp"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_argument_has_help_text():
    missing = [
        f"{path}: {a.option_strings or a.dest}"
        for path, p in _parsers(build_parser())
        for a in p._actions
        if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) and not a.help
    ]
    assert missing == []


def test_serve_parses_without_the_other_commands():
    parser = build_parser(everything=False)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert "serve" in commands and "auth" not in commands and "hosts" not in commands


# -- demo ------------------------------------------------------------------------------------------


def test_demo_uses_the_packaged_example_when_the_working_directory_has_no_demo_client(tmp_path, monkeypatch):
    from suite.demo import _demo_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MARKETING_MCP_CONFIG", raising=False)
    (tmp_path / "mcp.json").write_text('{"clients": {"acme": {}}}')
    with ExitStack() as stack:
        path = _demo_config(None, stack)
        assert path.read_text() == (ROOT / "mcp.json").read_text() and path.is_file()
        with pytest.raises(ConfigError, match="does not exist"):  # a named file is never silently replaced
            _demo_config(str(tmp_path / "missing.json"), stack)
    (tmp_path / "mcp.json").write_text(json.dumps({"clients": {"demo": {"sandbox": "http://127.0.0.1:1"}}}))
    with ExitStack() as stack:
        assert _demo_config(None, stack) == tmp_path / "mcp.json"


def test_demo_port_points_every_sandbox_address_of_the_demo_client_there():
    from suite.demo import _on_port

    with ExitStack() as stack:
        path, url = _on_port(ROOT / "mcp.json", "http://127.0.0.1:8765", 9876, stack)
        assert url == "http://127.0.0.1:9876"
        text = path.read_text()
        demo = json.loads(text)["clients"]["demo"]
        assert "8765" not in json.dumps(demo)
        assert demo["servers"]["page-analysis"]["settings"]["allowed_hosts"] == ["127.0.0.1:9876"]
        config = load_config(path)
        assert str(config.client("demo").sandbox) == "http://127.0.0.1:9876/"
        mailchimp = config.client("demo").servers.settings_of("mailchimp", MailchimpSettings)
        assert mailchimp is not None and str(mailchimp.api_base) == "http://127.0.0.1:9876/mailchimp/3.0"
        assert json.loads(text)["clients"]["acme"] == json.loads((ROOT / "mcp.json").read_text())["clients"]["acme"]
    assert not path.exists()  # the copy lives only as long as the demo


def test_demo_takes_a_port():
    args = build_parser().parse_args(["demo", "--port", "9000"])
    assert args.port == 9000


# -- auth ------------------------------------------------------------------------------------------


def test_auth_status_without_client_covers_every_client_in_mcp_json(tmp_path, signed_in):
    from ..helpers import sandbox_config

    raw = sandbox_config(signed_in.url, client="t")
    raw["clients"]["newcomer"] = {
        "servers": {"wordpress": {"settings": {"site_url": "http://127.0.0.1:9/", "username": "bot"}}}
    }
    raw["clients"]["quiet"] = {"servers": {"page-analysis": {"settings": {}}}}
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(raw))
    code, out, err = cli("auth", "status", "--config", str(config))
    assert code == 1, err  # newcomer has nothing stored yet
    sections = {
        block.split("\n")[0]: block for block in ("\n" + out).split("\n") if block and not block.startswith(" ")
    }
    assert {"t", "newcomer", "quiet"} <= set(sections), out + err
    assert (
        "! the wordpress server has no wordpress credentials: run `marketing-mcp auth set wordpress --client "
        "newcomer`" in out
    )
    assert "quiet\n  no credentials stored, none needed\n" in out
    code, out, _ = cli("auth", "status", "--config", str(config), "--client", "t")
    assert "newcomer" not in out


def test_auth_status_with_a_broken_config_named_says_so(tmp_path):
    bad = tmp_path / "mcp.json"
    bad.write_text("{")
    code, _, err = cli("auth", "status", "--config", str(bad))
    assert code == 2 and "not valid JSON" in err


@pytest.fixture
def mailchimp_client(sandbox, tmp_path) -> tuple[str, Path, str]:
    name = "mc" + str(abs(hash(tmp_path.name)) % 10**8)
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {"clients": {name: {"servers": {"mailchimp": {"settings": {"api_base": f"{sandbox.url}/mailchimp/3.0"}}}}}}
        )
    )
    key = httpx.post(f"{sandbox.url}/_sandbox/provision", timeout=5).json()["mailchimp"]["api_key"]
    return name, config, key


def _stored(client: str) -> list:
    from credentials.store import VaultError
    from credentials.vault import Vault

    try:
        return list(Vault.open(client).store.records().values())
    except VaultError:
        return []


def test_a_bogus_mailchimp_key_is_refused_and_nothing_is_stored(mailchimp_client):
    name, config, key = mailchimp_client
    bogus = "0" * 32 + "-" + key.rpartition("-")[2]
    code, out, err = cli("auth", "set", "mailchimp", "--client", name, "--config", str(config), stdin=bogus + "\n")
    assert code == 1 and out == ""
    assert "Mailchimp refused the key (HTTP 401" in err and "nothing was stored" in err
    assert bogus not in err and _stored(name) == []


def test_a_good_mailchimp_key_is_pinged_then_stored(mailchimp_client):
    name, config, key = mailchimp_client
    code, out, err = cli("auth", "set", "mailchimp", "--client", name, "--config", str(config), stdin=key + "\n")
    assert code == 0, err
    [rec] = _stored(name)
    assert rec.provider == "mailchimp" and rec.account == key.rpartition("-")[2]


@pytest.mark.parametrize("key", ["nodatacenter", "abc-", "abc-evil.example#", "abc-US21"])
def test_a_mailchimp_key_without_a_data_center_is_refused_before_any_request(mailchimp_client, key):
    name, config, _ = mailchimp_client
    code, _, err = cli("auth", "set", "mailchimp", "--client", name, "--config", str(config), stdin=key + "\n")
    assert code == 1 and "ends with its data center" in err and _stored(name) == []


def test_an_unreachable_mailchimp_is_reported_and_no_verify_stores_unchecked(tmp_path):
    name = "mcdown"
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "clients": {
                    name: {"servers": {"mailchimp": {"settings": {"api_base": "http://127.0.0.1:9/mailchimp/3.0"}}}}
                }
            }
        )
    )
    key = "f" * 32 + "-us21"
    code, _, err = cli("auth", "set", "mailchimp", "--client", name, "--config", str(config), stdin=key + "\n")
    assert code == 1 and "could not be reached" in err and "--no-verify" in err and _stored(name) == []
    code, _, _ = cli(
        "auth", "set", "mailchimp", "--client", name, "--config", str(config), "--no-verify", stdin=key + "\n"
    )
    assert code == 0 and len(_stored(name)) == 1


def test_the_starter_is_valid_for_any_allowed_name():
    from suite.init import starter

    for name in ("a", "acme-corp", "x.y_z"):
        parse_config(starter(name))


def test_auth_status_reports_a_damaged_vault_and_still_covers_the_other_clients(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETING_MCP_HOME", str(tmp_path / "home"))
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"clients": {"good": {"servers": {"webflow": {"settings": {"collection": "blog"}}}}}}))
    monkeypatch.setenv("MARKETING_MCP_CONFIG", str(config))
    code, _, err = cli("auth", "set", "webflow", "--client", "good", "--stdin", "--no-verify", stdin="token-1234\n")
    assert code == 0, err
    damaged = tmp_path / "home" / "vault" / "damaged.vault"
    damaged.write_bytes(b"not a vault")
    code, out, err = cli("auth", "status")
    assert code == 1
    assert out.startswith("damaged\n  ! ") and "\ngood\n  webflow " in out, out + err
    assert damaged.read_bytes() == b"not a vault"  # reported, never overwritten
