"""Where marketing-mcp keeps its files.

`data_dir()` is `$MARKETING_MCP_HOME` when set, else the platform's per-user data directory
(`~/.local/share/marketing-mcp` on Linux). The vault lives under it:

    <data_dir>/vault.key                  the master key, when no env var or OS keyring holds it
    <data_dir>/vault/<client>.vault        one encrypted file per client
    <data_dir>/vault/<client>.vault.bak    the last good copy before the latest write
    <data_dir>/vault/locks/                lock files (refresh locks, key creation)

Nothing here creates anything: directories are made (0700) by whoever writes first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HOME_ENV = "MARKETING_MCP_HOME"
APP_NAME = "marketing-mcp"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$MARKETING_MCP_HOME` if set (and not blank), else platformdirs' user data dir."""
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV, "").strip()
    if home:
        return Path(home).expanduser()
    import platformdirs  # only here: most callers pass an explicit directory

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def vault_dir(directory: Path) -> Path:
    """The folder holding the per-client vault files under a data directory."""
    return Path(directory) / "vault"


def locks_dir(directory: Path) -> Path:
    return vault_dir(directory) / "locks"


def make_private_dir(path: Path) -> Path:
    """Create `path` with mode 0700 if missing (missing parents get the usual mode); an existing one is left alone."""
    path = Path(path)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def make_vault_dirs(directory: Path) -> Path:
    """Create the data directory, `vault/` and `vault/locks/` (each 0700 when we create it); returns `vault/`."""
    make_private_dir(directory)
    make_private_dir(vault_dir(directory))
    make_private_dir(locks_dir(directory))
    return vault_dir(directory)


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (POSIX only; Windows cannot open a directory)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
