"""Rate budgets: per tool and per upstream account.

A `Budget` is a token bucket with a fair (first come, first served) queue of waiters that can
say how long one more caller would wait. That answer is the one thing a tool needs: when the
wait for capacity would run past the call's deadline it refuses at once with
`RateLimited(retry_after)` instead of hanging.
"""

import asyncio
import re
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from .errors import RateLimited
from .timing import SYSTEM_CLOCK, Clock, current_deadline

_UNITS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1.0),
    **dict.fromkeys(("min", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}
_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds, with bursts of at most `burst` requests.

    Parsed rates allow a burst of 20 ms worth of traffic (at least 1): enough that the event
    loop's timer latency does not cost throughput at high rates, small enough to stay inside
    any vendor's own burst tolerance. Slow rates (60/min) are spaced evenly.
    """

    count: float
    period: float
    burst: int = 1

    @classmethod
    def parse(cls, spec: str) -> "Rate":
        """Parse '60/min', '100/s', '2000/day'."""
        m = _SPEC.match(spec.lower())
        if not m or m.group(2) not in _UNITS or float(m.group(1)) <= 0:
            raise ValueError(f"expected a positive rate like '60/min' or '100/s', got {spec!r}")
        count, period = float(m.group(1)), _UNITS[m.group(2)]
        return cls(count, period, burst=max(1, round(count / period / 50)))

    @property
    def per_second(self) -> float:
        return self.count / self.period

    def __str__(self) -> str:
        for name, secs in (("s", 1.0), ("min", 60.0), ("hour", 3600.0), ("day", 86400.0)):
            if self.period == secs:
                return f"{self.count:g}/{name}"
        return f"{self.count:g}/{self.period:g}s"


def _spent(name: str, rate: Rate, wait: float) -> RateLimited:
    return RateLimited(
        f"The {name} budget ({rate}) is spent; the next slot is in {wait:.1f} s.", retry_after=round(wait, 1)
    )


class RateLimiter(Protocol):
    name: str

    async def spend(self) -> None: ...


class TokenBucket:
    """`capacity` tokens, refilled at `per_second`; callers take one each, in the order they came.

    Time comes from `clock`, so tests run it without sleeping. Only the caller at the head of the
    queue waits on the clock; the others wait their turn, so no one overtakes and a burst of
    callers does not wake up together to race for one token.
    """

    def __init__(self, capacity: float, per_second: float, clock: Clock = SYSTEM_CLOCK):
        if capacity < 1 or per_second <= 0:
            raise ValueError("a token bucket needs a capacity of at least 1 and a positive rate")
        self.capacity = float(capacity)
        self.per_second = per_second
        self._clock = clock
        self._tokens = self.capacity
        self._at = clock.monotonic()
        self._queue: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Callers queued for a token."""
        return len(self._queue)

    def _refill(self) -> float:
        now = self._clock.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        return self._tokens

    def expected_wait(self) -> float:
        """Seconds until one more caller would get a token, counting the callers already queued."""
        missing = len(self._queue) + 1 - self._refill()
        return max(0.0, missing / self.per_second)

    def _take(self) -> bool:
        if self._refill() >= 1 - 1e-9:  # a refill that lands a rounding error short still counts
            self._tokens -= 1
            return True
        return False

    async def acquire(self) -> None:
        if not self._queue and self._take():
            return
        me: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(me)
        try:
            if self._queue[0] is not me:
                await me  # set by the caller before us when it leaves the head
            while not self._take():
                await self._clock.sleep(max((1 - self._tokens) / self.per_second, 1e-6))
        finally:
            if self._queue and self._queue[0] is me:
                self._queue.popleft()
            else:  # cancelled while queued
                self._queue.remove(me)
            if self._queue and not self._queue[0].done():
                self._queue[0].set_result(None)


class Budget:
    """One named budget. Spend before each request (or tool call) it covers."""

    def __init__(self, name: str, rate: Rate, clock: Clock = SYSTEM_CLOCK):
        self.name = name
        self.rate = rate
        self._bucket = TokenBucket(max(1, min(rate.burst, int(rate.count) or 1)), rate.per_second, clock)

    def expected_wait(self) -> float:
        """Seconds until one more unit would be granted, counting callers already queued."""
        return self._bucket.expected_wait()

    async def spend(self) -> None:
        deadline = current_deadline()
        if deadline is not None:
            wait = self.expected_wait()
            if wait > deadline.remaining():
                raise _spent(self.name, self.rate, wait)
        await self._bucket.acquire()


class WindowBudget:
    """`count` requests in any rolling `period`, for vendors that count that way (Webflow: 60/min).

    A leaky bucket would have to space such requests evenly to stay safe; a window lets a
    burst of `count` through at once and then waits exactly as long as the vendor would.
    """

    def __init__(self, name: str, rate: Rate, clock: Clock = SYSTEM_CLOCK):
        self.name = name
        self.rate = rate
        self._clock = clock
        self._sent: deque[float] = deque()

    def expected_wait(self) -> float:
        now = self._clock.monotonic()
        while self._sent and self._sent[0] <= now - self.rate.period:
            self._sent.popleft()
        if len(self._sent) < self.rate.count:
            return 0.0
        return self._sent[len(self._sent) - int(self.rate.count)] + self.rate.period - now

    async def spend(self) -> None:
        while (wait := self.expected_wait()) > 0:
            deadline = current_deadline()
            if deadline is not None and wait > deadline.remaining():
                raise _spent(self.name, self.rate, wait)
            await self._clock.sleep(wait)
        self._sent.append(self._clock.monotonic())


class Unlimited:
    name = "unlimited"

    async def spend(self) -> None:
        return None
