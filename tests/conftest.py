"""Shared fixtures: a fake clock, a vault of its own, and the CI rule that real components must be present."""

from __future__ import annotations

import os
import tempfile

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The run's vault lives in a temporary home, never the user's, and its key in a 0600 file there
# (servers spawned by the tests inherit both settings).
os.environ["MARKETING_MCP_HOME"] = tempfile.mkdtemp(prefix="marketing-mcp-test-home-")
os.environ["MARKETING_MCP_KEYRING"] = "none"
os.environ.pop("MARKETING_MCP_VAULT_KEY", None)


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


SANDBOX_CLIENTS = ("t", "demo")


@pytest.fixture(scope="session")
def signed_in(sandbox):
    """Clients `t` and `demo` signed in to the sandbox's WordPress, Webflow, Mailchimp and Customer.io,
    as `auth login` does it."""
    import io

    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config

    from .helpers import sandbox_config

    for client in SANDBOX_CLIENTS:
        raw = sandbox_config(sandbox.url, client=client)
        sign_in_at_sandbox(parse_config(raw), client, io.StringIO())
    return sandbox
