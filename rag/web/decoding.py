"""HTML bytes to text, with the charsets Japanese sites really use (and mislabel)."""

from __future__ import annotations

import codecs
import re

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.IGNORECASE)
_SJIS = "cp932"
_EUC = "euc_jp"
_ALIASES = {
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932",
         "x-ms-cp932", "shift_jisx0213", "shift_jis_2004"),
        _SJIS,
    ),
    **dict.fromkeys(("euc-jp", "euc_jp", "x-euc-jp", "eucjp", "cseucpkdfmtjapanese", "euc-jisx0213"), _EUC),
    **dict.fromkeys(("iso-2022-jp", "csiso2022jp", "iso2022jp", "iso-2022-jp-2"), "iso2022_jp_ext"),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
    # Browsers read these labels as windows-1252; a Japanese page declaring them is almost always wrong.
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252"), "cp1252"),
}
_WEAK = frozenset({"cp1252"})
_JAPANESE = frozenset({_SJIS, _EUC, "iso2022_jp_ext"})


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = (label.decode("ascii", "ignore") if isinstance(label, bytes) else label).strip().strip("\"'").lower()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _japanese_score(text: str) -> float:
    hiragana = sum(1 for c in text if "\u3041" <= c <= "\u3096")
    katakana = sum(1 for c in text if "\u30a1" <= c <= "\u30fa")
    kanji = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    punctuation = text.count("、") + text.count("。")
    halfwidth = sum(1 for c in text if "\uff61" <= c <= "\uff9f")
    odd = sum(1 for c in text if c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
    return 3 * hiragana + 2 * punctuation + katakana + 0.5 * kanji - 3 * halfwidth - 10 * odd


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """HTML bytes to text: BOM, the HTTP charset, ``<meta charset>``, then detection (UTF-8, CP932, EUC-JP).

    A declared charset is used when the bytes decode with it, with one exception: bytes that are valid UTF-8 with
    non-ASCII characters are UTF-8 even when a Japanese legacy charset is declared (CMS migrations leave stale
    ``<meta charset="Shift_JIS">`` behind; Shift_JIS or EUC-JP text is practically never valid UTF-8).
    Returns ``(text, codec name)``.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    head = data[:8192]
    declared: list[str] = []
    meta = _META_CHARSET.search(head)
    xml = _XML_ENCODING.search(head)
    for label in (http_charset, meta.group(1) if meta else None, xml.group(1) if xml else None):
        codec = _codec(label)
        if codec and codec not in declared:
            declared.append(codec)
    strong = [codec for codec in declared if codec not in _WEAK]
    if data.isascii() and b"\x1b$" in data and (text := _strict(data, "iso2022_jp_ext")) is not None:
        return text, "iso2022_jp_ext"  # 7-bit, so it would also pass as UTF-8
    utf8 = _strict(data, "utf-8")
    if strong and strong[0] in _JAPANESE and utf8 is not None and not data.isascii():
        return utf8, "utf-8"
    for codec in strong:
        text = _strict(data, codec)
        if text is not None:
            return text, codec
    if utf8 is not None:
        return utf8, "utf-8"
    candidates = [_SJIS, _EUC, "euc_jis_2004", "shift_jis_2004"]
    if b"\x1b$" in data:
        candidates.insert(0, "iso2022_jp_ext")
    decoded = [(text, codec) for codec in candidates if (text := _strict(data, codec)) is not None]
    if decoded:
        return max(decoded, key=lambda item: _japanese_score(item[0]))
    if strong:  # declared, with a few broken bytes: keep the declared charset
        return data.decode(strong[0], errors="replace"), strong[0]
    if declared:  # only a weak Latin-1 style label, and no Japanese reading worked
        text = _strict(data, declared[0])
        if text is not None:
            return text, declared[0]
    attempts = [(data.decode(codec, errors="replace"), codec) for codec in (_SJIS, _EUC)]
    return max(attempts, key=lambda item: _japanese_score(item[0]))
