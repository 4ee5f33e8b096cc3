"""マニュアルの PDF: one file for distribution, with a title page, a 目次 and every heading of the manual."""

from __future__ import annotations

import io
import re

import pytest
from django.db import connection
from pdfminer.high_level import extract_pages, extract_text
from pdfminer.layout import LTTextContainer

from audit.models import AuditEvent
from tests.training.helpers import as_admin, as_staff
from training.manuals import load_manual
from training.pdf import build_pdf


def _squash(text: str) -> str:
    # Lines wrap anywhere in Japanese and pdfminer may read a full-width space as a plain one.
    return re.sub(r"\s+", "", text)


def _pages(data: bytes) -> list[str]:
    return ["".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
            for page in extract_pages(io.BytesIO(data))]


@pytest.mark.parametrize(("kind", "who"), [("user", "staff"), ("admin", "admin")])
def test_the_manual_downloads_as_a_pdf_with_every_heading(client_a, kind, who):
    as_admin(client_a) if who == "admin" else as_staff(client_a)
    response = client_a.get(f"/learn/manuals/{kind}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="akagi-{kind}-manual.pdf"'
    data = response.content
    assert data.startswith(b"%PDF")
    text = _squash(extract_text(io.BytesIO(data)))
    manual = load_manual(kind)
    missing = [s.title for s in manual.sections if s.title != "目次" and _squash(s.title) not in text]
    assert not missing, missing


def test_the_pdf_has_a_title_page_then_a_table_of_contents_with_page_numbers(client_a):
    as_staff(client_a)
    pages = _pages(client_a.get("/learn/manuals/user/pdf/").content)
    assert len(pages) > 5
    assert "利用者マニュアル" in pages[0] and "自治体向け生成AIサービス" in pages[0]
    toc = _squash(pages[1])
    assert toc.startswith("Akagi利用者マニュアル") and "目次" in toc
    # Each entry ends with the page its section starts on.
    entry = re.search(r"ログイン画面を開く[.．]*(\d+)", toc)
    assert entry, toc[:400]
    page_no = int(entry.group(1))
    assert "ログイン画面を開く" in _squash(pages[page_no - 1])


def test_the_administrators_manual_pdf_is_403_for_a_general_user(client_a, tenant_a):
    as_staff(client_a)
    assert client_a.get("/learn/manuals/admin/pdf/").status_code == 403
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="access.denied", target="/learn/manuals/admin/pdf/").exists()


def test_the_manual_page_links_to_both_downloads(client_a):
    as_staff(client_a)
    html = client_a.get("/learn/manuals/user/").content.decode()
    assert 'href="/learn/manuals/user/export/"' in html and 'href="/learn/manuals/user/pdf/"' in html


def test_an_anonymous_visitor_gets_no_pdf(client_a):
    response = client_a.get("/learn/manuals/user/pdf/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_markup_in_the_manual_source_stays_text_in_the_pdf():
    from training.manuals import Manual

    source = ("# Akagi テスト\n\n## 目次\n\n- [見出し](#見出し)\n\n## 見出し\n\n"
              '<font color="red">赤</font> と <a href="javascript:x">リンク</a> & `<b>code</b>`\n\n'
              "| 列 | 値 |\n| --- | --- |\n| a<br/>b | [外部](https://example.jp/) |\n")
    data = build_pdf(Manual(kind="user", title="テスト", html="", sections=(), source=source), edition="テスト版")
    text = _squash(extract_text(io.BytesIO(data)))
    assert '<fontcolor="red">赤</font>' in text and "<b>code</b>" in text and "a<br/>b" in text
    assert b"javascript" not in data
