"""HTML (saved pages and fetched URLs) through unstructured, and Markdown rendered to HTML first."""

from __future__ import annotations

import html as html_lib
import re

from ._offline import load_unstructured
from .elements import sections_by_heading
from .encoding import decode_text, decoding_warnings
from .types import Limits, ParsedDocument, ParseError

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def parse_html(data: bytes, limits: Limits) -> ParsedDocument:
    text, _ = decode_text(data, declared_charset=True)
    document = html_document(text, fmt="html")
    document.warnings.extend(decoding_warnings(text))
    return document


def parse_md(data: bytes, limits: Limits) -> ParsedDocument:
    from markdown_it import MarkdownIt

    text, _ = decode_text(data)
    # Raw HTML inside Markdown is rendered too: it is only parsed for text here, never shown.
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    document = html_document(rendered, fmt="md")
    document.warnings.extend(decoding_warnings(text))
    return document


def html_document(text: str, *, fmt: str) -> ParsedDocument:
    """Partition HTML text; <nav>, <header>, <footer>, scripts and styles are left out by unstructured."""
    load_unstructured()
    from unstructured.partition.html import partition_html

    if not text.strip():
        raise ParseError("ページに本文がありません。")
    try:
        elements = partition_html(text=text, languages=["jpn"], image_alt_mode=None)
    except ValueError as error:  # unstructured's "no text" and parser errors
        raise ParseError("HTML を読み込めません。ページの内容を確認してください。") from error

    def heading_depth(element) -> int | None:
        # <h1>..<h6> become Title at depths 0..5; other tags never become Title in the HTML partitioner.
        return (element.metadata.category_depth or 0) if element.category == "Title" else None

    sections, first_heading = sections_by_heading(elements, heading_depth=heading_depth)
    match = _TITLE.search(text[:100_000])
    title = html_lib.unescape(re.sub(r"\s+", " ", match.group(1))).strip() if match else ""
    return ParsedDocument(title=title or first_heading, sections=sections, format=fmt)
