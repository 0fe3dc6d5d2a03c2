"""What a plain page analyzer reads from served HTML, with the stdlib's HTML parser only, so the page
tests stay independent of the sandbox's own code."""

from __future__ import annotations

import json
from html.parser import HTMLParser

FIELD_TAGS = {"input", "select", "textarea"}


class Facts(HTMLParser):
    """What a page analyzer reads from one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.meta: dict[str, str] = {}  # name or property -> content
        self.title = ""
        self.canonical: str | None = None
        self.h1 = 0
        self.images: list[dict[str, str | None]] = []
        self.blocking: list[str] = []  # render-blocking resources in <head>
        self.jsonld: list[str] = []
        self.forms: list[int] = []  # field count per form
        self.links: list[str] = []
        self.ctas: list[dict[str, str]] = []
        self.classes: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self._in: list[str] = []
        self._capture: str | None = None
        self._buffer: list[str] = []
        self._head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.classes += (a.get("class") or "").split()
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "head":
            self._head = True
        elif tag == "meta" and (a.get("name") or a.get("property")):
            self.meta[(a.get("name") or a.get("property") or "").lower()] = a.get("content") or ""
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        elif tag == "link" and a.get("rel") == "stylesheet" and self._head:
            self.blocking.append(a.get("href") or "")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._capture, self._buffer = "jsonld", []
        elif (
            tag == "script"
            and a.get("src")
            and self._head
            and not ({"async", "defer"} & set(a))
            and a.get("type") != "module"
        ):
            self.blocking.append(a["src"] or "")
        elif tag in ("title", "style"):
            self._capture, self._buffer = tag, []
        elif tag == "h1":
            self.h1 += 1
        elif tag == "img":
            self.images.append({"src": a.get("src"), "alt": a.get("alt")})
        elif tag == "form":
            self.forms.append(0)
        elif tag in FIELD_TAGS and self.forms and a.get("type") not in ("hidden", "submit", "button"):
            self.forms[-1] += 1
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
            if "cta" in (a.get("class") or "").split():
                self.ctas.append({"href": a["href"] or ""})
        if tag == "button" and "cta" in (a.get("class") or "").split():
            self.ctas.append({"href": ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._head = False
        if self._capture and tag in ("script", "title", "style"):
            text = "".join(self._buffer)
            if self._capture == "jsonld":
                self.jsonld.append(text)
            elif self._capture == "title":
                self.title = text
            else:
                self.style += text
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)
        else:
            self.text.append(data)


def facts_of(html: str) -> Facts:
    parser = Facts()
    parser.feed(html)
    return parser


def jsonld_problems(blocks: list[str]) -> list[str]:
    problems = []
    for raw in blocks:
        try:
            data = json.loads(raw)
        except ValueError:
            problems.append("syntax")
            continue
        if data.get("@type") == "Article":
            problems += [f"no {k}" for k in ("headline", "datePublished", "author", "image") if not data.get(k)]
    return problems
