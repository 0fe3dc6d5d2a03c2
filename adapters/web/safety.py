"""Which destinations the page-analysis tools may reach.

Only http and https (and the browser's ws/wss). A destination whose address is private,
loopback, link-local or otherwise non-public is refused (the cloud metadata endpoint, the office
router, a database on localhost) unless the client's config allows it: ``allowed_hosts`` entries
name a host (any port) or a host and port (``127.0.0.1:8765``, ``[::1]:8080``).

The decision that counts is made on the address actually connected to: the egress proxy
(``egress.py``) resolves a name once per connection, checks every address with
``check_address`` and connects to exactly the address it checked. Nothing is cached, so a name
that resolves differently later (DNS rebinding) is judged again on the next connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from adapters.errors import InvalidRequest, PermissionDenied

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
ALLOW_HINT = (
    "Only public sites can be analyzed. A client that needs an internal or local site lists its host "
    "(or host:port) in the page-analysis settings (allowed_hosts) in mcp.json."
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def normal_host(host: str) -> str:
    """Lower case, no brackets, an IP literal in its canonical form (so '[::0001]' matches '::1')."""
    host = host.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def parse_host_entry(entry: str) -> tuple[str, int | None]:
    """'host', 'host:port', '[v6]' or '[v6]:port' -> (host, port or None for any port)."""
    entry = entry.strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"'{entry}' is not host, host:port or [v6]:port")
        port = rest[1:] or None
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host, port = entry, None  # a bare name, IPv4 or IPv6 literal
    if not host:
        raise ValueError(f"'{entry}' has no host")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"'{entry}' has no valid port")
        return normal_host(host), int(port)
    return normal_host(host), None


def public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class UrlPolicy:
    def __init__(self, *, allow_private: bool = False, allowed_hosts: Iterable[str] = ()):
        self.allow_private = allow_private
        self._any_port: set[str] = set()
        self._ports: set[tuple[str, int]] = set()
        for entry in allowed_hosts:
            host, port = parse_host_entry(entry)
            if port is None:
                self._any_port.add(host)
            else:
                self._ports.add((host, port))

    def host_allowed(self, host: str, port: int) -> bool:
        """The client's config names this host (for any port, or for this one)."""
        host = normal_host(host)
        return self.allow_private or host in self._any_port or (host, port) in self._ports

    def check_address(self, host: str, port: int, address: str) -> None:
        """Raise PermissionDenied unless connecting to ``address`` for ``host:port`` is allowed."""
        if self.host_allowed(host, port):
            return
        ip = ipaddress.ip_address(address.split("%")[0])
        if not public(ip):
            shown = normal_host(host)
            where = f"{shown}:{port}" if shown == str(ip) else f"{shown}:{port} ({ip})"
            raise PermissionDenied(f"{where} is a non-public address; connecting to it is refused.", hint=ALLOW_HINT)

    def split(self, url: str) -> tuple[str, str, int]:
        """(scheme, host, port) of an http(s) URL, or InvalidRequest."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise InvalidRequest(
                f"Only http and https URLs can be analyzed, not '{parts.scheme or 'no scheme'}:'.",
                hint="Pass a full http(s) URL.",
            )
        host = parts.hostname or ""
        if not host:
            raise InvalidRequest(f"'{url[:200]}' has no host.", hint="Pass a full http(s) URL.")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise InvalidRequest(f"'{url[:200]}' has an invalid port.", hint="Pass a full http(s) URL.") from None
        return parts.scheme, normal_host(host), port

    def check(self, url: str) -> str:
        """The URL, or an error saying why it may not be fetched (resolves the name: call off the event loop).

        A courtesy check before any browser work, and the check of a final URL; the egress proxy
        makes the binding decision for every connection.
        """
        _, host, port = self.split(url)
        if self.host_allowed(host, port):
            return url
        for address in resolve(host, port):
            self.check_address(host, port, address)
        return url

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except (InvalidRequest, PermissionDenied):
            return False
        return True


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` has now (no cache: each connection asks again)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        infos = []
    found = list(dict.fromkeys(str(info[4][0]) for info in infos))  # sockaddr[0] is the address text
    if not found:
        raise InvalidRequest(f"{host} does not resolve.", hint="Check the URL's host name.")
    return found
