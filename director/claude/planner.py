"""The Claude planner: the Planner jobs done by Claude through the official anthropic SDK.

Every answer comes back through a tool call, so it is structured data, and every answer is checked
before it is used: a snippet or subject line that does not fit gets one retry with the problem
stated; a plan is validated against the catalog (tool exists, arguments fit its schema) and gets
one chance to be corrected. While planning, Claude may run read-only tools to look at the data;
write tools are never run by the planner, they can only be steps of the submitted plan.

The anthropic SDK is imported on the first call (it takes seconds to import), so building a
planner, or finding none, costs nothing. API failures become PlannerError with a message that
says what happened and what to do; the API key never appears in one.
"""

import json
import os
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ..copy_quality import Ledger
from ..plan import Catalog, Plan
from ..planner import Finding, PageContext, PlannerError, Snippet, Usage
from ..snippets import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    EXCERPT_MAX,
    POST_TITLE_MAX,
    SUBJECT_MAX,
    TITLE_MAX,
    TITLE_MIN,
    description_problems,
)
from .copy_checks import (
    clean_text,
    field_copy_problems,
    normalised,
    query_words,
    record_snippet,
    record_subjects,
    snippet_copy_problems,
    subject_copy_problem,
    subject_problem,
    subject_template_problems,
    title_problems,
)
from .plan_tools import block_param, catalog_tools, check_plan, run_read_tool, submit_plan_tool, tool_result

DEFAULT_MODEL = "claude-sonnet-4-6"

# USD per million tokens (input, output) by model family, from Anthropic's public API pricing
# (https://www.anthropic.com/pricing, "API" section; the per-model table is also at
# https://docs.claude.com/en/docs/about-claude/pricing). Prompt-cache writes cost 1.25x and cache
# reads 0.1x the input price (5-minute cache). Models outside these families are charged as sonnet.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "sonnet": (3.0, 15.0),
    "haiku": (1.0, 5.0),
    "opus": (15.0, 75.0),
}
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1

SNIPPET_PROPERTIES = {
    "seo_title": {"type": "string", "description": f"{TITLE_MIN}-{TITLE_MAX} characters."},
    "meta_description": {"type": "string", "description": f"{DESCRIPTION_MIN}-{DESCRIPTION_MAX} characters."},
}
FIX_FIELDS = ("seo_title", "meta_description", "title", "excerpt")

MAX_PLAN_TURNS = 8

OFFLINE_HINT = "run without ANTHROPIC_API_KEY to use the offline planner"


def price_per_million(model: str) -> tuple[float, float]:
    """(input, output) USD per million tokens for `model`, by family; sonnet prices when unknown."""
    name = model.lower()
    for family, prices in PRICES_PER_MILLION.items():
        if family in name:
            return prices
    return PRICES_PER_MILLION["sonnet"]


@runtime_checkable
class _Secret(Protocol):
    """A secret wrapper such as pydantic's SecretStr."""

    def get_secret_value(self) -> str: ...


class ClaudePlanner:
    """A Planner backed by Claude (anthropic Messages API with tool use)."""

    name = "claude"

    def __init__(
        self,
        api_key: str | _Secret,
        *,
        model: str = DEFAULT_MODEL,
        http_client: Any = None,
        max_tokens: int = 1500,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, _Secret) else api_key
        if not secret or not str(secret).strip():
            raise ValueError("ClaudePlanner needs an Anthropic API key.")
        self._api_key = str(secret).strip()
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries  # the SDK's own retries (429, 5xx, 529, connection errors), with backoff
        self.usage = Usage()
        self.ledger = Ledger()  # the copy written so far, so no template repeats across pages and campaigns
        self._http_client = http_client  # an httpx2.AsyncClient (the SDK refuses httpx's)
        self._client: Any = None

    def __repr__(self) -> str:
        return f"ClaudePlanner(model={self.model!r})"

    # --- the Planner jobs -------------------------------------------------------------------

    async def snippet(self, page: PageContext) -> Snippet:
        main_words = query_words(page.queries[0]) if page.queries else []
        tool = {
            "name": "write_snippet",
            "description": "Return the new SEO title and meta description for the page.",
            "input_schema": {
                "type": "object",
                "properties": SNIPPET_PROPERTIES,
                "required": ["seo_title", "meta_description"],
            },
        }
        rules = [
            f"The SEO title has {TITLE_MIN}-{TITLE_MAX} characters.",
            f"The meta description has {DESCRIPTION_MIN}-{DESCRIPTION_MAX} characters: what the page gives "
            "the searcher and a reason to click.",
            "Names, brands and acronyms are written as the page writes them, even when the query is in lower "
            "case; the query is worked into a natural phrase, not pasted in; no filler (what to know, a "
            "practical guide, everything about); a pattern that fits this page, not one used on every page.",
        ]
        if main_words:
            rules.insert(
                1, f"The title contains the words of the top query ({', '.join(main_words)}), the most important first."
            )
        prompt = (
            f"Write a better search snippet for this page, to raise its click-through rate from search.\n\n"
            f"{_page_text(page)}\n\nRules:\n"
            + "\n".join(f"- {r}" for r in rules)
            + "\n\nAnswer by calling write_snippet."
        )

        def check(answer: dict[str, Any]) -> tuple[Snippet | None, list[str]]:
            title = clean_text(answer.get("seo_title"))
            description = clean_text(answer.get("meta_description"))
            problems = title_problems(title, main_words) + description_problems(description)
            problems += snippet_copy_problems(page, title, description, self.ledger)
            if (
                not problems
                and title == (page.seo_title or "").strip()
                and description == (page.meta_description or "").strip()
            ):
                problems.append("The title and description are the page's current ones; write better ones.")
            return (None if problems else Snippet(seo_title=title, meta_description=description)), problems

        snippet = await self._ask(SYSTEM_WRITER, prompt, tool, check, "a search snippet")
        record_snippet(self.ledger, page, snippet.seo_title, snippet.meta_description)
        return snippet

    async def subject_lines(self, subject: str, *, audience: str = "", count: int = 3) -> list[str]:
        if not 1 <= count <= 20:
            raise ValueError("count must be between 1 and 20")
        tool = {
            "name": "write_subject_lines",
            "description": f"Return {count} new subject lines.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "subject_lines": {
                        "type": "array",
                        "minItems": count,
                        "maxItems": count,
                        "items": {"type": "string", "maxLength": SUBJECT_MAX},
                    }
                },
                "required": ["subject_lines"],
            },
        }
        prompt = (
            f"This email subject line under-performs: {json.dumps(subject, ensure_ascii=False)}\n"
            + (f"Audience: {audience}\n" if audience else "")
            + f"\nWrite {count} new subject lines to test against it, each taking a different angle.\n"
            "Rules:\n"
            f"- at most {SUBJECT_MAX} characters each (shorter is usually better);\n"
            "- different from the original and from each other;\n"
            "- no spam-filter words (free, act now, urgent, guarantee, click here, ...), no ALL CAPS words, "
            "no more than one exclamation mark;\n"
            "- names and brands written as the original writes them; no filler; each line a different "
            "pattern, not one template with the words swapped.\n"
            "Answer by calling write_subject_lines."
        )
        original = normalised(subject)

        def check(answer: dict[str, Any]) -> tuple[list[str] | None, list[str]]:
            lines = answer.get("subject_lines")
            if not isinstance(lines, list):
                return None, ["subject_lines must be a list of strings."]
            good: list[str] = []
            problems: list[str] = []
            for raw in lines:
                line = clean_text(raw)
                problem = subject_problem(line, original, {normalised(g) for g in good}) or subject_copy_problem(
                    line, subject, audience
                )
                if problem:
                    problems.append(f"{json.dumps(line, ensure_ascii=False)}: {problem}")
                else:
                    good.append(line)
            if len(good) >= count:
                templates = subject_template_problems(good[:count], subject, audience, self.ledger)
                return (None, problems + templates) if templates else (good[:count], [])
            problems.append(f"{len(good)} of the {count} subject lines are usable; {count} are needed.")
            return None, problems

        lines = await self._ask(SYSTEM_WRITER, prompt, tool, check, "subject lines")
        record_subjects(self.ledger, lines, subject, audience)
        return lines

    async def fix(self, page: PageContext, findings: list[Finding]) -> dict[str, Any]:
        if not findings:
            return {}
        tool = {
            "name": "write_fixes",
            "description": "Return the CMS fields to set. Leave out every field that needs no change; "
            "return an empty object when no finding can be fixed by changing these fields.",
            "input_schema": {
                "type": "object",
                "properties": {
                    **SNIPPET_PROPERTIES,
                    "title": {
                        "type": "string",
                        "description": f"The post's title (its h1), at most {POST_TITLE_MAX} characters.",
                    },
                    "excerpt": {"type": "string", "description": f"At most {EXCERPT_MAX} characters."},
                },
                "additionalProperties": False,
            },
        }
        listed = "\n".join(
            f"- [{f.severity}] {f.check}: {f.message}" + (f" Suggested fix: {f.fix}" if f.fix else "") for f in findings
        )
        prompt = (
            f"A page audit found these problems:\n{listed}\n\n{_page_text(page)}\n\n"
            "Some of them can be fixed by changing the page's content fields (seo_title, meta_description, "
            "title, excerpt); others need a developer (templates, speed, markup) and are not yours to fix. "
            "Set only the fields that fix a finding above.\n"
            f"Rules: seo_title {TITLE_MIN}-{TITLE_MAX} characters; meta_description "
            f"{DESCRIPTION_MIN}-{DESCRIPTION_MAX} characters; title at most {POST_TITLE_MAX}; excerpt at most "
            f"{EXCERPT_MAX}.\nAnswer by calling write_fixes (an empty object when content cannot fix any)."
        )
        current = {"seo_title": page.seo_title, "meta_description": page.meta_description, "title": page.title}

        def check(answer: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
            fields: dict[str, Any] = {}
            problems: list[str] = []
            for key in FIX_FIELDS:
                value = answer.get(key)
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                if not isinstance(value, str):
                    problems.append(f"{key} must be a string.")
                    continue
                value = value.strip()
                if value == (current.get(key) or "").strip():
                    continue  # no change
                if key == "seo_title":
                    problems += title_problems(value, [])
                elif key == "meta_description":
                    problems += description_problems(value)
                elif key == "title" and len(value) > POST_TITLE_MAX:
                    problems.append(f"The title has {len(value)} characters; at most {POST_TITLE_MAX}.")
                elif key == "excerpt" and len(value) > EXCERPT_MAX:
                    problems.append(f"The excerpt has {len(value)} characters; at most {EXCERPT_MAX}.")
                problems += field_copy_problems(page, key, value)
                fields[key] = value
            return (None if problems else fields), problems

        return await self._ask(SYSTEM_WRITER, prompt, tool, check, "page fixes")

    async def plan(self, goal: str, catalog: Catalog, call_read_tool: Any) -> Plan:
        tools, qualified_of = catalog_tools(catalog)
        tools.append(submit_plan_tool(sorted(catalog.tools)))
        messages: list[dict[str, Any]] = [
            {
                "role": "user",
                "content": (
                    f"Goal: {goal}\n\nLook at the data you need with the read-only tools, then call submit_plan "
                    "with the steps that reach the goal."
                ),
            }
        ]
        plan_corrections = 1
        for turn in range(MAX_PLAN_TURNS):
            last_turn = turn == MAX_PLAN_TURNS - 1
            choice = {"type": "tool", "name": "submit_plan"} if last_turn else {"type": "auto"}
            response = await self._create(system=SYSTEM_PLANNER, messages=messages, tools=tools, tool_choice=choice)
            calls = [b for b in response.content if b.type == "tool_use"]
            if not calls:
                raise PlannerError(_no_tool_call(response, "a plan", self.max_tokens))
            results: list[dict[str, Any]] = []
            for call in calls:
                if call.name == "submit_plan":
                    plan, problems = check_plan(goal, call.input, catalog, qualified_of)
                    if plan is not None:
                        return plan
                    if plan_corrections == 0:
                        raise PlannerError(
                            "Claude's plan did not validate after a correction: "
                            + _sentences(problems)
                            + f" Try a narrower goal, or {OFFLINE_HINT}."
                        )
                    plan_corrections -= 1
                    results.append(
                        tool_result(
                            call.id,
                            "The plan was not accepted:\n- "
                            + "\n- ".join(problems)
                            + "\nFix these steps and call submit_plan again.",
                            error=True,
                        )
                    )
                else:
                    results.append(await run_read_tool(call, catalog, qualified_of, call_read_tool))
            messages.append({"role": "assistant", "content": [block_param(b) for b in response.content]})
            messages.append({"role": "user", "content": results})
        raise PlannerError(
            f"Claude did not submit a valid plan within {MAX_PLAN_TURNS} turns; try a narrower goal, or {OFFLINE_HINT}."
        )

    async def aclose(self) -> None:
        """Close the SDK client (and with it an http_client it was given)."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- the API ----------------------------------------------------------------------------

    def _sdk_client(self) -> Any:
        if self._client is None:
            import anthropic

            kwargs: dict[str, Any] = {
                "api_key": self._api_key,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
            }
            if self._http_client is not None:
                kwargs["http_client"] = self._http_client
            self._client = anthropic.AsyncAnthropic(**kwargs)
        return self._client

    async def _create(self, **kwargs: Any) -> Any:
        """One Messages API call; usage recorded, failures and refusals turned into PlannerError."""
        client = self._sdk_client()
        import anthropic

        try:
            response = await client.messages.create(model=self.model, max_tokens=self.max_tokens, **kwargs)
        except anthropic.APIStatusError as e:
            raise PlannerError(self._scrub(self._status_message(e))) from None
        except anthropic.APITimeoutError:
            raise PlannerError(
                f"Claude did not answer within {self.timeout:g} s; try again, raise the timeout, or {OFFLINE_HINT}."
            ) from None
        except anthropic.APIConnectionError as e:
            cause = f": {e.__cause__}" if e.__cause__ else ""
            raise PlannerError(
                self._scrub(
                    f"Could not reach Claude's API{cause}; check the network connection "
                    f"(and any proxy settings), or {OFFLINE_HINT}."
                )
            ) from None
        except anthropic.APIResponseValidationError:
            raise PlannerError(
                f"Claude's API answered with data this planner cannot read; update the anthropic "
                f"package, or {OFFLINE_HINT}."
            ) from None
        self._record(response.usage)
        if response.stop_reason == "refusal":
            raise PlannerError(
                f"Claude declined to answer this request (stop_reason 'refusal'); rephrase the goal, or {OFFLINE_HINT}."
            )
        return response

    def _status_message(self, e: Any) -> str:
        status = e.status_code
        detail = f": {e.api_message}" if getattr(e, "api_message", None) else ""
        if status == 401:
            return (
                f"Claude rejected the API key (HTTP 401{detail}); check ANTHROPIC_API_KEY, or unset it to use "
                "the offline planner."
            )
        if status == 403:
            return (
                f"This API key may not use {self.model} (HTTP 403{detail}); check the key's workspace and "
                f"permissions, or {OFFLINE_HINT}."
            )
        if status == 404:
            return (
                f"Claude's API does not know the model '{self.model}' (HTTP 404{detail}); set "
                f"MARKETING_MCP_CLAUDE_MODEL to a current model (e.g. {DEFAULT_MODEL})."
            )
        if status == 413:
            return (
                f"The request was too large for Claude (HTTP 413); try a narrower goal or fewer tools, or "
                f"{OFFLINE_HINT}."
            )
        if status == 429:
            wait = e.response.headers.get("retry-after")
            when = f"in {wait} s" if wait and wait.isdigit() else "later"
            return f"Claude is rate limiting this key (HTTP 429{detail}); try again {when} or {OFFLINE_HINT}."
        if status == 529:
            return f"Claude is overloaded (HTTP 529); try again in a few minutes or {OFFLINE_HINT}."
        if status >= 500:
            return f"Claude's API failed (HTTP {status}{detail}); try again later or {OFFLINE_HINT}."
        return f"Claude's API refused the request (HTTP {status}{detail}); if it persists, {OFFLINE_HINT}."

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[API key]")

    def _record(self, usage: Any) -> None:
        if usage is None:
            return
        fresh = usage.input_tokens or 0
        written = getattr(usage, "cache_creation_input_tokens", None) or 0
        read = getattr(usage, "cache_read_input_tokens", None) or 0
        output = usage.output_tokens or 0
        price_in, price_out = price_per_million(self.model)
        cost = (
            fresh + written * CACHE_WRITE_FACTOR + read * CACHE_READ_FACTOR
        ) * price_in / 1e6 + output * price_out / 1e6
        self.usage.add(Usage(input_tokens=fresh + written + read, output_tokens=output, cost_usd=cost, calls=1))

    async def _ask(self, system: str, prompt: str, tool: dict[str, Any], check: Any, what: str) -> Any:
        """Force a call of `tool`; check the answer, retry once with the problems stated, then give up."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        choice = {"type": "tool", "name": tool["name"]}
        problems: list[str] = []
        for _ in range(2):  # the first answer, then one retry with its problems stated
            response = await self._create(system=system, messages=messages, tools=[tool], tool_choice=choice)
            call = next((b for b in response.content if b.type == "tool_use" and b.name == tool["name"]), None)
            if call is None:
                raise PlannerError(_no_tool_call(response, what, self.max_tokens))
            result, problems = check(call.input if isinstance(call.input, dict) else {})
            if result is not None:
                return result
            messages.append({"role": "assistant", "content": [block_param(b) for b in response.content]})
            messages.append(
                {
                    "role": "user",
                    "content": [
                        tool_result(
                            call.id,
                            (
                                "This answer does not fit:\n- "
                                + "\n- ".join(problems)
                                + f"\nCall {tool['name']} again with an answer that fixes these problems."
                            ),
                            error=True,
                        )
                    ],
                }
            )
        raise PlannerError(
            f"Claude could not give {what} that fits, even after a retry: "
            + _sentences(problems)
            + f" Try again, or {OFFLINE_HINT}."
        )


def from_environment(environ: Mapping[str, str] | None = None, **kwargs: Any) -> ClaudePlanner | None:
    """A ClaudePlanner when ANTHROPIC_API_KEY is set (model from MARKETING_MCP_CLAUDE_MODEL), else None."""
    env = os.environ if environ is None else environ
    key = (env.get("ANTHROPIC_API_KEY") or "").strip()
    if not key:
        return None
    model = (env.get("MARKETING_MCP_CLAUDE_MODEL") or "").strip()
    if model:
        kwargs.setdefault("model", model)
    return ClaudePlanner(key, **kwargs)


# --- prompts ---------------------------------------------------------------------------------

SYSTEM_WRITER = (
    "You write marketing copy for websites and emails: specific, honest, in the page's language, "
    "with no clickbait and no claims the content does not support. You always answer by calling the "
    "tool you are given, and you respect every length limit exactly (count the characters)."
)

SYSTEM_PLANNER = (
    "You plan marketing work for an automated Director. The tools you are given are MCP tools of the client's "
    "marketing servers; their names are the server-qualified names with '.' written as '__' "
    "(search-console__ctr_opportunities is search-console.ctr_opportunities).\n"
    "- Read-only tools run when you call them: use them to look at the data you need, asking for few rows.\n"
    "- Tools that change things (publish, send, update, spend) are never run while planning: put them as steps of "
    "the plan instead. The Director previews every write (dry_run) and asks for approval before it runs, so leave "
    "dry_run out unless the goal asks for a preview.\n"
    "- Finish by calling submit_plan. Each step names its tool by the qualified name with the dot "
    "(wordpress.update_post), gives arguments that fit the tool's input schema, and says why in one sentence.\n"
    "- Plan only what the goal needs; if nothing needs doing, submit an empty plan and say why in notes."
)


def _page_text(page: PageContext) -> str:
    queries = "\n".join(f"  {i}. {q}" for i, q in enumerate(page.queries[:10], 1)) or "  (none known)"
    lines = [
        f"URL: {page.url}",
        f"Post title: {page.title}",
        f"Current SEO title: {page.seo_title or '(none)'}",
        f"Current meta description: {page.meta_description or '(none)'}",
        f"Search queries it shows for, most impressions first:\n{queries}",
    ]
    if page.body_excerpt:
        lines.append(f"Start of the page's text:\n{page.body_excerpt[:2000]}")
    return "\n".join(lines)


def _sentences(problems: list[str]) -> str:
    return "; ".join(p.rstrip(".") for p in problems) + "."


def _no_tool_call(response: Any, what: str, max_tokens: int) -> str:
    if response.stop_reason in ("max_tokens", "model_context_window_exceeded"):
        return (
            f"Claude's answer for {what} was cut off (stop_reason '{response.stop_reason}', max_tokens "
            f"{max_tokens}); raise max_tokens, or {OFFLINE_HINT}."
        )
    said = " ".join(b.text for b in response.content if b.type == "text").strip()
    return (
        f"Claude declined to give {what}"
        + (f": {said[:300]}" if said else " (no tool call in its answer)")
        + f"; rephrase the request, or {OFFLINE_HINT}."
    )
