"""Telephone / FAX numbers and e-mail addresses.

Phones follow the Japanese numbering plan: 10 digits for fixed lines (area code 0X–0XXXX, then the local
number, the subscriber number always 4 digits), 11 for mobiles and IP phones (070/080/090/050/020) and 0800,
with hyphens, spaces, parentheses or nothing between the groups, or written internationally (+81 …).
Extensions (内線) and placeholders from forms (000-0000-0000, 「書式例」) are not reported.
"""

from __future__ import annotations

import re

from ._text import EXAMPLE_WORDS, Hit, before, is_fake_digits

_SEP = r"(?: ?- ?| )"
_PHONE = re.compile(
    r"(?<![0-9+\-])(?<![0-9][.,])"
    r"(?:"
    r"(?P<intl>\+ ?81 ?-? ?(?:\(0\) ?)?)?(?P<area>0?[1-9][0-9]{0,3})" + _SEP + r"(?P<local>[0-9]{1,4})" + _SEP
    + r"(?P<sub>[0-9]{3,4})"
    r"|\((?P<parea>0[1-9][0-9]{0,3})\) ?(?P<plocal>[0-9]{1,4})" + _SEP + r"?(?P<psub>[0-9]{4})"
    r"|(?P<marea>0[1-9][0-9]{0,3})\((?P<mlocal>[0-9]{1,4})\)(?P<msub>[0-9]{4})"
    r"|(?P<plain>0[1-9][0-9]{8,9})"
    r")(?![0-9])"
)
_LETTERS_BEFORE = re.compile(r"[A-Za-z]+$")
_PHONE_WORD = re.compile(r"tel|fax|phone|mobile|mob|cell|no|ph", re.IGNORECASE)
_THREE_THREE_PREFIXES = ("0120", "0570", "0990")  # 0120-123-456: free dial and navi dial
_MOBILE_PREFIXES = ("070", "080", "090", "050", "020", "060")
_NOT_PHONE_LABEL = re.compile(r"(?:内線|マイナンバー|個人番号|住民票コード|免許証?|年金|口座|法人)(?:番号)?[\s:：は]*$")


def _phone_digits(match: re.Match[str]) -> str | None:
    digits = re.sub(r"[^0-9]", "", match.group())
    if match.group("intl"):
        digits = digits[2:]  # drop the 81
        if not digits.startswith("0"):
            digits = "0" + digits
    elif not digits.startswith("0"):
        return None
    if match.group("area") and not match.group("intl") and not match.group("area").startswith("0"):
        return None
    if len(match.group("sub") or "0000") == 3 and not digits.startswith(_THREE_THREE_PREFIXES):
        return None
    if len(digits) == 11:
        return digits if digits.startswith(_MOBILE_PREFIXES) or digits.startswith("0800") else None
    if len(digits) == 10 and not digits.startswith(_MOBILE_PREFIXES):
        return digits
    return None


def find_phones(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for match in _PHONE.finditer(text):
        digits = _phone_digits(match)
        if digits is None or is_fake_digits(digits):
            continue
        context = before(text, match.start(), 12)
        letters = _LETTERS_BEFORE.search(context)
        if letters and not _PHONE_WORD.fullmatch(letters.group()):
            continue  # ID0312345678 is a code; TEL0270123456 is a phone
        if _NOT_PHONE_LABEL.search(context) or EXAMPLE_WORDS.search(context[-8:]):
            continue
        kind = "携帯電話番号" if digits.startswith(("070", "080", "090")) else "電話番号"
        hits.append(Hit("phone", match.start(), match.end(), f"{kind}（{len(digits)}桁）"))
    return hits


_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9_%+\-](?:[A-Za-z0-9._%+\-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def find_emails(text: str) -> list[Hit]:
    return [Hit("email", m.start(), m.end(), "メールアドレス") for m in _EMAIL.finditer(text)]


def find(text: str) -> list[Hit]:
    return find_phones(text) + find_emails(text)
