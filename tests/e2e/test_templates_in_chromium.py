"""In Chromium: a general user of demo-a picks a seeded template, fills two variables and sends the prompt."""

import os

import pytest

from tests.e2e.test_login_in_chromium import _log_in, browser, page  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_general_user_picks_a_template_fills_two_variables_and_sends_it(
        page, live_server_url, llm_stub_server):  # noqa: F811
    base = live_server_url.format(host="demo-a.localhost")
    llm_stub_server.set_behaviour(answer="Garbage collection days: Monday and Thursday.", chunk_size=8)
    try:
        _log_in(page, base, "A002", "Shokuin#Demo2026")
        page.get_by_role("link", name="チャット", exact=True).first.click()
        page.wait_for_url(f"{base}/chat/")
        page.get_by_test_id("template-picker").click()
        page.wait_for_url(f"{base}/templates/?pick=1")
        assert page.get_by_role("heading", level=1).inner_text() == "テンプレートを選ぶ"

        page.get_by_label("キーワード").fill("翻訳")
        page.get_by_role("button", name="検索").click()
        page.get_by_role("link", name="多言語への翻訳").click()
        page.get_by_label("翻訳先の言語").fill("英語")
        page.get_by_label("翻訳する文章").fill("燃えるごみは月曜日と木曜日に出してください。")
        preview = page.get_by_test_id("template-body")
        assert "英語に翻訳してください" in preview.inner_text()  # the live preview follows the fields

        page.get_by_role("button", name="チャットに入れる").click()
        page.wait_for_url(f"{base}/chat/?prompt=*")
        box = page.get_by_label("依頼内容")
        value = box.input_value()
        assert value.startswith("次の日本語の文章を英語に翻訳してください。")
        assert "燃えるごみは月曜日と木曜日に出してください。" in value and "{{" not in value

        requests_before = len(llm_stub_server.requests)
        page.get_by_role("button", name="送信").click()
        page.wait_for_function("document.querySelectorAll('.msg-user').length === 1")
        page.locator(".msg-assistant .msg-body.streaming").wait_for(state="detached", timeout=30_000)
        assert "Monday and Thursday" in page.locator(".msg-assistant .msg-body").last.inner_text()
        assert len(llm_stub_server.requests) > requests_before
        assert "英語に翻訳" in page.locator(".msg-user .msg-body").last.inner_text()
    finally:
        llm_stub_server.reset()
