"""Person names (Sudachi's part of speech plus the words around them) and street addresses."""

from __future__ import annotations

import pytest

from guard.detectors import detect

from .name_cases import WITH_NAMES, WITHOUT_NAMES


def of_type(text: str, kind: str) -> list[str]:
    return [f.text for f in detect(text) if f.type == kind]


@pytest.mark.parametrize(("text", "names"), WITH_NAMES)
def test_names_written_with_honorifics_labels_spaces_or_readings_are_found(text, names):
    assert of_type(text, "person_name") == names


@pytest.mark.parametrize("text", WITHOUT_NAMES)
def test_products_places_public_figures_and_common_words_are_not_names(text):
    assert of_type(text, "person_name") == []


def test_a_surname_with_a_one_character_given_name_needs_a_space_or_a_cue():
    assert of_type("中川 望の転入", "person_name") == ["中川 望"]
    assert of_type("中川望さんの転入", "person_name") == ["中川望"]
    assert of_type("佐藤錦の出荷", "person_name") == []


def test_a_surname_alone_is_a_name_only_with_a_cue():
    assert of_type("石田さんへの返信", "person_name") == ["石田"]
    assert of_type("石田の件", "person_name") == []
    assert of_type("山田線の時刻", "person_name") == []


def test_a_reading_in_parentheses_after_a_name_is_a_name_too():
    assert of_type("坂口 美奈（サカグチ ミナ）", "person_name") == ["坂口 美奈", "サカグチ ミナ"]


@pytest.mark.parametrize(("text", "address"), [
    ("住所：群馬県太田市飯塚町1234-5", "群馬県太田市飯塚町1234-5"),
    ("前橋市朝日町四丁目12番8号の空き家", "前橋市朝日町四丁目12番8号"),
    ("高崎市岩押町12ー34の倉庫", "高崎市岩押町12ー34"),
    ("渋川市行幸田３２１番地の２", "渋川市行幸田３２１番地の２"),
    ("嬬恋村大字鎌原1234-5", "嬬恋村大字鎌原1234-5"),
    ("東京都千代田区丸の内2-4-1", "東京都千代田区丸の内2-4-1"),
    ("伊勢崎市今泉町2丁目", "伊勢崎市今泉町2丁目"),
    ("藤岡市上大塚1234に住む", "藤岡市上大塚1234"),
    ("住所：前橋市 大手町 2-3-4", "前橋市 大手町 2-3-4"),
    ("沼田市材木町甲123", "沼田市材木町甲123"),
    ("太田市新田木崎町１２３－４　コーポ木崎２０５号室", "太田市新田木崎町１２３－４\u3000コーポ木崎２０５号室"),
])
def test_an_address_down_to_the_block_number_is_found(text, address):
    assert of_type(text, "address") == [address]


def test_a_postal_code_just_before_an_address_belongs_to_it():
    assert of_type("〒379-2311 みどり市笠懸町阿左美2345番地", "address") == ["〒379-2311 みどり市笠懸町阿左美2345番地"]


@pytest.mark.parametrize("text", [
    "群馬県の観光", "前橋市に住む", "太田市の施策1-2", "資料2-3を参照", "3-4月の予定", "東京2-3で勝利",
    "国道17号の渋滞",
    "赤城山の標高は1828m", "1丁目から5丁目まで", "県庁の所在地は前橋市大手町1-1-1", "郵便番号370-0000の地域",
])
def test_place_names_without_a_block_number_and_public_buildings_are_not_addresses(text):
    assert of_type(text, "address") == []


def test_an_address_a_name_and_a_phone_in_one_prompt_are_all_found():
    text = "伊勢崎市宮子町3456番地の1の小島 由香さん（TEL 0270-12-3456）"
    assert [(f.type, f.text) for f in detect(text)] == [
        ("address", "伊勢崎市宮子町3456番地の1"), ("person_name", "小島 由香"), ("phone", "0270-12-3456"),
    ]
