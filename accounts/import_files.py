"""Reading an import file: CSV (UTF-8 with BOM or CP932 from Excel on Japanese Windows) or .xlsx, and the template.

Only the shape of the file is checked here (size, encoding, header, row count); what the rows mean is checked by
``accounts.bulk_import``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError

from accounts.models import User
from audit.spreadsheet import csv_text, xlsx_bytes

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DATA_ROWS = 20_000
MAX_PASSWORD_ROWS = 1_000
TTL_SECONDS = 30 * 60  # the preview, and the generated passwords after applying
PREVIEW_PAGE_SIZE = 500

STAFF, NAME, EMAIL, DEPT, ROLE, GROUPS, OPERATION, PASSWORD = (
    "職員番号", "氏名", "メールアドレス", "所属", "権限", "グループ", "操作", "初期パスワード")
COLUMNS = (STAFF, NAME, EMAIL, DEPT, ROLE, GROUPS, OPERATION, PASSWORD)
REQUIRED_COLUMNS = (STAFF, OPERATION)
REQUIRED_FOR_ADD = (NAME, EMAIL)
HEADER_ALIASES = {"メール": EMAIL, "パスワード": PASSWORD, "役割": ROLE}
OPERATIONS = {"追加": "add", "変更": "change", "削除": "delete"}
ROLES = {"管理者": User.Role.ADMIN.value, "一般利用者": User.Role.GENERAL.value, "一般": User.Role.GENERAL.value}
ROLE_LABELS = {User.Role.ADMIN.value: "管理者", User.Role.GENERAL.value: "一般利用者"}
GENERATE = "生成"
KEEP, GIVEN, GENERATED = "keep", "given", "generate"  # what a row does to the password
NO_GROUPS = "なし"
GROUP_SEPARATORS = re.compile(r"[;；、]")
TEMPLATE_EXAMPLE = ["12345", "山田 太郎", "taro.yamada@city.example.lg.jp", "総務課", "一般利用者", "", "追加",
                    GENERATE]
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: nothing of it is shown or applied."""


@dataclass
class ParsedFile:
    file_name: str
    rows: list[tuple[int, dict[str, str]]]  # (row number as Excel shows it, column -> text)
    ignored_columns: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading the file


def check_file_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            f"ファイルが大きすぎます（{size / 1024 / 1024:.1f}MB）。1回に取り込めるのは10MB・"
            f"{MAX_DATA_ROWS:,}行までです。ファイルを分けて取り込んでください。")


def _too_many_rows(count: int | str) -> ImportFileError:
    return ImportFileError(
        f"データの行が多すぎます（{count}行）。1回に取り込めるのは{MAX_DATA_ROWS:,}行までです。"
        "ファイルを分けて取り込んでください。")


def _decode_csv(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("UTF-16（Unicode テキスト）のファイルには対応していません。Excelで"
                              "「CSV UTF-8（コンマ区切り）」または「CSV（コンマ区切り）」として保存してください。")
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportFileError("ファイルの文字コードを読み取れません。CSVは「UTF-8」または「Shift_JIS」で保存してください"
                          "（Excelでは「CSV UTF-8（コンマ区切り）」または「CSV（コンマ区切り）」）。")


def _csv_records(data: bytes):
    text = _decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of zip/XML errors for a damaged file
        raise ImportFileError("Excelファイルを読み込めませんでした。ファイルが壊れていないか確認し、"
                              "Excelで保存し直すか、CSVで保存して取り込んでください。") from exc
    try:
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > MAX_DATA_ROWS + 100:  # a quick refusal from the sheet's own dimension
            raise _too_many_rows(f"約{sheet.max_row - 1:,}")
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        workbook.close()


def _header_key(text: str) -> str:
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return HEADER_ALIASES.get(key, key)


def parse_upload(name: str, data: bytes) -> ParsedFile:
    """Read a CSV (UTF-8 with or without BOM, or Shift_JIS/CP932) or .xlsx file into rows of text."""
    check_file_size(len(data))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Excel 97-2003形式（.xls）のファイルには対応していません。"
                              "Excelで「Excel ブック（*.xlsx）」またはCSVとして保存し直してください。")
    is_xlsx = data.startswith(b"PK\x03\x04")
    records = _xlsx_records(data) if is_xlsx else _csv_records(data)
    header: list[str] | None = None
    header_number = 0
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(records, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # Excel leaves empty rows (",,,,") behind; they keep their number
        if header is None:
            header, header_number = [_header_key(c) for c in cells], number
            continue
        if len(rows) >= MAX_DATA_ROWS:
            # A CSV is already decoded, so counting the rest is cheap and tells the administrator how to split.
            rest = 0 if is_xlsx else sum(1 for more in records if any(c.strip() for c in more))
            raise _too_many_rows(f"{len(rows) + 1 + rest:,}" if not is_xlsx else f"{len(rows) + 1:,}以上")
        rows.append((number, {col: cells[i] if i < len(cells) else "" for i, col in enumerate(header)
                              if col in COLUMNS}))
    if header is None:
        raise ImportFileError("ファイルが空です。テンプレートをダウンロードし、1行目の見出しの下に"
                              "1人1行で入力してください。")
    duplicated = [c for c, n in Counter(header).items() if n > 1 and c in COLUMNS]
    if duplicated:
        raise ImportFileError(f"見出し行（{header_number}行目）に列「{duplicated[0]}」が2つあります。"
                              "1つにしてください。")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(f"必須の列「{'」「'.join(missing)}」がありません。見出し行（{header_number}行目）に"
                              f"{'・'.join(COLUMNS)} の列名を入力してください（テンプレートを参考にしてください）。")
    if not rows:
        raise ImportFileError("見出し行の下にデータの行がありません。見出しの次の行から1人1行で入力してください。")
    if any(unicodedata.normalize("NFKC", cells.get(OPERATION, "")) == "追加" for _, cells in rows):
        missing = [c for c in REQUIRED_FOR_ADD if c not in header]
        if missing:
            raise ImportFileError(f"「追加」の行には列「{'」「'.join(missing)}」が必要ですが、見出し行にありません。")
    return ParsedFile(file_name=name, rows=rows, ignored_columns=[c for c in header if c and c not in COLUMNS])


# --------------------------------------------------------------------------- the template file


def template_csv() -> str:
    return csv_text(list(COLUMNS), [TEMPLATE_EXAMPLE])


def template_xlsx() -> bytes:
    return xlsx_bytes(list(COLUMNS), [TEMPLATE_EXAMPLE], title="利用者一括登録")
