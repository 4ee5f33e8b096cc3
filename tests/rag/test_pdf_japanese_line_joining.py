"""PDF line breaks inside Japanese sentences disappear without spaces; real breaks and English spacing stay."""

from __future__ import annotations

import pytest

from rag.parsing import parse
from rag.parsing.pdf import join_lines
from tests.rag import documents


def test_a_break_between_japanese_characters_is_joined_without_a_space():
    assert join_lines(["住民票の写しの交付を申請する場", "合は、本人確認書類が必要です。"]) == (
        "住民票の写しの交付を申請する場合は、本人確認書類が必要です。"
    )


def test_a_break_after_a_sentence_end_is_kept():
    assert join_lines(["受付は9時からです。", "土日は休みです！", "ご注意ください？", "以上"]) == (
        "受付は9時からです。\n土日は休みです！\nご注意ください？\n以上"
    )


def test_a_break_after_a_closing_quote_that_ends_a_sentence_is_kept():
    assert join_lines(["「申請してください。」", "と案内する。"]) == "「申請してください。」\nと案内する。"


def test_english_words_on_either_side_of_a_break_get_one_space():
    assert join_lines(["The application form must", "be signed by the applicant."]) == (
        "The application form must be signed by the applicant."
    )


def test_a_hyphenated_english_word_is_rejoined():
    assert join_lines(["an applica-", "tion form"]) == "an application form"


def test_latin_next_to_japanese_is_joined_without_a_space():
    assert join_lines(["本市のDX", "推進計画"]) == "本市のDX推進計画"
    assert join_lines(["詳しくは", "Webサイトへ"]) == "詳しくはWebサイトへ"


def test_blank_lines_and_bullets_keep_their_breaks():
    assert join_lines(["見出し", "", "本文"]) == "見出し\n本文"
    lines = ["持ち物", "・印鑑", "・本人確認書類", "(1) 申請書"]
    assert join_lines(lines) == "持ち物\n・印鑑\n・本人確認書類\n(1) 申請書"


def test_extra_spaces_inside_a_line_are_collapsed():
    assert join_lines(["申請  書　　の", "提出"]) == "申請 書 の提出"


@pytest.mark.parametrize("leading", [14, 18, 24], ids=["tight", "1.7 lines", "2.3 lines"])
def test_a_real_pdf_gets_its_wrapped_japanese_lines_joined_and_keeps_its_pages(leading):
    page_one = [
        "第1条　この要綱は、市民の皆様が安心して暮らせるよう、",
        "防災に関する情報の提供について必要な事項を定め",
        "るものとする。",
        "第2条　市長は、毎年度、防災計画を見直すものとする。",
    ]
    page_two = ["The plan is reviewed every", "year by the mayor."]
    document = parse("youkou.pdf", documents.pdf_bytes([page_one, page_two], leading=leading))
    assert [(section.page, section.text) for section in document.sections] == [
        (
            1,
            "第1条 この要綱は、市民の皆様が安心して暮らせるよう、防災に関する情報の提供について必要な事項を定める"
            "ものとする。\n第2条 市長は、毎年度、防災計画を見直すものとする。",
        ),
        (2, "The plan is reviewed every year by the mayor."),
    ]


def test_a_larger_title_is_not_glued_to_the_text_below_it():
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("HeiseiKakuGo-W5", 16)
    pdf.drawString(60, 760, "防災のしおり")
    pdf.setFont("HeiseiKakuGo-W5", 10.5)
    pdf.drawString(60, 735, "避難所は市内の小学校です。")
    pdf.showPage()
    pdf.save()
    document = parse("shiori.pdf", buffer.getvalue())
    assert [section.text for section in document.sections] == ["防災のしおり", "避難所は市内の小学校です。"]
    assert document.title == "防災のしおり"
