"""Checks on the copy Claude writes, beyond the length rules in director/snippets.py: an SEO title
carries the top query's words, and a subject line is new, distinct and free of spam-filter triggers.
The copy-quality checks both planners share (director/copy_quality.py: names kept in their case, no
filler, no pasted queries, no template across pages or variants) are applied through
`snippet_copy_problems` and `subject_copy_problem` / `subject_template_problems`.
A failed check is a sentence that goes back to Claude with the retry."""

import re
from typing import Any

from ..copy_quality import Ledger, campaign_sources, copy_problems, page_sources
from ..planner import PageContext
from ..snippets import SUBJECT_MAX, title_length_problem

SPAM_PHRASES = (
    "free",
    "act now",
    "buy now",
    "order now",
    "click here",
    "limited time",
    "urgent",
    "guarantee",
    "guaranteed",
    "risk-free",
    "risk free",
    "no cost",
    "winner",
    "cash",
    "earn money",
    "make money",
    "100%",
    "$$$",
    "miracle",
    "once in a lifetime",
    "congratulations",
    "no obligation",
)
_SPAM_RE = re.compile("|".join(rf"(?<![\w$%]){re.escape(p)}(?![\w$%])" for p in SPAM_PHRASES), re.IGNORECASE)
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it my of on or our that the this to "
    "vs what when where which who why will with you your".split()
)


def clean_text(value: Any) -> str:
    """A string answer with its whitespace collapsed; "" for anything else."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def normalised(text: str) -> str:
    """Casefolded, punctuation gone: two lines that differ only in these are the same line."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def query_words(query: str) -> list[str]:
    """The words of a search query a title should carry (no stopwords), once each, in order."""
    words = re.findall(r"[\w']+", query.casefold())
    return list(dict.fromkeys(w for w in words if w not in _STOPWORDS and len(w) > 1))


def _stem(word: str) -> str:
    word = word.casefold().removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _has_word(title_stems: set[str], word: str) -> bool:
    stem = _stem(word)
    return stem in title_stems or (len(stem) >= 6 and any(t[:6] == stem[:6] for t in title_stems if len(t) >= 6))


def title_problems(title: str, main_words: list[str]) -> list[str]:
    """Why the SEO title does not fit: its length, and the query's words it lacks."""
    if not title:
        return ["The SEO title is missing."]
    problems = []
    length = title_length_problem(title)
    if length:
        problems.append(length)
    stems = {_stem(w) for w in re.findall(r"[\w']+", title)}
    missing = [w for w in main_words if not _has_word(stems, w)]
    if missing:
        problems.append(f"The SEO title lacks the top query's words: {', '.join(missing)}.")
    return problems


def subject_problem(line: str, original: str, taken: set[str]) -> str:
    """Why a subject line is not usable ("" when it is); `original` and `taken` are normalised."""
    if not line:
        return "empty"
    if len(line) > SUBJECT_MAX:
        return f"{len(line)} characters; at most {SUBJECT_MAX}"
    norm = normalised(line)
    if norm == original:
        return "the same as the original"
    if norm in taken:
        return "the same as another line"
    spam = _SPAM_RE.search(line)
    if spam:
        return f"spam-filter word '{spam.group(0)}'"
    if any(len(w) >= 4 and w.isupper() for w in re.findall(r"[A-Za-z]+", line)):
        return "ALL CAPS words"
    if line.count("!") > 1:
        return "more than one exclamation mark"
    return ""


def snippet_copy_problems(page: PageContext, title: str, description: str, ledger: Ledger | None = None) -> list[str]:
    """What a careful marketer would not send in this snippet: names in lower case, filler, a pasted
    query, and (with the `ledger` of snippets already written) a template repeated across pages."""
    sources = page_sources(page.title, page.seo_title, page.meta_description, page.body_excerpt)
    problems = copy_problems(title, sources, page.queries, title=True) + copy_problems(
        description, sources, page.queries
    )
    if ledger is not None:
        shapes = [*sources, *page.queries]
        problems += ledger.problems("title", [title], shapes) + ledger.problems("description", [description], shapes)
    return problems


def subject_copy_problem(line: str, subject: str, audience: str = "") -> str:
    """Why a subject line does not read as written by a person ("" when it does): a name of the
    campaign or audience in lower case, or filler."""
    problems = copy_problems(line, campaign_sources(subject, audience))
    return problems[0].rstrip(".") if problems else ""


def subject_template_problems(lines: list[str], subject: str, audience: str, ledger: Ledger) -> list[str]:
    """Variants that share one template, with each other or with the campaigns already written for."""
    return ledger.problems("subject", lines, campaign_sources(subject, audience))


def field_copy_problems(page: PageContext, key: str, value: str) -> list[str]:
    """The shared copy checks on one CMS field a fix sets (seo_title, meta_description, title, excerpt)."""
    sources = page_sources(page.title, page.seo_title, page.meta_description, page.body_excerpt)
    return copy_problems(value, sources, page.queries, title=key in ("seo_title", "title"))


def record_snippet(ledger: Ledger, page: PageContext, title: str, description: str) -> None:
    """Note a snippet that was used, so the next page's is checked against it for a template."""
    shapes = [*page_sources(page.title, page.seo_title, page.meta_description, page.body_excerpt), *page.queries]
    ledger.add("title", [title], shapes)
    ledger.add("description", [description], shapes)


def record_subjects(ledger: Ledger, lines: list[str], subject: str, audience: str) -> None:
    ledger.add("subject", lines, campaign_sources(subject, audience))
