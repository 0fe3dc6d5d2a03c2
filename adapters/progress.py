"""Progress of a long adapter operation, reported to whoever listens, without knowing MCP.

The server's tool decorator sets the listener for the call (the host's progress token, when it
sent one); adapters call `await progress(done, total)` after each page, batch or request. With
nobody listening it costs one context-variable read. The await is also where a cancelled call
stops: between two batches, never halfway through the bookkeeping of one.
"""

from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[float, "float | None", "str | None"], Awaitable[None]]

_listener: ContextVar[Listener | None] = ContextVar("marketing_mcp_progress", default=None)


async def progress(done: float, total: float | None = None, message: str | None = None) -> None:
    listener = _listener.get()
    if listener is not None:
        await listener(done, total, message)


@contextmanager
def listening(listener: Listener) -> Generator[None, None, None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
