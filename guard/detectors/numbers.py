"""Identification numbers made of digits: マイナンバー, cards, accounts, pensions, licences, passports, 住民票コード.

A number is read as a run of digit groups separated by single spaces or hyphens (``2718 2818 2840``,
``9876-543210``). What kind of number it is comes from, in order: the closest label before it in the same
sentence (口座番号, 基礎年金番号, 免許証番号 …) together with the length that kind of number has, then the
checksums that need no label (the マイナンバー check digit, Luhn for card numbers). 法人番号 are public and never
reported; neither are budget figures, counts, document numbers or years.
"""

from __future__ import annotations

import re

from ._text import Hit, after, before, nearest_label

# A run of digit groups. The separators are required between groups, so the pattern cannot backtrack badly.
_RUN = re.compile(r"(?<![0-9A-Za-z.,])[0-9]+(?:(?: ?- ?| )[0-9]+)*(?![0-9])")
_PASSPORT = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2})[ -]?([0-9]{7})(?![0-9A-Za-z])")

_LABELS = {
    "corporate": re.compile(r"法人番号|会社法人等番号|法人"),
    "my_number": re.compile(r"マイナンバー|個人番号"),
    "resident_code": re.compile(r"住民票コード"),
    "drivers_license": re.compile(r"免許"),
    "pension_number": re.compile(r"年金"),
    "bank_account": re.compile(r"口座|普通|当座|預金|貯金|記号番号|ゆうちょ"),
    "postal_savings": re.compile(r"記号"),
    "credit_card": re.compile(r"(?<!マイナンバー)(?<!キャッシュ)カード|クレジット|card|visa|master|jcb|amex|diners",
                              re.IGNORECASE),
    "passport": re.compile(r"旅券|パスポート|passport", re.IGNORECASE),
    "other": re.compile(r"電話|TEL|FAX|携帯|内線|郵便|〒|受付|注文|問合せ|文書|法令|管理番号|整理番号|伝票|請求書番号|"
                        r"型番|品番|製品|商品|部品|事業者番号|登録番号|インボイス|ISBN|JAN", re.IGNORECASE),
}
# A number followed by one of these is an amount, a count, a date or a document number.
_UNIT_AFTER = re.compile(r"\s?(?:円|万|億|千|百|%|パーセント|年|月|日|歳|才|人|件|号|条|名|個|回|時|分|秒|倍|通|枚|部|"
                         r"世帯|戸|台|頁|ページ|行|字|文字|桁|kg|km|m|g|t|cm|mm|ha|MB|GB)", re.IGNORECASE)
_UNIT_BEFORE = re.compile(r"(?:第|¥|\$|No\.?|№|#)\s?$", re.IGNORECASE)


# --------------------------------------------------------------------------- checksums


def my_number_check_digit(first11: str) -> int:
    """The check digit of a 12-digit 個人番号 (総務省令 第5条): weights 2–7, 2–6 from the right, modulus 11."""
    total = 0
    for n, digit in enumerate(reversed(first11), start=1):
        total += int(digit) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_my_number(digits: str) -> bool:
    return len(digits) == 12 and digits.isdigit() and my_number_check_digit(digits[:11]) == int(digits[11])


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_corporate_number(digits: str) -> bool:
    """法人番号: 13 digits whose first is 9 − (Σ Pn·Qn mod 9), Qn = 1 for odd n and 2 for even n from the right."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(digits[1:]), start=1))
    return int(digits[0]) == 9 - total % 9


def is_card_number(digits: str, groups: list[str]) -> bool:
    if not (13 <= len(digits) <= 19) or not luhn_ok(digits) or len(set(digits)) == 1:
        return False
    sizes = [len(g) for g in groups]
    # One block, 4-4-4-4(-3), or the American Express / Diners layouts 4-6-5 and 4-6-4.
    return len(sizes) == 1 or all(s == 4 for s in sizes[:-1]) or sizes in ([4, 6, 5], [4, 6, 4])


# --------------------------------------------------------------------------- classification


def _labelled(label: str | None, digits: str, groups: list[str]) -> tuple[str, str] | None:
    n = len(digits)
    if label == "my_number" and is_my_number(digits):
        return "my_number", "マイナンバー（12桁・検査用数字が一致）"
    if label == "resident_code" and n == 11:
        return "resident_code", "住民票コード（11桁）"
    if label == "drivers_license" and n == 12:
        return "drivers_license", "運転免許証番号（12桁）"
    if label == "pension_number" and n == 10 and [len(g) for g in groups] in ([10], [4, 6]):
        return "pension_number", "基礎年金番号（4桁＋6桁）"
    if label == "bank_account" and (n == 7 or (n == 13 and [len(g) for g in groups] == [5, 8])):
        return "bank_account", "口座番号（口座・預金の語の後の番号）"
    if label in ("bank_account", "postal_savings") and ((n == 5 and digits[0] == "1") or n == 8):
        return "bank_account", "ゆうちょ銀行の記号・番号"
    if label == "credit_card" and is_card_number(digits, groups):
        return "credit_card", "クレジットカード番号（Luhn検査が一致）"
    return None


def _unlabelled(digits: str, groups: list[str]) -> tuple[str, str] | None:
    if is_my_number(digits) and len(set(digits)) > 1:
        return "my_number", "マイナンバー（12桁・検査用数字が一致）"
    if is_card_number(digits, groups) and not is_corporate_number(digits):
        return "credit_card", "クレジットカード番号（Luhn検査が一致）"
    return None


def _is_amount_or_count(text: str, start: int, end: int) -> bool:
    if _UNIT_AFTER.match(text, end) or _UNIT_BEFORE.search(text[max(0, start - 4):start]):
        return True
    # Part of a decimal or comma-grouped figure (12,345,678 / 3.14): the run regex stops at the comma.
    return end < len(text) - 1 and text[end] in ",." and text[end + 1].isdigit()


def find_numbers(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for match in _RUN.finditer(text):
        raw = match.group()
        groups = re.findall(r"[0-9]+", raw)
        digits = "".join(groups)
        if len(digits) < 5:
            continue
        start, end = match.span()
        label = nearest_label(before(text, start, 24), _LABELS)
        if label in ("corporate", "other"):
            continue  # 法人番号, or a number labelled as something that is not personal (受付番号, 文書番号 …)
        found = _labelled(label, digits, groups)
        if found is None and label is None and _LABELS["bank_account"].search(after(text, end, 8)):
            found = _labelled("bank_account", digits, groups)  # 1234567（普通預金）
        if found is None and not _is_amount_or_count(text, start, end):
            found = _unlabelled(digits, groups)
        if found:
            hits.append(Hit(found[0], start, end, found[1]))
    return hits


def find_passports(text: str) -> list[Hit]:
    hits = []
    for match in _PASSPORT.finditer(text):
        letters = match.group(1)
        label = nearest_label(before(text, match.start(), 24), _LABELS)
        if label == "other":
            continue  # 型番XY1234567
        if label == "passport" or (letters.isupper() and not _is_amount_or_count(text, *match.span())):
            hits.append(Hit("passport", match.start(), match.end(), "旅券番号（英字2文字＋数字7桁）"))
    return hits


def find(text: str) -> list[Hit]:
    return find_numbers(text) + find_passports(text)
