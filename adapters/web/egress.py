"""The one way out: an HTTP proxy on loopback that every connection of the browser and of the link checker takes.

Chromium follows redirects, loads subresources, opens WebSockets and runs workers without asking
Playwright's route again, so the URL policy is enforced where the bytes leave instead: here. For
each connection the proxy resolves the host once, checks every address it got against the
policy, and connects to exactly the address it checked (no second lookup for the connection,
so a name that changes its answer between check and connect gains nothing). A refused
destination gets a 403 carrying ``X-Marketing-MCP-Egress: refused`` and is remembered, so the
tool can say what was blocked.

Two request forms, as browsers and httpx send them to an HTTP proxy:
- ``CONNECT host:port`` (https, wss, and ws through a proxy): a byte tunnel after the check.
- an absolute-URI request (``GET http://host:port/path``): forwarded in origin form with
  ``Connection: close``, one request per client connection, so every request is checked.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import OrderedDict
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from adapters.errors import AdapterError, InvalidRequest, PermissionDenied

from .safety import UrlPolicy, normal_host

log = logging.getLogger("marketing_mcp.egress")

REFUSED_HEADER = "x-marketing-mcp-egress"
MAX_HEAD = 64 * 1024
HEAD_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
HOP_HEADERS = {b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive"}

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address of ``host`` right now, from the system resolver (never cached here)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # sockaddr[0] is the address text


class EgressProxy:
    """One listener on 127.0.0.1; ``refused`` lists the destinations it turned away (newest last)."""

    def __init__(
        self, policy: UrlPolicy, *, resolver: Resolver | None = None, connect_timeout: float = CONNECT_TIMEOUT
    ):
        self.policy = policy
        self._resolve = resolver or system_resolver
        self._connect_timeout = connect_timeout
        self._server: asyncio.base_events.Server | None = None
        self._starting = asyncio.Lock()
        self._open: set[asyncio.StreamWriter] = set()
        self.refused: OrderedDict[tuple[str, int], str] = OrderedDict()  # (host, port) -> why, bounded
        self.connections = 0  # upstream connections made (for tests and benchmarks)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "EgressProxy":
        async with self._starting:  # two first users must not start two listeners
            if self._server is None:
                self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD)
                self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        self._server, self.port = None, 0

    def cut(self) -> None:
        """Close every connection in flight (a page over its size limit stops receiving at once)."""
        for writer in list(self._open):
            writer.close()

    def take_refused(self) -> list[str]:
        """The destinations refused since the last call, as 'host:port', and forget them."""
        out = [f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.refused]
        self.refused.clear()
        return out

    def refusal_for(self, url: str) -> str | None:
        """Why the proxy refused this URL's destination, if it did."""
        parts = urlsplit(url)
        try:
            port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme, 0)
        except ValueError:
            return None
        return self.refused.get((normal_host(parts.hostname or ""), port))

    # -- the decision ---------------------------------------------------------

    async def connect(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to a checked address of host:port, or PermissionDenied/InvalidRequest/OSError."""
        host = normal_host(host)
        if not 0 < port < 65536:
            raise InvalidRequest(f"port {port} is not valid")
        try:
            addresses = await self._resolve(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise InvalidRequest(f"{host} does not resolve.")
        for address in addresses:  # every address must pass: any one of them could be the one used
            self.policy.check_address(host, port, address)
        error: OSError = OSError(f"no address of {host} answered")
        for address in addresses:
            try:
                # The literal address that was checked: no name reaches the socket layer.
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=MAX_HEAD), self._connect_timeout
                )
            except OSError as exc:  # asyncio.TimeoutError is TimeoutError, an OSError
                error = exc
                continue
            self.connections += 1
            return reader, writer
        raise error

    def _refuse(self, host: str, port: int, why: str) -> None:
        self.refused[(normal_host(host), port)] = why
        self.refused.move_to_end((normal_host(host), port))
        while len(self.refused) > 256:
            self.refused.popitem(last=False)
        log.info("egress refused %s:%s: %s", host, port, why)

    # -- the wire -------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
                return
            line, _, rest = head.partition(b"\r\n")
            try:
                method, target, version = line.decode("latin-1").split(" ")
            except ValueError:
                await _answer(writer, 400, "not an HTTP request")
                return
            try:
                if method == "CONNECT":
                    host, port = _authority(target, None)
                    up_reader, upstream = await self._checked(host, port)
                    writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    first = b""
                else:
                    parts = urlsplit(target)
                    if parts.scheme != "http" or not parts.hostname:
                        await _answer(writer, 400, "only absolute http:// requests and CONNECT are proxied")
                        return
                    host, port = _authority(parts.netloc.rpartition("@")[2], 80)
                    up_reader, upstream = await self._checked(host, port)
                    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                    first = _origin_form(method, path, version, rest)
            except PermissionDenied as exc:
                await _answer(writer, 403, exc.message, refused=True)
                return
            except AdapterError as exc:
                await _answer(writer, 502, exc.message)
                return
            except (OSError, asyncio.TimeoutError) as exc:
                await _answer(writer, 502, f"could not connect: {type(exc).__name__}")
                return
            self._open.add(upstream)
            if first:
                upstream.write(first)
            await _relay(reader, writer, up_reader, upstream, rewrite_response=bool(first))
        except Exception:
            log.debug("egress connection failed", exc_info=True)
        finally:
            for w in (writer, upstream):
                if w is not None:
                    self._open.discard(w)
                    w.close()

    async def _checked(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await self.connect(host, port)
        except PermissionDenied as exc:
            self._refuse(host, port, exc.message)
            raise


def _authority(text: str, default_port: int | None) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not port and default_port is not None:
        return host, default_port
    if not port.isdigit():
        raise InvalidRequest(f"'{text[:100]}' has no port")
    return host, int(port)


def _origin_form(method: str, path: str, version: str, rest: bytes) -> bytes:
    lines = [f"{method} {path} {version}".encode("latin-1")]
    upgrade = False
    for raw in rest.split(b"\r\n"):
        if not raw:
            continue
        name = raw.split(b":", 1)[0].strip().lower()
        upgrade |= name == b"upgrade"
        if name not in HOP_HEADERS:
            lines.append(raw)
    lines.append(b"Connection: upgrade" if upgrade else b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _answer(writer: asyncio.StreamWriter, status: int, text: str, *, refused: bool = False) -> None:
    body = text.encode()
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    extra = f"{REFUSED_HEADER}: refused\r\n" if refused else ""
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    try:
        await writer.drain()
    except ConnectionError:
        pass


async def _relay(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    up_r: asyncio.StreamReader,
    up_w: asyncio.StreamWriter,
    *,
    rewrite_response: bool,
) -> None:
    """Bytes both ways until either side closes; a forwarded response is told to close its connection."""

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, rewrite: bool) -> None:
        if rewrite:  # the client must not reuse this connection for a request we have not checked
            try:
                head = await src.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                return
            dst.write(_closing(head))
        while True:
            data = await src.read(65536)
            if not data:
                return
            dst.write(data)
            await dst.drain()

    tasks = [
        asyncio.ensure_future(pump(client_r, up_w, False)),
        asyncio.ensure_future(pump(up_r, client_w, rewrite_response)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    try:
        await client_w.drain()
    except ConnectionError:
        pass


def _closing(head: bytes) -> bytes:
    line, _, rest = head.partition(b"\r\n")
    if line[9:10] == b"1":  # a 101 upgrade (or another 1xx) keeps its own framing
        return head
    kept = [raw for raw in rest.split(b"\r\n") if raw and raw.split(b":", 1)[0].strip().lower() not in HOP_HEADERS]
    return b"\r\n".join([line, *kept, b"Connection: close"]) + b"\r\n\r\n"
