"""Time sources for the simulated world.

Two clocks, on purpose:

* ``SimClock`` is the business calendar of the world (post dates, publish
  times, later: analytics days). It never moves on its own, so a run is
  reproducible; tests and the Director move it with ``advance``.
* Vendor rate limits measure real elapsed seconds, so they take a plain
  monotonic function. ``ManualMonotonic`` is the controllable stand-in tests
  inject instead of ``time.monotonic``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

DEFAULT_START = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)


class SimClock:
    """A frozen UTC clock that only moves when told to.

    Listeners run after every move; the world uses this to publish scheduled
    posts whose date has passed, the way WordPress cron would.
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        self._now = start.astimezone(timezone.utc)
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        self._now += step
        for listener in list(self._listeners):
            listener(self._now)
        return self._now

    def on_advance(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)


class ManualMonotonic:
    """A monotonic time source for tests: call it for the time, ``advance`` it by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self._value = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._value

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("monotonic time only moves forward")
        with self._lock:
            self._value += seconds
            return self._value
