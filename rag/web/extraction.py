"""An HTML page's main text in heading sections, without navigation and page furniture; its links."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from .common import ROBOTS_AGENT, _word_set
from .destinations import _strip_fragment, _url_host


@dataclass(slots=True)
class ExtractedHtml:
    title: str
    sections: list[tuple[list[str], str]]
    links: list[str]
    external_links: list[str]
    robots: set[str] = field(default_factory=set)  # "noindex", "nofollow", "none" from <meta name="robots">
    refresh_url: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.sections)


_DROP_TAGS = _word_set(
    "script style noscript template iframe frame frameset object embed applet svg math canvas video audio map "
    "button select option optgroup input textarea datalist nav aside menu dialog head link meta"
)
_SECTIONING = frozenset({"article", "main", "section", "aside", "nav"})
_DROP_ROLES = _word_set(
    "navigation banner contentinfo complementary search menu menubar toolbar dialog alertdialog"
)
# Words in id/class values (split at -, _, digits and camelCase; adjacent pairs joined too) that mark
# navigation and page furniture. Japanese CMS templates: gnavi (global navigation), lnavi/snavi (local/side),
# pankuzu and topicpath (breadcrumbs), pagetop ("このページの先頭へ"), tmp_header / tmp_footer (CMS-8341).
_NAV_WORDS = _word_set(
    "nav navi navbar navigation gnav gnavi gnavigation globalnav globalnavi globalnavigation lnav lnavi localnav "
    "localnavi snav snavi subnav subnavi hnav hnavi fnav fnavi sidenav sidenavi menu menus menubar megamenu "
    "submenu sidemenu globalmenu drawer breadcrumb breadcrumbs breadcrumbslist pankuzu topicpath sidebar "
    "pagetop gotop totop backtotop skiplink skiplinks skipnav sns snsbtn share sharebutton social banner banners "
    "bnr advertisement fontsize textsize fontchange mojisize cookie cookieconsent"
)
_NAV_SUFFIXES = ("menu", "navi", "nav", "navigation", "breadcrumb", "breadcrumbs", "pankuzu")  # leftmenu, hnavi
# Weak words count only as the last word of a value ("tmp_side", "l-side"), not in "side-note".
_WEAK_NAV_WORDS = frozenset({"side", "skip", "ad", "ads", "util", "utility", "tool", "tools"})
_HEADER_WORDS = frozenset({"header", "head", "masthead", "siteheader", "globalheader"})
_FOOTER_WORDS = frozenset({"footer", "foot", "sitefooter", "globalfooter", "copyright", "copyrights"})
_MAIN_IDS = (
    "main", "tmpmain", "maincontents", "maincontent", "tmpcontents", "contentsmain", "contents", "content",
    "primary", "mainarea", "maincolumn", "article",
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = _word_set(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol p pre section summary table "
    "tbody td tfoot th thead tr ul"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_LETTERS = re.compile(r"[^a-z]+")
_CJK = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uff61-\uff9f"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_CJK}])[ \\t\\r\\f\\v]*\\n\\s*(?=[{_CJK}])")
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_REFRESH = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?[\"']?([^\"']+)", re.IGNORECASE)
_BREAK = object()


def _clean(text: str) -> str:
    """Collapse white space; a line break between two Japanese characters is no space at all (as browsers do)."""
    return _SPACES.sub(" ", _CJK_LINE_BREAK.sub("", _CONTROLS.sub("", text))).strip()


def _tag(element) -> str | None:
    return element.tag.lower() if isinstance(element.tag, str) else None


def _words(value: str) -> tuple[set[str], str]:
    words = [word for word in _NON_LETTERS.split(_CAMEL.sub("-", value).lower()) if word]
    joined = {a + b for a, b in itertools.pairwise(words)}
    return set(words) | joined, (words[-1] if words else "")


def _marker_words(element) -> tuple[set[str], set[str]]:
    """All words of the element's id and classes, and the last word of each value."""
    words: set[str] = set()
    last: set[str] = set()
    values = [element.get("id") or "", *(element.get("class") or "").split()]
    for value in values:
        found, final = _words(value)
        words |= found
        if final:
            last.add(final)
    return words, last


def _is_hidden(element) -> bool:
    return (
        element.get("hidden") is not None
        or (element.get("aria-hidden") or "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(element.get("style") or ""))
    )


def _flat_text(element, *, alt: bool = False) -> str:
    parts: list[str] = []
    for item in _walk(element, structured=False, alt=alt):
        parts.append(" " if item is _BREAK else item)
    return _clean("".join(parts))


def _walk(root, *, structured: bool, alt: bool = False) -> Iterator:
    """Text of ``root`` in document order, as strings, _BREAK between blocks, and (level, text) for headings.

    Iterative (deeply nested pages must not hit the recursion limit).
    """
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        element, closing_tag = stack.pop()
        tag = _tag(element)
        if closing_tag:
            if tag in _BLOCK_TAGS:
                yield _BREAK
            if element is not root and element.tail:
                yield element.tail
            continue
        tail = element.tail if element is not root else None
        if tag is None:  # comments and processing instructions
            if tail:
                yield tail
            continue
        if structured and tag in _HEADINGS:
            yield (_HEADINGS[tag], _flat_text(element, alt=True))
        elif tag in ("br", "hr"):
            yield _BREAK
        elif structured and tag == "tr" and not _is_layout_row(element):
            cells = [_flat_text(cell) for cell in element if _tag(cell) in ("td", "th")]
            yield _BREAK
            yield " | ".join(cell for cell in cells if cell)
            yield _BREAK
        elif tag == "img":
            if alt and (element.get("alt") or "").strip():
                yield element.get("alt")
        else:
            if tag in _BLOCK_TAGS:
                yield _BREAK
            if element.text:
                yield element.text
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))
            continue
        if tail:
            yield tail


def _is_layout_row(row) -> bool:
    """A row of a layout table (older municipal sites put whole pages in tables): walked as blocks, not cells."""
    if next(row.iter("h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"), None) is not None:
        return True
    return any(len(cell.text_content()) > 200 for cell in row if _tag(cell) in ("td", "th"))


class _Sections:
    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.sections: list[tuple[list[str], str]] = []
        self.lines: list[str] = []
        self.inline: list[str] = []

    def feed(self, item) -> None:
        if item is _BREAK:
            self._line()
        elif isinstance(item, tuple):
            level, text = item
            self._line()
            self._flush()
            if text:
                while self.stack and self.stack[-1][0] >= level:
                    self.stack.pop()
                self.stack.append((level, text))
        else:
            self.inline.append(item)

    def _line(self) -> None:
        if self.inline:
            line = _clean("".join(self.inline))
            self.inline = []
            if line:
                self.lines.append(line)

    def _flush(self) -> None:
        if self.lines:
            self.sections.append(([text for _, text in self.stack], "\n".join(self.lines)))
            self.lines = []

    def finish(self) -> list[tuple[list[str], str]]:
        self._line()
        self._flush()
        return self.sections


def _main_root(document):
    for path in ("//main", "//*[@role='main']"):
        found = [element for element in document.xpath(path) if not _is_hidden(element)]
        if found:
            return max(found, key=lambda element: len(element.text_content()))
    articles = [element for element in document.xpath("//article") if not _is_hidden(element)]
    if len(articles) == 1:
        return articles[0]
    by_id: dict[str, object] = {}
    for element in document.xpath("//*[@id]"):
        key = re.sub(r"[^a-z]", "", (element.get("id") or "").lower())
        by_id.setdefault(key, element)
    for key in _MAIN_IDS:
        if key in by_id:
            return by_id[key]
    return document.find("body") if document.find("body") is not None else document


def _inside(element, tags: frozenset[str], stop) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if _tag(parent) in tags:
            return True
        parent = parent.getparent()
    return False


def _mostly_heading(element) -> bool:
    """A title block (``<header><h1>…</h1><p>2025年4月1日</p></header>``), not site furniture."""
    headings = list(element.iter("h1", "h2", "h3", "h4", "h5", "h6"))
    if not headings:
        return False
    heading_chars = sum(len(_flat_text(h, alt=True)) for h in headings)
    total = len(_flat_text(element, alt=True))
    return heading_chars > 0 and heading_chars * 2 >= total


def _drop(elements: list) -> None:
    for element in elements:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _remove_boilerplate(root) -> None:
    first: list = []
    for element in root.iter():
        tag = _tag(element)
        if tag is None or element is root:
            continue
        words, last = _marker_words(element)
        role = (element.get("role") or "").strip().lower()
        if (
            tag in _DROP_TAGS
            or role in _DROP_ROLES
            or _is_hidden(element)
            or words & _NAV_WORDS
            or any(word.endswith(_NAV_SUFFIXES) for word in words)
            or last & _WEAK_NAV_WORDS
            or (tag == "form" and element.find(".//h1") is None and element.find(".//h2") is None
                and element.find(".//main") is None and element.find(".//article") is None)
        ):
            first.append(element)
    _drop(first)
    # Headers and footers second, judged on what is left: a <header> inside <article> or <main> is the article's
    # own title block (ARIA gives it no banner role), and one holding mostly a heading is kept anywhere.
    second: list = []
    for element in root.iter():
        tag = _tag(element)
        if tag is None or element is root:
            continue
        words, _ = _marker_words(element)
        landmark = tag in ("header", "footer") and not _inside(element, _SECTIONING, None)
        marked = bool(words & (_HEADER_WORDS | _FOOTER_WORDS))
        if (landmark or marked) and not _mostly_heading(element):
            second.append(element)
    _drop(second)


def _links(document, base_url: str) -> tuple[list[str], list[str]]:
    base = base_url
    base_element = document.find(".//base[@href]")
    if base_element is not None:
        with suppress(ValueError):
            candidate = urljoin(base_url, base_element.get("href", "").strip())
            if candidate.startswith(("http://", "https://")):
                base = candidate
    own_host = _url_host(base_url).lower()
    same: list[str] = []
    other: list[str] = []
    seen: set[str] = set()
    for element in document.iter("a", "area", "frame", "iframe"):
        href = element.get("href") if _tag(element) in ("a", "area") else element.get("src")
        if not href:
            continue
        href = re.sub(r"[\t\r\n]", "", href).strip()
        if not href or href.startswith("#") or re.match(r"(?i)(javascript|mailto|tel|data|file):", href):
            continue
        try:
            absolute = _strip_fragment(urljoin(base, href))
            parts = urlsplit(absolute)
            host = (parts.hostname or "").rstrip(".").lower()
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc or absolute in seen:
            continue
        seen.add(absolute)
        (same if host == own_host else other).append(absolute)
    return same, other


def extract_main_text(html: str, *, base_url: str = "") -> ExtractedHtml:
    """The page's title, its main text in heading sections, and its links.

    Navigation and furniture are removed: nav/aside/header/footer/form/script/style..., ARIA landmark roles,
    hidden elements and ids/classes such as gnavi, pankuzu, topicpath, breadcrumb, sidebar, pagetop, footer. The
    main content root is ``<main>``, ``[role=main]``, a single ``<article>`` or an id like main/contents
    (tmp_contents on CMS-8341). Links are taken from the whole page (navigation is how a crawl finds pages).
    """
    import lxml.etree
    import lxml.html

    # huge_tree: libxml2 otherwise silently drops everything nested deeper than 256 elements (real CMS pages
    # with layout tables get close); the input is already capped by max_bytes.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        document = lxml.html.document_fromstring(html.encode("utf-8", errors="replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return ExtractedHtml("", [], [], [])
    title_element = document.find(".//title")
    title = _clean(title_element.text_content()) if title_element is not None else ""
    links, external = _links(document, base_url) if base_url else ([], [])
    robots: set[str] = set()
    refresh_url = None
    for meta in document.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name in ("robots", ROBOTS_AGENT.lower()):
            robots |= {token.strip().lower() for token in (meta.get("content") or "").split(",") if token.strip()}
        if (meta.get("http-equiv") or "").strip().lower() == "refresh" and refresh_url is None and base_url:
            match = _REFRESH.match(meta.get("content") or "")
            if match and match.group(1).strip():
                with suppress(ValueError):
                    candidate = urljoin(base_url, match.group(1).strip())
                    if candidate.startswith(("http://", "https://")):
                        refresh_url = candidate
    sections: list[tuple[list[str], str]] = []
    root = _main_root(document)
    body = document.find("body")
    for candidate in (root, body):
        if candidate is None:
            continue
        _remove_boilerplate(candidate)
        builder = _Sections()
        for item in _walk(candidate, structured=True):
            builder.feed(item)
        sections = builder.finish()
        if sections:
            break
    if not title:
        first = document.find(".//h1")
        title = _flat_text(first, alt=True) if first is not None else ""
    return ExtractedHtml(title, sections, links, external, robots, refresh_url)
