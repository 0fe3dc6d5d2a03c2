"""One Director session for one client: its servers over MCP, a planner, the store, the loops."""

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .loops.email_engagement import EmailEngagementLoop
from .loops.search_ctr import SearchCtrLoop
from .loops.traffic_drop import TrafficDropLoop
from .offline import OfflinePlanner
from .planner import Planner
from .pool import ServerPool, stdio_targets
from .runner import Director, Policy, RealClock, SandboxClock, run_days
from .store import Store

LOOPS = {"search_ctr": SearchCtrLoop, "traffic_drop": TrafficDropLoop, "email_engagement": EmailEngagementLoop}
# The servers each loop reads or changes; only these are started.
NEEDS = {"search_ctr": ("search-console", "wordpress", "webflow"),
         "traffic_drop": ("ga4", "search-console", "page-analysis", "wordpress", "webflow"),
         "email_engagement": ("mailchimp", "customerio")}


def planner_for(model: str | None) -> Planner:
    """Claude when ANTHROPIC_API_KEY is set (the model from mcp.json, else $MARKETING_MCP_CLAUDE_MODEL), else
    the offline playbooks."""
    from .claude import from_environment

    return from_environment(**({"model": model} if model else {})) or OfflinePlanner()


def policy_of(settings) -> Policy:
    return Policy(auto_approve=list(settings.auto_approve),
                  max_changes_per_object_per_day=settings.max_changes_per_object_per_day,
                  max_changes_per_run=settings.max_changes_per_run, max_spend_change=settings.max_spend_change,
                  cooldown_days=settings.cooldown_days, min_impressions=settings.min_impressions)


async def run(store: Store, config_path: Path, client: str, *, loops: list[str] | None = None, days: int = 28,
              dry_run: bool = False, run_id: str | None = None, targets: dict | None = None,
              planner: Planner | None = None, say: Callable[[str], None] = print) -> str:
    """Start (or, with run_id, resume) a run; returns its id once it is done or waiting."""
    from suite.config import load_config

    config = load_config(config_path)
    settings = config.client(client)
    if run_id is not None:
        saved = store.run(run_id)
        loops, days, dry_run = saved["loops"], saved["days"], bool(saved["dry_run"])
    loops = loops or list(settings.director.loops)
    unknown = sorted(set(loops) - set(LOOPS))
    if unknown:
        raise ValueError(f"unknown loop(s) {', '.join(unknown)}; loops: {', '.join(LOOPS)}")
    enabled = settings.enabled()
    servers = [s for s in enabled if any(s in NEEDS[loop] for loop in loops)]
    planner = planner or planner_for(settings.director.model)
    clock = SandboxClock(str(settings.sandbox)) if settings.sandbox else RealClock()
    urls = {name: str(url) for name, url in settings.director.server_urls.items() if name in servers}
    spawned = stdio_targets(str(config_path), client, [s for s in servers if s not in urls])
    async with ServerPool({**spawned, **urls, **(targets or {})}) as pool:
        chosen = [LOOPS[name]() for name in loops]
        for loop in chosen:
            if not loop.wanted(pool):
                say(f"{loop.name}: skipped, the client does not enable the servers it needs "
                    f"({', '.join(NEEDS[loop.name])})")
        chosen = [loop for loop in chosen if loop.wanted(pool)]
        if run_id is None:
            run_id = store.new_run(client, loops, days, dry_run, planner.name,
                                   config={"config_path": str(config_path)})
            say(f"Run {run_id} for client '{client}': loops {', '.join(loops)}, {days} day(s), planner {planner.name}"
                + (", dry run" if dry_run else ""))
        store.update_run(run_id, pid=os.getpid())
        director = Director(store=store, pool=pool, planner=planner, policy=policy_of(settings.director),
                            client=client, run_id=run_id, clock=clock, dry_run=dry_run, say=say)
        before = replace(planner.usage)  # a planner may serve several runs: record only what this one spent
        try:
            status = await run_days(director, chosen, days)
        finally:
            after = planner.usage
            store.add_usage(run_id, after.input_tokens - before.input_tokens,
                            after.output_tokens - before.output_tokens, after.cost_usd - before.cost_usd)
        store.update_run(run_id, finished=time.time() if status == "done" else None)
        return run_id
