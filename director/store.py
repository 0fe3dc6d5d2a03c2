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

    def new_run(self, client: str, loops: list[str], days: int, dry_run: bool, planner: str,
                config: dict | None = None) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]
        self.db.execute("INSERT INTO runs (id, client, loops, days, dry_run, planner, status, config, started) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                        (run_id, client, _json(loops), days, int(dry_run), planner, _json(config or {}), time.time()))
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
        self.db.execute("UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, "
                        "cost_usd = cost_usd + ? WHERE id = ?", (input_tokens, output_tokens, cost_usd, run_id))

    # -- steps ----------------------------------------------------------------------------------

    def step(self, run_id: str, key: str) -> dict | None:
        row = self._one("SELECT * FROM steps WHERE run_id = ? AND key = ?", run_id, key)
        if row:
            row["data"] = json.loads(row["data"])
            row["result"] = json.loads(row["result"]) if row["result"] else None
        return row

    def steps(self, run_id: str, loop: str | None = None, kind: str | None = None) -> list[dict]:
        rows = self._all("SELECT * FROM steps WHERE run_id = ? ORDER BY updated", run_id)
        out = []
        for row in rows:
            if (loop and row["loop"] != loop) or (kind and row["kind"] != kind):
                continue
            row["data"] = json.loads(row["data"])
            row["result"] = json.loads(row["result"]) if row["result"] else None
            out.append(row)
        return out

    def put_step(self, run_id: str, key: str, *, loop: str, object: str, kind: str, status: str,
                 data: dict, result: Any = None, day: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO steps (run_id, key, loop, object, kind, status, data, result, day, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET status = excluded.status, "
            "data = excluded.data, result = excluded.result, day = COALESCE(excluded.day, steps.day), "
            "updated = excluded.updated",
            (run_id, key, loop, object, kind, status, _json(data), None if result is None else _json(result, 20000),
             day, time.time()))

    # -- tool calls -----------------------------------------------------------------------------

    def record_call(self, run_id: str, step: str | None, tool: str, arguments: dict, dry_run: bool, ok: bool,
                    result: Any, ms: float) -> None:
        self.db.execute("INSERT INTO tool_calls (run_id, step, tool, arguments, dry_run, ok, result, ms, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, step, tool, _json(redact(arguments), 4000), int(dry_run), int(ok),
                         _json(result, 4000), ms, time.time()))

    def call_count(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM tool_calls WHERE run_id = ?", (run_id,)).fetchone()[0]

    # -- approvals ------------------------------------------------------------------------------

    def request_approval(self, run_id: str, step: str, tool: str, arguments: dict, preview: Any) -> dict:
        self.db.execute("INSERT OR IGNORE INTO approvals (run_id, step, tool, arguments, preview, status, created) "
                        "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                        (run_id, step, tool, _json(redact(arguments)), _json(preview, 8000), time.time()))
        return self.approval_for(run_id, step)

    def approval_for(self, run_id: str, step: str) -> dict | None:
        return self._one("SELECT * FROM approvals WHERE run_id = ? AND step = ?", run_id, step)

    def approval(self, approval_id: int) -> dict | None:
        return self._one("SELECT * FROM approvals WHERE id = ?", approval_id)

    def approvals(self, status: str | None = "pending") -> list[dict]:
        if status is None:
            return self._all("SELECT * FROM approvals ORDER BY id")
        return self._all("SELECT * FROM approvals WHERE status = ? ORDER BY id", status)

    def resolve(self, approval_id: int, approved: bool, note: str = "") -> dict:
        row = self.approval(approval_id)
        if row is None:
            raise KeyError(approval_id)
        if row["status"] != "pending":
            raise ValueError(f"approval {approval_id} is already {row['status']}")
        self.db.execute("UPDATE approvals SET status = ?, resolved = ?, note = ? WHERE id = ?",
                        ("approved" if approved else "denied", time.time(), note, approval_id))
        return self.approval(approval_id)

    # -- snapshots, measurements, decisions, cooldowns, notes ----------------------------------

    def snapshot(self, run_id: str, step: str, object: str, state: dict) -> None:
        self.db.execute("INSERT OR IGNORE INTO snapshots (run_id, step, object, state, at) VALUES (?, ?, ?, ?, ?)",
                        (run_id, step, object, _json(state), time.time()))  # the first snapshot is the one kept

    def snapshot_of(self, run_id: str, step: str) -> dict | None:
        row = self._one("SELECT state FROM snapshots WHERE run_id = ? AND step = ?", run_id, step)
        return json.loads(row["state"]) if row else None

    def measure(self, run_id: str, loop: str, object: str, kpi: str, day: str, value: float, *,
                role: str = "treated", unit: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO measurements (run_id, loop, object, kpi, role, day, value, unit) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (run_id, loop, object, kpi, role, day, value, unit))

    def measurements(self, run_id: str) -> list[dict]:
        return self._all("SELECT * FROM measurements WHERE run_id = ? ORDER BY object, kpi, role, day", run_id)

    def decide(self, run_id: str, step: str, loop: str, object: str, verdict: str, evidence: dict,
               day: str | None) -> None:
        self.db.execute("INSERT INTO decisions (run_id, step, loop, object, verdict, evidence, day, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, step, loop, object, verdict, _json(evidence), day, time.time()))

    def decisions(self, run_id: str) -> list[dict]:
        rows = self._all("SELECT * FROM decisions WHERE run_id = ? ORDER BY id", run_id)
        for row in rows:
            row["evidence"] = json.loads(row["evidence"])
        return rows

    def cooling(self, client: str, object: str, day: str) -> bool:
        row = self._one("SELECT until FROM cooldowns WHERE client = ? AND object = ?", client, object)
        return row is not None and row["until"] > day

    def cool(self, client: str, object: str, until: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO cooldowns (client, object, until) VALUES (?, ?, ?)",
                        (client, object, until))

    def note(self, run_id: str, day: str | None, text: str) -> bool:
        """Record a finding once; whether it is new."""
        return self.db.execute("INSERT OR IGNORE INTO notes (run_id, day, text) VALUES (?, ?, ?)",
                               (run_id, day, text)).rowcount == 1

    def notes(self, run_id: str) -> list[dict]:
        return self._all("SELECT * FROM notes WHERE run_id = ? ORDER BY id", run_id)

    def changes_today(self, client: str, object: str, day: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.client = ? AND s.object = ? "
            "AND s.kind IN ('change', 'rollback') AND s.status = 'done' AND s.day = ?",
            (client, object, day)).fetchone()[0]

    def changes_in_run(self, run_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM steps WHERE run_id = ? AND kind = 'change' AND status IN "
                               "('done', 'started')", (run_id,)).fetchone()[0]

    def rows(self, sql: str, *args: Any) -> Iterator[dict]:
        yield from self._all(sql, *args)


def default_path() -> Path:
    from credentials.paths import data_dir

    return data_dir() / "director.sqlite"
