"""The email loop on sandbox scenarios: detection that cooldowns do not hold up, candidates that are
real (never the Director's own tests, never a campaign too recent to judge, never one tested before),
memory that belongs to the client across runs, and looks only on new data."""

import json
from datetime import date, timedelta

import pytest

from director.loops import email_engagement
from director.store import Store

from .test_director import CLIENT, configure, direct, world

__all__ = ["world"]  # the sandbox fixture, shared with the Director's end-to-end tests

ESP = ("mailchimp", "customerio")


@pytest.fixture(autouse=True)
def unthrottled(world):
    """Customer.io's published 10 requests a second would make these runs wait; the sandbox takes more."""
    raw = json.loads(world.config_path.read_text())
    raw["clients"][CLIENT]["servers"]["customerio"]["rate_limits"] = {"upstream": "100000/min"}
    world.config_path.write_text(json.dumps(raw))


def weak_day(sb, day: int) -> None:
    sb.world.email.configure_incidents({"weak_campaign": {"day": day}})


def steps_of_tests(store: Store, server: str = "mailchimp") -> list:
    steps = store.client_steps(CLIENT, loop=email_engagement.NAME, kind="test")
    return [s for s in steps if s.data["server"] == server]


def sends(store: Store, server: str = "mailchimp") -> list[dict]:
    return list(
        store.rows("SELECT * FROM tool_calls WHERE tool = ? AND dry_run = 0 AND ok = 1", f"{server}.send_campaign")
    )


def own_campaign(sb, campaign_id: str) -> bool:
    return sb.world.email.mailchimp.campaign(campaign_id).name.startswith("Subject test")


async def test_a_weak_campaign_is_reported_while_the_audience_cools_and_tested_after(world, tmp_path):
    configure(world, cooldown_days=6)
    weak_day(world, 4)
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], 16, ESP)
    (staged,) = world.world.email.staged()
    start = date.fromisoformat(store.run(run_id)["sim_start"])
    judgeable = start + timedelta(days=staged.day + email_engagement.MIN_AGE_DAYS)

    # Day 0 tests the weakest campaign of the history; the audience then cools down.
    first, *later = steps_of_tests(store)
    assert first.day == start.isoformat() and first.data["source"] != staged.campaign_id
    closed = next(d for d in store.decisions(run_id) if d["step"] == first.key and d["verdict"] != "continue")
    until = date.fromisoformat(closed["day"]) + timedelta(days=6)
    assert until > judgeable  # the weak campaign is judgeable during the cooldown...
    waiting = [n for n in store.notes(run_id) if staged.subject in n["text"] and "waits" in n["text"]]
    assert waiting, store.notes(run_id)  # ...and reported on the first detection day it can be judged
    assert 0 <= (date.fromisoformat(waiting[0]["day"]) - judgeable).days < email_engagement.DETECT_EVERY
    assert "cools down" in waiting[0]["text"]

    # Its test starts the day the cooldown ends: detection went on, only the change waited.
    weak = [t for t in later if t.data["source"] == staged.campaign_id]
    assert weak, [(t.day, t.data["source"]) for t in later]
    assert 0 <= (date.fromisoformat(weak[0].day or "") - until).days < email_engagement.DETECT_EVERY
    assert weak[0].data["subjects"][0] == staged.subject
    assert not [t for t in steps_of_tests(store) if own_campaign(world, t.data["source"])]
    assert len(sends(store)) == len(steps_of_tests(store))


async def test_two_runs_for_the_same_client_never_send_the_same_test_twice(world, tmp_path):
    configure(world, cooldown_days=1)
    weak_day(world, 4)  # a second weak campaign, sent while the second run goes on
    store = Store(tmp_path / "d.sqlite")
    first = await direct(world, store, ["email_engagement"], 2, ESP)
    second = await direct(world, store, ["email_engagement"], 8, ESP)
    tests = steps_of_tests(store)
    sources = [t.data["source"] for t in tests]
    assert len(sources) == len(set(sources)) >= 2, sources  # the next-weakest each time, never the same one
    assert world.world.email.staged()[0].campaign_id in sources
    assert {t.run_id for t in tests} == {first, second}
    assert not [s for s in sources if own_campaign(world, s)]  # never the Director's own test campaign
    sent = [c["arguments"] for c in sends(store)]
    assert len(sent) == len(tests) and len({str(a) for a in sent}) == len(sent)  # each test sent once
    # The test the first run sent is judged by the second; none is left open.
    assert all(t.status == "closed" for t in tests[:-1]), [(t.key, t.status) for t in tests]
    judged_later = [d for d in store.decisions(second) if d["step"] in {t.key for t in tests if t.run_id == first}]
    assert judged_later, store.decisions(first)


async def test_looks_are_taken_only_on_new_counts(world, tmp_path, monkeypatch):
    # Looks late enough that every click is in at the first: the second would see the same counts.
    monkeypatch.setattr(email_engagement, "LOOKS", (3, 5))
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], 9, ESP)
    (test, *_) = steps_of_tests(store)
    looks = [d for d in store.decisions(run_id) if d["step"] == test.key]
    assert looks and all(
        a["evidence"]["counts"] != b["evidence"]["counts"] for a, b in zip(looks, looks[1:], strict=False)
    )
    closed = store.step(run_id, test.key)
    assert closed is not None and closed.status == "closed"
    if looks[-1]["verdict"] == "continue":  # closed on its last look once the report had stopped changing
        assert len(looks) == 1 and closed.data["verdict"] == "inconclusive"
        assert any("closed on its last look" in n["text"] for n in store.notes(run_id))


@pytest.mark.parametrize("day", [2, 9])
async def test_weak_campaign_detected_within_days_of_its_data(world, tmp_path, day):
    """Detection delay: a weak campaign is flagged (tested or reported) on the first detection day it can be
    judged, whether or not its audience is cooling down."""
    weak_day(world, day)
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], day + 4, ESP)
    (staged,) = world.world.email.staged()
    start = date.fromisoformat(store.run(run_id)["sim_start"])
    flagged = [n["day"] for n in store.notes(run_id) if staged.subject in n["text"]] + [
        t.day for t in steps_of_tests(store) if t.data["source"] == staged.campaign_id
    ]
    assert flagged, store.notes(run_id)
    delay = (date.fromisoformat(min(d for d in flagged if d)) - start).days - day
    assert email_engagement.MIN_AGE_DAYS <= delay < email_engagement.MIN_AGE_DAYS + email_engagement.DETECT_EVERY
