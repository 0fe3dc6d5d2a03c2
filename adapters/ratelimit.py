"""Rate budgets: per tool and per upstream account.

A `Budget` is a token bucket with a fair (first come, first served) queue of waiters that can
say how long one more caller would wait. That answer is the one thing a tool needs: when the
wait for capacity would run past the call's deadline it refuses at once with
`RateLimited(retry_after)` instead of hanging.
"""

import asyncio
import re
from collections import deque
from collections.abc import Sequence
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

    Parsed rates allow a burst of 2% of the count, never more than one second's traffic (at
    least 1): enough that the event loop's timer latency does not cost throughput at high rates
    and that a handful of calls in a row (1200/min: 20) do not wait, small enough to stay inside
    any vendor's own burst tolerance. Slow rates (60/min, 10/s) are spaced evenly.
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
        return cls(count, period, burst=max(1, min(round(count / 50), round(count / period))))

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

    def done(self) -> None:
        """The request the last `spend` was for is over: answered, failed or never sent."""
        ...


async def spend_all(limiters: Sequence[RateLimiter]) -> None:
    """Spend each in turn; when one refuses, the ones already spent hear that nothing was sent."""
    for i, limiter in enumerate(limiters):
        try:
            await limiter.spend()
        except BaseException:
            for spent in limiters[:i]:
                spent.done()
            raise


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
    """One named budget. Spend before each request (or tool call) it covers.

    A bucket of `burst` tokens refilled at `count - burst + 1` per period: a full bucket spent at
    once and the refill after it still make at most `count` in any one period.
    """

    def __init__(self, name: str, rate: Rate, clock: Clock = SYSTEM_CLOCK):
        self.name = name
        self.rate = rate
        burst = max(1, min(rate.burst, int(rate.count) or 1))
        self._bucket = TokenBucket(burst, (rate.count - burst + 1) / rate.period, clock)

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

    def done(self) -> None:
        return None


class WindowBudget:
    """`count` requests in any rolling `period`, for vendors that count that way (Webflow: 60/min).

    A leaky bucket would have to space such requests evenly to stay safe; a window lets a
    burst of `count` through at once and then waits exactly as long as the vendor would.

    `until_answered`: a request counts from its `spend` until `period` after its `done`, not
    from its `spend` alone. The vendor counts a request when it arrives, somewhere between the
    two, so no `period` the vendor measures holds more than `count` however long requests take
    in flight (a window counted from the sends alone would let a slow request and a fast one a
    period later land closer together than that). For callers that report `done` (HttpService).
    """

    def __init__(self, name: str, rate: Rate, clock: Clock = SYSTEM_CLOCK, *, until_answered: bool = False):
        self.name = name
        self.rate = rate
        self._clock = clock
        self._until_answered = until_answered
        self._in_flight = 0
        self._sent: deque[float] = deque()  # when each request of the last period was sent (or answered)

    def expected_wait(self) -> float:
        """Seconds until one more request may go; while only requests in flight hold the window
        full, the least it can be (a period after an answer that comes at once)."""
        now = self._clock.monotonic()
        while self._sent and self._sent[0] <= now - self.rate.period:
            self._sent.popleft()
        over = self._in_flight + len(self._sent) - int(self.rate.count)  # >= 0: that many must leave first
        if over < 0:
            return 0.0
        if over >= len(self._sent):
            return self.rate.period
        return self._sent[over] + self.rate.period - now

    async def spend(self) -> None:
        while (wait := self.expected_wait()) > 0:
            deadline = current_deadline()
            if deadline is not None and wait > deadline.remaining():
                raise _spent(self.name, self.rate, wait)
            await self._clock.sleep(wait)
        if self._until_answered:
            self._in_flight += 1
        else:
            self._sent.append(self._clock.monotonic())

    def done(self) -> None:
        if self._until_answered and self._in_flight:
            self._in_flight -= 1
            self._sent.append(self._clock.monotonic())


class Unlimited:
    name = "unlimited"

    async def spend(self) -> None:
        return None

    def done(self) -> None:
        return None
