"""Plumbing shared by every server: dependencies, budgets, annotations, error translation.

A tool is registered with `@tool(server, READ, summary=...)`. The decorator spends the
tool's budget under the call's deadline, turns `AdapterError` into an `is_error` result the
model can act on (the second and last translation), and returns structured content with a
short text summary. Servers never read mcp.json or the environment: `suite` builds `Deps`.
"""

import asyncio
import difflib
import functools
import inspect
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, AsyncIterator, Awaitable, Callable, Generic, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from adapters.errors import AdapterError
from adapters.ratelimit import Budget, Rate, RateLimiter
from adapters.timing import deadline_after

log = logging.getLogger("marketing_mcp.tools")

A = TypeVar("A")

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=True)
DRAFT = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True)
PUBLISH = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=True)
SEND = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=True)

DEFAULT_TOOL_RATE = Rate(120, 60.0, burst=20)
_OUTPUTS: dict[type, Any] = {}  # one output schema and validator per result model, however many tools return it


@dataclass
class Deps(Generic[A]):
    """What a server's tools need, built by the composition root and handed in by the lifespan.

    The adapter is built on first use, so a server answers `initialize` before it has
    talked to any vendor, and a missing credential is a tool error rather than a crash.
    """

    client: str
    server: str
    make_adapter: Callable[[], Awaitable[A]]
    tool_rates: dict[str, Rate] = field(default_factory=dict)
    default_rate: Rate = DEFAULT_TOOL_RATE
    deadline_seconds: float = 60.0
    _adapter: A | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _budgets: dict[str, RateLimiter] = field(default_factory=dict)

    async def adapter(self) -> A:
        if self._adapter is None:
            async with self._lock:
                if self._adapter is None:
                    self._adapter = await self.make_adapter()
        return self._adapter

    def budget(self, tool: str) -> RateLimiter:
        if tool not in self._budgets:
            self._budgets[tool] = Budget(f"{self.server}.{tool} tool", self.tool_rates.get(tool, self.default_rate))
        return self._budgets[tool]

    @asynccontextmanager
    async def call(self, tool: str) -> AsyncIterator[None]:
        """One tool call: a deadline for everything below it, then the tool's budget."""
        with deadline_after(self.deadline_seconds):
            await self.budget(tool).spend()
            yield

    async def aclose(self) -> None:
        close = getattr(self._adapter, "aclose", None)
        if close is not None:
            await close()


def deps_of(ctx: Context) -> Deps:
    return ctx.request_context.lifespan_context


async def adapter_of(ctx: Context) -> Any:
    return await deps_of(ctx).adapter()


def lifespan_for(build: Callable[[], Deps]):
    """A server lifespan that builds the Deps at start and closes its clients at exit."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[Deps]:
        deps = build()
        try:
            yield deps
        finally:
            await deps.aclose()

    return lifespan


ERROR_META = "marketing-mcp/error"
"""The `_meta` key of an error result: {type, message, hint, retry_after?} for clients that act on the type."""


def error_result(exc: AdapterError, deps: Deps) -> CallToolResult:
    """An `is_error` result whose text says everything: what failed, what to do next, the error type.

    No structured content: TypeScript-SDK hosts validate it against the tool's outputSchema even
    on errors and would show a schema mismatch instead of the message. Clients that act on the
    type (the Director) read it from `_meta`.
    """
    kind = _snake(type(exc).__name__)
    error: dict[str, Any] = {"type": kind, "message": exc.message, "hint": exc.hint}
    text = exc.message + (f" Next: {exc.hint}" if exc.hint else "") + f" [{kind}"
    if exc.retry_after is not None:
        error["retry_after"] = exc.retry_after
        text += f", retry_after={exc.retry_after:g}s"
    return CallToolResult(content=[TextContent(type="text", text=text + "]")], is_error=True,
                          meta={ERROR_META: error})


def with_data(summary: str, data: dict[str, Any]) -> str:
    """The summary line, then the data as compact JSON: hosts that show a model only `content` lose nothing."""
    return f"{summary}\n{json.dumps(data, ensure_ascii=False, separators=(',', ':'))}"


def tool(server: MCPServer, annotations: ToolAnnotations, *, summary: Callable[[Any], str],
         name: str | None = None, title: str | None = None, media: Callable[[Any], list] | None = None):
    """Register an async tool function whose return annotation is a pydantic model.

    `media` adds content blocks (e.g. an image) after the text summary; fields the model marks
    `exclude=True` stay out of the structured content (no image twice).
    """

    def register(fn: Callable[..., Awaitable[BaseModel]]):
        tool_name = name or fn.__name__
        signature = inspect.signature(fn, eval_str=True)
        model = signature.return_annotation

        @functools.wraps(fn)
        async def run(**kwargs: Any) -> CallToolResult:
            ctx = kwargs["ctx"]
            deps = deps_of(ctx)
            try:
                async with deps.call(tool_name):
                    result = await fn(**kwargs)
            except AdapterError as exc:
                log.info("%s/%s failed: %s", deps.server, tool_name, type(exc).__name__)
                return error_result(exc, deps)
            except Exception:
                log.exception("%s/%s crashed", deps.server, tool_name)
                return CallToolResult(
                    content=[TextContent(type="text", text=f"{tool_name} failed with an internal error; the details "
                                                           "are in the server's log. Report it if it persists.")],
                    is_error=True)
            data = result.model_dump(mode="json")
            content = [TextContent(type="text", text=with_data(summary(result), data)), *(media(result) if media else [])]
            return CallToolResult(content=content, structured_content=data)

        # The SDK derives the output schema from this; the content is built above.
        run.__signature__ = signature.replace(return_annotation=Annotated[CallToolResult, model])  # type: ignore[attr-defined]
        first = _OUTPUTS.get(model)
        server.add_tool(run, name=tool_name, title=title, annotations=annotations,
                        description=inspect.getdoc(fn), structured_output=False if first else None)
        registered = server._tool_manager.get_tool(tool_name)
        meta = registered.fn_metadata
        meta.arg_model = _strict(meta.arg_model, tool_name)
        registered.parameters = meta.arg_model.model_json_schema(by_alias=True)
        if first:  # the SDK reads these fields live: share the schema and validator instead of deriving them again
            meta.output_schema, meta.output_model, meta._adapter = first.output_schema, first.output_model, first._adapter
        else:
            _OUTPUTS[model] = meta
        return fn

    return register


def _strict(arguments: type[BaseModel], tool_name: str) -> type[BaseModel]:
    """The tool's argument model, refusing any argument it does not declare.

    A misspelled `dry_run` that was silently dropped would turn a preview into a real write, so
    an unknown name fails validation before the tool runs (nothing reaches the vendor), names the
    closest valid argument, and the input schema says `additionalProperties: false`.
    """
    known = [f.alias or n for n, f in arguments.model_fields.items()]

    def refuse_unknown(cls: type[BaseModel], data: Any) -> Any:
        unknown = [k for k in data if k not in known] if isinstance(data, dict) else []
        if unknown:
            raise PydanticCustomError("unknown_argument", "{problem} Nothing was done; {tool} takes {known}.", {
                "problem": " ".join(_unknown(k, known) for k in unknown), "tool": tool_name,
                "known": ", ".join(known) or "no arguments"})
        return data

    namespace = {"model_config": ConfigDict(extra="forbid", hide_input_in_errors=True, arbitrary_types_allowed=True),
                 "_refuse_unknown": model_validator(mode="before")(classmethod(refuse_unknown)),
                 "__module__": arguments.__module__}
    return type(arguments.__name__, (arguments,), namespace)


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or difflib.get_close_matches(
        _snake(name), known, n=1, cutoff=0.6)
    return f"Unknown argument '{name[:80]}'" + (f"; did you mean '{close[0]}'?" if close else ".")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
