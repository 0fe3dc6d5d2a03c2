"""The Director's loops on sandbox scenarios nobody tuned them for: what they see, how late, and how often
they are wrong.

    python benchmarks/director_scenarios.py [--seeds 5] [--days 24] [--kinds ranking_drop,aa,...] [--jobs 2]

Each scenario is a fresh sandbox world (its own seed) with one incident kind staged on a page, day and
amount drawn from the seed (`_scenario_kinds.py`), the incidents on by default switched off. The Director
runs its page loops over the simulated days, with changes auto-approved and the offline planner, and is
scored against the sandbox's own record of what it staged (`World.traffic.incidents()`):

- detection kinds (a ranking drop on one page or three, a gradual decline, a page unpublished, noindexed
  or redirected by mistake, a snippet regression, a broken form, a broken checkout, an algorithm update):
  a hit page is seen when a note or a traffic_drop step names it on or after the incident's first day;
  its delay counts from that day (a gradual decline's: from the day it is 3 positions down), and GA4
  and Search Console show a day's data up to three days later. A broken checkout is seen by a note on
  the whole site's key events; an algorithm update's hit pages (3 positions or more) are all seen by a
  note naming half of them or saying that several pages moved at once.
  Target: >= 90% of the hit pages seen within 7 days of the data showing them.
- false-alarm kinds (A/A, a holiday, a site-wide drop with an outage inside it, an outage of one channel,
  device class or section, a late Search Console): no page flagged (named in a note that reports a drop
  or a page change: notes explaining a measurement or a site-wide cause are not), none changed by the
  traffic loop. In A/A worlds the planner writes snippets that only change letter case (which the
  sandbox's search model does not see), so every change kept is a false win (target <= 5% of those
  judged).
- taste worlds: every snippet text draws a hidden taste (which a case-only change changes too), so each
  judged change's verdict is compared with its true effect: keep right when it is truly 5% better or
  more, roll back right when truly 5% worse, any verdict right when the truth is within 5%. No target.

The run's snippet tests also say how many changes were rolled back at their first look, and how many
later. Prints one line per world as it finishes and a table per kind at the end.
"""

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from _scenario_kinds import DECISIONS, DETECTION, KINDS, incidents_for, probe, true_effect, truth_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CLIENT = "scen"
DATA_LAG = 3  # days until the slower of GA4 and Search Console shows a day
TIMELY = 7  # days of data within which a hit page should be seen
# Notes about the search CTR loop's own snippet tests: rewritten, kept, restored, still being judged.
ROUTINE = ("search_ctr: rewrote", "search_ctr: keep", "search_ctr: restore", "search_ctr: rolled back")
# Notes that explain a measurement or a site-wide cause: what they name is not flagged as dropped.
EXPLAINED = (
    "traffic_drop: tracking: ",
    "traffic_drop: GA4 recorded almost no sessions of ",
    "traffic_drop: almost no sessions recorded ",
    "traffic_drop: the whole site's ",
    "search_ctr: Search Console",
)
ALARMS = ("traffic_drop:", "search_ctr:")  # the loops whose other notes report a page's drop or change
CHECKOUT = "traffic_drop: the whole site's key events"
SEVERAL = ("several pages", "moved at once", "pages at once", "algorithm update", "search engine update")  # one event
TRUE_EFFECT = 0.05  # a change truly this much better or worse should be kept or rolled back
LOOK = re.compile(r"\blook (\d+) of \d+")


@dataclass
class Outcome:
    kind: str
    seed: int
    hits: list[str] = field(default_factory=list)
    start: date | None = None
    reference: date | None = None  # the day the delay counts from
    seen: dict[str, date] = field(default_factory=dict)  # hit page -> the first day a note named it
    kept: int = 0
    judged: int = 0
    rollbacks: list[int] = field(default_factory=list)  # the look each rollback was decided at (0: no look)
    verdicts: list[tuple[str, float]] = field(default_factory=list)  # (verdict, true effect), taste worlds
    changed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the Director's run did not finish (a fatal loop error), as it says
    error: str | None = None  # the harness's own traceback: the world could not be run

    def delays(self) -> list[int]:
        reference = self.reference or self.start
        return [] if reference is None else sorted((day - reference).days for day in self.seen.values())


def mcp_json(url: str, port: int) -> dict[str, Any]:
    return {
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


def named(text: str, base: str, pages: set[str]) -> list[str]:
    """The site's pages a note names by URL (the home page only where its own URL stands alone)."""
    found = re.findall(re.escape(base) + r"(/[\w\-./%]*)", text)
    return [p for p in dict.fromkeys(found) if p in pages]


def score_mentions(outcome: Outcome, mentions: list[tuple[date, str]], base: str, pages: set[str]) -> None:
    """Which hit pages the loops named, from when; which pages a note flagged as dropped or changed."""
    hits = set(outcome.hits)
    start = outcome.start
    for when, text in sorted(mentions):
        names = named(text, base, pages)
        if text.startswith(ALARMS) and not text.startswith(EXPLAINED):
            outcome.flagged += [p for p in names if p not in outcome.flagged]
        if start is None or when < start:
            continue
        seen = [p for p in names if p in hits]
        if outcome.kind == "checkout_broken" and text.startswith(CHECKOUT):
            seen = ["*"]
        if outcome.kind == "algorithm_update" and hits and (2 * len(seen) >= len(hits) or _several(text)):
            seen = list(hits)  # the update seen as what it is: every page it moved
        for page in seen:
            outcome.seen.setdefault(page, when)


def _several(text: str) -> bool:
    return any(phrase in text.lower() for phrase in SEVERAL)


def score_decisions(outcome: Outcome, store: Any, run_id: str, traffic: Any, lock: Any, base: str) -> None:
    """Verdicts of the run's tests: kept, judged, the look of each rollback, and in taste worlds the true
    effect of each judged change."""
    decisions = store.decisions(run_id)
    final = {d["step"]: d for d in decisions if d["verdict"] != "continue"}  # the last look decides
    outcome.kept = sum(d["verdict"] == "keep" for d in final.values())
    outcome.judged = len(final)
    for d in final.values():
        if d["verdict"] == "rollback":
            look = LOOK.search(d["evidence"].get("reason", ""))
            outcome.rollbacks.append(int(look.group(1)) if look else 0)
    if outcome.kind not in DECISIONS:
        return
    for key, d in final.items():
        step = store.step(run_id, key)
        if step is None or not step.day or not d["object"].startswith(base):
            continue
        with lock:
            effect = true_effect(traffic, d["object"][len(base) :], date.fromisoformat(step.day[:10]))
        if effect is not None:
            outcome.verdicts.append((d["verdict"], effect))


async def scenario(kind: str, seed: int, days: int) -> Outcome:
    from credentials.keys import MasterKey
    from director.offline import OfflinePlanner
    from director.store import Store
    from sandbox import World, running
    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config
    from suite.director_cli import run_session
    from suite.wiring import create_server

    spec = incidents_for(kind, seed, probe(seed))
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
        truth = truth_of(kind, sb.world.traffic.incidents())
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
            planner=null_planner() if kind == "aa" else OfflinePlanner(),
            say=lambda _: None,
        )
        outcome = Outcome(kind, seed, truth.hits, truth.start, truth.reference, seconds=time.perf_counter() - started)
        run = store.run(run_id)
        if run["status"] not in ("done", "waiting"):  # waiting: a proposal only a person approves (republish)
            outcome.stopped = f"{run['status']}: {run['error'] or 'no error recorded'}"
        notes = store.notes(run_id)
        outcome.notes = [f"{n['day']}: {n['text']}" for n in notes]
        # What the loops said about a page, apart from the routine of the snippet tests they run anyway.
        mentions = [(n["day"], n["text"]) for n in notes if n["day"] and not n["text"].startswith(ROUTINE)]
        steps = [s for s in store.steps(run_id, loop="traffic_drop") if s.day]
        mentions += [(s.day, f"traffic_drop: {s.kind} {s.object}") for s in steps]
        with sb.world.lock:
            pages = set(sb.world.traffic.pages)
        score_mentions(outcome, [(date.fromisoformat(d[:10]), t) for d, t in mentions], sb.url, pages)
        score_decisions(outcome, store, run_id, sb.world.traffic, sb.world.lock, sb.url)
        outcome.changed = sorted({s.object for s in steps if s.kind == "change"})
        store.close()
        return outcome


def run_world(kind: str, seed: int, days: int) -> Outcome:
    """One world, start to end: what a worker process runs. A world that raises is an outcome too."""
    import logging

    logging.disable(logging.INFO)  # the servers' request logs
    try:
        return asyncio.run(scenario(kind, seed, days))
    except Exception:  # one world's crash must not lose the other worlds' results
        return Outcome(kind, seed, error=traceback.format_exc())


def line(o: Outcome) -> str:
    if o.error:
        return f"  {o.kind} seed {o.seed}: ERROR {o.error.strip().splitlines()[-1]}"
    hit = ", ".join(o.hits) if len(o.hits) <= 3 else f"{len(o.hits)} pages"
    seen = f"seen {len(o.seen)}/{len(o.hits)} (first {min(o.seen.values())})" if o.seen else "seen never"
    truth = ", ".join(f"{verdict} {effect:+.0%}" for verdict, effect in o.verdicts)
    return (
        f"  {o.kind} seed {o.seed}: {hit or '-'} from {o.start or '-'}, {seen if o.hits else 'no hit page'}, "
        f"kept {o.kept}/{o.judged}, changed {len(o.changed)}, flagged {len(o.flagged)} ({o.seconds:.0f} s)"
        + (f"; verdicts against the truth: {truth}" if truth else "")
        + (f"; the run stopped ({o.stopped})" if o.stopped else "")
    )


def table(outcomes: list[Outcome]) -> bool:
    ok = not any(o.error for o in outcomes)
    print(f"{'detection':<22}{'runs':>5}{'pages':>7}{'seen':>7}{f'<={TIMELY}d of data':>15}{'median delay':>14}")
    for kind in [k for k in KINDS if k in DETECTION]:
        mine = [o for o in outcomes if o.kind == kind and not o.error]
        if not mine:
            continue
        pages = sum(len(o.hits) for o in mine)
        delays = sorted(d for o in mine for d in o.delays())
        timely = sum(d <= TIMELY + DATA_LAG for d in delays) / max(1, pages)
        median = f"{delays[len(delays) // 2]} d" if delays else "-"
        print(f"{kind:<22}{len(mine):>5}{pages:>7}{len(delays) / max(1, pages):>7.0%}{timely:>15.0%}{median:>14}")
        ok &= timely >= 0.9
    print(f"\n{'false alarms':<22}{'runs':>5}{'pages flagged':>15}{'changed':>9}{'kept/judged':>13}")
    for kind in [k for k in KINDS if k not in DETECTION and k not in DECISIONS]:
        mine = [o for o in outcomes if o.kind == kind and not o.error]
        if not mine:
            continue
        flagged, changed = sum(len(o.flagged) for o in mine), sum(len(o.changed) for o in mine)
        kept, judged = sum(o.kept for o in mine), sum(o.judged for o in mine)
        print(f"{kind:<22}{len(mine):>5}{flagged:>15}{changed:>9}{f'{kept}/{judged}':>13}")
        ok &= flagged == 0 and changed == 0
        if kind == "aa":
            ok &= kept <= 0.05 * max(1, judged)
    taste = [v for o in outcomes if o.kind in DECISIONS and not o.error for v in o.verdicts]
    if not taste and any(o.kind in DECISIONS for o in outcomes):
        print("\ntaste: no change judged")
    if taste:
        keeps = [effect for verdict, effect in taste if verdict == "keep"]
        false_keeps = sum(effect < TRUE_EFFECT for effect in keeps)
        right = sum(map(_right, taste)) / len(taste)
        print(
            f"\ntaste: {len(taste)} changes judged against their true effect, {right:.0%} right;"
            f" {false_keeps} of {len(keeps)} keeps not truly {TRUE_EFFECT:.0%} better (no target)"
        )
    judged = sum(o.judged for o in outcomes)
    looks = [look for o in outcomes for look in o.rollbacks]
    print(
        f"harmful changes rolled back at the first look: {looks.count(1)} of {len(looks)} rollbacks "
        f"({sum(look > 1 for look in looks)} later, {looks.count(0)} without a look); {judged} changes judged"
    )
    stopped = [o for o in outcomes if o.stopped]
    if stopped:
        print(
            f"{len(stopped)} run(s) stopped before their last day: " + ", ".join(f"{o.kind} {o.seed}" for o in stopped)
        )
    errors = [o for o in outcomes if o.error]
    for o in errors:
        print(f"\n{o.kind} seed {o.seed} raised:\n{o.error}")
    return ok


def _right(judged: tuple[str, float]) -> bool:
    verdict, effect = judged
    if abs(effect) < TRUE_EFFECT:
        return True
    return verdict == ("keep" if effect > 0 else "rollback")


def main() -> int:
    parser = argparse.ArgumentParser(description="The Director's loops on sandbox scenarios.")
    parser.add_argument("--seeds", type=int, default=5, help="worlds per scenario kind")
    parser.add_argument("--days", type=int, default=24, help="simulated days per run")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated scenario kinds")
    parser.add_argument("--notes", action="store_true", help="print each run's notes")
    parser.add_argument("--jobs", type=int, default=1, help="worlds run at once, each in its own process")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; expected some of {', '.join(KINDS)}")
    worlds = [(kind, seed, args.days) for kind in kinds for seed in range(100, 100 + args.seeds)]
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        print(line(outcome), flush=True)
        if args.notes:
            print("\n".join(f"      {n}" for n in outcome.notes), flush=True)

    if args.jobs <= 1:
        for world in worlds:
            done(run_world(*world))
    else:
        # Spawned, not forked: each worker starts clean (no inherited logging, threads or event loop).
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            for future in as_completed([pool.submit(run_world, *world) for world in worlds]):
                done(future.result())
    outcomes.sort(key=lambda o: (KINDS.index(o.kind), o.seed))
    ok = table(outcomes)
    print(
        "PASS"
        if ok
        else "FAIL: below the targets (detection >= 90% within 7 days of the data, A/A <= 5%, no false alarm)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
