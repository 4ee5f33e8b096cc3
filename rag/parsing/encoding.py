"""Decoding text files written by Japanese tools: UTF-8 (with or without BOM), UTF-16 and CP932 (Shift_JIS).

Excel saves "CSV" as CP932 and "Unicode text" as UTF-16 with a BOM; Notepad and web pages use UTF-8. Order:
BOM, then UTF-16 recognised by its NUL bytes, then strict UTF-8, then a charset the file declares (HTML),
then CP932, then EUC-JP; if nothing decodes cleanly, CP932 with replacement characters.
"""

from __future__ import annotations

import codecs
import re

from .types import ParseError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_SJIS_NAMES = {"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j", "cp932", "ms932"}
BINARY_MESSAGE = (
    "テキストファイルではありません（中身がプログラムや画像などのデータです）。ファイルの種類を確認してください。"
)
UNDECODABLE_WARNING = (
    "一部の文字を読み取れませんでした（文字コードが混ざっているか、ファイルの一部が壊れています）。"
    "読み取れなかった文字は検索できません。"
)


def decoding_warnings(text: str) -> list[str]:
    """The warning for text that decoded only with replacement characters (the CP932 fallback below)."""
    return [UNDECODABLE_WARNING] if "\ufffd" in text else []


def decode_text(data: bytes, *, declared_charset: bool = False) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise ParseError for binary content. BOMs are not part of the text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding), encoding
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _strict(data, utf16), utf16
    if b"\x00" in data[:8192]:
        raise ParseError(BINARY_MESSAGE)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = ["cp932", "euc_jp"]
    if declared_charset and (match := _DECLARED.search(data[:4096])):
        name = match.group(1).decode("ascii").lower()
        name = "cp932" if name in _SJIS_NAMES else name
        try:
            codecs.lookup(name)
            candidates.insert(0, name)
        except LookupError:
            pass
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("cp932", errors="replace"), "cp932"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ParseError(
            "文字コードを判別できません。UTF-8 で保存し直してからアップロードしてください。"
        ) from error


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text of mostly ASCII/Latin has a NUL in every other byte; binary files have them anywhere."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > half * 0.3 and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > half * 0.3 and odd_nuls == 0:
        return "utf-16-be"
    return None
