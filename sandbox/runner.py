"""Running the sandbox: in a background thread for tests and demos, or in the foreground as a command."""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from .app import create_app
from .world import World

_STARTUP_TIMEOUT = 10.0


class _QuietDrops(logging.Filter):
    """Hide uvicorn's note about responses the ``drop`` faults cut short on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def _install_drop_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


@dataclass
class Sandbox:
    """A sandbox server running on loopback."""

    url: str
    world: World
    host: str
    port: int

    def provision(self) -> dict[str, Any]:
        """The demo credentials, the same JSON ``POST /_sandbox/provision`` returns."""
        return self.world.provision(self.url)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def running(seed: int = 0, port: int = 0, host: str = "127.0.0.1", *, world: World | None = None) -> Iterator[Sandbox]:
    """Start the sandbox in a background thread; port 0 picks a free port.

    Yields once the server accepts connections and stops it on exit. Pass
    ``world`` to serve a pre-configured world instead of ``World(seed)``.
    """
    world = world if world is not None else World(seed=seed)
    _install_drop_filter()
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(world), log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{actual_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.005)
    try:
        yield Sandbox(url=_url(host, actual_port), world=world, host=host, port=actual_port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(host: str = "127.0.0.1", port: int = 8765, seed: int = 0) -> None:
    """Run the sandbox in the foreground until interrupted. Logs and the banner go to stderr."""
    world = World(seed=seed)
    url = _url(host, port)
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    _install_drop_filter()
    banner = (
        f"marketing-mcp sandbox (seed {seed}) listening on {url}\n"
        f"  WordPress  {url}/  REST {url}/wp-json/  sitemap {url}/sitemap.xml (both sites)\n"
        f"  Webflow    {url}/webflow/v2  live site {url}/webflow-site/\n"
        f"  Fixtures   {url}/_fixtures/"
        "{never-loads,slow-ttfb,redirect-to-private,redirect-loop,huge,links,prompt-injection}\n"
        f"  GA4        {url}/v1beta/properties/420000001:runReport | :runRealtimeReport | /metadata\n"
        f"             {url}/v1beta/accountSummaries (Admin API)\n"
        f"  Search Console {url}/webmasters/v3/sites/... | {url}/v1/urlInspection/index:inspect\n"
        f"  OAuth      {url}/oauth/{{google,meta,linkedin,x,webflow,mailchimp}}/authorize|token|revoke|userinfo\n"
        f"             WordPress {url}/wp-admin/authorize-application.php\n"
        f"  Admin      GET {url}/_sandbox/health | GET /_sandbox/state | POST /_sandbox/provision\n"
        f"             POST /_sandbox/clock/advance | GET|POST|DELETE /_sandbox/faults | POST /_sandbox/config\n"
        f"             GET /_sandbox/incidents | GET /_sandbox/traffic | GET /_sandbox/page-defects\n"
        f"             POST /_sandbox/reset\n"
    )
    print(banner, file=sys.stderr, flush=True)
    uvicorn.run(create_app(world), host=host, port=port, log_config=log_config, lifespan="off")
