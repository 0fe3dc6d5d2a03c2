"""The email model's incidents: a weak campaign goes out on its day, at the vendors' APIs too, and its
subject lands badly for a reason no subject-line heuristic sees."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from director.stats import Counts, below
from sandbox import World
from sandbox.email_world import DEFAULT_EMAIL_INCIDENTS, normalize_email_incidents, subject_appeal
from sandbox.email_world.incidents import WEAK_SUBJECT


def weak_world(seed: int = 0, **settings: object) -> World:
    world = World(seed=seed)
    world.email.configure_incidents({"weak_campaign": {"day": 3, **settings}})
    return world


def test_off_by_default_and_nothing_staged():
    world = World(seed=0)
    assert DEFAULT_EMAIL_INCIDENTS["weak_campaign"]["enabled"] is False
    world.advance(days=10)
    assert world.email.staged() == []
    assert all(c.name.startswith("Weekly ") for c in world.email.mailchimp.campaigns.values())
    assert len(world.email.mailchimp.campaigns) == 10  # the seeded history only


def test_the_weak_campaign_goes_out_on_its_day_and_clicks_far_below_the_baseline():
    world = weak_world()
    world.advance(days=2, hours=23)
    assert world.email.staged() == []  # not yet
    world.advance(hours=1)
    (staged,) = world.email.staged()
    assert staged.esp == "mailchimp" and staged.sent_at == world.now() and staged.day == 3
    account = world.email.mailchimp
    campaign = account.campaign(staged.campaign_id)
    assert campaign.status == "sent" and campaign.subject == WEAK_SUBJECT and campaign.name == "Weekly 11"
    assert len(campaign.deliveries) > 5000  # the largest audience
    world.advance(days=2)
    stats = account.stats(staged.campaign_id)
    _, baseline, _ = account.history(campaign.audience_id)
    assert stats.unique_clicks / stats.delivered < 0.6 * baseline
    assert below(Counts(stats.unique_clicks, stats.delivered), baseline)
    # Nothing in the words gives it away: by the heuristics it is an ordinary, even good, subject.
    assert subject_appeal(WEAK_SUBJECT) > 0.9


def test_the_same_subject_lands_as_badly_when_sent_again():
    world = weak_world()
    world.advance(days=4)
    account = world.email.mailchimp
    audience = account.campaign(world.email.staged()[0].campaign_id).audience_id
    again = account.create_campaign(audience, name="Resend", subject=WEAK_SUBJECT, html="<p>Hi</p>")
    other = account.create_campaign(audience, name="Other", subject="How to dial in your grinder", html="<p>Hi</p>")
    account.send(again.id)
    account.send(other.id)
    world.advance(days=2)
    weak, fine = account.stats(again.id), account.stats(other.id)
    assert weak.unique_clicks / weak.delivered < 0.7 * fine.unique_clicks / fine.delivered


def test_seeded_and_settable_per_esp_day_and_appeal():
    a, b = weak_world(seed=3), weak_world(seed=3)
    for w in (a, b):
        w.advance(days=6)
    sa, sb = a.email.staged()[0], b.email.staged()[0]
    assert sa == sb
    assert a.email.mailchimp.stats(sa.campaign_id) == b.email.mailchimp.stats(sb.campaign_id)  # same seed, same draws

    cio = weak_world(esp="customerio", day=1, appeal=0.3, subject="Your Tuesday roast notes")
    cio.advance(days=1)
    (staged,) = cio.email.staged()
    assert staged.esp == "customerio" and staged.subject == "Your Tuesday roast notes"
    assert staged.sent_at == cio.now()
    assert cio.email.incident_settings()["weak_campaign"]["appeal"] == 0.3


def test_an_account_built_after_the_day_still_has_the_campaign():
    world = weak_world(esp="customerio")
    world.advance(days=8)  # nothing has touched Customer.io yet
    account = world.email.customerio
    (staged,) = world.email.staged()
    assert staged.sent_at == world.now() - timedelta(days=5)
    assert account.campaign(staged.campaign_id).status == "sent"


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"weak_campaign": {"esp": "sendgrid"}}, "esp must be one of"),
        ({"weak_campaign": {"appeal": 1.5}}, "appeal must be above 0"),
        ({"weak_campaign": {"day": -1}}, "day must be 0 or later"),
        ({"weak_campaign": {"colour": "red"}}, "has no setting 'colour'"),
        ({"weak_campaign": {"day": "3"}}, "wrong type"),
        ({"weak_campaign": 3}, "must be true, false or an object"),
    ],
)
def test_settings_are_checked(spec, message):
    with pytest.raises(ValueError, match=message):
        normalize_email_incidents(spec)


def test_true_means_the_defaults_and_false_all_off():
    on = normalize_email_incidents({"weak_campaign": {"day": 2}})
    assert normalize_email_incidents(True, on) == DEFAULT_EMAIL_INCIDENTS
    assert normalize_email_incidents(False, on)["weak_campaign"] == {**on["weak_campaign"], "enabled": False}


def test_other_models_incidents_are_left_alone():
    settings = normalize_email_incidents({"ranking_drop": {"day": 3}, "weak_campaign": True})
    assert set(settings) == set(DEFAULT_EMAIL_INCIDENTS) and settings["weak_campaign"]["enabled"] is True


def test_the_weak_campaign_is_in_the_mailchimp_api(sb, creds):
    sb.world.email.configure_incidents({"weak_campaign": {"day": 2}})
    sb.world.advance(days=4)
    staged = sb.world.email.staged()[0]
    mc = creds["mailchimp"]
    with httpx.Client(base_url=mc["api_base"], auth=("anystring", mc["api_key"]), timeout=10) as http:
        report = http.get(f"/reports/{staged.campaign_id}").json()
        lists = http.get("/lists").json()["lists"]
    baseline = next(lst for lst in lists if lst["id"] == report["list_id"])["stats"]["click_rate"] / 100
    assert report["subject_line"] == WEAK_SUBJECT
    assert report["clicks"]["click_rate"] < 0.6 * baseline


def test_the_weak_campaign_is_set_like_every_other_incident(sb):
    """Through POST /_sandbox/config (and World.configure), beside the traffic incidents, and kept on reset."""
    answer = httpx.post(sb.url + "/_sandbox/config", json={"incidents": {"weak_campaign": {"day": 2, "appeal": 0.3}}})
    assert answer.status_code == 200, answer.text
    assert sb.world.email.incident_settings()["weak_campaign"] == {
        **DEFAULT_EMAIL_INCIDENTS["weak_campaign"],
        "enabled": True,
        "day": 2,
        "appeal": 0.3,
    }
    httpx.post(sb.url + "/_sandbox/reset").raise_for_status()
    sb.world.advance(days=3)
    (staged,) = sb.world.email.staged()
    assert staged.day == 2
    refused = httpx.post(sb.url + "/_sandbox/config", json={"incidents": {"weak_campaing": True}})
    assert refused.status_code == 400 and "weak_campaign" in refused.text
    assert World(seed=0, incidents={"weak_campaign": True}).email.incident_settings()["weak_campaign"]["enabled"]
