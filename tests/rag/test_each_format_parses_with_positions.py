"""Every supported format parses to sections that know where they are: heading path, page, slide, sheet+cells."""

from __future__ import annotations

from rag.parsing import ParsedDocument, parse
from tests.rag import documents


def texts(document: ParsedDocument) -> list[str]:
    return [section.text for section in document.sections]


def find(document: ParsedDocument, needle: str):
    matches = [section for section in document.sections if needle in section.text]
    assert matches, f"{needle!r} not in {texts(document)}"
    return matches[0]


def test_word_sections_carry_their_heading_path_and_leave_out_headers_and_footers():
    document = parse("規程.docx", documents.docx_bytes())
    assert document.format == "docx"
    assert document.title == "第1章 総則"
    assert find(document, "文書の管理").heading_path == ["第1章 総則"]
    assert find(document, "適切に保存").heading_path == ["第1章 総則", "第1節 目的"]
    table = find(document, "契約書")
    assert table.text == "区分 | 保存期間\n契約書 | 10年"
    assert table.heading_path == ["第1章 総則", "第1節 目的"]
    assert find(document, "施行する").heading_path == ["第2章 雑則"]
    assert not any("社外秘" in text or "フッター" in text for text in texts(document))
    assert all(section.position.keys() == {"heading_path"} for section in document.sections)


def test_powerpoint_sections_carry_the_slide_number_and_speaker_notes_are_marked_as_notes():
    document = parse("案内.pptx", documents.pptx_bytes())
    assert document.format == "pptx"
    assert document.pages == 3
    assert document.title == "窓口の案内"
    body = find(document, "住民票は1階")
    assert (body.slide, body.heading_path) == (1, ["窓口の案内"])
    notes = find(document, "混雑時間帯")
    assert (notes.slide, notes.heading_path) == (1, ["窓口の案内", "ノート"])
    fees = find(document, "300円")
    assert (fees.slide, fees.heading_path, fees.text) == (2, ["手数料"], "証明書 | 手数料\n住民票の写し | 300円")
    untitled = find(document, "代表電話")
    assert (untitled.slide, untitled.heading_path) == (3, [])
    assert [section.slide for section in document.sections] == sorted(section.slide for section in document.sections)


def test_excel_rows_carry_sheet_and_cells_with_the_caption_and_column_labels_as_headings():
    document = parse("予算.xlsx", documents.xlsx_bytes())
    assert document.format == "xlsx"
    assert document.pages == 2
    road = find(document, "道路補修")
    assert (road.sheet, road.cells, road.text) == ("予算", "A3:C3", "道路補修 | 12000 | 建設課")
    assert road.heading_path == ["令和6年度 予算一覧", "事業 | 金額（千円） | 担当"]
    assert find(document, "図書館運営").text == "図書館運営 | 8500.5 | 教育課"
    caption = find(document, "予算一覧")
    assert (caption.cells, caption.heading_path) == ("A1:A1", road.heading_path)  # kept as text, same group
    tax = find(document, "税務課")
    assert (tax.sheet, tax.cells) == ("連絡先", "C6:E6")
    # A first row of short labels is taken for column names, and is still a row of text with its own cells.
    assert (find(document, "市民課").cells, tax.heading_path) == ("C5:D5", ["市民課 | 内線 101"])
    assert road.position == {"sheet": "予算", "cells": "A3:C3", "heading_path": road.heading_path}


def test_pdf_sections_carry_their_page_number():
    data = documents.pdf_bytes([["第一ページの本文です。"], [], ["第三ページの本文です。"]], title="会議録")
    document = parse("会議録.pdf", data)
    assert document.format == "pdf"
    assert document.pages == 3
    assert document.title == "会議録"
    assert [(section.page, section.text) for section in document.sections] == [
        (1, "第一ページの本文です。"),
        (3, "第三ページの本文です。"),
    ]
    assert document.sections[0].position == {"page": 1}


def test_html_keeps_headings_and_main_text_but_not_navigation_footer_or_scripts():
    page = """<!doctype html><html><head><meta charset="shift_jis"><title>ごみの出し方｜桜市</title>
    <style>p { color: red }</style><script>var tracking = "スクリプト";</script></head><body>
    <header>桜市役所 ヘッダー</header><nav>トップ｜くらし｜お問い合わせ</nav>
    <main><h1>ごみの出し方</h1><p>燃えるごみは月曜日と木曜日です。</p>
    <h2>粗大ごみ</h2><p>粗大ごみは予約制です。</p>
    <table><tr><th>品目</th><th>料金</th></tr><tr><td>ソファ</td><td>500円</td></tr></table></main>
    <footer>Copyright 桜市</footer></body></html>"""
    document = parse("gomi.html", page.encode("cp932"))
    assert document.format == "html"
    assert document.title == "ごみの出し方｜桜市"
    assert find(document, "月曜日").heading_path == ["ごみの出し方"]
    assert find(document, "予約制").heading_path == ["ごみの出し方", "粗大ごみ"]
    assert find(document, "ソファ").text == "品目 | 料金\nソファ | 500円"
    joined = "\n".join(texts(document))
    for boilerplate in ("トップ｜くらし", "Copyright", "スクリプト", "color", "ヘッダー"):
        assert boilerplate not in joined


def test_markdown_headings_become_the_heading_path():
    text = "# 防災マニュアル\n\n避難所は小学校です。\n\n## 持ち物\n\n- 水\n- 懐中電灯\n"
    document = parse("bousai.md", text.encode())
    assert document.format == "md"
    assert document.title == "防災マニュアル"
    assert find(document, "小学校").heading_path == ["防災マニュアル"]
    assert find(document, "懐中電灯").heading_path == ["防災マニュアル", "持ち物"]


def test_plain_text_is_split_into_paragraphs_with_the_first_line_as_title():
    text = "庁内LAN利用の手引き\n\n接続前にウイルス対策ソフトを更新してください。\n\n私物の端末は接続できません。\n"
    document = parse("tebiki.txt", text.encode("cp932"))
    assert document.format == "txt"
    assert document.title == "庁内LAN利用の手引き"
    assert texts(document)[1:] == ["接続前にウイルス対策ソフトを更新してください。", "私物の端末は接続できません。"]
    assert all(section.position == {} for section in document.sections)


def test_a_document_without_a_title_is_titled_by_its_file_name():
    document = parse("名簿.csv", "山田,東京都\n".encode())
    assert document.title == "名簿"
