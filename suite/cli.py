"""The `marketing-mcp` command."""

from __future__ import annotations

import argparse
import logging
import sys

from .config import ConfigError, load_config
from .registry import SERVERS


class _Version(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from servers import __version__

        sys.stdout.write(f"marketing-mcp {__version__}\n")  # stdout, as argparse's own version action
        parser.exit()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(everything=not argv or argv[0] != "serve").parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns what matters
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"marketing-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser(everything: bool = True) -> argparse.ArgumentParser:
    """The command line; `everything=False` leaves out what `serve` never needs (hosts start it: a faster start)."""
    parser = argparse.ArgumentParser(prog="marketing-mcp", description="Marketing tools for AI agents, over MCP.")
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run one MCP server for one client")
    serve.add_argument("server", choices=SERVERS, help="which server")
    serve.add_argument("--client", required=True, help="client name in mcp.json")
    serve.add_argument("--config", help="path to mcp.json (else $MARKETING_MCP_CONFIG, else ./mcp.json)")
    serve.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio (what hosts spawn; default) or streamable HTTP",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP bind address: loopback only until authenticated serving exists (default 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")

    servers = sub.add_parser("servers", help="list the servers and what each client enables")
    servers.add_argument("--config", help="path to mcp.json (else $MARKETING_MCP_CONFIG, else ./mcp.json)")

    sandbox = sub.add_parser("sandbox", help="run the simulated marketing world on loopback")
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    sandbox.add_argument("--seed", type=int, default=0, help="seed of the simulated world (default 0)")

    if everything:
        from .auth import add_parser as add_auth_parser
        from .director_cli import add_parser as add_director_parser
        from .hosts import add_parser as add_hosts_parser
        from .init import add_parsers as add_init_parsers

        add_auth_parser(sub)
        add_director_parser(sub)
        add_hosts_parser(sub)
        add_init_parsers(sub)

    demo = sub.add_parser("demo", help="start the sandbox and run the Director's loops over simulated weeks")
    demo.add_argument(
        "--config",
        help="mcp.json with a 'demo' client (default: ./mcp.json or "
        "$MARKETING_MCP_CONFIG when it has one, else the example shipped with the "
        "package)",
    )
    demo.add_argument("--port", type=int, help="sandbox port on 127.0.0.1 (default: the demo client's, 8765)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from servers import transport

    from .wiring import create_server

    if args.transport == "http":
        try:  # before anything is built or bound
            transport.check_bind_host(args.host, args.port)
        except transport.UnsafeBind as exc:
            print(f"marketing-mcp: {exc}", file=sys.stderr)
            return 2
    server = create_server(load_config(args.config), args.client, args.server)
    if args.transport == "stdio":
        transport.run_stdio(server)
    else:
        transport.run_http(server, args.host, args.port)
    return 0


def _servers(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    out = sys.stdout
    out.write(f"Servers: {', '.join(SERVERS)}\n\nClients in {config.path}:\n")
    for name, client in sorted(config.clients.items()):
        enabled = client.enabled()
        out.write(
            f"  {name}: {', '.join(enabled) or 'no servers'}"
            + (f"  ({client.description})" if client.description else "")
            + "\n"
        )
    if config.mcpServers:
        out.write("\nHost entries (mcpServers):\n")
        for name, entry in sorted(config.mcpServers.items()):
            out.write(f"  {name}: {entry.command or entry.url} {' '.join(entry.args)}\n")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox import serve

    serve(host=args.host, port=args.port, seed=args.seed)
    return 0


def _auth(args: argparse.Namespace) -> int:
    from .auth import run

    return run(args)


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.config, port=args.port)


def _director(args: argparse.Namespace) -> int:
    from .director_cli import run

    return run(args)


def _hosts(args: argparse.Namespace) -> int:
    from .hosts import run

    return run(args)


def _init(args: argparse.Namespace) -> int:
    from .init import run_init

    return run_init(args)


def _wordpress_plugin(args: argparse.Namespace) -> int:
    from .init import run_plugin

    return run_plugin(args)


COMMANDS = {
    "auth": _auth,
    "serve": _serve,
    "servers": _servers,
    "sandbox": _sandbox,
    "demo": _demo,
    "director": _director,
    "hosts": _hosts,
    "init": _init,
    "wordpress-plugin": _wordpress_plugin,
}

if __name__ == "__main__":
    sys.exit(main())
