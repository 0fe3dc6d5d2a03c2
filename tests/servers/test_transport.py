"""Every message gets an answer, over stdio and streamable HTTP; HTTP refuses other origins and hosts.

The servers are spawned as a host spawns them and spoken to in raw bytes: what the SDK's client
would never send is exactly what these tests send.
"""

import json
import time

import httpx
import pytest
from mcp import Client
from mcp.types import JSONRPCRequest

from servers.transport import Rejection, dump_message, is_loopback, parse_message, security_settings

from ..helpers import RawStdio, sandbox_config, served_over_http, served_over_http_at

DEEP = b"[" * 300 + b"]" * 300
# (line, expected id, expected code): the cases the SDK's stdio reader drops without a word.
BAD_LINES = {
    "lone surrogate in arguments": (
        b'{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "list_posts", '
        b'"arguments": {"status": "\\ud800"}}}',
        11,
        -32602,
    ),
    "nested 300 deep": (
        b'{"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": {"name": "list_posts", '
        b'"arguments": {"x": ' + DEEP + b"}}}",
        12,
        -32700,
    ),
    "nested 300 deep, unparseable too": (b'{"id": "deep", "x": ' + b"[" * 300, "deep", -32700),
    "garbage": (b"this is not json", None, -32700),
    "truncated, id recovered": (b'{"jsonrpc": "2.0", "id": 14, "method": "tools/li', 14, -32700),
    "valid JSON, not JSON-RPC": (b'{"hello": "world"}', None, -32600),
    "valid JSON, not JSON-RPC, with an id": (b'{"id": 16, "hello": "world"}', 16, -32600),
    "a JSON array (batch)": (b'[{"jsonrpc": "2.0", "id": 17, "method": "tools/list"}]', None, -32600),
    "params not an object": (
        b'{"jsonrpc": "2.0", "id": 18, "method": "tools/call", "params": "list_posts"}',
        18,
        -32602,
    ),
    "an unusable id": (b'{"jsonrpc": "2.0", "id": {"n": 1}, "method": "tools/list"}', None, -32600),
    "not UTF-8": (
        b'{"jsonrpc": "2.0", "id": 20, "method": "tools/call", "params": {"name": "list_posts", '
        b'"arguments": {"status": "\xff"}}}',
        20,
        -32700,
    ),
    # The SDK answers this one itself; it stays answered.
    "arguments not an object": (
        b'{"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": {"name": "list_posts", '
        b'"arguments": "limit=1"}}',
        21,
        -32602,
    ),
}


@pytest.fixture(scope="module")
def config(signed_in, tmp_path_factory):
    path = tmp_path_factory.mktemp("transport") / "mcp.json"
    path.write_text(json.dumps(sandbox_config(signed_in.url)))
    return path


@pytest.fixture(scope="module")
def stdio(config):
    server = RawStdio(config, "t", "wordpress")
    server.initialize()
    yield server
    server.close()


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_stdio_answers_a_message_it_cannot_take_within_a_second(stdio, case):
    line, rid, code = BAD_LINES[case]
    started = time.monotonic()
    reply = stdio.request(line, timeout=1.0)
    assert reply is not None, f"no answer to {case!r} within a second"
    assert time.monotonic() - started < 1.0
    assert reply["jsonrpc"] == "2.0" and reply["id"] == rid and reply["error"]["code"] == code, reply
    assert "result" not in reply


def test_stdio_keeps_serving_after_every_bad_message(stdio):
    for line, _, _ in BAD_LINES.values():
        stdio.send(line)
    replies = [stdio.receive() for _ in BAD_LINES]
    assert all(r is not None and "error" in r for r in replies), replies
    listed = stdio.request(b'{"jsonrpc": "2.0", "id": 99, "method": "tools/list"}', timeout=5)
    assert listed["id"] == 99 and "list_posts" in {t["name"] for t in listed["result"]["tools"]}
    called = stdio.request(
        b'{"jsonrpc": "2.0", "id": 100, "method": "tools/call", "params": {"name": "list_posts", '
        b'"arguments": {"limit": 1}}}',
        timeout=10,
    )
    assert called["id"] == 100 and not called["result"].get("isError"), called


def test_stdio_does_not_answer_a_notification_even_a_bad_one(stdio):
    stdio.send(b'{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"reason": "\\ud800"}}')
    stdio.send(b"")  # a blank line is not a message either
    assert stdio.request(b'{"jsonrpc": "2.0", "id": 101, "method": "ping"}')["id"] == 101


STRAY = """
import os, sys
from mcp.server.mcpserver import MCPServer
from servers.transport import run_stdio

server = MCPServer("stray")


@server.tool()
def noisy() -> str:
    print("stray print")
    os.system("echo stray child")
    return "done"


run_stdio(server)
"""


def test_stdio_serves_on_private_descriptors_so_stray_output_misses_the_wire():
    """A print in a tool, or a child process writing to fd 1, must not corrupt the protocol."""
    server = RawStdio(None, "", "", python_args=["-c", STRAY])
    try:
        server.initialize()
        reply = server.request(
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "noisy", "arguments": {}}}',
            timeout=10,
        )
        assert reply is not None and reply["id"] == 1 and reply["result"]["content"][0]["text"] == "done", reply
    finally:
        assert server.close() == 0
    assert "stray print" in server.stderr_text() and "stray child" in server.stderr_text()


# --- streamable HTTP ---------------------------------------------------------------------------

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def _initialize(http: httpx.Client, url: str) -> dict:
    opened = http.post(
        url,
        headers=HEADERS,
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        },
    )
    assert opened.status_code == 200, opened.text
    headers = {**HEADERS, "mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    assert (
        http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}).status_code
        == 202
    )
    return headers


HTTP_ANSWERED_BY_US = [c for c in BAD_LINES if c != "arguments not an object"]  # that one the SDK answers in SSE


async def test_http_answers_every_body_it_cannot_take_and_keeps_serving(config):
    with served_over_http(config, "t", "wordpress") as url, httpx.Client(timeout=1.0) as http:
        headers = _initialize(http, url)
        for case in HTTP_ANSWERED_BY_US:
            line, rid, code = BAD_LINES[case]
            answer = http.post(url, headers=headers, content=line)
            assert answer.status_code == 400, (case, answer.text)
            body = answer.json()
            assert body["id"] == rid and body["error"]["code"] == code, (case, body)
        assert http.post(url, headers=headers, content=b"").json()["error"]["code"] == -32700
        async with Client(url) as client:
            assert "list_posts" in {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("list_posts", {"limit": 1})
    assert not result.is_error


@pytest.mark.parametrize(
    "header",
    [
        {"origin": "http://127.0.0.2:9"},
        {"origin": "http://127.0.0.1:9"},
        {"origin": "http://localhost:9"},
        {"host": "127.0.0.2:9"},
    ],
)
def test_http_refuses_another_origin_or_host_even_another_local_port(config, header):
    """The SDK's own loopback rule allows any port; a page on another local port must not drive the tools."""
    with served_over_http(config, "t", "wordpress") as url, httpx.Client(timeout=2.0) as http:
        answer = http.post(url, headers={**HEADERS, **header}, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert answer.status_code == (421 if "host" in header else 403), answer.text
        # A body that does not parse is refused for its origin before it is read.
        assert http.post(url, headers={**HEADERS, **header}, content=b"{").status_code in (403, 421)


def test_http_checks_origin_and_host_on_any_loopback_address(config):
    """Bound to 127.0.0.2, the SDK would switch its checks off (it knows three host names only)."""
    with served_over_http_at(config, "t", "wordpress", host="127.0.0.2") as url, httpx.Client(timeout=2.0) as http:
        port = httpx.URL(url).port
        ping = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
        }
        assert http.post(url, headers={**HEADERS, "origin": "http://127.0.0.1:9"}, json=ping).status_code == 403
        assert http.post(url, headers={**HEADERS, "host": f"127.0.0.3:{port}"}, json=ping).status_code == 421
        assert http.post(url, headers={**HEADERS, "origin": f"http://127.0.0.2:{port}"}, json=ping).status_code == 200


# --- the pieces ----------------------------------------------------------------------------------


def test_a_good_message_takes_the_sdks_own_parse():
    message = parse_message(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}')
    assert not isinstance(message, Rejection)
    assert isinstance(message, JSONRPCRequest) and message.id == 1


@pytest.mark.parametrize(
    "raw, rid",
    [
        (b'{"params": {"id": 7}, "id": 8, "x": ', 8),  # the top-level id, not the one inside params
        (b'{"params": {"id": 7}, "x": ', None),
        (b'{"method": "id", "id": "a\\"b", "x": ', 'a"b'),
        (b'{"id": "\\ud800", "x": ', None),  # an id no encoder can send back
        (b'{"id": true, "x": ', None),
        (b'{"id": 1.5, "x": ', None),
    ],
)
def test_the_id_of_a_message_that_does_not_parse_is_recovered_when_it_can_be(raw, rid):
    rejection = parse_message(raw)
    assert isinstance(rejection, Rejection) and rejection.code == -32700 and rejection.id == rid


def test_a_rejection_is_valid_utf8_json_whatever_it_answers():
    rejection = parse_message('{"jsonrpc": "2.0", "id": "ü\\ud800", "method": "tools/list"}'.encode())
    assert isinstance(rejection, Rejection)
    assert rejection.id is None and json.loads(rejection.to_json().decode("ascii"))["error"]["code"] == -32600


def test_an_outgoing_lone_surrogate_does_not_stop_the_server():
    import mcp_types as types

    line = dump_message(types.JSONRPCResponse(jsonrpc="2.0", id=3, result={"title": "a\ud800b"}))
    assert json.loads(line.decode("utf-8")) == {"jsonrpc": "2.0", "id": 3, "result": {"title": "a\ufffdb"}}


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.2",
        "127.255.0.9",
        "::1",
        "[::1]",
        "localhost",
        "LocalHost",
        "localhost.",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback_addresses_are_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "[::]", "mcp.invalid", "127.1", "localhost.invalid"])
def test_anything_else_is_not(host):
    assert not is_loopback(host)


def test_allowed_origins_and_hosts_name_the_bound_port_only():
    settings = security_settings("127.0.0.2", 8123)
    assert settings.enable_dns_rebinding_protection
    assert settings.allowed_hosts == ["127.0.0.1:8123", "localhost:8123", "[::1]:8123", "127.0.0.2:8123"]
    assert settings.allowed_origins == [
        "http://127.0.0.1:8123",
        "http://localhost:8123",
        "http://[::1]:8123",
        "http://127.0.0.2:8123",
    ]
    assert security_settings("::1", 80).allowed_hosts == ["127.0.0.1:80", "localhost:80", "[::1]:80"]
