"""The small part of WordPress's text pipeline that clients can observe.

Clients see ``title.rendered`` and ``content.rendered`` rather than what they
sent: typographic entities (``It&#8217;s``), ``&#038;`` for ampersands and
``<p>`` wrapping. Emulating that keeps adapters honest about reading ``raw``
in edit context when they need the stored text back.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]*>")
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*-->\n?")
_BLOCK_TAGS = re.compile(r"<(?:p|div|h[1-6]|ul|ol|li|table|blockquote|pre|figure|section|article|hr|form)\b", re.I)


def sanitize_title(text: str) -> str:
    """Slug from a title or a requested slug (``sanitize_title_with_dashes``)."""
    text = _TAG.sub("", text or "")
    text = html.unescape(text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.lower()
    text = re.sub(r"[\s./]+", "-", text)
    text = re.sub(r"[^a-z0-9_-]", "", text)
    text = re.sub(r"-+", "-", text)
    return text.strip("-")


def texturize(text: str) -> str:
    """A reduced ``wptexturize``: the substitutions that commonly show up in titles."""
    if not text:
        return ""
    out = re.sub(r"&(?!#?\w+;)", "&#038;", text)
    out = out.replace("...", "&#8230;")
    out = out.replace(" -- ", " &#8212; ").replace(" - ", " &#8211; ")
    out = re.sub(r"(?<=\w)'(?=\w)", "&#8217;", out)
    out = re.sub(r"(^|\s)\"(?=\S)", r"\1&#8220;", out)
    out = re.sub(r"(?<=\S)\"(?=\s|$|[.,;:!?])", "&#8221;", out)
    out = re.sub(r"(^|\s)'(?=\S)", r"\1&#8216;", out)
    out = re.sub(r"(?<=\S)'(?=\s|$|[.,;:!?])", "&#8217;", out)
    return out


def autop(text: str) -> str:
    """A reduced ``wpautop``: wrap loose paragraphs in ``<p>``, leave block markup alone."""
    text = _BLOCK_COMMENT.sub("", text or "").strip()
    if not text:
        return ""
    chunks = [c.strip() for c in re.split(r"\n\s*\n", text) if c.strip()]
    out = []
    for chunk in chunks:
        if _BLOCK_TAGS.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br />\n") + "</p>")
    return "\n".join(out) + "\n"


def render_content(raw: str) -> str:
    return autop(raw)


def strip_tags(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", _BLOCK_COMMENT.sub("", text or "")))).strip()


def render_excerpt(raw_excerpt: str, raw_content: str, words: int = 55) -> str:
    """Explicit excerpts are wrapped as-is; otherwise the first 55 words plus ``[&hellip;]``."""
    if raw_excerpt:
        return autop(texturize(raw_excerpt))
    plain = strip_tags(raw_content).split()
    if not plain:
        return ""
    text = " ".join(plain[:words])
    if len(plain) > words:
        text += " [&hellip;]"
    return "<p>" + texturize(text) + "</p>\n"
