"""The offline planner: the loop playbooks' own heuristics, so the Director works with no API key.

It writes what a careful marketer would by rule, and checks it as the Claude planner's copy is checked
(director/copy_quality.py, director/snippets.py): titles that lead with what people search for, said
as a phrase (a verb query becomes "How to ...", modifiers such as "ratio" or "mistakes" become what the
page covers), names written as the page writes them, a pattern chosen by what the page is (how-to,
list, product, story, utility page, guide) and not repeated across pages, no filler; descriptions
that say what the page gives; subject lines that take a different angle on the campaign's own
subject, keep its names and merge tags, and do not reuse one template on every campaign.
"""

import re
import zlib
from collections import Counter
from datetime import date, timedelta
from typing import Any

from .claude.copy_checks import normalised, query_words, subject_problem, title_problems
from .copy_quality import STOPWORDS, Ledger, campaign_sources, copy_problems, names_in, page_sources
from .plan import Catalog, Plan, PlanStep
from .planner import Finding, PageContext, PlannerError, Snippet, Usage
from .snippets import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    SUBJECT_MAX,
    TITLE_MAX,
    TITLE_MIN,
    description_fits,
    title_fits,
)

# --- reading a search query ---------------------------------------------------------------------

SMALL_WORDS = frozenset("a an and as at but by for from in into of on or the to vs via with".split())
# Query modifiers -> (in a title, in a sentence): what searchers want from the page, said as a phrase.
FACETS: dict[str, tuple[str, str]] = {
    "mistakes": ("Mistakes to Avoid", "the mistakes to avoid"),
    "ratio": ("Ratio", "the ratio"),
    "recipe": ("Recipe", "the recipe"),
    "tips": ("Tips", "practical tips"),
    "prices": ("Prices", "prices"),
    "service": ("Service", "the service"),
    "template": ("Template", "a template"),
    "checklist": ("Checklist", "a checklist"),
    "examples": ("Examples", "examples"),
    "strategy": ("Strategy", "a strategy"),
    "ideas": ("Ideas", "ideas"),
    "tasting notes": ("Tasting Notes", "tasting notes"),
    "review": ("Tasting Notes", "tasting notes"),
    "flavor": ("Flavor", "the flavor"),
    "for beginners": ("for Beginners", "where beginners start"),
    "at home": ("", "how to do it at home"),
    "hours": ("Hours", "opening hours"),
    "phone number": ("Contact", "how to reach us"),
    "contact": ("Contact", "how to reach us"),
    "returns policy": ("Returns", "the returns policy"),
    "buy": ("Where to Buy", "where to buy"),
}
DROPPED = frozenset({"best", "near", "me", "guide", "supplier", "opening", "2025", "2026"})
VERBS = frozenset("sell brew store make roast grind clean choose start write measure plan launch ship".split())
KIND_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("utility", re.compile(r"\b(contact|shipping|returns?|faq|policy|hours|privacy|terms)\b", re.I)),
    ("story", re.compile(r"\b(about|story|why|introducing|report|mission|team|values|meet)\b", re.I)),
    ("list", re.compile(r"^\d+\s|\b\d+ (ways|ideas|tips|steps|reasons|things|mistakes|wins)\b", re.I)),
    ("howto", re.compile(r"\b(how to|recipe|basics|step|tips|do's|dos|storing|brew|guide)\b", re.I)),
    (
        "product",
        re.compile(r"\b(wholesale|subscription|shop|buy|price|service|program|training|decaf|blend|roast)\b", re.I),
    ),
)


def _kind(page: PageContext) -> str:
    text = f"{page.title} {page.seo_title or ''}"
    return next((kind for kind, pattern in KIND_WORDS if pattern.search(text)), "guide")


def _forms(sources: list[str]) -> tuple[dict[str, str], dict[tuple[str, ...], str]]:
    """How the page writes its words (casefolded -> as written) and its hyphenated compounds."""
    words: dict[str, str] = {}
    compounds: dict[tuple[str, ...], str] = {}
    for source in sources:
        for token in re.findall(r"[\w'’]+(?:-[\w'’]+)*", source):
            if "-" in token:
                compounds.setdefault(tuple(token.casefold().split("-")), token)
            words.setdefault(token.casefold(), token)
    return words, compounds


def _title_case(words: list[str], forms: dict[str, str], names: dict[str, str]) -> str:
    out: list[str] = []
    for i, word in enumerate(words):
        key = word.casefold()
        known = names.get(key) or forms.get(key)
        if known and (known[:1].isupper() or "-" in known):
            out.append(known)
        elif i and key in SMALL_WORDS:
            out.append(key)
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class _Query:
    """A search query turned into a phrase: its head (the topic), what searchers want (facets), its verb."""

    def __init__(self, queries: list[str], sources: list[str], names: dict[str, str]) -> None:
        forms, compounds = _forms(sources)
        words = (queries[0] if queries else "").casefold().split()
        self.facets: list[tuple[str, str]] = []
        for query in queries:
            text = f" {query.casefold()} "
            for modifier, facet in FACETS.items():
                if f" {modifier} " in text and facet not in self.facets:
                    self.facets.append(facet)
        head = [w for w in words if w not in DROPPED]
        for modifier in sorted(FACETS, key=len, reverse=True):  # the modifiers are facets, not the topic
            parts = modifier.split()
            for i in range(len(head) - len(parts) + 1):
                if head[i : i + len(parts)] == parts and len(head) > len(parts):
                    head = head[:i] + head[i + len(parts) :]
                    break
        self.verb = bool(head) and head[0] in VERBS
        merged: list[str] = []
        i = 0
        while i < len(head):  # "pour over" written as the page writes it, "Pour-Over"
            pair = tuple(head[i : i + 2])
            if len(pair) == 2 and pair in compounds:
                merged.append(compounds[pair])
                i += 2
            else:
                merged.append(head[i])
                i += 1
        self.words = merged
        self.topic = _title_case(merged, forms, names) if merged else ""
        self.howto = f"How to {self.topic}" if self.verb else ""
        self.forms, self.names = forms, names

    def facet_titles(self, limit: int = 3, besides: str = "") -> str:
        """The facets as title words, leaving out those `besides` already says."""
        titles = [t for t, _ in self.facets if t and not _contains(besides, t.split()[0])][:limit]
        return _join(titles) if titles else ""

    def facet_sentence(self, default: str, limit: int = 3) -> str:
        return _join([s for _, s in self.facets[:limit]]) if self.facets else default


def _brand(seo_title: str | None) -> str:
    if seo_title and " | " in seo_title:
        return seo_title.rsplit(" | ", 1)[1].strip()
    return ""


def _contains(text: str, phrase: str) -> bool:
    norm = lambda s: " ".join(re.findall(r"\w+", s.casefold()))  # noqa: E731  # a local shorthand
    return f" {norm(phrase)} " in f" {norm(text)} "


def _title_candidates(kind: str, q: _Query, page: PageContext, brand: str) -> list[str]:
    t, p, facets = q.topic, page.title, q.facet_titles(besides=page.title)
    lead = q.howto or t
    shared = [w for w in q.words if _contains(p, w)]
    about = t if len(shared) * 2 < len(q.words) else ""  # the topic, when the title does not say it already
    p_facets = p if ":" not in p else ""  # "Title: Facets" only for a title without its own colon
    audience = next(
        (
            m
            for m in (
                re.search(r"\bfor ([A-Z][\w'’-]*(?:(?: and | & | )[A-Z][\w'’-]*){0,3})", s)
                for s in (page.seo_title or "", p)
            )
            if m
        ),
        None,
    )
    tail = p.split(": ", 1)[1] if ": " in p else ""  # "Coffee for the Office: Our Wholesale Program"
    noun = q.facet_titles(1, besides=t)
    noun = noun if " " not in noun else ""  # "Office Coffee Service", never "Decaf Coffee Where to Buy"
    with_tail = f"{' '.join(filter(None, (t, noun)))}: {tail}" if tail else ""
    by_kind = {
        "howto": [
            f"{lead}: {facets}",
            f"{p_facets}: {facets}",
            f"{about}: {p}",
            f"{lead}, Step by Step",
            f"{p_facets}, Step by Step",
            f"{t}: {tail}" if tail else "",
            p,
        ],
        "list": [f"{about}: {p}", f"{p_facets}: {facets}", f"{lead}: {facets}", p],
        "product": [
            f"{t} for {audience.group(1).strip()}" if audience else "",
            f"{t}: {facets}",
            f"{t} | {brand}" if brand else "",
            with_tail,
            f"{about}: {p}",
            p,
        ],
        "story": [
            f"{p} | {brand}" if brand else "",
            f"{about}: {p}",
            f"{page.seo_title or p}: Our Story" if re.search(r"\babout\b", p, re.I) else "",
            f"{p_facets}: {facets}",
            f"{t}: Our Story",
            p,
        ],
        "utility": [f"{about}: {p}", f"{t}: {facets}", f"{p_facets}: {facets}", f"{t}: {p}", f"{p} for {t}", p],
        "guide": [f"{about}: {p}", f"{lead}: {facets}", f"{p_facets}: {facets}", f"{t}, Explained", p],
    }
    out: list[str] = []
    for candidate in by_kind[kind]:
        candidate = " ".join(candidate.split()).strip(" :|,")
        if candidate and not candidate.startswith(":") and not candidate.endswith(":") and candidate not in out:
            if brand and f"| {brand}" not in candidate and len(candidate) + len(brand) + 3 <= TITLE_MAX:
                out.append(f"{candidate} | {brand}")
            out.append(candidate)
    return out


DESCRIPTION_ENDINGS: dict[str, tuple[str, ...]] = {
    "howto": ("{F}, step by step.", "Step by step, with {f}.", "Follow along: {f}."),
    "list": ("Includes {f}.", "With {f}, ready to use.", "Each one comes with {f}."),
    "product": ("{F}, and how to get started.", "See {f} in one place.", "{F}, and how to start."),
    "story": ("{F}, and what it means for you.", "The full story, in our own words.", "{F}, told plainly."),
    "utility": ("{F}, in one place.", "Find {f} here.", "{F}: the answers in one place."),
    "guide": ("Includes {f}.", "With {f} you can use today.", "{F}, with worked examples."),
}
DEFAULT_FACET = {
    "howto": "the method",
    "list": "the details of each",
    "product": "what is included",
    "story": "who we are and why we do it",
    "utility": "the details",
    "guide": "the main ideas",
}


def _lead(page: PageContext) -> str:
    for text in (page.meta_description or "", page.body_excerpt):
        first = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))[0] if text else ""
        if 30 <= len(first) <= 110:
            return first if first[-1] in ".!?" else first + "."
    return page.title.rstrip(".") + "." if len(page.title.split()) >= 3 else ""


def _repeats(text: str) -> bool:
    """The same longer word twice ("Sustainability Report: Our 2026 Sustainability Report")."""
    words = [w.casefold() for w in re.findall(r"[\w']+", text) if len(w) >= 4]
    return len(words) != len(set(words))


# --- subject lines ------------------------------------------------------------------------------

MERGE_TAG = re.compile(r"\*\|[^|]*\|\*|\{\{.*?\}\}")
GENERIC = re.compile(
    r"\b(newsletter|update|updates|digest|monthly|weekly|bulletin|news|issue|edition)\b|#\s*\d+|"
    r"\b(free|act now|urgent|limited time|click here|buy now)\b|!+",
    re.I,
)
MONTHS = frozenset("january february march april may june july august september october november december".split())
SUBJECT_PATTERNS: dict[str, tuple[str, ...]] = {
    "howto": ("Can you {a}? Here is how", "The quick way to {a}", "{A}, step by step", "Trying to {a}? Start here"),
    "why": ("The reason {a}", "{A}, and here is why", "Ever wondered why {a}?", "What is behind it: {a}"),
    "list": ("{n} {noun} worth a try", "Which of these {n} {noun} is new to you?", "{n} {noun} to try next"),
    "announce": ("Just in: {a}", "Heads up: {a}", "{A}. Have you tried it?", "Good news: {a}"),
    "personal": ("{tag}, a quick note: {a}", "Heads up: {a}", "{A}. Anything to change?", "A quick note: {a}"),
    "feature": (
        "Have you tried {name} yet?",
        "Meet {name}: {desc}",
        "What makes {name} different?",
        "{name}, {desc}: worth a try?",
        "On the menu: {name}",
    ),
    "generic": (
        "What is new {at_b} {period}?",
        "A quick {t} note for you {from_b}",
        "{T} {at_b}: what is new for you?",
        "Have you seen what is new {at_b}?",
        "{period_cap} {at_b}: your two-minute catch-up",
    ),
}


def _first_lower(text: str, names: dict[str, str]) -> str:
    word = text.split(" ", 1)[0]
    if not word or word.casefold() in names or word.isupper() or _inner_capital(word):
        return text
    return word[:1].lower() + text[len(word[:1]) :]


def _inner_capital(word: str) -> bool:
    return any(c.isupper() for c in word[1:])


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _subject_fields(subject: str, audience: str) -> tuple[str, dict[str, str]]:
    """What the subject is (its kind) and the phrases the patterns are filled with."""
    sources = campaign_sources(subject, audience)
    names = names_in(sources)
    tag = (MERGE_TAG.findall(subject) or [""])[0]
    text = " ".join(MERGE_TAG.sub(" ", subject).split()).strip(" ,")
    words = text.split()
    if sum(1 for w in words if len(w) >= 3 and w.isupper()) >= 2:  # shouting: read it in lower case
        text = " ".join((names.get(w.casefold()) or w.lower()) for w in words)
    brand = next((v for k, v in names_in([f"brand:{audience}"]).items() if " " not in k), "") if audience else ""
    month = next((w for w in re.findall(r"\w+", text) if w.casefold() in MONTHS), "")
    fields = {
        "tag": tag,
        "at_b": f"at {brand}" if brand else "with us",
        "from_b": f"from {brand}" if brand else "from us",
        "period": f"in {month}" if month else "this week",
        "period_cap": month or "This week",
    }
    m = re.match(r"how to (.+)", text, re.I)
    if m:
        return "howto", {**fields, "a": _first_lower(m.group(1).rstrip("?.!"), names)}
    m = re.match(r"why (.+)", text, re.I)
    if m:
        return "why", {**fields, "a": m.group(1).rstrip("?.!")}
    m = re.match(r"(\d+) (.+)", text)
    if m:
        rest = m.group(2).split()
        noun = []
        for w in rest:
            if w.casefold() in STOPWORDS or len(noun) == 3:
                break
            noun.append(w)
        if noun:
            return "list", {**fields, "n": m.group(1), "noun": " ".join(noun)}
    m = re.match(r"(new|now|just in|introducing|back)\s*:\s*(.+)", text, re.I)
    if m:
        return "announce", {**fields, "a": _first_lower(m.group(2).rstrip("?.!"), names)}
    if tag and text:
        return "personal", {**fields, "a": _first_lower(text.rstrip("?.!"), names)}
    name_run = (
        re.search(r"((?:\b(?:" + "|".join(re.escape(n) for n in names.values() if " " not in n) + r")\b ?)+)", text)
        if names
        else None
    )
    if name_run and name_run.group(1).strip() not in (brand, month):
        name = name_run.group(1).strip()
        desc = text[name_run.end() :].strip(" ,;:-").rstrip("?.!")
        return "feature", {**fields, "name": name, "desc": desc}
    leftover = [w for w in re.findall(r"[\w'’-]+", GENERIC.sub(" ", text)) if not w.isdigit()]
    leftover = [w for w in leftover if w.casefold() not in STOPWORDS and w not in (brand, month)]
    topic = " ".join((names.get(w.casefold()) or w.lower()) for w in leftover[:3])
    return "generic", {**fields, "t": topic, "T": _upper_first(topic)}


def _fill(pattern: str, fields: dict[str, str]) -> str:
    needed = re.findall(r"\{(\w+)\}", pattern)
    if any(not fields.get(k) for k in needed):
        return ""
    return " ".join(pattern.format(**fields).split()).replace(" ,", ",")


def _fit(text: str, low: int, high: int) -> str:
    text = " ".join(text.split())
    if len(text) <= high:
        return text
    cut = text[: high - 1].rsplit(" ", 1)[0].rstrip(" ,;:-|")
    return cut + "…" if len(cut) >= low else text[:high]


class OfflinePlanner:
    name = "offline"

    def __init__(self) -> None:
        self.usage = Usage()
        self.ledger = Ledger()  # what it wrote, so a template is not repeated across pages and campaigns
        self._used: Counter[str] = Counter()

    async def snippet(self, page: PageContext) -> Snippet:
        sources = page_sources(page.title, page.seo_title, page.meta_description, page.body_excerpt)
        names = names_in(sources)
        q = _Query(page.queries, sources, names)
        kind = _kind(page)
        shapes = [*sources, *page.queries]
        main = [w for w in query_words(page.queries[0]) if w not in DROPPED] if page.queries else []

        def title_ok(title: str) -> bool:
            return (
                title_fits(title)
                and title not in (page.seo_title, page.title)  # the post's own title says nothing new
                and not title_problems(title, main)
                and not copy_problems(title, sources, page.queries, title=True)
                and not self.ledger.problems("title", [title], shapes)
            )

        titles = _title_candidates(kind, q, page, _brand(page.seo_title))
        key = main[:1]  # the query's first word, at least, when no title carries all of them
        seo_title = (
            next((t for t in titles if title_ok(t) and not _repeats(t)), None)
            or next((t for t in titles if title_ok(t)), None)
            or next((t for t in titles if title_fits(t) and not title_problems(t, key)), None)
            or _fit(titles[0] if titles else page.title, TITLE_MIN, TITLE_MAX)
        )
        self.ledger.add("title", [seo_title], shapes)

        lead = _lead(page) or (
            f"{q.topic}." if _contains(q.topic, page.title) else f"{page.title}: {q.topic}." if q.topic else ""
        )
        endings = DESCRIPTION_ENDINGS[kind]
        start = len(self.ledger.groups.get("description", [])) % len(endings)
        options: list[str] = []
        for ending in endings[start:] + endings[:start]:
            for limit in (3, 2, 1):
                f = DEFAULT_FACET[kind] if kind == "story" else q.facet_sentence(DEFAULT_FACET[kind], limit)
                text = f"{lead} {ending.format(f=f, F=_upper_first(f))}".strip()
                if len(text) < DESCRIPTION_MIN:  # a short one says what else the page gives
                    other = DEFAULT_FACET[kind]
                    more = f"{_upper_first(other)}, in one place."
                    text += f" {more if other.casefold() not in text.casefold() else 'Questions? We are glad to help.'}"
                options.append(text)
        description = next(
            (
                d
                for d in options
                if description_fits(d)
                and d != (page.meta_description or "")
                and not copy_problems(d, sources, page.queries)
                and not self.ledger.problems("description", [d], shapes)
            ),
            None,
        ) or _fit(options[0], DESCRIPTION_MIN, DESCRIPTION_MAX)
        self.ledger.add("description", [description], shapes)
        return Snippet(seo_title=seo_title, meta_description=description)

    async def subject_lines(self, subject: str, *, audience: str, count: int) -> list[str]:
        sources = campaign_sources(subject, audience)
        kind, fields = _subject_fields(subject, audience)
        for key in ("a", "t"):
            if fields.get(key):
                fields[key.upper()] = _upper_first(fields[key])
        own = list(SUBJECT_PATTERNS[kind])
        offset = zlib.crc32(subject.encode()) % len(own)
        ordered = sorted(own[offset:] + own[:offset], key=lambda p: self._used[p])  # the least used angle first
        if kind != "generic":  # the campaign's own angle first, a general one only when it runs out
            ordered += sorted(SUBJECT_PATTERNS["generic"], key=lambda p: self._used[p])
        original = normalised(subject)
        out: list[str] = []
        chosen: list[str] = []
        for strict in (True, False):
            for pattern in ordered:
                line = _fit(_fill(pattern, fields), 20, SUBJECT_MAX)
                if len(out) == count or not line or pattern in chosen:
                    continue
                if subject_problem(line, original, {normalised(o) for o in out}) or copy_problems(line, sources):
                    continue
                if strict and self.ledger.problems("subject", [*out, line], sources):
                    continue
                out.append(line)
                chosen.append(pattern)
        if len(out) < count:
            raise PlannerError(f"Could not write {count} subject lines from '{subject}'.")
        self._used.update(chosen)
        self.ledger.add("subject", out, sources)
        return out

    async def fix(self, page: PageContext, findings: list[Finding]) -> dict[str, Any]:
        checks = {f.check for f in findings}
        fields: dict[str, Any] = {}
        title = checks & {"title_missing", "title_length", "title_duplicates_h1"}
        described = checks & {"meta_description_missing", "meta_description_length", "meta_description_duplicates_h1"}
        if title or described:
            snippet = await self.snippet(page)
            if title:
                fields["seo_title"] = snippet.seo_title
            if described:
                fields["meta_description"] = snippet.meta_description
        return fields

    async def plan(self, goal: str, catalog: Catalog, call_read_tool: Any) -> Plan:
        """The playbook whose words the goal uses, as read-only diagnosis steps (the loops act)."""
        text = goal.lower()
        steps: list[PlanStep] = []

        def add(tool: str, args: dict, why: str) -> None:
            if tool in catalog.tools:
                catalog.check_arguments(tool, args)
                steps.append(PlanStep(tool=tool, arguments=args, why=why))

        end = date.today() - timedelta(days=3)  # Search Console's final data trails by 2-3 days
        if any(w in text for w in ("ctr", "click", "search", "title", "snippet", "seo")):
            add(
                "search-console.ctr_opportunities",
                {"start": str(end - timedelta(days=27)), "end": str(end), "dimension": "page"},
                "Pages whose CTR is below the expected CTR for their position.",
            )
        if any(w in text for w in ("traffic", "session", "drop", "conversion", "landing")):
            add("ga4.top_landing_pages", {"limit": 10}, "Landing pages by sessions, to see which fell.")
        if any(w in text for w in ("email", "newsletter", "subject", "campaign", "open")):
            for server in ("mailchimp", "customerio"):
                add(
                    f"{server}.list_campaigns",
                    {"status": "sent", "limit": 5},
                    "Recent campaigns to compare with the audience's click baseline.",
                )
        if not steps:
            raise PlannerError(
                "The offline planner knows three playbooks (search CTR, traffic or conversion "
                "drop, email engagement) and the goal names none of them; set ANTHROPIC_API_KEY "
                "for free-form goals."
            )
        return Plan(
            goal=goal,
            steps=steps,
            planner="offline",
            notes="Offline playbook: diagnosis first; `director run` makes and verifies the changes.",
        )
