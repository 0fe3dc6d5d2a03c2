"""The `marketing-mcp` command."""

from __future__ import annotations

import argparse
import logging
import sys

from .config import SERVERS, ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="marketing-mcp", description="Marketing tools for AI agents, over MCP.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run one MCP server for one client")
    serve.add_argument("server", choices=SERVERS)
    serve.add_argument("--client", required=True, help="client name in mcp.json")
    serve.add_argument("--config", help="path to mcp.json (else $MARKETING_MCP_CONFIG, else ./mcp.json)")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument("--host", default="127.0.0.1",
                       help="HTTP bind address: loopback only until authenticated serving exists (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")

    servers = sub.add_parser("servers", help="list the servers and what each client enables")
    servers.add_argument("--config")

    sandbox = sub.add_parser("sandbox", help="run the simulated marketing world on loopback")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--seed", type=int, default=0)

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "serve":  # what hosts start parses only its own options: a faster start
        from .auth import add_parser as add_auth_parser
        from .director_cli import add_parser as add_director_parser

        add_auth_parser(sub)
        add_director_parser(sub)

    demo = sub.add_parser("demo", help="start the sandbox and run the Director's loops over simulated weeks")
    demo.add_argument("--config", help="mcp.json with a 'demo' client (default: the one in this repository)")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns what matters
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"marketing-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


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
        out.write(f"  {name}: {', '.join(enabled) or 'no servers'}" + (f"  ({client.description})" if client.description else "") + "\n")
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

    return run_demo(args.config)


def _director(args: argparse.Namespace) -> int:
    from .director_cli import run

    return run(args)


COMMANDS = {"auth": _auth, "serve": _serve, "servers": _servers, "sandbox": _sandbox, "demo": _demo,
            "director": _director}

if __name__ == "__main__":
    sys.exit(main())
