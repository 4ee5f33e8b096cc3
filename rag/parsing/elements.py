"""Turning unstructured's element stream into sections with heading paths."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .types import Section

# Running headers and footers repeat on every page and carry no content of their own; page breaks are markers.
_SKIPPED = {"Header", "Footer", "PageBreak", "PageNumber", "Image", "Picture"}
_SPACES = re.compile(r"[ \t\u3000]+")


def clean(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def table_text(element) -> str:
    """A table as one line per row, cells separated by " | ", from unstructured's ``text_as_html``."""
    html = getattr(element.metadata, "text_as_html", None)
    if not html:
        return clean(element.text)
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except Exception:  # malformed fragments: the flat text is still worth indexing
        return clean(element.text)
    rows = []
    for row in root.iter("tr"):
        cells = [clean(cell.text_content()).replace("\n", " ") for cell in row if cell.tag in ("td", "th")]
        cells = [cell for cell in cells if cell]
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows) or clean(element.text)


def element_text(element) -> str:
    return table_text(element) if element.category == "Table" else clean(element.text)


def sections_by_heading(elements: Iterable, *, heading_depth) -> tuple[list[Section], str]:
    """Sections in document order, each with the headings above it; also the first heading (a title candidate).

    ``heading_depth(element)`` returns the element's heading level (0 = top) or None for body text.
    """
    sections: list[Section] = []
    path: list[str] = []
    first_heading = ""
    for element in elements:
        if element.category in _SKIPPED:
            continue
        text = element_text(element)
        if not text:
            continue
        depth = heading_depth(element)
        if depth is not None:
            heading = text.replace("\n", " ")
            first_heading = first_heading or heading
            depth = max(0, min(depth, len(path)))
            path = [*path[:depth], heading]
            continue
        sections.append(Section(text=text, heading_path=list(path)))
    return sections, first_heading
