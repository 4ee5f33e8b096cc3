"""Phone and FAX numbers, e-mail addresses and birth dates, in the forms staff type them."""

from __future__ import annotations

import pytest

from guard.detectors import detect


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.type, f.text) for f in detect(text)]


@pytest.mark.parametrize("written", [
    "080-2468-1357", "08024681357", "080 2468 1357", "０８０－２４６８－１３５７", "080ー2468ー1357", "080‐2468‐1357",
    "0276-45-6789", "027-345-6789", "(027)345-6789", "027(345)6789", "+81 80-2468-1357", "+81-27-345-6789",
    "0120-345-678",
])
def test_a_phone_number_is_found_in_every_usual_layout(written):
    assert kinds(f"連絡先 {written} まで") == [("phone", written)]


def test_a_number_glued_to_the_word_before_it_is_found_but_not_after_an_identifier_code():
    assert kinds("携帯07013572468") == [("phone", "07013572468")]
    assert kinds("ＴＥＬ０２７０－１２－３４５６") == [("phone", "０２７０－１２－３４５６")]
    assert kinds("Tel.027-123-4567") == [("phone", "027-123-4567")]
    assert kinds("ID0312345678") == []


@pytest.mark.parametrize("text", [
    "内線 4567 まで", "代表（内線2468）", "記入例：090-0000-0000", "書式例 03-0000-0000", "0000-00-0000",
    "080-12-345678", "03-1234-567", "1234-5678",
])
def test_extensions_placeholders_and_wrong_lengths_are_not_phones(text):
    assert [f for f in detect(text) if f.type == "phone"] == []


def test_the_extension_after_a_main_number_is_left_out():
    assert kinds("代表 027-345-6789 内線 321") == [("phone", "027-345-6789")]


@pytest.mark.parametrize(
    "address", ["s.kudo@example.net", "info+kosodate@city.example.lg.jp", "ｓａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ"]
)
def test_an_email_address_is_found_also_in_full_width_letters(address):
    assert kinds(f"返信は{address}へ") == [("email", address)]


@pytest.mark.parametrize(("text", "date"), [
    ("生年月日：昭和56年11月3日", "昭和56年11月3日"),
    ("平成元年2月14日生まれの方", "平成元年2月14日"),
    ("令和3年7月7日生", "令和3年7月7日"),
    ("生年月日 昭和四十九年十月二十日", "昭和四十九年十月二十日"),
    ("S51.8.15", "S51.8.15"),
    ("H7.12.24生", "H7.12.24"),
    ("R4/3/1生まれの児童", "R4/3/1"),
    ("誕生日は1986年6月9日です", "1986年6月9日"),
    ("生年月日 1979/10/02", "1979/10/02"),
    ("1992-01-31（34歳）", "1992-01-31"),
])
def test_a_birth_date_is_found_in_wareki_and_seireki(text, date):
    assert kinds(text) == [("birth_date", date)]


@pytest.mark.parametrize("text", [
    "2026年4月1日施行", "昭和55年4月1日に転入", "平成30年3月31日まで", "令和8年度予算", "R8.4.1施行の改正",
    "H30.3.31現在", "明治99年1月1日生", "昭和50年13月1日生",
])
def test_dates_that_are_not_birth_dates_or_not_real_dates_are_not_reported(text):
    assert [f for f in detect(text) if f.type == "birth_date"] == []
