"""What a model reads from typical tool results, in characters: the text content alone, before and
after it carried the data, against the structured content (which hosts may or may not show).

    python benchmarks/result_size.py

"summary" is the one-line text the tools returned before; "text" is what they return now (the
summary, then the data as compact JSON); "structured" is the structured content as the SDK sends
it, compact. text / structured shows what the text costs beyond the data itself (target <= 1.10:
the summary line and nothing else).
"""

from __future__ import annotations

import asyncio
import json

from _common import SandboxProcess, report, signed_in

GA4 = "420000001"
CALLS = [
    (
        "ga4",
        "run_report",
        {
            "property": GA4,
            "dimensions": ["landingPage"],
            "metrics": ["sessions", "keyEvents"],
            "date_ranges": [{"start": "28daysAgo", "end": "yesterday"}],
            "limit": 10,
        },
    ),
    ("ga4", "top_landing_pages", {"property": GA4}),
    (
        "search-console",
        "search_analytics",
        {"site": "SITE", "start": "2026-10-01", "end": "2026-10-28", "dimensions": ["query"]},
    ),
    ("search-console", "ctr_opportunities", {"site": "SITE", "start": "2026-10-01", "end": "2026-10-28"}),
    ("wordpress", "list_posts", {}),
    ("wordpress", "get_post", {"post_id": "FIRST"}),
    ("mailchimp", "list_campaigns", {}),
    ("mailchimp", "list_audiences", {}),
]


def config(url: str) -> dict:
    limits = {"rate_limits": {"default": "100000/s"}}
    return {
        "clients": {
            "bench": {
                "sandbox": url,
                "servers": {
                    "ga4": {"settings": {"properties": {"web": GA4}, "api_base": url}, **limits},
                    "search-console": {"settings": {"sites": [f"{url}/"], "api_base": url}, **limits},
                    "wordpress": {"settings": {"site_url": url, "username": "demo"}, **limits},
                    "mailchimp": {"settings": {"api_base": f"{url}/mailchimp/3.0"}, **limits},
                },
            }
        }
    }


async def main() -> int:
    import logging

    from mcp import Client
    from mcp.types import TextContent

    from suite.config import parse_config
    from suite.wiring import create_server

    logging.getLogger("httpx").setLevel(logging.WARNING)
    with SandboxProcess() as sandbox:
        parsed = parse_config(signed_in(config(sandbox.url)))
        totals = {"summary": 0, "text": 0, "structured": 0}
        print(f"{'tool':34} {'summary':>8} {'text':>8} {'structured':>11}")
        for server, tool, args in CALLS:
            args = {k: (f"{sandbox.url}/" if v == "SITE" else v) for k, v in args.items()}
            async with Client(create_server(parsed, "bench", server)) as c:
                if args.get("post_id") == "FIRST":
                    first = await c.call_tool("list_posts", {"limit": 1})
                    args["post_id"] = first.structured_content["items"][0]["id"]
                result = await c.call_tool(tool, args)
            said = result.content[0]
            assert isinstance(said, TextContent)  # every tool answers in text first
            assert not result.is_error, said.text
            text = said.text
            sizes = {
                "summary": len(text.split("\n", 1)[0]),
                "text": len(text),
                "structured": len(json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))),
            }
            for k, v in sizes.items():
                totals[k] += v
            print(f"{server + '/' + tool:34} {sizes['summary']:8} {sizes['text']:8} {sizes['structured']:11}")
        print(f"{'total':34} {totals['summary']:8} {totals['text']:8} {totals['structured']:11}")
    ok = report(
        "text / structured",
        totals["text"] / totals["structured"],
        "<= 1.10",
        totals["text"] / totals["structured"] <= 1.10,
        "x",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
