"""In Chromium: a general user of demo-a chats with streaming, sees the counter move, and is stopped by PII."""

import os

import pytest

from tests.e2e.test_login_in_chromium import _log_in, browser, page  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_general_user_chats_with_streaming_sees_the_counter_move_and_is_stopped_by_pii(
        page, live_server_url, llm_stub_server):  # noqa: F811
    base = live_server_url.format(host="demo-a.localhost")
    table = "| 種類 | 曜日 |\n| --- | --- |\n| 燃えるごみ | 月・木 |\n\n"
    answer = "## ごみ出しの案内\n\n" + table + "ご協力をお願いします。" * 30
    llm_stub_server.set_behaviour(answer=answer, chunk_size=6, chunk_delay=0.03)
    try:
        _log_in(page, base, "A002", "Shokuin#Demo2026")
        page.get_by_role("link", name="チャット").first.click()
        page.wait_for_url(f"{base}/chat/")
        counter = page.get_by_test_id("tenant-used")
        before = int(counter.inner_text().replace(",", ""))

        page.get_by_label("依頼内容").fill("ごみ出しルールの案内文を作ってください。")
        page.get_by_role("button", name="送信").click()
        streaming = page.locator(".msg-assistant .msg-body.streaming")
        streaming.wait_for(state="visible", timeout=10_000)
        partial = page.locator(".msg-assistant .msg-body").last.inner_text()
        page.locator(".msg-assistant .msg-body.streaming").wait_for(state="detached", timeout=30_000)
        final = page.locator(".msg-assistant .msg-body").last
        assert len(final.inner_text()) > len(partial)  # it arrived piece by piece
        assert final.locator("table td", has_text="燃えるごみ").count() == 1  # Markdown table rendered
        after = int(counter.inner_text().replace(",", ""))
        assert after > before
        assert page.url.startswith(f"{base}/chat/") and page.url != f"{base}/chat/"

        requests_before = len(llm_stub_server.requests)
        page.get_by_label("依頼内容").fill("山田太郎さんの住所は前橋市大手町1-2-3です。お礼状を書いて。")
        page.get_by_role("button", name="送信").click()
        result = page.get_by_test_id("screen-result")
        result.wait_for(state="visible")
        assert "個人情報" in result.inner_text()
        assert result.locator("mark.finding").count() >= 2
        assert len(llm_stub_server.requests) == requests_before  # nothing reached the model
        assert int(counter.inner_text().replace(",", "")) == after

        result.get_by_role("button", name="マスクして送信").click()
        page.wait_for_function("document.querySelectorAll('.msg-user').length === 2")
        sent = page.locator(".msg-user .msg-body").last.inner_text()
        assert "山田" not in sent and "【氏名】" in sent
        page.locator(".msg-assistant .msg-body.streaming").wait_for(state="detached", timeout=30_000)
    finally:
        llm_stub_server.reset()
