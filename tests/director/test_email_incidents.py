"""The email loop on sandbox worlds whose trouble is not a subject line: a deliverability drop and list
fatigue are reported once per client, with what to do, soon after their data shows them, and get no
subject test; an undisturbed world raises neither."""

from datetime import date, timedelta

import pytest

from director.loops import email_engagement, email_health
from director.store import Store

from .test_director import CLIENT, direct, world
from .test_email_loop import ESP, steps_of_tests, unthrottled

__all__ = ["unthrottled", "world"]  # the sandbox fixtures, shared with the other Director tests

HEALTH = ("deliverability incident", "list fatigue")


def reports(store: Store, run_id: str, words: str) -> list[dict]:
    return [n for n in store.notes(run_id) if words in n["text"]]


def start_of(store: Store, run_id: str) -> date:
    return date.fromisoformat(store.run(run_id)["sim_start"])


def fatigue_shows(sb, esp: str, start: date, days: int) -> date | None:
    """The first day the sandbox's own counts show fatigue by the loop's rule: its regular campaigns aged a
    day or more, counted as of that day's start."""
    account = getattr(sb.world.email, esp)
    clock = sb.world.now()
    first = clock - timedelta(days=(clock.date() - start).days)
    for n in range(days + 1):
        now = first + timedelta(days=n)
        sends = []
        for c in account.campaigns.values():
            if c.sent_at is None or c.ab is not None or c.name.startswith(email_engagement.OWN_PREFIX):
                continue
            if (now.date() - c.sent_at.date()).days < email_engagement.HEALTH_AGE_DAYS:
                continue
            s = account.stats(c.id, now)
            sends.append(
                (
                    c.sent_at,
                    email_health.Send(
                        c.id,
                        c.subject or "",
                        c.sent_at.date(),
                        s.emails_sent,
                        s.delivered,
                        s.unique_opens,
                        s.unique_clicks,
                        s.unsubscribes,
                    ),
                )
            )
        newest = [send for _, send in sorted(sends, key=lambda pair: pair[0], reverse=True)]
        if email_health.fatigue(newest) is not None:
            return now.date()
    return None


@pytest.mark.parametrize("esp", ["mailchimp", "customerio"])
async def test_a_deliverability_drop_is_reported_once_with_what_to_do_and_gets_no_subject_test(world, tmp_path, esp):
    world.world.email.configure_incidents({"deliverability_drop": {"day": 3, "esp": esp}})
    store = Store(tmp_path / "d.sqlite")
    first = await direct(world, store, ["email_engagement"], 8, ESP)
    hit = world.world.email.staged("deliverability_drop")
    start = start_of(store, first)
    (note,) = reports(store, first, "deliverability incident")
    # Reported on the first detection day the send is a day old, naming the campaign, the ESP and numbers.
    sent = hit[0].sent_at.date()
    delay = (date.fromisoformat(note["day"]) - sent).days
    ready = email_engagement.HEALTH_AGE_DAYS
    assert ready <= delay < ready + email_engagement.DETECT_EVERY, (note, sent, start)
    text = note["text"]
    assert hit[0].campaign_id in text and f"{esp}:" in text and "bounced" in text and "%" in text
    assert "DMARC" in text and "imports" in text and "compliance page" in text
    # The campaign clicks below the audience's baseline, yet no subject test is started on it.
    assert not [t for t in steps_of_tests(store, esp) if t.data["source"] in {s.campaign_id for s in hit}]

    # A later run for the same client does not report the incident again.
    second = await direct(world, store, ["email_engagement"], 6, ESP)
    assert not reports(store, second, "deliverability incident")
    assert not [t for t in steps_of_tests(store, esp) if t.data["source"] in {s.campaign_id for s in hit}]
    remembered = store.client_steps(CLIENT, loop=email_engagement.NAME, kind="report")
    assert hit[0].campaign_id in {r.data["campaign_id"] for r in remembered}


async def test_list_fatigue_is_reported_once_with_a_frequency_recommendation_and_no_subject_test(world, tmp_path):
    world.world.email.configure_incidents({"list_fatigue": {"day": 2, "esp": "customerio"}})
    store = Store(tmp_path / "d.sqlite")
    days = 18
    run_id = await direct(world, store, ["email_engagement"], days, ESP)
    tired = world.world.email.staged("list_fatigue")
    start = start_of(store, run_id)
    shows = fatigue_shows(world, "customerio", start, days)
    assert shows is not None, [(s.sent_at.date(), s.conditions.streak) for s in tired]
    (note,) = reports(store, run_id, "list fatigue")  # once, though it goes on
    assert 0 <= (date.fromisoformat(note["day"]) - shows).days < email_engagement.DETECT_EVERY, (note, shows)
    assert (date.fromisoformat(note["day"]) - tired[2].sent_at.date()).days <= 7  # the benchmark's target
    text = note["text"]
    assert (
        "customerio:" in text and "unsubscribes" in text and "send less often" in text and "at most one every" in text
    )
    assert not [t for t in steps_of_tests(store, "customerio") if t.data["source"] in {s.campaign_id for s in tired}]
    assert not reports(store, run_id, "deliverability incident")


@pytest.mark.parametrize("incidents", [{}, {"weak_campaign": {"day": 4}}], ids=["undisturbed", "weak_campaign"])
async def test_a_world_without_either_raises_no_deliverability_or_fatigue_report(world, tmp_path, incidents):
    world.world.email.configure_incidents(incidents)
    store = Store(tmp_path / "d.sqlite")
    run_id = await direct(world, store, ["email_engagement"], 14, ESP)
    assert not [n for n in store.notes(run_id) if any(words in n["text"] for words in HEALTH)], store.notes(run_id)
    assert not store.client_steps(CLIENT, loop=email_engagement.NAME, kind="report")
    if incidents:  # the weak campaign is still found as one (tested, or waiting for its audience's cooldown)
        (staged,) = world.world.email.staged("weak_campaign")
        noted = [n for n in store.notes(run_id) if staged.subject in n["text"]]
        assert noted or [t for t in steps_of_tests(store) if t.data["source"] == staged.campaign_id]
