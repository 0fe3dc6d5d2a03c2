"""`marketing-mcp director`: run the loops, see and resolve approvals, resume, report."""

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import find_config, load_config
from .registry import LOOPS, loop_needs

if TYPE_CHECKING:  # director/ is imported when a command runs, not when the CLI starts
    from director.store import Store


def add_parser(sub: Any) -> None:
    director = sub.add_parser("director", help="run the closed loops for a client, with approvals and reports")
    cmds = director.add_subparsers(dest="director_command", required=True, metavar="ACTION")

    run = cmds.add_parser("run", help="run loops over the coming days")
    run.add_argument("--client", required=True, help="client name in mcp.json")
    run.add_argument("--loops", help=f"comma-separated: {', '.join(LOOPS)} (default: the client's policy)")
    run.add_argument("--days", type=int, default=28, help="days to run (a sandbox client simulates them)")
    run.add_argument("--dry-run", action="store_true", help="preview every change; make none")

    plan = cmds.add_parser("plan", help="a validated plan of tool steps for a goal (nothing is changed)")
    plan.add_argument("goal", help='what to achieve, in words, e.g. "raise our search CTR"')
    plan.add_argument("--client", required=True, help="client name in mcp.json")

    cmds.add_parser("status", help="runs and their progress")
    resume = cmds.add_parser("resume", help="continue a run that was stopped, or that waited for approvals")
    resume.add_argument("run", nargs="?", help="run ID (default: the latest unfinished run)")
    cmds.add_parser("approvals", help="pending approvals with their previews")
    for name, what in (("approve", "let a pending change go ahead"), ("deny", "refuse a pending change")):
        p = cmds.add_parser(name, help=what)
        p.add_argument("id", type=int, help="approval ID (`director approvals` lists them)")
        p.add_argument("--note", default="", help="a note kept with the decision")
    report = cmds.add_parser("report", help="write a run's HTML report and Markdown summary")
    report.add_argument("run", nargs="?", help="run ID (default: the latest)")
    report.add_argument("--out", default=None, help="directory (default: reports/ next to the store)")
    for p in cmds.choices.values():
        p.add_argument("--config", help="path to mcp.json")
        p.add_argument("--db", help="the Director's SQLite store (default: in the data directory)")


def _store(args: argparse.Namespace) -> "Store":
    from director.store import Store, default_path

    return Store(args.db or os.environ.get("MARKETING_MCP_DIRECTOR_DB") or default_path())


def session_for(config_path: Path, client: str):
    """The Director's view of one client, from mcp.json and the registry (director/ never reads either)."""
    from director.pool import stdio_targets
    from director.runner import Policy
    from director.session import Session

    settings = load_config(config_path).client(client)
    d = settings.director
    enabled = settings.enabled()
    urls = {name: str(url) for name, url in d.server_urls.items() if name in enabled}
    targets = {**stdio_targets(str(config_path), client, [s for s in enabled if s not in urls]), **urls}
    policy = Policy(
        auto_approve=list(d.auto_approve),
        max_changes_per_object_per_day=d.max_changes_per_object_per_day,
        max_changes_per_run=d.max_changes_per_run,
        max_spend_change=d.max_spend_change,
        cooldown_days=d.cooldown_days,
        min_impressions=d.min_impressions,
    )
    return Session(
        client=client,
        targets=targets,
        needs=loop_needs(),
        loops=tuple(d.loops),
        policy=policy,
        model=d.model,
        sandbox=str(settings.sandbox) if settings.sandbox else None,
        record={"config_path": str(config_path)},
    )


async def run_session(store, config_path: Path, client: str, **options) -> str:
    """`director.session.run` for a client of this mcp.json (options as that function takes them)."""
    from director.session import run

    return await run(store, session_for(Path(config_path), client), **options)


def run(args: argparse.Namespace) -> int:
    from director.plan import PlanError
    from director.planner import PlannerError
    from director.pool import ServerDown

    try:
        return ACTIONS[args.director_command](args)
    except (PlanError, PlannerError, ServerDown, KeyError, ValueError) as exc:
        print(f"marketing-mcp director: {exc}", file=sys.stderr)
        return 1


def _run(args) -> int:
    store = _store(args)
    loops = [x.strip() for x in args.loops.split(",")] if args.loops else None
    run_id = asyncio.run(
        run_session(store, find_config(args.config), args.client, loops=loops, days=args.days, dry_run=args.dry_run)
    )
    return _finish(store, run_id, args)


def _finish(store: "Store", run_id: str, args: argparse.Namespace) -> int:
    from director.reporting import write

    run = store.run(run_id)
    html, md = write(store, run_id, _reports_dir(store, args))
    pending = [a for a in store.approvals() if a.run_id == run_id]
    print(f"Run {run_id}: {run['status']} after {run['day']} of {run['days']} day(s); report {html} (summary {md})")
    if pending:
        print(f"{len(pending)} change(s) wait for approval: `marketing-mcp director approvals`")
    return 0


def _reports_dir(store: "Store", args: argparse.Namespace) -> Path:
    return Path(getattr(args, "out", None) or store.path.parent / "reports")


def _resume(args) -> int:
    store = _store(args)
    run_id = args.run
    if run_id is None:
        unfinished = store.runs("running", "waiting")
        if not unfinished:
            print("No unfinished run.")
            return 0
        run_id = unfinished[0]["id"]
    saved = store.run(run_id)
    config = saved["config"].get("config_path") or find_config(args.config)
    asyncio.run(run_session(store, Path(config), saved["client"], run_id=run_id))
    return _finish(store, run_id, args)


def _plan(args) -> int:
    from director.pool import ServerPool, stdio_targets
    from director.session import planner_for

    path = find_config(args.config)
    settings = load_config(path).client(args.client)
    planner = planner_for(settings.director.model)

    async def go():
        async with ServerPool(stdio_targets(str(path), args.client, settings.enabled())) as pool:

            async def read(tool: str, arguments: dict) -> dict:
                if not pool.catalog.get(tool).read_only:
                    raise ValueError(f"{tool} changes something; planning only reads")
                return (await pool.call(tool, arguments)).data

            plan = await planner.plan(args.goal, pool.catalog, read)
            for step in plan.steps:  # validated again here: a plan never runs unchecked
                pool.catalog.check_arguments(step.tool, step.arguments)
            return plan

    plan = asyncio.run(go())
    print(json.dumps(plan.model_dump(), indent=2))
    return 0


def _status(args) -> int:
    store = _store(args)
    runs = store.runs()
    if not runs:
        print("No runs yet: `marketing-mcp director run --client C`.")
    for r in runs[:20]:
        pending = len([a for a in store.approvals() if a.run_id == r["id"]])
        print(
            f"{r['id']}  {r['client']:<12} {r['status']:<8} day {r['day']}/{r['days']}  planner {r['planner']}"
            f"  calls {store.call_count(r['id'])}  cost ${r['cost_usd']:.4f}"
            + (f"  {pending} approval(s) pending" if pending else "")
        )
    return 0


def _approvals(args) -> int:
    store = _store(args)
    pending = store.approvals()
    if not pending:
        print("No pending approvals.")
    for a in pending:
        print(f"#{a.id}  run {a.run_id}  {a.tool}  {a.arguments}")
        print(f"     preview: {a.preview[:600]}")
    return 0


def _resolve(args, approved: bool) -> int:
    store = _store(args)
    row = store.resolve(args.id, approved, args.note)
    print(f"Approval #{row.id} {row.status}; `marketing-mcp director resume {row.run_id}` carries on.")
    return 0


def _report(args) -> int:
    store = _store(args)
    run_id = args.run or (store.runs() or [{}])[0].get("id")
    if not run_id:
        print("No runs yet.")
        return 0
    return _finish(store, run_id, args)


ACTIONS = {
    "run": _run,
    "plan": _plan,
    "status": _status,
    "resume": _resume,
    "approvals": _approvals,
    "approve": lambda a: _resolve(a, True),
    "deny": lambda a: _resolve(a, False),
    "report": _report,
}
