"""Shared fixtures: a fake clock, and the CI rule that real components must be present."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, why: str) -> None:
    """Skip locally when a real component is missing; in CI, fail instead."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI requires this component: {why}")
        pytest.skip(why)


class FakeClock:
    """Monotonic time that only moves when someone sleeps on it; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def sandbox():
    """One sandbox world on a free loopback port for the whole run.

    Many servers share its Webflow token here, so its per-token limit is raised; the 60/min
    behaviour itself is tested in tests/sandbox and tests/adapters/test_ratelimit.py.
    """
    from sandbox import World, running

    with running(world=World(seed=0, webflow_rate_limit=100_000)) as sb:
        yield sb
