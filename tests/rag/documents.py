"""Builds small real documents in memory for the parsing tests (the same libraries the shared corpus uses)."""

from __future__ import annotations

import io
import zipfile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "社外秘 ヘッダー"
    document.sections[0].footer.paragraphs[0].text = "フッター 1 ページ"
    document.add_heading("第1章 総則", level=1)
    document.add_paragraph("この規程は、文書の管理について定める。")
    document.add_heading("第1節 目的", level=2)
    document.add_paragraph("職員は、文書を適切に保存しなければならない。")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("区分", "保存期間"), ("契約書", "10年")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("第2章 雑則", level=1)
    document.add_paragraph("この規程は、令和6年4月1日から施行する。")
    return _save(document)


def pptx_bytes() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "窓口の案内"
    slide.placeholders[1].text_frame.text = "住民票は1階の市民課で発行します。"
    slide.notes_slide.notes_text_frame.text = "説明の際は混雑時間帯にも触れること。"
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "手数料"
    rows = [("証明書", "手数料"), ("住民票の写し", "300円")]
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: no title placeholder
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1))
    box.text_frame.text = "問い合わせは代表電話へ。"
    return _save(presentation)


def xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "予算"
    sheet.append(["令和6年度 予算一覧"])
    sheet.append(["事業", "金額（千円）", "担当"])
    sheet.append(["道路補修", 12000, "建設課"])
    sheet.append(["図書館運営", 8500.5, "教育課"])
    other = workbook.create_sheet("連絡先")
    other["C5"] = "市民課"
    other["D5"] = "内線 101"
    other["C6"] = "税務課"
    other["E6"] = "内線 202"
    return _save(workbook)


def pdf_bytes(pages: list[list[str]], *, font_size: float = 10.5, leading: float = 16, title: str | None = None,
              encrypt=None) -> bytes:
    """One drawn line per string, pages in order; reportlab's built-in Japanese CID font needs no font file."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    _, height = A4
    for lines in pages:
        pdf.setFont("HeiseiKakuGo-W5", font_size)
        y = height - 80
        for line in lines:
            if line:
                pdf.drawString(60, y, line)
            y -= leading
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def image_only_pdf_bytes() -> bytes:
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (200, 100), "white")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.drawImage(ImageReader(image), 50, 500, width=400, height=200)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def zip_bomb_docx(inflated_bytes: int) -> bytes:
    """A .docx whose document.xml inflates from a few KB to ``inflated_bytes`` (zeros compress about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(inflated_bytes >> 20):
                member.write(block)
    return buffer.getvalue()


def spaced_out_docx(members: int, member_bytes: int) -> bytes:
    """A .docx of many members, each only moderately compressible: large in total, no single member a bomb."""
    import random

    rng = random.Random(4)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document/>")
        for index in range(members):
            archive.writestr(f"word/media/image{index}.bin", rng.randbytes(member_bytes))
    return buffer.getvalue()


def with_member_replaced(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, content if item.filename == name else source.read(item.filename))
    return buffer.getvalue()


def encrypted_office_bytes() -> bytes:
    """What Office writes for a password-protected .docx: an OLE container with an EncryptedPackage stream."""
    return OLE_MAGIC + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 1024


def fake_legacy_bytes() -> bytes:
    return OLE_MAGIC + b"\0" * 2048


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
