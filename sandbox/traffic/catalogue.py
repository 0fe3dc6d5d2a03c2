"""What each page is searched for and how visitors reach it: the query catalogue and a page's model.

A page's head phrases come from its topic (the seeded catalogue's titles) or from its own title
words; modifier templates of its style ("{h} recipe", "{h} near me") make the other queries; brand
queries land on the home, about, contact, wholesale, shipping and subscription pages.
"""

from __future__ import annotations

import random
from datetime import date

from .channels import INTENT
from .records import PageModel, PageState, Query, normalize_text, page_coffee_type

HOME_PATH = "/"

# Modifier templates and (min, max) daily search volume of a page's head phrases, by page style.
STYLES: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "guide": (
        (
            "{h} recipe",
            "{h} ratio",
            "{h} guide",
            "{h} tips",
            "best {h}",
            "{h} at home",
            "{h} for beginners",
            "{h} mistakes",
        ),
        (60.0, 220.0),
    ),
    "origin": (("{h} tasting notes", "{h} beans", "buy {h}", "{h} flavor", "{h} roast", "{h} review"), (20.0, 90.0)),
    "news": (("{h} news", "northwind {h}", "{h} 2026", "{h} opening"), (5.0, 25.0)),
    "commercial": (
        ("{h} near me", "{h} portland", "{h} prices", "{h} supplier", "{h} service", "{h} tacoma"),
        (30.0, 120.0),
    ),
    "marketing": (
        ("{h} tips", "{h} examples", "{h} ideas", "{h} checklist", "{h} strategy", "{h} template"),
        (10.0, 60.0),
    ),
    "info": (("{h} portland", "{h} near me", "best {h}", "{h} hours"), (3.0, 15.0)),
}

# Head phrases for the seeded catalogue's titles (normalized title -> heads, style). Other pages get
# heads from their own title words.
TOPICS: dict[str, tuple[tuple[str, ...], str]] = {
    "how to brew pour over coffee at home": (("pour over coffee", "pour over", "brew pour over"), "guide"),
    "the beginners guide to espresso dialing in": (("espresso dialing", "dialing in espresso", "espresso"), "guide"),
    "cold brew concentrate a simple overnight recipe": (
        ("cold brew", "cold brew concentrate", "overnight cold brew"),
        "guide",
    ),
    "meet the farmers behind our huila single origin": (
        ("huila coffee", "huila single origin", "single origin coffee"),
        "origin",
    ),
    "why we pay above fair trade prices": (("fair trade coffee", "fair trade prices"), "origin"),
    "ethiopia guji tasting notes from the cupping table": (
        ("ethiopia guji", "guji coffee", "guji tasting notes"),
        "origin",
    ),
    "were opening a second roastery in tacoma": (("tacoma roastery", "coffee roastery tacoma"), "news"),
    "introducing our coffee subscription": (
        ("coffee subscription", "coffee subscription box", "fresh roasted coffee subscription"),
        "commercial",
    ),
    "a decaf worth drinking our swiss water colombian": (
        ("swiss water decaf", "decaf coffee", "swiss water colombian"),
        "origin",
    ),
    "how to choose a burr grinder": (("burr grinder", "best burr grinder", "choose burr grinder"), "guide"),
    "coffee for the office our wholesale program": (
        ("office coffee", "wholesale coffee program", "office coffee service"),
        "commercial",
    ),
    "training baristas for cafe partners": (("barista training", "cafe barista training"), "commercial"),
    "storing coffee beans dos and donts": (
        ("storing coffee beans", "store coffee beans", "coffee bean storage"),
        "guide",
    ),
    "our 2026 sustainability report": (("coffee sustainability report", "sustainable coffee roaster"), "news"),
    "latte art basics pouring your first heart": (("latte art", "latte art heart", "latte art basics"), "guide"),
    "guatemala huehuetenango returns for the holidays": (
        ("huehuetenango coffee", "guatemala huehuetenango", "guatemala coffee"),
        "origin",
    ),
    "about us": (("coffee roaster story", "small batch coffee roasters"), "info"),
    "contact": (("coffee roastery tastings", "coffee tasting"), "info"),
    "wholesale": (("wholesale coffee", "wholesale coffee beans", "coffee wholesale supplier"), "commercial"),
    "shipping returns": (("coffee shipping", "coffee returns policy", "free coffee shipping"), "info"),
    "5 ways small roasters win on local search": (
        ("local search coffee roasters", "small roasters local search", "local seo roasters"),
        "marketing",
    ),
    "writing product pages that sell coffee": (("coffee product pages", "sell coffee online"), "marketing"),
    "email subject lines that get coffee lovers to open": (
        ("coffee email subject lines", "email subject lines"),
        "marketing",
    ),
    "seasonal launches without the stress": (("seasonal coffee launches", "seasonal launches"), "marketing"),
    "measuring what matters in a coffee subscription": (
        ("coffee subscription metrics", "subscription churn coffee"),
        "marketing",
    ),
    "photographing coffee for the web": (("photographing coffee", "coffee photography web"), "marketing"),
    "from cupping notes to ad copy": (("cupping notes", "coffee ad copy"), "marketing"),
    "building a wholesale landing page": (("wholesale landing page", "wholesale page coffee"), "marketing"),
}
HOME_TOPIC = (
    ("small batch coffee portland", "specialty coffee roasters portland", "portland coffee roasters"),
    "commercial",
)
SECTION_STYLES = {
    "Brewing Guides": "guide",
    "Origins": "origin",
    "Company News": "news",
    "Wholesale": "commercial",
    "page": "info",
    "blog-posts": "marketing",
    "home": "commercial",
}

# (query, where it lands: a path or "title:" + normalized title, daily volume, position)
BRAND_QUERIES: tuple[tuple[str, str, float, float], ...] = (
    ("northwind coffee", HOME_PATH, 45.0, 1.05),
    ("northwind coffee", "/about-us/", 45.0, 2.4),  # the same searches: two results of the site
    ("northwind coffee roasters", HOME_PATH, 28.0, 1.0),
    ("northwind roasters", HOME_PATH, 12.0, 1.1),
    ("northwind coffee portland", HOME_PATH, 9.0, 1.2),
    ("about northwind coffee", "/about-us/", 3.0, 1.3),
    ("northwind coffee phone number", "/contact/", 3.0, 1.2),
    ("northwind coffee contact", "/contact/", 2.0, 1.1),
    ("northwind coffee wholesale", "/wholesale/", 4.0, 1.4),
    ("northwind coffee shipping", "/shipping-returns/", 2.0, 1.5),
    ("northwind coffee subscription", "title:introducing our coffee subscription", 6.0, 1.3),
    ("northwind coffee subscription", HOME_PATH, 6.0, 2.3),
    ("northwind coffee wholesale", HOME_PATH, 4.0, 2.2),
)
BRAND_CTR = 2.2

_STOP = frozenset(
    "a an and are at by for from how in into is it its of on or our the their this to we were what "
    "when why with without your you that get do dos donts".split()
)


def heads_from_title(title: str) -> tuple[str, ...]:
    words = [w for w in normalize_text(title).split() if w not in _STOP and not w.isdigit() and len(w) > 2]
    words = list(dict.fromkeys(words)) or ["coffee"]
    heads = [" ".join(words[:2]), " ".join(words[:3]), words[0]]
    return tuple(dict.fromkeys(h for h in heads if h))


def query_key(head: str, title_words: set[str]) -> str:
    words = head.split()
    for word in words:
        if word in title_words and word not in _STOP and word != "coffee":
            return word
    return next((w for w in words if w not in _STOP and w not in ("best", "buy", "coffee")), words[0])


def new_page(
    rng: random.Random, state: PageState, live_since: date, history: list[tuple[date, PageState | None]]
) -> PageModel:
    """A page's model as first seen in ``state``: its style, queries, visit rates and trend, drawn from ``rng``."""
    normalized = normalize_text(state.title)
    if state.source == "home":
        heads, style = HOME_TOPIC
    elif normalized in TOPICS:
        heads, style = TOPICS[normalized]
    else:
        style = SECTION_STYLES.get(state.section, "marketing")
        heads = heads_from_title(state.title)
    title_words = set(normalize_text(f"{state.title} {state.document_title}").split())
    modifiers, (low, high) = STYLES[style]
    queries: list[Query] = []
    seen: set[str] = set()

    def add(query: Query) -> None:
        if query.text not in seen:
            seen.add(query.text)
            queries.append(query)

    head_stats = []
    for index, head in enumerate(heads):
        position = rng.uniform(3.5, 13.0) if index == 0 else rng.uniform(4.0, 18.0)
        volume = rng.uniform(low, high) * (1.0 if index == 0 else rng.uniform(0.3, 0.8))
        head_stats.append((head, position, volume))
        add(Query(head, query_key(head, title_words), round(position, 2), round(volume, 2)))
    variants = [(head, position, volume, template) for head, position, volume in head_stats for template in modifiers]
    rng.shuffle(variants)
    wanted = rng.randint(5, 15)
    for head, position, volume, template in variants:
        if len(queries) >= wanted:
            break
        text = template.format(h=head)
        if len(set(text.split())) != len(text.split()):
            continue  # "portland coffee roasters portland" is nobody's search
        add(
            Query(
                text,
                query_key(head, title_words),
                round(position + rng.uniform(-1.0, 8.0), 2),
                round(volume * rng.uniform(0.06, 0.35), 2),
            )
        )
    for text, target, volume, position in BRAND_QUERIES:
        if target == state.path or target == f"title:{normalized}":
            add(Query(text, "northwind", position, volume, brand=True))

    rates = {
        "Direct": rng.uniform(1.0, 3.0),
        "Referral": 0.0,
        "Email": 0.3,
        "Paid Search": 0.0,
        "Organic Social": rng.uniform(0.3, 1.5),
    }
    if state.source == "home":
        rates.update({"Direct": 38.0, "Paid Search": 6.0, "Email": 1.0, "Organic Social": 3.0})
    if style in ("guide", "origin", "news"):
        rates["Referral"] = rng.uniform(0.5, 3.0)
    if style == "marketing":
        rates["Organic Social"] = rng.uniform(1.0, 4.0)
    if state.path == "/wholesale/":
        rates["Paid Search"] = 12.0
    if "subscription" in normalized and state.source == "wordpress":
        rates["Paid Search"] = 15.0
    if state.section == "page":
        rates["Direct"] = rng.uniform(1.5, 4.0)
        rates["Organic Social"] = 0.0
    return PageModel(
        path=state.path,
        source=state.source,
        style=style,
        live_since=live_since,
        history=history,
        queries=queries,
        trend=rng.uniform(-0.0015, 0.0025),
        rates=rates,
        intent=INTENT[style] * (1.5 if state.path == "/contact/" else 1.0),
        coffee_type=page_coffee_type(state),
    )
