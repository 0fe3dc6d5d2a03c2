"""One Director session for one client: its servers over MCP, a planner, the store, the loops."""

import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .loops.email_engagement import EmailEngagementLoop
from .loops.search_ctr import SearchCtrLoop
from .loops.traffic_drop import TrafficDropLoop
from .offline import OfflinePlanner
from .planner import Planner
from .pool import ServerPool
from .runner import Director, Policy, RealClock, SandboxClock, run_days
from .store import Store

LOOPS = {"search_ctr": SearchCtrLoop, "traffic_drop": TrafficDropLoop, "email_engagement": EmailEngagementLoop}


@dataclass(frozen=True)
class Session:
    """One client as the composition root hands it over: the Director reads no mcp.json of its own."""

    client: str
    targets: dict[str, Any]
    """Every server the client enables: how to spawn it (stdio parameters) or its streamable-HTTP URL."""
    needs: dict[str, tuple[str, ...]]
    """Per loop, the servers it can use; only those a run's loops can use are started."""
    loops: tuple[str, ...] = tuple(LOOPS)
    """The loops a run runs when none are named."""
    policy: Policy = field(default_factory=Policy)
    model: str | None = None
    """Claude model for planning (with ANTHROPIC_API_KEY)."""
    sandbox: str | None = None
    """A sandbox standing in for the vendors: its simulated clock is the run's clock."""
    record: dict = field(default_factory=dict)
    """Kept with a new run, so a later resume can build the same session again."""


def planner_for(model: str | None) -> Planner:
    """Claude when ANTHROPIC_API_KEY is set (the model from mcp.json, else $MARKETING_MCP_CLAUDE_MODEL), else
    the offline playbooks."""
    from .claude import from_environment

    return (from_environment(model=model) if model else from_environment()) or OfflinePlanner()


async def run(
    store: Store,
    session: Session,
    *,
    loops: list[str] | None = None,
    days: int = 28,
    dry_run: bool = False,
    run_id: str | None = None,
    targets: dict | None = None,
    planner: Planner | None = None,
    say: Callable[[str], None] = print,
) -> str:
    """Start (or, with run_id, resume) a run; returns its id once it is done or waiting."""
    client = session.client
    if run_id is not None:
        saved = store.run(run_id)
        loops, days, dry_run = saved["loops"], saved["days"], bool(saved["dry_run"])
    loops = loops or list(session.loops)
    unknown = sorted(set(loops) - set(LOOPS))
    if unknown:
        raise ValueError(f"unknown loop(s) {', '.join(unknown)}; loops: {', '.join(LOOPS)}")
    needs = session.needs
    wanted = {name: t for name, t in session.targets.items() if any(name in needs.get(loop, ()) for loop in loops)}
    planner = planner or planner_for(session.model)
    clock = SandboxClock(session.sandbox) if session.sandbox else RealClock()
    async with ServerPool({**wanted, **(targets or {})}) as pool:
        chosen = [LOOPS[name]() for name in loops]
        for loop in chosen:
            if not loop.wanted(pool):
                say(
                    f"{loop.name}: skipped, the client does not enable the servers it needs "
                    f"({', '.join(needs.get(loop.name, ()))})"
                )
        chosen = [loop for loop in chosen if loop.wanted(pool)]
        if run_id is None:
            run_id = store.new_run(client, loops, days, dry_run, planner.name, config=dict(session.record))
            say(
                f"Run {run_id} for client '{client}': loops {', '.join(loops)}, {days} day(s), planner {planner.name}"
                + (", dry run" if dry_run else "")
            )
        store.update_run(run_id, pid=os.getpid())
        director = Director(
            store=store,
            pool=pool,
            planner=planner,
            policy=session.policy,
            client=client,
            run_id=run_id,
            clock=clock,
            dry_run=dry_run,
            say=say,
        )
        before = replace(planner.usage)  # a planner may serve several runs: record only what this one spent
        try:
            status = await run_days(director, chosen, days)
        finally:
            after = planner.usage
            store.add_usage(
                run_id,
                after.input_tokens - before.input_tokens,
                after.output_tokens - before.output_tokens,
                after.cost_usd - before.cost_usd,
            )
        store.update_run(run_id, finished=time.time() if status == "done" else None)
        return run_id
