"""Our seam with the MCP SDK's transports: stdio and streamable HTTP.

Two promises the SDK does not keep on its own:

- Every message gets an answer. The SDK's stdio reader drops a line it cannot parse (a lone
  surrogate, nesting deeper than its parser allows, garbage, valid JSON that is not JSON-RPC)
  and the host waits forever. Here such a line gets a JSON-RPC error (-32700, -32600 or -32602,
  with the request's id when it can be recovered) and serving goes on. The same check fronts
  streamable-HTTP POST bodies, where the SDK already answers but without the id.
- Remote serving is never silently unprotected. There is no authentication yet, so HTTP binds
  loopback only, and the Origin/Host (DNS-rebinding) checks are on whatever the host name
  (the SDK turns them on only for three loopback spellings).

Servers never read configuration here: the composition root (suite/cli.py) passes host and port.
"""

import contextlib
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")


# --- one incoming message -> a JSON-RPC message, or the error that answers it --------------------


@dataclass(frozen=True)
class Rejection:
    """A message the server cannot take, and the JSON-RPC error that answers it."""

    id: int | str | None
    code: int
    message: str
    reply: bool = True  # False for a notification: JSON-RPC never answers one, errors included

    def to_json(self) -> bytes:
        # ensure_ascii: the reply is valid UTF-8 whatever the recovered id or message holds
        return json.dumps(
            {"jsonrpc": "2.0", "id": self.id, "error": {"code": self.code, "message": self.message}},
            ensure_ascii=True,
            separators=(",", ":"),
        ).encode("ascii")


def parse_message(raw: bytes | str) -> "types.JSONRPCMessage | Rejection":
    """The SDK's own parse first (the fast path every good message takes); a diagnosis if it fails."""
    try:
        message = types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            return _unparseable(raw, first["msg"])
        return _invalid(_loads(raw))
    if isinstance(message, types.JSONRPCNotification) and ('"id"' in raw if isinstance(raw, str) else b'"id"' in raw):
        # A request whose id is unusable (null, true, 1.5, an object) validates as a notification, which is
        # never answered: the caller would wait for ever.
        obj = _loads(raw)
        if isinstance(obj, dict) and "id" in obj:
            return Rejection(
                None,
                types.INVALID_REQUEST,
                "Invalid Request: id must be an integer or a string (null is not allowed in MCP).",
            )
    return message


def _unparseable(raw: bytes | str, why: str) -> Rejection:
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Rejection(
                _scan_id(raw.decode("utf-8", "replace")),
                types.PARSE_ERROR,
                f"Parse error: the message is not UTF-8 text (byte {exc.start}).",
            )
    else:
        text = raw
    if "recursion limit" in why:
        return Rejection(
            _scan_id(text),
            types.PARSE_ERROR,
            "Parse error: JSON nested deeper than the server accepts (about 200 levels).",
        )
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return Rejection(_scan_id(text), types.PARSE_ERROR, f"Parse error: {why.removeprefix('Invalid JSON: ')}.")
    where = _surrogate_path(obj)
    if where is not None:
        # Python's json accepts "\ud800"; the SDK's parser does not, and no encoder can send it back.
        rid = _request_id(obj)
        in_params = where.startswith("params")
        return Rejection(
            rid,
            types.INVALID_PARAMS if in_params else types.INVALID_REQUEST,
            f"{'Invalid params' if in_params else 'Invalid Request'}: {where or 'the message'} holds a "
            "lone UTF-16 surrogate (such as \\ud800), which is not Unicode text.",
            reply=not _is_notification(obj),
        )
    return Rejection(_request_id(obj), types.PARSE_ERROR, f"Parse error: {why.removeprefix('Invalid JSON: ')}.")


def _invalid(obj: Any) -> Rejection:
    """Valid JSON that is not a JSON-RPC message the SDK takes."""
    if isinstance(obj, list):
        return Rejection(None, types.INVALID_REQUEST, "Invalid Request: JSON-RPC batches are not supported by MCP.")
    if not isinstance(obj, dict):
        return Rejection(None, types.INVALID_REQUEST, "Invalid Request: a JSON-RPC message is a JSON object.")
    rid = _request_id(obj)
    if (
        obj.get("jsonrpc") == "2.0"
        and isinstance(obj.get("method"), str)
        and "params" in obj
        and not isinstance(obj["params"], dict)
    ):
        return Rejection(
            rid, types.INVALID_PARAMS, "Invalid params: params must be a JSON object.", reply=not _is_notification(obj)
        )
    return Rejection(
        rid,
        types.INVALID_REQUEST,
        'Invalid Request: a JSON-RPC 2.0 message has "jsonrpc": "2.0" and either a string "method" '
        '(and an integer or string "id" for a request) or an "id" with a "result" or an "error".',
    )


def _loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _is_notification(obj: Any) -> bool:
    return (
        isinstance(obj, dict) and obj.get("jsonrpc") == "2.0" and isinstance(obj.get("method"), str) and "id" not in obj
    )


def _request_id(obj: Any) -> int | str | None:
    """The id to answer with: a request's own, if it is a usable id; never a response's (that id is ours)."""
    if not isinstance(obj, dict) or "result" in obj or "error" in obj:
        return None
    return _usable_id(obj.get("id"))


def _usable_id(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and not _SURROGATE.search(value):
        return value
    return None


def _surrogate_path(obj: Any) -> str | None:
    """Where the first lone surrogate is ('params.arguments.title'), '' for the top level, None if none."""
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return path
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


_ID_VALUE = re.compile(r'\s*:\s*(-?\d+(?![\d.eE])|"(?:[^"\\]|\\.)*")')


def _scan_id(text: str) -> int | str | None:
    """The top-level "id" of a message that does not parse, if it can be read; else None."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if depth == 1 and text[i : end + 1] == '"id"':
                m = _ID_VALUE.match(text, end + 1)
                if m:
                    try:
                        return _usable_id(json.loads(m.group(1)))
                    except ValueError:
                        return None
            i = end + 1
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return None


def dump_message(message: "types.JSONRPCMessage") -> bytes:
    """One outgoing line. A lone surrogate in a result (vendor data can hold one) would make the SDK's
    writer raise and stop the server: such text goes out with U+FFFD in its place instead."""
    try:
        return message.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")
    except Exception:  # pydantic wraps the UnicodeEncodeError in its own serialization error
        log.warning("outgoing message holds text that is not Unicode; sending it with U+FFFD in its place")
        data = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return _SURROGATE.sub("\ufffd", json.dumps(data, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")


# --- stdio -----------------------------------------------------------------------------------------


def run_stdio(server: "MCPServer") -> None:
    anyio.run(serve_stdio, server)


async def serve_stdio(server: "MCPServer") -> None:
    with _claim_stdio() as (wire_in, wire_out):
        await serve_streams(server, wire_in, wire_out)


async def serve_streams(server: "MCPServer", wire_in: BinaryIO, wire_out: BinaryIO) -> None:
    """Serve one connection of newline-delimited JSON-RPC over two binary files."""
    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](0)
    out_lock = anyio.Lock()
    writer_done = anyio.Event()

    async def write_line(data: bytes) -> None:
        async with out_lock:  # a reply and a rejection never interleave on the wire
            await anyio.to_thread.run_sync(_write_and_flush, wire_out, data + b"\n")

    async def reader() -> None:
        async with read_send:
            while line := await anyio.to_thread.run_sync(wire_in.readline, abandon_on_cancel=True):
                if not line.strip():
                    continue  # a blank line is not a message
                parsed = parse_message(line)
                if isinstance(parsed, Rejection):
                    log.warning("refused a message: %s", parsed.message)
                    if parsed.reply:
                        await write_line(parsed.to_json())
                    continue
                await read_send.send(SessionMessage(parsed))

    async def writer() -> None:
        try:
            async with write_recv:
                async for session_message in write_recv:
                    await write_line(dump_message(session_message.message))
        except OSError as exc:  # the host closed our stdout: nobody is left to answer
            log.info("stdout closed: %r", exc)
        finally:
            writer_done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        tg.start_soon(writer)
        try:
            # MCPServer has no public way to serve given streams (its run_stdio_async hard-wires the
            # SDK's reader, the part we replace); this is the call run_stdio_async itself makes.
            low = server._lowlevel_server
            await low.run(read_recv, write_send, low.create_initialization_options())
        finally:
            await write_send.aclose()
            with anyio.move_on_after(2):  # let queued replies out, then stop a reader blocked on stdin
                await writer_done.wait()
            tg.cancel_scope.cancel()


def _write_and_flush(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()


@contextlib.contextmanager
def _claim_stdio() -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The wire on private descriptors; fd 0 on the null device and fd 1 on stderr while serving, so
    a stray print or a child process cannot corrupt the protocol (as the SDK's stdio_server does)."""
    try:
        fds = sys.stdin.fileno(), sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        fds = None
    if fds != (0, 1):  # not the process's own descriptors (e.g. replaced streams): serve them in place
        yield sys.stdin.buffer, sys.stdout.buffer
        return
    sys.stdout.flush()
    wire = [_dup_above_std(0), _dup_above_std(1)]
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
        os.dup2(2, 1)
    finally:
        os.close(null)
    try:
        yield os.fdopen(wire[0], "rb", closefd=False), os.fdopen(wire[1], "wb", closefd=False)
    finally:
        sys.stdout.flush()
        os.dup2(wire[0], 0)
        os.dup2(wire[1], 1)
        for fd in wire:
            os.close(fd)


def _dup_above_std(fd: int) -> int:
    try:
        import fcntl
    except ImportError:  # Windows
        return os.dup(fd)
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


# --- streamable HTTP -------------------------------------------------------------------------------


class UnsafeBind(ValueError):
    """A bind address this server refuses to serve on."""


def check_bind_host(host: str, port: int) -> None:
    """Refuse any address but loopback: there is no authentication in front of the tools yet."""
    if is_loopback(host):
        return
    raise UnsafeBind(
        f"refusing to serve over HTTP on {host!r}: it is not a loopback address, and this server has no "
        "authentication yet, so anyone who can reach the port (or a web page a user visits, through "
        "their browser) could call every tool, publish and send_campaign included, with this client's "
        f"credentials. Serve on 127.0.0.1 (the default), ::1 or localhost, and reach it from elsewhere "
        f"through an SSH tunnel or a reverse proxy that authenticates and forwards 'Host: 127.0.0.1:{port}'. "
        "Requests whose Origin or Host header is not this loopback address are refused."
    )


def is_loopback(host: str) -> bool:
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    import ipaddress

    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False  # a name: it may resolve anywhere, and tomorrow elsewhere
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def security_settings(host: str, port: int) -> "TransportSecuritySettings":
    """Origin/Host checks for this port on every loopback spelling (and the bound one); no wildcard port,
    so a page served from another local port cannot drive the tools either."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = ["127.0.0.1", "localhost", "[::1]"]
    bound = f"[{host.strip('[]')}]" if ":" in host else host.lower()
    if bound not in names:
        names.append(bound)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{n}:{port}" for n in names],
        allowed_origins=[f"http://{n}:{port}" for n in names],
    )


def http_app(server: "MCPServer", host: str, port: int, path: str = "/mcp") -> "ASGIApp":
    """The SDK's streamable-HTTP app with explicit Origin/Host checks, fronted by our body check."""
    from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware

    check_bind_host(host, port)
    security = security_settings(host, port)
    app = server.streamable_http_app(streamable_http_path=path, transport_security=security, host=host)
    # The limit goes first: our check reads the body, and must not read more than the SDK would.
    return RequestBodyLimitMiddleware(_AnswerEveryBody(app, security, path), DEFAULT_MAX_REQUEST_BODY_SIZE)


def run_http(server: "MCPServer", host: str, port: int) -> None:
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    app = http_app(server, host, port)
    logging_config = copy.deepcopy(LOGGING_CONFIG)
    logging_config["handlers"]["access"]["stream"] = "ext://sys.stderr"  # uvicorn's default is stdout
    uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, log_level=server.settings.log_level.lower(), log_config=logging_config
        )
    ).run()


class _AnswerEveryBody:
    """POST bodies the SDK cannot take get the JSON-RPC error (with the request's id when it can be
    recovered) here; everything else reaches the SDK untouched. The Origin/Host checks run first,
    so a refused origin learns nothing from the body check."""

    def __init__(self, app: "ASGIApp", security: "TransportSecuritySettings", path: str):
        from mcp.server.transport_security import TransportSecurityMiddleware

        self.app = app
        self.security = TransportSecurityMiddleware(security)
        self.path = path

    async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import Response

        request = Request(scope, receive)
        refused = await self.security.validate_request(request, is_post=True)
        if refused is not None:
            await refused(scope, receive, send)
            return
        body = await request.body()
        parsed = parse_message(body)
        if isinstance(parsed, Rejection):
            log.warning("refused a message: %s", parsed.message)
            await Response(parsed.to_json(), status_code=400, media_type="application/json")(scope, receive, send)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
