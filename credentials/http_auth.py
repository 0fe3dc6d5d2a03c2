"""httpx.Auth objects that keep their secret out of reprs, tracebacks and logs."""

from __future__ import annotations

from typing import Generator

import httpx
from pydantic import SecretStr


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
