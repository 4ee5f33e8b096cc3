"""Offsets point into the text as typed, whatever normalisation did, and long prompts are screened quickly."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

from guard.detectors import PII_TYPES, Finding, detect, warm_up
from guard.detectors._morph import chunks
from guard.detectors._text import Normalized


def test_every_finding_slices_the_original_text_and_has_a_known_type_and_a_japanese_reason():
    text = "㈱アカギの担当、ｶﾞｰﾃﾞﾝ課の沢田 恭子さん（０９０－８６４２－１３５７、ｋ．ｓａｗａｄａ＠ｅｘａｍｐｌｅ．ｊｐ）"
    findings = detect(text)
    assert [(f.type, f.text) for f in findings] == [
        ("person_name", "沢田 恭子"),
        ("phone", "０９０－８６４２－１３５７"),
        ("email", "ｋ．ｓａｗａｄａ＠ｅｘａｍｐｌｅ．ｊｐ"),
    ]
    for finding in findings:
        assert isinstance(finding, Finding)
        assert text[finding.start:finding.end] == finding.text
        assert finding.type in PII_TYPES
        assert finding.reason and not finding.reason.isascii()


def test_findings_are_sorted_by_position_and_never_overlap():
    text = "中村 亜美さん 生年月日 平成9年9月9日 〒371-0023 前橋市本町一丁目2番3号 電話 027-987-6543"
    findings = detect(text)
    assert [f.type for f in findings] == ["person_name", "birth_date", "address", "phone"]
    for left, right in itertools.pairwise(findings):
        assert left.end <= right.start


def test_normalisation_maps_expanding_and_composing_characters_back_to_the_original():
    norm = Normalized("㈱ｶﾞ１－２")
    assert norm.text == "(株)ガ1-2"
    assert norm.span(0, 3) == (0, 1)  # (株) is the one character ㈱
    assert norm.span(3, 4) == (1, 3)  # ガ is ｶ plus the sound mark ﾞ
    assert norm.span(4, 7) == (3, 6)


def test_the_long_vowel_mark_is_a_hyphen_only_between_digits():
    assert Normalized("ケーキ 3ー4").text == "ケーキ 3-4"


def test_long_texts_are_cut_for_sudachi_on_sentence_ends_without_losing_characters():
    text = ("あいうえお。" * 3000) + "かきくけこ" * 2000
    pieces = chunks(text, 4000)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    assert all(end - start <= 4000 for start, end in pieces)
    assert text[pieces[0][1] - 1] == "。"


def test_a_name_far_into_a_long_prompt_has_its_original_offset():
    filler = "本日の議題は予算についてです。" * 5000
    text = filler + "西川 智子さん"
    findings = detect(text)
    assert [(f.type, f.start, f.text) for f in findings] == [("person_name", len(filler), "西川 智子")]


def test_a_typical_prompt_takes_well_under_fifty_milliseconds_and_a_huge_one_seconds_not_minutes():
    warm_up()
    sentence = "高崎市栄町3-4の鈴木花子さん（090-1234-5678）から相談がありました。予算額は12,345,678円です。"
    prompt = (sentence * 40)[:2000]
    started = time.perf_counter()
    for _ in range(5):
        detect(prompt)
    assert (time.perf_counter() - started) / 5 < 0.05
    started = time.perf_counter()
    findings = detect(prompt * 100)
    assert time.perf_counter() - started < 20
    assert len(findings) > 100


def test_threads_screening_at_the_same_time_get_the_same_answers():
    texts = [f"{name}さんの電話は090-1357-246{i}です" for i, name in enumerate(["大西", "今野", "松岡", "荒木"] * 10)]
    expected = [detect(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(detect, texts)) == expected
