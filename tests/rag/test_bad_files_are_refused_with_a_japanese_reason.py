"""Dangerous, damaged or unreadable files fail alone, quickly, with a Japanese reason, and never exhaust memory."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from rag.parsing import Limits, ParseError, parse
from rag.parsing.types import MB
from tests.rag import documents


def refusal(filename: str, data: bytes, **limits) -> str:
    with pytest.raises(ParseError) as caught:
        parse(filename, data, limits=Limits(**limits) if limits else None)
    message = caught.value.user_message
    assert message and not message.isascii()
    return message


def test_a_zip_bomb_docx_is_refused_quickly_and_without_inflating_it():
    bomb = documents.zip_bomb_docx(64 * MB)
    assert len(bomb) < 200_000  # a few hundred KB that would inflate to 64 MB of XML
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refusal("bomb.docx", bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "圧縮爆弾" in message
    assert elapsed < 1.0
    assert peak < 5 * MB


def test_an_archive_too_large_in_total_is_refused_even_when_no_member_is_very_compressed():
    data = documents.spaced_out_docx(members=6, member_bytes=1 * MB)
    assert "圧縮爆弾" in refusal("many.docx", data, max_uncompressed_bytes=4 * MB)


def test_a_file_over_the_size_limit_is_refused_with_the_limit_in_the_message():
    message = refusal("big.txt", b"a" * (2 * MB + 1), max_file_bytes=2 * MB)
    assert "上限は 2 MB" in message


def test_the_default_size_limit_is_50_mb():
    assert Limits().max_file_bytes == 50 * MB


def test_an_empty_file_is_refused():
    assert "空です" in refusal("empty.pdf", b"")


def test_an_unsupported_extension_is_refused_with_the_supported_formats():
    assert "対応していません" in refusal("setup.exe", b"MZ\x90\x00")


def test_an_executable_renamed_pdf_is_recognised_by_its_content():
    assert "PDF ファイルではありません" in refusal("report.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)


def test_a_pdf_renamed_docx_is_recognised_by_its_content():
    pdf = documents.pdf_bytes([["本文"]])
    assert "ファイルではありません" in refusal("report.docx", pdf)


def test_a_zip_that_is_not_a_word_file_is_refused():
    xlsx = documents.xlsx_bytes()
    assert "必要な部品がありません" in refusal("report.docx", xlsx)


def test_a_password_protected_office_file_is_refused():
    assert "パスワード" in refusal("secret.xlsx", documents.encrypted_office_bytes())


def test_a_password_protected_pdf_is_refused():
    data = documents.pdf_bytes([["秘密の本文です。"]], encrypt="user-password")
    assert "パスワードで保護された PDF" in refusal("secret.pdf", data)


def test_a_pdf_with_only_an_owner_password_is_still_read():
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    # Helvetica: reportlab leaves the CID font's CIDSystemInfo strings unencrypted in encrypted files, which no
    # reader can then map to Unicode (a reportlab quirk, not one of real restricted PDFs).
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0))
    pdf.drawString(60, 700, "Copying and printing are restricted.")
    pdf.showPage()
    pdf.save()
    document = parse("restricted.pdf", buffer.getvalue())
    assert document.sections[0].text == "Copying and printing are restricted."


def test_an_image_only_pdf_says_it_needs_ocr():
    message = refusal("scan.pdf", documents.image_only_pdf_bytes())
    assert "文字情報がありません（スキャン画像のPDFはOCRが必要です）" in message


def test_a_pdf_whose_fonts_cannot_be_mapped_to_characters_says_so():
    from reportlab.lib.pdfencrypt import StandardEncryption

    # reportlab leaves the CID font's CIDSystemInfo strings unencrypted in encrypted files, so no reader can map
    # its glyphs to Unicode: the same symptom as a PDF whose fonts lack a ToUnicode map.
    data = documents.pdf_bytes([["対応表のない文字"]], encrypt=StandardEncryption("", ownerPassword="owner"))
    assert "文字の対応表がない" in refusal("cid.pdf", data)


def test_a_pdf_with_some_scanned_pages_is_read_with_a_warning_naming_those_pages():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (documents.pdf_bytes([["文字のあるページです。"]]), documents.image_only_pdf_bytes()):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    document = parse("mixed.pdf", buffer.getvalue())
    assert [section.page for section in document.sections] == [1]
    assert document.warnings == ["2 ページには文字情報がありません（スキャン画像のページは OCR が必要です）。"]


def test_a_corrupted_pdf_is_refused():
    assert "壊れている" in refusal("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n%%EOF")


def test_a_truncated_docx_is_refused():
    data = documents.docx_bytes()
    assert "壊れています" in refusal("cut.docx", data[: len(data) // 2])


XXE_TARGETS = {
    "xlsx": ("xl/worksheets/sheet1.xml", "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
             '<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
             "</sheetData></worksheet>"),
    "docx": ("word/document.xml", "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
             '<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>'),
}


@pytest.mark.parametrize("kind", list(XXE_TARGETS))
def test_an_office_file_with_an_external_entity_does_not_leak_the_file_it_points_to(tmp_path, kind):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-XXE")
    member, namespace, body = XXE_TARGETS[kind]
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>' + body.format(ns=namespace)
    )
    original = documents.xlsx_bytes() if kind == "xlsx" else documents.docx_bytes()
    poisoned = documents.with_member_replaced(original, member, xml.encode())
    try:
        document = parse(f"xxe.{kind}", poisoned)
    except ParseError:
        return  # refusing is as good
    assert "TOPSECRET" not in document.text


def test_an_excel_sheet_with_too_many_cells_is_refused():
    assert "セルが多すぎます" in refusal("big.xlsx", documents.xlsx_bytes(), max_xlsx_cells=5)


def test_a_document_with_no_text_at_all_is_refused():
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    assert "文字情報がありません" in refusal("blank.docx", buffer.getvalue())
