"""The tools of a planning conversation: the catalog as Messages API tools, the submit_plan tool,
a submitted plan checked against the catalog, and the read-only tools run for Claude while it looks
at the data (write tools are refused: they can only be steps of the plan)."""

import inspect
import json
import re
from typing import Any

from ..plan import Catalog, Plan, PlanError, PlanStep

TOOL_RESULT_MAX_CHARS = 8000


def _wire_name(qualified: str) -> str:
    """A Messages API tool name (^[A-Za-z0-9_-]{1,64}$) for a qualified MCP tool name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", qualified.replace(".", "__"))[:64]


def catalog_tools(catalog: Catalog) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The catalog as Messages API tools, and the qualified name behind each tool's name on the wire."""
    tools: list[dict[str, Any]] = []
    qualified_of: dict[str, str] = {}
    for qualified in sorted(catalog.tools):
        spec = catalog.tools[qualified]
        wire = _wire_name(qualified)
        n = 2
        while wire in qualified_of or wire == "submit_plan":
            suffix = f"_{n}"
            wire = _wire_name(qualified)[: 64 - len(suffix)] + suffix
            n += 1
        qualified_of[wire] = qualified
        how = (
            "Read-only: runs when you call it."
            if spec.read_only
            else "Changes things: never call it directly; put it as a step in submit_plan."
        )
        schema = dict(spec.input_schema or {})
        schema.setdefault("type", "object")
        tools.append(
            {
                "name": wire,
                "description": f"{spec.description.strip()}\n\n[{qualified}] {how}".strip(),
                "input_schema": schema,
            }
        )
    return tools, qualified_of


def submit_plan_tool(qualified_names: list[str]) -> dict[str, Any]:
    """The tool Claude ends planning with; its step tools are limited to the catalog's names."""
    tool_name: dict[str, Any] = {"type": "string", "description": "Qualified tool name, e.g. wordpress.update_post."}
    if qualified_names:
        tool_name["enum"] = qualified_names
    return {
        "name": "submit_plan",
        "description": "Submit the plan: the tool steps that reach the goal, in order. Ends planning.",
        "input_schema": {
            "type": "object",
            "properties": {
                "steps": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "tool": tool_name,
                            "arguments": {
                                "type": "object",
                                "description": "Arguments fitting the tool's input schema.",
                            },
                            "why": {"type": "string", "description": "What this step is for, in one sentence."},
                        },
                        "required": ["tool", "arguments", "why"],
                    },
                },
                "notes": {"type": "string", "description": "Anything the reviewer of the plan should know."},
            },
            "required": ["steps"],
        },
    }


def check_plan(goal: str, answer: Any, catalog: Catalog, qualified_of: dict[str, str]) -> tuple[Plan | None, list[str]]:
    """The submitted plan once every step names a catalog tool with arguments that fit; else the problems."""
    if not isinstance(answer, dict) or not isinstance(answer.get("steps"), list):
        return None, ["submit_plan needs 'steps', a list of {tool, arguments, why}."]
    steps: list[PlanStep] = []
    problems: list[str] = []
    for i, raw in enumerate(answer["steps"], 1):
        if not isinstance(raw, dict):
            problems.append(f"step {i}: must be an object with tool, arguments and why.")
            continue
        tool = raw.get("tool")
        tool = qualified_of.get(tool, tool) if isinstance(tool, str) else tool
        arguments = raw.get("arguments", {})
        if not isinstance(tool, str) or not tool:
            problems.append(f"step {i}: 'tool' must be a qualified tool name.")
            continue
        if not isinstance(arguments, dict):
            problems.append(f"step {i} ({tool}): 'arguments' must be an object.")
            continue
        try:
            catalog.get(tool)
            catalog.check_arguments(tool, arguments)
        except PlanError as e:
            problems.append(f"step {i}: {e}")
            continue
        why = raw.get("why")
        steps.append(PlanStep(tool=tool, arguments=arguments, why=why.strip() if isinstance(why, str) else ""))
    if problems:
        return None, problems
    notes = answer.get("notes")
    return Plan(goal=goal, steps=steps, notes=notes.strip() if isinstance(notes, str) else "", planner="claude"), []


async def run_read_tool(
    call: Any, catalog: Catalog, qualified_of: dict[str, str], call_read_tool: Any
) -> dict[str, Any]:
    """A read-only tool run for Claude, as the tool_result it gets back; writes and bad arguments are refused."""
    qualified = qualified_of.get(call.name)
    if qualified is None:
        return tool_result(call.id, f"There is no tool '{call.name}'.", error=True)
    spec = catalog.tools[qualified]
    if not spec.read_only:
        return tool_result(
            call.id,
            (
                f"{qualified} changes things, so it is not run while planning: writes must go into submit_plan as "
                "steps, where they are previewed and approved before they run."
            ),
            error=True,
        )
    arguments = call.input if isinstance(call.input, dict) else {}
    try:
        catalog.check_arguments(qualified, arguments)
    except PlanError as e:
        return tool_result(call.id, f"{e}. Correct the arguments and call it again.", error=True)
    try:
        result = call_read_tool(qualified, arguments)
        if inspect.isawaitable(result):
            result = await result
    except Exception as e:  # a failed read is information for Claude, not the end of planning
        return tool_result(call.id, f"{qualified} failed: {e}", error=True)
    return tool_result(call.id, _cap(_json(result)))


def _json(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _cap(text: str) -> str:
    if len(text) <= TOOL_RESULT_MAX_CHARS:
        return text
    return (
        text[:TOOL_RESULT_MAX_CHARS] + f"\n... [cut: {len(text) - TOOL_RESULT_MAX_CHARS} more characters; "
        "ask for fewer rows]"
    )


def tool_result(tool_use_id: str, content: str, *, error: bool = False) -> dict[str, Any]:
    """A tool_result block answering Claude's tool call."""
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if error:
        block["is_error"] = True
    return block


def block_param(block: Any) -> dict[str, Any]:
    """An answer's content block, as it is sent back in the conversation."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(mode="json", exclude_none=True)
