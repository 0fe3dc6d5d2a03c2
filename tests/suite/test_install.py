"""The package as a user gets it: the wheel built from this tree, installed into a fresh venv, run from
a folder outside the repository with only the six variables a TypeScript-SDK host passes on.

The venv is a clean one (no --system-site-packages, nothing borrowed from the repository's venv): its
dependencies come from the package registry as for any user, which takes about 30 s here with pip's
cache warm. The wheel is built from a copy of the tree, so a stale build/ folder cannot leak into it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from servers import __version__
from suite.hosts import HOST_ENV

ROOT = Path(__file__).resolve().parents[2]
VERSION = __version__  # pyproject.toml takes the version from it
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", "tests", "benchmarks", "reports"
)


def _run(argv: list, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, f"{argv} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("install")
    src, wheels, venv = base / "src", base / "wheels", base / "venv"
    shutil.copytree(ROOT, src, ignore=SKIP, symlinks=True)
    timings = {}
    started = time.perf_counter()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, src])
    timings["build wheel"] = time.perf_counter() - started
    [wheel] = wheels.glob("marketing_mcp-*.whl")
    started = time.perf_counter()
    _run([sys.executable, "-m", "venv", venv])
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel])
    timings["fresh venv + install"] = time.perf_counter() - started
    sys.stderr.write("".join(f"\n  {k}: {v:.1f} s" for k, v in timings.items()) + "\n")
    return {"wheel": wheel, "venv": venv, "base": base, "timings": timings}


@pytest.fixture(scope="module")
def host_env(installed) -> dict[str, str]:
    """Exactly the six variables; HOME is a temporary one, PATH knows nothing of either venv."""
    home = installed["base"] / "home"
    home.mkdir(exist_ok=True)
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "user"
    return {
        "HOME": str(home),
        "LOGNAME": os.environ.get("LOGNAME", user),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "SHELL": os.environ.get("SHELL", "/bin/sh"),
        "TERM": os.environ.get("TERM", "dumb"),
        "USER": user,
    }


def test_the_wheel_carries_the_example_config_and_the_companion_plugin(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    assert {"suite/data/mcp.json", "suite/data/marketing-mcp-companion.php", "suite/hosts.py", "suite/init.py"} <= names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_from_the_wheel_it_inits_exports_and_serves_from_outside_the_repo(installed, host_env):
    assert set(host_env) == set(HOST_ENV)
    venv = installed["venv"]
    script = venv / "bin" / "marketing-mcp"
    work = installed["base"] / "team"
    work.mkdir()

    def run(*argv: str, cwd: Path = work) -> subprocess.CompletedProcess:
        return _run([script, *argv], timeout=120, cwd=cwd, env=host_env)

    assert run("--version").stdout == f"marketing-mcp {VERSION}\n"
    where = _run([venv / "bin" / "python", "-c", "import suite; print(suite.__file__)"], cwd=work, env=host_env)
    assert Path(where.stdout.strip()).is_relative_to(venv)  # the wheel's copy, not the source tree

    run("init", "--client", "acme")
    assert (work / "mcp.json").is_file()
    assert run("wordpress-plugin").stdout.startswith("<?php")

    exported = run("hosts", "export", "--client", "acme", "--host", "claude-desktop")
    entries = json.loads(exported.stdout)["mcpServers"]
    assert set(entries) == {"acme-wordpress", "acme-ga4", "acme-search-console", "acme-page-analysis", "acme-mailchimp"}
    home_data = Path(host_env["HOME"]) / ".local" / "share" / "marketing-mcp"  # the default, under this HOME
    for name, entry in entries.items():
        assert entry["command"] == str(script)
        assert entry["args"] == [
            "serve",
            name.removeprefix("acme-"),
            "--client",
            "acme",
            "--config",
            str(work / "mcp.json"),
        ]
        assert entry["env"] == {"MARKETING_MCP_HOME": str(home_data)}

    run("hosts", "export", "--client", "acme", "--host", "claude-desktop", "--write")
    written = Path(host_env["HOME"]) / ".config" / "Claude" / "claude_desktop_config.json"
    assert json.loads(written.read_text())["mcpServers"] == entries
    installed["entry"] = entries["acme-wordpress"]


async def test_the_exported_entry_answers_tools_list_over_stdio(installed, host_env):
    entry = installed.get("entry")
    if entry is None:
        pytest.fail("the export test did not run or failed first")
    elsewhere = installed["base"] / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env={**host_env, **entry["env"]}, cwd=str(elsewhere)
    )
    started = time.perf_counter()
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
    sys.stderr.write(f"\n  spawn + initialize + tools/list over stdio: {time.perf_counter() - started:.1f} s\n")
    assert {"site_info", "list_posts", "create_draft", "publish"} <= tools
