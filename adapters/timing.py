"""Time sources and the per-call deadline.

A tool call gets one deadline; every retry, backoff and rate-limit wait below it is measured
against that deadline, so a call answers in time instead of hanging. The clock is injectable
so tests can run retry and backoff logic without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class Deadline:
    at: float
    clock: Clock = SYSTEM_CLOCK

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock.monotonic())


_current: ContextVar[Deadline | None] = ContextVar("marketing_mcp_deadline", default=None)


@contextmanager
def deadline_after(seconds: float, clock: Clock = SYSTEM_CLOCK) -> Generator[Deadline, None, None]:
    """Run the enclosed calls under a deadline `seconds` from now (a tighter outer one wins)."""
    new = Deadline(clock.monotonic() + seconds, clock)
    outer = _current.get()
    if outer is not None and outer.at < new.at:
        new = outer
    token = _current.set(new)
    try:
        yield new
    finally:
        _current.reset(token)


def current_deadline() -> Deadline | None:
    return _current.get()


def restart_deadline(seconds: float, clock: Clock = SYSTEM_CLOCK) -> None:
    """Give the current call a fresh deadline `seconds` from now, e.g. after it waited for a person to
    answer (that wait is not the vendor's time). The enclosing `deadline_after` still restores the outer one."""
    _current.set(Deadline(clock.monotonic() + seconds, clock))
