"""Copy a client would send: the shared checks (director/copy_quality.py) and both planners held to them.

The offline planner writes every page of the sandbox and every seeded campaign's subject lines; none of
it may lowercase a name, carry filler or a pasted query, break the length rules, or repeat one template.
"""

import re

import pytest

from director.claude.copy_checks import (
    snippet_copy_problems,
    subject_copy_problem,
    subject_problem,
    subject_template_problems,
    title_problems,
)
from director.copy_quality import (
    Ledger,
    campaign_sources,
    case_problems,
    copy_problems,
    filler_problems,
    names_in,
    page_sources,
    stuffing_problems,
    template_problems,
)
from director.offline import OfflinePlanner
from director.planner import PageContext
from director.snippets import description_fits, title_fits
from sandbox.email_world.incidents import WEAK_SUBJECT
from sandbox.world import World

# --- the checks ---------------------------------------------------------------------------------


def test_names_come_from_capitals_inside_sentences_acronyms_and_brands():
    names = names_in(
        [
            "Meet the Portland team roasting small-batch specialty coffee since 2018.",
            "Local SEO for Coffee Roasters: 5 Practical Wins",
            "brand:Northwind Newsletter",
            "FREE SHIPPING!!! Limited time",  # shouting is not a name
            "Shoes | Acme Outdoors",
        ]
    )
    assert names["portland"] == "Portland" and names["seo"] == "SEO" and names["northwind"] == "Northwind"
    assert names["acme outdoors"] == "Acme Outdoors"
    assert "free" not in names and "coffee" not in names and "roasters" not in names


def test_a_lowercased_name_is_a_fault_and_the_right_case_is_not():
    sources = campaign_sources("Northwind Newsletter #41", "Northwind Newsletter")
    assert case_problems("3 ideas from northwind newsletter you can try this week", sources) == [
        "'northwind' is a name and is written 'Northwind'."
    ]
    assert case_problems("What is new at Northwind this week", sources) == []
    assert case_problems("Local seo for roasters", ["Local SEO for Coffee Roasters"]) == [
        "'seo' is a name and is written 'SEO'."
    ]


def test_filler_and_pasted_queries_are_faults():
    assert filler_problems("Wholesale Coffee: what to know")
    assert filler_problems("Wholesale Coffee: a practical guide")
    assert filler_problems("Everything about sell coffee online: clear steps and what to try next.")
    assert not filler_problems("Wholesale Coffee for Cafes and Offices")
    queries = ["sell coffee online", "coffee product pages"]
    assert stuffing_problems("Everything About sell coffee online: Product Pages", queries, title=True)
    assert stuffing_problems("Sell coffee online. We sell coffee online daily.", queries, title=False)
    assert not stuffing_problems("How to Sell Coffee Online: Strategy and Examples", queries, title=True)


def test_one_template_on_many_pages_is_a_fault_and_varied_copy_is_not():
    pages = [("Wholesale", "wholesale coffee"), ("Contact", "coffee tastings"), ("Decaf", "swiss water decaf")]
    pages += [("Cold Brew", "cold brew"), ("Latte Art", "latte art heart"), ("Shipping", "coffee shipping")]
    templated = [[(f"{q.title()}: a practical guide", [t, q])] for t, q in pages]
    assert any("follow the template 'X: a practical guide'" in p for p in template_problems(templated))
    varied = [
        [("Wholesale Coffee for Cafes and Offices", ["Wholesale", "wholesale coffee"])],
        [("Contact for Coffee Tastings", ["Contact", "coffee tastings"])],
        [("Swiss Water Decaf: Tasting Notes", ["Decaf", "swiss water decaf"])],
        [("How to Make Cold Brew at Home", ["Cold Brew", "cold brew"])],
        [("Latte Art Heart, Step by Step", ["Latte Art", "latte art heart"])],
        [("Coffee Shipping and Returns", ["Shipping", "coffee shipping"])],
    ]
    assert template_problems(varied) == []


def test_two_variants_of_one_subject_on_one_template_are_a_fault():
    sources = campaign_sources("Coffee update", "Northwind Newsletter")
    same = [("Coffee: what is new this week", sources), ("Northwind: what is new this week", sources)]
    assert any("Two variants" in p for p in template_problems([same]))


def test_the_ledger_flags_the_page_that_makes_a_template():
    ledger = Ledger()
    for title, query in [("Wholesale", "wholesale coffee"), ("Contact", "coffee tastings"), ("Decaf", "decaf")]:
        copy = f"{query.title()}: a practical guide"
        if not ledger.problems("title", [copy], [title, query]):
            ledger.add("title", [copy], [title, query])
    assert len(ledger.groups["title"]) == 2  # the third on the same template was refused


def test_claude_copy_checks_apply_the_shared_rules():
    page = PageContext(
        url="http://127.0.0.1/about/",
        title="About Us",
        seo_title="About Northwind Coffee Roasters",
        meta_description="Meet the Portland team roasting small-batch specialty coffee since 2018.",
        queries=["coffee roasters portland"],
    )
    problems = snippet_copy_problems(
        page, "Coffee roasters portland: what to know", "Everything about coffee roasters portland here."
    )
    assert any("'portland' is a name" in p for p in problems) and any("filler" in p for p in problems)
    good = "Small-batch coffee roasted by our Portland team since 2018, and where to taste it."
    assert snippet_copy_problems(page, "Coffee Roasters in Portland: Our Story", good) == []
    assert subject_copy_problem("News from northwind", "Northwind Newsletter #41", "Northwind Newsletter")
    ledger = Ledger()
    lines = ["Coffee: what is new this week", "Northwind: what is new this week"]
    assert subject_template_problems(lines, "Coffee update", "Northwind Newsletter", ledger)


# --- the offline planner over the sandbox ---------------------------------------------------------


def _pages(seed: int) -> list[tuple[PageContext, str]]:
    """Every live page as the Director sees it, with its queries by volume and the top query's key word."""
    world = World(seed=seed)
    out: list[tuple[PageContext, str]] = []
    for page in world.pages():
        state = world.traffic.pages.get(page.path)
        queries = sorted(state.queries, key=lambda q: -q.volume) if state else []
        context = PageContext(
            url=page.path,
            title=page.title,
            seo_title=page.seo_title,
            meta_description=page.description,
            queries=[q.text for q in queries[:5]],
        )
        out.append((context, queries[0].key if queries else ""))
    return out


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))) + " "


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_offline_snippets_for_every_sandbox_page_read_as_written_by_hand(seed):
    planner = OfflinePlanner()
    groups: list[list[tuple[str, list[str]]]] = []
    descriptions: list[list[tuple[str, list[str]]]] = []
    for page, key in _pages(seed):
        snippet = await planner.snippet(page)
        title, description = snippet.seo_title, snippet.meta_description
        sources = page_sources(page.title, page.seo_title, page.meta_description)
        assert title_fits(title) and description_fits(description), (page.url, title, description)
        assert copy_problems(title, sources, page.queries, title=True) == [], (page.url, title)
        assert copy_problems(description, sources, page.queries) == [], (page.url, description)
        assert snippet_copy_problems(page, title, description) == []
        assert not key or f" {key} " in _words(title), (page.url, key, title)  # what searchers typed, kept
        assert "…" not in title
        groups.append([(title, [*sources, *page.queries])])
        descriptions.append([(description, [*sources, *page.queries])])
    assert template_problems(groups) == []
    assert template_problems(descriptions) == []
    assert len({planner_title for [(planner_title, _)] in groups}) == len(groups)


async def test_offline_titles_keep_the_words_of_the_top_query_and_turn_verbs_into_phrases():
    planner = OfflinePlanner()
    page = PageContext(
        url="/webflow-site/blog-posts/product-pages-that-sell-coffee",
        title="Writing Product Pages That Sell Coffee",
        seo_title=None,
        meta_description=None,
        queries=["sell coffee online", "coffee product pages examples", "sell coffee online strategy"],
    )
    snippet = await planner.snippet(page)
    assert snippet.seo_title.startswith("How to Sell Coffee Online")
    assert title_problems(snippet.seo_title, ["sell", "coffee", "online"]) == []
    assert "Everything about" not in snippet.meta_description


async def test_offline_snippets_take_names_from_the_page_when_the_query_is_lower_case():
    planner = OfflinePlanner()
    page = PageContext(
        url="/about-us/",
        title="About Us",
        seo_title="About Northwind Coffee Roasters",
        meta_description="Meet the Portland team roasting small-batch specialty coffee since 2018.",
        queries=["northwind coffee", "about northwind coffee"],
    )
    snippet = await planner.snippet(page)
    assert "Northwind" in snippet.seo_title and "northwind" not in snippet.seo_title
    assert "portland" not in snippet.meta_description


def _campaigns() -> list[tuple[str, str]]:
    world = World(seed=0)
    out: list[tuple[str, str]] = []
    for account in (world.email.mailchimp, world.email.customerio):
        for campaign in account.campaigns.values():
            out.append((campaign.subject or campaign.name, account.audiences[campaign.audience_id].name))
    out.append((WEAK_SUBJECT, "Northwind Newsletter"))
    return out


async def test_offline_subject_lines_for_every_seeded_campaign_read_as_written_by_a_person():
    planner = OfflinePlanner()
    groups: list[list[tuple[str, list[str]]]] = []
    for subject, audience in _campaigns():
        lines = await planner.subject_lines(subject, audience=audience, count=2)
        sources = campaign_sources(subject, audience)
        taken: set[str] = set()
        for line in lines:
            assert subject_problem(line, subject.casefold(), taken) == "", (subject, line)
            assert subject_copy_problem(line, subject, audience) == "", (subject, line)
            assert not re.search(r"\bnorthwind\b", line), line  # the brand keeps its capital
            taken.add(line.casefold())
        groups.append([(line, sources) for line in lines])
    assert template_problems(groups) == []


async def test_offline_subject_lines_keep_merge_tags_names_and_the_subjects_angle():
    planner = OfflinePlanner()
    lines = await planner.subject_lines(WEAK_SUBJECT, audience="Northwind Newsletter", count=2)
    assert all("Kenya Nyeri" in line for line in lines)
    lines = await planner.subject_lines("How to dial in your grinder in 5 minutes", audience="", count=2)
    assert all("dial in your grinder" in line.lower() for line in lines)
    lines = await planner.subject_lines("*|FNAME|*, your next bag ships Tuesday", audience="", count=3)
    assert all("FNAME" not in line or "*|FNAME|*" in line for line in lines)
    assert all("Tuesday" in line for line in lines if "ships" in line)


def test_a_pattern_with_an_empty_part_leaves_no_seam():
    from director.copy_quality import spacing_problems

    assert spacing_problems("Decaf Coffee : Our Swiss Water Colombian") == [
        "'Coffee :' has a space before its punctuation."
    ]
    assert spacing_problems("Wholesale  Coffee") == ["It has two spaces in a row."]
    assert spacing_problems("Cold Brew at Home: Ratio, Steps and Storage | Northwind") == []
