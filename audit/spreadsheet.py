"""Files for Excel: cells that cannot run as formulas, and CSV that Japanese Excel opens correctly.

Every CSV or Excel file the service produces goes through ``safe_cell``: a value starting with = + - @ (or a tab
or carriage return, which Excel skips before looking for those) would be evaluated as a formula when an
administrator opens the export, so it is prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
UTF8_BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def csv_text(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV as text, UTF-8 BOM first so that Excel on Japanese Windows reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue()


def xlsx_bytes(header: list[str], rows: Iterable[Iterable[Any]], *, title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(safe_row(header))
    for row in rows:
        sheet.append(safe_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_response(fmt: str, header: list[str], rows: Iterable[Iterable[Any]], *, name: str,
                         title: str = "Sheet1"):
    """A download of ``rows`` as ``name.xlsx`` (``fmt == "xlsx"``) or ``name.csv`` (anything else)."""
    from django.http import HttpResponse

    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(header, rows, title=title), content_type=XLSX_CONTENT_TYPE)
    else:
        fmt = "csv"
        response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
