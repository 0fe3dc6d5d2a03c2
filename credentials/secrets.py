"""Secrets for the servers, handed out only as `httpx.Auth` objects.

mcp.json holds references; this module turns a reference into an auth object without the
secret ever reaching a tool, a log line or an error message.
"""

from __future__ import annotations

import os
from typing import Generator

import httpx
from pydantic import SecretStr


class MissingCredentials(Exception):
    """The reference points at nothing; the message says how to provide it."""


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` with the token kept out of reprs and tracebacks."""

    def __init__(self, token: SecretStr):
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=**********)"


class BasicAuth(httpx.Auth):
    """HTTP Basic with a hidden password (httpx.BasicAuth keeps the header in a plain attribute)."""

    def __init__(self, username: str, password: SecretStr):
        self.username = username
        self._password = password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # Application passwords are shown with spaces; WordPress accepts them either way.
        yield from httpx.BasicAuth(self.username, self._password.get_secret_value()).auth_flow(request)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=**********)"


def secret_from_env(variable: str, *, what: str, client: str) -> SecretStr:
    value = os.environ.get(variable, "")
    if not value.strip():
        raise MissingCredentials(
            f"No {what} for client '{client}': the environment variable {variable} is not set. "
            f"Set it in the host's config (the `env` of the mcpServers entry) or in the shell that starts the server.")
    return SecretStr(value.strip())


async def sandbox_credentials(sandbox_url: str, transport: httpx.AsyncBaseTransport | None = None) -> dict:
    """The sandbox hands out its demo credentials, so the demo client needs no set-up step."""
    try:
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=5.0, transport=transport) as http:
            response = await http.post("/_sandbox/provision")
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise MissingCredentials(
            f"The sandbox at {sandbox_url} did not hand out credentials ({type(exc).__name__}). "
            f"Start it with `marketing-mcp sandbox` (or run `marketing-mcp demo`).") from None
