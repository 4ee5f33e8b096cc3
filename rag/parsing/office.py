"""Word and PowerPoint through unstructured; Excel through openpyxl, which gives the cell addresses.

unstructured's xlsx partitioner returns each sheet as one flattened table without cell coordinates, so a
citation could not open at the rows a passage came from; openpyxl's read-only mode streams rows with their
addresses in little memory.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from ._offline import load_unstructured
from .elements import clean, element_text, sections_by_heading
from .types import Limits, ParsedDocument, ParseError, Section

NOTES_LABEL = "ノート"


def parse_docx(data: bytes, limits: Limits) -> ParsedDocument:
    load_unstructured()
    from unstructured.partition.docx import partition_docx

    elements = partition_docx(file=io.BytesIO(data), include_page_breaks=False, languages=["jpn"])

    def heading_depth(element) -> int | None:
        # Word headings come from paragraph styles (Heading 1-9, Title, Subtitle): the only Title elements the
        # docx partitioner makes, so the English text heuristics never turn a Japanese sentence into a heading.
        return (element.metadata.category_depth or 0) if element.category == "Title" else None

    sections, first_heading = sections_by_heading(elements, heading_depth=heading_depth)
    title = first_heading or _first_line(sections)
    return ParsedDocument(title=title, sections=sections, format="docx")


def parse_pptx(data: bytes, limits: Limits) -> ParsedDocument:
    load_unstructured()
    from unstructured.partition.pptx import partition_pptx

    elements = partition_pptx(
        file=io.BytesIO(data), include_page_breaks=False, include_slide_notes=False, languages=["jpn"]
    )
    titles: dict[int, str] = {}
    sections: list[Section] = []
    for element in elements:
        slide = element.metadata.page_number
        text = element_text(element)
        if not text or slide is None or element.category in ("PageBreak", "Image", "Picture"):
            continue
        # The title placeholder's first paragraph is the only Title at depth 0; the heuristics also call short
        # body paragraphs "Title" (always at depth >= 1), which are body text here.
        if element.category == "Title" and element.metadata.category_depth == 0 and slide not in titles:
            titles[slide] = text.replace("\n", " ")
            continue
        sections.append(Section(text=text, slide=slide))
    for section in sections:
        section.heading_path = [titles[section.slide]] if section.slide in titles else []
    notes, slide_count = _slide_notes(data)
    for slide, text in notes.items():
        path = [titles[slide], NOTES_LABEL] if slide in titles else [NOTES_LABEL]
        sections.append(Section(text=text, heading_path=path, slide=slide))
    sections.sort(key=lambda section: section.slide or 0)  # stable: notes follow their slide's body
    title = titles.get(min(titles)) if titles else _first_line(sections)
    warnings = []
    with_text = {section.slide for section in sections} | set(titles)
    without_text = [number for number in range(1, slide_count + 1) if number not in with_text]
    if without_text and sections:  # a presentation with no text at all is refused as a whole
        listed = "、".join(str(number) for number in without_text[:20])
        more = " ほか" if len(without_text) > 20 else ""
        warnings.append(f"スライド {listed}{more} からは文字を取り出せませんでした（画像や図だけのスライドの内容は"
                        "検索できません）。")
    return ParsedDocument(title=title, sections=sections, format="pptx", pages=slide_count, warnings=warnings)


def _slide_notes(data: bytes) -> tuple[dict[int, str], int]:
    """Speaker notes by slide number. unstructured can add notes but not mark them as notes, so read them here."""
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    notes: dict[int, str] = {}
    count = 0
    for number, slide in enumerate(presentation.slides, start=1):
        count = number
        if not slide.has_notes_slide:
            continue
        frame = slide.notes_slide.notes_text_frame
        text = clean(frame.text.replace("\v", "\n")) if frame is not None else ""
        if text:
            notes[number] = text
    return notes, count


def parse_xlsx(data: bytes, limits: Limits) -> ParsedDocument:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for damaged packages
        raise ParseError("Excel（.xlsx）ファイルを読み込めません。Excel で開いて保存し直してください。") from error
    sections: list[Section] = []
    cells_seen = 0
    empty_sheets: list[str] = []
    try:
        sheet_count = len(workbook.worksheets)
        chart_sheets = [sheet.title for sheet in workbook.chartsheets]
        for sheet in workbook.worksheets:
            # A stale or forged <dimension ref="A1:XFD1048576"> would make openpyxl pad every row to 16,384
            # columns and invent a million empty rows; without it, only the rows in the file are read.
            sheet.reset_dimensions()
            path: list[str] = []
            rows_seen = 0
            captioned = False
            sheet_start = len(sections)
            for row in sheet.iter_rows():
                # Gaps in a row are EmptyCell objects without an address; only cells with a value count.
                values = [(cell.row, cell.column, _cell_text(cell.value)) for cell in row if cell.value is not None]
                values = [value for value in values if value[2]]
                if not values:
                    continue
                cells_seen += len(values)
                if cells_seen > limits.max_xlsx_cells:
                    raise ParseError(
                        f"Excel ファイルのセルが多すぎます（{limits.max_xlsx_cells:,} 個まで）。"
                        "シートを分けるか、不要な行を削除してください。"
                    )
                row_number, first, last = values[0][0], values[0][1], values[-1][1]
                cells = f"{get_column_letter(first)}{row_number}:{get_column_letter(last)}{row_number}"
                texts = [text for _, _, text in values]
                rows_seen += 1
                heading = _table_heading(texts, rows_seen, after_caption=captioned and rows_seen == 2)
                sections.append(Section(text=" | ".join(texts), sheet=sheet.title, cells=cells))
                if heading:
                    # Heading rows stay in the text too (a guess at a header can be wrong; no row may be lost)
                    # and share the rows' heading path, so that they start the sheet's first passage.
                    captioned = rows_seen == 1 and len(texts) == 1
                    path = [*path, heading]
                    for section in sections[sheet_start:]:
                        section.heading_path = list(path)
                else:
                    sections[-1].heading_path = list(path)
            if len(sections) == sheet_start:
                empty_sheets.append(sheet.title)
    finally:
        workbook.close()
    title = (workbook.properties.title or "").strip() if workbook.properties else ""
    warnings = []
    if empty_sheets and sections:  # a workbook with no text at all is refused as a whole
        warnings.append(f"シート{_quoted(empty_sheets)}には文字の入ったセルがないため、取り込んでいません。")
    if chart_sheets:
        warnings.append(f"グラフだけのシート{_quoted(chart_sheets)}は取り込んでいません（グラフの中の文字は"
                        "検索できません）。")
    return ParsedDocument(title=title, sections=sections, format="xlsx", pages=sheet_count, warnings=warnings)


def _quoted(names: list[str], limit: int = 10) -> str:
    shown = "".join(f"「{name}」" for name in names[:limit])
    return shown + (f" ほか {len(names) - limit} 枚" if len(names) > limit else "")


def _table_heading(texts: list[str], row_index: int, *, after_caption: bool) -> str | None:
    """A sheet's first rows that head the rest: a one-cell caption, then (or instead) a row of column labels.

    They become the heading path of every row below, so passages that start in the middle of a long table keep
    the caption and the column names.
    """
    if row_index == 1 and len(texts) == 1 and len(texts[0]) <= 100:
        return texts[0]
    if (row_index == 1 or after_caption) and len(texts) >= 2 and all(_is_label(text) for text in texts):
        return " | ".join(texts)
    return None


def _is_label(text: str) -> bool:
    return len(text) <= 40 and not text.replace(",", "").replace(".", "").replace("-", "").isdigit()


def _cell_text(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return clean(str(value)).replace("\n", " ")


def _first_line(sections: list[Section]) -> str:
    for section in sections:
        line = section.text.split("\n", 1)[0].strip()
        if line:
            return line[:100]
    return ""
