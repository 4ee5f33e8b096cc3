"""In Chromium: upload a .docx and a .pdf, watch them reach 利用可能, ask, click a citation, land on the passage."""

import os

import pytest

from tests.e2e.test_login_in_chromium import _log_in, browser, page  # noqa: F401 - shared fixtures
from tests.rag.documents import docx_bytes, pdf_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_upload_docx_and_pdf_ask_and_follow_a_citation(page, live_server_url, llm_stub_server,  # noqa: F811
                                                        celery_worker_process, tmp_path):
    base = live_server_url.format(host="demo-c.localhost")
    docx_file = tmp_path / "文書管理規程.docx"
    docx_file.write_bytes(docx_bytes())
    pdf_file = tmp_path / "図書館の案内.pdf"
    pdf_file.write_bytes(pdf_bytes([["市立図書館の案内"], ["開館時間は午前9時から午後7時までです。",
                                                          "休館日は毎週月曜日です。"]], title="図書館の案内"))
    llm_stub_server.set_behaviour(answer="図書館は午前9時から午後7時まで開いています[1]。")
    try:
        _log_in(page, base, "C002", "Shokuin#Demo2026")
        page.goto(f"{base}/knowledge/")
        page.get_by_label("名前").fill("E2E 市民サービス")
        page.get_by_role("button", name="作成").click()
        page.wait_for_url(f"{base}/knowledge/*/")
        page.locator("#file-input").set_input_files([str(docx_file), str(pdf_file)])
        rows = page.get_by_test_id("document-list").locator("tbody tr")
        page.wait_for_function(
            "document.querySelectorAll('[data-testid=document-list] tbody tr[data-state=ready]').length === 2",
            timeout=90_000)
        assert rows.count() == 2 and "利用可能" in rows.first.inner_text()

        page.get_by_role("link", name="チャット").first.click()
        page.wait_for_url(f"{base}/chat/")
        page.get_by_label("E2E 市民サービス").check()
        page.get_by_label("依頼内容").fill("図書館は何時まで開いていますか？")
        page.get_by_role("button", name="送信").click()
        citations = page.get_by_test_id("citations")
        citations.wait_for(state="visible", timeout=30_000)
        link = citations.locator("a").first
        link.click()
        page.wait_for_url(f"{base}/knowledge/passages/*/")
        assert page.get_by_role("heading", level=1).inner_text() in {"図書館の案内", "文書管理規程"}
        assert page.get_by_role("link", name="元の文書を開く").get_attribute("href").startswith("/knowledge/documents/")
    finally:
        llm_stub_server.reset()
