"""The email model's incidents: a weak campaign goes out on its day, at the vendors' APIs too, and its
subject lands badly for a reason no subject-line heuristic sees; a deliverability drop bounces and
hides mail in spam for a while; list fatigue wears the audience down campaign after campaign."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

import httpx
import pytest

from director.stats import Counts, below
from sandbox import World
from sandbox.email_world import DEFAULT_EMAIL_INCIDENTS, EmailAccount, normalize_email_incidents, subject_appeal
from sandbox.email_world.incidents import WEAK_SUBJECT


def weak_world(seed: int = 0, **settings: object) -> World:
    world = World(seed=seed)
    world.email.configure_incidents({"weak_campaign": {"day": 3, **settings}})
    return world


def test_off_by_default_and_nothing_staged():
    world = World(seed=0)
    assert not any(incident["enabled"] for incident in DEFAULT_EMAIL_INCIDENTS.values())
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
        ({"deliverability_drop": {"bounce_rate": 1.0}}, "bounce_rate must be at least 0 and below 1"),
        ({"deliverability_drop": {"spam_share": -0.1}}, "spam_share must be between 0 and 1"),
        ({"deliverability_drop": {"days": 0}}, "days must be 1 or more"),
        ({"list_fatigue": {"decay": 1}}, "decay must be above 0 and below 1"),
        ({"list_fatigue": {"window_days": 0}}, "window_days must be 1 or more"),
        ({"list_fatigue": {"every_days": 0}}, "every_days must be 1 or more"),
        ({"list_fatigue": {"esp": "sendgrid"}}, "esp must be one of"),
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


# -- deliverability drop ------------------------------------------------------------------------


def numbers(account: EmailAccount, campaign_id: str) -> dict[str, float]:
    s = account.stats(campaign_id)
    return {
        "bounce": (s.soft_bounces + s.hard_bounces) / s.emails_sent,
        "open": s.unique_opens / s.delivered,
        "click": s.unique_clicks / s.delivered,
        "unsubscribes": s.unsubscribes,
        "sent": s.emails_sent,
    }


def weekly(account: EmailAccount) -> list:
    """The client's campaigns, oldest first."""
    sent = [(c.sent_at, n, c) for n, c in enumerate(account.campaigns.values()) if c.sent_at is not None]
    return [c for _, _, c in sorted(sent)]


@pytest.mark.parametrize("esp", ["mailchimp", "customerio"])
def test_a_deliverability_drop_bounces_and_hides_mail_in_spam_for_its_days(esp):
    world = World(seed=2, incidents={"deliverability_drop": {"day": 4, "days": 5, "esp": esp}})
    account: EmailAccount = getattr(world.email, esp)
    history, start = weekly(account), world.now()
    world.advance(days=3, hours=23)
    assert world.email.staged() == []
    world.advance(days=2)
    (staged,) = world.email.staged("deliverability_drop")
    assert staged.esp == esp and staged.day == 4 and staged.sent_at == start + timedelta(days=4)
    assert staged.conditions.soft_bounce == 0.08 and staged.conditions.spam_share == 0.35
    hit = account.campaign(staged.campaign_id)
    assert hit.name == f"Weekly {len(history) + 1}" and len(hit.deliveries) > 3000  # the largest audience

    delivered = [d for d in hit.deliveries if d.bounce is None]
    soft = sum(d.bounce == "soft" for d in hit.deliveries) / len(hit.deliveries)
    spam = [d for d in delivered if d.spam]
    assert 0.07 < soft < 0.09 and 0.32 < len(spam) / len(delivered) < 0.38
    assert not any(d.open_at or d.proxy_open_at or d.clicks for d in spam)  # unseen, even by privacy proxies
    usual = [numbers(account, c.id) for c in history[-4:]]
    now = numbers(account, hit.id)
    assert now["bounce"] > 5 * max(u["bounce"] for u in usual)
    assert now["open"] < 0.8 * min(u["open"] for u in usual)

    # A campaign the client sends during the drop is hit too; one after its days is not.
    audience = hit.audience_id
    during = account.create_campaign(audience, name="During", subject="Roast notes", html="<p>Hi</p>")
    account.send(during.id)
    world.advance(days=5)
    after = account.create_campaign(audience, name="After", subject="Roast notes", html="<p>Hi</p>")
    account.send(after.id)
    world.advance(days=2)
    assert [s.campaign_id for s in world.email.staged("deliverability_drop")] == [hit.id, during.id]
    assert numbers(account, during.id)["bounce"] > 0.06
    assert numbers(account, after.id)["bounce"] < 0.03 and not any(
        d.spam for d in account.campaign(after.id).deliveries
    )


@pytest.mark.parametrize("esp", ["mailchimp", "customerio"])
def test_the_deliverability_drop_is_in_the_vendors_reports(sb, creds, esp):
    """Mailchimp counts the bounces in its report's bounces.soft_bounces, Customer.io in its metrics' bounced."""
    sb.world.email.configure_incidents({"deliverability_drop": {"day": 1, "esp": esp}})
    sb.world.advance(days=3)
    (staged,) = sb.world.email.staged("deliverability_drop")
    stats = getattr(sb.world.email, esp).stats(staged.campaign_id)
    if esp == "mailchimp":
        mc = creds["mailchimp"]
        with httpx.Client(base_url=mc["api_base"], auth=("anystring", mc["api_key"]), timeout=10) as http:
            report = http.get(f"/reports/{staged.campaign_id}").json()
        assert report["bounces"]["soft_bounces"] == stats.soft_bounces > 0.06 * report["emails_sent"]
        assert report["opens"]["open_rate"] < 0.45
        return
    cio = creds["customerio"]
    headers = {"Authorization": f"Bearer {cio['app_api_key']}"}
    with httpx.Client(base_url=cio["app_api_base"] + "/", headers=headers, timeout=10) as app:
        series = app.get(f"newsletters/{staged.campaign_id}/metrics").json()["metric"]["series"]
    total = {k: sum(v) for k, v in series.items()}
    assert total["bounced"] == stats.soft_bounces + stats.hard_bounces > 0.06 * total["sent"]
    assert total["delivered"] == total["sent"] - total["bounced"]
    assert total["opened"] < 0.45 * total["delivered"]


# -- list fatigue -------------------------------------------------------------------------------


def test_list_fatigue_wears_the_audience_down_campaign_after_campaign():
    world = World(seed=4, incidents={"list_fatigue": {"day": 2, "every_days": 3}})
    account = world.email.mailchimp
    history, start = weekly(account), world.now()
    world.advance(days=2 + 3 * 4 + 2)
    staged = world.email.staged("list_fatigue")
    assert [s.conditions.streak for s in staged] == [1, 2, 3, 4, 5]
    assert [s.sent_at for s in staged] == [start + timedelta(days=2 + 3 * k) for k in range(5)]
    assert staged[2].conditions.engagement == pytest.approx(0.85**3)
    tired = [numbers(account, s.campaign_id) for s in staged]
    usual = [numbers(account, c.id) for c in history]
    # Clicks fall campaign after campaign, whatever the subject (each is an ordinary one, though subjects
    # still move single campaigns), well below the history's usual by the last; unsubscribes climb.
    assert tired[-1]["click"] < 0.7 * median(u["click"] for u in usual)
    assert tired[0]["click"] + tired[1]["click"] > 1.3 * (tired[3]["click"] + tired[4]["click"])
    assert sum(t["unsubscribes"] for t in tired[-3:]) > 3 * sum(u["unsubscribes"] for u in usual[-3:])
    assert all(subject_appeal(s.subject) > 0.9 for s in staged)


def test_a_break_longer_than_the_window_rests_the_audience():
    world = World(seed=4, incidents={"list_fatigue": {"day": 2, "every_days": 15, "window_days": 14}})
    _ = world.email.mailchimp
    world.advance(days=40)
    # The first campaign came 9 days after the history's last; the next ones after 15-day breaks.
    assert [s.conditions.streak for s in world.email.staged("list_fatigue")] == [1]
    assert sum(c.name.startswith("Weekly ") for c in world.email.mailchimp.campaigns.values()) == 13


def test_the_seeded_history_is_the_same_with_the_new_incidents_on_or_off():
    plain = World(seed=5)
    busy = World(seed=5, incidents={"list_fatigue": {"day": 0}, "deliverability_drop": {"day": 0, "esp": "customerio"}})
    for world in (plain, busy):
        world.advance(days=1)
    for esp in ("mailchimp", "customerio"):
        a, b = getattr(plain.email, esp), getattr(busy.email, esp)
        for c in weekly(a):
            assert a.stats(c.id) == b.stats(c.id)
