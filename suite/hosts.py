"""`marketing-mcp hosts export`: the entries an MCP host needs to start a client's servers, printed
or merged into the host's own config file.

Hosts on the TypeScript SDK start a stdio server with only HOME, LOGNAME, PATH, SHELL, TERM and USER
from their own environment, in a working directory of their choosing. So the command and `--config`
are absolute paths, and whatever else a server needs from the environment (where the vault is, which
keyring holds its key) is in the entry's `env`. Never a secret: servers read those from the vault.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .config import McpConfig
from .registry import REGISTRY, SERVERS

#: What hosts on the TypeScript SDK pass on from their own environment (getDefaultEnvironment).
HOST_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
DBUS_ENV = "DBUS_SESSION_BUS_ADDRESS"  # the Secret Service keyring is reached over the session bus


class HostsError(Exception):
    """The host's config file cannot be merged into; the message says why and what to do."""


@dataclass(frozen=True)
class Host:
    name: str
    title: str
    key: str  # the top-level object holding the servers
    typed: bool  # entries carry "type": "stdio"
    in_project: bool  # the file belongs to a project folder, not to the user

    def path(self, project: Path, environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
        home = Path.home()
        if self.name == "claude-desktop":
            if platform == "darwin":
                base = home / "Library" / "Application Support"
            elif platform == "win32":
                base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
            else:
                base = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
            return base / "Claude" / "claude_desktop_config.json"
        if self.name == "cursor":
            return home / ".cursor" / "mcp.json"
        if self.name == "claude-code":
            return project / ".mcp.json"
        return project / ".vscode" / "mcp.json"


HOSTS = {
    h.name: h
    for h in (
        Host("claude-desktop", "Claude Desktop", "mcpServers", typed=False, in_project=False),
        Host("claude-code", "Claude Code", "mcpServers", typed=True, in_project=True),
        Host("cursor", "Cursor", "mcpServers", typed=False, in_project=False),
        Host("vscode", "VS Code", "servers", typed=True, in_project=True),
    )
}


def add_parser(sub: Any) -> None:
    hosts = sub.add_parser("hosts", help="configure MCP hosts (Claude Desktop, Claude Code, Cursor, VS Code)")
    cmds = hosts.add_subparsers(dest="hosts_command", required=True, metavar="ACTION")
    export = cmds.add_parser(
        "export",
        help="print, or merge into the host's config file, the entries that start every server a client enables",
    )
    export.add_argument("--client", required=True, help="client name in mcp.json")
    export.add_argument("--host", required=True, choices=sorted(HOSTS), help="which host's format and file")
    export.add_argument("--config", help="path to mcp.json (else $MARKETING_MCP_CONFIG, else ./mcp.json)")
    export.add_argument(
        "--write",
        action="store_true",
        help="merge into the host's config file (keeping its other entries, with a .bak of the "
        "previous file) instead of printing",
    )
    export.add_argument(
        "--project",
        default=".",
        help="project folder for claude-code (.mcp.json) and vscode (.vscode/mcp.json); default: the current directory",
    )
    export.add_argument("--file", help="write this file instead of the host's usual one")


# -- the entries ---------------------------------------------------------------------------------


def server_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """How this very install starts itself, as absolute paths: its console script when that is what
    runs (PATH lookups may find another install), else this interpreter with `-m suite`."""
    script = Path(sys.argv[0] if argv0 is None else argv0)
    if script.name in ("marketing-mcp", "marketing-mcp.exe"):
        for candidate in (script, script.with_name("marketing-mcp.exe")):  # Windows may drop the .exe from argv[0]
            if candidate.is_file():
                return [os.path.abspath(candidate)]  # not resolved: a venv's bin/ symlinks must stay as they are
    return [os.path.abspath(executable or sys.executable), "-m", "suite"]


def entry_name(client: str, server: str) -> str:
    return f"{client}-{server}"


def entries(
    config: McpConfig,
    client: str,
    host: Host,
    *,
    command: list[str] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> tuple[dict[str, dict], list[str]]:
    """The host entries for every server `client` enables, and notes for the user (stderr)."""
    enabled = config.client(client).enabled()
    if not enabled:
        raise HostsError(
            f"Client '{client}' enables no servers in {config.path}: add some under $.clients.{client}.servers first."
        )
    command = command or server_command()
    config_path = os.path.abspath(config.path) if config.path else None
    if config_path is None:
        raise HostsError("The configuration has no file: pass --config PATH.")
    env, notes = vault_env(environ)
    if _in_uv_cache(command[0]):
        notes.append(
            f"{command[0]} is in uv's cache (uvx), which uv may clean out: install with "
            "`uv tool install marketing-mcp` or `pipx install marketing-mcp` and export again."
        )
    found: dict[str, dict] = {}
    for server in enabled:
        # Besides the vault's: what the registry says this server reads (not secrets; only when set here).
        server_env = {**env, **{k: environ[k] for k in REGISTRY[server].host_env if environ.get(k)}}
        entry: dict[str, Any] = {"type": "stdio"} if host.typed else {}
        entry.update(
            command=command[0],
            args=[*command[1:], "serve", server, "--client", client, "--config", config_path],
            env=server_env,
        )
        found[entry_name(client, server)] = entry
    return found, notes


def vault_env(environ: Mapping[str, str] = os.environ) -> tuple[dict[str, str], list[str]]:
    """What a server needs to find this vault and its key, and notes on what cannot be passed."""
    from credentials.keys import KEY_ENV, KEYRING_ENV, VaultError, VaultKeyMissing, load_master_key
    from credentials.paths import HOME_ENV, data_dir

    home = data_dir(dict(environ)).resolve()  # absolute: the host's working directory is not ours
    env = {HOME_ENV: str(home)}
    notes: list[str] = []
    if environ.get(KEYRING_ENV, "").strip():
        env[KEYRING_ENV] = environ[KEYRING_ENV].strip()
    without_secret = {k: v for k, v in environ.items() if k != KEY_ENV}
    try:
        _, source = load_master_key(home, create=False, environ=without_secret)
    except VaultKeyMissing:
        source = None
        if environ.get(KEY_ENV, "").strip():
            notes.append(
                f"The vault key is only in ${KEY_ENV}, a secret that is never exported, and hosts do not "
                f"pass it on: the servers will not open the vault. Keep the key in the OS keyring or in "
                f"{home / 'vault.key'} (chmod 600) instead, or add it to the host's env block yourself."
            )
        else:
            notes.append(
                f"There is no vault key yet: the first `marketing-mcp auth set|login` creates one (in the "
                f"OS keyring, else {home / 'vault.key'})."
            )
    except VaultError as exc:
        source = None
        notes.append(f"The vault key: {exc.message} {exc.hint}".strip())
    if source == "keyring" and sys.platform.startswith("linux") and environ.get(DBUS_ENV):
        env[DBUS_ENV] = environ[DBUS_ENV]
    return env, notes


def _in_uv_cache(path: str) -> bool:
    parts = Path(path).parts
    return any(p.startswith("archive-v") for p in parts) and "uv" in parts


def _ours(name: str, entry: Any, client: str) -> bool:
    """An entry this command wrote for `client` earlier (perhaps for a server no longer enabled)."""
    if not isinstance(entry, dict) or not any(name == entry_name(client, s) for s in SERVERS):
        return False
    args = entry.get("args") or []
    return "serve" in args and any(
        a == "--client" and b == client for a, b in zip(args, args[1:], strict=False)
    )  # pairs of neighbours


# -- merging into the host's file -----------------------------------------------------------------


@dataclass
class Merge:
    path: Path
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    written: bool
    backup: Path | None


def merge_into(path: Path, host: Host, ours: dict[str, dict], client: str) -> Merge:
    """Replace our entries in the host's file, keep everything else, back up the previous file; a
    file that already says the same is left untouched (no write, no new backup)."""
    target = path.resolve() if path.is_symlink() else path  # write through a dotfiles symlink, not over it
    old_text: str | None
    try:
        old_text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        old_text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise HostsError(f"{path} cannot be read ({exc}); nothing was written.") from None
    doc: dict[str, Any] = {}
    if old_text is not None and old_text.strip():
        try:
            doc = json.loads(old_text)
        except json.JSONDecodeError as exc:
            raise HostsError(
                f"{path} is not plain JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}; comments or trailing "
                "commas?), so it was left alone. Fix it, or run without --write and paste the entries in."
            ) from None
        if not isinstance(doc, dict):
            raise HostsError(f"{path} does not hold a JSON object; nothing was written.")
    section = doc.get(host.key, {})
    if not isinstance(section, dict):
        raise HostsError(f'{path}: "{host.key}" is not an object; nothing was written.')
    removed = [n for n, e in section.items() if n not in ours and _ours(n, e, client)]
    merged = {n: e for n, e in section.items() if n not in removed}
    added = [n for n in ours if n not in section]
    updated = [n for n in ours if n in section and section[n] != ours[n]]
    unchanged = [n for n in ours if n in section and section[n] == ours[n]]
    merged.update(ours)
    new_doc = {**doc, host.key: merged}
    if old_text is not None and new_doc == doc:
        return Merge(path, added, updated, removed, unchanged, written=False, backup=None)
    backup = None
    mode = None
    if old_text is not None:
        mode = target.stat().st_mode & 0o777
        backup = target.with_name(target.name + ".bak")
        write_file(backup, old_text, mode=mode)  # it may hold other servers' tokens: the original's mode
    write_file(target, json.dumps(new_doc, indent=2, ensure_ascii=False) + "\n", mode=mode)
    return Merge(path, added, updated, removed, unchanged, written=True, backup=backup)


def write_file(path: Path, text: str, *, mode: int | None = None) -> None:
    """Complete or not at all: a temporary file beside it, flushed, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- the command ----------------------------------------------------------------------------------


def run(args: Any, out=None, err=None) -> int:
    from .config import load_config

    out, err = out or sys.stdout, err or sys.stderr
    config = load_config(args.config)
    host = HOSTS[args.host]
    try:
        ours, notes = entries(config, args.client, host)
        path = (
            Path(args.file).expanduser().absolute()
            if args.file
            else host.path(Path(args.project).expanduser().absolute())
        )
        if not args.write:
            out.write(json.dumps({host.key: ours}, indent=2, ensure_ascii=False) + "\n")
            err.write(f'These go under "{host.key}" in {path} (or run again with --write to merge them in).\n')
            if args.host == "claude-code":
                err.write("Or add one at a time: claude mcp add-json NAME 'ENTRY' (--scope user for every project).\n")
        else:
            result = merge_into(path, host, ours, args.client)
            _report(result, host, err)
    except HostsError as exc:
        err.write(f"marketing-mcp hosts: {exc}\n")
        return 1
    for note in notes:
        err.write(f"Note: {note}\n")
    return 0


def _report(m: Merge, host: Host, err) -> None:
    if not m.written:
        err.write(f"{m.path} already has these entries ({', '.join(m.unchanged)}); nothing was written.\n")
        return
    parts = [
        f"{what} {', '.join(names)}"
        for what, names in (
            ("added", m.added),
            ("updated", m.updated),
            ("removed", m.removed),
            ("unchanged", m.unchanged),
        )
        if names
    ]
    err.write(f"{m.path}: {'; '.join(parts)}." + (f" The previous file is {m.backup}." if m.backup else "") + "\n")
    if host.in_project:
        err.write(
            "The entries hold this machine's absolute paths: keep the file out of version control or "
            "export on each machine.\n"
        )
    err.write(f"Restart {host.title} to load them.\n")
