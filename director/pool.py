"""The Director's MCP connections: one owner task per server, a timeout on every call, one restart.

The Director reaches servers only over MCP. Each connection's MCP client lives inside one task
(anyio scopes must close in the task that opened them); callers hand it requests through a queue
and wait for the answer with a timeout. A server that dies is started again once; if it dies
again it is reported as down. A write whose server died mid-call is not repeated here: the caller
reconciles it by reading the object's state.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from .plan import Catalog, ToolSpec

log = logging.getLogger("marketing_mcp.director")

DEFAULT_TIMEOUT = 120.0
ERROR_META = "marketing-mcp/error"  # where a server puts a tool error's type, message and hint


class ServerDown(RuntimeError):
    """A server could not be reached or died twice; the message says which and why."""


class CallTimeout(RuntimeError):
    """A tool call did not answer in time; for a write, its outcome is unknown."""


@dataclass
class Outcome:
    """A tool call's answer: the structured content, or the tool's error (type, message, hint)."""

    ok: bool
    data: dict[str, Any]
    text: str
    ms: float = 0.0

    @property
    def error(self) -> dict[str, Any]:
        return self.data.get("error", {"message": self.text}) if not self.ok else {}


# A tool call handed to the owner task: tool name, arguments, and the future its answer goes to.
_Request = tuple[str, dict[str, Any], asyncio.Future[Any]]


class Connection:
    """One server, owned by one task."""

    def __init__(self, server: str, target: Any, *, timeout: float = DEFAULT_TIMEOUT):
        self.server = server
        self.target = target  # StdioServerParameters, a URL, or an in-process MCPServer (tests)
        self.timeout = timeout
        self.tools: list[ToolSpec] = []
        self.restarts = 0
        # Replaced by start(); a queue binds to an event loop only when first waited on.
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._owner: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue = asyncio.Queue()
        self._owner = asyncio.create_task(self._own(self._queue, ready), name=f"mcp:{self.server}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.timeout)
        except asyncio.TimeoutError:
            self._owner.cancel()
            raise ServerDown(f"The {self.server} server did not start within {self.timeout:.0f} s.") from None

    async def _own(self, queue: asyncio.Queue[_Request | None], ready: asyncio.Future[None]) -> None:
        from mcp import Client

        try:
            async with Client(self.target) as client:
                listed = await client.list_tools()
                self.tools = [_spec(self.server, t) for t in listed.tools]
                ready.set_result(None)
                pending: set[asyncio.Task[None]] = set()
                while True:
                    item = await queue.get()
                    if item is None:
                        break
                    task = asyncio.create_task(self._one(client, *item))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.gather(*pending, return_exceptions=True)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("the %s server stopped: %s", self.server, why)
            if not ready.done():
                ready.set_exception(ServerDown(f"The {self.server} server could not start ({why})."))
            self._fail_waiting(why)

    @staticmethod
    async def _one(client: Any, tool: str, args: dict[str, Any], answer: asyncio.Future[Any]) -> None:
        try:
            result = await client.call_tool(tool, args)
        except Exception as exc:
            if not answer.done():
                answer.set_exception(exc)
            raise
        if not answer.done():
            answer.set_result(result)

    def _fail_waiting(self, why: str) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item[2].done():
                item[2].set_exception(ServerDown(f"The {self.server} server stopped ({why})."))

    @property
    def alive(self) -> bool:
        return self._owner is not None and not self._owner.done()

    async def call(self, tool: str, args: dict[str, Any], *, retry_if_down: bool) -> Outcome:
        if not self.alive:
            await self._restart()
        started = time.perf_counter()
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((tool, args, answer))
        try:
            result = await asyncio.wait_for(answer, self.timeout)
        except asyncio.TimeoutError:
            raise CallTimeout(f"{self.server}.{tool} did not answer within {self.timeout:.0f} s.") from None
        except Exception as exc:
            if not (isinstance(exc, ServerDown) or _closed(exc)):
                raise
            if self._owner is not None and not self._owner.done():
                self._owner.cancel()  # its server is gone: the next call starts a new one
            if not retry_if_down:
                raise ServerDown(f"The {self.server} server stopped during {tool}; its outcome is unknown.") from None
            await self._restart()
            return await self.call(tool, args, retry_if_down=False)
        text = " ".join(getattr(c, "text", "") for c in result.content)
        data = result.structured_content or {}
        if result.is_error:
            data = {"error": (result.meta or {}).get(ERROR_META) or {"message": text}}
        return Outcome(ok=not result.is_error, data=data, text=text, ms=(time.perf_counter() - started) * 1000)

    async def _restart(self) -> None:
        if self.restarts >= 1:
            raise ServerDown(f"The {self.server} server stopped again after a restart; it is reported down.")
        self.restarts += 1
        log.warning("restarting the %s server", self.server)
        await self.start()

    async def close(self) -> None:
        if self._owner is not None and not self._owner.done():
            await self._queue.put(None)
            try:
                await asyncio.wait_for(self._owner, 10)
            except (asyncio.TimeoutError, Exception):
                self._owner.cancel()


class ServerPool:
    """The servers of one client, by name; tools by server-qualified name."""

    def __init__(self, targets: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT):
        self.connections = {name: Connection(name, target, timeout=timeout) for name, target in targets.items()}
        self.catalog = Catalog()

    async def __aenter__(self) -> "ServerPool":
        await asyncio.gather(*(c.start() for c in self.connections.values()))
        for connection in self.connections.values():
            for spec in connection.tools:
                self.catalog.add(spec)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.gather(*(c.close() for c in self.connections.values()), return_exceptions=True)

    def has(self, server: str) -> bool:
        return server in self.connections

    async def call(self, qualified: str, args: dict) -> Outcome:
        spec = self.catalog.get(qualified)
        return await self.connections[spec.server].call(spec.name, args, retry_if_down=spec.read_only)


def _closed(exc: BaseException) -> bool:
    """Whether the MCP connection itself is gone (the server died), rather than one call failing."""
    import anyio
    from mcp.shared.exceptions import MCPError

    return isinstance(exc, (anyio.ClosedResourceError, anyio.BrokenResourceError, EOFError)) or (
        isinstance(exc, MCPError) and "closed" in str(exc).lower()
    )


def _spec(server: str, tool: Any) -> ToolSpec:
    a = tool.annotations
    return ToolSpec(
        server=server,
        name=tool.name,
        description=tool.description or "",
        input_schema=tool.input_schema or {"type": "object"},
        output_schema=tool.output_schema,
        read_only=bool(a and a.read_only_hint),
        destructive=True if a is None or a.destructive_hint is None else bool(a.destructive_hint),
        idempotent=bool(a and a.idempotent_hint),
    )


def stdio_targets(config_path: str, client: str, servers: list[str], env: dict[str, str] | None = None) -> dict:
    """`marketing-mcp serve SERVER --client C` for each server, over stdio, as a host starts it."""
    import os
    import sys

    from mcp.client.stdio import StdioServerParameters, get_default_environment

    environment = {
        **get_default_environment(),
        **{k: v for k, v in os.environ.items() if k.startswith("MARKETING_MCP_")},
        **(env or {}),
    }
    return {
        s: StdioServerParameters(
            command=sys.executable,
            env=environment,
            args=["-m", "suite", "serve", s, "--client", client, "--config", config_path],
        )
        for s in servers
    }
