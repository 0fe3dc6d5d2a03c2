"""The Director's email loop on sandbox scenarios: what it sees, how late, and how often it is wrong.

    python benchmarks/email_scenarios.py [--seeds 5] [--days 21] [--kinds weak_campaign,deliverability_drop,...]

Each scenario is a fresh sandbox world (its own seed) with one email incident staged on an ESP and day
drawn from the seed, or none at all (`aa`). The Director runs its email loop over Mailchimp and
Customer.io for the simulated days, with changes auto-approved, and is scored against the sandbox's own
record of what it staged (`world.email.staged()`):

- weak_campaign: seen when a note names the campaign's subject or a subject test starts on it; the delay
  is counted from its send;
- deliverability_drop: seen when a deliverability incident is noted naming the first campaign hit, counted
  from its send; no subject test may start on any campaign it hit;
- list_fatigue: seen when list fatigue is noted on the ESP, counted from the send that shows it (the third
  campaign in a row sent soon after the one before); no subject test may start on a tired campaign;
- aa: any deliverability or fatigue report is a false alarm (so is one of the other kind in an incident's
  world).

Targets: detection >= 90% within 7 days of the send that shows it, no false alarm, no subject test on a
campaign whose problem is not its subject. Prints one row per kind and PASS or FAIL.
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
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CLIENT = "mail"
ESPS = ("mailchimp", "customerio")
KINDS = ("weak_campaign", "deliverability_drop", "list_fatigue", "aa")
SHOWN_BY = {"list_fatigue": 3}  # the n-th campaign hit shows the incident (the first, elsewhere)
REPORTS = {"deliverability_drop": "deliverability incident", "list_fatigue": "list fatigue"}
TIMELY_DAYS = 7


@dataclass
class Outcome:
    kind: str
    seed: int
    esp: str | None
    shown: date | None  # the send that shows the incident
    detected: date | None = None
    alarms: list[str] = field(default_factory=list)  # reports of an incident that was not staged
    misjudged: list[str] = field(default_factory=list)  # subject tests on campaigns whose problem is not the subject
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def delay(self) -> int | None:
        if self.detected is None or self.shown is None:
            return None
        return (self.detected - self.shown).days


def incidents_for(kind: str, seed: int) -> tuple[dict[str, Any], str | None]:
    """The incident spec of one scenario (the kind on an ESP and day drawn from the seed) and its ESP."""
    if kind == "aa":
        return {}, None
    if kind not in KINDS:
        raise ValueError(f"unknown scenario kind {kind}")
    rng = random.Random(f"email-scenario:{kind}:{seed}")
    esp = rng.choice(ESPS)
    return {kind: {"enabled": True, "day": rng.randint(3, 9), "esp": esp}}, esp


def mcp_json(url: str) -> dict[str, Any]:
    return {
        "clients": {
            CLIENT: {
                "sandbox": url,
                "servers": {
                    "mailchimp": {"settings": {"api_base": f"{url}/mailchimp/3.0"}},
                    "customerio": {
                        "settings": {
                            "app_api_base": f"{url}/customerio/app/v1",
                            "track_api_base": f"{url}/customerio/track/api",
                        },
                        # Customer.io's published 10 requests a second would make the runs wait; the sandbox takes more.
                        "rate_limits": {"upstream": "100000/min"},
                    },
                },
                "director": {"auto_approve": ["*"]},
            }
        }
    }


async def scenario(kind: str, seed: int, days: int) -> Outcome:
    from credentials.keys import MasterKey
    from director.loops.email_engagement import NAME
    from director.store import Store
    from sandbox import World, running
    from suite.auth import sign_in_at_sandbox
    from suite.config import parse_config
    from suite.director_cli import run_session
    from suite.wiring import create_server

    spec, esp = incidents_for(kind, seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, running(world=World(seed=seed, incidents=spec)) as sb:
        os.environ["MARKETING_MCP_HOME"] = str(Path(tmp) / "home")
        os.environ["MARKETING_MCP_KEYRING"] = "none"
        os.environ["MARKETING_MCP_VAULT_KEY"] = MasterKey.generate().to_text()  # a throwaway vault per world
        raw = mcp_json(sb.url)
        path = Path(tmp) / "mcp.json"
        path.write_text(json.dumps(raw))
        config = parse_config(raw)
        sign_in_at_sandbox(config, CLIENT, io.StringIO())
        targets = {s: create_server(config, CLIENT, s) for s in ESPS}
        store = Store(Path(tmp) / "director.sqlite")
        run_id = await run_session(store, path, CLIENT, loops=[NAME], days=days, targets=targets, say=lambda _: None)
        staged = sb.world.email.staged(kind) if kind != "aa" else []
        shown = staged[SHOWN_BY.get(kind, 1) - 1] if len(staged) >= SHOWN_BY.get(kind, 1) else None
        outcome = Outcome(kind, seed, esp, shown.sent_at.date() if shown else None)
        notes = store.notes(run_id)
        outcome.notes = [f"{n['day']}: {n['text']}" for n in notes]
        tests = [t for t in store.client_steps(CLIENT, loop=NAME, kind="test")]
        for note in notes:
            text, day = note["text"], date.fromisoformat(note["day"])
            for other, words in REPORTS.items():
                if words in text and other != kind:
                    outcome.alarms.append(f"{day}: {text[:120]}")
            if shown is None or outcome.detected is not None or day < shown.sent_at.date():
                continue
            if kind == "weak_campaign":
                named = shown.subject in text
            else:  # a deliverability incident names its campaign, fatigue its ESP
                named = (
                    REPORTS[kind] in text
                    and (shown.campaign_id if kind == "deliverability_drop" else f"{esp}:") in text
                )
            if named:
                outcome.detected = day
        if kind == "weak_campaign" and shown is not None:
            started_on = [date.fromisoformat(t.day or "") for t in tests if t.data["source"] == shown.campaign_id]
            if started_on and (outcome.detected is None or min(started_on) < outcome.detected):
                outcome.detected = min(started_on)
        elif kind in REPORTS:
            hit = {s.campaign_id for s in staged}
            outcome.misjudged = [t.data["source"] for t in tests if t.data["source"] in hit]
        outcome.seconds = time.perf_counter() - started
        store.close()
        return outcome


def table(outcomes: list[Outcome]) -> bool:
    ok = True
    print(
        f"{'scenario':<22}{'runs':>6}{'seen':>7}{f'<={TIMELY_DAYS}d after send':>18}{'median delay':>14}"
        f"{'false alarms':>14}{'tests on it':>13}"
    )
    for kind in dict.fromkeys(o.kind for o in outcomes):
        mine = [o for o in outcomes if o.kind == kind]
        alarms = sum(len(o.alarms) for o in mine)
        misjudged = sum(len(o.misjudged) for o in mine)
        ok &= alarms == 0 and misjudged == 0
        if kind == "aa":
            print(f"{kind:<22}{len(mine):>6}{'':>7}{'':>18}{'':>14}{alarms:>14}{'':>13}")
            continue
        delays = sorted(o.delay for o in mine if o.delay is not None)
        seen = len(delays) / len(mine)
        timely = sum(d <= TIMELY_DAYS for d in delays) / len(mine)
        median = f"{delays[len(delays) // 2]} d" if delays else "-"
        tested = "" if kind == "weak_campaign" else misjudged
        print(f"{kind:<22}{len(mine):>6}{seen:>7.0%}{timely:>18.0%}{median:>14}{alarms:>14}{tested:>13}")
        ok &= timely >= 0.9
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="The Director's email loop on sandbox scenarios.")
    parser.add_argument("--seeds", type=int, default=5, help="worlds per scenario kind")
    parser.add_argument("--days", type=int, default=21, help="simulated days per run")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated scenario kinds")
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
                f"  {outcome.kind} seed {seed}: {outcome.esp or '-'}, shown {outcome.shown or '-'}, "
                f"seen {outcome.detected or 'never'}, false alarms {len(outcome.alarms)}, "
                f"subject tests on it {len(outcome.misjudged)} ({outcome.seconds:.0f} s)",
                flush=True,
            )
            if args.notes:
                print("\n".join(f"      {n}" for n in outcome.notes + outcome.alarms))
    ok = table(outcomes)
    print(
        "PASS"
        if ok
        else f"FAIL: below the targets (detection >= 90% within {TIMELY_DAYS} days of the send, no false alarm, "
        "no subject test on a campaign whose problem is not its subject)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
