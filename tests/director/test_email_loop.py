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


def weak(sb, day: int, esp: str = "mailchimp", appeal: float = 0.15) -> None:
    """A weak campaign far enough below its audience that a test of it is decided."""
    sb.world.email.configure_incidents({"weak_campaign": {"day": day, "esp": esp, "appeal": appeal}})


async def test_where_the_esp_picks_a_winner_it_goes_to_the_rest_and_its_outcome_is_judged(world, tmp_path):
    configure(world, cooldown_days=1)
    weak(world, 0)
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], 12, ("mailchimp",))
    (staged,) = world.world.email.staged()
    (test,) = [t for t in steps_of_tests(store) if t.data["source"] == staged.campaign_id]
    assert test.data["verdict"] == "keep", store.decisions(run_id)  # a significant win
    create = test.data["create"]
    assert create["test_size"] < 100 and create["winner_criteria"] == "clicks"
    assert create["wait_hours"] < 24 * email_engagement.LOOKS[0]  # picked before the first look

    # The sandbox's deliveries: the test groups got each subject, everyone else the winner, once.
    campaign = world.world.email.mailchimp.campaign(test.data["campaign_id"])
    assert campaign.ab is not None and campaign.ab.winner is not None and campaign.status == "sent"
    winner = campaign.ab.subjects[campaign.ab.winner]
    rest = [d for d in campaign.deliveries if d.remainder]
    tested = [d for d in campaign.deliveries if not d.remainder]
    assert {d.variant for d in tested} == set(range(len(campaign.ab.subjects)))
    assert rest and {d.variant for d in rest} == {campaign.ab.winner}
    assert len(rest) >= len(tested)  # the test went to half the audience, split between the subjects
    emails = [d.email for d in campaign.deliveries]
    assert len(emails) == len(set(emails))  # nobody got two

    # The Director recorded what the ESP sent and judged it on the rest as a decision of its own.
    outcome = store.step(test.run_id, f"{test.key}:outcome")
    assert outcome is not None and outcome.status == "closed" and outcome.data["winner"] == winner
    (judged,) = [d for d in store.decisions(run_id) if d["step"] == f"{test.key}:outcome"]
    assert judged["verdict"] in ("keep", "below", "unclear")
    sent, clicks = judged["evidence"]["rest"]
    assert abs(sent - len(rest)) <= len(rest) * 0.05  # delivered, of the rest
    clicked = sum(1 for d in rest if d.clicks)  # by now: a few late clicks came after the judgement
    assert 0.9 * clicked <= clicks <= clicked
    assert any(winner in n["text"] and "rest of the audience" in n["text"] for n in store.notes(run_id))


async def test_where_the_esp_cannot_pick_the_next_test_applies_the_style_the_win_showed(world, tmp_path):
    configure(world, cooldown_days=1)
    weak(world, 0, esp="customerio")
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], 12, ("customerio",))
    tests = steps_of_tests(store, "customerio")
    won = next((t for t in tests if t.data.get("verdict") == "keep"), None)
    assert won is not None and won.data["adopted"] != won.data["subjects"][0], store.decisions(run_id)
    after = [t for t in tests if (t.day or "") > (won.day or "")]
    assert after, [(t.day, t.data["source"]) for t in tests]
    following = after[0]
    rule = following.data["rule"]
    assert rule["test"] == won.key and rule["adopted"] == won.data["adopted"]
    style = set(rule["style"])
    assert style and style <= email_engagement.style_of(won.data["adopted"])
    # The win changes what is sent next: the challengers carrying the rule's style lead, the campaign
    # keeps its own subject as the control.
    challengers = following.data["subjects"][1:]
    shares = [len(email_engagement.style_of(s) & style) for s in challengers]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0
    assert rule["styled"] and challengers[0] in rule["styled"]
    campaign = world.world.email.customerio.campaign(following.data["campaign_id"])
    assert campaign.ab is not None and campaign.ab.subjects[1] == challengers[0]
    assert any(d.variant == 1 for d in campaign.deliveries)  # the ESP sent it
    # ...and the next test judges the rule.
    (judged,) = [d for d in store.decisions(run_id) if d["step"] == f"{following.key}:rule"]
    assert judged["verdict"] in ("keep", "contradicted", "unclear") and judged["evidence"]["rule"]["test"] == won.key
