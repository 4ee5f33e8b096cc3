"""Personal information in Japanese prompts typed by municipal staff, found before the prompt reaches an LLM.

``detect(text)`` returns every finding with offsets into ``text`` as typed. Each kind of information has its
own module: ``numbers`` (identification numbers with checksums and labels), ``contact`` (phone, e-mail),
``dates`` (birth dates), ``address`` and ``names`` (both read with SudachiPy). This package imports neither
Django nor any other app of the project, so it runs in a benchmark or a worker as it is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from . import address, contact, dates, names, numbers
from ._morph import needs_analysis, tokenize, warm_up
from ._text import Hit, Normalized

__all__ = ["PII_TYPES", "Finding", "detect", "warm_up"]

PII_TYPES: dict[str, str] = {
    "person_name": "氏名",
    "address": "住所",
    "phone": "電話・FAX番号",
    "email": "メールアドレス",
    "birth_date": "生年月日",
    "my_number": "マイナンバー（個人番号）",
    "credit_card": "クレジットカード番号",
    "bank_account": "口座番号",
    "pension_number": "基礎年金番号",
    "drivers_license": "運転免許証番号",
    "passport": "旅券（パスポート）番号",
    "resident_code": "住民票コード",
}

# When two findings overlap and are as long as each other, the more specific kind wins.
_PRIORITY = {name: rank for rank, name in enumerate([
    "my_number", "resident_code", "drivers_license", "pension_number", "bank_account", "credit_card", "passport",
    "email", "birth_date", "phone", "address", "person_name",
])}


@dataclass(frozen=True)
class Finding:
    type: str  # a key of PII_TYPES
    start: int  # offsets into the original text
    end: int
    text: str  # original[start:end]
    reason: str  # why, in Japanese, for the person who typed it


def _resolve(hits: list[Hit]) -> list[Hit]:
    """Keep the longest finding of every overlapping group (ties: the more specific type)."""
    starts: list[int] = []  # kept findings never overlap, so sorted by start they are sorted by end too
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), _PRIORITY[h.type], h.start)):
        at = bisect.bisect_left(starts, hit.end)
        if at and kept[at - 1].end > hit.start:
            continue
        starts.insert(at, hit.start)
        kept.insert(at, hit)
    return kept


def detect(text: str) -> list[Finding]:
    """Every piece of personal information in ``text``, sorted by position, overlaps resolved."""
    if not text or not text.strip():
        return []
    norm = Normalized(text)
    plain = norm.text
    hits = contact.find(plain) + numbers.find(plain) + dates.find(plain)
    if needs_analysis(plain):
        toks = tokenize(plain)
        hits += address.find(plain, toks) + names.find(plain, toks)
    findings = []
    for hit in _resolve(hits):
        start, end = norm.span(hit.start, hit.end)
        findings.append(Finding(hit.type, start, end, text[start:end], hit.reason))
    return findings
