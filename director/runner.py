"""The Director's run: days go by, each loop takes its turn, every action goes through the gate.

A run is a sequence of simulated (sandbox) or real days. On each day every loop advances: it
measures the changes it is waiting on, decides those that have enough data, and looks for new
problems. Progress is written to the store before the clock moves, so `director resume` after a
SIGKILL picks up the day it was on, and the steps already done are not done again.

Writes go through `Director.write`: caps first, then a dry run whose preview is recorded, then an
approval unless the client's policy auto-approves the tool, then the call, recorded as `started`
before and `done` after. A step found `started` on resume may or may not have happened; the loop
tells by reading the object (`applied`), and only if it did not happen is it sent again.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Awaitable, Callable, Protocol

from .plan import PlanError
from .planner import Planner
from .pool import Outcome, ServerPool
from .store import Store

log = logging.getLogger("marketing_mcp.director")


class LoopError(RuntimeError):
    """A read the loop needs failed; the loop skips this turn and says why. `kind` is the tool's error type."""

    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind


FATAL = ("auth_error", "permission_denied")  # no later day fixes these: the run stops and says what to do


class NotYet(Exception):
    """The next day has not come yet (a real clock): the run waits and is resumed later."""


class Clock(Protocol):
    async def today(self) -> date: ...

    async def advance_to(self, day: date) -> date: ...


class SandboxClock:
    """The sandbox's business calendar: waiting for data is moving it on."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    async def today(self) -> date:
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            state = (await http.get(f"{self.url}/_sandbox/state")).json()
        return date.fromisoformat(state["clock"][:10])

    async def advance_to(self, day: date) -> date:
        import httpx

        today = await self.today()
        if day > today:  # idempotent: a resumed run never moves the world twice
            async with httpx.AsyncClient(timeout=30) as http:
                (await http.post(f"{self.url}/_sandbox/clock/advance",
                                 json={"days": (day - today).days})).raise_for_status()
        return max(day, today)


class RealClock:
    """Real days: a run that must wait for tomorrow's data stops, and `director resume` continues it."""

    async def today(self) -> date:
        return date.today()

    async def advance_to(self, day: date) -> date:
        if day > date.today():
            raise NotYet(day)
        return day


@dataclass
class Policy:
    auto_approve: list[str] = field(default_factory=list)
    max_changes_per_object_per_day: int = 1
    max_changes_per_run: int = 10
    max_spend_change: float = 0.2
    cooldown_days: int = 21
    min_impressions: int = 500

    def approves(self, qualified: str) -> bool:
        name = qualified.split(".", 1)[-1]
        return "*" in self.auto_approve or qualified in self.auto_approve or name in self.auto_approve


class Director:
    def __init__(self, *, store: Store, pool: ServerPool, planner: Planner, policy: Policy, client: str,
                 run_id: str, clock: Clock, dry_run: bool = False, say: Callable[[str], None] = print):
        self.store, self.pool, self.planner, self.policy = store, pool, planner, policy
        self.client, self.run_id, self.clock, self.dry_run, self.say = client, run_id, clock, dry_run, say
        self.today: date = date.min
        self.start: date = date.min  # the run's first day (set by run_days)
        self.memory: dict[str, Any] = {}  # per-process caches (URL -> post); rebuilt after a resume

    # -- reads ------------------------------------------------------------------------------------

    async def read(self, tool: str, args: dict, *, step: str | None = None) -> dict:
        outcome = await self._call(tool, args, step=step)
        if not outcome.ok:
            raise LoopError(f"{tool} failed: {outcome.text}", outcome.error.get("type", ""))
        return outcome.data

    async def _call(self, tool: str, args: dict, *, step: str | None, dry_run: bool = False) -> Outcome:
        self.pool.catalog.check_arguments(tool, args)
        outcome = await self.pool.call(tool, args)
        self.store.record_call(self.run_id, step, tool, args, dry_run, outcome.ok, outcome.data or outcome.text,
                               outcome.ms)
        return outcome

    # -- writes -----------------------------------------------------------------------------------

    async def write(self, key: str, *, loop: str, object: str, tool: str, args: dict, kind: str = "change",
                    applied: Callable[[], Awaitable[bool]] | None = None, data: dict | None = None,
                    part_of: str | None = None) -> dict | None:
        """Do one write, once. Returns the tool's result, or None while it waits (approval) or was refused.

        `part_of`: the step this write completes (publishing an approved edit); its approval covers this one.
        """
        spec = self.pool.catalog.get(tool)
        if spec.read_only:
            raise PlanError(f"{tool} is read-only; it is not a change.")
        step = self.store.step(self.run_id, key)
        day = self.today.isoformat()
        record = {"tool": tool, "args": args, **(data or {})}
        if step and step["status"] == "done":
            return step["result"]
        if step and step["status"] in ("denied", "refused", "failed", "previewed"):
            return None
        if step and step["status"] == "started":  # killed mid-call: did it happen?
            if applied is not None and await applied():
                self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="done",
                                    data=record, result={"reconciled": True}, day=day)
                self.say(f"   {tool} for {object} had gone through before the restart; not repeated")
                return {"reconciled": True}
        elif not step or step["status"] != "awaiting":
            refusal = self._caps(object, kind, (data or {}).get("spend"))
            if refusal:
                self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="refused",
                                    data={**record, "why": refusal}, day=day)
                self.store.note(self.run_id, day, f"{loop}: not changing {object}: {refusal}")
                return None
            if spec.takes_dry_run:
                preview = await self._call(tool, {**args, "dry_run": True}, step=key, dry_run=True)
                if not preview.ok:
                    self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="failed",
                                        data={**record, "why": preview.text}, day=day)
                    self.store.note(self.run_id, day, f"{loop}: {tool} for {object} refused: {preview.text}")
                    return None
                record["preview"] = preview.data
            if self.dry_run:
                self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="previewed",
                                    data=record, day=day)
                self.say(f"   (dry run) would call {tool} for {object}")
                return None
        if not self._allowed(tool, part_of):
            approval = self.store.approval_for(self.run_id, key) or self.store.request_approval(
                self.run_id, key, tool, args, record.get("preview", {}))
            if approval["status"] == "pending":
                self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="awaiting",
                                    data=record, day=day)
                self.say(f"   {tool} for {object} waits for approval #{approval['id']} "
                         f"(`marketing-mcp director approve {approval['id']}`)")
                return None
            if approval["status"] == "denied":
                self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="denied",
                                    data=record, day=day)
                return None
        self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status="started", data=record,
                            day=day)
        outcome = await self._call(tool, args, step=key)
        status = "done" if outcome.ok else "failed"
        self.store.put_step(self.run_id, key, loop=loop, object=object, kind=kind, status=status,
                            data={**record, **({} if outcome.ok else {"why": outcome.text})},
                            result=outcome.data, day=day)
        if not outcome.ok:
            self.store.note(self.run_id, day, f"{loop}: {tool} for {object} failed: {outcome.text}")
            return None
        return outcome.data

    def _allowed(self, tool: str, part_of: str | None) -> bool:
        """Whether the write may go ahead without an approval of its own."""
        if self.policy.approves(tool):
            return True
        if part_of is None:
            return False
        parent = self.store.step(self.run_id, part_of)
        approval = self.store.approval_for(self.run_id, part_of) or {}
        return self.policy.approves(parent["data"]["tool"]) or approval.get("status") == "approved"

    def _caps(self, object: str, kind: str, spend: tuple[float, float] | None = None) -> str | None:
        """Why the policy refuses this change, or None. `spend`: (before, after) of money it would commit."""
        if kind != "change":
            return None  # a rollback restores; it is never capped
        if spend is not None:
            before, after = spend
            if before <= 0 or abs(after - before) / before > self.policy.max_spend_change:
                return (f"it moves spend from {before:g} to {after:g}; the policy allows at most "
                        f"{self.policy.max_spend_change:.0%} either way")
        day = self.today.isoformat()
        if self.store.changes_today(self.client, object, day) >= self.policy.max_changes_per_object_per_day:
            return f"the policy allows {self.policy.max_changes_per_object_per_day} change(s) per object per day"
        if self.store.changes_in_run(self.run_id) >= self.policy.max_changes_per_run:
            return f"the policy allows {self.policy.max_changes_per_run} change(s) per run"
        return None

    # -- bookkeeping --------------------------------------------------------------------------------

    def due(self, loop: str, every: int) -> bool:
        """Whether the loop's check, made every `every` days from the run's first day, is still to do today
        (a resumed day does not look for problems twice)."""
        if (self.today - self.start).days % every:
            return False
        return self.store.step(self.run_id, f"{loop}:checked:{self.today}") is None

    def checked(self, loop: str) -> None:
        self.store.put_step(self.run_id, f"{loop}:checked:{self.today}", loop=loop, object="", kind="check",
                            status="done", data={}, day=self.today.isoformat())

    def cooling(self, object: str) -> bool:
        return self.store.cooling(self.client, object, self.today.isoformat())

    def cool(self, object: str, days: int | None = None) -> None:
        until = self.today + timedelta(days=self.policy.cooldown_days if days is None else days)
        self.store.cool(self.client, object, until.isoformat())

    def note(self, text: str) -> None:
        if self.store.note(self.run_id, self.today.isoformat(), text):
            self.say(f"   {text}")


class Loop(Protocol):
    name: str

    def wanted(self, pool: ServerPool) -> bool:
        """Whether the servers it needs are there."""
        ...

    async def tick(self, d: Director) -> None: ...


async def run_days(d: Director, loops: list[Loop], days: int) -> str:
    """Advance the run day by day from where it stopped; returns the run's final status."""
    run = d.store.run(d.run_id)
    if run["clock"]:  # resuming: the world may not have been moved yet
        try:
            await d.clock.advance_to(date.fromisoformat(run["clock"]))
        except NotYet:
            return "waiting"
    d.store.update_run(d.run_id, status="running")
    start = date.fromisoformat(run["sim_start"]) if run["sim_start"] else await d.clock.today()
    if not run["sim_start"]:
        d.store.update_run(d.run_id, sim_start=start.isoformat())
    d.start = start
    first = run["day"]
    if first >= days and run["status"] == "waiting":
        first = days - 1  # approvals came in: the last day runs again (a day's turn is idempotent)
    for index in range(first, days):
        d.today = start + timedelta(days=index)
        d.say(f"-- day {index + 1}/{days}: {d.today}")
        for loop in loops:
            try:
                await loop.tick(d)
            except LoopError as exc:
                if exc.kind in FATAL:
                    d.store.update_run(d.run_id, status="failed", error=str(exc))
                    d.say(f"   stopped: {exc}")
                    return "failed"
                d.note(f"{loop.name}: skipped today: {exc}")
        nxt = start + timedelta(days=index + 1)
        d.store.update_run(d.run_id, day=index + 1, clock=nxt.isoformat())
        if index + 1 < days:
            try:
                await d.clock.advance_to(nxt)
            except NotYet:
                d.store.update_run(d.run_id, status="waiting")
                d.say(f"   waiting for {nxt} (`marketing-mcp director resume` then)")
                return "waiting"
    waiting = any(s["status"] == "awaiting" for s in d.store.steps(d.run_id))
    status = "waiting" if waiting else "done"
    d.store.update_run(d.run_id, status=status)
    return status
