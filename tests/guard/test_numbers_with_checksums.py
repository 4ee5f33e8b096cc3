"""Identification numbers: found by their check digits or by the label in front of them, in any width or spacing."""

from __future__ import annotations

import pytest

from guard.detectors import detect

from .numbers_helpers import change_last_digit, corporate_number, full_width, luhn, my_number, spaced


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.type, f.text) for f in detect(text)]


@pytest.mark.parametrize("first11", ["40213578906", "88001234567", "13572468024"])
def test_a_my_number_with_a_valid_check_digit_is_found_and_a_one_digit_change_is_not(first11):
    number = my_number(first11)
    assert kinds(f"個人番号は{number}です") == [("my_number", number)]
    assert kinds(f"番号 {number} の方") == [("my_number", number)]  # the check digit alone is enough
    assert kinds(f"個人番号は{change_last_digit(number)}です") == []


def test_a_my_number_is_found_when_written_in_groups_of_four_or_in_full_width_digits():
    number = my_number("52019283746")
    layouts = [spaced(number, (4, 4, 4), sep) for sep in (" ", "-", "\u3000", "ー")]
    for written in [*layouts, full_width(layouts[1])]:
        text = f"マイナンバー：{written}"
        assert kinds(text) == [("my_number", written)], written


def test_a_card_number_passing_luhn_is_found_grouped_or_not_and_a_failing_one_is_not():
    card = luhn("535498761234567")
    assert kinds(f"カード {spaced(card, (4, 4, 4, 4))} で決済") == [("credit_card", spaced(card, (4, 4, 4, 4)))]
    assert kinds(f"番号{card}で支払い") == [("credit_card", card)]
    assert kinds(f"カード {spaced(change_last_digit(card), (4, 4, 4, 4))} で決済") == []


def test_an_american_express_layout_of_four_six_five_digits_is_a_card_number():
    card = luhn("37128765432109")
    written = spaced(card, (4, 6, 5), "-")
    assert kinds(f"AMEX {written}") == [("credit_card", written)]


def test_a_corporate_number_is_public_and_never_reported():
    number = corporate_number("304050607080")
    assert kinds(f"法人番号 {number} の事業者") == []
    assert kinds(f"取引先（法人番号：{number}）") == []


def test_a_resident_code_is_eleven_digits_after_its_label():
    assert kinds("住民票コード 24681357913 の写し") == [("resident_code", "24681357913")]
    assert kinds("住民票コードは０８０２４６８１３５７") == [("resident_code", "０８０２４６８１３５７")]


def test_a_drivers_licence_number_is_twelve_digits_near_menkyo_even_between_dai_and_gou():
    assert kinds("運転免許証番号 305512345670") == [("drivers_license", "305512345670")]
    assert kinds("免許証の番号は第 442298765431 号") == [("drivers_license", "442298765431")]


def test_a_basic_pension_number_is_four_and_six_digits_near_nenkin():
    assert kinds("基礎年金番号：4321-098765") == [("pension_number", "4321-098765")]
    assert kinds("年金番号は５６７８９０１２３４です") == [("pension_number", "５６７８９０１２３４")]


def test_a_bank_account_is_seven_digits_next_to_an_account_word_and_yucho_uses_symbol_and_number():
    assert kinds("普通預金 口座番号 8642097") == [("bank_account", "8642097")]
    assert kinds("当座 ７７７１２３４へ振込") == [("bank_account", "７７７１２３４")]
    assert kinds("ゆうちょ 記号番号 13580-24681357") == [("bank_account", "13580-24681357")]


def test_a_seven_digit_number_without_an_account_word_is_not_an_account():
    assert kinds("受付番号 8642097 の件") == []


def test_a_passport_number_is_two_letters_and_seven_digits():
    assert kinds("旅券番号 TK3141592") == [("passport", "TK3141592")]
    assert kinds("パスポートは ｍｒ２７１８２８１ です") == [("passport", "ｍｒ２７１８２８１")]
    assert kinds("RX2468024") == [("passport", "RX2468024")]


def test_a_label_chooses_the_kind_when_the_closest_label_is_another_kind():
    number = my_number("31415926535")
    text = f"口座番号 8642097、マイナンバー {number}"
    assert kinds(text) == [("bank_account", "8642097"), ("my_number", number)]
