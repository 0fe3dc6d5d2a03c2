"""Rate-limit primitives shared by vendor emulations and fault rules.

Both take an explicit ``now`` (monotonic seconds) so callers decide the time
source; tests pass a ``ManualMonotonic`` and never sleep.
"""

from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """At most ``limit`` events in any ``window`` seconds (Webflow's per-key minute quota)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def try_acquire(self, now: float) -> tuple[bool, int, int]:
        """Record an event if allowed. Returns (allowed, remaining, retry_after_seconds)."""
        self._trim(now)
        if len(self._events) >= self.limit:
            wait = self._events[0] + self.window - now
            return False, 0, max(1, math.ceil(wait))
        self._events.append(now)
        return True, self.limit - len(self._events), 0


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def try_take(self, now: float) -> tuple[bool, int]:
        """Take one token if available. Returns (allowed, retry_after_seconds)."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True, 0
        return False, max(1, math.ceil((1 - self._tokens) / self.rate))
