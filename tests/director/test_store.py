"""The store's typed records: step statuses are the strings stored in earlier versions (an old database
still reads), and steps, tool calls and approvals come back as records."""

import sqlite3
from typing import cast

import pytest

from director.store import Approval, ApprovalStatus, Step, StepStatus, Store, ToolCall

STORED_BEFORE = ("started", "done", "failed", "refused", "previewed", "awaiting", "denied", "open", "closed")


def test_step_statuses_are_the_strings_stored_before():
    assert sorted(s.value for s in StepStatus) == sorted(STORED_BEFORE)
    assert StepStatus.DONE == "done" and f"{StepStatus.AWAITING}" == "awaiting"
    assert [s.value for s in ApprovalStatus] == ["pending", "approved", "denied"]


def test_a_database_written_with_plain_strings_reads_as_records(tmp_path):
    path = tmp_path / "director.sqlite"
    Store(path).close()  # the schema
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO steps (run_id, key, loop, object, kind, status, data, result, day, updated) "
        "VALUES ('r1', 'k', 'search_ctr', '/a', 'change', 'awaiting', '{\"tool\": \"wordpress.update_post\"}', "
        "NULL, '2026-01-05', 1.0)"
    )
    db.execute(
        "INSERT INTO approvals (run_id, step, tool, arguments, preview, status, created) "
        "VALUES ('r1', 'k', 'wordpress.update_post', '{}', '{}', 'pending', 1.0)"
    )
    db.commit()
    db.close()
    store = Store(path)
    step = store.step("r1", "k")
    assert isinstance(step, Step) and step.status is StepStatus.AWAITING
    assert step.data == {"tool": "wordpress.update_post"} and step.result is None and step.day == "2026-01-05"
    (approval,) = store.approvals()
    assert isinstance(approval, Approval) and approval.status is ApprovalStatus.PENDING
    assert approval.step == "k" and approval.preview == "{}"
    done = store.resolve(approval.id, True)
    assert done.status is ApprovalStatus.APPROVED
    with pytest.raises(ValueError, match="already approved"):
        store.resolve(approval.id, False)


def test_steps_and_calls_round_trip(tmp_path):
    store = Store(tmp_path / "d.sqlite")
    run = store.new_run("acme", ["search_ctr"], 3, False, "offline")
    store.put_step(run, "a", loop="l", object="/a", kind="change", status=StepStatus.STARTED, data={"x": 1}, day="d1")
    store.put_step(
        run, "a", loop="l", object="/a", kind="change", status=StepStatus.DONE, data={"x": 1}, result={"ok": True}
    )
    # A plain string still goes at run time (as older callers passed it), though the type asks for a StepStatus.
    store.put_step(run, "b", loop="l", object="/b", kind="test", status=cast("StepStatus", "open"), data={})
    assert [(s.key, s.status, s.day) for s in store.steps(run)] == [
        ("a", StepStatus.DONE, "d1"),
        ("b", StepStatus.OPEN, None),
    ]
    assert [s.key for s in store.steps(run, kind="test")] == ["b"]
    assert store.changes_in_run(run) == 1
    store.record_call(
        run, "a", "wordpress.update_post", {"post_id": "1", "password": "s3cret"}, True, True, {"dry_run": True}, 12.5
    )
    (call,) = store.calls(run)
    assert isinstance(call, ToolCall) and call.dry_run and call.ok and call.step == "a"
    assert call.arguments == {"post_id": "1", "password": "[redacted]"} and call.result == {"dry_run": True}
    assert store.calls(run, step="b") == [] and store.call_count(run) == 1
