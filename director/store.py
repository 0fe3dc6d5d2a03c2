"""The Director's memory: one SQLite file with runs, steps, tool calls, approvals, snapshots,
measurements, decisions, cooldowns and cost.

Every action is a step with a key that is the same on every attempt (loop, object, what). A step
is written as `started` before its tool is called and `done` after, in their own transactions, so
a Director killed at any point resumes knowing which actions finished, which may have happened
(reconciled by reading the object), and which never started.
"""

import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, client TEXT NOT NULL, loops TEXT NOT NULL, days INTEGER NOT NULL,
    dry_run INTEGER NOT NULL, planner TEXT NOT NULL, status TEXT NOT NULL, day INTEGER NOT NULL DEFAULT 0,
    sim_start TEXT, clock TEXT, config TEXT, started REAL NOT NULL, finished REAL,
    input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0, pid INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, key TEXT NOT NULL, loop TEXT NOT NULL, object TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, data TEXT NOT NULL, result TEXT, day TEXT, updated REAL NOT NULL,
    PRIMARY KEY (run_id, key));
CREATE TABLE IF NOT EXISTS tool_calls (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, step TEXT, tool TEXT NOT NULL, arguments TEXT NOT NULL,
    dry_run INTEGER NOT NULL, ok INTEGER NOT NULL, result TEXT, ms REAL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, step TEXT NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL,
    preview TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL, resolved REAL, note TEXT,
    UNIQUE (run_id, step));
CREATE TABLE IF NOT EXISTS snapshots (
    run_id TEXT NOT NULL, step TEXT NOT NULL, object TEXT NOT NULL, state TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, loop TEXT NOT NULL, object TEXT NOT NULL, kpi TEXT NOT NULL,
    role TEXT NOT NULL, day TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, object, kpi, role, day));
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, step TEXT NOT NULL, loop TEXT NOT NULL, object TEXT NOT NULL,
    verdict TEXT NOT NULL, evidence TEXT NOT NULL, day TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cooldowns (
    client TEXT NOT NULL, object TEXT NOT NULL, until TEXT NOT NULL, PRIMARY KEY (client, object));
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, day TEXT, text TEXT NOT NULL, UNIQUE (run_id, text));
"""


class StepStatus(str, Enum):
    """Where a step is. The values are the strings stored in `steps.status`, so older databases read."""

    STARTED = "started"  # the tool was about to be called: it may or may not have happened
    DONE = "done"
    FAILED = "failed"  # the tool (or its dry run) answered with an error
    REFUSED = "refused"  # the policy's caps refused it before anything was called
    PREVIEWED = "previewed"  # a dry-run Director stopped after the preview
    AWAITING = "awaiting"  # waiting for an approval
    DENIED = "denied"  # the approval was denied
    OPEN = "open"  # a loop's own record that is still going (an email test)
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


SETTLED = frozenset({StepStatus.DENIED, StepStatus.REFUSED, StepStatus.FAILED, StepStatus.PREVIEWED})
"""A write step in one of these is over without a result: a later attempt does nothing."""


class ApprovalStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Step:
    run_id: str
    key: str  # the same on every attempt: loop, object, what
    loop: str
    object: str
    kind: str  # "change", "rollback", "check", "test", ...
    status: StepStatus
    data: dict[str, Any]
    result: Any
    day: str | None
    updated: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Step":
        return cls(
            run_id=row["run_id"],
            key=row["key"],
            loop=row["loop"],
            object=row["object"],
            kind=row["kind"],
            status=StepStatus(row["status"]),
            data=json.loads(row["data"]),
            result=json.loads(row["result"]) if row["result"] else None,
            day=row["day"],
            updated=row["updated"],
        )

    def dated(self) -> date:
        """The day the step was recorded on; every write records one."""
        if self.day is None:
            raise ValueError(f"step {self.key} has no day")
        return date.fromisoformat(self.day)


@dataclass(frozen=True)
class ToolCall:
    id: int
    run_id: str
    step: str | None
    tool: str
    arguments: Any  # as recorded: secrets redacted, long values cut
    dry_run: bool
    ok: bool
    result: Any
    ms: float | None
    at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "ToolCall":
        return cls(
            id=row["id"],
            run_id=row["run_id"],
            step=row["step"],
            tool=row["tool"],
            arguments=json.loads(row["arguments"]),
            dry_run=bool(row["dry_run"]),
            ok=bool(row["ok"]),
            result=json.loads(row["result"]) if row["result"] else None,
            ms=row["ms"],
            at=row["at"],
        )


@dataclass(frozen=True)
class Approval:
    id: int
    run_id: str
    step: str
    tool: str
    arguments: str  # JSON as recorded (secrets redacted), the way the CLI shows it
    preview: str  # JSON of the dry run's result
    status: ApprovalStatus
    created: float
    resolved: float | None
    note: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Approval":
        return cls(
            id=row["id"],
            run_id=row["run_id"],
            step=row["step"],
            tool=row["tool"],
            arguments=row["arguments"],
            preview=row["preview"],
            status=ApprovalStatus(row["status"]),
            created=row["created"],
            resolved=row["resolved"],
            note=row["note"],
        )


_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential", re.I)


def redact(value: Any) -> Any:
    """Arguments as recorded: values under secret-looking keys replaced."""
    if isinstance(value, dict):
        return {k: "[redacted]" if _SECRET_KEYS.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _json(value: Any, limit: int | None = None) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if limit is None or len(text) <= limit else json.dumps({"truncated": text[:limit]})


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)  # autocommit; `with tx`
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a step marked done survives a power cut too
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, *args: Any) -> dict | None:
        row = self.db.execute(sql, args).fetchone()
        return dict(row) if row else None

    def _all(self, sql: str, *args: Any) -> list[dict]:
        return [dict(r) for r in self.db.execute(sql, args).fetchall()]

    # -- runs ---------------------------------------------------------------------------------

    def new_run(
        self, client: str, loops: list[str], days: int, dry_run: bool, planner: str, config: dict | None = None
    ) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
        self.db.execute(
            "INSERT INTO runs (id, client, loops, days, dry_run, planner, status, config, started) "
            "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
            (run_id, client, _json(loops), days, int(dry_run), planner, _json(config or {}), time.time()),
        )
        return run_id

    def run(self, run_id: str) -> dict:
        row = self._one("SELECT * FROM runs WHERE id = ?", run_id)
        if row is None:
            raise KeyError(run_id)
        row["loops"] = json.loads(row["loops"])
        row["config"] = json.loads(row["config"] or "{}")
        return row

    def runs(self, *statuses: str) -> list[dict]:
        if statuses:
            marks = ",".join("?" * len(statuses))
            return self._all(f"SELECT * FROM runs WHERE status IN ({marks}) ORDER BY started DESC", *statuses)
        return self._all("SELECT * FROM runs ORDER BY started DESC")

    def update_run(self, run_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE runs SET {cols} WHERE id = ?", (*fields.values(), run_id))

    def add_usage(self, run_id: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        self.db.execute(
            "UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
            "cost_usd = cost_usd + ? WHERE id = ?",
            (input_tokens, output_tokens, cost_usd, run_id),
        )

    # -- steps ----------------------------------------------------------------------------------

    def step(self, run_id: str, key: str) -> Step | None:
        row = self.db.execute("SELECT * FROM steps WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()
        return Step.from_row(row) if row else None

    def steps(self, run_id: str, loop: str | None = None, kind: str | None = None) -> list[Step]:
        rows = self.db.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY updated", (run_id,)).fetchall()
        return [Step.from_row(r) for r in rows if not (loop and r["loop"] != loop) and not (kind and r["kind"] != kind)]

    def put_step(
        self,
        run_id: str,
        key: str,
        *,
        loop: str,
        object: str,
        kind: str,
        status: StepStatus,
        data: dict,
        result: Any = None,
        day: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO steps (run_id, key, loop, object, kind, status, data, result, day, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET status = excluded.status, "
            "data = excluded.data, result = excluded.result, day = COALESCE(excluded.day, steps.day), "
            "updated = excluded.updated",
            (
                run_id,
                key,
                loop,
                object,
                kind,
                StepStatus(status).value,
                _json(data),
                None if result is None else _json(result, 20000),
                day,
                time.time(),
            ),
        )

    # -- tool calls -----------------------------------------------------------------------------

    def record_call(
        self, run_id: str, step: str | None, tool: str, arguments: dict, dry_run: bool, ok: bool, result: Any, ms: float
    ) -> None:
        self.db.execute(
            "INSERT INTO tool_calls (run_id, step, tool, arguments, dry_run, ok, result, ms, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                step,
                tool,
                _json(redact(arguments), 4000),
                int(dry_run),
                int(ok),
                _json(result, 4000),
                ms,
                time.time(),
            ),
        )

    def calls(self, run_id: str, step: str | None = None) -> list[ToolCall]:
        if step is None:
            rows = self.db.execute("SELECT * FROM tool_calls WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM tool_calls WHERE run_id = ? AND step = ? ORDER BY id", (run_id, step)
            ).fetchall()
        return [ToolCall.from_row(r) for r in rows]

    def call_count(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM tool_calls WHERE run_id = ?", (run_id,)).fetchone()[0]

    # -- approvals ------------------------------------------------------------------------------

    def request_approval(self, run_id: str, step: str, tool: str, arguments: dict, preview: Any) -> Approval:
        self.db.execute(
            "INSERT OR IGNORE INTO approvals (run_id, step, tool, arguments, preview, status, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                step,
                tool,
                _json(redact(arguments)),
                _json(preview, 8000),
                ApprovalStatus.PENDING.value,
                time.time(),
            ),
        )
        return self._approval_or_missing("SELECT * FROM approvals WHERE run_id = ? AND step = ?", run_id, step)

    def approval_for(self, run_id: str, step: str) -> Approval | None:
        return self._approval("SELECT * FROM approvals WHERE run_id = ? AND step = ?", run_id, step)

    def approval(self, approval_id: int) -> Approval | None:
        return self._approval("SELECT * FROM approvals WHERE id = ?", approval_id)

    def approvals(self, status: ApprovalStatus | None = ApprovalStatus.PENDING) -> list[Approval]:
        if status is None:
            rows = self.db.execute("SELECT * FROM approvals ORDER BY id").fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM approvals WHERE status = ? ORDER BY id", (ApprovalStatus(status).value,)
            ).fetchall()
        return [Approval.from_row(r) for r in rows]

    def resolve(self, approval_id: int, approved: bool, note: str = "") -> Approval:
        row = self.approval(approval_id)
        if row is None:
            raise KeyError(approval_id)
        if row.status is not ApprovalStatus.PENDING:
            raise ValueError(f"approval {approval_id} is already {row.status}")
        status = ApprovalStatus.APPROVED if approved else ApprovalStatus.DENIED
        self.db.execute(
            "UPDATE approvals SET status = ?, resolved = ?, note = ? WHERE id = ?",
            (status.value, time.time(), note, approval_id),
        )
        return self._approval_or_missing("SELECT * FROM approvals WHERE id = ?", approval_id)

    def _approval(self, sql: str, *args: Any) -> Approval | None:
        row = self.db.execute(sql, args).fetchone()
        return Approval.from_row(row) if row else None

    def _approval_or_missing(self, sql: str, *args: Any) -> Approval:
        """The approval just written (a missing one means the row was deleted underneath us)."""
        approval = self._approval(sql, *args)
        if approval is None:
            raise KeyError(args)
        return approval

    # -- snapshots, measurements, decisions, cooldowns, notes ----------------------------------

    def snapshot(self, run_id: str, step: str, object: str, state: dict) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO snapshots (run_id, step, object, state, at) VALUES (?, ?, ?, ?, ?)",
            (run_id, step, object, _json(state), time.time()),
        )  # the first snapshot is the one kept

    def snapshot_of(self, run_id: str, step: str) -> dict | None:
        row = self._one("SELECT state FROM snapshots WHERE run_id = ? AND step = ?", run_id, step)
        return json.loads(row["state"]) if row else None

    def measure(
        self,
        run_id: str,
        loop: str,
        object: str,
        kpi: str,
        day: str,
        value: float,
        *,
        role: str = "treated",
        unit: str = "",
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO measurements (run_id, loop, object, kpi, role, day, value, unit) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, loop, object, kpi, role, day, value, unit),
        )

    def measurements(self, run_id: str) -> list[dict]:
        return self._all("SELECT * FROM measurements WHERE run_id = ? ORDER BY object, kpi, role, day", run_id)

    def decide(
        self, run_id: str, step: str, loop: str, object: str, verdict: str, evidence: dict, day: str | None
    ) -> None:
        self.db.execute(
            "INSERT INTO decisions (run_id, step, loop, object, verdict, evidence, day, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, step, loop, object, verdict, _json(evidence), day, time.time()),
        )

    def decisions(self, run_id: str) -> list[dict]:
        rows = self._all("SELECT * FROM decisions WHERE run_id = ? ORDER BY id", run_id)
        for row in rows:
            row["evidence"] = json.loads(row["evidence"])
        return rows

    def cooling(self, client: str, object: str, day: str) -> bool:
        row = self._one("SELECT until FROM cooldowns WHERE client = ? AND object = ?", client, object)
        return row is not None and row["until"] > day

    def cool(self, client: str, object: str, until: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cooldowns (client, object, until) VALUES (?, ?, ?)", (client, object, until)
        )

    def note(self, run_id: str, day: str | None, text: str) -> bool:
        """Record a finding once; whether it is new."""
        return (
            self.db.execute(
                "INSERT OR IGNORE INTO notes (run_id, day, text) VALUES (?, ?, ?)", (run_id, day, text)
            ).rowcount
            == 1
        )

    def notes(self, run_id: str) -> list[dict]:
        return self._all("SELECT * FROM notes WHERE run_id = ? ORDER BY id", run_id)

    def changes_today(self, client: str, object: str, day: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.client = ? AND s.object = ? "
            "AND s.kind IN ('change', 'rollback') AND s.status = ? AND s.day = ?",
            (client, object, StepStatus.DONE.value, day),
        ).fetchone()[0]

    def changes_in_run(self, run_id: str) -> int:
        """Changes done or under way (a `started` one may have happened)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM steps WHERE run_id = ? AND kind = 'change' AND status IN (?, ?)",
            (run_id, StepStatus.DONE.value, StepStatus.STARTED.value),
        ).fetchone()[0]

    def rows(self, sql: str, *args: Any) -> Iterator[dict]:
        yield from self._all(sql, *args)

    # -- a client's memory across its runs -----------------------------------------------------

    def client_steps(self, client: str, loop: str | None = None, kind: str | None = None) -> list[Step]:
        """Steps of every run of the client, oldest first: what a loop has done for it in any run."""
        rows = self.db.execute(
            "SELECT s.* FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.client = ? "
            "AND (? IS NULL OR s.loop = ?) AND (? IS NULL OR s.kind = ?) ORDER BY s.updated",
            (client, loop, loop, kind, kind),
        ).fetchall()
        return [Step.from_row(r) for r in rows]

    def client_step(self, client: str, key: str) -> Step | None:
        """The newest step with this key in any run of the client."""
        row = self.db.execute(
            "SELECT s.* FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.client = ? AND s.key = ? "
            "ORDER BY s.updated DESC LIMIT 1",
            (client, key),
        ).fetchone()
        return Step.from_row(row) if row else None

    def cooldown_until(self, client: str, object: str) -> str | None:
        """The day the object's cooldown ends (it may be over already), or None if it never had one."""
        row = self._one("SELECT until FROM cooldowns WHERE client = ? AND object = ?", client, object)
        return row["until"] if row else None

    def client_decisions(self, client: str, step: str) -> list[dict]:
        """Decisions on one step key in every run of the client, oldest first (a test judged across runs)."""
        rows = self._all(
            "SELECT d.* FROM decisions d JOIN runs r ON r.id = d.run_id WHERE r.client = ? AND d.step = ? "
            "ORDER BY d.id",
            client,
            step,
        )
        for row in rows:
            row["evidence"] = json.loads(row["evidence"])
        return rows


def default_path() -> Path:
    from credentials.paths import data_dir

    return data_dir() / "director.sqlite"
