"""PDF through pdfminer.six directly (unstructured's PDF path needs unstructured-inference, hence torch).

PDF has no paragraphs, only positioned lines. pdfminer groups lines into text boxes; inside a box the lines are
joined back into paragraphs: a break between Japanese characters is a wrap, so it disappears without a space
(a space inside a Japanese sentence breaks both reading and the lexical index); a break after 。！？ or before
a bullet stays; two English words get a space.
"""

from __future__ import annotations

import io
import logging
import re

from .types import Limits, ParsedDocument, ParseError, Section

ENCRYPTED_MESSAGE = (
    "パスワードで保護された PDF は読み込めません。パスワードを解除して保存し直してからアップロードしてください。"
)
NO_TEXT_MESSAGE = (
    "文字情報がありません（スキャン画像のPDFはOCRが必要です）。"
    "OCR（文字認識）で文字を付けた PDF にするか、元の文書ファイルをアップロードしてください。"
)
UNMAPPED_FONT_MESSAGE = (
    "PDF の文字を取り出せません（フォントに文字の対応表がないため、文字が記号としてしか読めません）。"
    "OCR（文字認識）で文字を付けた PDF にするか、元の文書ファイルをアップロードしてください。"
)
CORRUPT_MESSAGE = "PDF ファイルが壊れているため読み込めません。元のアプリケーションで PDF を作り直してください。"
NOT_PDF_MESSAGE = "PDF ファイルではありません（中身が PDF の形式ではありません）。ファイルの種類を確認してください。"

_SENTENCE_END = re.compile(r"[。！？!?．][」』）)】〕\"'”’]*$")
_LIST_START = re.compile(
    r"^(?:[・●○◆◇■□▪•※\-－‐*＊]|\(?[0-9０-９]{1,3}[)）.．、]|[（(][0-9０-９一二三四五六七八九十]{1,3}[)）]|[①-⑳])"
)
_CID = re.compile(r"\(cid:\d+\)")
_SPACES = re.compile(r"[ \t\u3000]+")
_IGNORED_TITLES = {"untitled", "無題", "タイトルなし"}

logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns about every odd font; those are not our errors


def is_cjk(char: str) -> bool:
    """Characters written without spaces between them: kana, kanji, CJK punctuation and full-width forms."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms and half-width katakana
        or 0x20000 <= code <= 0x3FFFF
    )


def join_lines(lines: list[str]) -> str:
    """Join a text box's lines into paragraphs as described in the module docstring."""
    out = ""
    for raw in lines:
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            if out and not out.endswith("\n"):
                out += "\n"
            continue
        if not out or out.endswith("\n"):
            out += line
            continue
        previous, following = out[-1], line[0]
        if _SENTENCE_END.search(out[-8:]) or _LIST_START.match(line):
            out += "\n" + line
        elif is_cjk(previous) or is_cjk(following):
            out += line
        elif previous == "-" and len(out) > 1 and out[-2].isalpha() and following.islower():
            out = out[:-1] + line  # a word hyphenated at the line end
        else:
            out += " " + line
    return out.strip()


def parse_pdf(data: bytes, limits: Limits) -> ParsedDocument:
    if b"%PDF-" not in data[:1024]:
        raise ParseError(NOT_PDF_MESSAGE)
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTFigure, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFEncryptionError as error:  # includes a wrong (empty) user password
        raise ParseError(ENCRYPTED_MESSAGE) from error
    except Exception as error:  # pdfminer raises a zoo of syntax errors on damaged files
        raise ParseError(CORRUPT_MESSAGE) from error

    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=LAParams())
    interpreter = PDFPageInterpreter(resources, device)
    sections: list[Section] = []
    pages_without_text: list[int] = []
    page_count = 0
    unmapped = 0  # glyphs pdfminer could not map to Unicode, shown as "(cid:123)"
    unmapped_pages: list[int] = []
    try:
        for page_count, page in enumerate(PDFPage.create_pages(document), start=1):
            interpreter.process_page(page)
            layout = device.get_result()
            page_sections = []
            for lines in _paragraph_lines(_text_boxes(layout, LTTextBox, LTFigure), LTTextLine):
                raw = [line.get_text() for line in lines]
                missing = sum(len(_CID.findall(line)) for line in raw)
                unmapped += missing
                if missing and page_count not in unmapped_pages:
                    unmapped_pages.append(page_count)
                text = join_lines([_CID.sub("", line) for line in raw])
                if text:
                    page_sections.append(Section(text=text, page=page_count))
            if not page_sections and _has_image(layout, LTImage, LTFigure):
                pages_without_text.append(page_count)
            sections.extend(page_sections)
    except PDFEncryptionError as error:
        raise ParseError(ENCRYPTED_MESSAGE) from error
    except ParseError:
        raise
    except Exception as error:
        if not sections:
            raise ParseError(CORRUPT_MESSAGE) from error
        # A damaged tail after readable pages: keep what was read and say so.
        damaged = f"{page_count} ページ目以降が壊れているため読み込めませんでした。"
        warnings = [damaged, *_page_warnings(pages_without_text, unmapped_pages, unmapped)]
        return ParsedDocument(_title(document, sections), sections, "pdf", page_count, warnings)
    if not sections:
        raise ParseError(UNMAPPED_FONT_MESSAGE if unmapped else NO_TEXT_MESSAGE)
    warnings = _page_warnings(pages_without_text, unmapped_pages, unmapped)
    return ParsedDocument(_title(document, sections), sections, "pdf", page_count, warnings)


def _page_warnings(pages_without_text: list[int], unmapped_pages: list[int], unmapped: int) -> list[str]:
    """What was left out of pages that were read: scanned pages, and characters no font table maps."""

    def listed(pages: list[int]) -> str:
        return "、".join(str(number) for number in pages[:20]) + (" ほか" if len(pages) > 20 else "")

    warnings = []
    if pages_without_text:
        warnings.append(f"{listed(pages_without_text)} ページには文字情報がありません（スキャン画像のページは OCR が"
                        "必要です）。")
    if unmapped_pages:
        warnings.append(f"{listed(unmapped_pages)} ページの一部の文字（{unmapped:,} 文字）は、フォントに文字の対応表が"
                        "ないため取り出せませんでした（その部分は検索できません）。")
    return warnings


def _text_boxes(item, box_type, figure_type):
    for child in item:
        if isinstance(child, box_type):
            yield child
        elif isinstance(child, figure_type):
            yield from _text_boxes(child, box_type, figure_type)


def _paragraph_lines(boxes, line_type):
    """Lines of each paragraph, merging text boxes that continue one another.

    pdfminer puts lines in one box only when the gap between them is under half a line; Japanese documents are
    often set with wider line spacing (1.5 lines is common), which makes every line its own box. A box
    continues the previous one when its text is the same size, starts just below it (within 1.6 lines) and in
    the same column; a title in a larger font or a block further down starts a new paragraph.
    """
    current: list = []
    previous = None
    for box in boxes:
        lines = [line for line in box if isinstance(line, line_type)]
        if not lines:
            continue
        if previous is not None and _continues(previous, lines[0], box):
            current.extend(lines)
        else:
            if current:
                yield current
            current = list(lines)
        previous = (lines[-1], box)
    if current:
        yield current


def _continues(previous, first_line, box) -> bool:
    last_line, last_box = previous
    height = max(last_line.height, first_line.height, 1.0)
    same_size = abs(last_line.height - first_line.height) <= 0.15 * height
    gap = last_line.y0 - first_line.y1
    same_column = abs(box.x0 - last_box.x0) <= 3 * height and box.x0 < last_box.x1
    return same_size and -0.2 * height <= gap <= 1.6 * height and same_column


def _has_image(item, image_type, figure_type) -> bool:
    for child in item:
        if isinstance(child, image_type):
            return True
        if isinstance(child, figure_type) and _has_image(child, image_type, figure_type):
            return True
    return False


def _title(document, sections: list[Section]) -> str:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    for info in document.info or []:
        value = resolve1(info.get("Title")) if isinstance(info, dict) else None
        if isinstance(value, bytes):
            value = decode_text(value)
        if isinstance(value, str):
            value = value.replace("\x00", "").strip()
            # Converters often store "untitled" or the source file's name, which says nothing.
            is_file_name = re.search(r"\.(docx?|xlsx?|pptx?|pdf)$", value, re.IGNORECASE)
            if value and value.lower() not in _IGNORED_TITLES and not is_file_name:
                return value.removeprefix("Microsoft Word - ")[:200]
    first = sections[0].text.split("\n", 1)[0] if sections else ""
    return first if len(first) <= 100 else ""
