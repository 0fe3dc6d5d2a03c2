"""`marketing-mcp serve --transport http` binds loopback only, and says why it refuses anything else.

Nothing here binds or connects to a non-loopback address: the refusal comes before any socket exists.
"""

import json
import socket
import subprocess
import sys

import pytest

from suite.cli import main

from ..helpers import ROOT, sandbox_config

REFUSED = ["0.0.0.0", "::", "[::]", "mcp.invalid"]  # a name is refused unresolved: it may point anywhere


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(sandbox_config("http://127.0.0.1:9")))
    return path


@pytest.mark.parametrize("host", REFUSED)
def test_a_non_loopback_bind_is_refused_before_anything_is_built_or_bound(config, host, monkeypatch, capsys):
    bound, built = [], []
    monkeypatch.setattr(socket.socket, "bind", lambda self, address: bound.append(address))
    monkeypatch.setattr("suite.wiring.create_server", lambda *a, **k: built.append(a))
    code = main(
        [
            "serve",
            "wordpress",
            "--client",
            "t",
            "--config",
            str(config),
            "--transport",
            "http",
            "--host",
            host,
            "--port",
            "8123",
        ]
    )
    assert code == 2 and not bound and not built
    err = capsys.readouterr().err
    assert f"refusing to serve over HTTP on {host!r}" in err
    assert "no authentication" in err and "publish and send_campaign" in err
    assert "127.0.0.1" in err and "tunnel" in err and "reverse proxy that authenticates" in err


def test_the_refusal_as_a_user_sees_it(config):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "suite",
            "serve",
            "wordpress",
            "--client",
            "t",
            "--config",
            str(config),
            "--transport",
            "http",
            "--host",
            "0.0.0.0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("marketing-mcp: refusing to serve over HTTP on '0.0.0.0'")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_are_served(config, host, monkeypatch):
    served = []
    monkeypatch.setattr("servers.transport.run_http", lambda server, h, p: served.append((server.name, h, p)))
    assert (
        main(
            [
                "serve",
                "wordpress",
                "--client",
                "t",
                "--config",
                str(config),
                "--transport",
                "http",
                "--host",
                host,
                "--port",
                "8123",
            ]
        )
        == 0
    )
    assert served == [("wordpress", host, 8123)]


def test_the_app_itself_refuses_a_non_loopback_host():
    """Whoever builds the HTTP app (a later gateway, a test) gets the same refusal as the CLI."""
    from mcp.server.mcpserver import MCPServer

    from servers.transport import UnsafeBind, http_app

    with pytest.raises(UnsafeBind, match="not a loopback address"):
        http_app(MCPServer("x"), "0.0.0.0", 8123)
