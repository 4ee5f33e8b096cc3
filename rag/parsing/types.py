"""What parsing produces: a document as a title and a list of positioned sections, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field

MB = 1024 * 1024


class ParseError(Exception):
    """A document that cannot be read. ``user_message`` is Japanese and says what to do; it is shown as is."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied before and during parsing. Callers pass values from Django settings."""

    max_file_bytes: int = 50 * MB
    # OOXML files are zip archives: the declared sizes bound what zipfile will ever inflate, so checking them
    # before any parser opens the file stops zip bombs (a 4.7 MB .docx once inflated to 9.4 GB in memory).
    max_uncompressed_bytes: int = 200 * MB
    max_compression_ratio: float = 100.0
    ratio_checked_above_bytes: int = 1 * MB  # tiny members (styles, rels) are often very compressible and harmless
    max_zip_members: int = 10_000
    max_xlsx_cells: int = 2_000_000
    soffice_timeout_seconds: float = 120.0


@dataclass(slots=True)
class Section:
    """One block of text (a paragraph, a table row, a slide's notes) and where it is in the original.

    Exactly one kind of position is filled, matching the format: ``page`` (PDF, 1-based), ``slide`` (pptx,
    1-based), ``sheet`` and ``cells`` (xlsx; csv has ``cells`` only), or none (txt/md/html/docx, which locate a
    passage by its ``heading_path``).
    """

    text: str
    heading_path: list[str] = field(default_factory=list)
    page: int | None = None
    slide: int | None = None
    sheet: str | None = None
    cells: str | None = None  # an A1-style range, e.g. "A1:D20"

    @property
    def position(self) -> dict:
        """The position as a JSON-ready dict, empty values left out (what a citation link opens at)."""
        return position_dict(self)


@dataclass(slots=True)
class ParsedDocument:
    title: str
    sections: list[Section]
    format: str  # the format actually parsed: "docx", "xlsx", "pptx", "pdf", "html", "md", "txt" or "csv"
    pages: int | None = None  # pages (PDF), slides (pptx) or sheets (xlsx)
    warnings: list[str] = field(default_factory=list)  # Japanese, for the document's detail page

    @property
    def text(self) -> str:
        return "\n".join(section.text for section in self.sections)


def position_dict(item) -> dict:
    position: dict = {}
    for name in ("page", "slide", "sheet", "cells"):
        value = getattr(item, name)
        if value is not None:
            position[name] = value
    if item.heading_path:
        position["heading_path"] = list(item.heading_path)
    return position
