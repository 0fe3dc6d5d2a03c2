"""The sandbox's analytics incidents, measured through GA4 (and Search Console) over loopback HTTP: a
broken form, a tracking outage of one channel, device or section, and the site drop and holiday bump
taking the share of visits and clicks they are set to."""

from __future__ import annotations

import httpx
import pytest

from sandbox.traffic import normalize_incidents

from .google_http import Google, entry


@pytest.fixture
def google(sb) -> Google:
    return Google(sb)


def test_factors_are_bounded():
    for bad in (
        {"site_drop": {"factor": 1.0}},
        {"site_drop": {"factor": 0}},
        {"holiday_bump": {"factor": 1.0}},
        {"holiday_bump": {"factor": 3.5}},
        {"weekly_seasonality": {"weekend_factor": 1.4}},
        {"ranking_drop": {"positions": -2}},
        {"conversion_drop": {"factor": 1.0}},
    ):
        with pytest.raises(ValueError, match="must be"):
            normalize_incidents(bad)
    assert normalize_incidents({"holiday_bump": {"factor": 3}})["holiday_bump"]["factor"] == 3
    assert not normalize_incidents(True)["conversion_drop"]["enabled"]


@pytest.mark.parametrize(("name", "factor"), [("site_drop", 0.6), ("holiday_bump", 1.3)])
def test_a_staged_factor_is_what_ga4_and_search_console_measure(google, name, factor):
    """Sessions and clicks of the window against the same weekdays the week before, net of how that
    week-on-week ratio runs without the incident (trend and noise), come out at the factor."""

    def week_on_week() -> tuple[float, float]:
        sessions = [google.report(["sessions"], [], first, first + 6)[()][0] for first in (-14, -21)]
        clicks = [sum(r["clicks"] for r in google.search(["date"], first, first + 6)) for first in (-14, -21)]
        return sessions[0] / sessions[1], clicks[0] / clicks[1]

    staged = entry(google.stage({name: {"day": -14, "days": 7, "factor": factor}}), name)
    assert staged["enabled"] and staged["start"] == str(google.day(-14)) and staged["end"] == str(google.day(-8))
    with_incident = week_on_week()
    google.stage({name: False})
    without = week_on_week()
    for on, off in zip(with_incident, without, strict=True):
        assert on / off == pytest.approx(factor, rel=0.03)


def test_a_broken_form_takes_the_key_events_of_one_page_and_nothing_else(sb, google):
    metrics = ["sessions", "totalUsers", "keyEvents", "customEvent:bag_weight"]
    broken = entry(google.stage({"conversion_drop": {"day": -21}}), "conversion_drop")
    page = broken["page"]
    assert broken["enabled"] and broken["factor"] == 0.1 and broken["affects"] == ["ga4"]
    assert page == sb.world.traffic.conversion_drop_page() and page in sb.world.traffic.live_paths()
    on, search_on = google.report(metrics, ["landingPage"], -21, -3), google.search(["page"], -21, -4)
    before_on = google.report(metrics, ["landingPage"], -40, -22)
    google.stage({"conversion_drop": False})
    off, search_off = google.report(metrics, ["landingPage"], -21, -3), google.search(["page"], -21, -4)
    assert google.report(metrics, ["landingPage"], -40, -22) == before_on  # nothing before its day
    assert search_on == search_off  # search does not see a form
    assert on.keys() == off.keys()
    for key, values in off.items():
        assert on[key][:2] == values[:2]  # the visits and visitors come as before
        if key != (page,):
            assert on[key] == values
    assert off[(page,)][2] >= 10, "the page converts enough to measure"
    assert on[(page,)][2] <= 0.3 * off[(page,)][2] and on[(page,)][3] <= 0.3 * off[(page,)][3]

    google.stage({"conversion_drop": {"day": -21, "page": "*"}})
    site_on = google.report(metrics, [], -21, -3)[()]
    google.stage({"conversion_drop": False})
    site_off = google.report(metrics, [], -21, -3)[()]
    assert site_on[:2] == site_off[:2] and site_on[2] == pytest.approx(0.1 * site_off[2], rel=0.3)


def test_a_mobile_tracking_outage_empties_mobile_and_keeps_the_device_split_adding_up(google):
    outage = entry(
        google.stage({"tracking_outage": {"day": -10, "days": 2, "scope": "device:mobile"}}), "tracking_outage"
    )
    assert outage["scope"] == "device:mobile" and "device:mobile" in outage["effect"]
    by_device, totals = (
        google.report(["sessions"], ["date", "deviceCategory"], -14, -6),
        google.report(["sessions"], ["date"], -14, -6),
    )
    search_on = google.search(["date"], -14, -6)
    google.stage({"tracking_outage": False})
    normal = google.report(["sessions"], ["date", "deviceCategory"], -14, -6)
    assert google.search(["date"], -14, -6) == search_on  # Search Console is unaffected
    for offset in (-10, -9):
        day = google.day(offset).strftime("%Y%m%d")
        assert by_device[(day, "mobile")][0] <= 0.05 * normal[(day, "mobile")][0]
        for device in ("desktop", "tablet"):
            assert by_device[(day, device)][0] == pytest.approx(normal[(day, device)][0], rel=0.1)
    for (day,), (sessions,) in totals.items():
        split = sum(by_device.get((day, d), [0.0])[0] for d in ("desktop", "mobile", "tablet"))
        assert abs(split - sessions) <= 2, day  # rounding of the three rows at most
    day = google.day(-12).strftime("%Y%m%d")
    assert by_device[(day, "mobile")] == normal[(day, "mobile")]  # outside the outage nothing moves


def test_an_outage_of_one_channel_or_section_leaves_the_rest_recorded(sb, google):
    def sessions(dimension: str) -> dict[tuple[str, ...], list[float]]:
        return google.report(["sessions"], ["date", dimension], -10, -9)

    google.stage({"tracking_outage": {"day": -10, "days": 2, "scope": "channel:Email"}})
    email_down = sessions("sessionDefaultChannelGroup")
    section = "Brewing Guides"
    google.stage({"tracking_outage": {"day": -10, "days": 2, "scope": f"section:{section}"}})
    section_down = sessions("landingPage")
    google.stage({"tracking_outage": False})
    channels, pages = sessions("sessionDefaultChannelGroup"), sessions("landingPage")
    for (day, channel), values in channels.items():
        if channel == "Email":
            assert email_down.get((day, channel), [0.0])[0] <= 0.05 * values[0]  # a row of 0 is left out
        else:
            assert email_down[(day, channel)] == values
    in_section = {p.path for p in sb.world.pages() if p.section == section}
    assert max(v[0] for (_day, page), v in pages.items() if page in in_section) >= 20  # enough to see it go
    for (day, page), values in pages.items():
        if page in in_section:
            assert section_down.get((day, page), [0.0])[0] <= 0.1 * values[0] + 1
        else:
            assert section_down[(day, page)] == values


def test_an_unknown_outage_scope_is_refused_naming_the_choices(sb, google):
    google.stage({"tracking_outage": {"scope": "channel:Email"}})
    for scope, choices in (
        ("device:fridge", "desktop, mobile, tablet"),
        ("channel:Carrier Pigeon", "Direct, Email"),
        ("section:Recipes", "Brewing Guides"),
        ("planet:mars", "channel:<name>, device:<name> or section:<name>"),
    ):
        response = httpx.post(sb.url + "/_sandbox/config", json={"incidents": {"tracking_outage": {"scope": scope}}})
        assert response.status_code == 400 and choices in response.json()["error"], scope
    listed = httpx.get(sb.url + "/_sandbox/incidents").json()["incidents"]
    assert entry(listed, "tracking_outage")["scope"] == "channel:Email"  # a refused setting changes nothing
