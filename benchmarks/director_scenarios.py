"""The Director's loops on sandbox scenarios nobody tuned them for: what they see, how late, and how often
they are wrong.

    python benchmarks/director_scenarios.py [--seeds 5] [--days 24] [--kinds ranking_drop,page_unpublished,...]

Each scenario is a fresh sandbox world (its own seed) with one incident kind staged on a page and day
drawn from the seed, plus the A/A worlds (no incident at all) and the confounders (a whole-site drop with
a tracking outage inside it, a holiday). The Director runs its page loops over the simulated days, with
changes auto-approved, and is scored against the sandbox's own record of what it staged
(`World.traffic.incidents()`):

- detection: a note or a step of any loop names the incident's page on or after the incident's first day;
  the delay is counted from that day (GA4 and Search Console show a day's data two to three days later);
- A/A false wins: in worlds with no incident, the planner writes snippets that only change letter case
  (which the sandbox's search model does not see), so every change kept ("keep") is a false win
  (target <= 5% of the changes judged);
- false alarms: pages the traffic loop flags or changes in worlds whose only events are site-wide
  (target: none).

Targets: detection >= 90% within 7 days of the data showing it. Prints one row per incident kind.
"""

import argparse
import asyncio
import io
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CLIENT = "scen"
DATA_LAG = 3  # days until the slower of GA4 and Search Console shows a day
PAGE_KINDS = ("ranking_drop", "page_unpublished", "page_noindexed", "snippet_regression")
# Notes about the search CTR loop's own snippet tests: rewritten, kept, restored, still being judged.
ROUTINE = ("search_ctr: rewrote", "search_ctr: keep", "search_ctr: restore", "search_ctr: rolled back")
QUIET = {"ranking_drop": False, "tracking_outage": False, "holiday_bump": False}


@dataclass
class Outcome:
    kind: str
    seed: int
    page: str | None
    start: date | None
    detected: date | None = None
    kept: int = 0
    judged: int = 0
    changed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def delay(self) -> int | None:
        if self.detected is None or self.start is None:
            return None
        return (self.detected - self.start).days


def incidents_for(kind: str, seed: int, pages: list[str]) -> dict[str, Any]:
    """The incident spec of one scenario: the kind on a page and day drawn from the seed, nothing else staged."""
    rng = random.Random(f"scenario:{kind}:{seed}")
    day = rng.randint(5, 12)
    if kind in PAGE_KINDS:
        # A snippet regression is left on the page the sandbox picks for it (a settled page whose queries
        # span many positions, with clicks enough to measure); the others land on one of the busiest pages.
        page = None if kind == "snippet_regression" else rng.choice(pages[:12])
        spec: dict[str, Any] = {"enabled": True, "day": day, "page": page}
        if kind == "ranking_drop":
            spec["positions"] = float(rng.choice((4, 5, 6, 8)))
        return {**QUIET, kind: spec}
    if kind == "aa":
        return dict(QUIET)
    if kind == "site_drop_with_outage":
        return {
            **QUIET,
            "site_drop": {"enabled": True, "day": day},
            "tracking_outage": {"enabled": True, "day": day + 3},
        }
    if kind == "holiday":
        return {**QUIET, "holiday_bump": {"enabled": True, "day": day}}
    raise ValueError(f"unknown scenario kind {kind}")


def mcp_json(url: str, port: int) -> dict[str, Any]:
    raw = {
        "clients": {
            CLIENT: {
                "sandbox": url,
                "servers": {
                    "wordpress": {"settings": {"site_url": url, "username": "demo"}},
                    "search-console": {"settings": {"sites": [f"{url}/"], "api_base": url}},
                    "ga4": {"settings": {"properties": {"web": "420000001"}, "api_base": url}},
                    "page-analysis": {"settings": {"allowed_hosts": [f"127.0.0.1:{port}"]}},
                },
                "director": {"auto_approve": ["*"]},
            }
        }
    }
    return raw


def null_planner() -> Any:
    """A planner whose snippets differ from the page's only in letter case: a change with no true effect."""
    from director.offline import OfflinePlanner
    from director.planner import PageContext, Snippet

    class CaseOnly(OfflinePlanner):
        async def snippet(self, page: PageContext) -> Snippet:
            return Snippet(
                seo_title=(page.seo_title or "").swapcase(), meta_description=(page.meta_description or "").swapcase()
            )

    return CaseOnly()


async def scenario(kind: str, seed: int, days: int) -> Outcome:
    from credentials.keys import MasterKey
    from director.store import Store
    from sandbox import World, running
    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config
    from suite.director_cli import run_session
    from suite.wiring import create_server

    probe = World(seed=seed, incidents=False)
    volume: dict[str, int] = {}
    for back in range(1, 15):
        for fact in probe.traffic.search_day(probe.now().date() - timedelta(days=back)):
            volume[fact[1]] = volume.get(fact[1], 0) + fact[2]
    pages = [p for p in sorted(volume, key=lambda p: -volume[p]) if p.strip("/")]
    spec = incidents_for(kind, seed, pages)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, running(world=World(seed=seed, incidents=spec)) as sb:
        os.environ["MARKETING_MCP_HOME"] = str(Path(tmp) / "home")
        os.environ["MARKETING_MCP_KEYRING"] = "none"
        os.environ["MARKETING_MCP_VAULT_KEY"] = MasterKey.generate().to_text()  # a throwaway vault per world
        raw = mcp_json(sb.url, sb.port)
        path = Path(tmp) / "mcp.json"
        path.write_text(json.dumps(raw))
        config = parse_config(raw)
        sign_in_at_sandbox(config, CLIENT, io.StringIO())
        staged = next((i for i in sb.world.traffic.incidents() if i["name"] == kind and i["enabled"]), None)
        page = staged.get("page") if staged else None
        start = date.fromisoformat(staged["start"]) if staged and staged.get("start") else None
        servers = ("wordpress", "search-console", "ga4", "page-analysis")
        targets = {s: create_server(config, CLIENT, s) for s in servers}
        store = Store(Path(tmp) / "director.sqlite")
        run_id = await run_session(
            store,
            path,
            CLIENT,
            loops=["traffic_drop", "search_ctr"],
            days=days,
            targets=targets,
            planner=null_planner() if kind == "aa" else None,
            say=lambda _: None,
        )
        outcome = Outcome(kind, seed, page, start, seconds=time.perf_counter() - started)
        outcome.notes = [f"{n['day']}: {n['text']}" for n in store.notes(run_id)]
        # What the loops said about a page, apart from the routine of the snippet tests they run anyway.
        mentions = [(n["day"] or "", n["text"]) for n in store.notes(run_id) if not n["text"].startswith(ROUTINE)]
        mentions += [(s.day or "", f"{s.object} {s.key}") for s in store.steps(run_id) if s.loop == "traffic_drop"]
        for day, text in sorted(mentions):
            if not day:
                continue
            when = date.fromisoformat(day[:10])
            named = [p for p in pages if f"{p}" in text]
            if text.startswith("traffic_drop") or "traffic_drop:" in text:
                outcome.flagged += [p for p in named if p not in outcome.flagged]
            if page and page in text and start and when >= start and outcome.detected is None:
                outcome.detected = when
        final = [d for d in store.decisions(run_id) if d["verdict"] != "continue"]
        outcome.kept = sum(d["verdict"] == "keep" for d in final)
        outcome.judged = len(final)
        outcome.changed = sorted(
            {s.object for s in store.steps(run_id) if s.kind == "change" and s.loop == "traffic_drop"}
        )
        store.close()
        return outcome


def table(outcomes: list[Outcome]) -> bool:
    ok = True
    print(f"{'scenario':<24}{'runs':>6}{'seen':>7}{'<=7d after data':>17}{'median delay':>14}{'kept':>6}{'flagged':>9}")
    for kind in dict.fromkeys(o.kind for o in outcomes):
        mine = [o for o in outcomes if o.kind == kind]
        delays = sorted(o.delay for o in mine if o.delay is not None)
        seen = len(delays) / len(mine)
        timely = sum(d <= 7 + DATA_LAG for d in delays) / len(mine)
        median = f"{delays[len(delays) // 2]} d" if delays else "-"
        kept = sum(o.kept for o in mine)
        flagged = sum(bool(o.flagged) for o in mine)
        if kind in PAGE_KINDS:
            print(f"{kind:<24}{len(mine):>6}{seen:>7.0%}{timely:>17.0%}{median:>14}{kept:>6}{'':>9}")
            ok &= timely >= 0.9
        else:
            print(f"{kind:<24}{len(mine):>6}{'':>7}{'':>17}{'':>14}{kept:>6}{flagged:>9}")
            if kind == "aa":
                ok &= kept <= 0.05 * max(1, sum(o.judged for o in mine))
            else:
                ok &= flagged == 0 and not any(o.changed for o in mine)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="The Director's loops on sandbox scenarios.")
    parser.add_argument("--seeds", type=int, default=5, help="worlds per scenario kind")
    parser.add_argument("--days", type=int, default=24, help="simulated days per run")
    parser.add_argument(
        "--kinds",
        default=",".join((*PAGE_KINDS, "aa", "site_drop_with_outage", "holiday")),
        help="comma-separated scenario kinds",
    )
    parser.add_argument("--notes", action="store_true", help="print each run's notes")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)  # the servers' request logs
    outcomes: list[Outcome] = []
    for kind in args.kinds.split(","):
        for seed in range(100, 100 + args.seeds):
            outcome = asyncio.run(scenario(kind.strip(), seed, args.days))
            outcomes.append(outcome)
            print(
                f"  {outcome.kind} seed {seed}: page {outcome.page or '-'} from {outcome.start or '-'}, "
                f"seen {outcome.detected or 'never'}, kept {outcome.kept}, changed {len(outcome.changed)}, "
                f"flagged {len(outcome.flagged)} ({outcome.seconds:.0f} s)",
                flush=True,
            )
            if args.notes:
                print("\n".join(f"      {n}" for n in outcome.notes))
    ok = table(outcomes)
    print(
        "PASS"
        if ok
        else "FAIL: below the targets (detection >= 90% within 7 days of the data, A/A <= 5%, no false alarm)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
