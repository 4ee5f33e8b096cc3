"""Person names, decided on Sudachi's part of speech (名詞,固有名詞,人名,姓 / 名 / 一般) and the words around them.

- A surname and a given name together (田中一郎, 中島 翼, ヤマダ タロウ) are a name, except a surname glued to a
  one-character "given name" with nothing else saying it is a person: that is how products are named (佐藤錦).
- A surname or a given name alone is a name only with a cue: an honorific or a staff title after it (伊藤さん,
  花子ちゃん, 鈴木課長), or a label before it (担当：伊藤, 申請者は佐藤). 山田線 and 吉田うどん stay clean.
- A single dictionary entry for a whole name (徳川家康) is a historical or public figure: public, not reported.
- Readings: kana in parentheses right after a name (山本 直子（やまもと なおこ）), and kana after フリガナ/ふりがな.
- Foreign names in katakana joined with ・ (グエン・ヴァン・ナムさん) when one part is a known name.
"""

from __future__ import annotations

import re

from ._morph import Tok, is_surname
from ._text import Hit

HONORIFICS = frozenset({
    "さん", "様", "さま", "サマ", "氏", "君", "くん", "ちゃん", "殿", "どの", "宛", "あて", "先生", "夫妻", "宅",
    "一家",
})
# Staff titles after a surname mark a person. Elected offices (市長, 知事, 議員) are public and not listed.
TITLES = frozenset({
    "課長", "部長", "係長", "主任", "主査", "主事", "室長", "所長", "局長", "次長", "班長", "課長補佐", "補佐", "参事",
    "会長", "社長", "理事長", "院長", "園長", "校長", "教頭", "教諭", "看護師", "保健師", "相談員", "支援員", "専門員",
})
_CUE_AFTER = re.compile(
    r" ?(?:様(?!式)|氏(?!名)|殿(?!堂)|宅(?![地配])|"
    + "|".join(sorted((HONORIFICS | TITLES) - {"様", "氏", "殿", "宅"}, key=len, reverse=True)) + ")"
)
# A common noun that is also a surname (大橋) is a name before these only: 大家さん and 花屋さん are not names.
_BOY_OR_TITLE = re.compile(r" ?(?:くん|君|" + "|".join(sorted(TITLES, key=len, reverse=True)) + ")")
_NOT_GIVEN_NAME_ENDS = tuple("長課係部室局所様氏殿員者家宅市町村県区線駅店社会議案式表書票税費料日年")
# After a full name with no honorific, these make it a public or historical figure (横山大観の作品展).
_PUBLIC_FIGURE_AFTER = re.compile(
    r"(?:の[一-龥ぁ-んァ-ヶ]{0,3}?)?(?:作品|小説|生涯|名言|言葉|俳句|短歌|和歌|詩|絵|絵画|芸術|歌|曲|演技|映画|著書|発明|"
    r"代表作|功績|思想|業績|伝記|伝説|記念|文学|生誕|銅像|像|墓|生家|旧宅|旧居|資料館|ゆかり|時代|一族|家臣|とは)"
    r"|元?(?:首相|総理|大臣|知事|議員|選手|監督|名誉市民)"
)
_LABEL = re.compile(
    r"(?:氏名|名前|なまえ|申請者|担当者?|相談者|届出人|世帯主|保護者|被保険者|受給者|受給権者|宛名|契約者|代表者|利用者|本人|"
    r"対象者|依頼者|差出人|記入者|作成者|申込者|請求者|納税者|義務者|入居者|死亡者|故人|配偶者|児童|生徒|患者|"
    r"父|母|夫|妻|長男|長女|次男|次女|息子|娘|祖父|祖母|職員|連絡者|通報者|発見者|送付先|宛先)"
    r"(?:名|氏名)?\s?[:：]?\s?(?:は|が|の|、|=)?\s?[:：]?\s?"
    r"(?:[一-龥ぁ-んァ-ヶー]{1,12}(?:課|係|室|部|班|局|センター|事務所|支所|グループ)\s?[のは]?\s?)?$"
)
# A staff member named after their section: 市民課の遠藤, 総務課 佐藤.
_SECTION = re.compile(r"[一-龥ぁ-んァ-ヶー]{1,12}(?:課|係|室|班|センター|事務所|支所)\s?(?:の|[:：]|\s)\s?$")
_KANA_LABEL = re.compile(r"(?:フリガナ|ふりがな|よみがな|ヨミガナ|カナ氏名|氏名カナ|氏名\(カナ\)|読み仮名)\s?[:：]?\s?")
_KANA_RUN = re.compile(r"[ぁ-んァ-ヶ][ぁ-んァ-ヶー]*(?:[ ・][ぁ-んァ-ヶ][ぁ-んァ-ヶー]*)?")
_READING = re.compile(r" ?\( ?([ぁ-んァ-ヶ][ぁ-んァ-ヶー]*(?:[ ・][ぁ-んァ-ヶ][ぁ-んァ-ヶー]*)?) ?\)")
_KANA_SURNAME = re.compile(r"(?:^|(?<=[\s、。:：(]))([ぁ-ん]{2,6}|[ァ-ヶー]{2,6}) $")
_KATAKANA_PARTS_BEFORE = re.compile(r"(?:[ァ-ヶー]+・)+$")  # ファン・ティ・ before ホアさん
# 株式会社スズキ様 is a company: what follows a company-type word is not a person's name.
_COMPANY_BEFORE = re.compile(r"(?:株式会社|有限会社|合同会社|合資会社|\((?:株|有)\)|法人)\s?$")
_KANJI = re.compile(r"[一-龥々〆ヶ\U00020000-\U0003ffff]+")
_KATAKANA = re.compile(r"[ァ-ヶー]+")


def _kind(tok: Tok) -> str | None:
    """姓, 名 or 一般 for a person-name token; None for anything else (and for Latin letters: 'Aさん')."""
    if tok.is_person and not tok.surface.isascii() and tok.pos[0] == "名詞":
        return tok.pos[3]
    return None


def _cue_after(text: str, end: int) -> bool:
    return _CUE_AFTER.match(text, end) is not None


def _cue_before(text: str, start: int) -> bool:
    window = max(0, start - 28)
    return bool(_LABEL.search(text, window, start) or _SECTION.search(text, window, start))


def _reading(text: str, end: int) -> re.Match[str] | None:
    return _READING.match(text, end)


def _collect(toks: list[Tok], i: int) -> tuple[list[Tok], bool, int]:
    """The name pieces starting at ``i``: [姓][space][名] or katakana parts joined by ・. Returns pieces,
    whether a space or ・ separated them, and the index after the last piece."""
    run = [toks[i]]
    separated = False
    k = i + 1
    while k < len(toks) and len(run) < 4:
        tok = toks[k]
        katakana = _KATAKANA.fullmatch(run[-1].surface) is not None
        if tok.is_space or tok.surface == "・":
            following = toks[k + 1] if k + 1 < len(toks) else None
            if following is None:
                break
            if _kind(following) and _kind(run[-1]) in ("姓", "一般") and not separated:
                run.append(following)
                separated = True
                k += 2
                continue
            if tok.surface == "・" and katakana and _KATAKANA.fullmatch(following.surface):
                run.append(following)
                separated = True
                k += 2
                continue
            break
        if _kind(tok) in ("名", "一般") and _kind(run[-1]) == "姓" and len(run) == 1:  # not 大森 + 貝塚
            run.append(tok)
            k += 1
            continue
        break
    return run, separated, k


def _given_name_after_space(toks: list[Tok], k: int) -> int | None:
    """After a surname and a space, a given name the dictionary does not tag as one (勅使河原 蒼, ヤマグチ ケンタ):
    one or two kanji or a short kana word. Returns the index after it."""
    if k + 1 < len(toks) and toks[k].is_space:
        cand = toks[k + 1]
        kanji = _KANJI.fullmatch(cand.surface) and len(cand.surface) <= 2
        kana = re.fullmatch(r"[ぁ-んァ-ヶー]{2,6}", cand.surface)
        if (kanji or kana) and _kind(cand) is None and cand.pos[0] == "名詞" and cand.pos[1] != "数詞":
            return k + 2
    return None


def _ends_name(toks: list[Tok], k: int) -> bool:
    """中川 望の転入: a one- or two-kanji word after a surname and a space, then a particle or the end, reads as a
    given name even without an honorific, unless it is a title or an organisation word (小林 市長, 佐藤 課)."""
    word = toks[k - 1].surface
    if not _KANJI.fullmatch(word) or word in HONORIFICS or word in TITLES or word.endswith(_NOT_GIVEN_NAME_ENDS):
        return False
    return k == len(toks) or toks[k].pos[0] in ("助詞", "補助記号") or toks[k].is_space


def find(text: str, toks: list[Tok]) -> list[Hit]:
    hits: list[Hit] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        kind = _kind(tok)
        if kind is None:
            i += 1
            continue
        run, separated, k = _collect(toks, i)
        start, end = run[0].start, run[-1].end
        before_cue = _cue_before(text, start)
        if len(run) == 1 and kind == "姓":
            extended = _given_name_after_space(toks, k)
            if extended and (before_cue or _cue_after(text, toks[extended - 1].end) or _ends_name(toks, extended)):
                run, k, end, separated = [*run, toks[extended - 1]], extended, toks[extended - 1].end, True
        cue = before_cue or _cue_after(text, end) or _reading(text, end) is not None
        kinds = [_kind(t) for t in run]
        if len(run) == 1:
            famous = kind == "一般" and _KANJI.fullmatch(tok.surface) is not None and len(tok.surface) >= 3
            accept = before_cue if famous else cue
            reason = "氏名（敬称・役職・項目名から判断）"
        else:
            full = kinds[0] in ("姓", "一般") and len(run[-1].surface) >= 2
            public = _PUBLIC_FIGURE_AFTER.match(text, end) is not None
            accept = cue or ((separated or full) and not public)
            reason = "氏名（姓と名）"
        if accept and not _COMPANY_BEFORE.search(text, max(0, start - 8), start):
            if len(run) == 1 and kind == "名":
                start = _kana_surname_before(text, start)
            if _KATAKANA.fullmatch(run[0].surface):
                joined = _KATAKANA_PARTS_BEFORE.search(text, max(0, start - 30), start)
                start = joined.start() if joined else start
            hits.append(Hit("person_name", start, end, reason))
            reading = _reading(text, end)
            if reading:
                hits.append(Hit("person_name", reading.start(1), reading.end(1), "氏名の読み仮名"))
        i = k
    hits.extend(_kana_after_label(text))
    hits.extend(_before_honorific(text, toks))
    return hits


def _kana_surname_before(text: str, start: int) -> int:
    """A given name in kana after a space and a kana word (やまぐち けんた): where the surname starts."""
    match = _KANA_SURNAME.search(text, max(0, start - 8), start)
    return match.start(1) if match else start


def _kana_after_label(text: str) -> list[Hit]:
    hits = []
    for label in _KANA_LABEL.finditer(text):
        run = _KANA_RUN.match(text, label.end())
        if run and len(run.group().replace(" ", "")) >= 2:
            hits.append(Hit("person_name", run.start(), run.end(), "氏名の読み仮名（フリガナ欄）"))
    return hits


def _before_honorific(text: str, toks: list[Tok]) -> list[Hit]:
    """Names right before an honorific that the analysis did not tag as names: unknown kanji or katakana, a
    place-name reading of a surname (桜井部長, 千葉さん), or katakana parts of which one is a known name
    (グエン・ヴァン・ナムさん)."""
    hits = []
    for k, tok in enumerate(toks):
        if _kind(tok) or not _cue_after(text, tok.end):
            continue
        if _COMPANY_BEFORE.search(text, max(0, tok.start - 8), tok.start):
            continue
        script_ok = _KANJI.fullmatch(tok.surface) or _KATAKANA.fullmatch(tok.surface)
        if script_ok and tok.oov and 2 <= len(tok.surface) <= 8:
            hits.append(Hit("person_name", tok.start, tok.end, "氏名（敬称から判断）"))
            continue
        if _KANJI.fullmatch(tok.surface) and is_surname(tok.surface) and (
            tok.is_proper or (tok.is_common_noun and len(tok.surface) >= 2 and _BOY_OR_TITLE.match(text, tok.end))
        ):
            hits.append(Hit("person_name", tok.start, tok.end, "氏名（敬称・役職から判断）"))
            continue
        j, parts = k, []
        while j >= 0 and _KATAKANA.fullmatch(toks[j].surface):
            parts.append(toks[j])
            if j >= 1 and toks[j - 1].surface == "・":
                j -= 2
                continue
            break
        if len(parts) >= 2 and any(_kind(p) for p in parts):
            hits.append(Hit("person_name", parts[-1].start, parts[0].end, "氏名（外国籍の方の氏名）"))
    return hits
