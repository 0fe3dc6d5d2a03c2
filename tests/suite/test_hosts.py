"""`marketing-mcp hosts export`: entries with absolute paths and the environment the servers need (never
a secret), merged into each host's own file keeping the user's entries, with a backup, idempotently.

Every file written here is under a temporary HOME or project folder, never the user's own.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from suite.cli import main
from suite.hosts import HOST_ENV, HOSTS, server_command

from ..helpers import sandbox_config

CLIENT = "hx"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


@pytest.fixture
def config(tmp_path) -> Path:
    raw = sandbox_config("http://127.0.0.1:9", client=CLIENT)
    raw["clients"][CLIENT]["servers"]["page-analysis"] = {"settings": {"allowed_hosts": ["127.0.0.1"]}}
    raw["clients"]["empty"] = {"servers": {}}
    path = tmp_path / "team" / "mcp.json"
    path.parent.mkdir()
    path.write_text(json.dumps(raw))
    return path


def export(capsys, config: Path, host: str, *extra: str) -> tuple[int, dict | None, str]:
    code = main(["hosts", "export", "--client", CLIENT, "--host", host, "--config", str(config), *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_printed_entries_are_absolute_and_carry_the_vault_location_but_no_secret(
    capsys, config, home, monkeypatch, tmp_path
):
    from credentials.keys import MasterKey

    secret = MasterKey.generate().to_text()
    monkeypatch.setenv("MARKETING_MCP_VAULT_KEY", secret)
    monkeypatch.setenv("MARKETING_MCP_HOME", str(tmp_path / "fresh-home"))  # a vault whose key is only in the env
    code, doc, err = export(capsys, config, "claude-desktop")
    assert code == 0
    assert doc is not None
    entries = doc["mcpServers"]
    assert list(entries) == [
        f"{CLIENT}-{s}" for s in ("wordpress", "webflow", "page-analysis", "mailchimp", "customerio")
    ]
    for name, entry in entries.items():
        server = name.removeprefix(f"{CLIENT}-")
        assert set(entry) == {"command", "args", "env"}  # Claude Desktop has no "type"
        assert os.path.isabs(entry["command"]) and Path(entry["command"]).exists()
        assert entry["args"][-6:] == ["serve", server, "--client", CLIENT, "--config", str(config)]
        assert entry["env"] == {
            "MARKETING_MCP_HOME": str(Path(os.environ["MARKETING_MCP_HOME"]).resolve()),
            "MARKETING_MCP_KEYRING": "none",
        }  # set explicitly by conftest, so passed on
    assert secret not in json.dumps(doc) and secret not in err
    assert "only in $MARKETING_MCP_VAULT_KEY" in err  # and the user is told the host will not have it
    assert not (home / ".config").exists()  # printing writes nothing


def test_a_key_file_needs_nothing_more_than_the_home(capsys, config, home, monkeypatch, tmp_path):
    from credentials.keys import KEY_FILE_NAME, MasterKey

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / KEY_FILE_NAME).write_text(MasterKey.generate().to_text() + "\n")
    (data / KEY_FILE_NAME).chmod(0o600)
    monkeypatch.setenv("MARKETING_MCP_HOME", str(data))
    monkeypatch.setenv("MARKETING_MCP_VAULT_KEY", MasterKey.generate().to_text())  # here too, but not only here
    code, doc, err = export(capsys, config, "claude-desktop")
    assert code == 0 and "Note:" not in err
    assert doc is not None
    assert doc["mcpServers"][f"{CLIENT}-wordpress"]["env"]["MARKETING_MCP_HOME"] == str(data.resolve())


class MemoryKeyring:
    """A keyring that works, named by dotted path as MARKETING_MCP_KEYRING names one."""

    priority = 1
    entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password


def test_a_key_in_the_keyring_passes_the_keyring_choice_and_on_linux_the_session_bus(
    capsys, config, home, monkeypatch, tmp_path
):
    from credentials.keys import KEYRING_SERVICE, MasterKey, keyring_username

    data = tmp_path / "data"
    MemoryKeyring.entries[(KEYRING_SERVICE, keyring_username(data))] = MasterKey.generate().to_text()
    monkeypatch.setenv("MARKETING_MCP_HOME", str(data))
    monkeypatch.setenv("MARKETING_MCP_KEYRING", f"{__name__}.MemoryKeyring")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")
    monkeypatch.setattr(sys, "platform", "linux")
    _, doc, err = export(capsys, config, "claude-desktop")
    assert doc is not None
    assert doc["mcpServers"][f"{CLIENT}-wordpress"]["env"] == {
        "MARKETING_MCP_HOME": str(data.resolve()),
        "MARKETING_MCP_KEYRING": f"{__name__}.MemoryKeyring",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
    }
    assert "Note:" not in err


def test_page_analysis_gets_the_browser_settings_it_reads(capsys, config, home, monkeypatch):
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", "/opt/browsers")
    monkeypatch.setenv("MARKETING_MCP_CHROMIUM", "/usr/lib/chromium/chromium")
    _, doc, _ = export(capsys, config, "cursor")
    assert doc is not None
    entries = doc["mcpServers"]
    assert entries[f"{CLIENT}-page-analysis"]["env"]["PLAYWRIGHT_BROWSERS_PATH"] == "/opt/browsers"
    assert entries[f"{CLIENT}-page-analysis"]["env"]["MARKETING_MCP_CHROMIUM"] == "/usr/lib/chromium/chromium"
    assert "PLAYWRIGHT_BROWSERS_PATH" not in entries[f"{CLIENT}-wordpress"]["env"]


def test_write_merges_keeps_the_users_entries_backs_up_and_is_idempotent(capsys, config, home):
    target = home / ".config" / "Claude" / "claude_desktop_config.json"
    target.parent.mkdir(parents=True)
    users = {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
        "env": {"TOKEN": "the user's own"},
    }
    stale = {"command": "/old/marketing-mcp", "args": ["serve", "ga4", "--client", CLIENT, "--config", "/old"]}
    lookalike = {"command": "x", "args": ["serve", "ga4", "--client", "someone-else"]}  # same name scheme, not ours
    before = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "filesystem": users,
            f"{CLIENT}-wordpress": {"command": "/old/path", "args": []},
            f"{CLIENT}-ga4": stale,
            "hx-search-console": lookalike,
        },
    }
    target.write_text(json.dumps(before))
    target.chmod(0o600)

    code, _, err = export(capsys, config, "claude-desktop", "--write")
    assert code == 0
    after = json.loads(target.read_text())
    assert after["globalShortcut"] == "Ctrl+Space"
    servers = after["mcpServers"]
    assert servers["filesystem"] == users and servers["hx-search-console"] == lookalike
    assert f"{CLIENT}-ga4" not in servers  # ours, for a server the client no longer enables
    assert servers[f"{CLIENT}-wordpress"]["args"][-6:] == [
        "serve",
        "wordpress",
        "--client",
        CLIENT,
        "--config",
        str(config),
    ]
    assert set(servers) >= {f"{CLIENT}-{s}" for s in ("webflow", "page-analysis", "mailchimp", "customerio")}
    backup = target.with_name(target.name + ".bak")
    assert json.loads(backup.read_text()) == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 == stat.S_IMODE(backup.stat().st_mode)
    assert "removed hx-ga4" in err and "updated hx-wordpress" in err and "Restart Claude Desktop" in err
    assert not list(target.parent.glob(".*.tmp"))

    written, backed_up = target.read_bytes(), backup.read_bytes()
    mtimes = target.stat().st_mtime_ns, backup.stat().st_mtime_ns
    code, _, err = export(capsys, config, "claude-desktop", "--write")
    assert code == 0 and "nothing was written" in err
    assert target.read_bytes() == written and backup.read_bytes() == backed_up
    assert (target.stat().st_mtime_ns, backup.stat().st_mtime_ns) == mtimes


def test_write_creates_the_file_when_there_is_none_and_makes_no_backup(capsys, config, home):
    code, _, _ = export(capsys, config, "cursor", "--write")
    target = home / ".cursor" / "mcp.json"
    assert code == 0 and set(json.loads(target.read_text())) == {"mcpServers"}
    assert not target.with_name("mcp.json.bak").exists()


@pytest.mark.parametrize(
    "host, relative, key", [("claude-code", ".mcp.json", "mcpServers"), ("vscode", ".vscode/mcp.json", "servers")]
)
def test_project_hosts_write_into_the_project_with_stdio_types(capsys, config, home, tmp_path, host, relative, key):
    project = tmp_path / "project"
    project.mkdir()
    code, _, err = export(capsys, config, host, "--write", "--project", str(project))
    assert code == 0 and "absolute paths" in err
    doc = json.loads((project / relative).read_text())
    assert set(doc) == {key}
    assert all(e["type"] == "stdio" and os.path.isabs(e["command"]) for e in doc[key].values())


def test_a_file_with_comments_is_left_alone(capsys, config, tmp_path):
    project = tmp_path / "project"
    (project / ".vscode").mkdir(parents=True)
    jsonc = '{\n  // mine\n  "servers": {},\n}\n'
    (project / ".vscode" / "mcp.json").write_text(jsonc)
    code, _, err = export(capsys, config, "vscode", "--write", "--project", str(project))
    assert code == 1 and "not plain JSON" in err and "left alone" in err
    assert (project / ".vscode" / "mcp.json").read_text() == jsonc
    assert not (project / ".vscode" / "mcp.json.bak").exists()


def test_a_symlinked_config_is_written_through_not_replaced(capsys, config, home, tmp_path):
    real = tmp_path / "dotfiles" / "cursor.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}')
    (home / ".cursor").mkdir()
    (home / ".cursor" / "mcp.json").symlink_to(real)
    assert export(capsys, config, "cursor", "--write")[0] == 0
    assert (home / ".cursor" / "mcp.json").is_symlink()
    assert f"{CLIENT}-wordpress" in json.loads(real.read_text())["mcpServers"]


def test_a_client_without_servers_is_refused(capsys, config):
    code = main(["hosts", "export", "--client", "empty", "--host", "cursor", "--config", str(config)])
    assert code == 1 and "enables no servers" in capsys.readouterr().err


def test_claude_desktop_file_on_each_platform(tmp_path, home):
    host = HOSTS["claude-desktop"]
    assert host.path(tmp_path, {}, "linux") == home / ".config/Claude/claude_desktop_config.json"
    assert host.path(tmp_path, {"XDG_CONFIG_HOME": "/x"}, "linux") == Path("/x/Claude/claude_desktop_config.json")
    assert host.path(tmp_path, {}, "darwin") == home / "Library/Application Support/Claude/claude_desktop_config.json"
    assert host.path(tmp_path, {"APPDATA": "/appdata"}, "win32") == Path("/appdata/Claude/claude_desktop_config.json")


def test_the_command_is_the_running_console_script_else_this_python(tmp_path):
    script = tmp_path / "bin" / "marketing-mcp"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    assert server_command(str(script)) == [str(script)]
    assert server_command("/usr/lib/python3/dist-packages/pytest/__main__.py") == [sys.executable, "-m", "suite"]
    assert server_command(str(tmp_path / "bin" / "missing" / "marketing-mcp")) == [sys.executable, "-m", "suite"]
    exe = tmp_path / "Scripts" / "marketing-mcp.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"MZ")
    assert server_command(str(tmp_path / "Scripts" / "marketing-mcp")) == [str(exe)]


async def test_an_exported_entry_starts_with_only_the_hosts_environment(signed_in, tmp_path, capsys, monkeypatch):
    """What a TypeScript-SDK host does: the six variables of its own, the entry's env, another directory."""
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(sandbox_config(signed_in.url)))  # client `t`, signed in by the fixture
    assert main(["hosts", "export", "--client", "t", "--host", "claude-desktop", "--config", str(config)]) == 0
    entry = json.loads(capsys.readouterr().out)["mcpServers"]["t-wordpress"]
    env = {k: os.environ[k] for k in HOST_ENV if k in os.environ} | entry["env"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env, cwd=str(elsewhere))
    async with Client(params) as client:
        assert "list_posts" in {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("list_posts", {"limit": 1})  # the vault opened from the env block alone
    assert not result.is_error, result.content
