"""The Search Console API through googleapiclient's bundled discovery document, pointed at the sandbox.

``build("searchconsole", "v1", ..., client_options={"api_endpoint": sandbox_url + "/"})`` sends the
webmasters/v3 and v1 URL Inspection calls to the sandbox unchanged (siteUrl percent-encoded in the path).
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import google.oauth2.credentials
import httpx
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from sandbox import World
from sandbox.traffic import expected_ctr

from .conftest import google_token

READ = "https://www.googleapis.com/auth/webmasters.readonly"
WRITE = "https://www.googleapis.com/auth/webmasters"


def console(sb, scope: str = READ):
    credentials = google.oauth2.credentials.Credentials(google_token(sb, scope))
    return build(
        "searchconsole",
        "v1",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": sb.url + "/"},
    )


@pytest.fixture
def sc(sb):
    return console(sb)


@pytest.fixture
def site(sb) -> str:
    return sb.url + "/"


def day(sb, offset: int) -> str:
    return str(sb.world.now().date() + timedelta(days=offset))


def query(sc, site: str, body: dict) -> dict:
    return sc.searchanalytics().query(siteUrl=site, body=body).execute()


def error_of(err: pytest.ExceptionInfo) -> dict:
    return json.loads(err.value.content)["error"]


# -- sites -----------------------------------------------------------------------------------


def test_sites_list_and_get(sb, sc, site):
    assert sc.sites().list().execute() == {
        "siteEntry": [
            {"siteUrl": site, "permissionLevel": "siteOwner"},
            {"siteUrl": "sc-domain:127.0.0.1", "permissionLevel": "siteOwner"},
        ]
    }
    assert sc.sites().get(siteUrl="sc-domain:127.0.0.1").execute() == {
        "siteUrl": "sc-domain:127.0.0.1",
        "permissionLevel": "siteOwner",
    }
    with pytest.raises(HttpError) as err:
        sc.sites().get(siteUrl="https://elsewhere.example/").execute()
    error = error_of(err)
    assert error["code"] == 403 and error["status"] == "PERMISSION_DENIED"
    assert error["message"] == (
        "User does not have sufficient permission for site 'https://elsewhere.example/'. "
        "See also: https://support.google.com/webmasters/answer/2451999."
    )
    assert error["errors"][0]["reason"] == "forbidden"
    with pytest.raises(HttpError) as err:  # the URL-prefix form without its trailing slash is another property
        query(sc, sb.url, {"startDate": day(sb, -10), "endDate": day(sb, -4)})
    assert err.value.resp.status == 403


# -- search analytics --------------------------------------------------------------------------


def test_queries_sorted_by_clicks_with_ctr_and_position(sb, sc, site):
    result = query(sc, site, {"startDate": day(sb, -30), "endDate": day(sb, -4), "dimensions": ["query"]})
    rows = result["rows"]
    assert result["responseAggregationType"] == "byProperty"
    assert 50 < len(rows) <= 1000
    assert [r["clicks"] for r in rows] == sorted((r["clicks"] for r in rows), reverse=True)
    for row in rows:
        assert set(row) == {"keys", "clicks", "impressions", "ctr", "position"} and len(row["keys"]) == 1
        assert row["ctr"] == pytest.approx(row["clicks"] / row["impressions"]) and row["position"] >= 1
    texts = {r["keys"][0] for r in rows}
    assert {"northwind coffee", "cold brew"} <= texts


def test_page_keys_are_the_sandbox_pages_real_urls(sb, sc, site, anon):
    rows = query(sc, site, {"startDate": day(sb, -30), "endDate": day(sb, -4), "dimensions": ["page"]})["rows"]
    live = {site.rstrip("/") + p.path for p in sb.world.pages()} | {site}
    assert {r["keys"][0] for r in rows} <= live
    assert len(rows) >= 15
    for row in rows[:3]:
        assert anon.get(row["keys"][0].removeprefix(sb.url)).status_code == 200


def test_domain_property_has_the_same_data(sb, sc, site):
    body = {"startDate": day(sb, -20), "endDate": day(sb, -4), "dimensions": ["page", "device"], "rowLimit": 50}
    assert query(sc, "sc-domain:127.0.0.1", body) == query(sc, site, body)


def test_paging_with_row_limit_and_start_row(sb, sc, site):
    body = {"startDate": day(sb, -28), "endDate": day(sb, -4), "dimensions": ["query", "page"]}
    whole = query(sc, site, {**body, "rowLimit": 25000})["rows"]
    pages = []
    start = 0
    while True:
        part = query(sc, site, {**body, "rowLimit": 37, "startRow": start})
        if "rows" not in part:
            break
        pages += part["rows"]
        start += 37
    assert pages == whole and len(whole) > 100
    assert len(query(sc, site, {**body})["rows"]) == min(1000, len(whole))  # default rowLimit 1000


def test_dimension_filters(sb, sc, site):
    base = {"startDate": day(sb, -28), "endDate": day(sb, -4), "dimensions": ["page"], "rowLimit": 1000}
    every = {r["keys"][0]: r for r in query(sc, site, base)["rows"]}

    def pages(*filters) -> set[str]:
        body = {**base, "dimensionFilterGroups": [{"groupType": "and", "filters": list(filters)}]}
        return {r["keys"][0] for r in query(sc, site, body).get("rows", [])}

    webflow = {p for p in every if "/webflow-site/" in p}
    assert webflow and pages({"dimension": "page", "operator": "contains", "expression": "/webflow-site/"}) == webflow
    assert (
        pages({"dimension": "page", "operator": "notContains", "expression": "/webflow-site/"}) == set(every) - webflow
    )
    assert pages({"dimension": "page", "expression": site}) == {site}  # operator defaults to equals
    assert pages({"dimension": "page", "operator": "includingRegex", "expression": "coffee|brew"}) == {
        p for p in every if "coffee" in p or "brew" in p
    }
    assert pages({"dimension": "page", "operator": "excludingRegex", "expression": "coffee|brew"}) == {
        p for p in every if "coffee" not in p and "brew" not in p
    }
    brand = pages({"dimension": "query", "operator": "contains", "expression": "northwind"})
    assert site in brand and brand < set(every)
    by_device = {r["keys"][0]: r for r in query(sc, site, {**base, "dimensions": ["device"]})["rows"]}
    assert set(by_device) == {"DESKTOP", "MOBILE", "TABLET"}
    mobile = query(
        sc,
        site,
        {
            **base,
            "dimensions": ["country"],
            "dimensionFilterGroups": [
                {"filters": [{"dimension": "device", "operator": "equals", "expression": "mobile"}]}
            ],
        },
    )["rows"]
    assert mobile[0]["keys"] == ["usa"]
    assert sum(r["clicks"] for r in mobile) == pytest.approx(by_device["MOBILE"]["clicks"], abs=len(mobile))
    usa = query(
        sc,
        site,
        {
            **base,
            "dimensions": ["query"],
            "dimensionFilterGroups": [
                {"filters": [{"dimension": "country", "operator": "equals", "expression": "USA"}]}
            ],
        },
    )["rows"]
    assert usa and all(len(r["keys"]) == 1 for r in usa)


def test_aggregation_types(sb, sc, site):
    base = {"startDate": day(sb, -28), "endDate": day(sb, -4), "dimensions": ["date"]}
    by_property = query(sc, site, base)
    by_page = query(sc, site, {**base, "aggregationType": "byPage"})
    assert by_property["responseAggregationType"] == "byProperty" and by_page["responseAggregationType"] == "byPage"
    impressions = sum(r["impressions"] for r in by_property["rows"])
    assert impressions < sum(r["impressions"] for r in by_page["rows"])  # two pages for one search count once
    assert [r["keys"][0] for r in by_property["rows"]] == sorted(r["keys"][0] for r in by_property["rows"])
    assert query(sc, site, {**base, "dimensions": ["page"]})["responseAggregationType"] == "byPage"
    with pytest.raises(HttpError) as err:
        query(sc, site, {**base, "dimensions": ["page"], "aggregationType": "byProperty"})
    assert err.value.resp.status == 400 and "byPage" in error_of(err)["message"]


def test_search_types_and_appearance(sb, sc, site):
    base = {"startDate": day(sb, -28), "endDate": day(sb, -4), "dimensions": ["query"], "rowLimit": 5000}
    web = sum(r["impressions"] for r in query(sc, site, base)["rows"])
    image = query(sc, site, {**base, "type": "image"})["rows"]
    assert 0 < sum(r["impressions"] for r in image) < web / 4
    assert query(sc, site, {**base, "type": "discover"}) == {"responseAggregationType": "byProperty"}
    features = query(sc, site, {**base, "dimensions": ["searchAppearance"]})["rows"]
    assert {r["keys"][0] for r in features} <= {"FAQ_RICH_RESULT", "REVIEW_SNIPPET"} and features


def test_freshness_final_and_all(sb, sc, site):
    body = {"startDate": day(sb, -10), "endDate": day(sb, 0), "dimensions": ["date"]}
    final = query(sc, site, body)
    assert final["rows"][-1]["keys"] == [day(sb, -3)] and "metadata" not in final
    fresh = query(sc, site, {**body, "dataState": "all"})
    assert fresh["rows"][-1]["keys"] == [day(sb, -1)]
    assert fresh["metadata"] == {"firstIncompleteDate": day(sb, -2)}
    assert fresh["rows"][: len(final["rows"])] == final["rows"]
    sb.world.advance(days=2)
    again = query(console(sb), site, {**body, "dataState": "final"})
    assert again["rows"][-1]["keys"] == [day(sb, -3)]


def test_invalid_requests(sb, sc, site):
    cases = [
        (
            {"startDate": day(sb, -5), "endDate": day(sb, -4), "rowLimit": 25001},
            "Row limit must be between 1 and 25000",
        ),
        ({"startDate": day(sb, -5), "endDate": day(sb, -4), "rowLimit": 0}, "Row limit must be between 1 and 25000"),
        ({"startDate": "2026-02-30", "endDate": day(sb, -4)}, "2026-02-30"),
        ({"startDate": "last week", "endDate": day(sb, -4)}, "last week"),
        ({"endDate": day(sb, -4)}, "startDate"),
        ({"startDate": day(sb, -4), "endDate": day(sb, -10)}, "must be earlier than or equal to endDate"),
        ({"startDate": day(sb, -5), "endDate": day(sb, -4), "dimensions": ["keyword"]}, "Invalid dimension"),
        (
            {
                "startDate": day(sb, -5),
                "endDate": day(sb, -4),
                "dimensionFilterGroups": [
                    {"filters": [{"dimension": "page", "operator": "includingRegex", "expression": "(unclosed"}]}
                ],
            },
            "regular expression",
        ),
    ]
    for body, message in cases:
        with pytest.raises(HttpError) as err:
            query(sc, site, body)
        error = error_of(err)
        assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and message in error["message"], body
    empty = query(sc, site, {"startDate": "2024-01-01", "endDate": "2024-01-31", "dimensions": ["query"]})
    assert empty == {"responseAggregationType": "byProperty"}  # no "rows" key at all


# -- the model behind the numbers ------------------------------------------------------------------


def page_rows(sc, site: str, url: str, start: str, end: str) -> dict[str, dict]:
    body = {
        "startDate": start,
        "endDate": end,
        "dimensions": ["date"],
        "dataState": "all",
        "dimensionFilterGroups": [{"filters": [{"dimension": "page", "expression": url}]}],
    }
    return {r["keys"][0]: r for r in query(sc, site, body).get("rows", [])}


def ctr(rows: list[dict]) -> float:
    return sum(r["clicks"] for r in rows) / sum(r["impressions"] for r in rows)


def test_a_meta_description_written_through_wordpress_lifts_ctr_from_the_next_day(sb, sc, site, wp):
    traffic = sb.world.traffic
    path = next(p for p in traffic.opportunities if traffic.pages[p].source == "wordpress")
    url = site.rstrip("/") + path
    slug = path.strip("/")
    post = (
        wp.get("/wp/v2/posts", params={"slug": slug}).json() or wp.get("/wp/v2/pages", params={"slug": slug}).json()
    )[0]
    today = day(sb, 0)
    before = page_rows(sc, site, url, day(sb, -10), today)
    assert today not in before and len(before) == 10  # dataState all: up to yesterday
    description = f"{post['title']['rendered']}: our roasters' step-by-step method, ratios and the mistakes to avoid."
    kind = "posts" if post["type"] == "post" else "pages"
    response = wp.post(f"/wp/v2/{kind}/{post['id']}", json={"meta": {"_yoast_wpseo_metadesc": description}})
    assert response.status_code == 200, response.text
    assert page_rows(sc, site, url, day(sb, -10), today) == before  # the past never changes
    sb.world.advance(days=8)
    sc = console(sb)
    after = page_rows(sc, site, url, day(sb, -18), day(sb, 0))
    assert {d: after[d] for d in before} == before
    # Day T (the change's own day) is computed exactly as in an untouched world; T+1 on differ.
    untouched = World(seed=0)
    untouched.advance(days=8)
    change_day = sb.world.now().date() - timedelta(days=8)
    assert [f for f in untouched.traffic.search_day(change_day) if f[1] == path] == [
        f for f in sb.world.traffic.search_day(change_day) if f[1] == path
    ]
    assert [f for f in untouched.traffic.search_day(change_day + timedelta(days=1)) if f[1] == path] != [
        f for f in sb.world.traffic.search_day(change_day + timedelta(days=1)) if f[1] == path
    ]
    old = [after[d] for d in sorted(after) if d <= str(change_day)][-7:]
    new = [after[d] for d in sorted(after) if d > str(change_day)]
    assert len(new) == 7
    assert ctr(new) > 1.3 * ctr(old)
    position = sum(r["position"] for r in new) / 7
    assert abs(position - sum(r["position"] for r in old) / 7) < 1.0  # ranking did not move: only CTR


def test_opportunity_pages_have_high_impressions_at_positions_3_to_8_and_weak_ctr(sb, sc, site):
    traffic = sb.world.traffic
    assert len(traffic.opportunities) == 3
    rows = query(
        sc,
        site,
        {"startDate": day(sb, -31), "endDate": day(sb, -4), "dimensions": ["page", "query"], "rowLimit": 25000},
    )["rows"]
    for path in traffic.opportunities:
        heads = [q.text for q in traffic.pages[path].queries if not q.brand][:3]
        mine = [r for r in rows if r["keys"] == [site.rstrip("/") + path, heads[0]]]
        assert mine, path
        row = mine[0]
        assert row["impressions"] > 1500 and 2.5 <= row["position"] <= 8.8
        assert row["ctr"] < 0.85 * expected_ctr(row["position"])
    design = httpx.get(sb.url + "/_sandbox/traffic").json()
    assert [o["page"] for o in design["opportunities"]] == traffic.opportunities


def test_ranking_drop_incident_moves_positions(sb, sc, site):
    sb.world.configure(incidents={"ranking_drop": {"day": -20}})
    path = sb.world.traffic.ranking_drop_page()
    rows = page_rows(sc, site, site.rstrip("/") + path, day(sb, -40), day(sb, -1))
    before = [r for d, r in rows.items() if d < day(sb, -20)]
    after = [r for d, r in rows.items() if d >= day(sb, -20)]

    def mean(rs: list[dict[str, float]]) -> float:
        return sum(r["position"] for r in rs) / len(rs)

    assert mean(after) - mean(before) > 4
    assert ctr(after) < ctr(before)
    listed = httpx.get(sb.url + "/_sandbox/state").json()["incidents"]
    assert {"name": "ranking_drop", "page": path, "start": day(sb, -20)}.items() <= next(
        i for i in listed if i["name"] == "ranking_drop"
    ).items()
    assert httpx.post(sb.url + "/_sandbox/config", json={"incidents": False}).status_code == 200
    flat = page_rows(sc, site, site.rstrip("/") + path, day(sb, -40), day(sb, -1))
    assert abs(mean([r for d, r in flat.items() if d >= day(sb, -20)]) - mean(before)) < 1.5
    assert httpx.post(sb.url + "/_sandbox/config", json={"incidents": {"nope": True}}).status_code == 400


def test_same_seed_same_numbers(sb, sc, site):
    body = {
        "startDate": day(sb, -60),
        "endDate": day(sb, -4),
        "dimensions": ["query", "page", "device"],
        "rowLimit": 25000,
    }
    first = query(sc, site, body)
    sb.world.reset()
    assert query(console(sb), site, body) == first
    assert World(seed=1).traffic.search_day(sb.world.now().date() - timedelta(days=5)) != World(
        seed=0
    ).traffic.search_day(sb.world.now().date() - timedelta(days=5))


# -- URL inspection ----------------------------------------------------------------------------------


def inspect(sc, site: str, url: str) -> dict:
    return (
        sc.urlInspection()
        .index()
        .inspect(body={"inspectionUrl": url, "siteUrl": site, "languageCode": "en-US"})
        .execute()["inspectionResult"]
    )


def test_url_inspection(sb, sc, site, wp):
    wp_page = site + "wholesale/"
    result = inspect(sc, site, wp_page)
    index = result["indexStatusResult"]
    assert index["verdict"] == "PASS" and index["coverageState"] == "Submitted and indexed"
    assert index["googleCanonical"] == index["userCanonical"] == wp_page
    assert index["sitemap"] == [site + "wp-sitemap.xml"] and index["crawledAs"] == "MOBILE"
    assert index["robotsTxtState"] == "ALLOWED" and index["pageFetchState"] == "SUCCESSFUL"
    assert result["mobileUsabilityResult"]["verdict"] == "PASS"
    assert result["inspectionResultLink"].startswith(
        "https://search.google.com/search-console/inspect?resource_id=" + quote(site, safe="")
    )
    webflow = next(p.path for p in sb.world.pages() if p.source == "webflow")
    assert (
        inspect(sc, site, site.rstrip("/") + webflow)["indexStatusResult"]["coverageState"]
        == "Indexed, not submitted in sitemap"
    )
    unknown = inspect(sc, site, site + "no-such-page/")["indexStatusResult"]
    assert (unknown["verdict"], unknown["coverageState"]) == ("NEUTRAL", "URL is unknown to Google")
    draft = next(p for p in sb.world.wordpress.posts.values() if p.status == "draft")
    assert inspect(sc, site, f"{site}?p={draft.id}")["indexStatusResult"]["coverageState"] == "URL is unknown to Google"
    domain = inspect(sc, "sc-domain:127.0.0.1", wp_page)["indexStatusResult"]
    assert domain["verdict"] == "PASS"
    fresh = wp.post(
        "/wp/v2/posts", json={"title": "Aeropress Recipes We Love", "status": "publish", "content": "Three recipes."}
    ).json()
    assert (
        inspect(sc, site, fresh["link"])["indexStatusResult"]["coverageState"] == "Discovered - currently not indexed"
    )
    sb.world.advance(days=5)
    sc = console(sb)
    assert inspect(sc, site, fresh["link"])["indexStatusResult"]["verdict"] == "PASS"
    assert wp.delete(f"/wp/v2/posts/{fresh['id']}").status_code == 200
    gone = inspect(sc, site, fresh["link"])["indexStatusResult"]
    assert (gone["verdict"], gone["coverageState"]) == ("NEUTRAL", "Not found (404)")


def test_url_inspection_refusals(sb, sc, site):
    with pytest.raises(HttpError) as err:
        inspect(sc, site, "https://elsewhere.example/page/")
    error = error_of(err)
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and "does not belong to" in error["message"]
    with pytest.raises(HttpError) as err:
        inspect(sc, "https://elsewhere.example/", "https://elsewhere.example/page/")
    assert err.value.resp.status == 403


# -- sitemaps ------------------------------------------------------------------------------------------


def test_sitemaps_list_submit_get_delete(sb, sc, site):
    listed = sc.sitemaps().list(siteUrl=site).execute()["sitemap"]
    [wp_map] = listed
    assert wp_map["path"] == site + "wp-sitemap.xml" and wp_map["isPending"] is False
    assert wp_map["type"] == "sitemap" and wp_map["warnings"] == "0" and wp_map["errors"] == "0"
    published = sum(1 for p in sb.world.wordpress.posts.values() if p.status == "publish")
    assert wp_map["contents"] == [{"type": "web", "submitted": str(published + 1), "indexed": str(published + 1)}]
    new = site + "news-sitemap.xml"
    with pytest.raises(HttpError) as err:
        sc.sitemaps().submit(siteUrl=site, feedpath=new).execute()
    assert err.value.resp.status == 403
    assert error_of(err)["message"] == "Request had insufficient authentication scopes."
    writer = console(sb, WRITE)
    assert writer.sitemaps().submit(siteUrl=site, feedpath=new).execute() == ""
    pending = writer.sitemaps().get(siteUrl=site, feedpath=new).execute()
    assert pending["isPending"] is True and "lastDownloaded" not in pending
    assert pending["lastSubmitted"] == sb.world.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert new not in {m["path"] for m in writer.sitemaps().list(siteUrl="sc-domain:127.0.0.1").execute()["sitemap"]}
    sb.world.advance(days=1)
    writer = console(sb, WRITE)
    done = writer.sitemaps().get(siteUrl=site, feedpath=new).execute()
    assert done["isPending"] is False and done["lastDownloaded"] and done["errors"] == "1"  # nothing served there
    assert writer.sitemaps().delete(siteUrl=site, feedpath=new).execute() == ""
    for call in (writer.sitemaps().get, writer.sitemaps().delete):
        with pytest.raises(HttpError) as err:
            call(siteUrl=site, feedpath=new).execute()
        assert err.value.resp.status == 404
    with pytest.raises(HttpError) as err:
        writer.sitemaps().submit(siteUrl=site, feedpath="https://elsewhere.example/sitemap.xml").execute()
    assert err.value.resp.status == 400


# -- limits and auth -------------------------------------------------------------------------------------


def test_search_analytics_queries_per_minute(sb, sc, site, mono):
    assert httpx.post(sb.url + "/_sandbox/config", json={"gsc_queries_per_minute": 3}).status_code == 200
    body = {"startDate": day(sb, -5), "endDate": day(sb, -4)}
    for _ in range(3):
        query(sc, site, body)
    with pytest.raises(HttpError) as err:
        query(sc, site, body)
    error = error_of(err)
    assert err.value.resp.status == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"].startswith("Quota exceeded for quota metric 'Search Analytics queries'")
    query(sc, "sc-domain:127.0.0.1", body)  # each property counts on its own
    mono.advance(61)
    query(sc, site, body)


def test_url_inspection_per_minute_and_per_day(sb, sc, site, mono):
    sb.world.configure(gsc_inspections_per_minute=2, gsc_inspections_per_day=3)
    url = site + "wholesale/"
    inspect(sc, site, url)
    inspect(sc, site, url)
    with pytest.raises(HttpError) as err:
        inspect(sc, site, url)
    assert err.value.resp.status == 429 and "per minute" in error_of(err)["message"]
    mono.advance(61)
    inspect(sc, site, url)
    mono.advance(61)
    with pytest.raises(HttpError) as err:
        inspect(sc, site, url)
    assert err.value.resp.status == 429 and "per day" in error_of(err)["message"]


def test_auth_failures(sb, site):
    path = f"/webmasters/v3/sites/{quote(site, safe='')}/searchAnalytics/query"
    missing = httpx.post(sb.url + path, json={})
    assert missing.status_code == 401
    error = missing.json()["error"]
    assert error["status"] == "UNAUTHENTICATED" and error["errors"][0]["reason"] == "required"
    analytics = google_token(sb, "https://www.googleapis.com/auth/analytics.readonly")
    denied = httpx.post(sb.url + path, json={}, headers={"Authorization": f"Bearer {analytics}"})
    assert (
        denied.status_code == 403
        and denied.json()["error"]["message"] == "Request had insufficient authentication scopes."
    )
    inspect_denied = httpx.post(
        sb.url + "/v1/urlInspection/index:inspect", json={}, headers={"Authorization": f"Bearer {analytics}"}
    )
    assert inspect_denied.status_code == 403


def test_injected_faults_are_google_shaped(sb, sc, site):
    sb.world.faults.add("status", path="/webmasters/v3/sites*", status=503, times=1)
    with pytest.raises(HttpError) as err:
        sc.sites().list().execute()
    error = error_of(err)
    assert error == {
        "code": 503,
        "message": "The service is currently unavailable.",
        "errors": [{"message": "The service is currently unavailable.", "domain": "global", "reason": "backendError"}],
        "status": "UNAVAILABLE",
    }
    assert sc.sites().list().execute()["siteEntry"]
