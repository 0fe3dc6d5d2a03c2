"""The offline planner: the loop playbooks' own heuristics, so the Director works with no API key.

It writes what a careful marketer would by rule: titles within the snippet rules (director/snippets.py)
that lead with the words people search for, descriptions that say what the page gives, subject
lines that are specific (a number, a question, the reader) instead of generic, and plans that
follow the playbook of the goal's loop.
"""

import re
from datetime import date, timedelta
from typing import Any

from .plan import Catalog, Plan, PlanStep
from .planner import Finding, PageContext, PlannerError, Snippet, Usage
from .snippets import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    SUBJECT_MAX,
    TITLE_MAX,
    TITLE_MIN,
    title_fits,
)

GENERIC = re.compile(
    r"\b(newsletter|update|updates|digest|monthly|weekly|bulletin|news|issue)\b|#\s*\d+|"
    r"\b(free|act now|urgent|limited time|click here|buy now)\b|!+",
    re.I,
)
FILLER = {"the", "a", "an", "and", "or", "of", "for", "to", "in", "on", "with", "your", "our", "how", "what", "why"}


def _fit(text: str, low: int, high: int) -> str:
    text = " ".join(text.split())
    if len(text) <= high:
        return text
    cut = text[: high - 1].rsplit(" ", 1)[0].rstrip(" ,;:-|")
    return cut + "…" if len(cut) >= low else text[:high]


def _brand(seo_title: str | None) -> str:
    if seo_title and " | " in seo_title:
        return seo_title.rsplit(" | ", 1)[1].strip()
    return ""


def _cap(words: str) -> str:
    return " ".join(w if w.isupper() else w[:1].upper() + w[1:] for w in words.split())


class OfflinePlanner:
    name = "offline"

    def __init__(self) -> None:
        self.usage = Usage()

    async def snippet(self, page: PageContext) -> Snippet:
        query = page.queries[0] if page.queries else ""
        topic = _cap(query) if query else page.title
        brand = _brand(page.seo_title)
        title_words = page.title.lower()
        candidates = [
            f"{topic}: {page.title}" if query and query.lower() not in title_words else page.title,
            f"{topic} | {brand}" if brand else f"{topic}: a practical guide",
            f"{page.title} | {brand}" if brand else page.title,
        ]
        if brand and query:
            candidates.insert(0, f"{topic}: {page.title} | {brand}")
        seo_title = next((c for c in candidates if title_fits(c)), None) or _fit(candidates[0], TITLE_MIN, TITLE_MAX)
        if len(seo_title) < TITLE_MIN:
            seo_title = _fit(f"{seo_title}: what to know", TITLE_MIN, TITLE_MAX)
        lead = page.body_excerpt.split(". ")[0].strip() if page.body_excerpt else ""
        about = query or page.title.lower()
        description = (
            f"{lead}. " if 20 <= len(lead) <= 90 else ""
        ) + f"Everything about {about}: clear steps, the mistakes to avoid and what to try next."
        return Snippet(seo_title=seo_title, meta_description=_fit(description, DESCRIPTION_MIN, DESCRIPTION_MAX))

    async def subject_lines(self, subject: str, *, audience: str, count: int) -> list[str]:
        topic = GENERIC.sub(" ", subject)
        topic = " ".join(w for w in re.findall(r"[\w'’-]+", topic) if not w.isdigit()).strip(" :-")
        words = [w for w in topic.split() if w.lower() not in FILLER]
        core = " ".join(words[:4]) if len(words) >= 2 else (audience or "this week").lower()
        options = [
            f"3 ideas from {core} you can try this week",
            f"What is new in {core}?",
            f"Your {core}: the one thing to change first",
            f"{_cap(core)}: 5 minutes, better results",
        ]
        out = []
        for option in options:
            option = _fit(option, 20, SUBJECT_MAX)
            if option.lower() != subject.lower() and option not in out:
                out.append(option)
        if len(out) < count:
            raise PlannerError(f"Could not write {count} subject lines from '{subject}'.")
        return out[:count]

    async def fix(self, page: PageContext, findings: list[Finding]) -> dict[str, Any]:
        checks = {f.check for f in findings}
        fields: dict[str, Any] = {}
        if checks & {"title_missing", "title_length", "title_duplicates_h1"}:
            fields["seo_title"] = (await self.snippet(page)).seo_title
        if checks & {"meta_description_missing", "meta_description_length", "meta_description_duplicates_h1"}:
            fields["meta_description"] = (await self.snippet(page)).meta_description
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
