"""Street addresses: a place name followed by a block number (丁目, 番地, 番・号, or 1-2-3).

The place part is read with Sudachi, whose dictionary knows most municipalities and town names
(``群馬県前橋市元総社町`` is one 地名 token); the part after it is read with a regular expression. A bare
prefecture or city name, with no block number after it, is public and not reported. A postal code (〒370-0000)
just before an address, and a building with a room number after it, are made part of the address.
"""

from __future__ import annotations

import re

from ._morph import Tok
from ._text import Hit, after, before

_KN = r"(?:[0-9]+|[一二三四五六七八九十〇]+)"
_TAIL = re.compile(
    r"(?:[甲乙丙] ?)?(?:"
    + _KN + r"丁目(?: ?[0-9]+(?:番地?|-) ?[0-9]+(?:号|-[0-9]+)?| ?[0-9]+番地?| ?- ?[0-9]+(?:-[0-9]+)?)?"
    r"|[0-9]+番地?(?: ?の?[0-9]+号?(?:-[0-9]+)?|-[0-9]+)?"
    r"|[0-9]+(?: ?- ?[0-9]+){1,3}"
    r"|[一二三四五六七八九十百〇]+番地?(?:の?[一二三四五六七八九十百〇]+号?)?"
    r"|(?P<bare>[0-9]{1,5})"
    r")(?![0-9])"
)
_ROOM = re.compile(r"(?: ?[ァ-ヶー・A-Za-z一-龥々]{1,20} ?)?[0-9]{1,4}(?:号室|号棟)| ?- ?[0-9]{1,4}号?室")
_POSTAL = re.compile(r"(?:〒 ?)?[0-9]{3}-[0-9]{4} ?$|〒 ?$")
_UNIT_AFTER = re.compile(
    r"\s?(?:円|万|億|年|月|日|歳|人|件|号(?!室)|条|名|回|時|分|%|m|km|キロ|メートル|倍|位|世帯|戸)"
)
_CUE = re.compile(r"住所|所在地|在住|居住|住まい|転居|転入|送付先|宛先|届け先|自宅|〒")
_PLACE_SUFFIXES = ("町", "村", "区", "市", "郡", "丁", "通", "通り", "字")
_SUFFIX_TOKENS = {"町", "村", "区", "市", "郡", "丁", "通", "通り", "大字", "字", "小字"}
_TOWN_LEVEL = re.compile(r"[市区郡町村].+")  # a municipality followed by a town name (嬬恋村大字鎌原1234)
# The address of a public building is a public fact: 前橋市役所は前橋市大手町2-12-1にあります.
_FACILITY = (r"(?:役所|役場|庁舎|県庁|都庁|本庁|支所|出張所|公民館|図書館|美術館|博物館|体育館|会館|ホール|"
             r"センター|駅|病院|"
             r"学校|大学|公園|郵便局|警察署|消防署|事務所|本社|支店|工場)")
_FACILITY_BEFORE = re.compile(_FACILITY + r"(?:の?(?:所在地|住所))?\s?(?:は|:|\()?\s?$")
_FACILITY_AFTER = re.compile(r"\s?\)?(?:に(?:ある|所在する)|の)[^\s、。]{0,6}?" + _FACILITY)
_PRIVATE = re.compile(r"さん|様|氏|宅|自宅|世帯|方(?![法針面向])|住民|申請|相談")


def _is_place_piece(tok: Tok) -> bool:
    if tok.is_space or tok.pos[0] in ("補助記号", "助詞", "助動詞", "動詞", "形容詞") or tok.pos[1] == "数詞":
        return False
    if tok.is_place or tok.surface in _SUFFIX_TOKENS:
        return True
    if tok.is_proper or tok.oov:  # town names the dictionary only knows as surnames (大字八木原) or not at all
        return bool(re.fullmatch(r"[一-龥々ヶケがのノぁ-んァ-ヶー]+", tok.surface))
    return tok.pos[0] == "名詞" and tok.surface.endswith(_PLACE_SUFFIXES) and len(tok.surface) <= 5


def _tail_at(text: str, chain: list[Tok]) -> re.Match[str] | None:
    last = chain[-1]
    inner = re.search(_KN + r"丁目$", last.surface)  # 本町二丁目 as one token
    if inner:
        match = _TAIL.match(text, last.start + inner.start())
        if match and match.end() >= last.end:
            return match
    position = last.end + (1 if text[last.end:last.end + 1] == " " else 0)
    return _TAIL.match(text, position)


def _accept(text: str, chain: list[Tok], tail: re.Match[str]) -> bool:
    words = "".join(t.surface for t in chain)
    cue = bool(_CUE.search(before(text, chain[0].start, 16)))
    has_place = any(t.is_place or t.surface.endswith(_PLACE_SUFFIXES) or t.surface in _SUFFIX_TOKENS for t in chain)
    if tail.group("bare"):
        # 藤岡市上大塚1234: bare digits only after a city plus a town, and never an amount or a count.
        return bool(_TOWN_LEVEL.search(words)) and not _UNIT_AFTER.match(text, tail.end())
    if _UNIT_AFTER.match(text, tail.end()) and "-" in tail.group():
        return False  # 3-4月, 1-2件
    if not (has_place or cue):
        return False
    # 東京2-3 (a score) is not an address; 元総社町1-2 is.
    return cue or "丁目" in tail.group() or "番" in tail.group() or any(
        t.surface.endswith(_PLACE_SUFFIXES) or t.surface in _SUFFIX_TOKENS or len(t.surface) >= 4 for t in chain
    ) or tail.group().count("-") >= 2


def _public_building(text: str, start: int, end: int) -> bool:
    near = before(text, start, 16) + after(text, end, 12)
    if _PRIVATE.search(near):
        return False
    return bool(_FACILITY_BEFORE.search(before(text, start, 16)) or _FACILITY_AFTER.match(text, end))


def find(text: str, toks: list[Tok]) -> list[Hit]:
    hits: list[Hit] = []
    i, n = 0, len(toks)
    while i < n:
        if not _is_place_piece(toks[i]):
            i += 1
            continue
        j = i
        # 前橋市 大手町 2-3-4: one space may separate the parts.
        while j + 1 < n and (_is_place_piece(toks[j + 1])
                             or (toks[j + 1].is_space and j + 2 < n and _is_place_piece(toks[j + 2]))):
            j += 1
        chain = toks[i:j + 1]
        # Leading pieces that are not places themselves (a surname before the city) are not part of it.
        while len(chain) > 1 and not (chain[0].is_place or chain[0].surface.endswith(("県", "都", "府", "道"))) \
                and chain[1].is_place:
            chain = chain[1:]
        tail = _tail_at(text, chain)
        if tail and _accept(text, chain, tail):
            start, end = chain[0].start, tail.end()
            room = _ROOM.match(text, end)
            if room:
                end = room.end()
            window_start = max(0, start - 12)
            postal = _POSTAL.search(text, window_start, start)
            if postal:
                start = postal.start()
            if not _public_building(text, start, end):
                hits.append(Hit("address", start, end, "住所（番地・丁目まで）"))
            while j + 1 < n and toks[j + 1].start < end:
                j += 1
        i = j + 1
    return hits
