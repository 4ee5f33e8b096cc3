"""Plain text and CSV, decoded here (unstructured reads CSV as UTF-8 only, which garbles Excel's CP932)."""

from __future__ import annotations

import csv
import io
import re

from openpyxl.utils import get_column_letter

from .elements import clean
from .encoding import decode_text, decoding_warnings
from .types import Limits, ParsedDocument, ParseError, Section

_BLANK_LINES = re.compile(r"\n\s*\n")


def parse_txt(data: bytes, limits: Limits) -> ParsedDocument:
    text, _ = decode_text(data)
    paragraphs = [clean(part) for part in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n"))]
    sections = [Section(text=paragraph) for paragraph in paragraphs if paragraph]
    first_line = sections[0].text.split("\n", 1)[0] if sections else ""
    return ParsedDocument(title=first_line if len(first_line) <= 100 else "", sections=sections, format="txt",
                          warnings=decoding_warnings(text))


def parse_csv(data: bytes, limits: Limits) -> ParsedDocument:
    text, _ = decode_text(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    sections: list[Section] = []
    header: list[str] = []
    cells_seen = 0
    try:
        for row_number, row in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            values = [(column, clean(value).replace("\n", " ")) for column, value in enumerate(row, start=1)]
            values = [(column, value) for column, value in values if value]
            if not values:
                continue
            cells_seen += len(values)
            if cells_seen > limits.max_xlsx_cells:
                raise ParseError(
                    f"CSV ファイルのセルが多すぎます（{limits.max_xlsx_cells:,} 個まで）。ファイルを分割してください。"
                )
            texts = [value for _, value in values]
            first, last = values[0][0], values[-1][0]
            cells = f"{get_column_letter(first)}{row_number}:{get_column_letter(last)}{row_number}"
            if not sections and len(texts) >= 2 and all(len(v) <= 40 and not _numeric(v) for v in texts):
                header = [" | ".join(texts)]  # column labels: the heading of every row, and a row of text too
            sections.append(Section(text=" | ".join(texts), heading_path=list(header), cells=cells))
    except csv.Error as error:
        raise ParseError(
            "CSV ファイルの形式が壊れています（引用符の対応など）。Excel で開いて保存し直してください。"
        ) from error
    return ParsedDocument(title="", sections=sections, format="csv", warnings=decoding_warnings(text))


def _numeric(value: str) -> bool:
    return value.replace(",", "").replace(".", "").replace("-", "").isdigit()
