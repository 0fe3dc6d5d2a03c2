"""The rules for the copy the planners write, defined once: what a search result shows in full (the
page checks use 30-60 / 70-160; these keep a margin), and the limits on subject lines, post titles
and excerpts. Both planners (Claude's and the offline one) write to them and check against them."""

TITLE_MIN, TITLE_MAX = 35, 60
DESCRIPTION_MIN, DESCRIPTION_MAX = 70, 155
SUBJECT_MAX = 90
POST_TITLE_MAX = 120
EXCERPT_MAX = 320


def title_fits(title: str) -> bool:
    return TITLE_MIN <= len(title) <= TITLE_MAX


def description_fits(description: str) -> bool:
    return DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX


def title_length_problem(title: str) -> str | None:
    """Why the SEO title's length breaks the rule, or None."""
    if title_fits(title):
        return None
    return f"The SEO title has {len(title)} characters; it must have {TITLE_MIN}-{TITLE_MAX}."


def description_problems(description: str) -> list[str]:
    if not description:
        return ["The meta description is missing."]
    if not description_fits(description):
        return [
            f"The meta description has {len(description)} characters; it must have {DESCRIPTION_MIN}-{DESCRIPTION_MAX}."
        ]
    return []
