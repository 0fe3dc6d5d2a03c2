"""Which URLs the page-analysis tools may fetch.

Only http and https. A host that resolves to a private, loopback, link-local or otherwise
non-public address is refused (the cloud metadata endpoint, the office router, a database on
localhost) unless the client's config allows it; the check runs on every request the browser
makes, redirects and subresources included, not only on the URL the model passed.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from adapters.errors import InvalidRequest, PermissionDenied


class UrlPolicy:
    def __init__(self, *, allow_private: bool = False, allowed_hosts: frozenset[str] = frozenset()):
        self.allow_private = allow_private
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    def check(self, url: str) -> str:
        """The URL, or an error saying why it may not be fetched."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise InvalidRequest(f"Only http and https URLs can be analyzed, not '{parts.scheme or 'no scheme'}:'.",
                                 hint="Pass a full http(s) URL.")
        host = (parts.hostname or "").lower()
        if not host:
            raise InvalidRequest(f"'{url[:200]}' has no host.", hint="Pass a full http(s) URL.")
        if self.allow_private or host in self.allowed_hosts:
            return url
        for address in _addresses(host):
            if not address.is_global or address.is_multicast:
                raise PermissionDenied(
                    f"{host} resolves to a non-public address ({address}); fetching it is refused.",
                    hint="Only public sites can be analyzed. A client that needs an internal or local site lists "
                         "its host in the page-analysis settings (allowed_hosts) in mcp.json.")
        return url

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except (InvalidRequest, PermissionDenied):
            return False
        return True


@lru_cache(maxsize=1024)
def _resolved(host: str) -> tuple[str, ...]:
    try:
        return tuple(sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}))
    except (socket.gaierror, UnicodeError):
        return ()


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    found = _resolved(host)
    if not found:
        raise InvalidRequest(f"{host} does not resolve.", hint="Check the URL's host name.")
    out = []
    for text in found:
        address = ipaddress.ip_address(text.split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        out.append(address)
    return out
