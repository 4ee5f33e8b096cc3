"""Birth dates, in 和暦 (昭和52年4月18日, 平成元年1月8日, S48.7.7, H2.3.4) or 西暦 (1978/05/21, 1978年5月21日).

A full date is a birth date only when its context says so: 生年月日 / 誕生日 / 生まれ before it, or 生 / 生まれ /
(47歳) after it. The short 和暦 abbreviation with a Latin era letter (S48.7.7) is how birth dates are written on
forms, so it counts without a label unless the words around it make it the date of an event (施行, 現在 …).
"""

from __future__ import annotations

import re

from ._text import Hit, after, before

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(?:[0-9]{1,2}|[〇一二三四五六七八九十]{1,3})"
_ERA_NAMES = {"明治": 45, "大正": 15, "昭和": 64, "平成": 31, "令和": 99}
_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}

_WAREKI = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和)\s?(?P<y>元|" + _NUM + r")\s?年\s?(?P<m>" + _NUM + r")\s?月\s?(?P<d>" + _NUM
    + r")\s?日"
)
_WAREKI_SHORT = re.compile(
    r"(?<![A-Za-z0-9])(?P<era>[MTSHRmtshr]|明治|大正|昭和|平成|令和)\s?(?P<y>元|[0-9]{1,2})(?P<sep>[./\-])"
    r"(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])"
)
_SEIREKI = re.compile(
    r"(?<![0-9])(?P<y>(?:18|19|20)[0-9]{2})\s?(?:(?P<sep>[./\-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"|年\s?(?P<m2>[0-9]{1,2})\s?月\s?(?P<d2>[0-9]{1,2})\s?日)(?![0-9])"
)

_BIRTH_BEFORE = re.compile(r"生年月日|誕生日|生まれ|出生|誕生|DOB|birth", re.IGNORECASE)
_BIRTH_AFTER = re.compile(r"^\s?(?:[)）]\s?)?(?:生(?![活産涯徒命鮮協])|産まれ|出生|誕生|"
                          r"[(（]\s?(?:満\s?)?[0-9]{1,3}\s?歳|"
                          r"、?\s?(?:満\s?)?[0-9]{1,3}\s?歳)")
_EVENT_AFTER = re.compile(r"^\s?(?:付|から|まで|より|以降|以前|~|〜|-|施行|現在|時点|開催|実施|締切|期限|提出|"
                          r"予定|改正|公布|"
                          r"発行|作成|受付|受理|交付|決定|開始|終了|更新|時|"
                          r"の?(?:法改正|改正|告示|通知|通達|会議|説明会|研修|申請|報告|資料|議事録|事業|契約))")


def _number(token: str) -> int:
    if token == "元":  # noqa: S105 - 元年, the first year of an era
        return 1
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in token:
        value = value * 10 + _KANJI_DIGITS.get(ch, 0)
    return value


def _valid(month: str, day: str, era: str | None = None, year: str | None = None) -> bool:
    m, d = _number(month), _number(day)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return False
    return era is None or 1 <= _number(year) <= _ERA_NAMES[era]


def _birth_context(text: str, start: int, end: int) -> bool:
    return bool(_BIRTH_BEFORE.search(before(text, start, 16)) or _BIRTH_AFTER.match(after(text, end, 12)))


def find(text: str) -> list[Hit]:
    hits: list[Hit] = []
    for match in _WAREKI.finditer(text):
        if _valid(match["m"], match["d"], match["era"], match["y"]) and _birth_context(text, *match.span()):
            hits.append(Hit("birth_date", match.start(), match.end(), "生年月日（和暦）"))
    for match in _WAREKI_SHORT.finditer(text):
        era = _ERA_LETTERS.get(match["era"].upper(), match["era"])
        if not _valid(match["m"], match["d"], era, match["y"]):
            continue
        start, end = match.span()
        abbreviated = len(match["era"]) == 1
        if _birth_context(text, start, end) or (abbreviated and not _EVENT_AFTER.match(after(text, end, 10))):
            hits.append(Hit("birth_date", start, end, "生年月日（和暦の略記）"))
    for match in _SEIREKI.finditer(text):
        month, day = match["m"] or match["m2"], match["d"] or match["d2"]
        if _valid(month, day) and _birth_context(text, *match.span()):
            hits.append(Hit("birth_date", match.start(), match.end(), "生年月日（西暦）"))
    return hits
