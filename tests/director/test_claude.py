"""The Claude planner against a Messages API mocked on the wire (httpx2.MockTransport): no network."""

import json
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from director.claude import ClaudePlanner, from_environment, price_per_million
from director.plan import Catalog, PlanError, ToolSpec
from director.planner import Finding, PageContext, PlannerError

KEY = "sk-ant-test-key-0123456789-never-shown"
MODEL = "claude-sonnet-4-6"
ROOT = Path(__file__).resolve().parents[2]

Responder = Callable[[dict[str, Any]], Any]


class FakeClaude:
    """Answers /v1/messages with scripted replies (one per request) and records every request body."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/v1/messages"
        # anthropic 2.x sends the key as a bearer token; 0.x sent x-api-key.
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        assert KEY in (request.headers.get("x-api-key"), bearer)
        body = json.loads(request.content)
        self.requests.append(body)
        assert self.replies, f"unexpected request #{len(self.requests)}"
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(body)
        if isinstance(reply, httpx2.Response):
            return reply
        return httpx2.Response(200, json=reply)

    def planner(self, **kwargs: Any) -> ClaudePlanner:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler))
        return ClaudePlanner(KEY, http_client=client, **kwargs)


def message(
    *content: dict[str, Any],
    stop_reason: str = "tool_use",
    input_tokens: int = 1000,
    output_tokens: int = 100,
    model: str = MODEL,
) -> dict[str, Any]:
    return {
        "id": "msg_01Test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


_ids = iter(range(1, 10_000))


def tool_use(name: str, input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": input}


def error(status: int, kind: str, text: str, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, json={"type": "error", "error": {"type": kind, "message": text}})


def user_text(body: dict[str, Any]) -> str:
    first = body["messages"][0]["content"]
    return first if isinstance(first, str) else json.dumps(first)


def last_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    last = body["messages"][-1]
    assert last["role"] == "user"
    return [b for b in last["content"] if b["type"] == "tool_result"]


PAGE = PageContext(
    url="https://shop.example/blog/trail-running-shoes",
    title="Our guide to trail running shoes",
    seo_title="Trail shoes",
    meta_description=None,
    queries=["best trail running shoes", "trail shoes for beginners"],
    body_excerpt="Trail running shoes grip rocks and mud. We tested twelve pairs over 400 km.",
)
GOOD_TITLE = "Best Trail Running Shoes of 2025: 12 Pairs Tested"  # 49 characters
GOOD_DESCRIPTION = (
    "We ran 400 km in twelve pairs of trail running shoes. See which ones grip, last and fit "
    "best, from first trails to ultras."
)  # 121 characters


# --- snippet -----------------------------------------------------------------------------------


async def test_snippet_is_a_forced_tool_call_and_records_usage_and_cost():
    def answer(body):
        assert body["model"] == MODEL
        assert body["max_tokens"] == 1500
        assert [t["name"] for t in body["tools"]] == ["write_snippet"]
        assert body["tool_choice"] == {"type": "tool", "name": "write_snippet"}
        text = user_text(body)
        assert PAGE.url in text and "best trail running shoes" in text and "Trail shoes" in text
        return message(
            tool_use("write_snippet", {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION}),
            input_tokens=1200,
            output_tokens=80,
        )

    fake = FakeClaude(answer)
    planner = fake.planner()
    snippet = await planner.snippet(PAGE)
    assert snippet.seo_title == GOOD_TITLE
    assert snippet.meta_description == GOOD_DESCRIPTION
    assert planner.name == "claude"
    assert (planner.usage.input_tokens, planner.usage.output_tokens, planner.usage.calls) == (1200, 80, 1)
    assert planner.usage.cost_usd == pytest.approx(1200 * 3 / 1e6 + 80 * 15 / 1e6)


async def test_a_too_long_title_is_sent_back_once_and_the_correction_is_used():
    long_title = "Best Trail Running Shoes of 2025, Tested on Mud, Rock and Snow by Us"
    assert len(long_title) > 60

    def correction(body):
        assistant = body["messages"][-2]
        assert assistant["role"] == "assistant" and assistant["content"][0]["input"]["seo_title"] == long_title
        [result] = last_results(body)
        assert result["is_error"] is True and result["tool_use_id"] == assistant["content"][0]["id"]
        assert f"{len(long_title)} characters" in result["content"] and "35-60" in result["content"]
        assert body["tool_choice"] == {"type": "tool", "name": "write_snippet"}
        return message(tool_use("write_snippet", {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION}))

    fake = FakeClaude(
        message(tool_use("write_snippet", {"seo_title": long_title, "meta_description": GOOD_DESCRIPTION})), correction
    )
    planner = fake.planner()
    assert (await planner.snippet(PAGE)).seo_title == GOOD_TITLE
    assert planner.usage.calls == 2 and planner.usage.input_tokens == 2000


async def test_a_snippet_that_still_does_not_fit_after_the_retry_is_an_error():
    bad = {"seo_title": "Shoes", "meta_description": "Short."}
    fake = FakeClaude(message(tool_use("write_snippet", bad)), message(tool_use("write_snippet", bad)))
    with pytest.raises(PlannerError, match="could not give a search snippet that fits, even after a retry") as caught:
        await fake.planner().snippet(PAGE)
    assert "lacks the top query's words: best, trail, running" in str(caught.value)
    assert len(fake.requests) == 2


# --- subject lines -----------------------------------------------------------------------------


async def test_subject_lines_drop_spam_caps_and_repeats_and_retry_when_too_few_remain():
    original = "Our March newsletter"
    first = [
        "Our March Newsletter",
        "FREE shipping on every order",
        "Three trails to run before spring",
        "Three trails to run before spring!",
    ]
    good = ["Three trails to run before spring", "What 400 km taught us about grip", "Your spring race checklist"]

    def check_first(body):
        assert body["tool_choice"] == {"type": "tool", "name": "write_subject_lines"}
        schema = body["tools"][0]["input_schema"]["properties"]["subject_lines"]
        assert schema["minItems"] == schema["maxItems"] == 3
        assert original in user_text(body) and "runners who bought shoes" in user_text(body)
        return message(tool_use("write_subject_lines", {"subject_lines": first}))

    def check_retry(body):
        [result] = last_results(body)
        assert result["is_error"] is True
        assert "the same as the original" in result["content"]
        assert "spam-filter word 'FREE'" in result["content"]
        assert "the same as another line" in result["content"]
        return message(tool_use("write_subject_lines", {"subject_lines": good}))

    fake = FakeClaude(check_first, check_retry)
    lines = await fake.planner().subject_lines(original, audience="runners who bought shoes", count=3)
    assert lines == good


# --- fix ---------------------------------------------------------------------------------------


async def test_fix_returns_the_content_fields_that_fix_findings():
    findings = [
        Finding(
            "title_length",
            "warning",
            "The title has 11 characters (30-60 show fully).",
            "Rewrite the title to 30-60 characters.",
        ),
        Finding("meta_description_missing", "warning", "The page has no meta description."),
        Finding("lcp_slow", "warning", "Largest contentful paint 4.1 s."),
    ]

    def answer(body):
        assert body["tool_choice"] == {"type": "tool", "name": "write_fixes"}
        assert set(body["tools"][0]["input_schema"]["properties"]) == {
            "seo_title",
            "meta_description",
            "title",
            "excerpt",
        }
        text = user_text(body)
        assert "title_length" in text and "lcp_slow" in text and PAGE.url in text
        return message(
            tool_use(
                "write_fixes", {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION, "title": PAGE.title}
            )
        )  # unchanged: dropped

    fake = FakeClaude(answer)
    fields = await fake.planner().fix(PAGE, findings)
    assert fields == {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION}


async def test_fix_is_empty_when_content_cannot_fix_anything():
    fake = FakeClaude(message(tool_use("write_fixes", {})))
    planner = fake.planner()
    assert await planner.fix(PAGE, [Finding("lcp_slow", "warning", "Largest contentful paint 4.1 s.")]) == {}
    assert await planner.fix(PAGE, []) == {}  # nothing to fix: no call at all
    assert len(fake.requests) == 1


# --- plan --------------------------------------------------------------------------------------


def catalog() -> Catalog:
    c = Catalog()
    c.add(
        ToolSpec(
            "search-console",
            "ctr_opportunities",
            "Pages with many impressions and a low CTR.",
            {
                "type": "object",
                "properties": {"site": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 50}},
                "required": ["site"],
            },
            read_only=True,
            destructive=False,
        )
    )
    c.add(
        ToolSpec(
            "wordpress",
            "update_post",
            "Update a post's fields.",
            {
                "type": "object",
                "properties": {
                    "post_id": {"type": "integer"},
                    "seo_title": {"type": "string"},
                    "meta_description": {"type": "string"},
                    "dry_run": {"type": "boolean"},
                },
                "required": ["post_id"],
                "additionalProperties": False,
            },
        )
    )
    return c


def test_arguments_that_do_not_fit_a_tools_schema_are_refused_with_where_and_why():
    c = catalog()
    c.check_arguments("search-console.ctr_opportunities", {"site": "sc-domain:127.0.0.1", "limit": 10})
    with pytest.raises(PlanError) as refused:
        c.check_arguments("search-console.ctr_opportunities", {"limit": 500})
    said = str(refused.value)
    assert said.startswith("Arguments for search-console.ctr_opportunities do not fit its schema: ")
    assert "limit: 500 is greater than the maximum of 50" in said
    assert "(arguments): 'site' is a required property" in said


class ReadTools:
    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, qualified: str, args: dict[str, Any]) -> Any:
        self.calls.append((qualified, args))
        return self.result


GOAL = "Raise the CTR of the blog's weakest page"
STEP = {
    "tool": "wordpress.update_post",
    "arguments": {"post_id": 7, "seo_title": GOOD_TITLE},
    "why": "A title with the query's words.",
}


async def test_plan_runs_reads_refuses_writes_corrects_arguments_and_returns_a_validated_plan():
    rows = [{"page": f"https://shop.example/p/{i}", "impressions": 5000 - i, "ctr": 0.004} for i in range(400)]
    read = ReadTools({"rows": rows})

    def turn1(body):
        names = [t["name"] for t in body["tools"]]
        assert names == ["search-console__ctr_opportunities", "wordpress__update_post", "submit_plan"]
        assert body["tools"][0]["input_schema"]["required"] == ["site"]
        assert body["tool_choice"] == {"type": "auto"}
        assert GOAL in user_text(body)
        return message(
            {"type": "text", "text": "Let me look at the data."},
            tool_use("search-console__ctr_opportunities", {"site": "shop.example", "limit": "ten"}),
        )

    def turn2(body):
        [result] = last_results(body)
        assert result["is_error"] is True and "limit" in result["content"] and "not of type" in result["content"]
        assert read.calls == []  # malformed: not run
        return message(tool_use("search-console__ctr_opportunities", {"site": "shop.example", "limit": 5}))

    def turn3(body):
        [result] = last_results(body)
        assert "is_error" not in result
        assert result["content"].startswith('{"rows": [{"page": "https://shop.example/p/0"')
        assert len(result["content"]) < 8200 and "ask for fewer rows" in result["content"]
        return message(tool_use("wordpress__update_post", {"post_id": 7, "seo_title": GOOD_TITLE}))

    def turn4(body):
        [result] = last_results(body)
        assert result["is_error"] is True and "writes must go into submit_plan" in result["content"]
        return message(tool_use("submit_plan", {"steps": [STEP], "notes": "One page first."}))

    fake = FakeClaude(turn1, turn2, turn3, turn4)
    planner = fake.planner()
    plan = await planner.plan(GOAL, catalog(), read)
    assert read.calls == [("search-console.ctr_opportunities", {"site": "shop.example", "limit": 5})]
    assert plan.planner == "claude" and plan.goal == GOAL and plan.notes == "One page first."
    assert [(s.tool, s.arguments, s.why) for s in plan.steps] == [(STEP["tool"], STEP["arguments"], STEP["why"])]
    assert planner.usage.calls == 4
    # The conversation is sent back whole: the assistant's text and tool calls, then their results.
    assert fake.requests[1]["messages"][1]["content"][0] == {"type": "text", "text": "Let me look at the data."}


async def test_a_plan_with_an_unknown_tool_gets_one_correction_then_fails():
    bad = {"steps": [{"tool": "wordpress.delete_everything", "arguments": {}, "why": "?"}]}

    def correction(body):
        [result] = last_results(body)
        assert result["is_error"] is True and "There is no tool 'wordpress.delete_everything'" in result["content"]
        return message(
            tool_use(
                "submit_plan",
                {"steps": [{"tool": "wordpress.update_post", "arguments": {"post_id": "seven"}, "why": "?"}]},
            )
        )

    fake = FakeClaude(message(tool_use("submit_plan", bad)), correction)
    with pytest.raises(PlannerError, match="did not validate after a correction") as caught:
        await fake.planner().plan(GOAL, catalog(), ReadTools({}))
    assert "post_id" in str(caught.value)
    assert len(fake.requests) == 2


async def test_a_corrected_plan_is_accepted():
    bad = {"steps": [{"tool": "wordpress.update_post", "arguments": {"post_id": 7, "slug": "x"}, "why": "?"}]}
    fake = FakeClaude(message(tool_use("submit_plan", bad)), message(tool_use("submit_plan", {"steps": [STEP]})))
    plan = await fake.planner().plan(GOAL, catalog(), ReadTools({}))
    assert [s.tool for s in plan.steps] == ["wordpress.update_post"]


async def test_planning_stops_after_eight_turns_and_the_last_turn_must_submit():
    reads = [message(tool_use("search-console__ctr_opportunities", {"site": "shop.example"})) for _ in range(8)]
    fake = FakeClaude(*reads)
    read = ReadTools({"rows": []})
    with pytest.raises(PlannerError, match="within 8 turns"):
        await fake.planner().plan(GOAL, catalog(), read)
    assert len(fake.requests) == 8 and len(read.calls) == 8
    assert fake.requests[-1]["tool_choice"] == {"type": "tool", "name": "submit_plan"}
    assert all(r["tool_choice"] == {"type": "auto"} for r in fake.requests[:-1])


# --- declines and API errors -------------------------------------------------------------------


async def test_a_refusal_is_a_planner_error():
    fake = FakeClaude(message(stop_reason="refusal"))
    with pytest.raises(PlannerError, match="Claude declined"):
        await fake.planner().snippet(PAGE)


async def test_an_answer_without_a_tool_call_is_a_planner_error():
    fake = FakeClaude(message({"type": "text", "text": "I would rather not plan this."}, stop_reason="end_turn"))
    with pytest.raises(PlannerError, match="Claude declined to give a plan: I would rather not plan this"):
        await fake.planner().plan(GOAL, catalog(), ReadTools({}))


@pytest.mark.parametrize(
    "reply, expected",
    [
        (
            error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
                **{"retry-after": "30"},
            ),
            "Claude is rate limiting this key (HTTP 429",
        ),
        (error(500, "api_error", "Internal server error"), "Claude's API failed (HTTP 500"),
        (error(529, "overloaded_error", "Overloaded"), "Claude is overloaded (HTTP 529)"),
    ],
)
async def test_api_errors_say_what_to_do_and_never_show_the_key(reply, expected):
    fake = FakeClaude(reply)
    with pytest.raises(PlannerError) as caught:
        await fake.planner(max_retries=0).snippet(PAGE)
    text = str(caught.value)
    assert expected in text
    assert "try again" in text and "run without ANTHROPIC_API_KEY to use the offline planner" in text
    assert KEY not in "".join(traceback.format_exception(caught.value))


async def test_rate_limit_message_says_when_to_retry():
    fake = FakeClaude(error(429, "rate_limit_error", "slow down", **{"retry-after": "30"}))
    with pytest.raises(PlannerError, match="try again in 30 s"):
        await fake.planner(max_retries=0).snippet(PAGE)


async def test_a_bad_key_is_named_without_showing_it():
    fake = FakeClaude(error(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(PlannerError, match="rejected the API key .*check ANTHROPIC_API_KEY") as caught:
        await fake.planner().snippet(PAGE)
    assert KEY not in str(caught.value) and len(fake.requests) == 1  # 401 is not retried


async def test_the_sdk_retries_a_429_before_giving_up():
    # retry-after-ms keeps the SDK's wait between attempts at 1 ms.
    fake = FakeClaude(
        error(429, "rate_limit_error", "slow down", **{"retry-after-ms": "1"}),
        error(529, "overloaded_error", "Overloaded", **{"retry-after-ms": "1"}),
        message(tool_use("write_snippet", {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION})),
    )
    assert (await fake.planner().snippet(PAGE)).seo_title == GOOD_TITLE
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    "exc, expected",
    [
        (httpx2.ConnectError("connection refused"), "Could not reach Claude's API"),
        (httpx2.ReadTimeout("timed out"), "did not answer within 60 s"),
    ],
)
async def test_transport_failures_are_planner_errors(exc, expected):
    def fail(request):
        raise exc

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(fail))
    planner = ClaudePlanner(KEY, http_client=client, max_retries=0)
    with pytest.raises(PlannerError, match=expected) as caught:
        await planner.snippet(PAGE)
    assert KEY not in str(caught.value)


# --- prices and the environment ----------------------------------------------------------------


def test_prices_by_model_family():
    assert price_per_million("claude-sonnet-4-5") == (3.0, 15.0)
    assert price_per_million("claude-haiku-4-5-20251001") == (1.0, 5.0)
    assert price_per_million("claude-opus-4-1") == (15.0, 75.0)
    assert price_per_million("some-future-model") == (3.0, 15.0)


async def test_haiku_calls_cost_haiku_prices():
    fake = FakeClaude(
        message(
            tool_use("write_snippet", {"seo_title": GOOD_TITLE, "meta_description": GOOD_DESCRIPTION}),
            input_tokens=2_000_000,
            output_tokens=100_000,
            model="claude-haiku-4-5",
        )
    )
    planner = fake.planner(model="claude-haiku-4-5")
    await planner.snippet(PAGE)
    assert fake.requests[0]["model"] == "claude-haiku-4-5"
    assert planner.usage.cost_usd == pytest.approx(2 * 1.0 + 0.1 * 5.0)


def test_from_environment(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("MARKETING_MCP_CLAUDE_MODEL", raising=False)
    assert from_environment() is None
    monkeypatch.setenv("ANTHROPIC_API_KEY", "  ")
    assert from_environment() is None

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    planner = from_environment()
    assert isinstance(planner, ClaudePlanner) and planner.model == "claude-sonnet-4-6"
    assert KEY not in repr(planner)

    monkeypatch.setenv("MARKETING_MCP_CLAUDE_MODEL", "claude-haiku-4-5")
    haiku, sonnet = from_environment(), from_environment({"ANTHROPIC_API_KEY": KEY})
    assert haiku is not None and haiku.model == "claude-haiku-4-5"
    assert sonnet is not None and sonnet.model == "claude-sonnet-4-6"


def test_building_a_planner_does_not_import_the_sdk():
    code = (
        "import sys; from director.claude import from_environment; "
        f"p = from_environment({{'ANTHROPIC_API_KEY': {KEY!r}}}); "
        "assert p is not None; assert 'anthropic' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# --- copy a client would send -------------------------------------------------------------------


async def test_a_snippet_with_a_lowercased_name_or_filler_is_sent_back_with_the_fault():
    page = PageContext(
        url="http://127.0.0.1/about/",
        title="About Us",
        seo_title="About Northwind Coffee Roasters",
        meta_description="Meet the Portland team roasting small-batch specialty coffee since 2018.",
        queries=["coffee roasters portland"],
    )
    bad = {
        "seo_title": "Coffee Roasters portland: What to Know",
        "meta_description": "Small-batch coffee from our portland team since 2018, roasted weekly and shipped fresh.",
    }
    good = {
        "seo_title": "Coffee Roasters in Portland: Our Story",
        "meta_description": "Small-batch coffee from our Portland team since 2018, roasted weekly and shipped fresh.",
    }

    def correction(body):
        [result] = last_results(body)
        assert "'portland' is a name and is written 'Portland'" in result["content"]
        assert "'What to Know' is filler" in result["content"]
        return message(tool_use("write_snippet", good))

    fake = FakeClaude(message(tool_use("write_snippet", bad)), correction)
    snippet = await fake.planner().snippet(page)
    assert snippet.seo_title == good["seo_title"]


async def test_subject_lines_on_one_template_or_with_a_lowercased_brand_are_sent_back():
    first = ["News from northwind this week", "Coffee: what is new this week", "Northwind: what is new this week"]
    good = ["Have you tried Kenya Nyeri yet?", "What makes Kenya Nyeri different?"]

    def check_retry(body):
        [result] = last_results(body)
        assert "'northwind' is a name" in result["content"]
        assert "same template" in result["content"]
        return message(tool_use("write_subject_lines", {"subject_lines": good}))

    fake = FakeClaude(message(tool_use("write_subject_lines", {"subject_lines": first})), check_retry)
    lines = await fake.planner().subject_lines("Coffee update", audience="Northwind Newsletter", count=2)
    assert lines == good
