"""The manuals in docs/ rendered in the app: heading ids that match the 目次 links, sections for search, export."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nh3
from django.conf import settings
from markdown_it import MarkdownIt

from chat.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

MANUALS = {
    "user": ("user-manual.md", "利用者マニュアル"),
    "admin": ("admin-manual.md", "管理者マニュアル"),
    # Shown only on the operator's host (tenants.views.console); never in a municipality's learning area.
    "operator": ("operator-manual.md", "運営者マニュアル"),
}
TENANT_MANUALS = ("user", "admin")

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def slugify_heading(text: str) -> str:
    """GitHub's anchor rule: lower-case, drop punctuation and symbols except '-' and '_', spaces become '-'."""
    kept = []
    for ch in text.strip().lower():
        category = unicodedata.category(ch)
        if ch in "-_" or category[0] in "LNM":
            kept.append(ch)
        elif ch == " ":
            kept.append("-")
    return "".join(kept)


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    text: str


@dataclass(frozen=True)
class Manual:
    kind: str
    title: str
    html: str
    sections: tuple[Section, ...]
    source: str = ""  # the Markdown itself, for the PDF


def _unique(slug: str, seen: dict[str, int]) -> str:
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def _render(source: str) -> tuple[str, tuple[Section, ...]]:
    tokens = _md.parse(source)
    seen: dict[str, int] = {}
    sections: list[Section] = []
    lines = source.splitlines()
    starts: list[tuple[int, Section]] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = tokens[i + 1].content
            anchor = _unique(slugify_heading(title), seen)
            token.attrSet("id", anchor)
            starts.append((token.map[0] if token.map else 0, Section(anchor, title, int(token.tag[1]), "")))
    for n, (line, section) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        sections.append(Section(section.anchor, section.title, section.level, "\n".join(lines[line:end])))
    html = _md.renderer.render(tokens, _md.options, {})
    attributes = {**ALLOWED_ATTRIBUTES, **{tag: {"id"} for tag in _HEADINGS}}
    html = nh3.clean(html, tags=ALLOWED_TAGS, attributes=attributes, url_schemes={"http", "https", "mailto"},
                     link_rel=None)
    return html, tuple(sections)


def manual_path(kind: str) -> Path:
    filename, _ = MANUALS[kind]
    return Path(settings.BASE_DIR) / "docs" / filename


@lru_cache(maxsize=8)
def _load(kind: str, mtime_ns: int) -> Manual:
    _, title = MANUALS[kind]
    source = manual_path(kind).read_text(encoding="utf-8")
    html, sections = _render(source)
    return Manual(kind=kind, title=title, html=html, sections=sections, source=source)


def load_manual(kind: str) -> Manual:
    """The rendered manual, re-read when the file changes (the cache key includes its modification time)."""
    return _load(kind, manual_path(kind).stat().st_mtime_ns)


def search_sections(manual: Manual, query: str) -> list[Section]:
    """Sections (below the title, except the 目次) whose text contains every word of ``query``."""
    words = [w.lower() for w in query.split() if w]
    if not words:
        return []
    return [
        s for s in manual.sections
        if s.level > 1 and s.anchor != "目次" and all(w in s.text.lower() for w in words)
    ]
