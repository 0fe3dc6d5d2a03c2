"""The places where we lean on the MCP SDK beyond its public API, each checked so an SDK upgrade fails here, loudly.

- `servers/_app.py::_register` puts a Tool we built into the server's tool manager (mcp 2.3 takes
  ready Tool objects only in MCPServer's constructor);
- `servers/transport.py` serves our own stdio streams through `server._lowlevel_server.run(...)`,
  the call MCPServer.run_stdio_async makes itself.

Everything else the `tool` decorator uses is public (`Tool.from_function`, `FuncMetadata`'s fields,
`Tool.model_copy`), and is checked here too because the decorator relies on its documented behaviour
(a FuncMetadata given an output schema does not derive one: that is what keeps start-up fast).
"""

from __future__ import annotations

import inspect

from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import TextContent
from pydantic import BaseModel

from servers._app import READ, Deps, _register, new_server, tool, tool_names

UPGRADE = "The MCP SDK changed under {where}: update it (see its docstring) before upgrading mcp. {detail}"


class Echo(BaseModel):
    said: str


def echo_server() -> MCPServer:
    async def nothing():
        return None

    server = new_server(
        "seam-test",
        "A server for the SDK seam tests.",
        lambda: Deps(client="c", server="seam-test", make_adapter=nothing),
    )

    @tool(server, READ, summary=lambda r: r.said)
    async def echo(ctx: Context, words: str, dry_run: bool = False) -> Echo:
        """Say the words back."""
        return Echo(said=words)

    @tool(server, READ, summary=lambda r: r.said)
    async def shout(ctx: Context, words: str) -> Echo:
        """Say the words back, louder."""
        return Echo(said=words.upper())

    return server


def test_the_tool_manager_holds_tools_by_name_where_register_puts_them():
    server = MCPServer("bare")
    manager = getattr(server, "_tool_manager", None)
    tools = getattr(manager, "_tools", None)
    assert isinstance(tools, dict), UPGRADE.format(
        where="servers/_app.py::_register", detail="MCPServer._tool_manager._tools is no longer a dict of name -> Tool."
    )
    assert manager is not None  # it holds a dict of tools, so it is there
    assert manager.get_tool("x") is None and manager.list_tools() == []
    built = Tool.from_function(lambda: "hi", name="hi")
    _register(server, built)
    assert manager.get_tool("hi") is built, UPGRADE.format(
        where="servers/_app.py::_register", detail="the tool manager does not look tools up in _tools any more."
    )


async def test_registered_tools_are_listed_validated_and_called_by_the_sdk():
    server = echo_server()
    assert tool_names(server) == ["echo", "shout"]
    listed = {t.name: t for t in await server.list_tools()}
    assert set(listed) == {"echo", "shout"}, UPGRADE.format(
        where="servers/_app.py::_register", detail="list_tools does not show the tools _register added."
    )
    assert listed["echo"].input_schema["additionalProperties"] is False
    assert listed["echo"].output_schema == listed["shout"].output_schema
    echo_schema = listed["echo"].output_schema
    assert echo_schema is not None and echo_schema["properties"] == {"said": {"title": "Said", "type": "string"}}
    async with Client(server) as client:
        ok = await client.call_tool("shout", {"words": "hi"})
        assert not ok.is_error and ok.structured_content == {"said": "HI"}
        refused = await client.call_tool("echo", {"words": "hi", "dry_rum": True})
    assert refused.is_error, UPGRADE.format(
        where="servers/_app.py::_register",
        detail="the SDK no longer validates arguments with Tool.fn_metadata.arg_model.",
    )
    said = refused.content[0]
    assert isinstance(said, TextContent) and "did you mean 'dry_run'" in said.text


def test_one_output_schema_object_is_shared_by_every_tool_that_returns_the_model():
    server = echo_server()
    echo, shout = (server._tool_manager.get_tool(n) for n in ("echo", "shout"))
    assert echo is not None and shout is not None
    assert echo.fn_metadata.output_schema == shout.fn_metadata.output_schema
    assert echo.fn_metadata.output_model is shout.fn_metadata.output_model is Echo
    assert echo.output_schema == echo.fn_metadata.output_schema


def test_the_public_api_the_tool_decorator_builds_on():
    params = inspect.signature(Tool.from_function).parameters
    missing = {"fn", "name", "title", "description", "annotations", "structured_output"} - set(params)
    assert not missing, UPGRADE.format(where="servers/_app.py::tool", detail=f"Tool.from_function lost {missing}.")
    fields = set(FuncMetadata.model_fields)
    assert {"arg_model", "output_schema", "output_model", "wrap_output"} <= fields, UPGRADE.format(
        where="servers/_app.py::tool", detail=f"FuncMetadata has the fields {sorted(fields)}."
    )
    schema = {"type": "object", "title": "not what Echo derives"}
    given = FuncMetadata(
        arg_model=Tool.from_function(lambda: 1, name="x").fn_metadata.arg_model, output_schema=schema, output_model=Echo
    )
    assert given.output_schema == schema, UPGRADE.format(
        where="servers/_app.py::tool", detail="FuncMetadata derives an output schema even when given one."
    )
    assert {"fn_metadata", "parameters"} <= set(Tool.model_fields)


def test_the_low_level_server_serves_given_streams():
    server = MCPServer("bare")
    low = getattr(server, "_lowlevel_server", None)
    run = getattr(low, "run", None)
    assert run is not None and callable(getattr(low, "create_initialization_options", None)), UPGRADE.format(
        where="servers/transport.py (serve_stdio)", detail="MCPServer._lowlevel_server.run is gone."
    )
    params = list(inspect.signature(run).parameters)
    assert params[:3] == ["read_stream", "write_stream", "initialization_options"], UPGRADE.format(
        where="servers/transport.py (serve_stdio)", detail=f"Server.run now takes {params}."
    )
    source = inspect.getsource(MCPServer.run_stdio_async)
    assert "self._lowlevel_server.run(" in source, UPGRADE.format(
        where="servers/transport.py (serve_stdio)",
        detail="MCPServer.run_stdio_async no longer serves through _lowlevel_server.run; do what it does now.",
    )


def test_a_second_registration_of_a_name_keeps_the_first():
    name = "echo"
    server = echo_server()
    first = server._tool_manager.get_tool(name)
    _register(server, Tool.from_function(lambda: "other", name=name))
    assert server._tool_manager.get_tool(name) is first
    assert tool_names(server).count(name) == 1
