"""Documents to positioned text: ``parse(filename, data) -> ParsedDocument``, or ``ParseError`` in Japanese.

Pure functions: no Django, no database, no network. Formats: .docx .xlsx .pptx .pdf .html/.htm .txt .md .csv,
and .doc .xls .ppt where LibreOffice is installed. The real format is checked from the content; sizes and zip
archives are checked before any parser runs (see ``Limits``).
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from . import legacy, safety
from ._offline import OfflineViolation
from .encoding import BINARY_MESSAGE
from .types import Limits, ParsedDocument, ParseError, Section

__all__ = ["SUPPORTED_EXTENSIONS", "Limits", "ParseError", "ParsedDocument", "Section", "parse"]

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS = ("docx", "xlsx", "pptx", "pdf", "html", "htm", "txt", "md", "csv", "doc", "xls", "ppt")
_OOXML = ("docx", "xlsx", "pptx")
_TEXT = ("html", "htm", "txt", "md", "csv")
_BINARY_MAGIC = (b"%PDF-", safety.ZIP_MAGIC, safety.OLE_MAGIC, b"MZ", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
_LEGACY_OF = {target: ext for ext, target in legacy.TARGET.items()}


def parse(filename: str, data: bytes, *, limits: Limits | None = None) -> ParsedDocument:
    limits = limits or Limits()
    ext = PurePath(filename).suffix.lower().lstrip(".")
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"（.{ext}）" if ext else ""
        raise ParseError(
            f"この形式のファイル{shown}には対応していません。"
            "Word・Excel・PowerPoint・PDF・HTML・テキスト・Markdown・CSV のファイルをアップロードしてください。"
        )
    safety.check_size(data, limits)
    try:
        document = _parse(ext, data, limits)
    except (ParseError, OfflineViolation):
        raise
    except RecursionError as error:
        raise ParseError("文書の構造が深すぎるため読み込めません。") from error
    except Exception as error:  # a damaged file must fail alone, with a reason, and never take the worker down
        logger.warning("parsing %s failed", filename, exc_info=True)
        raise ParseError(
            "ファイルを読み込めませんでした（壊れている可能性があります）。"
            "元のアプリケーションで開いて保存し直してからアップロードしてください。"
        ) from error
    document.sections = [section for section in document.sections if section.text.strip()]
    if not document.sections:
        raise ParseError("文書に文字情報がありません。文字の入った文書か確認してください。")
    document.title = (document.title or "").strip() or PurePath(filename).stem
    return document


def _parse(ext: str, data: bytes, limits: Limits) -> ParsedDocument:
    if ext in legacy.TARGET:
        return _parse_legacy(ext, data, limits)
    if ext in _OOXML:
        if safety.is_encrypted_office(data):
            raise ParseError(safety.password_message())
        if safety.is_ole(data):  # an old-format file saved under the new extension
            return _parse_legacy(_LEGACY_OF[ext], data, limits)
        safety.check_ooxml(data, ext, limits)
        return _parse_ooxml(ext, data, limits)
    if ext == "pdf":
        from .pdf import parse_pdf

        return parse_pdf(data, limits)
    if ext in _TEXT and data.startswith(_BINARY_MAGIC):
        raise ParseError(BINARY_MESSAGE)
    if ext in ("html", "htm"):
        from .web import parse_html

        return parse_html(data, limits)
    if ext == "md":
        from .web import parse_md

        return parse_md(data, limits)
    from .plain import parse_csv, parse_txt

    return parse_csv(data, limits) if ext == "csv" else parse_txt(data, limits)


def _parse_ooxml(kind: str, data: bytes, limits: Limits) -> ParsedDocument:
    from .office import parse_docx, parse_pptx, parse_xlsx

    return {"docx": parse_docx, "xlsx": parse_xlsx, "pptx": parse_pptx}[kind](data, limits)


def _parse_legacy(ext: str, data: bytes, limits: Limits) -> ParsedDocument:
    target = legacy.TARGET[ext]
    if data.startswith(safety.ZIP_MAGIC):  # a new-format file under the old extension: read it as what it is
        safety.check_ooxml(data, target, limits)
        return _parse_ooxml(target, data, limits)
    if not safety.is_ole(data):
        raise ParseError(f"ファイルの中身が .{ext} 形式ではありません。ファイルの種類を確認してください。")
    if safety.is_encrypted_office(data):
        raise ParseError(safety.password_message())
    converted = legacy.convert(data, ext, limits)
    safety.check_ooxml(converted, target, limits)
    document = _parse_ooxml(target, converted, limits)
    document.warnings.append(f".{ext} 形式を LibreOffice で .{target} 形式に変換して読み込みました。")
    return document
