"""Nothing crosses into private space: each attack against a canary that counts what reaches it.

The canary listens (TCP, and UDP for STUN) on a loopback address or port the client does not
allow. Every attack runs through the MCP tools with real Chromium and must leave the canary at
zero, with a permission_denied result (or, for something inside an allowed page, the page
analyzed and the blocked destination named in the report). Nothing here aims outside
127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from urllib.parse import quote

import httpx
import pytest
from mcp import Client

from adapters.errors import PermissionDenied
from adapters.web.analyzer import PageAnalyzer
from adapters.web.browser import Browser, find_chromium
from adapters.web.egress import REFUSED_HEADER, EgressProxy
from adapters.web.safety import UrlPolicy, parse_host_entry
from suite.config import parse_config
from suite.wiring import create_server

from ..conftest import need
from ..helpers import call_ok, error_of, text


class Canary:
    """A TCP listener and a UDP socket on ``host`` that count every connection and datagram."""

    def __init__(self, host: str) -> None:
        self.host, self.tcp, self.udp = host, 0, 0
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.bind((host, 0))
        self._tcp.listen(64)
        self.port = self._tcp.getsockname()[1]
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, 0))
        self.udp_port = self._udp.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def stun_url(self) -> str:  # the webrtc fixture sends STUN to this URL's host:port
        return f"http://{self.host}:{self.udp_port}/"

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._tcp.accept()
            except OSError:
                return
            self.tcp += 1
            conn.close()

    def _receive(self) -> None:
        while not self._closed:
            try:
                self._udp.recvfrom(4096)
            except OSError:
                return
            self.udp += 1

    def close(self) -> None:
        self._closed = True
        for s in (self._tcp, self._udp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.fixture
def canary():
    c = Canary("127.0.0.2")  # loopback on Linux; no client allows it
    yield c
    c.close()


@pytest.fixture
def same_host_canary():
    c = Canary("127.0.0.1")  # the sandbox's own host, on a port the client does not name
    yield c
    c.close()


@pytest.fixture(scope="module")
def chromium():
    need(find_chromium() is not None, "no Chromium: run scripts/chromium-up.sh")


def client(sandbox_url: str, allowed: list[str] | None = None) -> Client:
    allowed = allowed if allowed is not None else [httpx.URL(sandbox_url).netloc.decode()]
    raw = {
        "clients": {"p": {"servers": {"page-analysis": {"settings": {"allowed_hosts": allowed, "link_timeout": 2.0}}}}}
    }
    return Client(create_server(parse_config(raw), "p", "page-analysis"))


def fixture(sandbox, name: str, to: str) -> str:
    return f"{sandbox.url}/_fixtures/{name}?to={quote(to, safe='')}"


def denied(result) -> bool:
    return bool(result.is_error and error_of(result).get("type") == "permission_denied")


def hostport(url: str) -> str:
    u = httpx.URL(url)
    return f"{u.host}:{u.port}"


# -- through the tools, with Chromium ------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_redirect_into_private_space_reaches_nothing_in_any_tool(sandbox, chromium, canary, scheme):
    to = f"{scheme}://127.0.0.2:{canary.port}/"  # https: the browser asks the proxy for a CONNECT tunnel
    url = fixture(sandbox, "redirect-to-private", to)
    async with client(sandbox.url) as c:
        results = {
            tool: await c.call_tool(tool, args)
            for tool, args in (
                ("analyze_page", {"url": url}),
                ("screenshot", {"url": url}),
                ("check_links", {"url": url}),
                ("compare_pages", {"url": f"{sandbox.url}/", "against": url}),
            )
        }
    for tool, result in results.items():
        assert denied(result), f"{tool}: {text(result)}"
        assert "allowed_hosts" in error_of(result)["hint"]
    assert not any(c.type == "image" for c in results["screenshot"].content)
    assert canary.tcp == 0


async def test_a_redirect_to_another_port_of_an_allowed_host_reaches_nothing(sandbox, chromium, same_host_canary):
    # The case: an allowed page answers 302 Location: http://<same host>:OTHERPORT/.
    url = fixture(sandbox, "redirect-to-private", same_host_canary.url)
    async with client(sandbox.url) as c:
        result = await c.call_tool("analyze_page", {"url": url})
    assert denied(result), text(result)
    assert same_host_canary.tcp == 0


@pytest.mark.parametrize("kind", ["subresource-redirect", "websocket", "fetch", "iframe"])
async def test_what_an_allowed_page_tries_to_reach_is_blocked_and_reported(sandbox, chromium, canary, kind):
    async with client(sandbox.url) as c:
        result = await c.call_tool("analyze_page", {"url": fixture(sandbox, f"attack/{kind}", canary.url)})
    report = result.structured_content
    assert not result.is_error and "Refused (not allowed, nothing sent)" in text(result)
    assert report["status"] == 200 and report["title"].startswith("An ordinary page")
    assert hostport(canary.url) in report["blocked"], report["blocked"]
    assert canary.tcp == 0


async def test_webrtc_sends_no_stun_datagram(sandbox, chromium, canary):
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"self-test", ("127.0.0.2", canary.udp_port))
    for _ in range(100):  # the canary counts what it gets (no sleep: it is ready at once)
        if canary.udp:
            break
        await asyncio.sleep(0.01)
    assert canary.udp == 1
    async with client(sandbox.url) as c:
        report = await call_ok(c, "analyze_page", {"url": fixture(sandbox, "attack/webrtc", canary.stun_url)})
    assert report["status"] == 200 and report["complete"]  # the page ran its script and held load for 1.5 s
    assert canary.udp == 1 and canary.tcp == 0


async def test_crawl_and_link_check_do_not_follow_a_link_through_a_redirect(sandbox, chromium, canary):
    start = fixture(sandbox, "attack/links", canary.url)
    async with client(sandbox.url) as c:
        crawl = await call_ok(c, "crawl_site", {"start_url": start, "max_pages": 4, "max_depth": 1, "max_seconds": 30})
        links = await call_ok(c, "check_links", {"url": start})
    through = next((p for p in crawl["pages"] if "redirect-to-private" in p["url"]), crawl)
    assert through.get("problems", [""])[0].startswith("not analyzed (permission_denied)"), through
    refused = {link["url"]: link["error"] for link in links["links"] if not link["ok"]}
    assert canary.url in refused and any("redirect-to-private" in u for u in refused), refused
    assert set(refused.values()) == {"refused: not a public address"}
    assert any(link["ok"] and link["url"].endswith("/_fixtures/ok/1") for link in links["links"])
    assert canary.tcp == 0


async def test_a_host_port_entry_allows_that_port_only_and_a_bare_host_every_port(sandbox, chromium, same_host_canary):
    url = fixture(sandbox, "attack/fetch", same_host_canary.url)
    async with client(sandbox.url) as c:  # allowed: 127.0.0.1:<sandbox port>
        report = await call_ok(c, "analyze_page", {"url": url})
    assert same_host_canary.tcp == 0 and hostport(same_host_canary.url) in report["blocked"]
    async with client(sandbox.url, allowed=["127.0.0.1"]) as c:  # the bare host: any port of it
        report = await call_ok(c, "analyze_page", {"url": url})
    assert not report["blocked"]
    assert same_host_canary.tcp >= 1  # the canary sees what gets through: the zeros above mean something


async def test_names_are_resolved_by_the_proxy_at_connection_time_not_by_chromium(sandbox, chromium, canary):
    answers = {"shop.test": "127.0.0.1", "news.test": "127.0.0.2"}

    async def resolver(host: str, port: int) -> list[str]:
        return [answers.get(host, host)]  # an IP literal is its own answer

    port = httpx.URL(sandbox.url).port
    page = await _Origin(
        f'<h1>News</h1><script>fetch("http://news.test:{canary.port}/").catch(() => 0)</script>'
        f'<img src="http://news.test:{canary.port}/pixel.gif" alt="">'
    ).start()
    policy = UrlPolicy(allowed_hosts=[f"shop.test:{port}", f"127.0.0.1:{page.port}"])
    analyzer = PageAnalyzer(Browser(policy, resolver=resolver))
    try:
        # Chromium resolves nothing itself (host-resolver-rules); the proxy does, with its resolver.
        report = await analyzer.analyze(f"http://shop.test:{port}/_fixtures/ok/1")
        assert report.status == 200 and report.final_url == f"http://shop.test:{port}/_fixtures/ok/1"
        # A name nobody allowed is judged by the address it has when the page connects: the canary's.
        report = await analyzer.analyze(f"http://127.0.0.1:{page.port}/page")
        assert report.status == 200 and report.blocked == [f"news.test:{canary.port}"]
    finally:
        await analyzer.aclose()
        page.server.close()
    assert canary.tcp == 0


# -- the proxy alone ---------------------------------------------------------------------------------


class _Origin:
    """A tiny HTTP server on 127.0.0.1 that answers every request with its path (or a page) and counts connections."""

    def __init__(self, html: str | None = None) -> None:
        self.connections = 0
        self.port = 0
        self.html = html

    async def start(self) -> "_Origin":
        async def serve(reader, writer):
            self.connections += 1
            head = await reader.readuntil(b"\r\n\r\n")
            body = self.html.encode() if self.html else head.split(b" ")[1]
            kind = b"text/html" if self.html else b"text/plain"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (kind, len(body), body)
            )
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self


async def test_the_proxy_checks_each_connection_against_a_fresh_answer_and_connects_to_that_address(canary):
    origin = await _Origin().start()
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["127.0.0.2"]  # rebinds after the first answer

    class PublicOrigin(UrlPolicy):  # stands in for a public address without leaving loopback
        def check_address(self, host, port, address):
            if (address, port) != ("127.0.0.1", origin.port):
                super().check_address(host, port, address)

    proxy = await EgressProxy(PublicOrigin(), resolver=resolver).start()
    try:
        async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as http:
            first = await http.get(f"http://rebind.test:{origin.port}/one")
            assert first.status_code == 200 and first.text == "/one" and calls == ["rebind.test"]
            canary_port = canary.port
            second = await http.get(f"http://rebind.test:{canary_port}/two")  # now 127.0.0.2: refused
            assert second.status_code == 403 and second.headers[REFUSED_HEADER] == "refused"
            third = await http.get(f"http://rebind.test:{origin.port}/three")  # same port, new answer
            assert third.status_code == 403
    finally:
        await proxy.aclose()
        origin.server.close()
    assert origin.connections == 1 and canary.tcp == 0 and len(calls) == 3
    assert proxy.refusal_for(f"http://rebind.test:{canary_port}/")


async def test_one_checked_request_per_connection_so_keep_alive_smuggles_nothing(canary):
    origin = await _Origin().start()
    proxy = await EgressProxy(UrlPolicy(allowed_hosts=[f"127.0.0.1:{origin.port}"])).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(
            f"GET http://127.0.0.1:{origin.port}/a HTTP/1.1\r\nHost: x\r\n\r\n"
            f"GET http://127.0.0.2:{canary.port}/b HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # the proxy closes after the first response
        writer.close()
        # And a CONNECT to a refused address gets no tunnel.
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"CONNECT 127.0.0.2:{canary.port} HTTP/1.1\r\n\r\n".encode())
        refused = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    finally:
        await proxy.aclose()
        origin.server.close()
    assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
    assert answer.count(b"HTTP/1.1") == 1 and answer.endswith(b"/a")
    assert refused.startswith(b"HTTP/1.1 403") and b"refused" in refused
    assert canary.tcp == 0


def test_allowed_hosts_entries_name_a_host_or_a_host_and_port():
    assert parse_host_entry("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_host_entry("Sandbox.Local") == ("sandbox.local", None)
    assert parse_host_entry("[::1]:8080") == ("::1", 8080) and parse_host_entry("::1") == ("::1", None)
    policy = UrlPolicy(allowed_hosts=["127.0.0.1:8765", "localhost", "[::1]:8080"])
    assert policy.host_allowed("127.0.0.1", 8765) and not policy.host_allowed("127.0.0.1", 8766)
    assert policy.host_allowed("localhost", 1) and policy.host_allowed("LOCALHOST", 9999)
    assert policy.host_allowed("[::1]", 8080) and not policy.host_allowed("::1", 8081)
    policy.check("http://127.0.0.1:8765/")
    with pytest.raises(PermissionDenied):
        policy.check("http://127.0.0.1:8766/")
    with pytest.raises(PermissionDenied):
        policy.check_address("evil.test", 80, "127.0.0.2")  # an unlisted name is judged by its address
    with pytest.raises(PermissionDenied):
        policy.check_address("evil.test", 80, "::ffff:127.0.0.1")
    with pytest.raises(ValueError):
        parse_host_entry("127.0.0.1:0")
