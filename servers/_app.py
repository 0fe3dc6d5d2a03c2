"""Plumbing shared by every server: dependencies, budgets, annotations, error translation.

A server is built with `new_server` (name, instructions, version, lifespan) and a tool is
registered with `@tool(server, READ, summary=...)`. The decorator spends the tool's budget under
the call's deadline, passes the host's progress token to the adapters (`adapters.progress`),
turns `AdapterError` into an `is_error` result the model can act on (the second and last
translation), and returns structured content with the same data in its text, after a summary line. Destructive tools ask
the user with `confirm` when the host can elicit. Servers never read mcp.json or the environment:
`suite` builds `Deps`.
"""

import asyncio
import difflib
import functools
import inspect
import json
import logging
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult, ContentBlock, ElicitResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from adapters.errors import AdapterError
from adapters.progress import listening
from adapters.ratelimit import Budget, Rate, RateLimiter
from adapters.timing import deadline_after, restart_deadline

log = logging.getLogger("marketing_mcp.tools")

A = TypeVar("A")

M = TypeVar("M", bound=BaseModel)

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
DRAFT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
PUBLISH = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)
SEND = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)

DEFAULT_TOOL_RATE = Rate(120, 60.0, burst=20)
_OUTPUTS: dict[type, FuncMetadata] = {}  # the first tool's output schema per result model, shared by the others
_TOOL_NAMES: "weakref.WeakKeyDictionary[MCPServer, list[str]]" = weakref.WeakKeyDictionary()


@dataclass
class Deps(Generic[A]):
    """What a server's tools need, built by the composition root and handed in by the lifespan.

    The adapter is built on first use, so a server answers `initialize` before it has
    talked to any vendor, and a missing credential is a tool error rather than a crash.
    """

    client: str
    server: str
    make_adapter: Callable[[], Awaitable[A]]
    tool_rates: dict[str, Rate] = field(default_factory=dict[str, Rate])
    default_rate: Rate = DEFAULT_TOOL_RATE
    deadline_seconds: float = 60.0
    _adapter: A | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _budgets: dict[str, RateLimiter] = field(default_factory=dict[str, RateLimiter])

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
    async def call(self, tool: str) -> AsyncGenerator[None]:
        """One tool call: a deadline for everything below it, then the tool's budget."""
        with deadline_after(self.deadline_seconds):
            await self.budget(tool).spend()
            yield

    async def aclose(self) -> None:
        close = getattr(self._adapter, "aclose", None)
        if close is not None:
            await close()


ServerContext = Context[Deps[A], Any]
"""A tool's context where the adapter is an `A`: with `ctx: ServerContext[CMS]`, `await adapter_of(ctx)` is a CMS."""


def deps_of(ctx: Context[Deps[A], Any]) -> Deps[A]:
    return ctx.request_context.lifespan_context


async def adapter_of(ctx: Context[Deps[A], Any]) -> A:
    return await deps_of(ctx).adapter()


def new_server(name: str, instructions: str, build_deps: Callable[[], Deps[Any]]) -> MCPServer:
    """Every server of the suite: its name, the package version, and a lifespan that builds its Deps."""
    from . import __version__  # a constant: importlib.metadata would cost a start about 30 ms

    return MCPServer(name, instructions=instructions, version=__version__, lifespan=lifespan_for(build_deps))


def lifespan_for(build: Callable[[], Deps[A]]) -> Callable[[MCPServer], AbstractAsyncContextManager[Deps[A]]]:
    """A server lifespan that builds the Deps at start and closes its clients at exit."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncGenerator[Deps[A]]:
        deps = build()
        try:
            yield deps
        finally:
            await deps.aclose()

    return lifespan


ERROR_META = "marketing-mcp/error"
"""The `_meta` key of an error result: {type, message, hint, retry_after?} for clients that act on the type."""


def error_result(exc: AdapterError) -> CallToolResult:
    """An `is_error` result whose text says everything: what failed, what to do next, the error type.

    No structured content: TypeScript-SDK hosts validate it against the tool's outputSchema even
    on errors and would show a schema mismatch instead of the message. Clients that act on the
    type (the Director) read it from `_meta`.
    """
    kind = exc.code
    error: dict[str, Any] = {"type": kind, "message": exc.message, "hint": exc.hint}
    text = exc.message + (f" Next: {exc.hint}" if exc.hint else "") + f" [{kind}"
    if exc.retry_after is not None:
        error["retry_after"] = exc.retry_after
        text += f", retry_after={exc.retry_after:g}s"
    return CallToolResult(content=[TextContent(type="text", text=text + "]")], is_error=True, _meta={ERROR_META: error})


class Declined(AdapterError):
    """The user said no (or closed the question) when a destructive tool asked: nothing was done."""

    code = "declined"
    hint = "Do not retry on your own: ask the user what to change, or show them the preview (dry_run=true) first."


class Confirmation(BaseModel):
    confirm: bool = Field(title="Go ahead", description="Yes, do it.")


CONFIRM_KEY = "marketing-mcp/confirm"  # the input request's key on 2026-07-28 connections
_MODERN = "2026-07-28"  # from this revision on a server asks by returning InputRequiredResult


class _AskFirst(Exception):
    """Raised by `confirm` on a 2026-07-28 connection: the call ends with the question; the host asks
    the user and calls again with the answer, and the tool runs again up to `confirm`."""

    def __init__(self, result: InputRequiredResult):
        self.result = result


def can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the host declared form elicitation (an empty `elicitation: {}` means form) and can be asked now."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    return _input_required(ctx) or ctx.session.can_send_request


def _input_required(ctx: Context[Any, Any]) -> bool:
    from mcp_types.version import is_version_at_least

    return ctx.protocol_version is not None and is_version_at_least(ctx.protocol_version, _MODERN)


async def confirm(ctx: Context[Deps[Any], Any], question: str, nothing: str) -> None:
    """Ask the user `question` (yes/no) before a destructive action, when the host can elicit.

    Returns when the user said yes, or when the host cannot ask: then `dry_run` previews and the
    Director's approvals stay the gate, as before. Raises `Declined` (whose message says `nothing`,
    e.g. "Nothing was sent.") on no, decline or cancel. Call it after the preview, with the real
    stakes in the question, and only for a call that is not a dry run.
    """
    if not can_elicit(ctx):
        return
    if _input_required(ctx):
        answer = _answer(ctx, question)
    else:
        result = await ctx.elicit(question, Confirmation)
        answer = result.action == "accept" and result.data.confirm
        restart_deadline(deps_of(ctx).deadline_seconds)  # the time the user took is not the vendor's
    if not answer:
        log.info("%s: the user did not confirm", deps_of(ctx).server)
        raise Declined(f"The user did not confirm: {question} {nothing}")


def _answer(ctx: Context[Any, Any], question: str) -> bool:
    """This round's answer to exactly `question`; asks it (ends the round) when there is none yet.

    `request_state` is sealed by the SDK and carries a digest of the question the user saw: if the
    stakes changed between the rounds (more recipients, another title), the user is asked again.
    """
    import hashlib

    from mcp.server.elicitation import render_elicitation_schema
    from mcp.types import ElicitRequest, ElicitRequestFormParams

    asked = hashlib.sha256(question.encode()).hexdigest()[:32]
    reply = (ctx.input_responses or {}).get(CONFIRM_KEY)
    if reply is not None and ctx.request_state == asked:
        return (
            isinstance(reply, ElicitResult)
            and reply.action == "accept"
            and (reply.content or {}).get("confirm") is True
        )
    request = ElicitRequest(
        params=ElicitRequestFormParams(message=question, requested_schema=render_elicitation_schema(Confirmation))
    )
    raise _AskFirst(InputRequiredResult(input_requests={CONFIRM_KEY: request}, request_state=asked))


def _progress_of(ctx: Context[Any, Any]) -> Callable[[float, float | None, str | None], Awaitable[None]]:
    """The adapters' progress listener for one call: increasing values only, and never the call's failure."""
    last = float("-inf")

    async def report(done: float, total: float | None, message: str | None) -> None:
        nonlocal last
        if done <= last:  # concurrent batches may finish out of order
            return
        last = done
        try:
            await ctx.report_progress(done, total, message)  # a no-op when the request carried no token
        except Exception:
            log.debug("progress notification not delivered", exc_info=True)

    return report


RESOURCE_CHARS = 60_000  # a resource is context for a model: small, or it is not read


def resource(
    server: MCPServer, uri: str, *, name: str, description: str
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a read-only JSON resource (template) whose function returns a pydantic model or dict.

    It runs under the same deadline and per-tool budget as a tool (named `resource:<name>`); an
    AdapterError becomes a ResourceError whose text says what to do, and the JSON is capped.
    """

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def read(**kwargs: Any) -> str:
            from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

            from adapters.errors import NotFound

            ctx = kwargs["ctx"]
            deps = deps_of(ctx)
            try:
                async with deps.call(f"resource:{name}"):
                    value = await fn(**kwargs)
            except AdapterError as exc:
                log.info("%s/resource %s failed: %s", deps.server, name, type(exc).__name__)
                text = exc.message + (f" Next: {exc.hint}" if exc.hint else "")
                raise (ResourceNotFoundError if isinstance(exc, NotFound) else ResourceError)(text) from None
            data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            if len(body) > RESOURCE_CHARS:
                raise ResourceError(f"{uri} is larger than {RESOURCE_CHARS} characters; use the tools instead.")
            return body

        server.resource(uri, name=name, description=description, mime_type="application/json")(read)
        return fn

    return register


def with_data(summary: str, data: dict[str, Any]) -> str:
    """The summary line, then the data as compact JSON: hosts that show a model only `content` lose nothing."""
    return f"{summary}\n{json.dumps(data, ensure_ascii=False, separators=(',', ':'))}"


def tool(
    server: MCPServer,
    annotations: ToolAnnotations,
    *,
    summary: Callable[[Any], str],
    name: str | None = None,
    title: str | None = None,
    media: Callable[[Any], Sequence[ContentBlock]] | None = None,
) -> Callable[[Callable[..., Awaitable[M]]], Callable[..., Awaitable[M]]]:
    """Register an async tool function whose return annotation is a pydantic model.

    `media` adds content blocks (e.g. an image) after the text summary; fields the model marks
    `exclude=True` stay out of the structured content (no image twice).
    """

    def register(fn: Callable[..., Awaitable[M]]) -> Callable[..., Awaitable[M]]:
        tool_name = name or fn.__name__
        signature = inspect.signature(fn, eval_str=True)
        model = signature.return_annotation

        @functools.wraps(fn)
        async def run(**kwargs: Any) -> CallToolResult | InputRequiredResult:
            ctx = kwargs["ctx"]
            deps = deps_of(ctx)
            try:
                async with deps.call(tool_name):
                    with listening(_progress_of(ctx)):
                        result = await fn(**kwargs)
            except AdapterError as exc:
                log.info("%s/%s failed: %s", deps.server, tool_name, type(exc).__name__)
                return error_result(exc)
            except _AskFirst as ask:
                return ask.result
            except Exception:
                log.exception("%s/%s crashed", deps.server, tool_name)
                return CallToolResult(
                    content=[
                        TextContent(
                            type="text",
                            text=f"{tool_name} failed with an internal error; the details "
                            "are in the server's log. Report it if it persists.",
                        )
                    ],
                    is_error=True,
                )
            data = result.model_dump(mode="json")
            content: list[ContentBlock] = [
                TextContent(type="text", text=with_data(summary(result), data)),
                *(media(result) if media else []),
            ]
            return CallToolResult(content=content, structured_content=data)

        # The SDK derives the output schema from this (it strips the InputRequiredResult arm, which
        # `confirm` returns on 2026-07-28 connections); the content is built above.
        returns = Annotated[CallToolResult, model] | InputRequiredResult
        run.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]  # read by inspect
        first = _OUTPUTS.get(model)
        derived = Tool.from_function(
            run,
            name=tool_name,
            title=title,
            annotations=annotations,
            description=inspect.getdoc(fn),
            structured_output=False if first else None,
        )
        output = first or derived.fn_metadata
        if first is None:
            _OUTPUTS[model] = output
        arguments = _strict(derived.fn_metadata.arg_model, tool_name)
        # One published schema per result model, however many tools return it: given a schema,
        # FuncMetadata does not derive it again (each derivation costs milliseconds at start-up).
        meta = FuncMetadata(
            arg_model=arguments,
            output_schema=output.output_schema,
            output_model=output.output_model,
            wrap_output=output.wrap_output,
        )
        # The strict model's schema is the derived one refusing extra properties (forbidding extras
        # changes nothing else; tests/servers/test_unknown_arguments.py checks it for every tool),
        # so it is not generated a second time.
        _register(
            server,
            derived.model_copy(
                update={"fn_metadata": meta, "parameters": {**derived.parameters, "additionalProperties": False}}
            ),
        )
        return fn

    return register


def tool_names(server: MCPServer) -> list[str]:
    """The names of the tools registered on `server` with `tool`, in registration order (no I/O, no event loop)."""
    return list(_TOOL_NAMES.get(server, ()))


def _register(server: MCPServer, built: Tool) -> None:
    """SDK seam: add a Tool we built (strict arguments, a shared output schema) to `server`.

    mcp 2.3 takes ready Tool objects only in MCPServer's constructor (`tools=[...]`); after that its
    public `add_tool` takes a function and derives the Tool itself, with no way to pass ours. This
    is the one place that reaches into the SDK's tool manager; tests/servers/test_sdk_seams.py
    fails with a clear message when the SDK changes it.
    """
    tools: dict[str, Tool] = server._tool_manager._tools  # pyright: ignore[reportPrivateUsage]  # mcp 2.3 has no public way to add a built Tool (see above)
    if built.name in tools:
        log.warning("Tool already exists: %s", built.name)  # as the SDK's add_tool: the first one stays
        return
    tools[built.name] = built
    _TOOL_NAMES.setdefault(server, []).append(built.name)


def _strict(arguments: type[M], tool_name: str) -> type[M]:
    """The tool's argument model, refusing any argument it does not declare.

    A misspelled `dry_run` that was silently dropped would turn a preview into a real write, so
    an unknown name fails validation before the tool runs (nothing reaches the vendor), names the
    closest valid argument, and the input schema says `additionalProperties: false`.
    """
    known = [f.alias or n for n, f in arguments.model_fields.items()]

    def refuse_unknown(data: object) -> object:
        if not isinstance(data, dict):
            return data  # not arguments: the model's own validation says what is wrong
        given = cast("dict[str, Any]", data)
        if unknown := [k for k in given if k not in known]:
            raise PydanticCustomError(
                "unknown_argument",
                "{problem} Nothing was done; {tool} takes {known}.",
                {
                    "problem": " ".join(_unknown(k, known) for k in unknown),
                    "tool": tool_name,
                    "known": ", ".join(known) or "no arguments",
                },
            )
        return given

    namespace = {
        "model_config": ConfigDict(extra="forbid", hide_input_in_errors=True, arbitrary_types_allowed=True),
        "_refuse_unknown": model_validator(mode="before")(refuse_unknown),
        "__module__": arguments.__module__,
    }
    return cast("type[M]", type(arguments.__name__, (arguments,), namespace))


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or difflib.get_close_matches(
        _snake(name), known, n=1, cutoff=0.6
    )
    return f"Unknown argument '{name[:80]}'" + (f"; did you mean '{close[0]}'?" if close else ".")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
