"""What a parser leaves out (a scanned page, an empty or chart-only sheet, a picture-only slide, unreadable
characters, a linked file that cannot be read) is shown in Japanese in the document's row, not only logged."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from rag import ingest, services
from rag.models import Document
from rag.parsing import parse
from tests.chat.helpers import logged_in
from tests.rag import documents
from tests.rag.test_web_support import Site

pytestmark = pytest.mark.django_db


def _merged_pdf(*parts: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in parts:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        for page in reader.pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _workbook_with_an_empty_and_a_chart_sheet() -> bytes:
    import openpyxl
    from openpyxl.chart import BarChart, Reference

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "予算"
    sheet.append(["事業", "金額"])
    sheet.append(["道路補修", 12000])
    sheet.append(["図書館運営", 8500])
    workbook.create_sheet("メモ")
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=3))
    workbook.create_chartsheet("グラフ").add_chart(chart)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _presentation_with_a_picture_only_slide() -> bytes:
    from PIL import Image
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "窓口の案内"
    slide.placeholders[1].text_frame.text = "住民票は1階の市民課で発行します。"
    picture = io.BytesIO()
    Image.new("RGB", (80, 60), "white").save(picture, format="PNG")
    picture.seek(0)
    presentation.slides.add_slide(presentation.slide_layouts[6]).shapes.add_picture(picture, Inches(1), Inches(1))
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def test_an_empty_sheet_and_a_chart_sheet_are_named_in_warnings():
    document = parse("budget.xlsx", _workbook_with_an_empty_and_a_chart_sheet())
    assert {section.sheet for section in document.sections} == {"予算"}
    assert document.warnings == [
        "シート「メモ」には文字の入ったセルがないため、取り込んでいません。",
        "グラフだけのシート「グラフ」は取り込んでいません（グラフの中の文字は検索できません）。",
    ]


def test_a_picture_only_slide_is_named_in_a_warning():
    document = parse("guide.pptx", _presentation_with_a_picture_only_slide())
    assert {section.slide for section in document.sections} == {1}
    assert document.warnings == [
        "スライド 2 からは文字を取り出せませんでした（画像や図だけのスライドの内容は検索できません）。"
    ]


def test_pdf_pages_whose_characters_cannot_be_mapped_are_named_in_a_warning():
    from reportlab.lib.pdfencrypt import StandardEncryption

    unmapped = documents.pdf_bytes([["対応表のない文字"]], encrypt=StandardEncryption("", ownerPassword="owner"))
    document = parse("mixed.pdf", _merged_pdf(documents.pdf_bytes([["文字のあるページです。"]]), unmapped))
    assert [section.page for section in document.sections] == [1]
    assert len(document.warnings) == 1
    assert document.warnings[0].startswith("2 ページの一部の文字（8 文字）は、フォントに文字の対応表がないため")


def test_a_text_file_with_undecodable_bytes_is_read_with_a_warning():
    data = "名前,金額\n住民票,300\n".encode("cp932") + b"\x82 ,1\n"  # 0x82 needs a second byte of a character
    document = parse("fees.csv", data)
    assert document.sections[1].text == "住民票 | 300"
    assert document.warnings == [
        "一部の文字を読み取れませんでした（文字コードが混ざっているか、ファイルの一部が壊れています）。"
        "読み取れなかった文字は検索できません。"
    ]


def test_a_file_read_in_full_has_no_warning():
    assert parse("rules.docx", documents.docx_bytes()).warnings == []
    assert parse("slides.pptx", documents.pptx_bytes()).warnings == []
    assert parse("budget.xlsx", documents.xlsx_bytes()).warnings == []


def test_the_document_row_shows_what_was_left_out(client_a, tenant_a):
    staff = logged_in(client_a)
    collection_id = int(staff.post("/knowledge/", {"name": "スキャン混在"})["Location"].rstrip("/").split("/")[-1])
    mixed = _merged_pdf(documents.pdf_bytes([["開館時間は午前9時から午後7時までです。"]]),
                        documents.image_only_pdf_bytes())
    response = staff.post(f"/knowledge/{collection_id}/upload/", {"file": SimpleUploadedFile("案内.pdf", mixed)})
    assert response.status_code == 200
    connection.set_tenant(tenant_a)
    document = Document.objects.get(pk=response.json()["id"])
    ingest.run(document.pk, content_hash=document.content_hash)
    document.refresh_from_db()
    warning = "2 ページには文字情報がありません（スキャン画像のページは OCR が必要です）。"
    assert document.state == Document.State.READY and document.warnings == [warning]
    connection.set_schema_to_public()

    row = staff.get(f"/knowledge/{collection_id}/documents/").content.decode()
    assert "利用可能" in row and "注意" in row and "取り込めなかった部分があります" in row and warning in row
    from django.test import Client

    admin = logged_in(Client(HTTP_HOST="demo-a.localhost"), "A001", "Kanri#Demo2026")
    diagnostics = admin.get("/manage/knowledge/").content.decode()
    assert 'data-testid="partial-documents"' in diagnostics and warning in diagnostics

    connection.set_tenant(tenant_a)
    services.reingest(actor=document.created_by, document=document)
    assert Document.objects.get(pk=document.pk).state == Document.State.QUEUED
    ingest.run(document.pk, content_hash=document.content_hash)
    assert Document.objects.get(pk=document.pk).warnings == [warning]  # replaced, not accumulated


def test_a_linked_file_that_cannot_be_read_is_named_on_the_web_document(client_a, tenant_a, settings):
    settings.AKAGI_RAG_ALLOWED_HOSTS = ["127.0.0.1"]  # the operator's allow-list; the test site is on loopback
    settings.AKAGI_HTTP_PROXY = ""
    settings.AKAGI_RAG_CRAWL_DELAY = 0
    site = Site()
    site.route("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    site.route("/", '<html><head><meta charset="utf-8"><title>手続き案内</title></head><body><main>'
               "<h1>手続き案内</h1><p>転入の届出は、引っ越してから14日以内に市民課で行ってください。</p>"
               '<a href="/form.pdf">届出書</a> <a href="/gone/">古い案内</a></main></body></html>')
    site.route("/form.pdf", b"%PDF-1.7\nthis is not a real PDF\n%%EOF", content_type="application/pdf")
    try:
        staff = logged_in(client_a)
        collection_id = int(staff.post("/knowledge/", {"name": "手続き"})["Location"].rstrip("/").split("/")[-1])
        staff.post(f"/knowledge/{collection_id}/", {"action": "url", "url": site.url("/"), "depth": "1"})
        connection.set_tenant(tenant_a)
        document = Document.objects.get(collection_id=collection_id)
        ingest.run(document.pk, content_hash=document.content_hash)
        document.refresh_from_db()
    finally:
        site.stop()
    assert document.state == Document.State.READY, document.error
    linked_file, pages = document.warnings
    assert linked_file.startswith("リンク先のファイル「form.pdf」は読み込めなかったため取り込んでいません（")
    assert pages.startswith("リンク先の 1 ページを取得できなかったため取り込んでいません: ")
    assert "/gone/" in pages and "HTTP 404" in pages
