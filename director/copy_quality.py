"""What makes copy one a client would send, as checks both planners' output passes (the length rules
are in director/snippets.py):

- proper names keep their case: a name, brand or acronym the page or campaign writes capitalised
  ("Northwind", "SEO", "Tacoma") is never written in lower case, as a search query would have it;
- no filler ("what to know", "a practical guide", "everything about");
- no raw keyword stuffing: a query pasted in lower case into a title-case title, or twice into one text;
- no template: the same skeleton of fixed words (what is left once the page's own words are taken
  out) on many pages, or on several variants of one subject line.

Each check returns sentences that say what is wrong, so a planner can retry or pick another candidate.
`Ledger` keeps what a planner has written so far, so the template check sees the pages before this one.
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i in into is it its my no not of on or our "
    "than that the their them this to up us vs was we what when where which who why will with you your".split()
)
FILLER_PHRASES = (
    "what to know",
    "what you need to know",
    "need to know",
    "everything about",
    "everything you need",
    "all about",
    "a practical guide",
    "the ultimate guide",
    "ultimate guide",
    "the complete guide",
    "the definitive guide",
    "tips and tricks",
    "and much more",
    "read more",
    "learn more",
    "find out more",
    "in this article",
    "in this post",
    "look no further",
    "what to try next",
    "you can try this week",
)
_FILLER_RE = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in FILLER_PHRASES) + r"|\band more\s*[.!…]?\s*$", re.I)
_MERGE_TAG = re.compile(r"\*\|[^|]*\|\*|\{\{.*?\}\}|\{%.*?%\}")
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*[\w]|[A-Za-z0-9]")
_SEGMENT = re.compile(r"(?<=[.!?])\s+|\s+[|–—]\s+|\s+-\s+|[()\[\]\"“”]")
_BRAND_SPLIT = re.compile(r"\s+[|–—]\s+|\s+-\s+")
_GENERIC_NAME_WORDS = frozenset(
    "newsletter newsletters list subscribers customers partners people production staging test all main "
    "weekly monthly digest update updates news audience contacts members the".split()
)
TEMPLATE_SHARE = 1 / 3  # more than this share of pages (and at least 3) on one skeleton is a template
TEMPLATE_MIN_PAGES = 3


def _words(text: str) -> list[str]:
    return [w.rstrip(".").removesuffix("'s").removesuffix("’s") for w in _WORD.findall(_MERGE_TAG.sub(" ", text))]


def _has_inner_capital(word: str) -> bool:
    """ "SEO", "iPhone", "McCafe"; not "Pour-Over", whose parts are each just capitalised."""
    for part in re.split(r"[-'’]", word):
        letters = [c for c in part if c.isalpha()]
        if len(letters) >= 2 and any(c.isupper() for c in letters[1:]):
            return True
    return False


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def _sentence_case(words: list[str]) -> bool:
    """A run of words written as a sentence, not a title: most longer words after the first are lower case."""
    later = [w for w in words[1:] if len(w) >= 4 and w[:1].isalpha()]
    return bool(later) and sum(1 for w in later if w[:1].isupper()) * 2 < len(later)


def _shouting(words: list[str]) -> bool:
    return sum(1 for w in words if len(w) >= 3 and w.isalpha() and w.isupper()) >= 2


def names_in(sources: Iterable[str]) -> dict[str, str]:
    """The proper names the sources write, casefolded -> as written: acronyms and words with inner capitals
    ("SEO", "iPhone"), words capitalised inside a sentence ("the Portland team"), and brands (what follows
    " | " in a title, the distinctive words of an audience name, given as `brand:` sources)."""
    names: dict[str, str] = {}
    for source in sources:
        if source.startswith("brand:"):
            brand = source.removeprefix("brand:").strip()
            words = [w for w in _words(brand) if w.casefold() not in _GENERIC_NAME_WORDS and w[:1].isupper()]
            if words:
                names.setdefault(" ".join(words).casefold(), " ".join(words))
                names.setdefault(words[0].casefold(), words[0])
            continue
        parts = _BRAND_SPLIT.split(source)
        if len(parts) > 1 and len(_words(parts[-1])) <= 4:  # "Title | Brand"
            tail = [w for w in _words(parts[-1]) if w[:1].isupper()]
            if tail:
                names.setdefault(" ".join(tail).casefold(), " ".join(tail))
        for segment in _SEGMENT.split(source):
            words = _words(segment)
            shouting = _shouting(words)
            sentence = _sentence_case(words)
            for i, word in enumerate(words):
                if not word[:1].isalpha():
                    continue
                if not shouting and _has_inner_capital(word) and len(word) <= 12:
                    names.setdefault(word.casefold(), word)
                elif sentence and i > 0 and _capitalised(word) and word.casefold() not in STOPWORDS:
                    names.setdefault(word.casefold(), word)
    return names


def case_problems(copy: str, sources: Iterable[str]) -> list[str]:
    """Proper names of the sources that `copy` writes in lower case (or an acronym not in capitals)."""
    names = names_in(sources)
    if not names:
        return []
    problems: list[str] = []
    words = _words(copy)
    folded = [w.casefold() for w in words]
    seen: set[str] = set()
    for key, proper in sorted(names.items(), key=lambda kv: -len(kv[0])):
        parts = key.split()
        for i in range(len(folded) - len(parts) + 1):
            if folded[i : i + len(parts)] != parts:
                continue
            written = " ".join(words[i : i + len(parts)])
            acronym = proper.isupper() and not written.isupper()
            if (written.islower() or acronym) and written != proper and key not in seen:
                seen.add(key)
                problems.append(f"'{written}' is a name and is written '{proper}'.")
    return problems


def filler_problems(copy: str) -> list[str]:
    return [f"'{m.group(0).strip()}' is filler; say what the page or email gives." for m in _FILLER_RE.finditer(copy)]


def spacing_problems(copy: str) -> list[str]:
    """A space before a colon, comma or full stop, or two spaces: the seams of a pattern with a part left empty."""
    problems = [f"'{m.group(0)}' has a space before its punctuation." for m in re.finditer(r"\S+ [:,.;](?=\s|$)", copy)]
    return problems + (["It has two spaces in a row."] if "  " in copy else [])


def stuffing_problems(copy: str, queries: Sequence[str], *, title: bool) -> list[str]:
    """A search query pasted in raw: lower case inside a title written in title case, or twice in one text."""
    problems: list[str] = []
    title_case = title and not _sentence_case(_words(copy))
    for query in dict.fromkeys(" ".join(q.split()) for q in queries if len(q.split()) >= 2):
        pattern = rf"(?<![\w-]){re.escape(query)}(?![\w-])"
        if len(re.findall(pattern, copy, re.I)) > 1:
            problems.append(f"The query '{query}' is repeated; write it once, as a phrase.")
        elif title_case and query.islower() and re.search(pattern, copy):
            problems.append(f"The query '{query}' is pasted in lower case; write it as part of the title.")
    return problems


def skeleton(copy: str, sources: Iterable[str]) -> tuple[str, ...]:
    """`copy` with the words of its own page or campaign (and numbers) as "_": the template it follows."""
    own = {w.casefold() for s in sources for w in re.findall(r"[\w']+", s.removeprefix("brand:"))}
    out: list[str] = []
    for token in re.findall(r"[\w']+|[:|?!]", copy):
        word = token.casefold()
        slot = word in own or word.removesuffix("s") in own or word.isdigit()
        item = "_" if slot else word
        if not (item == "_" and out and out[-1] == "_"):
            out.append(item)
    return tuple(out)


def _fixed_runs(shape: tuple[str, ...], size: int = 3) -> set[tuple[str, ...]]:
    """Runs of `size` fixed words with at least one that is not a stopword: the template's own phrases."""
    runs: set[tuple[str, ...]] = set()
    words = list(shape)
    for i in range(len(words) - size + 1):
        run = tuple(words[i : i + size])
        if all(w != "_" and w.isalnum() for w in run) and any(w not in STOPWORDS for w in run):
            runs.add(run)
    return runs


def _template_key(shape: tuple[str, ...]) -> tuple[str, ...] | None:
    fixed = [w for w in shape if w != "_" and w.isalnum()]
    if len(fixed) >= 2 and any(w not in STOPWORDS for w in fixed):
        return shape
    return None


def _shown(shape: tuple[str, ...]) -> str:
    return re.sub(r"\s+([:?!])", r"\1", " ".join("X" if w == "_" else w for w in shape))


def _shapes(group: Sequence[tuple[str, Sequence[str]]]) -> tuple[list[tuple[str, ...]], set[tuple[str, ...]]]:
    """A group's template keys (one per copy that has one) and its runs of fixed words."""
    shapes = [skeleton(copy, sources) for copy, sources in group]
    keys = [k for k in (_template_key(s) for s in shapes) if k]
    runs: set[tuple[str, ...]] = set()
    for shape in shapes:
        runs |= _fixed_runs(shape)
    return keys, runs


def _group_problems(
    keys: list[tuple[str, ...]],
    runs: set[tuple[str, ...]],
    whole: Counter[tuple[str, ...]],
    shared: Counter[tuple[str, ...]],
    total: int,
) -> list[str]:
    problems = [
        f"Two variants follow the same template '{_shown(k)}'; vary them." for k, n in Counter(keys).items() if n > 1
    ]
    limit = max(TEMPLATE_MIN_PAGES - 1, int(total * TEMPLATE_SHARE))
    problems += [
        f"{whole[k]} of {total} follow the template '{_shown(k)}'; write each for its page."
        for k in dict.fromkeys(keys)
        if whole[k] > limit
    ]
    problems += [
        f"{shared[r]} of {total} repeat '{' '.join(r)}'; write each for its page."
        for r in sorted(runs)
        if shared[r] > limit
    ]
    return problems


def template_problems(groups: Sequence[Sequence[tuple[str, Sequence[str]]]]) -> list[str]:
    """Templates across `groups` (one group per page or campaign: its copies with their sources): one
    skeleton, or one run of three fixed words, on more than a third of the groups (and at least three),
    or on two copies of the same group."""
    parsed = [_shapes(g) for g in groups]
    whole: Counter[tuple[str, ...]] = Counter(k for keys, _ in parsed for k in set(keys))
    shared: Counter[tuple[str, ...]] = Counter(r for _, runs in parsed for r in runs)
    problems: list[str] = []
    for keys, runs in parsed:
        problems += [p for p in _group_problems(keys, runs, whole, shared, len(groups)) if p not in problems]
    return problems


@dataclass
class Ledger:
    """What a planner has written, by kind ("title", "description", "subject"), so a new piece of copy
    can be checked for a template against the pages (or campaigns) before it."""

    groups: dict[str, list[list[tuple[str, tuple[str, ...]]]]] = field(default_factory=dict)

    def problems(self, kind: str, copies: Sequence[str], sources: Sequence[str]) -> list[str]:
        """The template faults `copies` (one page's or one campaign's) would bring to what is written."""
        groups = [*self.groups.get(kind, []), [(c, tuple(sources)) for c in copies]]
        parsed = [_shapes(g) for g in groups]
        whole: Counter[tuple[str, ...]] = Counter(k for keys, _ in parsed for k in set(keys))
        shared: Counter[tuple[str, ...]] = Counter(r for _, runs in parsed for r in runs)
        keys, runs = parsed[-1]
        return _group_problems(keys, runs, whole, shared, len(groups))

    def add(self, kind: str, copies: Sequence[str], sources: Sequence[str]) -> None:
        self.groups.setdefault(kind, []).append([(c, tuple(sources)) for c in copies])


def copy_problems(copy: str, sources: Sequence[str], queries: Sequence[str] = (), *, title: bool = False) -> list[str]:
    """The faults of one piece of copy against its page's or campaign's own text (length aside)."""
    return (
        case_problems(copy, sources)
        + filler_problems(copy)
        + spacing_problems(copy)
        + stuffing_problems(copy, queries, title=title)
    )


def page_sources(title: str, seo_title: str | None, meta_description: str | None, body: str = "") -> list[str]:
    """The page's own text, where its names are written as they should be."""
    return [s for s in (title, seo_title or "", meta_description or "", body[:2000]) if s]


def campaign_sources(subject: str, audience: str) -> list[str]:
    return [subject, *([f"brand:{audience}"] if audience else [])]
