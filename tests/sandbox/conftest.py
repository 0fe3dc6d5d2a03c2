"""A sandbox server of our own for these tests, reset to the seed before each one.

The server runs for the whole module set; resetting the world is far cheaper
than restarting uvicorn, and keeps every test independent of the others.
Time for vendor rate limits is a ManualMonotonic, so no test sleeps.
"""

from __future__ import annotations

import httpx
import pytest

from sandbox import World, running
from sandbox.clock import ManualMonotonic


@pytest.fixture(scope="session")
def sandbox_server():
    with running(world=World(seed=0)) as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server):
    """The running sandbox, its world freshly reset, with a controllable monotonic clock."""
    world = sandbox_server.world
    world.monotonic = ManualMonotonic()
    world.configure(companion_plugin=True, seo_plugin="yoast", webflow_rate_limit=60)
    world.reset()
    yield sandbox_server
    world.faults.clear()


@pytest.fixture
def mono(sb) -> ManualMonotonic:
    return sb.world.monotonic


@pytest.fixture
def creds(sb) -> dict:
    return sb.provision()


@pytest.fixture
def anon(sb):
    with httpx.Client(base_url=sb.url, timeout=5) as client:
        yield client


@pytest.fixture
def wp(sb, creds):
    """A client authenticated to WordPress with the demo application password."""
    auth = (creds["wordpress"]["username"], creds["wordpress"]["application_password"])
    with httpx.Client(base_url=sb.url + "/wp-json", auth=auth, timeout=5) as client:
        yield client


@pytest.fixture
def wf(sb, creds):
    """A client for the Webflow Data API with the demo site token."""
    headers = {"Authorization": f"Bearer {creds['webflow']['token']}"}
    with httpx.Client(base_url=creds["webflow"]["api_base"], headers=headers, timeout=5) as client:
        yield client
