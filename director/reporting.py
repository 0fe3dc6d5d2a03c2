"""A run's report, read back from the store: KPI series, the changes with their evidence, the notes."""

import time
from pathlib import Path

from .report import ChangeRow, Marker, Point, RunReport, Series, write_report
from .store import StepStatus, Store

VERDICT_LABEL = {
    "keep": "Kept",
    "rollback": "Rolled back",
    "inconclusive": "No clear effect: rolled back",
    "continue": "Not enough data yet",
}
SHOWN = (StepStatus.DONE, StepStatus.AWAITING, StepStatus.DENIED)  # the steps of changes a report lists


def run_report(store: Store, run_id: str) -> RunReport:
    run = store.run(run_id)
    series: dict[tuple[str, str, str], Series] = {}
    for m in store.measurements(run_id):
        key = (m["kpi"], m["object"], m["role"])
        if key not in series:
            series[key] = Series(kpi=m["kpi"], object=m["object"], points=[], unit=m["unit"], role=m["role"])
        series[key].points.append(Point(day=m["day"], value=m["value"]))
    decisions = store.decisions(run_id)
    final = {d["step"]: d for d in decisions}  # the last look decides
    markers, changes = [], []
    for step in store.steps(run_id):
        if step.kind not in ("change", "rollback") or step.status not in SHOWN:
            continue
        data, day = step.data, step.day or ""
        base_key = step.key.removesuffix(":rollback")
        before = store.snapshot_of(run_id, base_key) or data.get("before") or {}
        after = {k: v for k, v in data.get("args", {}).items() if k not in ("post_id", "kind", "campaign_id")}
        decided = final.get(step.key) or final.get(step.key.removesuffix(":send"))  # an email test's send
        verdict = (
            "pending"
            if step.status is StepStatus.AWAITING
            else "denied"
            if step.status is StepStatus.DENIED
            else decided["verdict"]
            if decided
            else "rollback"
            if step.kind == "rollback"
            else "pending"
        )
        evidence = decided["evidence"].get("reason", "") if decided else data.get("why", "")
        label = "Restored the previous fields" if step.kind == "rollback" else _describe(data)
        markers.append(
            Marker(day=day, kind="rollback" if step.kind == "rollback" else "change", label=label, object=step.object)
        )
        changes.append(
            ChangeRow(
                day=day,
                loop=step.loop,
                object=step.object,
                action=data.get("tool", ""),
                before={k: before.get(k) for k in after} if step.kind == "change" else after,
                after=after if step.kind == "change" else {k: "" for k in after},
                verdict=verdict,
                evidence=evidence,
            )
        )
    for d in decisions:
        markers.append(
            Marker(
                day=d["day"] or "",
                kind="decision",
                object=d["object"],
                label=f"{VERDICT_LABEL.get(d['verdict'], d['verdict'])}: {d['evidence'].get('reason', '')}",
            )
        )
    start = run["sim_start"] or ""
    return RunReport(
        run_id=run_id,
        client=run["client"],
        loops=run["loops"],
        started=time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started"])),
        finished=time.strftime("%Y-%m-%d %H:%M", time.localtime(run["finished"])) if run["finished"] else None,
        simulated_days=f"{start} + {run['day']} of {run['days']} day(s)",
        planner=run["planner"],
        input_tokens=run["input_tokens"],
        output_tokens=run["output_tokens"],
        cost_usd=run["cost_usd"],
        tool_calls=store.call_count(run_id),
        series=list(series.values()),
        markers=markers,
        changes=changes,
        notes=[f"{n['day']}: {n['text']}" for n in store.notes(run_id)],
    )


def _describe(data: dict) -> str:
    tool = data.get("tool", "")
    fields = [k for k in data.get("args", {}) if k not in ("post_id", "kind", "campaign_id")]
    return f"{tool}: {', '.join(fields)}" if fields else tool


def write(store: Store, run_id: str, directory: Path) -> tuple[Path, Path]:
    return write_report(run_report(store, run_id), directory)
