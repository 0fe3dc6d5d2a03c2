"""What the Director knows about tools, and plans as typed data.

Tools are known by server-qualified names ("wordpress.update_post") with the annotations and
schemas their servers publish. A plan is a list of tool steps; it is validated against the
catalog (the tool exists, the arguments fit its input schema, the client's policy allows it)
before anything runs.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field


class PlanError(ValueError):
    """A plan that must not run: unknown tool, arguments that do not fit, or outside policy."""


@dataclass(frozen=True)
class ToolSpec:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    read_only: bool = False
    destructive: bool = True  # MCP's default when a server says nothing
    idempotent: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.name}"

    @property
    def takes_dry_run(self) -> bool:
        return "dry_run" in (self.input_schema.get("properties") or {})


@dataclass
class Catalog:
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)  # built once per tool

    def add(self, spec: ToolSpec) -> None:
        self.tools[spec.qualified] = spec

    def get(self, qualified: str) -> ToolSpec:
        try:
            return self.tools[qualified]
        except KeyError:
            near = ", ".join(sorted(t for t in self.tools if t.split(".")[-1] == qualified.split(".")[-1])[:5])
            raise PlanError(
                f"There is no tool '{qualified}'" + (f" (did you mean {near}?)" if near else "") + "."
            ) from None

    def check_arguments(self, qualified: str, arguments: dict[str, Any]) -> None:
        """Raise PlanError when the arguments do not fit the tool's input schema."""
        validator = self._validators.get(qualified)
        if validator is None:
            import jsonschema

            validator = self._validators[qualified] = jsonschema.Draft202012Validator(self.get(qualified).input_schema)
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            raise PlanError(
                f"Arguments for {qualified} do not fit its schema: "
                + "; ".join(f"{'/'.join(str(p) for p in e.path) or '(arguments)'}: {e.message}" for e in errors[:5])
            )


class PlanStep(BaseModel):
    tool: str = Field(description="Server-qualified tool name, e.g. 'wordpress.update_post'.")
    arguments: dict[str, Any] = Field(default_factory=dict)
    why: str = Field(default="", description="What this step is for, in one sentence.")


class Plan(BaseModel):
    goal: str
    steps: list[PlanStep] = Field(default_factory=list)
    notes: str = ""
    planner: Literal["offline", "claude"] = "offline"
