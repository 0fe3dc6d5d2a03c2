"""Blocking vendor SDKs (requests, httplib2) off the event loop, within the tool call's deadline.

Each call runs on our own thread pool (the default executor has only cpu+4 threads, fewer than
the concurrency some vendors allow) and gets the SDK's timeout from the deadline, so the thread
ends when the call does and the coroutine waits no longer either.
"""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from adapters.errors import AdapterError, UpstreamUnavailable
from adapters.timing import current_deadline

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0
_pool = None


def _executor():
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="vendor-sdk")
    return _pool


async def blocking(
    fn: Callable[[float], T],
    *,
    translate: Callable[[Exception], AdapterError],
    vendor: str,
    timeout_hint: str = "Try again.",
) -> T:
    """Run `fn(timeout)` in a worker thread; SDK errors become AdapterErrors through `translate`."""
    deadline = current_deadline()
    timeout = deadline.remaining() if deadline else DEFAULT_TIMEOUT
    if timeout <= 0:
        raise UpstreamUnavailable(
            f"The call ran out of time before reaching {vendor}.", hint="Try again.", vendor=vendor
        )
    try:
        work = asyncio.get_running_loop().run_in_executor(_executor(), fn, timeout)
        return await asyncio.wait_for(work, timeout + 1.0)
    except AdapterError:
        raise
    except asyncio.TimeoutError:
        raise UpstreamUnavailable(
            f"{vendor} did not answer within {timeout:.0f} s.", hint=timeout_hint, vendor=vendor
        ) from None
    except Exception as exc:
        raise translate(exc) from None
