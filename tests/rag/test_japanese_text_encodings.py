"""CSV and text from Japanese Excel and Notepad decode right: CP932 (Shift_JIS), UTF-16, UTF-8 with or without BOM."""

from __future__ import annotations

import codecs

import pytest

from rag.parsing import ParseError, parse
from rag.parsing.encoding import decode_text

ROWS = "氏名,住所,電話\n山田 太郎,前橋市大手町1-1-1,027-000-0000\n鈴木 花子,\"高崎市高松町35-1, 3階\",027-111-1111\n"


def rows(document) -> list[tuple[str, str]]:
    return [(section.cells, section.text) for section in document.sections]


EXPECTED = [
    ("A1:C1", "氏名 | 住所 | 電話"),
    ("A2:C2", "山田 太郎 | 前橋市大手町1-1-1 | 027-000-0000"),
    ("A3:C3", "鈴木 花子 | 高崎市高松町35-1, 3階 | 027-111-1111"),
]


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(ROWS.encode("cp932"), id="cp932 from Excel's CSV"),
        pytest.param(codecs.BOM_UTF8 + ROWS.encode(), id="utf-8 with BOM from Excel's CSV UTF-8"),
        pytest.param(ROWS.encode(), id="utf-8"),
        pytest.param(ROWS.encode("utf-16"), id="utf-16 with BOM"),
        pytest.param(
            ROWS.replace(",", "\t").replace('"高崎市高松町35-1\t 3階"', "高崎市高松町35-1, 3階").encode("utf-16"),
            id="utf-16 tab-separated from Excel's Unicode text",
        ),
    ],
)
def test_csv_rows_read_right_in_every_encoding_excel_writes(encoded):
    document = parse("名簿.csv", encoded)
    assert rows(document) == EXPECTED
    assert all(section.heading_path == ["氏名 | 住所 | 電話"] for section in document.sections)


def test_csv_cells_count_records_not_lines_when_a_quoted_field_spans_lines():
    document = parse("a.csv", '"一行目\n二行目",値\n次,値2\n'.encode("cp932"))
    assert rows(document) == [("A1:B1", "一行目 二行目 | 値"), ("A2:B2", "次 | 値2")]
    assert document.sections[0].heading_path == ["一行目 二行目 | 値"]  # short labels: taken for column names


def test_utf16_without_bom_is_recognised_by_its_nul_bytes():
    assert decode_text("ID,name\n1,abc\n".encode("utf-16-le")) == ("ID,name\n1,abc\n", "utf-16-le")


def test_text_that_is_not_utf8_falls_back_to_cp932_including_its_vendor_characters():
    text = "①髙橋さんの㈱申請書"  # ①, 髙 and ㈱ exist in CP932 but not in strict Shift_JIS
    assert decode_text(text.encode("cp932")) == (text, "cp932")


def test_a_declared_html_charset_is_honoured_when_the_bytes_are_not_utf8():
    page = '<html><head><meta charset="euc-jp"></head><body><p>住民税のお知らせ</p></body></html>'
    assert decode_text(page.encode("euc_jp"), declared_charset=True)[0] == page


def test_binary_content_under_a_text_name_is_refused_in_japanese():
    with pytest.raises(ParseError, match="テキストファイルではありません"):
        parse("readme.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")
    with pytest.raises(ParseError, match="テキストファイルではありません"):
        parse("data.csv", b"\x01\x02\x00\x00\xff" * 100)
