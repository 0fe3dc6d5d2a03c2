"""`marketing-mcp demo`: the sandbox, the demo client signed in, and the Director running its three loops
over four simulated weeks in which incidents happen, changes auto-approved under the demo policy,
ending with the run's HTML report.

Every server runs as its own process over stdio, exactly as a host such as Claude Desktop starts it;
the Director is an ordinary MCP client of them.
"""

import asyncio
import json
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import httpx

from .config import DEFAULT_SANDBOX_URL, ConfigError, find_config, load_config

DAYS = 28


def run_demo(config: str | None = None, port: int | None = None) -> int:
    with ExitStack() as stack:
        path = _demo_config(config, stack)
        loaded = load_config(path)
        demo = loaded.client("demo")  # refuse a broken file before starting anything
        sandbox_url = str(demo.sandbox or DEFAULT_SANDBOX_URL).rstrip("/")
        if port is not None:
            path, sandbox_url = _on_port(path, sandbox_url, port, stack)
            loaded = load_config(path)
        with _sandbox(sandbox_url):
            _scenario(sandbox_url)
            _sign_in(loaded)
            return asyncio.run(_direct(path))


def _demo_config(explicit: str | None, stack: ExitStack) -> Path:
    """--config (which must have a demo client), else ./mcp.json or $MARKETING_MCP_CONFIG when it has one,
    else the example shipped inside the package (a real file for the servers' --config)."""
    if explicit:
        return find_config(explicit)
    try:
        found = find_config()
        if "demo" in load_config(found).clients:
            return found
    except ConfigError:
        pass
    return stack.enter_context(resources.as_file(resources.files("suite.data").joinpath("mcp.json")))


def _on_port(path: Path, sandbox_url: str, port: int, stack: ExitStack) -> tuple[Path, str]:
    """A copy of the file whose demo client points every sandbox address at 127.0.0.1:PORT."""
    new_url = f"http://127.0.0.1:{port}"
    old_netloc, new_netloc = httpx.URL(sandbox_url).netloc.decode(), f"127.0.0.1:{port}"
    raw = json.loads(path.read_text(encoding="utf-8"))

    def moved(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(sandbox_url):
            return new_url + value[len(sandbox_url) :]
        if value == old_netloc:  # an allowed_hosts entry naming the sandbox's port
            return new_netloc
        if isinstance(value, dict):
            return {k: moved(v) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v) for v in value]
        return value

    raw["clients"]["demo"] = moved(raw["clients"]["demo"])
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="marketing-mcp-demo-")))
    copy = folder / "mcp.json"
    copy.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return copy, new_url


def _sign_in(config) -> None:
    """The demo client's credentials, issued by the sandbox's OAuth servers and kept in the vault."""
    from credentials.paths import data_dir

    from .auth import sign_in_at_sandbox

    _forget_old_sign_ins()
    _say("\n== `marketing-mcp auth login PROVIDER --client demo`, consent given by a scripted browser ==")
    sign_in_at_sandbox(config, "demo", sys.stdout)
    _say(f"Vault: {data_dir() / 'vault' / 'demo.vault'} (encrypted; `marketing-mcp auth status --client demo`)")


def _forget_old_sign_ins() -> None:
    """The world was reset, so earlier grants are void; and a sandbox on another port (--port) would leave
    the demo client two WordPress accounts, which a server refuses to choose between."""
    from adapters.errors import AuthError
    from credentials.store import VaultError
    from credentials.vault import Vault

    try:
        vault = Vault.open("demo")
        for rec in list(vault.store.records().values()):
            vault.store.delete(rec.provider, rec.account)
    except (AuthError, VaultError):  # no vault key yet, or a vault the sign-in will report on
        pass


@contextmanager
def _sandbox(url: str) -> Iterator[None]:
    """Use a sandbox already answering at `url`, or start one there for the demo's duration."""
    try:
        if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
            httpx.post(f"{url}/_sandbox/reset", timeout=10).raise_for_status()  # the incidents start on day 8
            _say(f"Using the sandbox already running at {url} (reset to its seed)")
            yield
            return
    except httpx.HTTPError:
        pass
    from sandbox import running

    port = httpx.URL(url).port or 8765
    with running(seed=0, port=port):
        _say(f"Started the sandbox (a simulated marketing world) at {url}")
        yield


def _scenario(url: str) -> None:
    """The weeks the demo lives through: the seed's incidents, with the ranking drop on a busy page."""
    httpx.post(
        f"{url}/_sandbox/config", json={"incidents": {"ranking_drop": {"page": "/wholesale/", "day": 3}}}, timeout=10
    ).raise_for_status()
    _say(
        "Scenario: /wholesale/ drops 6 places in search on day 3; GA4 stops recording on days 14-15; "
        "weekends are quiet; the holidays start on day 24"
    )


async def _direct(config: Path) -> int:
    from director.reporting import write
    from director.store import Store, default_path

    from .director_cli import run_session as run

    path = default_path().with_name("demo-director.sqlite")  # the world was reset: so is the demo's memory
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    store = Store(path)
    _say(
        f"\n== `marketing-mcp director run --client demo --days {DAYS}`: search CTR, traffic drop, email engagement =="
    )
    run_id = await run(store, config, "demo", days=DAYS, say=_say)
    summary = store.run(run_id)
    html, md = write(store, run_id, path.parent / "reports")
    verdicts = [d["verdict"] for d in store.decisions(run_id) if d["verdict"] != "continue"]
    _say(
        f"\nRun {run_id}: {summary['status']}, {store.call_count(run_id)} tool calls, "
        f"{len(verdicts)} decision(s): "
        + (", ".join(f"{v} x{verdicts.count(v)}" for v in sorted(set(verdicts))) or "none yet")
    )
    _say(f"Report: {html}\nSummary: {md}")
    _say("\nDemo finished." if summary["status"] == "done" else "\nDemo finished with the run not done.")
    return 0 if summary["status"] == "done" else 1


def _say(line: str) -> None:
    print(line, flush=True)
