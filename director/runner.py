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
from enum import Enum
from typing import Any, Awaitable, Callable, Protocol

from .plan import PlanError
from .planner import Planner
from .pool import Outcome, ServerPool
from .store import SETTLED, ApprovalStatus, Step, StepStatus, Store

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
                (
                    await http.post(f"{self.url}/_sandbox/clock/advance", json={"days": (day - today).days})
                ).raise_for_status()
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

    def approves(self, qualified: str, *, wildcard: bool = True) -> bool:
        """Whether the tool is auto-approved: named (with or without its server), or by "*" unless the write
        asks to be named (`wildcard=False`)."""
        name = qualified.split(".", 1)[-1]
        return (wildcard and "*" in self.auto_approve) or qualified in self.auto_approve or name in self.auto_approve


class Director:
    def __init__(
        self,
        *,
        store: Store,
        pool: ServerPool,
        planner: Planner,
        policy: Policy,
        client: str,
        run_id: str,
        clock: Clock,
        dry_run: bool = False,
        say: Callable[[str], None] = print,
    ):
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
        self.store.record_call(
            self.run_id, step, tool, args, dry_run, outcome.ok, outcome.data or outcome.text, outcome.ms
        )
        return outcome

    # -- writes -----------------------------------------------------------------------------------

    async def write(
        self,
        key: str,
        *,
        loop: str,
        object: str,
        tool: str,
        args: dict,
        kind: str = "change",
        applied: Callable[[], Awaitable[bool]] | None = None,
        data: dict | None = None,
        part_of: str | None = None,
        named: bool = False,
    ) -> dict | None:
        """Do one write, once. Returns the tool's result, or None while it waits (approval) or was refused.

        `applied`: reads whether the change is in place (for an attempt killed mid-call). `part_of`: the
        step this write completes (publishing an approved edit); its approval covers this one. `named`: only
        an auto_approve entry naming the tool lets it through without an approval, not "*".
        """
        spec = self.pool.catalog.get(tool)
        if spec.read_only:
            raise PlanError(f"{tool} is read-only; it is not a change.")
        w = _Write(
            key=key,
            loop=loop,
            object=object,
            kind=kind,
            tool=tool,
            args=args,
            part_of=part_of,
            named=named,
            spend=(data or {}).get("spend"),
            day=self.today.isoformat(),
            record={"tool": tool, "args": args, **(data or {})},
        )
        resume = await self._reconcile(w, self.store.step(self.run_id, key), applied)
        if isinstance(resume, _Settled):
            return resume.result
        if not await self._gate(w, preview=spec.takes_dry_run, checked=resume is _Resume.AT_APPROVAL):
            return None
        return await self._execute(w)

    async def _reconcile(
        self, w: "_Write", earlier: Step | None, applied: Callable[[], Awaitable[bool]] | None
    ) -> "_Settled | _Resume":
        """What an earlier attempt of this step leaves to do: nothing (done or settled), the approval (it
        passed the caps and the preview), or everything."""
        if earlier is None:
            return _Resume.FROM_START
        if earlier.status is StepStatus.DONE:
            return _Settled(earlier.result)
        if earlier.status in SETTLED:
            return _Settled(None)
        if earlier.status is StepStatus.STARTED:  # killed mid-call: did it happen?
            if applied is not None and await applied():
                self._put(w, StepStatus.DONE, result={"reconciled": True})
                self.say(f"   {w.tool} for {w.object} had gone through before the restart; not repeated")
                return _Settled({"reconciled": True})
            return _Resume.AT_APPROVAL
        if earlier.status is StepStatus.AWAITING:
            return _Resume.AT_APPROVAL
        return _Resume.FROM_START

    async def _gate(self, w: "_Write", *, preview: bool, checked: bool) -> bool:
        """Caps, the recorded dry run, the approval: whether the write may go ahead now.
        `checked`: an earlier attempt passed the caps and the preview."""
        if not checked and not await self._checks(w, preview):
            return False
        return self._approved(w)

    async def _checks(self, w: "_Write", preview: bool) -> bool:
        refusal = self._caps(w.object, w.kind, w.spend)
        if refusal:
            self._put(w, StepStatus.REFUSED, why=refusal)
            self.store.note(self.run_id, w.day, f"{w.loop}: not changing {w.object}: {refusal}")
            return False
        if preview:
            shown = await self._call(w.tool, {**w.args, "dry_run": True}, step=w.key, dry_run=True)
            if not shown.ok:
                self._put(w, StepStatus.FAILED, why=shown.text)
                self.store.note(self.run_id, w.day, f"{w.loop}: {w.tool} for {w.object} refused: {shown.text}")
                return False
            w.record["preview"] = shown.data
        if self.dry_run:
            self._put(w, StepStatus.PREVIEWED)
            self.say(f"   (dry run) would call {w.tool} for {w.object}")
            return False
        return True

    def _approved(self, w: "_Write") -> bool:
        if self._allowed(w.tool, w.part_of, w.named):
            return True
        approval = self.store.approval_for(self.run_id, w.key) or self.store.request_approval(
            self.run_id, w.key, w.tool, w.args, w.record.get("preview", {})
        )
        if approval.status is ApprovalStatus.PENDING:
            self._put(w, StepStatus.AWAITING)
            self.say(
                f"   {w.tool} for {w.object} waits for approval #{approval.id} "
                f"(`marketing-mcp director approve {approval.id}`)"
            )
            return False
        if approval.status is ApprovalStatus.DENIED:
            self._put(w, StepStatus.DENIED)
            return False
        return True

    async def _execute(self, w: "_Write") -> dict | None:
        """The call itself, recorded `started` before and `done` (or `failed`) after."""
        self._put(w, StepStatus.STARTED)
        outcome = await self._call(w.tool, w.args, step=w.key)
        if not outcome.ok:
            self._put(w, StepStatus.FAILED, why=outcome.text, result=outcome.data)
            self.store.note(self.run_id, w.day, f"{w.loop}: {w.tool} for {w.object} failed: {outcome.text}")
            return None
        self._put(w, StepStatus.DONE, result=outcome.data)
        return outcome.data

    def _put(self, w: "_Write", status: StepStatus, *, result: Any = None, why: str | None = None) -> None:
        data = w.record if why is None else {**w.record, "why": why}
        self.store.put_step(
            self.run_id,
            w.key,
            loop=w.loop,
            object=w.object,
            kind=w.kind,
            status=status,
            data=data,
            result=result,
            day=w.day,
        )

    def _allowed(self, tool: str, part_of: str | None, named: bool = False) -> bool:
        """Whether the write may go ahead without an approval of its own."""
        if self.policy.approves(tool, wildcard=not named):
            return True
        if part_of is None:
            return False
        parent = self.store.step(self.run_id, part_of)
        approval = self.store.approval_for(self.run_id, part_of)
        return (parent is not None and self.policy.approves(parent.data["tool"])) or (
            approval is not None and approval.status is ApprovalStatus.APPROVED
        )

    def _caps(self, object: str, kind: str, spend: tuple[float, float] | None = None) -> str | None:
        """Why the policy refuses this change, or None. `spend`: (before, after) of money it would commit."""
        if kind != "change":
            return None  # a rollback restores; it is never capped
        if spend is not None:
            before, after = spend
            if before <= 0 or abs(after - before) / before > self.policy.max_spend_change:
                return (
                    f"it moves spend from {before:g} to {after:g}; the policy allows at most "
                    f"{self.policy.max_spend_change:.0%} either way"
                )
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
        self.record(f"{loop}:checked:{self.today}", loop=loop, object="", kind="check", data={})

    def record(
        self,
        key: str,
        *,
        loop: str,
        object: str,
        kind: str,
        data: dict,
        status: StepStatus = StepStatus.DONE,
        run_id: str | None = None,
    ) -> None:
        """A step dated today: a check made, a finding reported, a test started. `run_id`: the run it belongs
        to when not this one (what follows a change or a test an earlier run made)."""
        self.store.put_step(
            run_id or self.run_id,
            key,
            loop=loop,
            object=object,
            kind=kind,
            status=status,
            data=data,
            day=self.today.isoformat(),
        )

    def cooling(self, object: str) -> bool:
        return self.store.cooling(self.client, object, self.today.isoformat())

    def cool(self, object: str, days: int | None = None) -> None:
        until = self.today + timedelta(days=self.policy.cooldown_days if days is None else days)
        self.store.cool(self.client, object, until.isoformat())

    def note(self, text: str) -> None:
        if self.store.note(self.run_id, self.today.isoformat(), text):
            self.say(f"   {text}")


@dataclass
class _Write:
    """One write as `Director.write` carries it through reconcile, gate and execute."""

    key: str
    loop: str
    object: str
    kind: str
    tool: str
    args: dict
    part_of: str | None
    named: bool
    spend: tuple[float, float] | None
    day: str
    record: dict  # the step's data: tool, args, the caller's data, and the preview once there is one


@dataclass(frozen=True)
class _Settled:
    """An earlier attempt settled the step: this is its result (None: refused, denied, failed or previewed)."""

    result: dict | None


class _Resume(Enum):
    FROM_START = "from_start"
    AT_APPROVAL = "at_approval"  # an earlier attempt passed the caps and the preview


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
    waiting = any(s.status is StepStatus.AWAITING for s in d.store.steps(d.run_id))
    status = "waiting" if waiting else "done"
    d.store.update_run(d.run_id, status=status)
    return status
